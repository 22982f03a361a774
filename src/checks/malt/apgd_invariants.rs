//! `malt.apgd.invariants`: along every APGD run (L∞ and L2 at the radii of the theory file, both variants, a
//! linear model and a two-layer MLP): iterates in the ε-ball and the box, η changed only at
//! checkpoints and only by halving, L_best non-decreasing, no momentum at the first step, the
//! returned successes pass their variant's test, and N + 1 gradient evaluations per sample.

use crate::attack::apgd::{apgd, checkpoints, ApgdConfig, Norm, Trace, Variant};
use crate::attack::losses::{DlrForm, Loss};
use crate::attack::{ClassObjective, Goal, Objective};
use crate::check::{Agg, Check, Ctx, Evidence, Extremes};
use crate::data::clusters::Clusters;
use crate::error::Result;
use crate::geometry::Constraint;
use crate::model::{Activation, Classifier, Mlp};
use crate::rng::{self, stream};

pub struct ApgdInvariants;

/// The parameters of `theory/malt.apgd.invariants.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    points: usize,
    n_iter: usize,
    d: usize,
    classes: usize,
    width: usize,
    seed: u64,
    /// The radii of the L∞ and L2 runs.
    eps_linf: f64,
    eps_l2: f64,
    /// Spread of the Gaussian clusters the points are drawn from.
    sigma: f64,
}

/// Per-run and per-step values, and counts of violations with the number of cases examined.
#[derive(Default)]
struct Tally {
    ball: Vec<f64>,
    boxv: Vec<f64>,
    eta: (usize, usize),
    best: (usize, usize),
    momentum: Vec<f64>,
    success: (usize, usize),
    evals: (usize, usize),
    control: Vec<f64>,
}

impl Check for ApgdInvariants {
    fn id(&self) -> &'static str {
        "malt.apgd.invariants"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let (n, n_iter, d, k, seed) = (p.points, p.n_iter, p.d, p.classes, p.seed);
        let mut rd = rng::seeded(seed, stream::DATA);
        let data = Clusters::random(&mut rd, k, d, p.sigma, true)?.sample(&mut rd, n)?;
        let models = [
            Mlp::init(
                &mut rng::seeded(seed, stream::INIT),
                vec![d, k],
                Activation::Relu,
                1.0,
            )?,
            Mlp::init(
                &mut rng::sub(seed, stream::INIT, 1),
                vec![d, p.width, k],
                Activation::Relu,
                1.0,
            )?,
        ];
        let checks = checkpoints(n_iter);
        let mut t = Tally::default();
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
            for (norm, eps) in [(Norm::Linf, p.eps_linf), (Norm::L2, p.eps_l2)] {
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
                    t.ball.extend(tr.dist.iter().flatten().map(|v| v - eps));
                    t.boxv.push(tr.box_violation);
                    t.momentum.push(tr.first_step_deviation);
                    for i in 1..tr.eta.len() {
                        for s in 0..n {
                            let (a, b) = (tr.eta[i - 1][s], tr.eta[i][s]);
                            t.eta.1 += 1;
                            if a != b && !(checks.contains(&(i - 1)) && b == a / 2.0) {
                                t.eta.0 += 1;
                            }
                        }
                    }
                    for w in tr.loss_best.windows(2) {
                        t.best.0 += w[0].iter().zip(&w[1]).filter(|(a, b)| b < a).count();
                        t.best.1 += w[0].len();
                    }
                    let ok = obj.success(&r.x_adv, &idx);
                    t.success.0 += (0..n).filter(|&i| r.success[i] && !ok[i]).count();
                    t.success.1 += n;
                    t.evals.0 += usize::from(
                        tr.evaluations != n_iter + 1 || obj.cost().gradients != n * (n_iter + 1),
                    );
                    t.evals.1 += 1;
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
                        t.control
                            .push(r2.x_adv.iter().map(|v| (-v).max(v - 1.0).max(0.0)).max_f());
                    }
                }
            }
        }
        let mut ev = ctx.evidence();
        ev.record("ball", Agg::max(t.ball))
            .record("box", Agg::max(t.boxv))
            .record("eta.changes", Agg::count(t.eta.0, t.eta.1))
            .record("l_best.decreases", Agg::count(t.best.0, t.best.1))
            .record("first_step", Agg::max(t.momentum))
            .record("successes.verified", Agg::count(t.success.0, t.success.1))
            .record("gradients.count", Agg::count(t.evals.0, t.evals.1))
            .record("control.no_box", Agg::max(t.control));
        Ok(ev)
    }
}
