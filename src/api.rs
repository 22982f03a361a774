//! The operations on a user's own model and data, shared by the command line and the Python
//! module: certify, unlearn (with the retraining baseline), attack and explain. Each validates its
//! request with one set of messages and returns a typed, serialisable report, so a CLI line and a
//! Python call on the same input give the same numbers and the same errors.

use crate::attack::{AutoAttackConfig, MaltConfig, Norm, PipelineReport, Stage};
use crate::budget::Budget;
use crate::data::Binary;
use crate::error::{Error, Result};
use crate::explain::images::{explain_images, Patches};
use crate::explain::{param_hash, Scores};
use crate::linalg::cosine;
use crate::loss::MarginLoss;
use crate::margin::certificate::{
    certify as certify_model, loss_multipliers, Certificate, CertifyOptions,
};
use crate::model::{Classifier, Linear, Mlp, Model};
use crate::train::{observer::NoObserver, TrainConfig};
use crate::unlearn::Unlearned;
use nalgebra::DMatrix;
use serde::Serialize;

/// The KKT certificate of a user's model with the facts a reader needs beside it.
#[derive(Clone, Debug, Serialize)]
pub struct CertifyReport {
    /// The certificate (ε, δ, τ, λ, status, …).
    #[serde(flatten)]
    pub certificate: Certificate,
    /// The model's name.
    pub model: String,
    /// Points certified.
    pub n: usize,
    /// ε of the multipliers implied by the logistic loss, where they exist.
    pub loss_implied_eps: Option<f64>,
}

/// Certifies `model` on `data`; `box_delta` adds the box QP ε*(δ₀).
pub fn certify(model: &dyn Model, data: &Binary, box_delta: Option<f64>) -> Result<CertifyReport> {
    if let Some(d) = box_delta {
        if !(d >= 0.0 && d.is_finite()) {
            return Err(Error::input(format!(
                "box_delta (--box-delta) must be a finite number ≥ 0, got {d}"
            )));
        }
    }
    let certificate = certify_model(model, data, &CertifyOptions { box_delta })?;
    let loss_implied_eps = loss_multipliers(model, data, MarginLoss::Logistic)
        .map(|(_, e)| e)
        .ok();
    Ok(CertifyReport {
        certificate,
        model: model.name(),
        n: data.n(),
        loss_implied_eps,
    })
}

/// How the multipliers of a certificate are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    /// Dense when it fits the memory budget and its flop estimate is at most
    /// [`DENSE_MAX_FLOPS`], else matrix-free.
    Auto,
    /// The exact certificate from the n × n Gram matrix.
    Dense,
    /// Jacobian-vector products only: ε bracketed between bounds ([`crate::margin::matrix_free`]).
    MatrixFree,
}

impl Route {
    /// Parses `auto`, `dense` or `matrix-free`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "dense" => Ok(Self::Dense),
            "matrix-free" => Ok(Self::MatrixFree),
            other => Err(Error::input(format!(
                "route (--route) must be auto, dense or matrix-free, got `{other}`"
            ))),
        }
    }
}

/// Largest flop estimate ([`dense_certificate_flops`]) the automatic route certifies densely
/// (≈ 10–20 s on the reference machine; n = 4,000, d = 5,000 linear: 4.7 s) \[pilot\].
pub const DENSE_MAX_FLOPS: f64 = 5e11;

/// Flops of the dense certificate: the Gram product n²·min(p, d + p/d) (the two-layer net's is
/// structured, (XXᵀ)∘(A Aᵀ), so d + m per entry), then either a few Cholesky factorisations of
/// K (2n³ for p ≥ n) or, when p < n and K is singular, Lawson–Hanson on the tall Jacobian
/// (≈ n·p²).
pub fn dense_certificate_flops(n: usize, p: usize, d: usize) -> f64 {
    let (n, p, d) = (n as f64, p as f64, d.max(1) as f64);
    let gram = n * n * p.min(d + p / d);
    gram + if p < n { n * p * p } else { 2.0 * n * n * n }
}

/// Memory of the dense certificate: six n × n matrices (K, the block principal pivoting's K_FF
/// and its factor, the rank test's factor, the Gram product's workspace) and three n × min(p, n)
/// (the tall Lawson–Hanson route forms the Jacobian when p < n) \[pilot: the scaling bench's
/// peak RSS stays below this estimate at every measured size\].
pub fn dense_certificate_bytes(n: usize, p: usize) -> f64 {
    let (n, p) = (n as f64, p as f64);
    crate::budget::f64s(6.0 * n * n + 3.0 * n * p.min(n))
}

/// Memory of the matrix-free certificate: a dozen n- and p-vectors and the model's per-point
/// intermediates, four n × (p/d) (the two-layer net's cached gates and product workspaces, p/d ≈
/// m; one column for a linear model).
pub fn matrix_free_bytes(n: usize, p: usize, d: usize) -> f64 {
    let (n, p, d) = (n as f64, p as f64, d.max(1) as f64);
    crate::budget::f64s(12.0 * (n + p) + 4.0 * n * (p / d).ceil())
}

/// A certificate request beyond the model and the data.
#[derive(Clone, Debug)]
pub struct CertifyRequest {
    /// Also the box QP ε*(δ₀) (dense route only).
    pub box_delta: Option<f64>,
    /// The route.
    pub route: Route,
    /// Matrix-free options (iterations, gap).
    pub matrix_free: crate::margin::matrix_free::Options,
    /// The memory budget.
    pub budget: crate::budget::Budget,
}

impl Default for CertifyRequest {
    fn default() -> Self {
        Self {
            box_delta: None,
            route: Route::Auto,
            matrix_free: Default::default(),
            budget: Default::default(),
        }
    }
}

/// The matrix-free certificate with the facts a reader needs beside it.
#[derive(Clone, Debug, Serialize)]
pub struct MatrixFreeReport {
    /// The bracketed certificate.
    #[serde(flatten)]
    pub certificate: crate::margin::matrix_free::MatrixFreeCertificate,
    /// The model's name.
    pub model: String,
    /// Points certified.
    pub n: usize,
}

/// A certificate by either route.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "route", rename_all = "kebab-case")]
pub enum CertifyOutcome {
    /// Exact, from the Gram matrix.
    Dense(CertifyReport),
    /// Bracketed, from Jacobian-vector products.
    MatrixFree(MatrixFreeReport),
}

/// Certifies by the requested route; `progress(iteration, upper, lower)` reports the matrix-free
/// bracket as it narrows. The route's memory estimate is checked against the budget first.
pub fn certify_with(
    model: &dyn Model,
    data: &Binary,
    req: &CertifyRequest,
    progress: crate::margin::matrix_free::Progress<'_>,
) -> Result<CertifyOutcome> {
    // Both routes validate the model against the data themselves.
    let (n, p) = (data.n(), model.n_params());
    let dense_bytes = dense_certificate_bytes(n, p);
    let route = match req.route {
        Route::Auto
            if dense_certificate_flops(n, p, model.input_dim()) <= DENSE_MAX_FLOPS
                && req.budget.fits(dense_bytes) =>
        {
            Route::Dense
        }
        Route::Auto => Route::MatrixFree,
        r => r,
    };
    if route == Route::MatrixFree && req.box_delta.is_some() {
        return Err(Error::input(
            "--box-delta needs the dense route (the box QP is solved on the Gram matrix)",
        ));
    }
    match route {
        Route::Dense => {
            req.budget.check(
                &format!("the dense certificate of {n} points"),
                dense_bytes,
                "use --route matrix-free (or auto), or raise --max-memory",
            )?;
            Ok(CertifyOutcome::Dense(certify(model, data, req.box_delta)?))
        }
        _ => {
            req.budget.check(
                &format!("the matrix-free certificate of {n} points with {p} parameters"),
                matrix_free_bytes(n, p, model.input_dim()),
                "raise --max-memory",
            )?;
            let certificate =
                crate::margin::matrix_free::certify(model, data, &req.matrix_free, progress)?;
            Ok(CertifyOutcome::MatrixFree(MatrixFreeReport {
                certificate,
                model: model.name(),
                n,
            }))
        }
    }
}

/// Which multipliers the gradient-ascent step uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Multipliers {
    /// The KKT certificate's λ (NNLS on S).
    Certificate,
    /// The multipliers implied by the logistic loss.
    Loss,
}

impl Multipliers {
    /// Parses `certificate` or `loss`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "certificate" => Ok(Self::Certificate),
            "loss" => Ok(Self::Loss),
            other => Err(Error::input(format!(
                "multipliers must be `certificate` or `loss`, got `{other}`"
            ))),
        }
    }
}

/// A quantity for the original and the unlearned model.
#[derive(Clone, Debug, Serialize)]
pub struct Pair<T> {
    /// Of the original model (at the KKT scale).
    pub original: T,
    /// Of the unlearned model.
    pub unlearned: T,
}

/// A quantity for the original, unlearned and retrained models.
#[derive(Clone, Debug, Serialize)]
pub struct Three<T> {
    /// Of the original model.
    pub original: T,
    /// Of the unlearned model.
    pub unlearned: T,
    /// Of the retraining baseline.
    pub retrained: T,
}

/// The retraining baseline of one unlearning and how the unlearned model compares with it.
#[derive(Serialize)]
pub struct Retraining {
    /// How the baseline was obtained.
    pub baseline: String,
    /// Fraction of S_r where the sign of the prediction agrees with the baseline's.
    pub retained_prediction_agreement: Pair<f64>,
    /// Mean |margin/q_min − that of the baseline| over S_r.
    pub retained_mean_normalised_margin_gap: Pair<f64>,
    /// cos(θ, θ_ret).
    pub cos_original_retrained: f64,
    /// cos(θ', θ_ret).
    pub cos_unlearned_retrained: f64,
    /// q_r/q_min(S_r) of each forgotten point.
    pub forgotten_margin_over_qmin: Three<Vec<f64>>,
    /// The retrained model.
    #[serde(skip)]
    pub model: Box<dyn Model>,
}

/// An unlearning request on a user's model.
pub struct UnlearnRequest<'a> {
    /// The forget set (indices into the data).
    pub forget: &'a [usize],
    /// The step fraction c (1 is the theorem's step).
    pub fraction: f64,
    /// Which multipliers.
    pub multipliers: Multipliers,
    /// The initialisation, for a GD retraining baseline.
    pub init: Option<&'a dyn Model>,
    /// Its learning rate (default: the two-layer rule of the suite).
    pub lr: Option<f64>,
    /// Its steps.
    pub steps: usize,
}

/// An unlearned model, its measurements, and the retraining comparison where a baseline exists.
pub struct UnlearnOutcome {
    /// The unlearned model and the report.
    pub unlearned: Unlearned,
    /// The comparison with retraining (GD from `init`, or the SVM of S_r for a linear model).
    pub retraining: Option<Retraining>,
}

/// Unlearns `req.forget` from `model` trained on `data`, and compares with retraining.
pub fn unlearn(
    model: &dyn Model,
    data: &Binary,
    req: &UnlearnRequest<'_>,
) -> Result<UnlearnOutcome> {
    if !(req.fraction >= 0.0 && req.fraction.is_finite()) {
        return Err(Error::input(format!(
            "fraction (--fraction) must be a finite number ≥ 0, got {}",
            req.fraction
        )));
    }
    crate::unlearn::validate_forget(req.forget, data.n())?;
    crate::limits::at_most("steps (--steps)", req.steps, crate::limits::MAX_STEPS)?;
    if let Some(init) = req.init {
        crate::limits::check_flops(
            "retraining from the initialisation",
            6.0 * req.steps as f64 * data.n() as f64 * model.n_params() as f64,
            "lower --steps",
        )?;
        if init.n_params() != model.n_params() || init.name() != model.name() {
            return Err(Error::shape(format!(
                "the initialisation ({}, {} parameters) is not the model's ({}, {} parameters)",
                init.name(),
                init.n_params(),
                model.name(),
                model.n_params()
            )));
        }
    }
    let lambda = match req.multipliers {
        Multipliers::Loss => Some(loss_multipliers(model, data, MarginLoss::Logistic)?.0),
        Multipliers::Certificate => None,
    };
    let u = crate::unlearn::unlearn(model, data, req.forget, req.fraction, lambda.as_ref())?;
    let keep = crate::unlearn::retained(data.n(), req.forget);
    let retained = data.subset(&keep);
    let baseline: Option<(Box<dyn Model>, &str)> = if let Some(init) = req.init {
        let mut r = init.boxed_clone();
        let lr = req
            .lr
            .unwrap_or_else(|| crate::checks::common::two_layer_lr(data));
        crate::train::train(
            r.as_mut(),
            &retained,
            &TrainConfig::new(lr, req.steps, MarginLoss::Logistic),
            &mut NoObserver,
        )?;
        Some((r, "GD on S_r from the same initialisation"))
    } else if model.as_any().is::<Linear>() {
        Some((
            Box::new(Linear::new(crate::margin::svm::hard_margin(&retained)?.w)),
            "hard-margin SVM of S_r",
        ))
    } else {
        None
    };
    let retraining = baseline.map(|(r, how)| {
        let margin = |m: &dyn Model| {
            let q = m.forward(data.x()).component_mul(data.y());
            let qmin = keep.iter().map(|&i| q[i]).fold(f64::INFINITY, f64::min);
            req.forget.iter().map(|&f| q[f] / qmin).collect::<Vec<_>>()
        };
        let normalised = |m: &dyn Model| {
            let q = m.forward(retained.x()).component_mul(retained.y());
            let qmin = q.min();
            q / qmin
        };
        let qr = normalised(r.as_ref());
        let gap = |m: &dyn Model| (normalised(m) - &qr).abs().mean();
        let agree = |m: &dyn Model| {
            let (a, b) = (m.forward(retained.x()), r.forward(retained.x()));
            a.iter()
                .zip(b.iter())
                .filter(|(x, y)| (**x > 0.0) == (**y > 0.0))
                .count() as f64
                / retained.n() as f64
        };
        let (o, n) = (u.original.as_ref(), u.model.as_ref());
        Retraining {
            baseline: how.to_string(),
            retained_prediction_agreement: Pair {
                original: agree(o),
                unlearned: agree(n),
            },
            retained_mean_normalised_margin_gap: Pair {
                original: gap(o),
                unlearned: gap(n),
            },
            cos_original_retrained: cosine(o.params(), r.params()),
            cos_unlearned_retrained: cosine(n.params(), r.params()),
            forgotten_margin_over_qmin: Three {
                original: margin(o),
                unlearned: margin(n),
                retrained: margin(r.as_ref()),
            },
            model: r,
        }
    });
    Ok(UnlearnOutcome {
        unlearned: u,
        retraining,
    })
}

/// Which attack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// MALT targeting with targeted APGD.
    Malt,
    /// APGD-T alone.
    ApgdT,
    /// The AutoAttack standard pipeline.
    Autoattack,
}

impl Method {
    /// Parses `malt`, `apgd-t` or `autoattack`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "malt" => Ok(Self::Malt),
            "apgd-t" => Ok(Self::ApgdT),
            "autoattack" => Ok(Self::Autoattack),
            other => Err(Error::input(format!(
                "method must be `malt`, `apgd-t` or `autoattack`, got `{other}`"
            ))),
        }
    }
}

/// Parses `linf` or `l2`.
pub fn parse_norm(s: &str) -> Result<Norm> {
    match s {
        "linf" => Ok(Norm::Linf),
        "l2" => Ok(Norm::L2),
        other => Err(Error::input(format!(
            "norm must be `linf` or `l2`, got `{other}`"
        ))),
    }
}

/// An attack request.
#[derive(Clone, Debug)]
pub struct AttackRequest {
    /// The threat model's norm.
    pub norm: Norm,
    /// The radius ε.
    pub eps: f64,
    /// Which attack.
    pub method: Method,
    /// APGD iterations.
    pub iters: usize,
    /// Targets (MALT's k, APGD-T's targets).
    pub k: usize,
    /// MALT's candidate count (default K − 1).
    pub testk: Option<usize>,
    /// The seed.
    pub seed: u64,
    /// For `autoattack`: the stages to run, in order (empty: the standard four).
    pub attacks: Vec<Stage>,
    /// FAB-T's number of targets (default: `k`).
    pub fab_k: Option<usize>,
    /// Square's query budget.
    pub square_queries: usize,
    /// Square's window offsets (the reference's by default).
    pub square_offsets: crate::attack::square::Offsets,
}

impl AttackRequest {
    /// The defaults of `dimple attack`: 100 iterations, k = 9, seed 0, the standard stages,
    /// 5000 Square queries with the reference's offsets.
    pub fn new(norm: Norm, eps: f64, method: Method) -> Self {
        Self {
            norm,
            eps,
            method,
            iters: 100,
            k: 9,
            testk: None,
            seed: 0,
            attacks: Vec::new(),
            fab_k: None,
            square_queries: 5000,
            square_offsets: Default::default(),
        }
    }
}

/// Attacks `model` on (x, y).
pub fn attack(
    model: &Mlp,
    x: &DMatrix<f64>,
    y: &[usize],
    req: &AttackRequest,
) -> Result<PipelineReport> {
    attack_with(model, x, y, req, &mut |_| {})
}

/// [`attack`], calling `progress` with a line at the start of each stage or target rank.
pub fn attack_with(
    model: &Mlp,
    x: &DMatrix<f64>,
    y: &[usize],
    req: &AttackRequest,
    progress: &mut dyn FnMut(&str),
) -> Result<PipelineReport> {
    if !(req.eps > 0.0 && req.eps.is_finite()) {
        return Err(Error::input(format!(
            "eps (--eps): ε must be positive and finite, got {}",
            req.eps
        )));
    }
    if x.nrows() == 0 {
        return Err(Error::input("no points to attack"));
    }
    if y.len() != x.nrows() {
        return Err(Error::shape(format!(
            "{} labels for {} points",
            y.len(),
            x.nrows()
        )));
    }
    if x.ncols() != model.input_dim() {
        return Err(Error::shape(format!(
            "the model takes {} features, the data have {}",
            model.input_dim(),
            x.ncols()
        )));
    }
    if let Some(&l) = y.iter().find(|&&l| l >= model.classes()) {
        return Err(Error::input(format!(
            "label {l} is out of range for a {}-class model",
            model.classes()
        )));
    }
    if req.k == 0 || req.k > model.classes() - 1 {
        return Err(Error::input(format!(
            "k (--k) must lie in 1..=K − 1 = {} for a K = {}-class model, got {}",
            model.classes() - 1,
            model.classes(),
            req.k
        )));
    }
    crate::error::ensure_finite("the points to attack", x.as_slice())?;
    match req.method {
        Method::Malt => {
            let mut cfg = MaltConfig::new(req.norm, req.eps, model.classes());
            cfg.k = req.k;
            cfg.testk = req.testk.unwrap_or(model.classes() - 1);
            cfg.n_iter = req.iters;
            cfg.seed = req.seed;
            Ok(crate::attack::malt::malt_with(model, x, y, &cfg, progress)?.pipeline)
        }
        method => {
            if !(1..=crate::limits::MAX_ITERS).contains(&req.square_queries) {
                return Err(Error::input(format!(
                    "square_queries (--square-queries) must lie in 1..={}, got {}",
                    crate::limits::MAX_ITERS,
                    req.square_queries
                )));
            }
            let mut cfg = AutoAttackConfig::standard(req.norm, req.eps);
            cfg.n_iter = req.iters;
            cfg.targets = req.k;
            cfg.fab_targets = req.fab_k.unwrap_or(req.k);
            cfg.seed = req.seed;
            cfg.square_queries = req.square_queries;
            cfg.square_offsets = req.square_offsets;
            if method == Method::ApgdT {
                cfg.stages = vec![Stage::ApgdT];
            } else if !req.attacks.is_empty() {
                cfg.stages = req.attacks.clone();
            }
            crate::attack::autoattack::autoattack_with(model, x, y, &cfg, progress)
        }
    }
}

/// Explains images x (rows) with labels y from f₀ and its surrogates by p × p patches: per image,
/// the scores, or the reason it does not pass the method's preconditions.
pub fn explain(
    f0: &Mlp,
    surrogates: &[Mlp],
    x: &DMatrix<f64>,
    y: &[usize],
    patch: usize,
) -> Result<Vec<Result<Scores>>> {
    if surrogates.len() < 3 {
        return Err(Error::input(format!(
            "{} surrogate(s) given; the method needs at least 3 that agree with the label",
            surrogates.len()
        )));
    }
    let h0 = param_hash(f0.params());
    let mut seen = vec![h0];
    for (i, m) in surrogates.iter().enumerate() {
        let h = param_hash(m.params());
        if h == h0 {
            return Err(Error::input(format!(
                "surrogate {} has the same parameters as the explained model",
                i + 1
            )));
        }
        if seen.contains(&h) {
            return Err(Error::input(format!(
                "surrogate {} repeats another surrogate's parameters (copies inflate the agreement)",
                i + 1
            )));
        }
        seen.push(h);
    }
    if y.len() != x.nrows() {
        return Err(Error::shape(format!(
            "{} labels for {} images",
            y.len(),
            x.nrows()
        )));
    }
    if x.nrows() == 0 {
        return Err(Error::input("no images to explain"));
    }
    let patches = Patches::new(x.ncols(), patch)?;
    let mut models: Vec<&dyn Classifier> = vec![f0];
    models.extend(surrogates.iter().map(|m| m as &dyn Classifier));
    explain_images(&models, x, y, patches)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1024.0 * 1024.0;

    #[test]
    fn memory_estimates_cover_the_measured_peaks() {
        // Peak RSS of `cargo bench --bench certify_scaling` (whole process, data included):
        // linear d = 5,000 dense at n = 4,000: 524 MiB; two-layer (m = 256, d = 784) dense at
        // n = 8,000: 1,566 MiB; matrix-free at n = 20,000: 223 MiB, of which the data are 120.
        let dense_linear = dense_certificate_bytes(4000, 5000);
        assert!(
            dense_linear >= 524.0 * MIB - 8.0 * 4000.0 * 5000.0,
            "{dense_linear}"
        );
        assert!(dense_linear <= 4.0 * 524.0 * MIB, "{dense_linear}");
        let dense_two_layer = dense_certificate_bytes(8000, 784 * 256);
        assert!(
            dense_two_layer >= 1566.0 * MIB - 8.0 * 8000.0 * 784.0,
            "{dense_two_layer}"
        );
        assert!(dense_two_layer <= 4.0 * 1566.0 * MIB, "{dense_two_layer}");
        let mf = matrix_free_bytes(20_000, 784 * 256, 784);
        assert!(
            ((223.0 - 120.0) * MIB..=4.0 * 223.0 * MIB).contains(&mf),
            "{mf}"
        );
        // The tall route's Jacobian enters only when p < n.
        assert!(dense_certificate_bytes(1000, 10) < dense_certificate_bytes(1000, 5000));
    }

    #[test]
    fn auto_route_follows_the_flop_estimate() {
        // n = 4,000, d = 5,000 linear (measured 4.6 s) is dense; n = 8,000 with p = 5,000 < n
        // (K singular, the tall route ≈ n·p²) and the two-layer net at n = 20,000 are not.
        assert!(dense_certificate_flops(4000, 5000, 5000) <= DENSE_MAX_FLOPS);
        assert!(dense_certificate_flops(8000, 5000, 5000) > DENSE_MAX_FLOPS);
        assert!(dense_certificate_flops(20_000, 784 * 256, 784) > DENSE_MAX_FLOPS);
        assert!(dense_certificate_flops(4000, 784 * 256, 784) <= DENSE_MAX_FLOPS);
    }
}

/// The instance `dimple unlearn` generates without a user model: V1 (a two-layer net with fixed
/// output weights ±1/√m) trained by GD on `n` points on the sphere in R^d (arXiv:2510.14844's
/// setting; the same instances as the `unlearn.twolayer.*` checks).
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedSpec {
    /// Points.
    pub n: usize,
    /// Dimension.
    pub d: usize,
    /// Width (even: half the output weights +1/√m, half −1/√m).
    pub m: usize,
    /// GD steps.
    pub steps: usize,
    /// Seed of the data, the initialisation and the training.
    pub seed: u64,
}

impl Default for GeneratedSpec {
    fn default() -> Self {
        Self {
            n: 6,
            d: 1000,
            m: 8,
            steps: 2000,
            seed: 0,
        }
    }
}

impl GeneratedSpec {
    /// The defaults with `name=value` overrides (n, d, m, steps, seed), each checked: unknown
    /// names, non-integers, values outside the assumptions, and runs above the caps or the
    /// memory budget are refused.
    pub fn from_overrides(overrides: &[(String, f64)], budget: &Budget) -> Result<Self> {
        let mut s = Self::default();
        for (k, v) in overrides {
            let int = |cap: f64| -> Result<f64> {
                if !(v.is_finite() && *v >= 0.0 && v.fract() == 0.0 && *v <= cap) {
                    return Err(Error::input(format!(
                        "--set {k} = {v} must be an integer in 0..={cap}"
                    )));
                }
                Ok(*v)
            };
            match k.as_str() {
                "n" => s.n = int(1e6)? as usize,
                "d" => s.d = int(1e9)? as usize,
                "m" => s.m = int(1e6)? as usize,
                "steps" => s.steps = int(crate::limits::MAX_STEPS as f64)? as usize,
                "seed" => s.seed = int(crate::limits::MAX_SEED as f64)? as u64,
                other => {
                    return Err(Error::input(format!(
                    "unknown parameter `{other}` of the generated instance (n, d, m, steps, seed)"
                )))
                }
            }
        }
        if s.m < 2 || s.m % 2 != 0 {
            return Err(Error::assumption(
                "even width",
                format!("m = {} must be even and ≥ 2 (v_j = ±1/√m)", s.m),
            ));
        }
        if s.n < 2 || s.d < 1 {
            return Err(Error::assumption(
                "sizes",
                format!("need n ≥ 2 and d ≥ 1; got n = {}, d = {}", s.n, s.d),
            ));
        }
        let (n, d, m) = (s.n as f64, s.d as f64, s.m as f64);
        // Data, weights, and the certificate's Jacobian n × md (four copies alive at most).
        budget.check(
            &format!(
                "the generated instance (n = {}, d = {}, m = {})",
                s.n, s.d, s.m
            ),
            32.0 * (n * d + m * d + n * m * d),
            "lower n, d or m, or raise --max-memory",
        )?;
        crate::limits::check_flops(
            "training the generated instance",
            6.0 * s.steps as f64 * n * m * d,
            "lower steps, n, d or m",
        )?;
        Ok(s)
    }

    /// Trains the instance: the model at the KKT scale, its data, its initialisation and the
    /// learning rate it was trained with.
    pub fn generate(&self) -> Result<GeneratedInstance> {
        let t = crate::checks::unlearn::instances::trained_v1(
            self.seed, self.n, self.d, self.m, self.steps,
        )?;
        Ok(GeneratedInstance {
            model: Box::new(t.net),
            data: t.data,
            init: Box::new(t.init),
            lr: t.lr,
        })
    }
}

/// A generated unlearning instance.
pub struct GeneratedInstance {
    /// The trained model (at the KKT scale).
    pub model: Box<dyn Model>,
    /// Its training data.
    pub data: Binary,
    /// The initialisation it was trained from.
    pub init: Box<dyn Model>,
    /// The learning rate it was trained with.
    pub lr: f64,
}

/// Figure 1 of arXiv:2510.14844: ε_rel on the retained set of θ̃ − c·Σ_{r∈F} λ_r y_r ∇N(x_r)
/// for c = 0, 0.05, …, 2 (41 points), from the unlearning outcome `u` on `data`.
pub fn step_sweep(u: &Unlearned, data: &Binary) -> Result<Vec<(f64, f64)>> {
    (0..=40)
        .map(|k| {
            let c = k as f64 / 20.0;
            let m = crate::unlearn::ga_step(
                u.original.as_ref(),
                data,
                &u.report.before.lambda,
                &u.report.forget,
                c,
            )?;
            let e = crate::margin::certificate::certify_unnormalised(
                m.as_ref(),
                &u.retained,
                &Default::default(),
            )?
            .eps;
            Ok((c, e / m.params().norm()))
        })
        .collect()
}
