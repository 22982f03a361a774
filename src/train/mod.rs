//! Training of binary models on margin losses: the one loop, with trajectory recording.
//!
//! Each step evaluates the margins q_i = y_i N(x_i; θ_t) of the whole training set, the summed
//! loss Σ_i ℓ(q_i) and the gradient g of the mean loss (1/|B|) Σ_{i∈B} ℓ(q_i) over the batch B
//! (all points, or a minibatch of SGD), from one forward pass and one pulled-back gradient
//! ([`crate::model::Model::forward_vjp`]); then the stopping rules; then the update of
//! [`optim::Update`] (GD, SGD or Adam, decay κ, the first-layer penalty as a proximal step).
//!
//! Stopping rules, in this order: an [`Observer`] asks to stop, a minimum margin reached, a loss
//! threshold, the step budget. A non-finite loss, margin or gradient ends every method the same
//! way: an error naming the step, never a report with NaN parameters. (The fast path below never
//! holds the gradient: a non-finite one shows as non-finite margins one step later.)
//!
//! Fast path: full-batch GD with neither penalty nor path lengths, unobserved, runs through
//! [`crate::model::Model::descend`], which fuses the forward pass and the update written into
//! θ (for the two-layer net, W ← (1 − κ)W − η(diag(c)A_v)ᵀX as one product). It equals the
//! plain step to rounding (tested).

pub mod classifier;
pub mod observer;
pub mod optim;

pub use observer::{KktMeasure, Observer, Trajectory, TrajectoryPoint};

use crate::data::Binary;
use crate::error::{Error, Result};
use crate::loss::MarginLoss;
use crate::model::Model;
use nalgebra::DVector;
use optim::{Method, Minibatches, Update};
use serde::Serialize;

/// The settings of a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Step size η > 0.
    pub lr: f64,
    /// Maximum number of updates.
    pub steps: usize,
    /// The margin loss (averaged over the batch).
    pub loss: MarginLoss,
    /// The update rule.
    pub method: Method,
    /// Weight decay κ ∈ [0, 1) applied multiplicatively each step.
    pub weight_decay: f64,
    /// (λ, len): the penalty λ‖θ[..len]‖₂, applied as its proximal step.
    pub norm_penalty: Option<(f64, usize)>,
    /// Stop once min_i y_i N(x_i) over the whole training set reaches this value.
    pub stop_margin: Option<f64>,
    /// Stop once the summed loss is below this value.
    pub stop_loss: Option<f64>,
    /// Path lengths of `count` consecutive blocks of `len` parameters: (len, count).
    pub path_blocks: Option<(usize, usize)>,
}

impl TrainConfig {
    /// Full-batch GD with step size η, a step budget and the loss; no decay, no penalty, no
    /// early stop.
    pub fn new(lr: f64, steps: usize, loss: MarginLoss) -> Self {
        Self {
            lr,
            steps,
            loss,
            method: Method::Gd,
            weight_decay: 0.0,
            norm_penalty: None,
            stop_margin: None,
            stop_loss: None,
            path_blocks: None,
        }
    }

    /// Whether a step can run through the fused [`Model::descend`].
    fn fusable(&self) -> bool {
        self.method == Method::Gd && self.norm_penalty.is_none() && self.path_blocks.is_none()
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
    /// Updates made.
    pub steps: usize,
    /// Why it stopped.
    pub stop: StopReason,
    /// Summed loss over the training set at the last evaluated point.
    pub loss: f64,
    /// Minimum margin over the training set at the last evaluated point.
    pub min_margin: f64,
    /// s_T: the product of the multiplicative factors applied to θ₁ (to θ without a penalty).
    pub shrink: f64,
    /// Path length Σ_t ‖Δθ_block‖ per block (empty unless asked).
    pub path: Vec<f64>,
    /// Accumulated magnitude Σ_t ‖θ_block(t)‖ per block (empty unless asked): each update rounds
    /// a block by at most a few ε_mach·‖θ_block‖, so c·ε·mass bounds the rounding drift of any
    /// quantity that is invariant in exact arithmetic.
    pub mass: Vec<f64>,
}

impl TrainReport {
    /// Whether the run stopped because the minimum margin reached its target.
    pub fn reached_margin(&self) -> bool {
        self.stop == StopReason::Margin
    }
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
    let y = data.y();
    let mut margins = DVector::zeros(0);
    let (_, grad) = model.forward_vjp(data.x(), &mut |out| {
        margins = out.component_mul(y);
        mean_loss_coefficients(loss, &margins, y)
    });
    let total = loss.total(&margins);
    (margins, total, grad)
}

/// The coefficients c_i = ℓ'(q_i)·y_i/n of the mean loss (1/n) Σ_i ℓ(q_i) with respect to the
/// outputs N(x_i): the gradient is Jᵀc.
fn mean_loss_coefficients(
    loss: MarginLoss,
    margins: &DVector<f64>,
    y: &DVector<f64>,
) -> DVector<f64> {
    let n = margins.len() as f64;
    DVector::from_fn(margins.len(), |i, _| loss.deriv(margins[i]) * y[i] / n)
}

/// The error of a run whose loss, margins or gradient became non-finite at `step` (every
/// trainer ends such a run the same way: an error, never a report with NaN parameters).
pub(crate) fn non_finite_at(step: usize) -> Error {
    Error::NonFinite(format!(
        "loss, margin or gradient at step {step} (a step size too large for the data scale?)"
    ))
}

/// The stopping rule met at a point of loss `total` and minimum margin `min_margin` after
/// `step` updates, if any (the observer's rule is checked before, by the caller).
fn stop_rule(cfg: &TrainConfig, step: usize, total: f64, min_margin: f64) -> Option<StopReason> {
    if cfg.stop_margin.is_some_and(|g| min_margin >= g) {
        Some(StopReason::Margin)
    } else if cfg.stop_loss.is_some_and(|l| total < l) {
        Some(StopReason::Loss)
    } else if step == cfg.steps {
        Some(StopReason::Budget)
    } else {
        None
    }
}

/// Trains `model` in place. The observer sees θ_t for t = 0, 1, …, including the final point.
pub fn train(
    model: &mut dyn Model,
    data: &Binary,
    cfg: &TrainConfig,
    observer: &mut dyn Observer,
) -> Result<TrainReport> {
    let p = model.n_params();
    let mut update = Update::new(cfg.lr, cfg.method, cfg.weight_decay, cfg.norm_penalty, p)?;
    if let Some((len, count)) = cfg.path_blocks {
        if len.checked_mul(count).is_none_or(|l| l > p) {
            return Err(Error::input(format!(
                "path blocks ({count} of {len}) exceed the {p} parameters"
            )));
        }
    }
    model.check_input(data.x())?;
    let mut batches = match cfg.method {
        Method::Sgd { batch, seed } => Some(Minibatches::new(data.n(), batch, seed)),
        _ => None,
    };
    let blocks = cfg.path_blocks.map_or(0, |b| b.1);
    let mut report = TrainReport {
        steps: 0,
        stop: StopReason::Budget,
        loss: f64::NAN,
        min_margin: f64::NAN,
        shrink: 1.0,
        path: vec![0.0; blocks],
        mass: vec![0.0; blocks],
    };
    loop {
        if cfg.fusable() && !observer.active() {
            if let Some(stop) = fused_step(model, data, cfg, &mut report)? {
                report.stop = stop;
                return Ok(report);
            }
            continue;
        }
        // The gradient over the batch; the margins and loss over the whole training set.
        let (margins, total, grad) = match batches.as_mut() {
            None => loss_and_grad(&*model, data, cfg.loss),
            Some(b) => {
                let (_, _, grad) = loss_and_grad(&*model, &data.subset(b.next_batch()), cfg.loss);
                let margins = model.forward(data.x()).component_mul(data.y());
                let total = cfg.loss.total(&margins);
                (margins, total, grad)
            }
        };
        report.loss = total;
        report.min_margin = margins.min();
        if !total.is_finite()
            || !report.min_margin.is_finite()
            || grad.iter().any(|g| !g.is_finite())
        {
            return Err(non_finite_at(report.steps));
        }
        let state = StepState {
            step: report.steps,
            margins: &margins,
            loss: total,
        };
        let stop = if observer.observe(&*model, &state)? {
            stop_rule(cfg, report.steps, total, report.min_margin)
        } else {
            Some(StopReason::Observer)
        };
        if let Some(stop) = stop {
            report.stop = stop;
            return Ok(report);
        }
        // The old θ is kept only when the path lengths need it.
        let old = cfg.path_blocks.map(|_| model.params().clone());
        report.shrink *= update.apply(model.params_mut(), Some(&grad));
        if let (Some((len, count)), Some(old)) = (cfg.path_blocks, old) {
            let (new, old) = (model.params().as_slice(), old.as_slice());
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

/// One step of the fast path: one forward pass, the stopping rules, then the GD update written
/// into θ by [`Model::descend`]. Returns the stopping rule met, if any (then θ is unchanged).
fn fused_step(
    model: &mut dyn Model,
    data: &Binary,
    cfg: &TrainConfig,
    report: &mut TrainReport,
) -> Result<Option<StopReason>> {
    let (y, loss) = (data.y(), cfg.loss);
    let step = report.steps;
    let mut stop = None;
    let mut non_finite = false;
    model.descend(
        data.x(),
        &mut |out| {
            let margins = out.component_mul(y);
            report.loss = loss.total(&margins);
            report.min_margin = margins.min();
            non_finite = !report.loss.is_finite() || !report.min_margin.is_finite();
            stop = if non_finite {
                None
            } else {
                stop_rule(cfg, step, report.loss, report.min_margin)
            };
            (stop.is_none() && !non_finite).then(|| mean_loss_coefficients(loss, &margins, y))
        },
        cfg.lr,
        cfg.weight_decay,
    );
    if non_finite {
        return Err(non_finite_at(step));
    }
    if stop.is_none() {
        report.shrink *= 1.0 - cfg.weight_decay;
        report.steps += 1;
    }
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use super::classifier::{train_classifier, ClassifierGd};
    use super::*;
    use crate::data::MultiClass;
    use crate::model::{Activation, Linear, Mlp, TwoLayer};
    use crate::rng;
    use nalgebra::DMatrix;

    fn binary() -> Binary {
        // Not separable (the first point twice, with both labels): the gradient never vanishes.
        let x = DMatrix::from_row_slice(4, 2, &[1.0, 0.2, -0.4, 1.0, 0.3, -0.8, 1.0, 0.2]);
        Binary::new(x, DVector::from_vec(vec![1.0, -1.0, -1.0, -1.0])).expect("labels ±1")
    }

    fn separable(scale: f64) -> Binary {
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 0.2, -0.4, 1.0, 0.3, -0.8]).scale(scale);
        Binary::new(x, DVector::from_vec(vec![1.0, -1.0, 1.0])).expect("labels ±1")
    }

    const ADAM: Method = Method::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };

    fn is_non_finite<T: std::fmt::Debug>(r: Result<T>) -> bool {
        matches!(r, Err(Error::NonFinite(_)))
    }

    /// An observer that watches every step and never stops: it forces the plain path.
    fn watch() -> impl FnMut(&dyn Model, &StepState<'_>) -> Result<bool> {
        |_: &dyn Model, _: &StepState<'_>| Ok(true)
    }

    #[test]
    fn a_non_finite_run_ends_every_trainer_with_the_same_error() {
        // The exponential loss e^{−q} on data that no w separates, with a large step: the
        // negative margin grows, the loss overflows to ∞ within a few steps.
        let (lr, steps) = (1e6, 200);
        let data = binary();
        for method in [Method::Gd, Method::Sgd { batch: 2, seed: 0 }, ADAM] {
            let cfg = TrainConfig {
                method,
                ..TrainConfig::new(lr, steps, MarginLoss::Exponential)
            };
            // Unobserved (the fused path for GD) and observed.
            let mut w = Linear::new(DVector::from_vec(vec![0.5, -0.5]));
            let r = train(&mut w, &data, &cfg, &mut observer::NoObserver);
            assert!(is_non_finite(r), "{method:?}");
            let mut w = Linear::new(DVector::from_vec(vec![0.5, -0.5]));
            assert!(
                is_non_finite(train(&mut w, &data, &cfg, &mut watch())),
                "{method:?}"
            );
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

    /// The fused step of the two-layer net (the update written into θ by one product) and the
    /// plain step (gradient, then decay and axpy) agree to rounding over 50 steps with decay.
    #[test]
    fn the_fused_step_equals_the_plain_step_to_rounding() {
        let data = binary();
        let init = TwoLayer::init(
            &mut rng::seeded(3, 0),
            2,
            6,
            Activation::Relu,
            true,
            true,
            0.7,
        );
        let cfg = TrainConfig {
            weight_decay: 0.01,
            ..TrainConfig::new(0.3, 50, MarginLoss::Logistic)
        };
        let (mut fused, mut plain) = (init.clone(), init.clone());
        let rf = train(&mut fused, &data, &cfg, &mut observer::NoObserver).expect("runs");
        let rp = train(&mut plain, &data, &cfg, &mut watch()).expect("runs");
        assert_eq!((rf.steps, rf.stop), (50, StopReason::Budget));
        assert_eq!((rp.steps, rp.stop), (50, StopReason::Budget));
        let moved = (fused.params() - init.params()).norm();
        assert!(moved > 0.1, "training moved θ by {moved}");
        let gap = (fused.params() - plain.params()).norm();
        assert!(
            gap <= 1e-13 * fused.params().norm(),
            "fused vs plain: {gap}"
        );
        assert!((rf.loss - rp.loss).abs() <= 1e-13 * rp.loss);
        assert!((rf.shrink - 0.99f64.powi(50)).abs() < 1e-15);
        assert_eq!(rf.shrink, rp.shrink);
    }

    /// A linear model that counts the calls of its fused step.
    #[derive(Clone)]
    struct CountsDescents {
        inner: Linear,
        descents: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Model for CountsDescents {
        fn name(&self) -> String {
            self.inner.name()
        }
        fn input_dim(&self) -> usize {
            self.inner.input_dim()
        }
        fn params(&self) -> &DVector<f64> {
            self.inner.params()
        }
        fn params_mut(&mut self) -> &mut DVector<f64> {
            self.inner.params_mut()
        }
        fn homogeneity(&self) -> Option<u32> {
            self.inner.homogeneity()
        }
        fn forward(&self, x: &DMatrix<f64>) -> DVector<f64> {
            self.inner.forward(x)
        }
        fn jvp(&self, x: &DMatrix<f64>, u: &DVector<f64>) -> DVector<f64> {
            self.inner.jvp(x, u)
        }
        fn vjp(&self, x: &DMatrix<f64>, c: &DVector<f64>) -> DVector<f64> {
            self.inner.vjp(x, c)
        }
        fn descend(
            &mut self,
            x: &DMatrix<f64>,
            coef: &mut dyn FnMut(&DVector<f64>) -> Option<DVector<f64>>,
            lr: f64,
            decay: f64,
        ) -> DVector<f64> {
            self.descents
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.inner.descend(x, coef, lr, decay)
        }
        fn jacobian(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
            self.inner.jacobian(x)
        }
        fn input_grad(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
            self.inner.input_grad(x)
        }
        fn boxed_clone(&self) -> Box<dyn Model> {
            Box::new(self.clone())
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    /// Unobserved full-batch GD takes the fused step, one call a step and one for the final
    /// point; an observer, SGD, Adam, the penalty or path lengths take the plain step.
    #[test]
    fn only_plain_unobserved_gd_takes_the_fused_step() {
        let data = separable(1.0);
        let base = TrainConfig::new(0.1, 5, MarginLoss::Logistic);
        let descents = |cfg: &TrainConfig, observed: bool| {
            let mut m = CountsDescents {
                inner: Linear::new(DVector::from_vec(vec![0.1, 0.1])),
                descents: Default::default(),
            };
            if observed {
                train(&mut m, &data, cfg, &mut watch()).expect("runs");
            } else {
                train(&mut m, &data, cfg, &mut observer::NoObserver).expect("runs");
            }
            m.descents.load(std::sync::atomic::Ordering::Relaxed)
        };
        assert_eq!(descents(&base, false), 6);
        assert_eq!(descents(&base, true), 0);
        let plain = [
            TrainConfig {
                method: Method::Sgd { batch: 2, seed: 0 },
                ..base.clone()
            },
            TrainConfig {
                method: ADAM,
                ..base.clone()
            },
            TrainConfig {
                norm_penalty: Some((0.1, 2)),
                ..base.clone()
            },
            TrainConfig {
                path_blocks: Some((1, 2)),
                ..base.clone()
            },
        ];
        for cfg in plain {
            assert_eq!(descents(&cfg, false), 0, "{cfg:?}");
        }
    }

    fn one_step(method: Method, decay: f64, theta: &[f64]) -> DVector<f64> {
        let mut w = Linear::new(DVector::from_column_slice(theta));
        let cfg = TrainConfig {
            method,
            weight_decay: decay,
            ..TrainConfig::new(0.1, 1, MarginLoss::Logistic)
        };
        train(&mut w, &separable(1.0), &cfg, &mut observer::NoObserver).expect("runs");
        w.params().clone()
    }

    #[test]
    fn adam_with_decay_decays_by_the_decoupled_factor() {
        let theta = [0.7, -1.3];
        // One step from the same θ sees the same gradient, so the decoupled decay adds −κθ.
        for method in [ADAM, Method::Gd, Method::Sgd { batch: 3, seed: 1 }] {
            let (plain, decayed) = (
                one_step(method, 0.0, &theta),
                one_step(method, 0.25, &theta),
            );
            for k in 0..2 {
                let want = plain[k] - 0.25 * theta[k];
                assert!(
                    (decayed[k] - want).abs() < 1e-15,
                    "{method:?}: {} vs {want}",
                    decayed[k]
                );
            }
        }
    }

    #[test]
    fn the_penalty_shrinks_the_first_block_to_zero_and_never_past_it() {
        // Margins 0.7e4–0.9e4: the logistic derivative underflows to 0, so only the penalty acts.
        let big = separable(1e4);
        let run = |lam: f64| {
            let mut w = Linear::new(DVector::from_vec(vec![1.0, -0.5]));
            let cfg = TrainConfig {
                norm_penalty: Some((lam, 2)),
                ..TrainConfig::new(0.1, 1, MarginLoss::Logistic)
            };
            let r = train(&mut w, &big, &cfg, &mut observer::NoObserver).expect("runs");
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

    /// Each stopping rule ends the run where it first holds, and says so.
    #[test]
    fn each_stopping_rule_stops_where_it_first_holds() {
        let data = separable(1.0);
        let run = |cfg: &TrainConfig, obs: &mut dyn Observer| {
            let mut w = Linear::new(DVector::from_vec(vec![0.1, -0.1]));
            train(&mut w, &data, cfg, obs).expect("runs")
        };
        let base = TrainConfig::new(0.5, 400, MarginLoss::Logistic);
        let r = run(&base, &mut observer::NoObserver);
        assert_eq!((r.steps, r.stop), (400, StopReason::Budget));
        assert!(!r.reached_margin());
        let target = r.min_margin / 2.0;
        for obs in [true, false] {
            let cfg = TrainConfig {
                stop_margin: Some(target),
                ..base.clone()
            };
            let r = if obs {
                run(&cfg, &mut watch())
            } else {
                run(&cfg, &mut observer::NoObserver)
            };
            assert!(r.reached_margin() && r.min_margin >= target && r.steps < 400);
            // One step fewer does not reach it.
            let short = TrainConfig {
                steps: r.steps - 1,
                ..cfg.clone()
            };
            let s = run(&short, &mut observer::NoObserver);
            assert!(s.stop == StopReason::Budget && s.min_margin < target);
            let cfg = TrainConfig {
                stop_loss: Some(r.loss * 1.5),
                ..base.clone()
            };
            let l = if obs {
                run(&cfg, &mut watch())
            } else {
                run(&cfg, &mut observer::NoObserver)
            };
            assert_eq!(l.stop, StopReason::Loss);
            assert!(l.loss < r.loss * 1.5 && l.steps < r.steps);
        }
        let mut stop_at_7 = |_: &dyn Model, s: &StepState<'_>| Ok(s.step < 7);
        let r = run(&base, &mut stop_at_7);
        assert_eq!((r.steps, r.stop), (7, StopReason::Observer));
    }

    /// The loss threshold is strict: a run whose loss equals it exactly goes on.
    #[test]
    fn the_loss_stop_needs_a_loss_strictly_below_the_threshold() {
        let data = separable(1.0);
        let w0 = DVector::from_vec(vec![0.1, -0.1]);
        let (_, loss0, _) = loss_and_grad(&Linear::new(w0.clone()), &data, MarginLoss::Logistic);
        let cfg = TrainConfig {
            stop_loss: Some(loss0),
            ..TrainConfig::new(0.5, 50, MarginLoss::Logistic)
        };
        for observed in [false, true] {
            let mut w = Linear::new(w0.clone());
            let r = if observed {
                train(&mut w, &data, &cfg, &mut watch())
            } else {
                train(&mut w, &data, &cfg, &mut observer::NoObserver)
            }
            .expect("runs");
            assert_eq!(r.stop, StopReason::Loss, "observed: {observed}");
            assert!(
                r.steps >= 1 && r.loss < loss0,
                "observed: {observed}: {r:?}"
            );
        }
    }

    /// An infinite summed loss alone (finite margins, finite logistic gradient) ends the run
    /// with the non-finite error, on both paths, even with no step to take.
    #[test]
    fn an_infinite_loss_alone_is_an_error() {
        let x = DMatrix::from_row_slice(2, 2, &[-1.0, 0.0, -1.0, 0.0]);
        let data = Binary::new(x, DVector::from_vec(vec![1.0, 1.0])).expect("labels ±1");
        let w0 = DVector::from_vec(vec![1.5e308, 0.0]);
        let (margins, total, grad) =
            loss_and_grad(&Linear::new(w0.clone()), &data, MarginLoss::Logistic);
        assert!(margins.iter().all(|q| q.is_finite()) && grad.iter().all(|g| g.is_finite()));
        assert_eq!(total, f64::INFINITY);
        let cfg = TrainConfig::new(0.1, 0, MarginLoss::Logistic);
        let mut w = Linear::new(w0.clone());
        assert!(is_non_finite(train(
            &mut w,
            &data,
            &cfg,
            &mut observer::NoObserver
        )));
        let mut w = Linear::new(w0);
        assert!(is_non_finite(train(&mut w, &data, &cfg, &mut watch())));
    }

    /// Path lengths and masses: one step of GD on a linear model moves θ by η‖g‖.
    #[test]
    fn the_path_of_one_step_is_the_step_length() {
        let data = separable(1.0);
        let w0 = DVector::from_vec(vec![0.3, 0.2]);
        let (_, _, g) = loss_and_grad(&Linear::new(w0.clone()), &data, MarginLoss::Logistic);
        let mut w = Linear::new(w0.clone());
        let cfg = TrainConfig {
            path_blocks: Some((1, 2)),
            ..TrainConfig::new(0.5, 1, MarginLoss::Logistic)
        };
        let r = train(&mut w, &data, &cfg, &mut observer::NoObserver).expect("runs");
        for k in 0..2 {
            assert!((r.path[k] - 0.5 * g[k].abs()).abs() < 1e-15, "{:?}", r.path);
            assert!(
                (r.mass[k] - w.params()[k].abs()).abs() < 1e-15,
                "{:?}",
                r.mass
            );
        }
    }

    /// SGD's gradient is the batch's: with batch 1 the first step is −η∇ℓ of one point, which
    /// differs from the full-batch step; one epoch of batch n is full-batch GD.
    #[test]
    fn sgd_steps_on_its_batch() {
        let data = separable(1.0);
        let w0 = [0.3, 0.2];
        let gd = one_step(Method::Gd, 0.0, &w0);
        let full = one_step(Method::Sgd { batch: 3, seed: 5 }, 0.0, &w0);
        assert!((&gd - &full).norm() < 1e-15);
        let single = one_step(Method::Sgd { batch: 1, seed: 5 }, 0.0, &w0);
        let w = DVector::from_column_slice(&w0);
        let one_point = (0..3).any(|i| {
            let point = data.subset(&[i]);
            let (_, _, g) = loss_and_grad(&Linear::new(w.clone()), &point, MarginLoss::Logistic);
            (&w - g * 0.1 - &single).norm() < 1e-15
        });
        assert!(one_point && (&single - &gd).norm() > 1e-3);
    }

    /// Each bad setting alone is refused as bad input.
    #[test]
    fn bad_settings_are_refused_one_at_a_time() {
        let data = separable(1.0);
        let base = TrainConfig::new(0.1, 3, MarginLoss::Logistic);
        let bad = [
            TrainConfig {
                lr: 0.0,
                ..base.clone()
            },
            TrainConfig {
                lr: f64::INFINITY,
                ..base.clone()
            },
            TrainConfig {
                weight_decay: 1.0,
                ..base.clone()
            },
            TrainConfig {
                weight_decay: -0.1,
                ..base.clone()
            },
            TrainConfig {
                norm_penalty: Some((-1.0, 1)),
                ..base.clone()
            },
            TrainConfig {
                norm_penalty: Some((1.0, 0)),
                ..base.clone()
            },
            TrainConfig {
                norm_penalty: Some((1.0, 3)),
                ..base.clone()
            },
            TrainConfig {
                path_blocks: Some((2, 2)),
                ..base.clone()
            },
            TrainConfig {
                path_blocks: Some((usize::MAX, 2)),
                ..base.clone()
            },
            TrainConfig {
                method: Method::Sgd { batch: 0, seed: 0 },
                ..base.clone()
            },
            TrainConfig {
                method: Method::Adam {
                    beta1: 1.0,
                    beta2: 0.999,
                    eps: 1e-8,
                },
                ..base.clone()
            },
            TrainConfig {
                method: Method::Adam {
                    beta1: 0.9,
                    beta2: 1.0,
                    eps: 1e-8,
                },
                ..base.clone()
            },
            TrainConfig {
                method: Method::Adam {
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 0.0,
                },
                ..base.clone()
            },
        ];
        for cfg in bad {
            let mut w = Linear::new(DVector::from_vec(vec![0.1, 0.1]));
            let r = train(&mut w, &data, &cfg, &mut observer::NoObserver);
            assert!(matches!(r, Err(Error::Input(_))), "{cfg:?}");
        }
        // The edges that are allowed: penalty on all of θ, blocks covering θ exactly.
        let ok = TrainConfig {
            norm_penalty: Some((0.0, 2)),
            path_blocks: Some((1, 2)),
            ..base
        };
        let mut w = Linear::new(DVector::from_vec(vec![0.1, 0.1]));
        assert!(train(&mut w, &data, &ok, &mut observer::NoObserver).is_ok());
    }
}
