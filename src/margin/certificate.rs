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

/// The support of λ: the number of multipliers above [`SUPPORT_THRESHOLD`] times the largest
/// (λ ≥ 0, so an all-zero λ has an empty support).
pub(crate) fn support_size(lambda: &DVector<f64>) -> usize {
    let threshold = SUPPORT_THRESHOLD * lambda.max();
    lambda.iter().filter(|&&v| v > threshold).count()
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
/// scale covariance (see [`Solved::normalised`]); the choice among residual minimisers (smallest
/// δ, which is not covariant) and the box QP are made at θ̃.
pub fn certify(model: &dyn Model, data: &Binary, opts: &CertifyOptions) -> Result<Certificate> {
    Solved::new(model, data)?.normalised(opts)
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

/// Certifies θ exactly as given (no normalisation): τ then measures infeasibility.
pub fn certify_unnormalised(
    model: &dyn Model,
    data: &Binary,
    opts: &CertifyOptions,
) -> Result<Certificate> {
    Solved::new(model, data)?.as_given(opts)
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

/// The multiplier problem solved once at the model's θ, from which the certificate at θ and at
/// the normalised θ̃ = θ/s both follow.
///
/// For an L-homogeneous model ∇_θN(x; θ/s) = s^{1−L}∇_θN(x; θ), so at θ̃ = θ/s the residual
/// minimisers are λ̃ = s^{L−2}λ, the residual is r̃(λ̃) = r(λ)/s and the margins q̃ = q/s^L.
/// What is not covariant is computed with q̃ but in θ's variables, with no rescaled copy of K:
/// δ̃(λ̃) = s^{L−2}·max λ_i(q̃_i − 1), so the residual minimiser of smallest δ̃
/// ([`min_delta::choose`], whose tolerances are all relative) is s^{L−2} times the one of
/// smallest max λ_i(q̃_i − 1) at θ; and the box QP ε*(δ₀) at θ̃ (λ̃_i ≤ δ₀/(q̃_i − 1)) is the box
/// QP at θ with bounds λ_i ≤ s^{2−L}δ₀/(q̃_i − 1), its residual divided by s.
pub struct Solved<'a> {
    model: &'a dyn Model,
    data: &'a Binary,
    homogeneity: u32,
    sys: KktSystem,
    mult: Multipliers,
}

impl<'a> Solved<'a> {
    /// Checks the input and the homogeneity, builds K, b, q and solves for λ at θ.
    pub fn new(model: &'a dyn Model, data: &'a Binary) -> Result<Self> {
        model.check_input(data.x())?;
        let homogeneity = homogeneity(model)?;
        let sys = kkt_system(model, data);
        let mult = multipliers(model, data, &sys)?;
        Ok(Self {
            model,
            data,
            homogeneity,
            sys,
            mult,
        })
    }

    /// The certificate of θ as given (no normalisation): τ measures infeasibility.
    pub fn as_given(&self, opts: &CertifyOptions) -> Result<Certificate> {
        self.at_scale(1.0, opts)
    }

    /// The certificate of θ̃ = θ/q_min^{1/L}, where q_min(θ̃) = 1; fails (an assumption error
    /// naming the point) if some margin is not positive.
    pub fn normalised(&self, opts: &CertifyOptions) -> Result<Certificate> {
        self.at_scale(positive_min(&self.sys.q)?, opts)
    }

    /// The certificate at θ/s with s = q_scale^{1/L} (q_scale = 1: θ itself). The margins are
    /// divided by q_scale = s^L directly, so q̃_min is exactly 1 after normalisation.
    fn at_scale(&self, q_scale: f64, opts: &CertifyOptions) -> Result<Certificate> {
        let (model, data, sys) = (self.model, self.data, &self.sys);
        let l = self.homogeneity as f64;
        let s = q_scale.powf(1.0 / l);
        let q = &sys.q / q_scale;
        // λ̃ = s^{L−2}λ (see the type's documentation).
        let carry = s.powf(l - 2.0);
        let eps_at_theta = |lambda: &DVector<f64>| residual(model, data, lambda).norm();
        let choice = min_delta::choose(
            &sys.k,
            &sys.b,
            &q,
            &self.mult.lambda,
            eps_at_theta,
            model.params().norm(),
        )?;
        let eps = eps_at_theta(&choice.lambda) / s;
        let lambda = &choice.lambda * carry;
        let theta_norm = model.params().norm() / s;
        let (delta, delta_abs) = slackness(&lambda, &q);
        // Euler's identity b_i = L·q_i, relative (scale-free).
        let euler_gap = (&sys.b - &sys.q * l).amax() / sys.b.amax().max(f64::MIN_POSITIVE);
        let support = support_size(&lambda);
        let box_eps = match opts.box_delta {
            None => None,
            Some(d0) => {
                let upper: Vec<Option<f64>> = q
                    .iter()
                    .map(|&qi| (qi > 1.0 + ACTIVE_TOL).then(|| d0 / (qi - 1.0) / carry))
                    .collect();
                let (lb, _) = box_qp(&sys.k, &sys.b, &upper)?;
                Some(eps_at_theta(&lb) / s)
            }
        };
        Ok(Certificate {
            homogeneity: self.homogeneity,
            q_min_raw: sys.q.min(),
            scale: s,
            theta_norm,
            eps,
            eps_rel: eps / theta_norm.max(f64::MIN_POSITIVE),
            delta,
            delta_abs,
            tau: (1.0 - q.min()).max(0.0),
            lambda_sum: lambda.sum(),
            euler_gap,
            support,
            status: self.mult.status,
            method: self.mult.method,
            polished: self.mult.polished,
            rank: choice.rank,
            unique: choice.unique,
            reselected: choice.reselected,
            box_eps,
            lambda,
            margins: q,
        })
    }
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
    let q_min = positive_min(&q)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::linear::Linear;

    /// Three points in R², all labelled +1: e₁, e₂ and (2, 2).
    fn three_points() -> Binary {
        Binary::new(
            DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 0.0, 1.0, 2.0, 2.0]),
            DVector::from_row_slice(&[1.0, 1.0, 1.0]),
        )
        .unwrap()
    }

    fn linear(w: &[f64]) -> Linear {
        Linear::new(DVector::from_row_slice(w))
    }

    /// θ = (1, 1) is the max-margin separator of the three points: θ = e₁ + e₂ with margins
    /// (1, 1, 4), so λ = (1, 1, 0), ε = δ = τ = 0, Σλ = ‖θ‖²/L = 2. The same certificate comes
    /// from θ = (3, 3) after normalisation (s = q_min = 3, λ carried by s^{L−2} = 1/3).
    #[test]
    fn an_exact_kkt_point_certifies_at_any_scale() {
        let data = three_points();
        for (w, s) in [(1.0, 1.0), (3.0, 3.0)] {
            let c = certify(&linear(&[w, w]), &data, &CertifyOptions::default()).unwrap();
            assert_eq!((c.homogeneity, c.scale, c.q_min_raw), (1, s, s));
            assert!((c.theta_norm - 2f64.sqrt()).abs() < 1e-15);
            assert!(c.eps < 1e-15 && c.eps_rel < 1e-15, "{}", c.eps);
            assert!(c.delta.abs() < 1e-15 && c.delta_abs < 1e-15, "{}", c.delta);
            assert_eq!(c.tau, 0.0);
            assert!((&c.lambda - DVector::from_row_slice(&[1.0, 1.0, 0.0])).amax() < 1e-15);
            assert!((c.lambda_sum - 2.0).abs() < 1e-15);
            assert_eq!(c.margins, DVector::from_row_slice(&[1.0, 1.0, 4.0]));
            assert_eq!(c.support, 2);
            assert!(c.euler_gap < 1e-15);
            // Three points in R²: λ is not unique (rank 2); the tall route solved it.
            assert_eq!((c.rank, c.unique), (2, false));
            assert_eq!(c.method, multipliers::Method::TallLawsonHanson);
            assert!(c.polished && c.box_eps.is_none());
            assert_eq!(c.status, QpStatus::Solved);
        }
    }

    /// θ̃ = (2, 1) has margins (2, 1, 6). Its residual minimisers are λ(t) = (2 − 2t, 1 − 2t, t),
    /// t ∈ [0, ½], all with ε = 0; δ(t) = max(2 − 2t, 5t) is smallest at t = 2/7: δ = 10/7.
    /// The certificate of θ = (4, 2) normalises to the same θ̃ and must report the same δ (the
    /// choice is made at θ̃: made at θ, where q = (4, 2, 12), it would pick t = 6/17 and δ =
    /// 30/17 at θ̃). As given, θ = (4, 2) has δ = min_t max(3(4 − 2t), 11t) = 132/17.
    #[test]
    fn the_delta_minimising_choice_is_made_at_the_normalised_parameters() {
        let data = three_points();
        let want = DVector::from_row_slice(&[10.0 / 7.0, 3.0 / 7.0, 2.0 / 7.0]);
        let mut seen = Vec::new();
        for w in [[2.0, 1.0], [4.0, 2.0]] {
            let c = certify(&linear(&w), &data, &CertifyOptions::default()).unwrap();
            // The LP's λ is exact to about 1e−9 (its vertex is re-polished on the support).
            assert!(
                (c.delta - 10.0 / 7.0).abs() < 1e-8,
                "{w:?}: δ = {}",
                c.delta
            );
            assert!((c.delta_abs - c.delta).abs() < 1e-15);
            assert!((&c.lambda - &want).amax() < 1e-8, "{w:?}: λ = {}", c.lambda);
            assert!(c.eps < 1e-12, "{}", c.eps);
            assert!(c.reselected && !c.unique);
            assert_eq!(c.margins, DVector::from_row_slice(&[2.0, 1.0, 6.0]));
            seen.push(c.delta);
        }
        assert!((seen[0] - seen[1]).abs() < 1e-12, "{seen:?}");
        let c =
            certify_unnormalised(&linear(&[4.0, 2.0]), &data, &CertifyOptions::default()).unwrap();
        assert!((c.delta - 132.0 / 17.0).abs() < 1e-7, "δ = {}", c.delta);
        assert_eq!((c.scale, c.tau), (1.0, 0.0));
        assert!((c.theta_norm - 20f64.sqrt()).abs() < 1e-15);
    }

    /// The box QP at θ̃ = (2, 1) (from θ = (4, 2)): λ₁ ≤ δ₀/1, λ₃ ≤ δ₀/5, λ₂ free. The first
    /// coordinate of the residual is at least 2 − δ₀ − 2δ₀/5, the second can be zeroed, so
    /// ε*(δ₀) = max(0, 2 − 7δ₀/5): 2 at δ₀ = 0, 0.6 at δ₀ = 1, 0 from δ₀ = 10/7 on.
    #[test]
    fn the_box_qp_trades_delta_for_epsilon() {
        let data = three_points();
        let m = linear(&[4.0, 2.0]);
        for (d0, want) in [(0.0, 2.0), (1.0, 0.6), (10.0 / 7.0, 0.0), (3.0, 0.0)] {
            let c = certify(
                &m,
                &data,
                &CertifyOptions {
                    box_delta: Some(d0),
                },
            )
            .unwrap();
            let e = c.box_eps.unwrap();
            assert!((e - want).abs() < 1e-8, "δ₀ = {d0}: ε* = {e}");
            assert_eq!((c.scale, c.q_min_raw), (2.0, 2.0));
        }
        assert!(certify(
            &m,
            &data,
            &CertifyOptions {
                box_delta: Some(-1.0)
            }
        )
        .is_err());
    }

    /// A two-layer ReLU net with fixed output weights (L = 1) at an exact KKT point (the
    /// class-aligned fixture): the certificate at θ and at 3θ agree, with s = q_min and the
    /// fixture's λ recovered.
    #[test]
    fn the_fixture_net_certifies_at_any_scale() {
        let f = (0..20)
            .find_map(|seed| {
                match super::super::fixture::class_aligned(
                    &mut crate::rng::seeded(seed, 0),
                    6,
                    200,
                    8,
                    100.0,
                )
                .unwrap()
                {
                    super::super::fixture::Draw::Accepted(f) => Some(f),
                    _ => None,
                }
            })
            .expect("an accepted fixture");
        let c1 = certify(&f.net, &f.data, &CertifyOptions::default()).unwrap();
        let mut big = f.net.clone();
        big.set_params(&(f.net.params() * 3.0)).unwrap();
        let c3 = certify(&big, &f.data, &CertifyOptions::default()).unwrap();
        assert_eq!(c1.homogeneity, 1);
        assert!(
            (c3.scale / c1.scale - 3.0).abs() < 1e-12,
            "{} {}",
            c1.scale,
            c3.scale
        );
        for c in [&c1, &c3] {
            assert!(
                c.eps_rel < 1e-12 && c.delta.abs() < 1e-10,
                "{} {}",
                c.eps_rel,
                c.delta
            );
            assert!((&c.lambda - &f.lambda).amax() < 1e-9 * f.lambda.amax());
            // Σλ = ‖θ̃‖²/L.
            assert!((c.lambda_sum - c.theta_norm.powi(2)).abs() < 1e-9 * c.lambda_sum);
            assert!(c.euler_gap < 1e-12);
            assert_eq!(c.support, 6);
        }
    }

    /// θ of a two-layer ReLU net on R² with four units: W row by row, then v.
    fn two_layer_theta() -> DVector<f64> {
        DVector::from_row_slice(&[
            1.0, 0.5, 0.5, 1.0, 1.0, 1.0, 0.2, 0.3, // W, row by row
            1.0, 0.5, 0.25, 1.0, // v
        ])
    }

    /// The net of [`two_layer_theta`]'s shape with trained output weights (L = 2) at `theta`.
    fn two_layer_net(theta: DVector<f64>) -> crate::model::TwoLayer {
        use crate::model::{Activation, OutputLayer, TwoLayer};
        TwoLayer::new(2, 4, Activation::Relu, false, OutputLayer::Trained, theta).unwrap()
    }

    /// A two-layer ReLU net with trained output weights (L = 2, 12 parameters, not a KKT point):
    /// q scales as c², so s = q_min^{1/2} grows by 3 from θ to 3θ, and λ̃ = s^{L−2}λ = λ: the
    /// two certificates agree. Euler's identity b_i = 2q_i holds.
    #[test]
    fn a_two_homogeneous_net_certifies_at_any_scale() {
        let (theta, net) = (two_layer_theta(), two_layer_net);
        let data = three_points();
        let c1 = certify(&net(theta.clone()), &data, &CertifyOptions::default()).unwrap();
        let c3 = certify(&net(theta * 3.0), &data, &CertifyOptions::default()).unwrap();
        assert_eq!(c1.homogeneity, 2);
        assert!((c3.q_min_raw / c1.q_min_raw - 9.0).abs() < 1e-12);
        assert!((c3.scale / c1.scale - 3.0).abs() < 1e-12);
        assert!((c1.scale - c1.q_min_raw.sqrt()).abs() < 1e-15);
        for (a, b) in [
            (c1.eps, c3.eps),
            (c1.delta, c3.delta),
            (c1.delta_abs, c3.delta_abs),
            (c1.lambda_sum, c3.lambda_sum),
            (c1.theta_norm, c3.theta_norm),
        ] {
            assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{a} vs {b}");
        }
        assert!((&c1.lambda - &c3.lambda).amax() < 1e-12 * c1.lambda.amax());
        assert!(c1.eps > 1e-3, "not a KKT point: ε = {}", c1.eps);
        assert!(c1.euler_gap < 1e-14 && c3.euler_gap < 1e-14);
        assert_eq!(c1.margins.min(), 1.0);
        assert_eq!(c1.method, multipliers::Method::ActiveSet);
    }

    /// K, b, q and the residual by hand: x₁ = (1, 0) with y = +1, x₂ = (1, 1) with y = −1,
    /// θ = (2, −1): Xθ = (2, 1), q = b = (2, −1) (L = 1), K = diag(y)XXᵀdiag(y) =
    /// [[1, −1], [−1, 2]]; with λ = (1, 2) the residual is θ − (1·e₁ − 2·(1, 1)) = (3, 1).
    #[test]
    fn the_kkt_system_and_residual_by_hand() {
        let data = Binary::new(
            DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 1.0, 1.0]),
            DVector::from_row_slice(&[1.0, -1.0]),
        )
        .unwrap();
        let m = linear(&[2.0, -1.0]);
        let sys = kkt_system(&m, &data);
        assert_eq!(
            sys.k,
            DMatrix::from_row_slice(2, 2, &[1.0, -1.0, -1.0, 2.0])
        );
        assert_eq!(sys.b, DVector::from_row_slice(&[2.0, -1.0]));
        assert_eq!(sys.q, DVector::from_row_slice(&[2.0, -1.0]));
        let lambda = DVector::from_row_slice(&[1.0, 2.0]);
        assert_eq!(
            residual(&m, &data, &lambda),
            DVector::from_row_slice(&[3.0, 1.0])
        );
        // evaluate: ε = √10, δ = max(1·1, 2·(−2)) = 1, δ_abs = max(1, 4) = 4, τ = 1 − (−1) = 2.
        let (eps, delta, delta_abs, tau) = evaluate(&m, &data, &lambda);
        assert!((eps - 10f64.sqrt()).abs() < 1e-15);
        assert_eq!((delta, delta_abs, tau), (1.0, 4.0, 2.0));
        // A misclassified point: no normalisation; the error names it.
        let e = certify(&m, &data, &CertifyOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Assumption { .. }), "{e}");
        assert!(e.to_string().contains("point 1"), "{e}");
        // As given it certifies, with τ = 2 measuring the infeasibility.
        let c = certify_unnormalised(&m, &data, &CertifyOptions::default()).unwrap();
        assert_eq!(c.tau, 2.0);
        // Two points in R²: K is positive definite and the active set solves it.
        assert_eq!(c.method, multipliers::Method::ActiveSet);
        assert_eq!((c.rank, c.unique, c.reselected), (2, true, false));
    }

    #[test]
    fn slackness_and_positive_min_by_hand() {
        let v = |x: &[f64]| DVector::from_row_slice(x);
        assert_eq!(slackness(&v(&[1.0, 2.0]), &v(&[0.5, 1.25])), (0.5, 0.5));
        assert_eq!(slackness(&v(&[1.0, 0.0]), &v(&[0.5, 3.0])), (0.0, 0.5));
        assert_eq!(slackness(&v(&[2.0]), &v(&[0.5])), (-1.0, 1.0));
        assert_eq!(positive_min(&v(&[3.0, 0.5, 2.0])).unwrap(), 0.5);
        for q in [[1.0, 0.0], [1.0, -2.0], [1.0, f64::NAN]] {
            let e = positive_min(&v(&q)).unwrap_err();
            assert!(matches!(e, Error::Assumption { .. }), "{q:?}");
        }
        assert!(positive_min(&v(&[1.0, -2.0]))
            .unwrap_err()
            .to_string()
            .contains("point 1"));
    }

    /// The loss's multipliers at θ = (1, 1) on the three points: weights σ(−q_i) (logistic),
    /// u = Σ w_i y_i x_i = a·(1, 1) with a = σ(−1) + 2σ(−4), so c = ⟨θ, u⟩/‖u‖² = 1/a and
    /// ε = 0. At θ = (2, 2) the weights are taken at q = (2, 2, 8) and θ̃ = (1, 1).
    #[test]
    fn loss_multipliers_by_hand() {
        let data = three_points();
        let sig = |t: f64| 1.0 / (1.0 + (-t).exp());
        for k in [1.0, 2.0] {
            let (lambda, eps) =
                loss_multipliers(&linear(&[k, k]), &data, MarginLoss::Logistic).unwrap();
            let w = [sig(-k), sig(-k), sig(-4.0 * k)];
            let a = w[0] + 2.0 * w[2];
            for i in 0..3 {
                assert!((lambda[i] - w[i] / a).abs() < 1e-14, "{k}: {lambda}");
            }
            assert!(eps < 1e-14, "{eps}");
        }
        // θ = (2, 1) is not parallel to u: ε > 0 and equals ‖θ̃ − c·u‖ by hand.
        let (_, eps) = loss_multipliers(&linear(&[2.0, 1.0]), &data, MarginLoss::Logistic).unwrap();
        let w = [sig(-2.0), sig(-1.0), sig(-6.0)];
        let u = [w[0] + 2.0 * w[2], w[1] + 2.0 * w[2]];
        let c = (2.0 * u[0] + u[1]) / (u[0] * u[0] + u[1] * u[1]);
        let want = ((2.0 - c * u[0]).powi(2) + (1.0 - c * u[1]).powi(2)).sqrt();
        assert!((eps - want).abs() < 1e-14, "{eps} vs {want}");
        let e = loss_multipliers(&linear(&[-1.0, 1.0]), &data, MarginLoss::Logistic);
        assert!(matches!(e, Err(Error::Assumption { .. })));
    }

    /// The support counts the multipliers above 10⁻⁹ times the largest, strictly: at max λ = 1
    /// an entry of exactly 10⁻⁹ is out; at max λ = 10³ (threshold 10⁻⁶) 10⁻⁵ is in and 10⁻⁷,
    /// 10⁻¹³ are out; an all-zero λ has an empty support.
    #[test]
    fn support_size_by_hand() {
        let v = |x: &[f64]| DVector::from_row_slice(x);
        assert_eq!(support_size(&v(&[1.0, 1e-9, 2e-9, 0.0])), 2);
        assert_eq!(support_size(&v(&[1e3, 1e-5, 1e-7, 1e-13, 0.0])), 2);
        assert_eq!(support_size(&v(&[0.0, 0.0])), 0);
        assert_eq!(support_size(&v(&[3.0])), 1);
    }

    /// A model that declares the wrong homogeneity degree: a linear model (L = 1) that says
    /// L = 2. Euler's identity b_i = L·q_i then fails by exactly b_i, and the certificate's
    /// `euler_gap` (relative to max |b_i|) reports it.
    #[derive(Clone)]
    struct DeclaresTwo(Linear);

    impl Model for DeclaresTwo {
        fn name(&self) -> String {
            self.0.name()
        }
        fn input_dim(&self) -> usize {
            self.0.input_dim()
        }
        fn params(&self) -> &DVector<f64> {
            self.0.params()
        }
        fn params_mut(&mut self) -> &mut DVector<f64> {
            self.0.params_mut()
        }
        fn homogeneity(&self) -> Option<u32> {
            Some(2)
        }
        fn forward(&self, x: &DMatrix<f64>) -> DVector<f64> {
            self.0.forward(x)
        }
        fn jvp(&self, x: &DMatrix<f64>, u: &DVector<f64>) -> DVector<f64> {
            self.0.jvp(x, u)
        }
        fn vjp(&self, x: &DMatrix<f64>, c: &DVector<f64>) -> DVector<f64> {
            self.0.vjp(x, c)
        }
        fn jacobian(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
            self.0.jacobian(x)
        }
        fn input_grad(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
            self.0.input_grad(x)
        }
        fn boxed_clone(&self) -> Box<dyn Model> {
            Box::new(self.clone())
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    /// θ = (1, 1) on the three points: q = b = (1, 1, 4). Declared L = 1 (the truth): gap 0.
    /// Declared L = 2: max |b − 2q| / max |b| = 4/4 = 1.
    #[test]
    fn the_euler_gap_reports_a_wrong_homogeneity_degree() {
        let data = three_points();
        let opts = CertifyOptions::default();
        let honest = certify(&linear(&[1.0, 1.0]), &data, &opts).unwrap();
        assert_eq!(honest.euler_gap, 0.0);
        let lying = certify(&DeclaresTwo(linear(&[1.0, 1.0])), &data, &opts).unwrap();
        assert_eq!(lying.homogeneity, 2);
        assert_eq!(lying.euler_gap, 1.0);
    }

    /// The loss's multipliers of a 2-homogeneous net are fitted at θ̃ = θ/q_min^{1/2}: ε is the
    /// residual of the returned λ at that θ̃ (computed here by the dense residual), and the same
    /// net with θ scaled by 3 has the same θ̃. q_min ≠ 1, so a wrong root of q_min shows.
    #[test]
    fn loss_multipliers_normalise_a_two_homogeneous_net() {
        let (theta, net) = (two_layer_theta(), two_layer_net);
        let data = three_points();
        let q_min = net(theta.clone())
            .forward(data.x())
            .component_mul(data.y())
            .min();
        assert!((q_min - 1.0).abs() > 0.1, "q_min = {q_min}");
        let (lambda, eps) =
            loss_multipliers(&net(theta.clone()), &data, MarginLoss::Logistic).unwrap();
        let at_theta_tilde = residual(&net(&theta / q_min.sqrt()), &data, &lambda).norm();
        assert!(eps > 1e-3, "not a KKT point: ε = {eps}");
        assert!(
            (eps - at_theta_tilde).abs() <= 1e-12 * eps,
            "{eps} vs {at_theta_tilde}"
        );
        // θ̃ is scale-free, so the residual of the λ fitted at 3θ is again at the same θ̃.
        let theta_tilde = &theta / q_min.sqrt();
        let (lambda3, eps3) =
            loss_multipliers(&net(theta * 3.0), &data, MarginLoss::Logistic).unwrap();
        let again = residual(&net(theta_tilde), &data, &lambda3).norm();
        assert!((eps3 - again).abs() <= 1e-12 * eps3, "{eps3} vs {again}");
    }

    /// What a trajectory records is the certificate's (ε, δ).
    #[test]
    fn certify_on_measures_epsilon_and_delta() {
        use crate::train::KktMeasure;
        let data = three_points();
        let m = linear(&[4.0, 2.0]);
        let (eps, delta) = CertifyOn(&data).measure(&m).unwrap();
        let c = certify(&m, &data, &CertifyOptions::default()).unwrap();
        assert_eq!((eps, delta), (c.eps, c.delta));
        assert!(delta > 1.0);
    }
}
