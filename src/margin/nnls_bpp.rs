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

fn gather(v: &DVector<f64>, idx: &[usize]) -> DVector<f64> {
    DVector::from_iterator(idx.len(), idx.iter().map(|&i| v[i]))
}

/// Solves the problem of the module documentation; `None` if it does not settle.
pub fn solve(k: &DMatrix<f64>, b: &DVector<f64>) -> Option<Bpp> {
    let n = b.len();
    if n == 0 || k.shape() != (n, n) {
        return None;
    }
    let kmax = (0..n).map(|i| k[(i, i)]).fold(0.0, f64::max);
    let mut free = vec![true; n];
    let (mut best, mut backup) = (n + 1, 3usize);
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
        let tol = 1e-9 * b.amax().max(kmax * lambda.amax()).max(f64::MIN_POSITIVE);
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
        let exchange: Vec<usize> = if infeasible.len() < best {
            best = infeasible.len();
            backup = 3;
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
    fn singular_or_non_finite_k_is_refused() {
        let k = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        assert!(solve(&k, &DVector::from_vec(vec![1.0, -1.0])).is_none());
        let k = DMatrix::from_row_slice(1, 1, &[f64::NAN]);
        assert!(solve(&k, &DVector::from_vec(vec![1.0])).is_none());
    }
}
