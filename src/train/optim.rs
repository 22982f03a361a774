//! Gradient methods beyond plain full-batch GD, for the invariance checks of subspace.md §3:
//! minibatch SGD, Adam, multiplicative weight decay and the non-squared first-layer penalty
//! λ‖θ₁‖₂ of the reference `chess` code.
//!
//! Updates, with g the gradient of the mean margin loss over the (mini)batch:
//! - GD/SGD: θ ← (1 − κ)θ − ηg;
//! - Adam: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← (1 − κ)θ − η m̂/(√v̂ + ε)
//!   (bias-corrected; the decay is decoupled from the gradient, as in AdamW, Loshchilov & Hutter
//!   2019);
//! - penalty: θ₁ ← θ₁·max(0, 1 − ηλ/‖θ₁‖) − ηg₁, θ₁ = the first `len` parameters: the
//!   proximal map of ηλ‖·‖₂ (block soft-thresholding) at the old θ₁, which shrinks θ₁ towards
//!   0 and never past it; where ‖θ₁‖ > ηλ it is the gradient step of λ‖θ₁‖₂.
//!
//! The report carries s_T, the product of every multiplicative factor applied to θ₁ — the factor
//! by which a component of θ₁ that receives no gradient shrinks — and, if asked, the path length
//! Σ_t ‖Δθ_block‖ of consecutive blocks (the rows w_i of a first layer).

use crate::data::Binary;
use crate::error::{Error, Result};
use crate::loss::MarginLoss;
use crate::model::Model;
use crate::rng;
use nalgebra::DVector;

/// The update rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Full-batch gradient descent.
    Gd,
    /// Minibatch SGD over a seeded shuffle per epoch.
    Sgd {
        /// Batch size.
        batch: usize,
        /// Seed of the shuffles.
        seed: u64,
    },
    /// Full-batch Adam.
    Adam {
        /// β₁.
        beta1: f64,
        /// β₂.
        beta2: f64,
        /// ε.
        eps: f64,
    },
}

/// Adam's first and second moment estimates and its step count (Kingma & Ba 2015).
#[derive(Clone, Debug)]
pub struct AdamMoments {
    m1: DVector<f64>,
    m2: DVector<f64>,
    t: i32,
}

impl AdamMoments {
    /// Zero moments for `p` parameters.
    pub fn new(p: usize) -> Self {
        Self {
            m1: DVector::zeros(p),
            m2: DVector::zeros(p),
            t: 0,
        }
    }

    /// One Adam update: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², then
    /// θ ← θ − η m̂/(√v̂ + ε) with the bias-corrected m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ).
    pub fn step(
        &mut self,
        theta: &mut DVector<f64>,
        g: &DVector<f64>,
        lr: f64,
        (beta1, beta2, eps): (f64, f64, f64),
    ) {
        self.t += 1;
        self.m1 = &self.m1 * beta1 + g * (1.0 - beta1);
        self.m2 = &self.m2 * beta2 + g.map(|v| v * v) * (1.0 - beta2);
        let (c1, c2) = (1.0 - beta1.powi(self.t), 1.0 - beta2.powi(self.t));
        for i in 0..theta.len() {
            theta[i] -= lr * (self.m1[i] / c1) / ((self.m2[i] / c2).sqrt() + eps);
        }
    }
}

/// Settings of [`fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct FitConfig {
    /// Step size η.
    pub lr: f64,
    /// Maximum number of updates.
    pub max_steps: usize,
    /// Loss.
    pub loss: MarginLoss,
    /// Update rule.
    pub method: Method,
    /// Multiplicative decay κ per update.
    pub weight_decay: f64,
    /// (λ, len): the penalty λ‖θ[..len]‖₂.
    pub norm_penalty: Option<(f64, usize)>,
    /// Stop once the minimum margin over the full data reaches this value.
    pub stop_margin: Option<f64>,
    /// Path lengths of `count` consecutive blocks of `len` parameters: (len, count).
    pub path_blocks: Option<(usize, usize)>,
}

impl FitConfig {
    /// Full-batch GD with a step budget and a margin stop.
    pub fn gd(lr: f64, max_steps: usize, stop_margin: Option<f64>) -> Self {
        Self {
            lr,
            max_steps,
            loss: MarginLoss::Logistic,
            method: Method::Gd,
            weight_decay: 0.0,
            norm_penalty: None,
            stop_margin,
            path_blocks: None,
        }
    }
}

/// What [`fit`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct FitReport {
    /// Updates made.
    pub steps: usize,
    /// Whether the margin target was reached.
    pub reached_margin: bool,
    /// Minimum margin over the full data at the end.
    pub min_margin: f64,
    /// s_T: the product of the multiplicative factors applied to θ₁ (or to θ under decay).
    pub shrink: f64,
    /// Path length Σ_t ‖Δθ_block‖ per block (empty unless asked).
    pub path: Vec<f64>,
    /// Accumulated magnitude Σ_t ‖θ_block(t)‖ per block (empty unless asked): each update rounds
    /// a block by at most a few ε_mach·‖θ_block‖, so c·ε·mass bounds the rounding drift of any
    /// quantity that is invariant in exact arithmetic.
    pub mass: Vec<f64>,
}

/// Trains `model` in place.
pub fn fit(model: &mut dyn Model, data: &Binary, cfg: &FitConfig) -> Result<FitReport> {
    if !(cfg.lr > 0.0) || !cfg.lr.is_finite() || !(0.0..1.0).contains(&cfg.weight_decay) {
        return Err(Error::input(format!(
            "need a finite η > 0 and κ in [0, 1); got η = {}, κ = {}",
            cfg.lr, cfg.weight_decay
        )));
    }
    model.check_input(data.x())?;
    let p = model.n_params();
    if let Some((lam, len)) = cfg.norm_penalty {
        if !(lam >= 0.0) || len == 0 || len > p {
            return Err(Error::input(format!(
                "norm penalty needs λ ≥ 0 and 1 ≤ len ≤ {p}; got λ = {lam}, len = {len}"
            )));
        }
    }
    if let Some((len, count)) = cfg.path_blocks {
        if len * count > p {
            return Err(Error::input("path blocks exceed the parameter vector"));
        }
    }
    let (n, y) = (data.n(), data.y());
    let mut order: Vec<usize> = (0..n).collect();
    let mut shuffle_rng = match cfg.method {
        Method::Sgd { seed, .. } => Some(rng::seeded(seed, rng::stream::CHOICE)),
        _ => None,
    };
    let mut moments = AdamMoments::new(p);
    let mut report = FitReport {
        steps: 0,
        reached_margin: false,
        min_margin: f64::NAN,
        shrink: 1.0,
        path: vec![0.0; cfg.path_blocks.map_or(0, |b| b.1)],
        mass: vec![0.0; cfg.path_blocks.map_or(0, |b| b.1)],
    };
    let full_batch = !matches!(cfg.method, Method::Sgd { .. });
    let mut pos = n;
    loop {
        let batch: Vec<usize> = match cfg.method {
            Method::Sgd { batch, .. } => {
                if pos >= n {
                    if let Some(r) = shuffle_rng.as_mut() {
                        rng::shuffle(r, &mut order);
                    }
                    pos = 0;
                }
                let b: Vec<usize> = order[pos..(pos + batch.max(1)).min(n)].to_vec();
                pos += b.len();
                b
            }
            _ => (0..n).collect(),
        };
        let sub = (!full_batch).then(|| data.subset(&batch));
        let d = sub.as_ref().unwrap_or(data);
        let nb = d.n() as f64;
        // Full batch: the stopping rule reads the margins of the same forward pass.
        let mut margins = DVector::zeros(0);
        let (_, g) = model.forward_vjp(d.x(), &mut |out| {
            margins = out.component_mul(d.y());
            DVector::from_fn(out.len(), |i, _| cfg.loss.deriv(margins[i]) * d.y()[i] / nb)
        });
        if !full_batch {
            margins = model.forward(data.x()).component_mul(y);
        }
        report.min_margin = margins.min();
        if !report.min_margin.is_finite() {
            return Err(super::non_finite_at(report.steps));
        }
        if cfg.stop_margin.is_some_and(|g| report.min_margin >= g) {
            report.reached_margin = true;
            return Ok(report);
        }
        if report.steps == cfg.max_steps {
            return Ok(report);
        }
        // The old θ is kept only when the path lengths need it.
        let old = cfg.path_blocks.map(|_| model.params().clone());
        let theta = model.params_mut();
        // Multiplicative factors first (decay on θ, the penalty on θ₁, both from the old θ),
        // then the gradient step.
        let penalty = cfg.norm_penalty.map(|(lam, len)| {
            let norm = theta.rows(0, len).norm();
            let factor = if norm > 0.0 {
                (1.0 - cfg.lr * lam / norm).max(0.0)
            } else {
                1.0
            };
            (len, factor)
        });
        if cfg.weight_decay > 0.0 {
            *theta *= 1.0 - cfg.weight_decay;
            report.shrink *= 1.0 - cfg.weight_decay;
        }
        if let Some((len, factor)) = penalty {
            theta.rows_mut(0, len).scale_mut(factor);
            report.shrink *= factor;
        }
        match cfg.method {
            Method::Adam { beta1, beta2, eps } => {
                moments.step(theta, &g, cfg.lr, (beta1, beta2, eps));
            }
            _ => theta.axpy(-cfg.lr, &g, 1.0),
        }
        if let (Some((len, count)), Some(old)) = (cfg.path_blocks, old) {
            let (new, old) = (theta.as_slice(), old.as_slice());
            for b in 0..count {
                let (mut dd, mut mm) = (0.0, 0.0);
                for j in b * len..(b + 1) * len {
                    dd += (new[j] - old[j]) * (new[j] - old[j]);
                    mm += new[j] * new[j];
                }
                report.path[b] += dd.sqrt();
                report.mass[b] += mm.sqrt();
            }
        }
        report.steps += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Linear;
    use nalgebra::DMatrix;

    fn data(scale: f64) -> Binary {
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 0.2, -0.4, 1.0, 0.3, -0.8]).scale(scale);
        Binary::new(x, DVector::from_vec(vec![1.0, -1.0, 1.0])).expect("labels ±1")
    }

    fn one_step(method: Method, decay: f64, theta: &[f64]) -> DVector<f64> {
        let mut w = Linear::new(DVector::from_column_slice(theta));
        let cfg = FitConfig {
            method,
            weight_decay: decay,
            ..FitConfig::gd(0.1, 1, None)
        };
        fit(&mut w, &data(1.0), &cfg).expect("runs");
        w.params().clone()
    }

    #[test]
    fn adam_with_decay_decays_by_the_decoupled_factor() {
        let adam = Method::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let theta = [0.7, -1.3];
        // One step from the same θ sees the same gradient, so the decoupled decay adds −κθ.
        let (plain, decayed) = (one_step(adam, 0.0, &theta), one_step(adam, 0.25, &theta));
        for k in 0..2 {
            let want = plain[k] - 0.25 * theta[k];
            assert!(
                (decayed[k] - want).abs() < 1e-15,
                "{} vs {want}",
                decayed[k]
            );
        }
        // The same holds for GD.
        let (plain, decayed) = (
            one_step(Method::Gd, 0.0, &theta),
            one_step(Method::Gd, 0.25, &theta),
        );
        assert!((decayed[0] - (plain[0] - 0.25 * theta[0])).abs() < 1e-15);
    }

    #[test]
    fn the_penalty_shrinks_the_first_block_to_zero_and_never_past_it() {
        // Margins 0.7e4–0.9e4: the logistic derivative underflows to 0, so only the penalty acts.
        let big = data(1e4);
        let run = |lam: f64| {
            let mut w = Linear::new(DVector::from_vec(vec![1.0, -0.5]));
            let cfg = FitConfig {
                norm_penalty: Some((lam, 2)),
                ..FitConfig::gd(0.1, 1, None)
            };
            let r = fit(&mut w, &big, &cfg).expect("runs");
            (w.params().clone(), r.shrink)
        };
        let norm = (1.0f64 + 0.25).sqrt();
        // ηλ < ‖θ₁‖: the factor 1 − ηλ/‖θ₁‖.
        let (theta, shrink) = run(5.0);
        assert!((shrink - (1.0 - 0.5 / norm)).abs() < 1e-15, "{shrink}");
        assert!((theta[0] - shrink).abs() < 1e-15 && theta[0] > 0.0);
        // ηλ > ‖θ₁‖ (a plain gradient step would make the factor negative and flip both signs).
        let (theta, shrink) = run(100.0);
        assert_eq!(shrink, 0.0);
        assert_eq!(theta.as_slice(), &[0.0, 0.0]);
    }
}
