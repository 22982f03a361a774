//! Block principal pivoting for min ½λᵀKλ − bᵀλ over λ ≥ 0 with K positive definite.
//!
//! The optimality conditions are the linear complementarity problem y = Kλ − b, λ ≥ 0, y ≥ 0,
//! λ∘y = 0. Block principal pivoting (Júdice & Pires, *Computers & OR* 21, 1994; the NNLS form
//! of Kim & Park, *SIAM J. Sci. Comput.* 33, 2011, Alg. 1) keeps a partition into a free set F
//! and a bound set G, sets λ_G = 0 and solves K_FF λ_F = b_F, y_G = K_GF λ_F − b_G, and
//! exchanges *all* infeasible indices V = {i ∈ F: λ_i < 0} ∪ {i ∈ G: y_i < 0} at once. Where an
//! active-set method (Lawson–Hanson) moves one index per factorisation — O(n) factorisations, the
//! cause of the n⁵-like growth of the certificate — this one typically needs a handful. Finite
//! termination is kept by the backup rule: after three full exchanges that do not shrink |V|,
//! only the largest infeasible index is exchanged until |V| falls below its best value.
//!
//! The first partition is F = {all}: λ = K⁻¹b, which is the answer whenever every entry is
//! positive. Each iteration is one blocked Cholesky of K_FF ([`crate::linalg::Cholesky`]) and one
//! product K_GF λ_F. The result is returned only when it satisfies the complementarity conditions
//! to the tolerance of [`super::multipliers::polish`]; otherwise (K not numerically positive
//! definite, the iteration cap reached) `None`, and the caller falls back to the interior point.

use super::multipliers::gradient_tol;
use crate::linalg::{mul_vec, Cholesky, Op};
use nalgebra::{DMatrix, DVector};

/// Most iterations before giving up (each is one factorisation).
pub const MAX_ITERS: usize = 100;

/// The solution and the number of factorisations it took.
#[derive(Clone, Debug)]
pub struct Bpp {
    /// λ ≥ 0 with λ∘(Kλ − b) = 0 and Kλ − b ≥ −tol.
    pub lambda: DVector<f64>,
    /// Iterations (factorisations of a K_FF).
    pub iterations: usize,
}

/// The entries of `v` at `idx`, in order.
pub(crate) fn gather(v: &DVector<f64>, idx: &[usize]) -> DVector<f64> {
    DVector::from_iterator(idx.len(), idx.iter().map(|&i| v[i]))
}

/// Full exchanges allowed without progress before the single-index backup rule.
pub const FULL_EXCHANGES: usize = 3;

/// Solves the problem of the module documentation; `None` if it does not settle.
pub fn solve(k: &DMatrix<f64>, b: &DVector<f64>) -> Option<Bpp> {
    solve_with(k, b, FULL_EXCHANGES)
}

/// [`solve`] with `full_exchanges` block exchanges allowed without progress; 0 gives Murty's
/// single principal pivoting (one index, the largest infeasible, per iteration).
pub fn solve_with(k: &DMatrix<f64>, b: &DVector<f64>, full_exchanges: usize) -> Option<Bpp> {
    let n = b.len();
    if n == 0 || k.shape() != (n, n) {
        return None;
    }
    let mut free = vec![true; n];
    // The smallest infeasible set seen so far (none yet) and the full exchanges left before
    // the single-index backup rule.
    let (mut best, mut backup) = (usize::MAX, full_exchanges);
    for it in 1..=MAX_ITERS {
        let f: Vec<usize> = (0..n).filter(|&i| free[i]).collect();
        let mut lambda = DVector::zeros(n);
        if !f.is_empty() {
            let kff = k.select_rows(&f).select_columns(&f);
            let z = Cholesky::new(&kff)?.solve(&gather(b, &f));
            if !z.iter().all(|v| v.is_finite()) {
                return None;
            }
            for (a, &i) in f.iter().enumerate() {
                lambda[i] = z[a];
            }
        }
        // y = Kλ − b on every index (one product; y_F ≈ 0 up to rounding).
        let lf = gather(&lambda, &f);
        let kf = k.select_columns(&f);
        let y = if f.is_empty() {
            -b
        } else {
            mul_vec(&kf, Op::N, &lf) - b
        };
        let tol = gradient_tol(k, b, &lambda);
        let infeasible: Vec<usize> = (0..n)
            .filter(|&i| {
                if free[i] {
                    lambda[i] < 0.0
                } else {
                    y[i] < -tol
                }
            })
            .collect();
        if infeasible.is_empty() {
            let lambda = lambda.map(|v| v.max(0.0));
            return Some(Bpp {
                lambda,
                iterations: it,
            });
        }
        let exchange: Vec<usize> = if full_exchanges > 0 && infeasible.len() < best {
            best = infeasible.len();
            backup = full_exchanges;
            infeasible
        } else if backup > 0 {
            backup -= 1;
            infeasible
        } else {
            vec![*infeasible.last().expect("non-empty")]
        };
        for i in exchange {
            free[i] = !free[i];
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::margin::multipliers::optimality;
    use crate::rng;

    #[test]
    fn agrees_with_lawson_hanson_on_random_problems() {
        for seed in 0..20u64 {
            let mut r = rng::seeded(seed, 0);
            let (n, p) = (40 + seed as usize, 120);
            let g = rng::gaussian_matrix(&mut r, p, n, 1.0);
            let theta = rng::gaussian_vector(&mut r, p, 1.0);
            let k = g.transpose() * &g;
            let b = g.transpose() * &theta;
            let ours = solve(&k, &b).expect("settles");
            let tall = crate::margin::multipliers::lawson_hanson(&g, &theta).unwrap();
            let diff = (&ours.lambda - &tall).amax() / tall.amax().max(1e-300);
            assert!(diff <= 1e-9, "seed {seed}: λ differs by {diff:e}");
            let o = optimality(&k, &b, &ours.lambda);
            assert!(o.min_lambda >= 0.0 && o.min_gradient >= -1e-9, "{o:?}");
            assert!(ours.iterations <= 20, "{} iterations", ours.iterations);
        }
    }

    #[test]
    fn positive_unconstrained_solution_takes_one_factorisation() {
        let k = DMatrix::from_row_slice(2, 2, &[2.0, 0.5, 0.5, 1.0]);
        let b = DVector::from_vec(vec![1.0, 1.0]);
        let s = solve(&k, &b).unwrap();
        assert_eq!(s.iterations, 1);
        assert!((&k * &s.lambda - &b).amax() <= 1e-15);
    }

    #[test]
    fn a_free_entry_at_zero_is_feasible() {
        // K = I, b = (1, 0): K⁻¹b = (1, 0) has an entry exactly 0, which is optimal as it is
        // (λ ≥ 0 holds), so the first partition is the answer.
        let s = solve(&DMatrix::identity(2, 2), &DVector::from_vec(vec![1.0, 0.0])).unwrap();
        assert_eq!((s.lambda.as_slice(), s.iterations), (&[1.0, 0.0][..], 1));
    }

    #[test]
    fn a_bound_entry_with_zero_gradient_is_feasible() {
        // K⁻¹b = (1.09, −0.18, −0.55) puts indices 1 and 2 in the bound set; there λ = (1, 0, 0)
        // and y = Kλ − b = (0, 0, 0.5): y₁ = 0 exactly is feasible (y ≥ −tol), so the second
        // partition is the answer.
        let k = DMatrix::from_row_slice(3, 3, &[1.0, 0.5, 0.0, 0.5, 1.0, -0.25, 0.0, -0.25, 1.0]);
        let s = solve(&k, &DVector::from_vec(vec![1.0, 0.5, -0.5])).unwrap();
        assert_eq!(
            (s.lambda.as_slice(), s.iterations),
            (&[1.0, 0.0, 0.0][..], 2)
        );
    }

    #[test]
    fn the_answer_scales_with_the_problem() {
        // (sK, tb) has the solution (t/s)λ: the tolerances are relative, so the same partition
        // is found at every scale, and the result is optimal at that scale.
        let mut r = rng::seeded(5, 0);
        let g = rng::gaussian_matrix(&mut r, 50, 30, 1.0);
        let theta = rng::gaussian_vector(&mut r, 50, 1.0);
        let (k, b) = (g.transpose() * &g, g.transpose() * &theta);
        let base = solve(&k, &b).expect("settles").lambda;
        for s in [1e-6, 1.0, 1e6] {
            for t in [1e-6, 1.0, 1e6] {
                let (ks, bs) = (&k * s, &b * t);
                let l = solve(&ks, &bs).expect("settles").lambda;
                let want = &base * (t / s);
                let diff = (&l - &want).amax() / want.amax();
                assert!(diff <= 1e-9, "s = {s}, t = {t}: λ differs by {diff:e}");
                let o = optimality(&ks, &bs, &l);
                assert!(
                    o.min_gradient >= -1e-9 * bs.amax(),
                    "s = {s}, t = {t}: {o:?}"
                );
            }
        }
    }

    #[test]
    fn block_exchanges_beat_single_pivoting_to_the_same_answer() {
        let mut r = rng::seeded(7, 0);
        let g = rng::gaussian_matrix(&mut r, 120, 80, 1.0);
        let theta = rng::gaussian_vector(&mut r, 120, 1.0);
        let (k, b) = (g.transpose() * &g, g.transpose() * &theta);
        let block = solve(&k, &b).expect("settles");
        let murty = solve_with(&k, &b, 0).expect("settles");
        let diff = (&block.lambda - &murty.lambda).amax() / murty.lambda.amax();
        assert!(diff <= 1e-9, "{diff:e}");
        // Murty's rule moves one index per factorisation; the block rule several.
        let moved = block.lambda.iter().filter(|&&v| v == 0.0).count();
        assert!(
            murty.iterations >= moved.min(super::MAX_ITERS),
            "{} < {moved}",
            murty.iterations
        );
        assert!(
            block.iterations * 4 <= murty.iterations,
            "{} vs {}",
            block.iterations,
            murty.iterations
        );
    }

    #[test]
    fn the_backup_rule_ends_a_cycle_of_block_exchanges() {
        // Found by a search over random 5 × 5 problems (K = AAᵀ + I/100, A and b rounded to one
        // decimal). Exchanging every infeasible index each time cycles through the partitions
        // FFFGF → FGGGF → FGFFF → FFFGF with |V| = 2 and never settles; the traces below were
        // computed by an independent implementation (every decision clears zero by ≥ 0.075).
        let a = DMatrix::from_row_slice(
            5,
            5,
            &[
                1.6, 0.9, 1.0, 0.0, -0.5, 0.8, 0.1, -0.2, -0.5, -0.3, -2.8, 0.4, -0.2, 1.7, 1.0,
                -1.3, 0.9, -0.3, 1.2, 0.8, -0.7, 1.5, -0.7, -0.7, 0.8,
            ],
        );
        let k = &a * a.transpose() + DMatrix::<f64>::identity(5, 5) * 0.01;
        let b = DVector::from_vec(vec![2.6, -0.8, 1.1, -0.3, 0.8]);
        let want = [1.130_981_61, 0.0, 0.523_217_23, 0.0, 0.131_652_68];
        assert!(
            solve_with(&k, &b, usize::MAX).is_none(),
            "block exchanges alone cycle"
        );
        // Iterations per number of full exchanges allowed without progress: 3 (the default)
        // makes three at |V| = 2 after |V| = 1, then pivots single indices out of the cycle;
        // 2 and 1 leave it sooner; 0 is Murty's rule from the start.
        for (full, iterations) in [(FULL_EXCHANGES, 10), (2, 5), (1, 6), (0, 7)] {
            let s = solve_with(&k, &b, full).expect("settles");
            assert_eq!(s.iterations, iterations, "{full} full exchanges");
            for (i, &w) in want.iter().enumerate() {
                assert!(
                    (s.lambda[i] - w).abs() <= 1e-8,
                    "{full}: λ_{i} = {}",
                    s.lambda[i]
                );
            }
            let o = optimality(&k, &b, &s.lambda);
            assert!(o.min_lambda >= 0.0 && o.min_gradient >= -1e-12, "{o:?}");
        }
        assert_eq!(solve(&k, &b).unwrap().iterations, 10);
    }

    #[test]
    fn empty_or_mismatched_input_is_refused() {
        assert!(solve(&DMatrix::zeros(0, 0), &DVector::zeros(0)).is_none());
        assert!(solve(&DMatrix::identity(3, 3), &DVector::from_element(2, 1.0)).is_none());
        assert!(solve(&DMatrix::identity(3, 2), &DVector::from_element(3, 1.0)).is_none());
        assert!(solve(&DMatrix::identity(2, 2), &DVector::from_element(2, 1.0)).is_some());
    }

    #[test]
    fn singular_or_non_finite_k_is_refused() {
        let k = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        assert!(solve(&k, &DVector::from_vec(vec![1.0, -1.0])).is_none());
        let k = DMatrix::from_row_slice(1, 1, &[f64::NAN]);
        assert!(solve(&k, &DVector::from_vec(vec![1.0])).is_none());
    }
}
