//! Lawson–Hanson NNLS in Gram form, with a simplex pivot for a singular K.
//!
//! Solves min ½λᵀKλ − bᵀλ over λ ≥ 0 (λ zero outside an allowed index set) for a symmetric
//! positive semi-definite K, given only K and b. It is the active-set method of Lawson & Hanson
//! (*Solving Least Squares Problems*, 1974, ch. 23) written on the normal equations: the passive
//! set P is kept linearly independent (K_PP positive definite), the index j of largest
//! w_j = (b − Kλ)_j enters, and the inner loop steps back toward feasibility when the solution of
//! K_PP z = b_P has a non-positive entry.
//!
//! A singular K (more points than the Jacobian's rank, e.g. a linear model with n > d) needs one
//! more move. When column j depends on P — its Schur complement s_j = K_jj − K_jP K_PP⁻¹ K_Pj is
//! below [`DEPENDENCE_TOL`]·K_jj — with c = K_PP⁻¹ K_Pj the direction v = e_j − Σ_{i∈P} c_i e_i has
//! Kv = 0 (g_j = Σ c_i g_i), so Kλ and every w are unchanged along it, while the objective
//! falls at the rate bᵀv = wᵀv = w_j > 0 (w_P = 0 at the passive optimum). Step λ += t·v up to
//! the first passive entry with c_i > 0 that reaches 0 (a ratio test) and exchange it for j: a
//! simplex pivot, after which P is again independent. If no c_i is positive the objective is
//! unbounded below along v (for the SVM dual: the data are not separable through the origin);
//! j is then set aside. When b lies in the range of K (the certificate's b = Gθ) a dependent
//! column has w_j = 0 and never enters, so the pivot serves the SVM dual (b = 1) and other
//! right-hand sides outside range(K).
//!
//! The caller verifies the result against the NNLS optimality conditions
//! ([`super::multipliers::optimality`]); this routine only proposes.

use super::nnls_bpp::gather;
use nalgebra::{DMatrix, DVector};

pub use crate::tol::DEPENDENCE_TOL;
use crate::tol::{BLOCKED_ENTRY_TOL, DUAL_ENTRY_TOL};

fn sub_solve(k: &DMatrix<f64>, p: &[usize], rhs: &DVector<f64>) -> Option<DVector<f64>> {
    let kp = k.select_rows(p).select_columns(p);
    crate::linalg::cholesky_solve(&kp, rhs)
}

/// The simplex pivot of the module documentation: λ += t·v along v = e_j − Σ_a c_a e_{P_a}
/// (Kv = 0 when column j is Σ_a c_a times the passive columns), with t the ratio test's
/// min_{c_a > 0} λ_{P_a}/c_a, and the passive entry that reaches 0 exchanged for j. Returns
/// false, changing nothing, when no c_a is positive (the objective is unbounded along v).
fn pivot(lambda: &mut DVector<f64>, passive: &mut [usize], c: &DVector<f64>, j: usize) -> bool {
    let leaving = passive
        .iter()
        .enumerate()
        .filter(|(a, _)| c[*a] > 0.0)
        .min_by(|(a, &i), (e, &m)| (lambda[i] / c[*a]).total_cmp(&(lambda[m] / c[*e])));
    let Some((a_out, &i_out)) = leaving else {
        return false;
    };
    let t = lambda[i_out] / c[a_out];
    for (a, &i) in passive.iter().enumerate() {
        // The ratio test keeps every entry ≥ 0 up to rounding.
        lambda[i] = (lambda[i] - t * c[a]).max(0.0);
    }
    lambda[i_out] = 0.0;
    lambda[j] = t;
    passive[a_out] = j;
    true
}

/// The minimiser described in the module documentation (λ zero outside `allowed`).
pub fn lawson_hanson_gram(k: &DMatrix<f64>, b: &DVector<f64>, allowed: &[usize]) -> DVector<f64> {
    let n = b.len();
    let k_max = super::multipliers::max_diag(k);
    let mut lambda = DVector::zeros(n);
    let mut passive: Vec<usize> = Vec::new();
    let mut set_aside: Vec<usize> = Vec::new();
    // Each outer step adds one index; pivots and drops keep the count bounded in practice, and
    // the cap makes a cycling degenerate instance return (unverified) instead of hang.
    for _ in 0..(10 * allowed.len() + 10) {
        let w = b - k * &lambda;
        // w = b − Kλ is compared with the scale of its two terms, so that (sK, tb) makes the
        // same decisions as (K, b) (its minimiser is (t/s)λ).
        let tol = DUAL_ENTRY_TOL * b.amax().max(k_max * lambda.amax()).max(f64::MIN_POSITIVE);
        let Some(&j) = allowed
            .iter()
            .filter(|i| !passive.contains(i) && !set_aside.contains(i))
            .max_by(|&&x, &&y| w[x].total_cmp(&w[y]))
        else {
            break;
        };
        if !(w[j] > tol) {
            break;
        }
        let dependent = if passive.is_empty() {
            None
        } else {
            let kpj = DVector::from_iterator(passive.len(), passive.iter().map(|&i| k[(i, j)]));
            let Some(c) = sub_solve(k, &passive, &kpj) else {
                break;
            };
            let schur = k[(j, j)] - kpj.dot(&c);
            (!(schur > DEPENDENCE_TOL * k[(j, j)].max(f64::MIN_POSITIVE))).then_some(c)
        };
        match dependent {
            None => passive.push(j),
            Some(c) => {
                // w is unchanged by the pivot, so w_j > 0 still and the inner loop below
                // re-optimises on the exchanged passive set.
                if !pivot(&mut lambda, &mut passive, &c, j) {
                    set_aside.push(j);
                    continue;
                }
            }
        }
        loop {
            let Some(z) = sub_solve(k, &passive, &gather(b, &passive)) else {
                passive.retain(|&i| i != j);
                set_aside.push(j);
                break;
            };
            if z.iter().all(|&v| v > 0.0) {
                lambda.fill(0.0);
                for (a, &i) in passive.iter().enumerate() {
                    lambda[i] = z[a];
                }
                break;
            }
            // Step from λ toward z until the first passive entry reaches 0; drop it.
            let mut alpha = f64::INFINITY;
            for (a, &i) in passive.iter().enumerate() {
                if z[a] <= 0.0 {
                    alpha = alpha.min(lambda[i] / (lambda[i] - z[a]));
                }
            }
            for (a, &i) in passive.iter().enumerate() {
                lambda[i] += alpha * (z[a] - lambda[i]);
            }
            // The entries the step brought to 0 (up to rounding, relative to λ's scale) leave.
            let zero = BLOCKED_ENTRY_TOL * lambda.amax();
            passive.retain(|&i| lambda[i] > zero);
            // A smaller passive set can make a set-aside column independent again.
            set_aside.clear();
            for i in 0..n {
                if !passive.contains(&i) {
                    lambda[i] = 0.0;
                }
            }
            if passive.is_empty() {
                break;
            }
        }
    }
    lambda
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::margin::multipliers::optimality;

    fn gram(z: &DMatrix<f64>) -> DMatrix<f64> {
        z * z.transpose()
    }

    #[test]
    fn svm_dual_with_more_points_than_dimensions_is_solved_exactly() {
        // Points in R²; b = 1 is outside range(K) (n = 5 > rank 2), the pivot case.
        let z = DMatrix::from_row_slice(5, 2, &[1.0, 0.2, 0.8, 0.9, 1.5, -0.1, 0.3, 1.1, 2.0, 2.0]);
        let k = gram(&z);
        let b = DVector::from_element(5, 1.0);
        let all: Vec<usize> = (0..5).collect();
        let l = lawson_hanson_gram(&k, &b, &all);
        let o = optimality(&k, &b, &l);
        assert!(o.min_lambda >= 0.0, "{o:?}");
        assert!(o.min_gradient >= -1e-12, "{o:?}");
        assert!(o.max_complementarity <= 1e-12, "{o:?}");
        // The margins y_i⟨w, x_i⟩ of w = Zᵀλ are ≥ 1, with equality on the support.
        let q = &z * (z.transpose() * &l);
        for i in 0..5 {
            assert!(q[i] >= 1.0 - 1e-12, "q_{i} = {}", q[i]);
            if l[i] > 0.0 {
                assert!(
                    (q[i] - 1.0).abs() <= 1e-12,
                    "support point {i}: q = {}",
                    q[i]
                );
            }
        }
    }

    #[test]
    fn the_pivot_by_hand() {
        // P = (0, 1, 2, 3) with λ_P = (1, 2, 3, 0.5), j = 4, c = (0.5, −1, 2, 0): the ratios
        // λ/c over c > 0 are 2 and 1.5, so t = 1.5 and index 2 leaves; λ_P − t·c =
        // (0.25, 3.5, 0, 0.5), λ_4 = 1.5, P = (0, 1, 4, 3).
        let mut lambda = DVector::from_vec(vec![1.0, 2.0, 3.0, 0.5, 0.0, 7.0]);
        let mut passive = vec![0, 1, 2, 3];
        let c = DVector::from_vec(vec![0.5, -1.0, 2.0, 0.0]);
        assert!(pivot(&mut lambda, &mut passive, &c, 4));
        assert_eq!(lambda.as_slice(), &[0.25, 3.5, 0.0, 0.5, 1.5, 7.0]);
        assert_eq!(passive, [0, 1, 4, 3]);
        // The smaller ratio on the other side: index 0 leaves at t = 0.5.
        let mut lambda = DVector::from_vec(vec![0.25, 2.0, 3.0, 0.5, 0.0, 7.0]);
        let mut passive = vec![0, 1, 2, 3];
        assert!(pivot(&mut lambda, &mut passive, &c, 4));
        assert_eq!(lambda.as_slice(), &[0.0, 2.5, 2.0, 0.5, 0.5, 7.0]);
        assert_eq!(passive, [4, 1, 2, 3]);
        // No c_a > 0: nothing moves (c_a = 0 does not count).
        let before = lambda.clone();
        let c = DVector::from_vec(vec![-0.5, -1.0, 0.0, -2.0]);
        assert!(!pivot(&mut lambda, &mut passive, &c, 5));
        assert_eq!((lambda, passive), (before, vec![4, 1, 2, 3]));
        // Ratios 1.5 and 2.5 (a remainder 5 mod 2 = 1 would look smaller): index 0 leaves.
        let mut lambda = DVector::from_vec(vec![3.0, 5.0, 0.0]);
        let mut passive = vec![0, 1];
        assert!(pivot(
            &mut lambda,
            &mut passive,
            &DVector::from_vec(vec![2.0, 2.0]),
            2
        ));
        assert_eq!(lambda.as_slice(), &[0.0, 2.0, 1.5]);
        assert_eq!(passive, [2, 1]);
    }

    #[test]
    fn the_pivot_keeps_k_lambda_on_a_dependent_column() {
        // g_2 = 2g_0 + g_1 in R²: K's column 2 is 2·K_{·0} + K_{·1}, so the pivot with c = (2, 1)
        // leaves Kλ unchanged.
        let g = DMatrix::from_row_slice(2, 3, &[1.0, 0.5, 2.5, 0.0, 1.0, 1.0]);
        let k = g.transpose() * &g;
        let mut lambda = DVector::from_vec(vec![0.6, 0.9, 0.0]);
        let before = &k * &lambda;
        let mut passive = vec![0, 1];
        let c = DVector::from_vec(vec![2.0, 1.0]);
        assert!(pivot(&mut lambda, &mut passive, &c, 2));
        // Ratios 0.3 and 0.9: index 0 leaves at t = 0.3.
        assert_eq!(passive, [2, 1]);
        assert!((&lambda - DVector::from_vec(vec![0.0, 0.6, 0.3])).amax() <= 1e-15);
        assert!((&k * &lambda - before).amax() <= 1e-14);
    }

    #[test]
    fn one_allowed_index_by_hand() {
        // min ½·4λ² − 2λ over λ ≥ 0 with index 1 not allowed: λ = (0.5, 0).
        let k = DMatrix::from_row_slice(2, 2, &[4.0, 1.0, 1.0, 4.0]);
        let b = DVector::from_vec(vec![2.0, 3.0]);
        assert_eq!(lawson_hanson_gram(&k, &b, &[0]).as_slice(), &[0.5, 0.0]);
    }

    #[test]
    fn the_answer_scales_with_the_problem() {
        // (sK, tb) has the minimiser (t/s)λ. Every tolerance is relative to the problem's
        // scale, so the same pivots and entries happen at every scale — including the
        // dependence test on this singular K (five points in R², b = 1 outside range K).
        let z = DMatrix::from_row_slice(5, 2, &[1.0, 0.2, 0.8, 0.9, 1.5, -0.1, 0.3, 1.1, 2.0, 2.0]);
        let (k, b) = (gram(&z), DVector::from_element(5, 1.0));
        let all: Vec<usize> = (0..5).collect();
        let base = lawson_hanson_gram(&k, &b, &all);
        assert!(base.iter().filter(|&&v| v > 0.0).count() >= 2);
        for s in [1e-8, 1e-3, 1.0, 1e3, 1e8] {
            for t in [1e-8, 1.0, 1e8] {
                let (ks, bs) = (&k * s, &b * t);
                let l = lawson_hanson_gram(&ks, &bs, &all);
                let want = &base * (t / s);
                let diff = (&l - &want).amax() / want.amax();
                assert!(diff <= 1e-12, "s = {s}, t = {t}: λ differs by {diff:e}");
                let o = optimality(&ks, &bs, &l);
                assert!(
                    o.min_lambda >= 0.0 && o.min_gradient >= -1e-12 * t,
                    "s = {s}, t = {t}: {o:?}"
                );
            }
        }
    }

    #[test]
    fn non_separable_data_leave_the_dependent_column_aside() {
        // x and −x with the same label: no w separates them; the routine must stop.
        let z = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, -1.0, 0.0, 0.0, 1.0]);
        let k = gram(&z);
        let b = DVector::from_element(3, 1.0);
        let l = lawson_hanson_gram(&k, &b, &[0, 1, 2]);
        assert!(l.iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!(optimality(&k, &b, &l).min_gradient < -0.5);
    }

    #[test]
    fn least_squares_right_hand_side_matches_the_tall_form() {
        // b = Gθ: the Gram form and the tall-matrix Lawson–Hanson give the same residual.
        let g = DMatrix::from_fn(3, 6, |i, j| {
            ((i * 7 + j * 3) % 5) as f64 - 1.5 + 0.1 * j as f64
        });
        let theta = DVector::from_vec(vec![0.7, -0.2, 1.3]);
        let k = g.transpose() * &g;
        let b = g.transpose() * &theta;
        let l = lawson_hanson_gram(&k, &b, &(0..6).collect::<Vec<_>>());
        let tall = crate::margin::multipliers::lawson_hanson(&g, &theta).unwrap();
        let r1 = (&theta - &g * &l).norm();
        let r2 = (&theta - &g * &tall).norm();
        assert!((r1 - r2).abs() <= 1e-10, "{r1} vs {r2}");
    }
}
