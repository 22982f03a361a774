//! AutoAttack's "standard" pipeline (Croce & Hein 2020, arXiv:2003.01690; fra31/auto-attack
//! `autoattack.py`): APGD-CE → APGD-T (targets: the 2nd … 10th largest clean logits) → FAB-T (9
//! targets) → Square (5000 queries). Clean-misclassified points are never attacked; every stage
//! attacks only the points still robust, and a point leaves once broken. Robust accuracy is the
//! pointwise worst case. Each stage reports its successes, its passes (forward + backward and
//! forward-only, per sample, including one verification forward per attacked point and run) and
//! its wall time.

use super::apgd::{run_verified, ApgdConfig, Norm, Variant};
use super::campaign::{Attack, Campaign};
use super::fab::{fab_targeted, FabConfig};
use super::losses::{DlrForm, Loss};
use super::objective::{ClassObjective, Cost, Goal, Objective};
use super::report::{validate, PipelineReport};
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
    let clean_pass = Cost {
        gradients: 0,
        forwards: n,
    };
    let mut campaign = Campaign::new(x, clean_correct, clean_pass, start);
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
            campaign.robust()
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
            let live = campaign.robust_points();
            if live.is_empty() {
                break;
            }
            let ys = live.gather(y);
            let rng = &mut rng;
            let attack: Box<Attack<'_>> = match stage {
                Stage::ApgdCe | Stage::ApgdT => {
                    let (loss, goal) = match run {
                        None => (Loss::CrossEntropy, Goal::Untargeted),
                        Some(j) => (
                            Loss::DlrTargeted(DlrForm::AutoAttack),
                            Goal::TargetedLossMisclassify(
                                live.rows()
                                    .iter()
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
                    Box::new(move |xs: &DMatrix<f64>| {
                        let (xa, ok) = run_verified(&obj, xs, cfg.eps, &acfg, rng)?;
                        Ok((xa, ok, obj.cost()))
                    })
                }
                Stage::FabT => {
                    let tg: Vec<usize> = live
                        .rows()
                        .iter()
                        .map(|&i| autoattack_targets(&rows[i], cfg.fab_targets)[run.unwrap_or(0)])
                        .collect();
                    let fc = FabConfig {
                        n_iter: cfg.n_iter,
                        ..FabConfig::new(cfg.norm)
                    };
                    let ys = &ys;
                    Box::new(move |xs: &DMatrix<f64>| {
                        let r = fab_targeted(model, xs, ys, &tg, &fc);
                        let ok: Vec<bool> = r.radius.iter().map(|&rr| rr <= cfg.eps).collect();
                        Ok((r.x_adv, ok, r.cost))
                    })
                }
                Stage::Square => {
                    let ys = &ys;
                    Box::new(move |xs: &DMatrix<f64>| {
                        let r = square(
                            model,
                            xs,
                            ys,
                            cfg.norm,
                            cfg.eps,
                            cfg.square_queries,
                            cfg.square_offsets,
                            rng,
                        );
                        Ok((r.x_adv, r.success, r.cost))
                    })
                }
            };
            let out = campaign.attack(live.rows(), attack)?;
            stage_cost = stage_cost + out.cost;
            broken_here += out.broken;
        }
        campaign.close_stage(
            stage.label(cfg.norm).to_string(),
            broken_here,
            stage_cost,
            t0,
        );
        if stage == Stage::Square
            && broken_here > 0
            && cfg.stages.iter().any(|s| *s != Stage::Square)
        {
            campaign.warn(format!(
                "Square broke {broken_here} point(s) the gradient attacks missed: a hint of \
                 gradient masking (the gradients may not show the model's true robustness)"
            ));
        }
    }
    campaign.finish(model, y, cfg.norm, cfg.eps)
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
