//! Full-batch gradient descent on margin losses, with trajectory recording.
//!
//! The step is θ ← (1 − κ)θ − η·∇_θ (1/n) Σ_i ℓ(y_i N(x_i; θ)), κ the per-step weight decay.
//! One step is one forward pass and one pulled-back gradient ([`crate::model::Model::forward_vjp`]).
//! Stopping rules: a step budget, a minimum margin reached, a loss threshold, or non-finite
//! values (a status, not a panic). An [`Observer`] sees every step and may stop training.

pub mod classifier;
pub mod observer;
pub mod optim;

pub use observer::{Observer, Trajectory, TrajectoryPoint};

use crate::data::Binary;
use crate::error::{Error, Result};
use crate::loss::MarginLoss;
use crate::model::Model;
use nalgebra::DVector;
use serde::Serialize;

/// Gradient-descent settings.
#[derive(Clone, Debug, PartialEq)]
pub struct GdConfig {
    /// Learning rate η > 0.
    pub lr: f64,
    /// Maximum number of steps.
    pub steps: usize,
    /// The margin loss (averaged over the samples).
    pub loss: MarginLoss,
    /// Weight decay κ ∈ [0, 1) applied multiplicatively each step.
    pub weight_decay: f64,
    /// Stop once min_i y_i N(x_i) ≥ this value.
    pub stop_margin: Option<f64>,
    /// Stop once the summed loss is below this value.
    pub stop_loss: Option<f64>,
}

impl GdConfig {
    /// η, a step budget and the loss; no decay, no early stop.
    pub fn new(lr: f64, steps: usize, loss: MarginLoss) -> Self {
        Self {
            lr,
            steps,
            loss,
            weight_decay: 0.0,
            stop_margin: None,
            stop_loss: None,
        }
    }
    fn validate(&self) -> Result<()> {
        if !(self.lr > 0.0) || !self.lr.is_finite() {
            return Err(Error::input(format!(
                "learning rate must be positive and finite, got {}",
                self.lr
            )));
        }
        if !(0.0..1.0).contains(&self.weight_decay) {
            return Err(Error::input(format!(
                "weight decay must lie in [0, 1), got {}",
                self.weight_decay
            )));
        }
        Ok(())
    }
}

/// Why training stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum StopReason {
    /// The step budget was used.
    Budget,
    /// The minimum margin reached the target.
    Margin,
    /// The summed loss fell below the threshold.
    Loss,
    /// The observer asked to stop.
    Observer,
    /// A loss, margin or parameter became non-finite.
    NonFinite,
}

/// What a training run did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainReport {
    /// Steps taken.
    pub steps: usize,
    /// Why it stopped.
    pub stop: StopReason,
    /// Summed loss at the last evaluated point.
    pub loss: f64,
    /// Minimum margin at the last evaluated point.
    pub min_margin: f64,
}

/// State passed to observers: the margins and summed loss at θ_t (before step t is applied).
pub struct StepState<'a> {
    /// Step index t (0 = the initial point).
    pub step: usize,
    /// Margins q_i = y_i N(x_i; θ_t).
    pub margins: &'a DVector<f64>,
    /// Σ_i ℓ(q_i).
    pub loss: f64,
}

/// The margins q_i = y_i N(x_i), the summed loss Σ_i ℓ(q_i) and the gradient of the *mean* loss
/// at the current parameters, from one forward pass and one pulled-back gradient.
pub fn loss_and_grad(
    model: &dyn Model,
    data: &Binary,
    loss: MarginLoss,
) -> (DVector<f64>, f64, DVector<f64>) {
    let n = data.n() as f64;
    let y = data.y();
    let mut margins = DVector::zeros(0);
    let (_, grad) = model.forward_vjp(data.x(), &mut |out| {
        margins = out.component_mul(y);
        DVector::from_fn(out.len(), |i, _| loss.deriv(margins[i]) * y[i] / n)
    });
    let total = loss.total(&margins);
    (margins, total, grad)
}

/// θ ← (1 − κ)θ − η·grad.
pub fn apply_step(model: &mut dyn Model, grad: &DVector<f64>, cfg: &GdConfig) {
    let theta = model.params_mut();
    if cfg.weight_decay > 0.0 {
        *theta *= 1.0 - cfg.weight_decay;
    }
    theta.axpy(-cfg.lr, grad, 1.0);
}

/// Runs gradient descent in place. The observer sees θ_t for t = 0, 1, …, including the final
/// point.
pub fn train(
    model: &mut dyn Model,
    data: &Binary,
    cfg: &GdConfig,
    observer: &mut dyn Observer,
) -> Result<TrainReport> {
    cfg.validate()?;
    model.check_input(data.x())?;
    let mut step = 0;
    loop {
        if !observer.active() {
            // Fused path: one forward pass, the stopping rules, then the update written into θ.
            let mut stop = None;
            let (y, loss, n) = (data.y(), cfg.loss, data.n() as f64);
            model.descend(
                data.x(),
                &mut |out| {
                    let margins = out.component_mul(y);
                    let total = loss.total(&margins);
                    let min_margin = margins.min();
                    let report = |s| {
                        Some(TrainReport {
                            steps: step,
                            stop: s,
                            loss: total,
                            min_margin,
                        })
                    };
                    stop = if !total.is_finite() || !min_margin.is_finite() {
                        report(StopReason::NonFinite)
                    } else if cfg.stop_margin.is_some_and(|g| min_margin >= g) {
                        report(StopReason::Margin)
                    } else if cfg.stop_loss.is_some_and(|l| total < l) {
                        report(StopReason::Loss)
                    } else if step == cfg.steps {
                        report(StopReason::Budget)
                    } else {
                        None
                    };
                    stop.is_none().then(|| {
                        DVector::from_fn(out.len(), |i, _| loss.deriv(margins[i]) * y[i] / n)
                    })
                },
                cfg.lr,
                cfg.weight_decay,
            );
            if let Some(r) = stop {
                return Ok(r);
            }
            step += 1;
            continue;
        }
        let (margins, total, grad) = loss_and_grad(&*model, data, cfg.loss);
        let min_margin = margins.min();
        let report = |stop| TrainReport {
            steps: step,
            stop,
            loss: total,
            min_margin,
        };
        if !total.is_finite() || !min_margin.is_finite() || grad.iter().any(|g| !g.is_finite()) {
            return Ok(report(StopReason::NonFinite));
        }
        let state = StepState {
            step,
            margins: &margins,
            loss: total,
        };
        if !observer.observe(&*model, &state)? {
            return Ok(report(StopReason::Observer));
        }
        if cfg.stop_margin.is_some_and(|g| min_margin >= g) {
            return Ok(report(StopReason::Margin));
        }
        if cfg.stop_loss.is_some_and(|l| total < l) {
            return Ok(report(StopReason::Loss));
        }
        if step == cfg.steps {
            return Ok(report(StopReason::Budget));
        }
        apply_step(model, &grad, cfg);
        step += 1;
    }
}
