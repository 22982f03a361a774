//! Margins in other geometries, as linear programs.
//!
//! For separable data through the origin:
//! - L∞ geometry (perturbations bounded in ‖·‖∞, dual norm ‖·‖₁):
//!   γ∞ = max γ s.t. y_i⟨w, x_i⟩ ≥ γ, ‖w‖₁ ≤ 1, with w = w⁺ − w⁻, w± ≥ 0;
//! - L1 geometry (dual norm ‖·‖∞): γ₁ = max γ s.t. y_i⟨w, x_i⟩ ≥ γ, −1 ≤ w_k ≤ 1.
//!
//! γ is the largest radius, in that geometry, of a ball around every point that the separator
//! keeps on the correct side. Solved by good_lp's pure-Rust `microlp` backend and
//! cross-checked against Clarabel with a zero quadratic term ([`margin_clarabel`]).

use super::qp::{self, Cone};
use crate::data::Binary;
use crate::error::{Error, Result};
use clarabel::algebra::CscMatrix;
use good_lp::{
    constraint, microlp, variable, variables, Expression, Solution, SolverModel, Variable,
};
use nalgebra::{DMatrix, DVector};
use serde::Serialize;

/// Maps the LP's w-variables back to the separator.
type Unpack = Box<dyn Fn(&[f64]) -> DVector<f64>>;

/// The norm in which perturbations are measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Geometry {
    /// ‖δ‖∞ ≤ r; the separator is normalised in ‖·‖₁.
    LInf,
    /// ‖δ‖₁ ≤ r; the separator is normalised in ‖·‖∞.
    L1,
}

/// A maximum-margin separator in a given geometry.
#[derive(Clone, Debug)]
pub struct LpMargin {
    /// The optimal margin γ (≤ 0 when the data are not separable).
    pub gamma: f64,
    /// The separator, with unit dual norm.
    pub w: DVector<f64>,
}

/// Solves the margin LP with good_lp (microlp).
pub fn margin(data: &Binary, geometry: Geometry) -> Result<LpMargin> {
    let (n, d) = (data.n(), data.d());
    let sx = data.signed_x();
    let mut vars = variables!();
    let gamma = vars.add(variable());
    let (w_terms, w_of): (Vec<Variable>, Unpack) = match geometry {
        Geometry::LInf => {
            let v: Vec<Variable> = (0..2 * d).map(|_| vars.add(variable().min(0.0))).collect();
            (
                v,
                Box::new(move |s: &[f64]| DVector::from_fn(d, |k, _| s[k] - s[d + k])),
            )
        }
        Geometry::L1 => {
            let v: Vec<Variable> = (0..d)
                .map(|_| vars.add(variable().min(-1.0).max(1.0)))
                .collect();
            (v, Box::new(|s: &[f64]| DVector::from_column_slice(s)))
        }
    };
    let mut problem = vars.maximise(gamma).using(microlp);
    for i in 0..n {
        let mut e = Expression::from(0.0);
        for k in 0..d {
            let c = sx[(i, k)];
            if c != 0.0 {
                match geometry {
                    Geometry::LInf => {
                        e += c * w_terms[k];
                        e -= c * w_terms[d + k];
                    }
                    Geometry::L1 => e += c * w_terms[k],
                }
            }
        }
        problem = problem.with(constraint!(e >= gamma));
    }
    if geometry == Geometry::LInf {
        let total: Expression = w_terms.iter().map(|&v| Expression::from(v)).sum();
        problem = problem.with(constraint!(total <= 1.0));
    }
    let sol = problem
        .solve()
        .map_err(|e| Error::solver(format!("margin LP (microlp): {e}")))?;
    let vals: Vec<f64> = w_terms.iter().map(|&v| sol.value(v)).collect();
    Ok(LpMargin {
        gamma: sol.value(gamma),
        w: w_of(&vals),
    })
}

/// The same LP solved by Clarabel (P = 0), as an independent cross-check.
pub fn margin_clarabel(data: &Binary, geometry: Geometry) -> Result<LpMargin> {
    let (n, d) = (data.n(), data.d());
    let sx = data.signed_x();
    // Variables: w-part (2d for L∞: w⁺, w⁻; d for L1) then γ. Minimise −γ.
    let nw = if geometry == Geometry::LInf { 2 * d } else { d };
    let nv = nw + 1;
    let rows = n + if geometry == Geometry::LInf {
        1 + nw
    } else {
        2 * d
    };
    let mut a = DMatrix::zeros(rows, nv);
    let mut b = vec![0.0; rows];
    for i in 0..n {
        for k in 0..d {
            a[(i, k)] = -sx[(i, k)];
            if geometry == Geometry::LInf {
                a[(i, d + k)] = sx[(i, k)];
            }
        }
        a[(i, nw)] = 1.0;
    }
    match geometry {
        Geometry::LInf => {
            for k in 0..nw {
                a[(n, k)] = 1.0;
                a[(n + 1 + k, k)] = -1.0;
            }
            b[n] = 1.0;
        }
        Geometry::L1 => {
            for k in 0..d {
                a[(n + k, k)] = 1.0;
                b[n + k] = 1.0;
                a[(n + d + k, k)] = -1.0;
                b[n + d + k] = 1.0;
            }
        }
    }
    let mut q = vec![0.0; nv];
    q[nw] = -1.0;
    let p = CscMatrix::new(nv, nv, vec![0; nv + 1], vec![], vec![]);
    let sol = qp::solve(
        "margin LP (Clarabel)",
        &p,
        &q,
        &qp::csc_dense(&a),
        &b,
        &[Cone::Nonneg(rows)],
    )?;
    let w = match geometry {
        Geometry::LInf => DVector::from_fn(d, |k, _| sol.x[k] - sol.x[d + k]),
        Geometry::L1 => DVector::from_column_slice(&sol.x[..d]),
    };
    Ok(LpMargin {
        gamma: sol.x[nw],
        w,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(rows: &[[f64; 2]], y: &[f64]) -> Binary {
        let x = DMatrix::from_fn(rows.len(), 2, |i, j| rows[i][j]);
        Binary::new(x, DVector::from_column_slice(y)).unwrap()
    }

    /// Hand-solved LPs, each with a unique separator, through both solvers:
    /// - x₁ = (1, 0) labelled +1, x₂ = (0, 1) labelled −1: in L∞ geometry (‖w‖₁ ≤ 1)
    ///   γ ≤ min(w₁, −w₂) ≤ ‖w‖₁/2, so γ∞ = ½ at w = (½, −½); in L1 geometry (‖w‖∞ ≤ 1)
    ///   γ₁ = 1 at w = (1, −1);
    /// - the single point (2, 1): γ∞ = ‖x‖∞ = 2 at w = (1, 0), γ₁ = ‖x‖₁ = 3 at w = (1, 1).
    #[test]
    fn hand_solved_margins_in_both_geometries() {
        let two = binary(&[[1.0, 0.0], [0.0, 1.0]], &[1.0, -1.0]);
        let one = binary(&[[2.0, 1.0]], &[1.0]);
        let cases = [
            (&two, Geometry::LInf, 0.5, [0.5, -0.5]),
            (&two, Geometry::L1, 1.0, [1.0, -1.0]),
            (&one, Geometry::LInf, 2.0, [1.0, 0.0]),
            (&one, Geometry::L1, 3.0, [1.0, 1.0]),
        ];
        for (data, g, gamma, w) in cases {
            for (name, m) in [
                ("microlp", margin(data, g).unwrap()),
                ("clarabel", margin_clarabel(data, g).unwrap()),
            ] {
                assert!(
                    (m.gamma - gamma).abs() < 1e-7,
                    "{name} {g:?}: γ = {}",
                    m.gamma
                );
                assert!(
                    (&m.w - DVector::from_column_slice(&w)).amax() < 1e-7,
                    "{name} {g:?}: w = {}",
                    m.w
                );
            }
        }
    }
}
