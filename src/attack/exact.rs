//! Exact and certified minimal perturbations (malt.md §5–§6).
//!
//! - Linear models f(x) = Wx + b: the minimal L_p distance to the f_t = f_y boundary is
//!   d_t = (f_y − f_t)_+/‖w_y − w_t‖_q (q dual to p), attained by δ_t = d_t·sign(w_t − w_y) (L∞)
//!   or d_t(w_t − w_y)/‖w_t − w_y‖₂ (L2). With the box [0, 1]^d the L∞ value is the small LP
//!   min s s.t. (w_t − w_y)ᵀδ ≥ f_y − f_t, −s ≤ δ_i ≤ s, 0 ≤ x_i + δ_i ≤ 1 (good_lp, microlp).
//! - Two-layer nets f = Vσ(Wx + b) + c: for ‖δ‖_p ≤ ε, |g_t(x + δ) − g_t(x) − ⟨∇g_t, δ⟩| ≤
//!   E_t(ε) = Σ_j a_j(ε‖w_j‖_q − |p_j|)_+ with a_j = |V_tj − V_yj|, g_t = f_t − f_y; so no δ with
//!   ‖δ‖_p < r_t^cert = min{ε : g_t(x) + ε‖∇g_t(x)‖_q + E_t(ε) ≥ 0} makes t beat y. The left
//!   side is piecewise linear in ε with breakpoints |p_j|/‖w_j‖_q; scanning them gives r exactly.

use super::apgd::Norm;
use crate::error::{Error, Result};
use good_lp::{constraint, microlp, variable, variables, Expression, Solution, SolverModel};
use nalgebra::{DMatrix, DVector};

fn dual(norm: Norm, v: &[f64]) -> f64 {
    match norm {
        Norm::Linf => v.iter().map(|a| a.abs()).sum(),
        Norm::L2 => v.iter().map(|a| a * a).sum::<f64>().sqrt(),
    }
}

/// Closed-form minimal distance d_t and perturbation δ_t of a linear model (W: K × d rows w_c,
/// b: K) from x with label y toward class t (no box).
pub fn linear_distance(
    w: &DMatrix<f64>,
    b: &DVector<f64>,
    x: &DVector<f64>,
    y: usize,
    t: usize,
    norm: Norm,
) -> (f64, DVector<f64>) {
    let f = w * x + b;
    let diff: DVector<f64> = (w.row(t) - w.row(y)).transpose();
    let q = dual(norm, diff.as_slice());
    let dist = (f[y] - f[t]).max(0.0) / q;
    let delta = match norm {
        Norm::Linf => diff.map(|v| v.signum() * f64::from(u8::from(v != 0.0))) * dist,
        Norm::L2 => &diff * (dist / diff.norm()),
    };
    (dist, delta)
}

/// The exact minimal L∞ distance toward class t inside the box [0, 1]^d (an LP; `None` if no
/// point of the box makes f_t ≥ f_y).
pub fn linear_linf_box(
    w: &DMatrix<f64>,
    b: &DVector<f64>,
    x: &DVector<f64>,
    y: usize,
    t: usize,
) -> Result<Option<f64>> {
    let d = x.len();
    let f = w * x + b;
    let mut vars = variables!();
    let s = vars.add(variable().min(0.0));
    let delta: Vec<_> = (0..d)
        .map(|i| vars.add(variable().min(-x[i]).max(1.0 - x[i])))
        .collect();
    let mut problem = vars.minimise(s).using(microlp);
    let mut e = Expression::from(0.0);
    for i in 0..d {
        let c = w[(t, i)] - w[(y, i)];
        if c != 0.0 {
            e += c * delta[i];
        }
        problem = problem
            .with(constraint!(delta[i] <= s))
            .with(constraint!(delta[i] >= -s));
    }
    problem = problem.with(constraint!(e >= f[y] - f[t]));
    match problem.solve() {
        Ok(sol) => Ok(Some(sol.value(s))),
        Err(good_lp::ResolutionError::Infeasible) => Ok(None),
        Err(e) => Err(Error::solver(format!("box LP (microlp): {e}"))),
    }
}

/// The certified targeted radius r_t^cert of a two-layer net at x (W₁: m × d, b₁: m, V: K × m),
/// for label y and target t ≠ y; 0 if t already beats y.
#[allow(clippy::too_many_arguments)]
pub fn certified_radius(
    w1: &DMatrix<f64>,
    b1: &DVector<f64>,
    v: &DMatrix<f64>,
    c: &DVector<f64>,
    x: &DVector<f64>,
    y: usize,
    t: usize,
    norm: Norm,
) -> f64 {
    let p = w1 * x + b1;
    let h = p.map(|z| z.max(0.0));
    let f = v * &h + c;
    let g = f[t] - f[y];
    if g >= 0.0 {
        return 0.0;
    }
    let m = p.len();
    let a: Vec<f64> = (0..m).map(|j| (v[(t, j)] - v[(y, j)]).abs()).collect();
    // ∇g_t = Σ_j (V_tj − V_yj) σ'(p_j) w_j.
    let mut grad = DVector::zeros(x.len());
    for j in 0..m {
        if p[j] > 0.0 {
            grad += w1.row(j).transpose() * (v[(t, j)] - v[(y, j)]);
        }
    }
    let gq = dual(norm, grad.as_slice());
    let nq: Vec<f64> = (0..m)
        .map(|j| {
            dual(
                norm,
                w1.row(j).iter().copied().collect::<Vec<_>>().as_slice(),
            )
        })
        .collect();
    // F(ε) = g + ε·gq + Σ_j a_j (ε n_j − |p_j|)_+ ; slopes change at ε_j = |p_j|/n_j.
    let mut bps: Vec<(f64, f64)> = (0..m)
        .filter(|&j| a[j] > 0.0 && nq[j] > 0.0)
        .map(|j| (p[j].abs() / nq[j], a[j] * nq[j]))
        .collect();
    bps.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut eps, mut val, mut slope) = (0.0, g, gq);
    for (e_j, ds) in bps {
        let next = val + slope * (e_j - eps);
        if next >= 0.0 && slope > 0.0 {
            return eps + (-val) / slope;
        }
        val = next;
        eps = e_j;
        slope += ds;
    }
    if slope > 0.0 {
        eps + (-val) / slope
    } else {
        f64::INFINITY
    }
}
