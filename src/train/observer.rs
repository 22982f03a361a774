//! Observers of a training run, and the trajectory recorder.
//!
//! [`Trajectory`] records, every k steps, the summed loss, the minimum margin q_min, the
//! normalised margin q_min/‖θ‖^L, the smoothed margin γ̃ of kkt.md §4, and — if asked — the
//! KKT certificate (ε, δ) of the normalised parameters, through a [`KktMeasure`] the margin
//! layer implements (`margin::certificate::CertifyOn`), so that training does not depend on it.

use super::StepState;
use crate::error::Result;
use crate::loss::MarginLoss;
use crate::model::Model;
use serde::Serialize;

/// Sees every step; returns `false` to stop training.
pub trait Observer {
    /// Called at θ_t before step t is applied.
    fn observe(&mut self, model: &dyn Model, state: &StepState<'_>) -> Result<bool>;
    /// Whether [`Observer::observe`] must be called. An observer that returns `false` lets
    /// training use the fused step ([`crate::model::Model::descend`]), which writes the update
    /// straight into θ.
    fn active(&self) -> bool {
        true
    }
}

/// How far a model is from a KKT point of margin maximisation on fixed data: (ε, δ) of its
/// certificate at the margin-normalised parameters.
pub trait KktMeasure {
    /// (ε, δ) at `model`; called only where q_min > 0.
    fn measure(&self, model: &dyn Model) -> Result<(f64, f64)>;
}

/// Observes nothing.
pub struct NoObserver;

impl Observer for NoObserver {
    fn observe(&mut self, _: &dyn Model, _: &StepState<'_>) -> Result<bool> {
        Ok(true)
    }
    fn active(&self) -> bool {
        false
    }
}

impl<F: FnMut(&dyn Model, &StepState<'_>) -> Result<bool>> Observer for F {
    fn observe(&mut self, model: &dyn Model, state: &StepState<'_>) -> Result<bool> {
        self(model, state)
    }
}

/// One recorded point of a trajectory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrajectoryPoint {
    /// Step t.
    pub step: usize,
    /// Σ_i ℓ(q_i).
    pub loss: f64,
    /// min_i q_i.
    pub min_margin: f64,
    /// ‖θ‖.
    pub norm: f64,
    /// q_min/‖θ‖^L (NaN for a non-homogeneous model).
    pub normalized_margin: f64,
    /// γ̃ (NaN for a non-homogeneous model).
    pub smoothed_margin: f64,
    /// ε of the certificate at the normalised parameters, if recorded and q_min > 0.
    pub kkt_eps: Option<f64>,
    /// δ of the certificate, if recorded.
    pub kkt_delta: Option<f64>,
}

/// Records the trajectory every `every` steps (and optionally the KKT certificate).
pub struct Trajectory<'d> {
    every: usize,
    loss: MarginLoss,
    kkt: Option<&'d dyn KktMeasure>,
    /// The recorded points.
    pub points: Vec<TrajectoryPoint>,
}

impl<'d> Trajectory<'d> {
    /// Records every `every` steps (≥ 1).
    pub fn new(every: usize, loss: MarginLoss) -> Self {
        Self {
            every: every.max(1),
            loss,
            kkt: None,
            points: Vec::new(),
        }
    }
    /// Also records (ε, δ) from `kkt` at each recorded point where q_min > 0.
    pub fn with_kkt(mut self, kkt: &'d dyn KktMeasure) -> Self {
        self.kkt = Some(kkt);
        self
    }
}

impl Observer for Trajectory<'_> {
    fn observe(&mut self, model: &dyn Model, s: &StepState<'_>) -> Result<bool> {
        if s.step % self.every != 0 {
            return Ok(true);
        }
        let norm = model.params().norm();
        let q_min = s.margins.min();
        let (nm, sm) = match model.homogeneity() {
            Some(l) => {
                let nl = norm.powi(l as i32);
                (q_min / nl, self.loss.smoothed_margin(s.loss, nl))
            }
            None => (f64::NAN, f64::NAN),
        };
        let (mut kkt_eps, mut kkt_delta) = (None, None);
        if let (Some(kkt), true) = (self.kkt, q_min > 0.0) {
            let (eps, delta) = kkt.measure(model)?;
            kkt_eps = Some(eps);
            kkt_delta = Some(delta);
        }
        self.points.push(TrajectoryPoint {
            step: s.step,
            loss: s.loss,
            min_margin: q_min,
            norm,
            normalized_margin: nm,
            smoothed_margin: sm,
            kkt_eps,
            kkt_delta,
        });
        Ok(true)
    }
}
