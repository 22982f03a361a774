//! `subspace.c7_relative` (probe): at ρ_x = √d and β = 1 the off-subspace flip distance r⊥ is
//! small relative to the data: median r⊥/d_opp ≤ 0.5 (d_opp the distance to the nearest training
//! point of the other label), and the ratio grows as β decreases. At ρ_x = 1 the comparison
//! reverses (subspace.md §5 check 7; the reversal is [derived: pilot]).

use crate::attack::line::first_root;
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::model::Model;
use crate::stats::median;
use crate::subspace::{analyse, train, Setting};
use crate::train::optim::Method;

pub struct Relative;

/// The parameters of `theory/subspace.c7_relative.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    beta: f64,
    beta_small: f64,
    max_steps: usize,
    seeds: usize,
}

/// Medians over training points and seeds of r⊥/d_opp, r⊥/r_P and r⊥/‖x‖.
fn ratios(s: &Setting, seeds: usize) -> Result<Vec<[f64; 3]>> {
    let per = crate::check::over_seeds(seeds, |seed| {
        let inst = train(seed, s, Method::Gd)?;
        let x = inst.data.x();
        let y = inst.data.y();
        let pts = analyse(&inst.net, &inst.sub, x);
        let grads = inst.net.input_grad(x);
        let on_part = &grads - inst.sub.project_out(&grads);
        let mut out = Vec::new();
        for (i, g) in pts.iter().enumerate() {
            let Some(r_off) = g.line.t else { continue };
            let xi = x.row(i).transpose();
            let d_opp = (0..x.nrows())
                .filter(|&j| y[j] != y[i])
                .map(|j| (x.row(j) - x.row(i)).norm())
                .fold(f64::INFINITY, f64::min);
            let on = on_part.row(i).transpose();
            let r_p = if on.norm() > 0.0 {
                first_root(&inst.net, &xi, &(on.normalize() * -g.n_x.signum()))
                    .t
                    .unwrap_or(f64::INFINITY)
            } else {
                f64::INFINITY
            };
            out.push([r_off / d_opp, r_off / r_p, r_off / xi.norm()]);
        }
        Ok(out)
    })?;
    Ok(per.into_iter().flatten().collect())
}

impl Check for Relative {
    fn id(&self) -> &'static str {
        "subspace.c7_relative"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let base = super::setting(p.d, p.k, p.n, p.m, p.beta, p.max_steps);
        let seeds = p.seeds;
        let small = Setting {
            beta: p.beta_small,
            ..base.clone()
        };
        let unit = Setting {
            rho_x: 1.0,
            ..base.clone()
        };
        let r1 = ratios(&base, seeds)?;
        let rs = ratios(&small, seeds)?;
        let ru = ratios(&unit, seeds)?;
        let median_of = |v: &[[f64; 3]], k: usize| Agg::median(v.iter().map(|r| r[k]));
        let mut ev = ctx.evidence();
        ev.record("ratio.beta1", median_of(&r1, 0))
            .record(
                "ratio.small_beta_gain",
                median_of(&rs, 0).zip(median_of(&r1, 0), |a, b| a - b),
            )
            .record("control.reversal", median_of(&ru, 0));
        for (tag, r) in [
            ("ρ_x = √d, β = 1", &r1),
            ("ρ_x = √d, small β", &rs),
            ("ρ_x = 1, β = 1", &ru),
        ] {
            let col = |k: usize| median(&r.iter().map(|v| v[k]).collect::<Vec<_>>());
            ev.stat(format!("{tag}: median r⊥/d_opp"), col(0))
                .stat(format!("{tag}: median r⊥/r_P"), col(1))
                .stat(format!("{tag}: median r⊥/‖x‖"), col(2));
        }
        Ok(ev)
    }
}
