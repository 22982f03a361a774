//! `unlearn.twolayer.fixture`: on the V1 class-aligned exact KKT fixture, GA at c = 1 causes no
//! activation flips and leaves an exact KKT point of S_r up to the margin shifts
//! q_i(W') = q_i(W) − λ_r H_ir (T7, unlearn.md §6).

use super::instances::{restrict, two_layer_step};
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence};
use crate::error::Result;
use crate::margin::fixture::{class_aligned, Draw};
use crate::model::Model;
use crate::rng::{self, stream};
use crate::unlearn::{flips, triple};

pub struct TwolayerFixture;

/// The parameters of `theory/unlearn.twolayer.fixture.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    m: usize,
    mu_norm2: f64,
    seeds: usize,
}

struct Seed {
    sufficient: bool,
    flips: usize,
    eps: f64,
    t7: f64,
    delta: f64,
    tau: f64,
    control: f64,
}

fn run_seed(seed: u64, n: usize, d: usize, m: usize, mu2: f64) -> Result<Option<Seed>> {
    let f = match class_aligned(&mut rng::sub(seed, stream::DATA, 1), n, d, m, mu2)? {
        Draw::Accepted(f) => f,
        Draw::Rejected(_) => return Ok(None),
    };
    let r = rng::index(&mut rng::seeded(seed, stream::CHOICE), n);
    let lam = &f.lambda;
    let keep = crate::unlearn::retained(n, &[r]);
    let retained = f.data.subset(&keep);
    let mu = restrict(lam, &keep);
    let w1 = two_layer_step(&f.net, &f.data, lam, &[r], 1.0)?;
    let q = f.net.forward(f.data.x()).component_mul(f.data.y());
    let q1 = w1.forward(f.data.x()).component_mul(f.data.y());
    let (big_l, lr) = (lam.max(), lam[r]);
    let phi_h = crate::data::spread::Spread::of_gram(&f.h, 1.0).phi;
    let tr = triple(&w1, &retained, &mu);
    let norm = f.net.params().norm();
    let half = two_layer_step(&f.net, &f.data, lam, &[r], 0.5)?;
    Ok(Some(Seed {
        sufficient: flips::sufficient_condition(&f.net, &f.data, r, lr, 1.0),
        flips: flips::count(&f.net, &w1, &f.data, &[r]),
        eps: tr.eps / norm,
        t7: keep
            .iter()
            .map(|&i| (q1[i] - (q[i] - lr * f.h[(i, r)])).abs())
            .fold(0.0, f64::max),
        delta: if phi_h > 0.0 {
            tr.delta / (big_l * lr * phi_h)
        } else {
            tr.delta
        },
        tau: if phi_h > 0.0 {
            tr.tau / (lr * phi_h)
        } else {
            tr.tau
        },
        control: triple(&half, &retained, &mu).eps / norm,
    }))
}

impl Check for TwolayerFixture {
    fn id(&self) -> &'static str {
        "unlearn.twolayer.fixture"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let all = over_seeds(p.seeds, |s| run_seed(s, p.n, p.d, p.m, p.mu_norm2))?;
        let acc: Vec<&Seed> = all.iter().flatten().collect();
        let worst = |f: fn(&Seed) -> f64| Agg::max(acc.iter().map(|s| f(s)));
        let mut ev = ctx.evidence();
        ev.record("fixtures.accepted", Agg::count(acc.len(), all.len()))
            .record(
                "noflip.condition_fails",
                Agg::count(acc.iter().filter(|s| !s.sufficient).count(), acc.len()),
            )
            .record(
                "flips",
                Agg::count(acc.iter().map(|s| s.flips).sum::<usize>(), acc.len()),
            )
            .record("eps", worst(|s| s.eps))
            .record("t7.identity", worst(|s| s.t7))
            .record("t3.delta", worst(|s| s.delta))
            .record("t3.tau", worst(|s| s.tau))
            .record("control.half_step", Agg::min(acc.iter().map(|s| s.control)));
        ev.stat("rejected fixture draws", (all.len() - acc.len()) as f64);
        Ok(ev)
    }
}
