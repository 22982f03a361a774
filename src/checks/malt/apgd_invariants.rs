//! `malt.apgd.invariants`: along every APGD run (L∞ ε = 8/255 and L2 ε = 0.5, both variants, a
//! linear model and a two-layer MLP): iterates in the ε-ball and the box, η changed only at
//! checkpoints and only by halving, L_best non-decreasing, no momentum at the first step, the
//! returned successes pass their variant's test, and N + 1 gradient evaluations per sample.

use crate::attack::apgd::{apgd, checkpoints, ApgdConfig, Norm, Trace, Variant};
use crate::attack::losses::{DlrForm, Loss};
use crate::attack::{ClassObjective, Goal, Objective};
use crate::check::{Check, Ctx, Evidence};
use crate::data::clusters::Clusters;
use crate::error::Result;
use crate::geometry::Constraint;
use crate::model::{Activation, Classifier, Mlp};
use crate::rng::{self, stream};
use crate::theory::Kind;

pub struct ApgdInvariants;

#[derive(Default)]
struct Tally {
    ball: f64,
    boxv: f64,
    eta_bad: usize,
    best_bad: usize,
    momentum: f64,
    success_bad: usize,
    evals_bad: usize,
}

impl Check for ApgdInvariants {
    fn id(&self) -> &'static str {
        "malt.apgd.invariants"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let (n, n_iter, d, k) = (p.n("points")?, p.n("n_iter")?, p.n("d")?, p.n("classes")?);
        let seed = p.n("seed")? as u64;
        let mut rd = rng::seeded(seed, stream::DATA);
        let data = Clusters::random(&mut rd, k, d, 0.15, true)?.sample(&mut rd, n)?;
        let models = [
            Mlp::init(
                &mut rng::seeded(seed, stream::INIT),
                vec![d, k],
                Activation::Relu,
                1.0,
            )?,
            Mlp::init(
                &mut rng::seeded(seed + 1, stream::INIT),
                vec![d, p.n("width")?, k],
                Activation::Relu,
                1.0,
            )?,
        ];
        let checks = checkpoints(n_iter);
        let mut t = Tally::default();
        let mut control: f64 = 0.0;
        let mut ra = rng::seeded(seed, stream::ATTACK);
        for model in &models {
            let z = model.logits(data.x());
            // AutoAttack's first target (2nd largest logit), or y + 1 if that is the label.
            let targets: Vec<usize> = (0..n)
                .map(|i| {
                    let c = crate::attack::targets::autoattack_targets(&super::row(&z, i), 1)[0];
                    if c == data.y()[i] {
                        (c + 1) % k
                    } else {
                        c
                    }
                })
                .collect();
            for (norm, eps) in [(Norm::Linf, 8.0 / 255.0), (Norm::L2, 0.5)] {
                for variant in [Variant::AutoAttack, Variant::AdvLib] {
                    let (loss, goal) = match variant {
                        Variant::AutoAttack => (Loss::CrossEntropy, Goal::Untargeted),
                        Variant::AdvLib => (
                            Loss::DlrTargeted(DlrForm::AdvLib),
                            Goal::Targeted(targets.clone()),
                        ),
                    };
                    let obj = ClassObjective::new(model, data.y(), loss, goal)?;
                    let cfg = ApgdConfig {
                        n_iter,
                        ..ApgdConfig::new(norm, variant)
                    };
                    let idx: Vec<usize> = (0..n).collect();
                    let mut tr = Trace::default();
                    let r = apgd(
                        &obj,
                        data.x(),
                        &idx,
                        &vec![eps; n],
                        &cfg,
                        &Constraint::Free,
                        &mut ra,
                        Some(&mut tr),
                    )?;
                    t.ball = t.ball.max(
                        tr.dist
                            .iter()
                            .flatten()
                            .map(|v| v - eps)
                            .fold(f64::NEG_INFINITY, f64::max),
                    );
                    t.boxv = t.boxv.max(tr.box_violation);
                    t.momentum = t.momentum.max(tr.first_step_deviation);
                    for i in 1..tr.eta.len() {
                        for s in 0..n {
                            let (a, b) = (tr.eta[i - 1][s], tr.eta[i][s]);
                            if a != b && !(checks.contains(&(i - 1)) && b == a / 2.0) {
                                t.eta_bad += 1;
                            }
                        }
                    }
                    for w in tr.loss_best.windows(2) {
                        t.best_bad += w[0].iter().zip(&w[1]).filter(|(a, b)| b < a).count();
                    }
                    let ok = obj.success(&r.x_adv, &idx);
                    t.success_bad += (0..n).filter(|&i| r.success[i] && !ok[i]).count();
                    t.evals_bad += usize::from(
                        tr.evaluations != n_iter + 1 || obj.cost().gradients != n * (n_iter + 1),
                    );
                    // Control: the same run without the box from points on the box's faces.
                    if variant == Variant::AutoAttack {
                        let edge = data.x().map(|v| if v < 0.5 { 0.0 } else { 1.0 });
                        let free = ApgdConfig {
                            bounds: None,
                            ..cfg.clone()
                        };
                        let r2 = apgd(
                            &obj,
                            &edge,
                            &idx,
                            &vec![eps; n],
                            &free,
                            &Constraint::Free,
                            &mut ra,
                            None,
                        )?;
                        control = control.max(
                            r2.x_adv
                                .iter()
                                .map(|v| (-v).max(v - 1.0).max(0.0))
                                .fold(0.0, f64::max),
                        );
                    }
                }
            }
        }
        let mut ev = ctx.evidence();
        ev.le("max ‖x_i − x‖ − ε over iterates", Kind::Gate, t.ball, 1e-12)
            .le("max distance outside [0, 1]", Kind::Gate, t.boxv, 1e-12)
            .le(
                "η changes off a checkpoint or not by halving",
                Kind::Gate,
                t.eta_bad as f64,
                0.0,
            )
            .le("decreases of L_best", Kind::Gate, t.best_bad as f64, 0.0)
            .le(
                "first iterate vs the plain projected gradient step: max |difference|",
                Kind::Gate,
                t.momentum,
                0.0,
            )
            .le(
                "returned successes failing their variant's test",
                Kind::Gate,
                t.success_bad as f64,
                0.0,
            )
            .le(
                "runs without exactly N + 1 gradient evaluations per sample",
                Kind::Gate,
                t.evals_bad as f64,
                0.0,
            )
            .ge(
                "control: without the box, from points on its faces, max distance outside [0, 1]",
                Kind::Control,
                control,
                1e-3,
            );
        Ok(ev)
    }
}
