//! What an attack pipeline reports, shared by AutoAttack ([`mod@super::autoattack`]) and
//! MALT ([`mod@super::malt`]): the validation of the attacked batch, per-stage successes with
//! their passes and times, the sanity checks AutoAttack prints after a run (largest ‖x_adv − x‖
//! against ε, non-finite entries, the box [0, 1]) and the warnings a user relies on (zero
//! gradients at the clean point).

use super::apgd::Norm;
use super::incumbent::Live;
use super::losses::Loss;
use super::objective::{ClassObjective, Cost, Goal, Objective};
use crate::error::{Error, Result};
use crate::model::Classifier;
use nalgebra::DMatrix;
use serde::Serialize;

/// Validates the attacked batch: shapes, labels, finite points in [0, 1], ε > 0.
pub fn validate(model: &dyn Classifier, x: &DMatrix<f64>, y: &[usize], eps: f64) -> Result<()> {
    if x.ncols() != model.input_dim() || x.nrows() != y.len() {
        return Err(Error::shape(format!(
            "{} × {} points with {} labels for a model of input dimension {}",
            x.nrows(),
            x.ncols(),
            y.len(),
            model.input_dim()
        )));
    }
    crate::error::ensure_finite("attacked points", x.as_slice())?;
    if x.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(Error::input("attacked points must lie in the box [0, 1]"));
    }
    if let Some(&l) = y.iter().find(|&&l| l >= model.classes()) {
        return Err(Error::input(format!(
            "label {l} is out of range for a {}-class model",
            model.classes()
        )));
    }
    if !(eps > 0.0) || !eps.is_finite() {
        return Err(Error::input(format!(
            "ε must be positive and finite, got {eps}"
        )));
    }
    Ok(())
}

/// One stage's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct StageReport {
    /// Stage name.
    pub name: String,
    /// Clean-correct points it broke.
    pub broken: usize,
    /// Points still robust (clean-correct and unbroken) after it.
    pub robust_after: usize,
    /// Passes it made.
    pub cost: Cost,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Seconds since the pipeline started, at the end of this stage.
    pub seconds_total: f64,
}

/// The checks AutoAttack prints after a run: the largest perturbation against ε, non-finite
/// entries, and the range of the adversarial points (which must stay in the box [0, 1]).
#[derive(Clone, Debug, Serialize)]
pub struct Sanity {
    /// max over points of ‖x_adv − x‖ in the threat model's norm.
    pub max_perturbation: f64,
    /// The radius.
    pub eps: f64,
    /// NaN or infinite entries of x_adv.
    pub non_finite: usize,
    /// Smallest entry of x_adv.
    pub min: f64,
    /// Largest entry of x_adv.
    pub max: f64,
}

impl Sanity {
    /// Measures `x_adv` against `x`.
    pub fn of(x: &DMatrix<f64>, x_adv: &DMatrix<f64>, norm: Norm, eps: f64) -> Self {
        let mut max_perturbation: f64 = 0.0;
        for i in 0..x.nrows() {
            let d = x_adv.row(i) - x.row(i);
            let n = norm.of(d.as_slice());
            max_perturbation = if n.is_nan() {
                n
            } else {
                max_perturbation.max(n)
            };
        }
        Self {
            max_perturbation,
            eps,
            non_finite: x_adv.iter().filter(|v| !v.is_finite()).count(),
            min: x_adv.iter().copied().fold(f64::INFINITY, f64::min),
            max: x_adv.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
    /// Whether every check holds (‖δ‖ ≤ ε up to rounding, finite, inside [0, 1]).
    pub fn ok(&self) -> bool {
        self.max_perturbation <= self.eps * (1.0 + crate::tol::RADIUS_ROUNDING)
            && self.non_finite == 0
            && self.min >= 0.0
            && self.max <= 1.0
    }
}

/// Clean-correct points whose cross-entropy gradient at the clean point is exactly zero (every
/// ReLU unit dead on them, or a saturated softmax): gradient attacks cannot start there. A
/// diagnostic pass outside the attack's cost.
pub fn zero_gradient_points(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    clean_correct: &[bool],
) -> Result<usize> {
    let live = Live::filter(x.nrows(), |&i| clean_correct[i]);
    if live.is_empty() {
        return Ok(0);
    }
    let ys = live.gather(y);
    let obj = ClassObjective::new(model, &ys, Loss::CrossEntropy, Goal::Untargeted)?;
    let idx: Vec<usize> = (0..live.len()).collect();
    let g = obj.eval(&live.select(x), &idx).grad;
    Ok((0..g.nrows())
        .filter(|&r| g.row(r).iter().all(|v| *v == 0.0))
        .count())
}

/// Outcome of a pipeline (AutoAttack or MALT).
#[derive(Clone, Debug)]
pub struct PipelineReport {
    /// Clean prediction = label.
    pub clean_correct: Vec<bool>,
    /// Broken by the pipeline (clean-misclassified points count as not robust but not broken).
    pub broken: Vec<bool>,
    /// The adversarial points (x where unbroken).
    pub x_adv: DMatrix<f64>,
    /// Per stage.
    pub stages: Vec<StageReport>,
    /// Total passes, including the clean forward pass.
    pub cost: Cost,
    /// Total wall time, seconds.
    pub seconds: f64,
    /// The sanity checks of the adversarial points.
    pub sanity: Sanity,
    /// What a user should look at (zero gradients at the start, Square breaking points the
    /// gradient attacks missed, a failed sanity check).
    pub warnings: Vec<String>,
}

impl PipelineReport {
    /// Points still robust.
    pub fn robust(&self) -> usize {
        (0..self.broken.len())
            .filter(|&i| self.clean_correct[i] && !self.broken[i])
            .count()
    }
    /// Fraction of points correctly classified after the attack.
    pub fn robust_accuracy(&self) -> f64 {
        self.robust() as f64 / self.broken.len() as f64
    }
    /// Fraction correctly classified at x.
    pub fn clean_accuracy(&self) -> f64 {
        self.clean_correct.iter().filter(|c| **c).count() as f64 / self.clean_correct.len() as f64
    }
}
