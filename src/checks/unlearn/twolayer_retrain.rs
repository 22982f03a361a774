//! `unlearn.twolayer.retrain` (stat): the unlearned V1 net is closer to the net retrained by GD on
//! S_r from the same initialisation than the original is, and the forgotten point's normalised
//! margin matches the retrained one (unlearn.md §9 check 7).

use super::instances::{trained_v1, two_layer_step};
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::error::Result;
use crate::linalg::cosine;
use crate::loss::MarginLoss;
use crate::model::{Model, TwoLayer};
use crate::rng::{self, stream};
use crate::theory::Kind;
use crate::train::{self, observer::NoObserver, GdConfig};

pub struct TwolayerRetrain;

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
    let keep: Vec<usize> = (0..n).filter(|&i| i != r).collect();
    let mut ret = t.init.clone();
    train::train(
        &mut ret,
        &t.data.subset(&keep),
        &GdConfig::new(t.lr, steps, MarginLoss::Logistic),
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
        let p = &ctx.params;
        let (n, d, m, steps) = (p.n("n")?, p.n("d")?, p.n("m")?, p.n("steps")?);
        let all = over_seeds(p.n("seeds")?, |s| run_seed(s, n, d, m, steps))?;
        let k = all.len() as f64;
        let frac = |f: fn(&Seed) -> bool| all.iter().filter(|s| f(s)).count() as f64 / k;
        let mut ev = ctx.evidence();
        ev.ge(
            "fraction of seeds with cos(W', W_ret) > cos(W, W_ret)",
            Kind::Stat,
            frac(|s| s.improved),
            0.8,
        )
        .le(
            "median |q_r/q_min of W' − that of W_ret|",
            Kind::Stat,
            crate::stats::median(&all.iter().map(|s| s.margin_gap).collect::<Vec<_>>()),
            0.1,
        )
        .le(
            "control: random step of the same length, fraction improved",
            Kind::Control,
            frac(|s| s.control_improved),
            0.8 - 1e-12,
        );
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
            all.iter().map(|s| s.margin_gap).fold(0.0, f64::max),
        );
        Ok(ev)
    }
}
