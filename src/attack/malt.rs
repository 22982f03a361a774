//! MALT (Melamed, Yehudai & Shamir 2024, arXiv:2407.02240; official code `MALT_attack.py`):
//! targets ranked once at the clean x by the score of [`super::targets`], then for i = 0 … k − 1
//! on the points still unbroken a targeted APGD (adv_lib variant, targeted DLR in adv_lib's form)
//! toward T_i; a point counts as broken only if arg max f(x_adv) = T_i. Clean-misclassified points
//! are attacked as the reference does (so the pass counts match it) but are not counted as broken:
//! they were never robust (robust accuracy = mean[arg max f(x_adv) = y]). The report has one stage
//! per target rank, so the progress over targets shows as AutoAttack's per-target logs do.
//!
//! Passes per sample (malt.md §7): 1 forward + |C| gradients for the targeting, then per target
//! run (N + 1) gradients + 1 verification forward.

use super::apgd::{run_verified, ApgdConfig, Norm, Variant};
use super::campaign::Campaign;
use super::incumbent::Live;
use super::losses::{DlrForm, Loss};
use super::objective::{ClassObjective, Cost, Goal, Objective};
use super::report::{validate, PipelineReport};
use super::targets::{malt_rankings, Ranking};
use crate::error::Result;
use crate::linalg::row_argmax;
use crate::model::Classifier;
use crate::rng::{self, stream};
use nalgebra::DMatrix;
use std::time::Instant;

/// MALT settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MaltConfig {
    /// Threat model.
    pub norm: Norm,
    /// Radius.
    pub eps: f64,
    /// Targets attacked.
    pub k: usize,
    /// Candidates scored.
    pub testk: usize,
    /// APGD iterations per target.
    pub n_iter: usize,
    /// Seed of the random starts.
    pub seed: u64,
}

impl MaltConfig {
    /// The demo settings: k = 9, testk = min(100, K − 1), 100 iterations.
    pub fn new(norm: Norm, eps: f64, classes: usize) -> Self {
        Self {
            norm,
            eps,
            k: 9.min(classes.saturating_sub(1)),
            testk: 100.min(classes.saturating_sub(1)),
            n_iter: 100,
            seed: 0,
        }
    }
}

/// MALT's outcome: the pipeline report, the rankings and the rank at which each point broke.
#[derive(Clone, Debug)]
pub struct MaltReport {
    /// Successes, passes, time.
    pub pipeline: PipelineReport,
    /// The ranking at each clean point.
    pub rankings: Vec<Ranking>,
    /// 0-based target rank whose attack reached its target, for every point (clean-misclassified
    /// ones included: the reference attacks them too, which the pass counts follow).
    pub broken_at: Vec<Option<usize>>,
}

/// Runs MALT.
pub fn malt(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    cfg: &MaltConfig,
) -> Result<MaltReport> {
    malt_with(model, x, y, cfg, &mut |_| {})
}

/// [`malt`], calling `progress` with a line at the start of each target rank (for a terminal).
pub fn malt_with(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    cfg: &MaltConfig,
    progress: &mut dyn FnMut(&str),
) -> Result<MaltReport> {
    validate(model, x, y, cfg.eps)?;
    Loss::DlrTargeted(DlrForm::AdvLib).check_classes(model.classes())?;
    let start = Instant::now();
    let n = x.nrows();
    let t0 = Instant::now();
    let (rankings, cost) = malt_rankings(model, x, y, cfg.norm, cfg.k, cfg.testk)?;
    let clean_correct: Vec<bool> = row_argmax(&model.logits(x))
        .iter()
        .zip(y)
        .map(|(p, l)| p == l)
        .collect();
    let mut campaign = Campaign::new(x, clean_correct, Cost::default(), start);
    campaign.close_stage("targeting".into(), 0, cost, t0);
    // `attacked` follows the reference (every point until it reaches its target); the campaign
    // counts only the clean-correct ones as broken.
    let mut attacked = vec![false; n];
    let mut broken_at = vec![None; n];
    let mut rng = rng::seeded(cfg.seed, stream::ATTACK);
    let acfg = ApgdConfig {
        n_iter: cfg.n_iter,
        ..ApgdConfig::new(cfg.norm, Variant::AdvLib)
    };
    for rank in 0..cfg.k {
        let live = Live::filter(n, |&i| !attacked[i]);
        if live.is_empty() {
            break;
        }
        progress(&format!(
            "target {} of {} ({} points still attacked)",
            rank + 1,
            cfg.k,
            live.len()
        ));
        let t_rank = Instant::now();
        let ys = live.gather(y);
        let tg: Vec<usize> = live
            .rows()
            .iter()
            .map(|&i| rankings[i].targets[rank])
            .collect();
        let obj = ClassObjective::new(
            model,
            &ys,
            Loss::DlrTargeted(DlrForm::AdvLib),
            Goal::Targeted(tg),
        )?;
        let rng = &mut rng;
        let out = campaign.attack(live.rows(), |xs: &DMatrix<f64>| {
            let (xa, ok) = run_verified(&obj, xs, cfg.eps, &acfg, rng)?;
            Ok((xa, ok, obj.cost()))
        })?;
        for &i in &out.succeeded {
            attacked[i] = true;
            broken_at[i] = Some(rank);
        }
        campaign.close_stage(format!("target {}", rank + 1), out.broken, out.cost, t_rank);
    }
    let pipeline = campaign.finish(model, y, cfg.norm, cfg.eps)?;
    Ok(MaltReport {
        pipeline,
        rankings,
        broken_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activation, Mlp};

    /// A random 6-8-4 net on 12 points, every third labelled with a class the net does not
    /// predict: those are attacked (as the reference does) but never counted as broken; the
    /// stages' broken counts add up to the broken set, and each stage's robust count is the
    /// previous one minus what it broke.
    #[test]
    fn stages_count_only_clean_correct_points_as_broken() {
        let (d, k, n) = (6, 4, 12);
        let mut r = rng::seeded(3, 0);
        let model = Mlp::init(&mut r, vec![d, 8, k], Activation::Relu, 1.0).unwrap();
        let x = DMatrix::from_fn(n, d, |_, _| rng::uniform(&mut r));
        let pred = row_argmax(&model.logits(&x));
        let y: Vec<usize> = pred
            .iter()
            .enumerate()
            .map(|(i, &p)| if i % 3 == 0 { (p + 1) % k } else { p })
            .collect();
        let cfg = MaltConfig {
            n_iter: 20,
            ..MaltConfig::new(Norm::Linf, 0.15, k)
        };
        let rep = malt(&model, &x, &y, &cfg).unwrap();
        let p = &rep.pipeline;
        let correct: Vec<bool> = (0..n).map(|i| i % 3 != 0).collect();
        assert_eq!(p.clean_correct, correct);
        assert_eq!(p.stages[0].robust_after, 8);
        let broken = p.broken.iter().filter(|b| **b).count();
        assert!(
            broken > 0 && 2 * broken != 8,
            "broken {broken}: pick ε so it is informative"
        );
        assert_eq!(p.stages.iter().map(|s| s.broken).sum::<usize>(), broken);
        assert_eq!(p.stages.last().unwrap().robust_after, 8 - broken);
        for w in p.stages.windows(2) {
            assert_eq!(w[0].robust_after - w[1].broken, w[1].robust_after);
        }
        for (i, &was_correct) in correct.iter().enumerate() {
            assert!(was_correct || !p.broken[i], "point {i} was never robust");
            if p.broken[i] {
                let rank = rep.broken_at[i].expect("a broken point broke at a rank");
                let z = model.logits(&p.x_adv.rows(i, 1).into_owned());
                let target = rep.rankings[i].targets[rank];
                assert_eq!(row_argmax(&z)[0], target, "point {i} reached its target");
            }
        }
        assert!(
            (0..n).any(|i| !correct[i] && rep.broken_at[i].is_some()),
            "a misclassified point is attacked and reaches a target"
        );
    }
}
