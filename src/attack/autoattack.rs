//! AutoAttack's "standard" pipeline (Croce & Hein 2020, arXiv:2003.01690; fra31/auto-attack
//! `autoattack.py`): APGD-CE → APGD-T (targets: the 2nd … 10th largest clean logits) → FAB-T (9
//! targets) → Square (5000 queries). Clean-misclassified points are never attacked; every stage
//! attacks only the points still robust, and a point leaves once broken. Robust accuracy is the
//! pointwise worst case. Each stage reports its successes, its passes (forward + backward and
//! forward-only, per sample, including one verification forward per attacked point and run) and
//! its wall time.

use super::apgd::{run_verified, ApgdConfig, Norm, Variant};
use super::fab::{fab_targeted, FabConfig};
use super::losses::{DlrForm, Loss};
use super::objective::{ClassObjective, Cost, Goal, Objective};
use super::square::{square, Offsets};
use super::targets::autoattack_targets;
use crate::error::{Error, Result};
use crate::linalg::row_argmax;
use crate::model::Classifier;
use crate::rng::{self, stream};
use nalgebra::DMatrix;
use serde::Serialize;
use std::time::Instant;

/// A stage of the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Stage {
    /// APGD on the cross-entropy, untargeted.
    ApgdCe,
    /// APGD on AutoAttack's targeted DLR toward the top-9 logits, success = misclassified.
    ApgdT,
    /// FAB-T toward the top-9 logits.
    FabT,
    /// Square, untargeted (L∞ as the reference; L2 is the suite's own version).
    Square,
}

impl Stage {
    /// The standard version's stages.
    pub const STANDARD: [Stage; 4] = [Stage::ApgdCe, Stage::ApgdT, Stage::FabT, Stage::Square];
    /// Name as in AutoAttack's output.
    pub fn name(self) -> &'static str {
        match self {
            Self::ApgdCe => "apgd-ce",
            Self::ApgdT => "apgd-t",
            Self::FabT => "fab-t",
            Self::Square => "square",
        }
    }
    /// Parses a name of [`Stage::name`].
    pub fn parse(s: &str) -> Result<Self> {
        Self::STANDARD
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| {
                Error::input(format!(
                    "unknown attack `{s}`: the stages are apgd-ce, apgd-t, fab-t, square"
                ))
            })
    }
    /// The name shown in reports: the L2 Square is the suite's own version.
    pub fn label(self, norm: Norm) -> &'static str {
        match (self, norm) {
            (Self::Square, Norm::L2) => "square-l2 (dimple's own)",
            _ => self.name(),
        }
    }
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
            let n = match norm {
                Norm::Linf => d.amax(),
                Norm::L2 => d.norm(),
            };
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
        self.max_perturbation <= self.eps * (1.0 + 1e-9)
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
    let live: Vec<usize> = (0..x.nrows()).filter(|&i| clean_correct[i]).collect();
    if live.is_empty() {
        return Ok(0);
    }
    let ys: Vec<usize> = live.iter().map(|&i| y[i]).collect();
    let obj = ClassObjective::new(model, &ys, Loss::CrossEntropy, Goal::Untargeted)?;
    let idx: Vec<usize> = (0..live.len()).collect();
    let g = obj.eval(&x.select_rows(&live), &idx).grad;
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
    /// Sets the sanity checks and the warnings every pipeline gives: zero gradients at the start
    /// and a failed sanity check.
    pub fn finish(
        &mut self,
        model: &dyn Classifier,
        x: &DMatrix<f64>,
        y: &[usize],
        norm: Norm,
        eps: f64,
    ) -> Result<()> {
        self.sanity = Sanity::of(x, &self.x_adv, norm, eps);
        let zero = zero_gradient_points(model, x, y, &self.clean_correct)?;
        if zero > 0 {
            self.warnings.push(format!(
                "{zero} clean-correct point(s) have a zero gradient at the clean point (dead ReLU \
                 units or a saturated softmax): gradient attacks cannot move them"
            ));
        }
        if !self.sanity.ok() {
            self.warnings.push(format!(
                "sanity check failed: max ‖δ‖ = {:e} against ε = {:e}, {} non-finite entries, \
                 range [{}, {}]",
                self.sanity.max_perturbation,
                self.sanity.eps,
                self.sanity.non_finite,
                self.sanity.min,
                self.sanity.max
            ));
        }
        Ok(())
    }
    /// Fraction of points correctly classified after the attack.
    pub fn robust_accuracy(&self) -> f64 {
        let n = self.broken.len() as f64;
        (0..self.broken.len())
            .filter(|&i| self.clean_correct[i] && !self.broken[i])
            .count() as f64
            / n
    }
    /// Fraction correctly classified at x.
    pub fn clean_accuracy(&self) -> f64 {
        self.clean_correct.iter().filter(|c| **c).count() as f64 / self.clean_correct.len() as f64
    }
}

/// Pipeline settings.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoAttackConfig {
    /// Threat model.
    pub norm: Norm,
    /// Radius.
    pub eps: f64,
    /// APGD / FAB iterations.
    pub n_iter: usize,
    /// Number of targets of APGD-T.
    pub targets: usize,
    /// Number of targets of FAB-T.
    pub fab_targets: usize,
    /// Square's queries.
    pub square_queries: usize,
    /// Square's window offsets.
    pub square_offsets: Offsets,
    /// Stages to run, in order.
    pub stages: Vec<Stage>,
    /// Seed of the random starts.
    pub seed: u64,
}

impl AutoAttackConfig {
    /// The standard version at radius `eps`.
    pub fn standard(norm: Norm, eps: f64) -> Self {
        Self {
            norm,
            eps,
            n_iter: 100,
            targets: 9,
            fab_targets: 9,
            square_queries: 5000,
            square_offsets: Offsets::Reference,
            stages: Stage::STANDARD.to_vec(),
            seed: 0,
        }
    }
}

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

/// Runs the pipeline.
pub fn autoattack(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    cfg: &AutoAttackConfig,
) -> Result<PipelineReport> {
    autoattack_with(model, x, y, cfg, &mut |_| {})
}

/// [`autoattack`], calling `progress` with a line at the start of each stage (for a terminal).
pub fn autoattack_with(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    cfg: &AutoAttackConfig,
    progress: &mut dyn FnMut(&str),
) -> Result<PipelineReport> {
    validate(model, x, y, cfg.eps)?;
    let start = Instant::now();
    let n = x.nrows();
    let z = model.logits(x);
    let rows: Vec<Vec<f64>> = (0..n).map(|i| z.row(i).iter().copied().collect()).collect();
    let clean_correct: Vec<bool> = row_argmax(&z).iter().zip(y).map(|(p, l)| p == l).collect();
    let mut report = PipelineReport {
        clean_correct: clean_correct.clone(),
        broken: vec![false; n],
        x_adv: x.clone(),
        stages: Vec::new(),
        cost: Cost {
            gradients: 0,
            forwards: n,
        },
        seconds: 0.0,
        sanity: Sanity::of(x, x, cfg.norm, cfg.eps),
        warnings: Vec::new(),
    };
    if cfg
        .stages
        .iter()
        .any(|s| matches!(s, Stage::ApgdT | Stage::FabT))
    {
        Loss::DlrTargeted(DlrForm::AutoAttack).check_classes(model.classes())?;
        for (stage, t) in [(Stage::ApgdT, cfg.targets), (Stage::FabT, cfg.fab_targets)] {
            if cfg.stages.contains(&stage) && (t == 0 || t + 1 > model.classes()) {
                return Err(Error::input(format!(
                    "{} needs 1 ≤ targets ≤ K − 1 = {}, got {t}",
                    stage.name(),
                    model.classes() - 1
                )));
            }
        }
    }
    let mut rng = rng::seeded(cfg.seed, stream::ATTACK);
    for &stage in &cfg.stages {
        progress(&format!(
            "{} ({} robust after the previous stages)",
            stage.label(cfg.norm),
            report.robust()
        ));
        let t0 = Instant::now();
        let mut stage_cost = Cost::default();
        let mut broken_here = 0;
        let runs: Vec<Option<usize>> = match stage {
            Stage::ApgdCe | Stage::Square => vec![None],
            Stage::ApgdT => (0..cfg.targets).map(Some).collect(),
            Stage::FabT => (0..cfg.fab_targets).map(Some).collect(),
        };
        for run in runs {
            let live: Vec<usize> = (0..n)
                .filter(|&i| clean_correct[i] && !report.broken[i])
                .collect();
            if live.is_empty() {
                break;
            }
            let xs = x.select_rows(&live);
            let ys: Vec<usize> = live.iter().map(|&i| y[i]).collect();
            let (x_adv, success, cost) = match stage {
                Stage::ApgdCe | Stage::ApgdT => {
                    let (loss, goal) = match run {
                        None => (Loss::CrossEntropy, Goal::Untargeted),
                        Some(j) => (
                            Loss::DlrTargeted(DlrForm::AutoAttack),
                            Goal::TargetedLossMisclassify(
                                live.iter()
                                    .map(|&i| autoattack_targets(&rows[i], cfg.targets)[j])
                                    .collect(),
                            ),
                        ),
                    };
                    let obj = ClassObjective::new(model, &ys, loss, goal)?;
                    let acfg = ApgdConfig {
                        n_iter: cfg.n_iter,
                        ..ApgdConfig::new(cfg.norm, Variant::AutoAttack)
                    };
                    let (xa, ok) = run_verified(&obj, &xs, cfg.eps, &acfg, &mut rng)?;
                    (xa, ok, obj.cost())
                }
                Stage::FabT => {
                    let tg: Vec<usize> = live
                        .iter()
                        .map(|&i| autoattack_targets(&rows[i], cfg.fab_targets)[run.unwrap_or(0)])
                        .collect();
                    let fc = FabConfig {
                        n_iter: cfg.n_iter,
                        ..FabConfig::new(cfg.norm)
                    };
                    let r = fab_targeted(model, &xs, &ys, &tg, &fc);
                    let ok: Vec<bool> = r.radius.iter().map(|&rr| rr <= cfg.eps).collect();
                    (r.x_adv, ok, r.cost)
                }
                Stage::Square => {
                    let r = square(
                        model,
                        &xs,
                        &ys,
                        cfg.norm,
                        cfg.eps,
                        cfg.square_queries,
                        cfg.square_offsets,
                        &mut rng,
                    );
                    (r.x_adv, r.success, r.cost)
                }
            };
            stage_cost = stage_cost + cost;
            for (r, &i) in live.iter().enumerate() {
                if success[r] {
                    report.broken[i] = true;
                    report.x_adv.row_mut(i).copy_from(&x_adv.row(r));
                    broken_here += 1;
                }
            }
        }
        report.cost = report.cost + stage_cost;
        report.stages.push(StageReport {
            name: stage.label(cfg.norm).to_string(),
            broken: broken_here,
            robust_after: report.robust(),
            cost: stage_cost,
            seconds: t0.elapsed().as_secs_f64(),
            seconds_total: start.elapsed().as_secs_f64(),
        });
        if stage == Stage::Square
            && broken_here > 0
            && cfg.stages.iter().any(|s| *s != Stage::Square)
        {
            report.warnings.push(format!(
                "Square broke {broken_here} point(s) the gradient attacks missed: a hint of \
                 gradient masking (the gradients may not show the model's true robustness)"
            ));
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    report.finish(model, x, y, cfg.norm, cfg.eps)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activation, Mlp};

    #[test]
    fn progress_is_called_once_per_stage_and_the_report_is_unchanged() {
        let mut r = rng::seeded(5, 0);
        let net = Mlp::init(&mut r, vec![16, 12, 5], Activation::Relu, 1.0).unwrap();
        let x = DMatrix::from_fn(12, 16, |_, _| rng::uniform(&mut r));
        let z = net.logits(&x);
        let y = row_argmax(&z);
        let cfg = AutoAttackConfig {
            n_iter: 5,
            targets: 2,
            fab_targets: 2,
            square_queries: 20,
            ..AutoAttackConfig::standard(Norm::Linf, 0.05)
        };
        let mut lines = Vec::new();
        let with = autoattack_with(&net, &x, &y, &cfg, &mut |l| lines.push(l.to_string())).unwrap();
        let without = autoattack(&net, &x, &y, &cfg).unwrap();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[0].starts_with("apgd-ce (12 robust"), "{lines:?}");
        assert_eq!(with.broken, without.broken);
        assert_eq!(with.cost, without.cost);
        assert!(with.sanity.ok());
        let robust: Vec<usize> = with.stages.iter().map(|s| s.robust_after).collect();
        assert!(robust.windows(2).all(|w| w[1] <= w[0]), "{robust:?}");
        assert_eq!(*robust.last().unwrap(), with.robust());
    }
}
