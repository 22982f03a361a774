//! Full-batch gradient descent on margin losses, with trajectory recording.
//!
//! The step is θ ← (1 − κ)θ − η·∇_θ (1/n) Σ_i ℓ(y_i N(x_i; θ)), κ the per-step weight decay.
//! One step is one forward pass and one pulled-back gradient ([`crate::model::Model::forward_vjp`]).
//! Stopping rules: a step budget, a minimum margin reached, a loss threshold, or non-finite
//! values (a status, not a panic). An [`Observer`] sees every step and may stop training.

pub mod classifier;
pub mod observer;
pub mod optim;

pub use observer::{KktMeasure, Observer, Trajectory, TrajectoryPoint};

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

/// The error of a run whose loss, margins or gradient became non-finite at `step` (every
/// trainer ends such a run the same way: an error, never a report with NaN parameters).
pub(crate) fn non_finite_at(step: usize) -> Error {
    Error::NonFinite(format!(
        "loss, margin or gradient at step {step} (a step size too large for the data scale?)"
    ))
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
            let mut non_finite = false;
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
                        non_finite = true;
                        None
                    } else if cfg.stop_margin.is_some_and(|g| min_margin >= g) {
                        report(StopReason::Margin)
                    } else if cfg.stop_loss.is_some_and(|l| total < l) {
                        report(StopReason::Loss)
                    } else if step == cfg.steps {
                        report(StopReason::Budget)
                    } else {
                        None
                    };
                    (stop.is_none() && !non_finite).then(|| {
                        DVector::from_fn(out.len(), |i, _| loss.deriv(margins[i]) * y[i] / n)
                    })
                },
                cfg.lr,
                cfg.weight_decay,
            );
            if non_finite {
                return Err(non_finite_at(step));
            }
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
            return Err(non_finite_at(step));
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

#[cfg(test)]
mod tests {
    use super::classifier::{train_classifier, ClassifierGd};
    use super::optim::{fit, FitConfig, Method};
    use super::*;
    use crate::data::MultiClass;
    use crate::model::{Activation, Linear, Mlp};
    use crate::rng;
    use nalgebra::DMatrix;

    fn binary() -> Binary {
        // Not separable (the first point twice, with both labels): the gradient never vanishes.
        let x = DMatrix::from_row_slice(4, 2, &[1.0, 0.2, -0.4, 1.0, 0.3, -0.8, 1.0, 0.2]);
        Binary::new(x, DVector::from_vec(vec![1.0, -1.0, -1.0, -1.0])).expect("labels ±1")
    }

    fn is_non_finite<T: std::fmt::Debug>(r: Result<T>) -> bool {
        matches!(r, Err(Error::NonFinite(_)))
    }

    #[test]
    fn a_non_finite_run_ends_every_trainer_with_the_same_error() {
        // The exponential loss e^{−q} on data that no w separates, with a large step: the
        // negative margin grows, the loss overflows to ∞ within a few steps.
        let (lr, steps) = (1e6, 200);
        let data = binary();
        let gd = GdConfig::new(lr, steps, MarginLoss::Exponential);
        // The fused path (no observer) and the observed path of `train`.
        let mut w = Linear::new(DVector::from_vec(vec![0.5, -0.5]));
        assert!(is_non_finite(train(
            &mut w,
            &data,
            &gd,
            &mut observer::NoObserver
        )));
        let mut w = Linear::new(DVector::from_vec(vec![0.5, -0.5]));
        let mut watch = |_: &dyn Model, _: &StepState<'_>| Ok(true);
        assert!(is_non_finite(train(&mut w, &data, &gd, &mut watch)));
        // `fit`, every method.
        for method in [
            Method::Gd,
            Method::Sgd { batch: 2, seed: 0 },
            Method::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
        ] {
            let mut w = Linear::new(DVector::from_vec(vec![0.5, -0.5]));
            let cfg = FitConfig {
                method,
                loss: MarginLoss::Exponential,
                ..FitConfig::gd(lr, steps, None)
            };
            assert!(is_non_finite(fit(&mut w, &data, &cfg)), "{method:?}");
        }
        // The classifier trainer.
        let multi = MultiClass::new(data.x().clone(), vec![0, 1, 2, 0], 3).expect("labels");
        let mut mlp =
            Mlp::init(&mut rng::seeded(2, 0), vec![2, 4, 3], Activation::Relu, 1.0).expect("sizes");
        // Cross-entropy is bounded in its derivative; a step of 1e307 overflows the weights.
        let cfg = ClassifierGd {
            lr: 1e307,
            steps,
            weight_decay: 0.0,
        };
        assert!(is_non_finite(train_classifier(&mut mlp, &multi, &cfg)));
    }
}
