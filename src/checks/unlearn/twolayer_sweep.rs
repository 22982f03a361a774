//! `unlearn.twolayer.sweep`: the step-size sweep of the paper's Figure 1. For GD-trained V1 nets,
//! f(c) = ε_NNLS(θ − cλ_r g_r, S_r) ≥ ε(θ, S) at every flip-free c (gate), and ε_rel(c) is
//! minimal near c = 1 (probe).

use super::instances::{trained_v1, two_layer_step};
use super::twolayer_gd::eps_retained;
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence};
use crate::error::Result;
use crate::model::Model;
use crate::rng::{self, stream};
use crate::unlearn::flips;

pub struct TwolayerSweep;

/// The parameters of `theory/unlearn.twolayer.sweep.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    m: usize,
    steps: usize,
    seeds: usize,
}

/// One seed's sweep: (c, ε_rel(c), flip-free) for c = k/20, k = 0..40, and ε(θ, S)/‖θ‖.
pub struct Sweep {
    /// (c, ε(θ'_c, S_r)/‖θ'_c‖, no flips at c).
    pub points: Vec<(f64, f64, bool)>,
    /// f(c)/ε(θ, S) at each flip-free c.
    pub flip_free_ratios: Vec<f64>,
    /// ε(θ, S)/‖θ‖.
    pub eps_rel_original: f64,
    /// Control: (f(1) along a random direction of the same length − ε(θ, S))/‖θ‖.
    pub control: f64,
}

/// Runs the sweep for one seed.
pub fn sweep(seed: u64, n: usize, d: usize, m: usize, steps: usize) -> Result<Sweep> {
    let t = trained_v1(seed, n, d, m, steps)?;
    let r = t.r;
    let norm = t.net.params().norm();
    let mut out = Sweep {
        points: Vec::new(),
        flip_free_ratios: Vec::new(),
        eps_rel_original: t.eps / norm,
        control: 0.0,
    };
    for k in 0..=40 {
        let c = k as f64 / 20.0;
        let wc = two_layer_step(&t.net, &t.data, &t.lambda, &[r], c)?;
        let f = eps_retained(&wc, &t, &[r])?;
        let flip_free = flips::count(&t.net, &wc, &t.data, &[r]) == 0;
        if flip_free {
            out.flip_free_ratios.push(f / t.eps);
        }
        out.points.push((c, f / wc.params().norm(), flip_free));
    }
    // Negative control: a step of the same length in a random direction.
    let w1 = two_layer_step(&t.net, &t.data, &t.lambda, &[r], 1.0)?;
    let len = (w1.params() - t.net.params()).norm();
    let u = rng::unit_sphere(&mut rng::seeded(seed, stream::DIRECTIONS), t.net.n_params());
    let mut rand = t.net.clone();
    rand.set_params(&(t.net.params() + u * len))?;
    out.control = (eps_retained(&rand, &t, &[r])? - t.eps) / norm;
    Ok(out)
}

impl Check for TwolayerSweep {
    fn id(&self) -> &'static str {
        "unlearn.twolayer.sweep"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let all = over_seeds(p.seeds, |s| sweep(s, p.n, p.d, p.m, p.steps))?;
        let argmin_off = |s: &Sweep| {
            let best = s
                .points
                .iter()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|p| p.0)
                .unwrap_or(f64::NAN);
            (best - 1.0).abs()
        };
        let mut ev = ctx.evidence();
        ev.record(
            "sweep.floor",
            Agg::min(all.iter().flat_map(|s| s.flip_free_ratios.iter().copied())),
        )
        .record("argmin.distance", Agg::max(all.iter().map(argmin_off)))
        .record(
            "control.random_direction",
            Agg::min(all.iter().map(|s| s.control)),
        );
        for c in [0.0, 0.5, 0.9, 1.0, 1.1, 1.5, 2.0] {
            let k = (c * 20.0_f64).round() as usize;
            let v: Vec<f64> = all.iter().map(|s| s.points[k].1).collect();
            ev.stat(format!("median ε_rel at c = {c}"), crate::stats::median(&v));
        }
        ev.stat(
            "median ε_rel of the original on S",
            crate::stats::median(&all.iter().map(|s| s.eps_rel_original).collect::<Vec<_>>()),
        );
        ev.stat(
            "flip-free (seed, c) pairs",
            all.iter()
                .map(|s| s.points.iter().filter(|p| p.2).count())
                .sum::<usize>() as f64,
        );
        Ok(ev)
    }
}
