//! The (ε, δ, τ) KKT certificate of margin maximisation for any homogeneous model
//! (kkt.md §2–§3).
//!
//! For an L-homogeneous model with q_min(θ) > 0 the parameters are first normalised,
//! θ̃ = θ/q_min^{1/L}, so that q_min(θ̃) = 1. With g_i = y_i∇_θ N(x_i; θ̃):
//! - λ = argmin_{λ≥0} ‖θ̃ − Σλ_i g_i‖ (the multiplier QP, polished);
//! - ε = ‖θ̃ − Σλ_i g_i‖, computed as the norm of the residual vector (never from the expanded
//!   quadratic form, which cancels catastrophically when ε ≪ ‖θ̃‖), and ε_rel = ε/‖θ̃‖;
//! - δ = max_i λ_i(q_i − 1), and max_i λ_i|q_i − 1|;
//! - τ = max(0, 1 − min_i q_i) (zero after normalisation, up to rounding).
//!
//! The box QP ε*(δ₀) bounds λ_i ≤ δ₀/(q_i − 1) where q_i > 1 + 1e−9 ([`ACTIVE_TOL`]).
//!
//! θ̃ is an (ε, δ)-approximate KKT point of min ½‖θ‖² s.t. q_i ≥ 1. Euler's identity
//! b_i = ⟨g_i, θ̃⟩ = L·q_i is evaluated as a consistency check. Scale covariance: for θ = cθ̃,
//! λ(θ) = c^{2−L}λ(θ̃) and ε(θ) = c·ε(θ̃).

use super::min_delta;
use super::multipliers::{
    self, active_set, box_qp, nnls_qp_interior, Multipliers, SUPPORT_THRESHOLD,
};
use super::qp::QpStatus;
use crate::data::Binary;
use crate::error::{Error, Result};
use crate::loss::MarginLoss;
use crate::model::Model;
use nalgebra::{DMatrix, DVector};
use serde::Serialize;

pub use crate::tol::ACTIVE_TOL;

/// Options of [`certify`].
#[derive(Clone, Debug, Default)]
pub struct CertifyOptions {
    /// Also solve the box QP ε*(δ₀) for this δ₀.
    pub box_delta: Option<f64>,
}

/// The certificate; see the module documentation for the definitions.
#[derive(Clone, Debug, Serialize)]
pub struct Certificate {
    /// Homogeneity degree L.
    pub homogeneity: u32,
    /// min_i q_i(θ) before normalisation.
    pub q_min_raw: f64,
    /// The normalising factor q_min^{1/L} (θ̃ = θ/scale); 1 when certified as given.
    pub scale: f64,
    /// ‖θ̃‖.
    pub theta_norm: f64,
    /// Stationarity residual ε.
    pub eps: f64,
    /// ε/‖θ̃‖.
    pub eps_rel: f64,
    /// max_i λ_i(q_i − 1).
    pub delta: f64,
    /// max_i λ_i|q_i − 1|.
    pub delta_abs: f64,
    /// max(0, 1 − min_i q_i).
    pub tau: f64,
    /// Σ λ_i (equals ‖θ̃‖²/L at an exact KKT point).
    pub lambda_sum: f64,
    /// max_i |b_i − L q_i| / max_i |b_i| (Euler consistency).
    pub euler_gap: f64,
    /// Number of multipliers above 1e−9·max λ.
    pub support: usize,
    /// Solver status.
    pub status: QpStatus,
    /// The algorithm that produced the multipliers.
    pub method: multipliers::Method,
    /// Whether the polished multipliers were accepted.
    pub polished: bool,
    /// Numerical rank of the Jacobian rows y_i∇_θN(x_i) (of K).
    pub rank: usize,
    /// Whether the residual-minimising λ is unique (rank = n). When it is not, the λ reported
    /// is the minimiser of smallest δ (see [`super::min_delta`]).
    pub unique: bool,
    /// Whether that δ-minimising choice replaced the solver's λ.
    pub reselected: bool,
    /// ε*(δ₀) from the box QP, if asked.
    pub box_eps: Option<f64>,
    /// The multipliers λ.
    #[serde(skip)]
    pub lambda: DVector<f64>,
    /// The margins q_i(θ̃).
    #[serde(skip)]
    pub margins: DVector<f64>,
}

/// The pieces of the multiplier problem at the parameters of `model`.
pub struct KktSystem {
    /// K = diag(y) J Jᵀ diag(y).
    pub k: DMatrix<f64>,
    /// b_i = y_i (Jθ)_i.
    pub b: DVector<f64>,
    /// q_i = y_i N(x_i).
    pub q: DVector<f64>,
}

/// Builds K, b and q for `model` on `data` (shapes must already be checked).
pub fn kkt_system(model: &dyn Model, data: &Binary) -> KktSystem {
    let y = data.y();
    let (out, mut k, jtheta) = model.kkt_parts(data.x());
    for i in 0..k.nrows() {
        for j in 0..k.ncols() {
            k[(i, j)] *= y[i] * y[j];
        }
    }
    KktSystem {
        k,
        b: jtheta.component_mul(y),
        q: out.component_mul(y),
    }
}

/// The residual θ − Σ_i λ_i g_i.
pub fn residual(model: &dyn Model, data: &Binary, lambda: &DVector<f64>) -> DVector<f64> {
    let c = lambda.component_mul(data.y());
    let mut r = model.vjp(data.x(), &c);
    r.axpy(1.0, model.params(), -1.0); // r = θ − Jᵀc without a second buffer
    r
}

/// ε, δ = max λ_i(q_i − 1), max λ_i|q_i − 1| and τ for given multipliers at the model's θ
/// (no normalisation).
pub fn evaluate(model: &dyn Model, data: &Binary, lambda: &DVector<f64>) -> (f64, f64, f64, f64) {
    let q = model.forward(data.x()).component_mul(data.y());
    let eps = residual(model, data, lambda).norm();
    let (delta, delta_abs) = slackness(lambda, &q);
    (eps, delta, delta_abs, (1.0 - q.min()).max(0.0))
}

/// (δ, δ_abs) = (max_i λ_i(q_i − 1), max_i λ_i|q_i − 1|).
pub(crate) fn slackness(lambda: &DVector<f64>, q: &DVector<f64>) -> (f64, f64) {
    let mut delta = f64::NEG_INFINITY;
    let mut delta_abs: f64 = 0.0;
    for i in 0..q.len() {
        delta = delta.max(lambda[i] * (q[i] - 1.0));
        delta_abs = delta_abs.max(lambda[i] * (q[i] - 1.0).abs());
    }
    (delta, delta_abs)
}

/// The homogeneity degree L, or the assumption error naming the model.
pub(crate) fn homogeneity(model: &dyn Model) -> Result<u32> {
    model.homogeneity().ok_or_else(|| {
        Error::assumption(
            "homogeneous model",
            format!("{} is not positively homogeneous; the KKT certificate of margin maximisation needs N(x; αθ) = α^L N(x; θ)", model.name()),
        )
    })
}

/// Normalises θ by q_min^{1/L} and certifies the result. Fails if the model is not homogeneous
/// or some margin is not positive (no normalisation exists).
///
/// The multiplier problem is solved once at θ and carried to θ̃ = θ/s, s = q_min^{1/L}, by the
/// scale covariance λ(θ̃) = s^{−(2−L)}λ(θ), ε(θ̃) = ε(θ)/s, q(θ̃) = q(θ)/q_min (exact for the
/// polished solution; `kkt.multipliers.solvers` gates it). With a box QP requested the
/// certificate is computed at θ̃ directly, because the box bounds are not covariant.
pub fn certify(model: &dyn Model, data: &Binary, opts: &CertifyOptions) -> Result<Certificate> {
    model.check_input(data.x())?;
    let l = homogeneity(model)?;
    if opts.box_delta.is_none() {
        return normalise(&certify_as_given(model, data, l, opts)?);
    }
    let q = model.forward(data.x()).component_mul(data.y());
    let q_min = positive_min(&q)?;
    let scale = q_min.powf(1.0 / l as f64);
    let mut normalised = model.boxed_clone();
    let theta = model.params() / scale;
    normalised.set_params(&theta)?;
    let mut c = certify_as_given(normalised.as_ref(), data, l, opts)?;
    c.q_min_raw = q_min;
    c.scale = scale;
    Ok(c)
}

/// min_i q_i, or the assumption error naming the point whose margin is not positive.
pub(crate) fn positive_min(q: &DVector<f64>) -> Result<f64> {
    let q_min = q.min();
    if !(q_min > 0.0) {
        let i = q.imin();
        return Err(Error::assumption(
            "positive margins",
            format!("point {i} has margin y·N(x) = {q_min:.6e} ≤ 0; the model does not separate the data, so θ cannot be normalised to q_min = 1"),
        ));
    }
    Ok(q_min)
}

/// The certificate on fixed data as the (ε, δ) a training trajectory records
/// ([`crate::train::Trajectory::with_kkt`]).
pub struct CertifyOn<'a>(pub &'a Binary);

impl crate::train::KktMeasure for CertifyOn<'_> {
    fn measure(&self, model: &dyn Model) -> Result<(f64, f64)> {
        let c = certify(model, self.0, &CertifyOptions::default())?;
        Ok((c.eps, c.delta))
    }
}

/// The certificate at θ̃ = θ/q_min^{1/L} from one computed at θ (see [`certify`]).
pub fn normalise(c: &Certificate) -> Result<Certificate> {
    let q_min = positive_min(&c.margins)?;
    let l = c.homogeneity as f64;
    let s = q_min.powf(1.0 / l);
    let lambda = &c.lambda * s.powf(l - 2.0);
    let margins = &c.margins / q_min;
    let (delta, delta_abs) = slackness(&lambda, &margins);
    let theta_norm = c.theta_norm / s;
    let eps = c.eps / s;
    Ok(Certificate {
        q_min_raw: q_min,
        scale: c.scale * s,
        theta_norm,
        eps,
        eps_rel: eps / theta_norm.max(f64::MIN_POSITIVE),
        delta,
        delta_abs,
        tau: (1.0 - margins.min()).max(0.0),
        lambda_sum: lambda.sum(),
        box_eps: None,
        lambda,
        margins,
        ..c.clone()
    })
}

/// Certifies θ exactly as given (no normalisation): τ then measures infeasibility.
pub fn certify_unnormalised(
    model: &dyn Model,
    data: &Binary,
    opts: &CertifyOptions,
) -> Result<Certificate> {
    model.check_input(data.x())?;
    let l = homogeneity(model)?;
    certify_as_given(model, data, l, opts)
}

/// The multipliers by the fastest exact route: with fewer parameters than points (K singular),
/// Lawson–Hanson on the tall Jacobian; otherwise the active set for positive-definite K; if the
/// route taken does not certify its answer, the interior point with the polish.
fn multipliers(model: &dyn Model, data: &Binary, sys: &KktSystem) -> Result<Multipliers> {
    // rank K ≤ p < n: K is singular, and the positive-definite route would only fail slowly.
    if model.n_params() >= data.n() {
        if let Some(m) = active_set(&sys.k, &sys.b) {
            return Ok(m);
        }
    } else {
        // G = [g_i] (p × n), g_i = y_i ∇_θ N(x_i).
        let mut g = model.jacobian(data.x()).transpose();
        for (mut col, &yi) in g.column_iter_mut().zip(data.y().iter()) {
            col *= yi;
        }
        if let Some(m) = multipliers::tall(&g, model.params(), &sys.k, &sys.b) {
            return Ok(m);
        }
    }
    nnls_qp_interior(&sys.k, &sys.b)
}

fn certify_as_given(
    model: &dyn Model,
    data: &Binary,
    l: u32,
    opts: &CertifyOptions,
) -> Result<Certificate> {
    let sys = kkt_system(model, data);
    let mult = multipliers(model, data, &sys)?;
    let theta_norm = model.params().norm();
    let choice = min_delta::choose(
        &sys.k,
        &sys.b,
        &sys.q,
        &mult.lambda,
        |l| residual(model, data, l).norm(),
        theta_norm,
    )?;
    let lambda = choice.lambda.clone();
    let eps = residual(model, data, &lambda).norm();
    let (delta, delta_abs) = slackness(&lambda, &sys.q);
    let lq = &sys.q * l as f64;
    let euler_gap = (&sys.b - &lq).amax() / sys.b.amax().max(f64::MIN_POSITIVE);
    let max_l = lambda.max();
    let support = lambda
        .iter()
        .filter(|&&v| v > SUPPORT_THRESHOLD * max_l && v > 0.0)
        .count();
    let box_eps = match opts.box_delta {
        None => None,
        Some(d0) => {
            let upper: Vec<Option<f64>> = sys
                .q
                .iter()
                .map(|&qi| (qi > 1.0 + ACTIVE_TOL).then(|| d0 / (qi - 1.0)))
                .collect();
            let (lb, _) = box_qp(&sys.k, &sys.b, &upper)?;
            Some(residual(model, data, &lb).norm())
        }
    };
    Ok(Certificate {
        homogeneity: l,
        q_min_raw: sys.q.min(),
        scale: 1.0,
        theta_norm,
        eps,
        eps_rel: eps / theta_norm.max(f64::MIN_POSITIVE),
        delta,
        delta_abs,
        tau: (1.0 - sys.q.min()).max(0.0),
        lambda_sum: lambda.sum(),
        euler_gap,
        support,
        status: mult.status,
        method: mult.method,
        polished: mult.polished,
        rank: choice.rank,
        unique: choice.unique,
        reselected: choice.reselected,
        box_eps,
        lambda,
        margins: sys.q,
    })
}

/// Multipliers implied by the training loss: λ_i = c·|ℓ'(q_i(θ))|, with the single scale c ≥ 0
/// fitted by least squares to the normalised θ̃. Returns (λ, ε) at θ̃. Gradient descent on Σℓ
/// accumulates exactly such weights, so this is the certificate the dynamics suggest.
pub fn loss_multipliers(
    model: &dyn Model,
    data: &Binary,
    loss: MarginLoss,
) -> Result<(DVector<f64>, f64)> {
    model.check_input(data.x())?;
    let l = homogeneity(model)?;
    let q = model.forward(data.x()).component_mul(data.y());
    let q_min = q.min();
    if !(q_min > 0.0) {
        return Err(Error::assumption(
            "positive margins",
            format!("min margin {q_min:.6e} ≤ 0"),
        ));
    }
    let weights = q.map(|v| -loss.deriv(v));
    let mut normalised = model.boxed_clone();
    normalised.set_params(&(model.params() / q_min.powf(1.0 / l as f64)))?;
    let u = normalised.vjp(data.x(), &weights.component_mul(data.y()));
    let uu = u.norm_squared();
    let c = if uu > 0.0 {
        (normalised.params().dot(&u) / uu).max(0.0)
    } else {
        0.0
    };
    let eps = (normalised.params() - &u * c).norm();
    Ok((weights * c, eps))
}
