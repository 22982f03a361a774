//! `unlearn.twolayer.retrain` (stat): the unlearned V1 net is closer to the net retrained by GD on
//! S_r from the same initialisation than the original is, and the forgotten point's normalised
//! margin matches the retrained one (unlearn.md §9 check 7).

use super::instances::{trained_v1, two_layer_step};
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::error::Result;
use crate::linalg::cosine;
use crate::loss::MarginLoss;
use crate::model::{Model, TwoLayer};
use crate::rng::{self, stream};
use crate::stats::clopper_pearson_lower;
use crate::train::{self, observer::NoObserver, TrainConfig};

pub struct TwolayerRetrain;

/// The parameters of `theory/unlearn.twolayer.retrain.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    m: usize,
    steps: usize,
    seeds: usize,
}

struct Seed {
    improved: bool,
    margin_gap: f64,
    control_improved: bool,
    cos_orig: f64,
    cos_unl: f64,
}

/// q_r/q_min(S_r) of a net.
fn forgotten_margin(net: &TwoLayer, data: &crate::data::Binary, r: usize) -> f64 {
    let q = net.forward(data.x()).component_mul(data.y());
    let qmin = (0..data.n()).filter(|&i| i != r).map(|i| q[i]).min_f();
    q[r] / qmin
}

fn run_seed(seed: u64, n: usize, d: usize, m: usize, steps: usize) -> Result<Seed> {
    let t = trained_v1(seed, n, d, m, steps)?;
    let r = t.r;
    let w1 = two_layer_step(&t.net, &t.data, &t.lambda, &[r], 1.0)?;
    let keep = crate::unlearn::retained(n, &[r]);
    let mut ret = t.init.clone();
    train::train(
        &mut ret,
        &t.data.subset(&keep),
        &TrainConfig::new(t.lr, steps, MarginLoss::Logistic),
        &mut NoObserver,
    )?;
    let (a, b) = (
        cosine(w1.params(), ret.params()),
        cosine(t.net.params(), ret.params()),
    );
    // Control: a random step of the same length instead of the GA step.
    let len = (w1.params() - t.net.params()).norm();
    let u = rng::unit_sphere(&mut rng::seeded(seed, stream::DIRECTIONS), t.net.n_params());
    let rand = t.net.params() + u * len;
    Ok(Seed {
        improved: a > b,
        margin_gap: (forgotten_margin(&w1, &t.data, r) - forgotten_margin(&ret, &t.data, r)).abs(),
        control_improved: cosine(&rand, ret.params()) > b,
        cos_orig: b,
        cos_unl: a,
    })
}

impl Check for TwolayerRetrain {
    fn id(&self) -> &'static str {
        "unlearn.twolayer.retrain"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let all = over_seeds(p.seeds, |s| run_seed(s, p.n, p.d, p.m, p.steps))?;
        let mut ev = ctx.evidence();
        // One-sided Clopper–Pearson lower bound of P(improved) at α_i: the claim holds when it
        // exceeds ½ (the step helps more often than a coin would).
        let alpha = ev.alpha();
        let frac = |f: fn(&Seed) -> bool| {
            let k = all.iter().filter(|s| f(s)).count();
            Agg::of(clopper_pearson_lower(k, all.len(), alpha), all.len())
        };
        ev.record("cos.improved", frac(|s| s.improved))
            .record("q_r.gap", Agg::median(all.iter().map(|s| s.margin_gap)))
            .record("control.random_step", frac(|s| s.control_improved));
        ev.stat(
            "median cos(W, W_ret)",
            crate::stats::median(&all.iter().map(|s| s.cos_orig).collect::<Vec<_>>()),
        );
        ev.stat(
            "median cos(W', W_ret)",
            crate::stats::median(&all.iter().map(|s| s.cos_unl).collect::<Vec<_>>()),
        );
        ev.stat(
            "max forgotten-margin gap",
            all.iter().map(|s| s.margin_gap).max_f(),
        );
        Ok(ev)
    }
}
