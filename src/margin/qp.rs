//! Convex QPs through Clarabel.
//!
//! Problems of the form min ½xᵀPx + qᵀx s.t. Ax + s = b, s ∈ K, with K a product of zero and
//! non-negative cones. The status is checked before any value is used: `Solved` is an answer,
//! `AlmostSolved` is an answer with a warning, anything else is [`Error::Solver`].

use crate::error::{Error, Result};
use crate::tol::QP_TOL;
use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettings, DefaultSolver, IPSolver, SolverStatus, SupportedConeT};
use nalgebra::DMatrix;
use serde::Serialize;

/// The accepted outcome of a solve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum QpStatus {
    /// Solved to the requested tolerances.
    Solved,
    /// Solved to reduced accuracy (reported as a warning).
    AlmostSolved,
}

/// A solved QP: primal x, dual z (one per constraint row), status and iteration count.
#[derive(Clone, Debug)]
pub struct QpSolution {
    /// Primal solution.
    pub x: Vec<f64>,
    /// Dual variables of the constraint rows.
    pub z: Vec<f64>,
    /// Accepted status.
    pub status: QpStatus,
    /// Interior-point iterations.
    pub iterations: u32,
}

/// A cone block of the constraint rows, in order.
#[derive(Clone, Copy, Debug)]
pub enum Cone {
    /// Rows with s = 0 (equalities).
    Zero(usize),
    /// Rows with s ≥ 0 (inequalities Ax ≤ b).
    Nonneg(usize),
}

/// Upper triangle of a dense symmetric matrix in CSC form.
pub fn csc_upper(p: &DMatrix<f64>) -> CscMatrix<f64> {
    let n = p.nrows();
    let mut colptr = Vec::with_capacity(n + 1);
    let mut rowval = Vec::with_capacity(n * (n + 1) / 2);
    let mut nzval = Vec::with_capacity(n * (n + 1) / 2);
    colptr.push(0);
    for j in 0..n {
        for i in 0..=j {
            rowval.push(i);
            nzval.push(p[(i, j)]);
        }
        colptr.push(rowval.len());
    }
    CscMatrix::new(n, n, colptr, rowval, nzval)
}

/// A dense matrix in CSC form (explicit zeros dropped).
pub fn csc_dense(a: &DMatrix<f64>) -> CscMatrix<f64> {
    let (m, n) = a.shape();
    let mut colptr = vec![0];
    let mut rowval = Vec::new();
    let mut nzval = Vec::new();
    for j in 0..n {
        for i in 0..m {
            let v = a[(i, j)];
            if v != 0.0 {
                rowval.push(i);
                nzval.push(v);
            }
        }
        colptr.push(rowval.len());
    }
    CscMatrix::new(m, n, colptr, rowval, nzval)
}

/// Solver settings used for every QP: tolerances [`QP_TOL`] (kkt.md §3), quiet.
pub fn settings() -> DefaultSettings<f64> {
    DefaultSettings {
        verbose: false,
        tol_gap_abs: QP_TOL,
        tol_gap_rel: QP_TOL,
        tol_feas: QP_TOL,
        max_iter: 200,
        ..DefaultSettings::default()
    }
}

/// Solves min ½xᵀPx + qᵀx s.t. Ax + s = b, s ∈ cones. `what` names the problem in errors.
pub fn solve(
    what: &str,
    p: &CscMatrix<f64>,
    q: &[f64],
    a: &CscMatrix<f64>,
    b: &[f64],
    cones: &[Cone],
) -> Result<QpSolution> {
    let cones: Vec<SupportedConeT<f64>> = cones
        .iter()
        .map(|c| match *c {
            Cone::Zero(k) => SupportedConeT::ZeroConeT(k),
            Cone::Nonneg(k) => SupportedConeT::NonnegativeConeT(k),
        })
        .collect();
    let mut solver = DefaultSolver::new(p, q, a, b, &cones, settings())
        .map_err(|e| Error::solver(format!("{what}: cannot set up the QP: {e:?}")))?;
    solver.solve();
    let sol = &solver.solution;
    let status = match sol.status {
        SolverStatus::Solved => QpStatus::Solved,
        SolverStatus::AlmostSolved => QpStatus::AlmostSolved,
        other => {
            return Err(Error::solver(format!(
                "{what}: Clarabel returned status {other:?}"
            )))
        }
    };
    if sol.x.iter().chain(sol.z.iter()).any(|v| !v.is_finite()) {
        return Err(Error::solver(format!(
            "{what}: non-finite solution with status {status:?}"
        )));
    }
    Ok(QpSolution {
        x: sol.x.clone(),
        z: sol.z.clone(),
        status,
        iterations: sol.iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csc_forms_hold_the_upper_triangle_and_the_nonzeros() {
        let p = DMatrix::from_row_slice(3, 3, &[1.0, 2.0, 3.0, 2.0, 4.0, 5.0, 3.0, 5.0, 6.0]);
        let u = csc_upper(&p);
        assert_eq!((u.m, u.n), (3, 3));
        assert_eq!(u.colptr, vec![0, 1, 3, 6]);
        assert_eq!(u.rowval, vec![0, 0, 1, 0, 1, 2]);
        assert_eq!(u.nzval, vec![1.0, 2.0, 4.0, 3.0, 5.0, 6.0]);
        let a = DMatrix::from_row_slice(2, 3, &[0.0, 7.0, 0.0, 8.0, 0.0, -1.0]);
        let c = csc_dense(&a);
        assert_eq!((c.m, c.n), (2, 3));
        assert_eq!(c.colptr, vec![0, 1, 2, 3]);
        assert_eq!(c.rowval, vec![1, 0, 1]);
        assert_eq!(c.nzval, vec![8.0, 7.0, -1.0]);
    }

    #[test]
    fn settings_ask_for_the_declared_tolerance_quietly() {
        let s = settings();
        assert_eq!(
            (s.tol_gap_abs, s.tol_gap_rel, s.tol_feas),
            (QP_TOL, QP_TOL, QP_TOL)
        );
        assert_eq!(s.max_iter, 200);
        assert!(!s.verbose);
    }

    /// min ½‖x‖² − x₁ − x₂ s.t. x₁ − x₂ = 0.2, x₁ + x₂ ≤ 1, solved by hand.
    #[test]
    fn a_hand_solved_qp_and_an_infeasible_one() {
        // Stationarity: x − 1 + z_eq·(1, −1) + z_in·(1, 1) = 0 with x₁ + x₂ = 1 active:
        // x₁ = 1 − z_eq − z_in, x₂ = 1 + z_eq − z_in ⇒ x₁ + x₂ = 2 − 2z_in = 1 ⇒ z_in = ½;
        // x₁ − x₂ = −2z_eq = 0.2 ⇒ z_eq = −0.1; x = (0.6, 0.4).
        let p = csc_upper(&DMatrix::identity(2, 2));
        let a = csc_dense(&DMatrix::from_row_slice(2, 2, &[1.0, -1.0, 1.0, 1.0]));
        let sol = solve(
            "test",
            &p,
            &[-1.0, -1.0],
            &a,
            &[0.2, 1.0],
            &[Cone::Zero(1), Cone::Nonneg(1)],
        )
        .expect("solved");
        assert_eq!(sol.status, QpStatus::Solved);
        assert!(sol.iterations > 0);
        for (got, want) in sol.x.iter().zip([0.6, 0.4]) {
            assert!((got - want).abs() < 1e-7, "x = {:?}", sol.x);
        }
        for (got, want) in sol.z.iter().zip([-0.1, 0.5]) {
            assert!((got - want).abs() < 1e-7, "z = {:?}", sol.z);
        }
        // x₁ ≤ −1 and −x₁ ≤ −1 cannot both hold: an error naming the problem and the status.
        let a = csc_dense(&DMatrix::from_row_slice(2, 1, &[1.0, -1.0]));
        let e = solve(
            "two-sided",
            &csc_upper(&DMatrix::identity(1, 1)),
            &[0.0],
            &a,
            &[-1.0, -1.0],
            &[Cone::Nonneg(2)],
        )
        .expect_err("infeasible");
        let msg = e.to_string();
        assert!(
            msg.contains("two-sided") && msg.contains("Infeasible"),
            "{msg}"
        );
        // A malformed problem (cones of 3 rows for 2) is refused at set-up, not solved.
        assert!(solve("bad", &p, &[0.0, 0.0], &a, &[0.0, 0.0], &[Cone::Nonneg(3)]).is_err());
    }
}
