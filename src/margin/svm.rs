//! The bias-free hard-margin SVM (kkt.md §3).
//!
//! Primal: min ½‖w‖² s.t. y_i⟨w, x_i⟩ ≥ 1. Dual: min_{λ≥0} ½λᵀGλ − 1ᵀλ with
//! G_ik = y_i y_k⟨x_i, x_k⟩ and w = Σ λ_i y_i x_i. The models have no bias, so there is **no**
//! equality row yᵀλ = 0. The dual is solved by Clarabel and polished on its support
//! (G_{S⁺S⁺}λ = 1); the primal (P = I_d, rows −y_i x_iᵀ ≤ −1) is an independent cross-check whose
//! duals equal λ. Data that are not separable through the origin make the dual unbounded: that
//! is reported as a solver error naming the cause, never as an answer.
//!
//! When G is positive definite (n ≤ d, points in general position) the dual is also an NNLS
//! problem: with G = LLᵀ, ½λᵀGλ − 1ᵀλ = ½‖Lᵀλ − L⁻¹1‖² + const, which Lawson–Hanson solves in
//! finitely many active-set steps ([`DualSolver::ActiveSet`], about 3× faster than the interior
//! point at n = 200). Both paths end in the same polish, whose acceptance certifies the NNLS
//! optimality conditions; if the active set is not accepted, the interior point is used.

use super::multipliers::{self, Multipliers};
use super::qp::{self, Cone, QpStatus};
use crate::data::Binary;
use crate::error::{Error, Result};
use crate::linalg::{gram_rows, mul_vec, Op};
use clarabel::algebra::CscMatrix;
use nalgebra::{DMatrix, DVector};

/// A solved hard-margin SVM.
#[derive(Clone, Debug)]
pub struct Svm {
    /// w = Σ λ_i y_i x_i.
    pub w: DVector<f64>,
    /// The dual multipliers (polished when accepted).
    pub multipliers: Multipliers,
    /// The signed Gram matrix G.
    pub gram: DMatrix<f64>,
}

impl Svm {
    /// The geometric margin γ* = 1/‖w‖.
    pub fn margin(&self) -> f64 {
        1.0 / self.w.norm()
    }
    /// The multipliers λ.
    pub fn lambda(&self) -> &DVector<f64> {
        &self.multipliers.lambda
    }
}

/// The algorithm for the dual.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DualSolver {
    /// Lawson–Hanson on the Cholesky factor when G is positive definite, else interior point.
    ActiveSet,
    /// Clarabel's interior point.
    InteriorPoint,
}

/// Solves the dual of the hard-margin SVM (active set where possible).
pub fn hard_margin(data: &Binary) -> Result<Svm> {
    hard_margin_with(data, DualSolver::ActiveSet)
}

/// Solves the dual with the chosen algorithm.
pub fn hard_margin_with(data: &Binary, solver: DualSolver) -> Result<Svm> {
    let sx = data.signed_x();
    let gram = gram_rows(&sx);
    let ones = DVector::from_element(data.n(), 1.0);
    if solver == DualSolver::ActiveSet {
        if let Some(multipliers) = multipliers::active_set(&gram, &ones) {
            let w = mul_vec(&sx, Op::T, &multipliers.lambda);
            return Ok(Svm {
                w,
                multipliers,
                gram,
            });
        }
    }
    let multipliers = multipliers::nnls_qp_interior(&gram, &ones).map_err(|e| match e {
        Error::Solver(msg) => Error::solver(format!(
            "hard-margin SVM ({msg}); are the data separable through the origin?"
        )),
        other => other,
    })?;
    let w = mul_vec(&sx, Op::T, &multipliers.lambda);
    Ok(Svm {
        w,
        multipliers,
        gram,
    })
}

/// Solves the primal; returns w, the duals z of the margin rows, and the status.
pub fn hard_margin_primal(data: &Binary) -> Result<(DVector<f64>, DVector<f64>, QpStatus)> {
    let (n, d) = (data.n(), data.d());
    let p = CscMatrix::new(d, d, (0..=d).collect(), (0..d).collect(), vec![1.0; d]);
    let a = -data.signed_x();
    let sol = qp::solve(
        "hard-margin SVM primal",
        &p,
        &vec![0.0; d],
        &qp::csc_dense(&a),
        &vec![-1.0; n],
        &[Cone::Nonneg(n)],
    )?;
    Ok((
        DVector::from_vec(sol.x),
        DVector::from_vec(sol.z),
        sol.status,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, stream};

    /// x₁ = (1, 0) labelled +1, x₂ = (0, 1) labelled −1, x₃ = (2, 0) labelled +1: by hand
    /// w = (1, −1), λ = (1, 1, 0), γ* = 1/√2, from both dual algorithms and the primal.
    #[test]
    fn a_hand_solved_svm() {
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 0.0, 1.0, 2.0, 0.0]);
        let data = Binary::new(x, DVector::from_vec(vec![1.0, -1.0, 1.0])).unwrap();
        for solver in [DualSolver::ActiveSet, DualSolver::InteriorPoint] {
            let svm = hard_margin_with(&data, solver).unwrap();
            assert!(
                (&svm.w - DVector::from_vec(vec![1.0, -1.0])).amax() < 1e-9,
                "{solver:?}"
            );
            assert!((svm.lambda() - DVector::from_vec(vec![1.0, 1.0, 0.0])).amax() < 1e-9);
            assert!((svm.margin() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-9);
            assert_eq!(svm.gram[(0, 1)], 0.0);
            assert_eq!(svm.gram[(0, 2)], 2.0);
        }
        let (w, z, status) = hard_margin_primal(&data).unwrap();
        assert_eq!(status, QpStatus::Solved);
        assert!((w - DVector::from_vec(vec![1.0, -1.0])).amax() < 1e-7);
        assert!((z - DVector::from_vec(vec![1.0, 1.0, 0.0])).amax() < 1e-7);
    }

    /// Data with one point repeated under the opposite label are not separable: the dual is
    /// unbounded and the SVM is refused with a solver error, never answered. (Formerly the
    /// negative control of `kkt.linear.gd_direction`, which it did not test.)
    #[test]
    fn non_separable_data_are_refused() {
        for seed in 0..3 {
            let (data, _) =
                crate::data::planted::generate(&mut rng::seeded(seed, stream::DATA), 20, 5, 0.1)
                    .unwrap();
            let n = data.n();
            let mut x = DMatrix::zeros(n + 1, data.d());
            x.rows_mut(0, n).copy_from(data.x());
            x.row_mut(n).copy_from(&data.x().row(0));
            let mut y = DVector::zeros(n + 1);
            y.rows_mut(0, n).copy_from(data.y());
            y[n] = -data.y()[0];
            let bad = Binary::new(x, y).unwrap();
            for solver in [DualSolver::ActiveSet, DualSolver::InteriorPoint] {
                assert!(
                    matches!(hard_margin_with(&bad, solver), Err(Error::Solver(_))),
                    "seed {seed}, {solver:?}"
                );
            }
        }
    }
}
