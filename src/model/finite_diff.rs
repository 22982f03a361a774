//! Central finite differences of N(x; θ) in θ and in x, for testing analytic gradients.
//!
//! ∂N/∂θ_k ≈ (N(θ + h e_k) − N(θ − h e_k))/(2h), evaluated for every sample at once. For a
//! piecewise-linear model the truncation error vanishes away from kinks, so agreement to ~1e−9
//! is expected where no pre-activation lies within the step of zero.

use super::Model;
use nalgebra::{DMatrix, DVector};

/// Finite-difference Jacobian in θ, n × p, with step `h`.
pub fn param_jacobian(model: &dyn Model, x: &DMatrix<f64>, h: f64) -> DMatrix<f64> {
    let p = model.n_params();
    let mut m = model.boxed_clone();
    let theta = model.params().clone();
    let mut jac = DMatrix::zeros(x.nrows(), p);
    for k in 0..p {
        m.params_mut()[k] = theta[k] + h;
        let up = m.forward(x);
        m.params_mut()[k] = theta[k] - h;
        let down = m.forward(x);
        m.params_mut()[k] = theta[k];
        jac.set_column(k, &((up - down) / (2.0 * h)));
    }
    jac
}

/// Finite-difference input gradients, n × d, with step `h`.
pub fn input_grad(model: &dyn Model, x: &DMatrix<f64>, h: f64) -> DMatrix<f64> {
    let (n, d) = x.shape();
    let mut out = DMatrix::zeros(n, d);
    let mut xp = x.clone();
    for k in 0..d {
        let orig = x.column(k).clone_owned();
        xp.set_column(k, &orig.add_scalar(h));
        let up = model.forward(&xp);
        xp.set_column(k, &orig.add_scalar(-h));
        let down = model.forward(&xp);
        xp.set_column(k, &orig);
        out.set_column(k, &((up - down) / (2.0 * h)));
    }
    out
}

/// max over rows of ‖a_i − b_i‖/‖b_i‖ (rows of zero norm compare absolutely).
pub fn max_row_rel_err(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (0..a.nrows())
        .map(|i| {
            let diff = (a.row(i) - b.row(i)).norm();
            let nb = b.row(i).norm();
            if nb > 0.0 {
                diff / nb
            } else {
                diff
            }
        })
        .fold(0.0, f64::max)
}

/// Typical entry size ‖v‖/√len, floored at 1e−3, to scale finite-difference steps.
pub fn typical(v: &DVector<f64>) -> f64 {
    (v.norm() / (v.len().max(1) as f64).sqrt()).max(1e-3)
}
