//! `unlearn.twolayer.gd`: on GD-trained V1 nets at the KKT scale, the GA step inherits the
//! stationarity residual of the original: ε_NNLS(W', S_r) = ε_NNLS(W, S) without flips, and
//! ε(W', S_r) ≤ ε(W, S) + E_flip always (T8, T9, unlearn.md §6).

use super::instances::{trained_v1, two_layer_step, TrainedDraw};
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence};
use crate::error::Result;
use crate::margin::certificate::{certify_unnormalised, CertifyOptions};
use crate::model::{Model, TwoLayer};
use crate::unlearn::flips;
use nalgebra::DVector;

pub struct TwolayerGd;

/// The parameters of `theory/unlearn.twolayer.gd.toml`.
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
    sufficient: bool,
    flips: usize,
    t9_equality: f64,
    t9_inequality: f64,
    t8_fine: f64,
    t8_coarse: f64,
    control: Option<f64>,
}

/// ε_NNLS of `net` on the retained set.
pub fn eps_retained(net: &TwoLayer, t: &TrainedDraw, forget: &[usize]) -> Result<f64> {
    let keep = crate::unlearn::retained(t.data.n(), forget);
    Ok(certify_unnormalised(net, &t.data.subset(&keep), &CertifyOptions::default())?.eps)
}

fn run_seed(seed: u64, n: usize, d: usize, m: usize, steps: usize) -> Result<Seed> {
    let t = trained_v1(seed, n, d, m, steps)?;
    let r = t.r;
    let lr = t.lambda[r];
    let w1 = two_layer_step(&t.net, &t.data, &t.lambda, &[r], 1.0)?;
    let norm = t.net.params().norm();
    let keep = crate::unlearn::retained(n, &[r]);
    let retained = t.data.subset(&keep);
    let eps1 = eps_retained(&w1, &t, &[r])?;
    // E_flip = ‖Σ_{i≠r} λ_i (g_i(W) − g_i(W'))‖.
    let c = DVector::from_iterator(
        keep.len(),
        keep.iter().map(|&i| t.lambda[i] * t.data.y()[i]),
    );
    let e_flip = (t.net.vjp(retained.x(), &c) - w1.vjp(retained.x(), &c)).norm();
    let flips1 = flips::count(&t.net, &w1, &t.data, &[r]);
    // T8.
    let q = t.net.forward(t.data.x()).component_mul(t.data.y());
    let q1 = w1.forward(t.data.x()).component_mul(t.data.y());
    let p = t.net.preact(t.data.x());
    let sv: f64 = (0..m)
        .filter(|&j| p[(r, j)] > 0.0)
        .map(|j| t.net.v()[j].powi(2))
        .sum();
    let xr = t.data.row(r);
    let phi = crate::data::spread::Spread::of_rows(t.data.x(), 1.0).phi;
    let (mut fine, mut coarse): (f64, f64) = (0.0, 0.0);
    for &i in &keep {
        let dq = (q1[i] - q[i]).abs();
        let ip = t.data.row(i).dot(&xr).abs();
        if ip > 0.0 && sv > 0.0 {
            fine = fine.max(dq / (lr * ip * sv));
        }
        coarse = coarse.max(dq / (lr * phi));
    }
    // Negative control: half the step, where flip-free, leaves a larger residual.
    let half = two_layer_step(&t.net, &t.data, &t.lambda, &[r], 0.5)?;
    let control = (flips::count(&t.net, &half, &t.data, &[r]) == 0)
        .then(|| eps_retained(&half, &t, &[r]).map(|e| (e - t.eps) / norm))
        .transpose()?;
    Ok(Seed {
        sufficient: flips::sufficient_condition(&t.net, &t.data, r, lr, 1.0),
        flips: flips1,
        t9_equality: (eps1 - t.eps).abs() / norm,
        t9_inequality: (eps1 - t.eps - e_flip) / norm,
        t8_fine: fine,
        t8_coarse: coarse,
        control,
    })
}

impl Check for TwolayerGd {
    fn id(&self) -> &'static str {
        "unlearn.twolayer.gd"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let all = over_seeds(p.seeds, |s| run_seed(s, p.n, p.d, p.m, p.steps))?;
        let no_flip: Vec<&Seed> = all.iter().filter(|s| s.flips == 0).collect();
        let with_condition: Vec<&Seed> = all.iter().filter(|s| s.sufficient).collect();
        let mut ev = ctx.evidence();
        ev.record("flip_free", Agg::count(no_flip.len(), all.len()))
            .record(
                "condition_but_flips",
                Agg::count(
                    with_condition.iter().filter(|s| s.flips > 0).count(),
                    with_condition.len(),
                ),
            )
            .record(
                "t9.equality",
                Agg::max(no_flip.iter().map(|s| s.t9_equality)),
            )
            .record(
                "t9.inequality",
                Agg::max(all.iter().map(|s| s.t9_inequality)),
            )
            .record("t8.kernel", Agg::max(all.iter().map(|s| s.t8_fine)))
            .record("t8.phi", Agg::max(all.iter().map(|s| s.t8_coarse)));
        let controls: Vec<f64> = all.iter().filter_map(|s| s.control).collect();
        ev.record("control.half_step", Agg::min(controls.iter().cloned()));
        ev.stat(
            "flip frequency (seeds with ≥ 1 flip)",
            (all.len() - no_flip.len()) as f64 / all.len() as f64,
        );
        ev.stat(
            "sufficient condition frequency",
            all.iter().filter(|s| s.sufficient).count() as f64 / all.len() as f64,
        );
        ev.stat("flip-free seeds", no_flip.len() as f64);
        Ok(ev)
    }
}
