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
