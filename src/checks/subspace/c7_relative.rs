//! `subspace.c7_relative` (probe): at ρ_x = √d and β = 1 the off-subspace flip distance r⊥ is
//! small relative to the data: median r⊥/d_opp ≤ 0.5 (d_opp the distance to the nearest training
//! point of the other label), and the ratio grows as β decreases. At ρ_x = 1 the comparison
//! reverses (subspace.md §5 check 7; the reversal is [derived: pilot]).

use crate::attack::line::first_root;
use crate::check::{Check, Ctx, Evidence};
use crate::error::Result;
use crate::model::Model;
use crate::stats::median;
use crate::subspace::{analyse, train, Setting};
use crate::theory::Kind;
use crate::train::optim::Method;

pub struct Relative;

/// Medians over training points and seeds of r⊥/d_opp, r⊥/r_P and r⊥/‖x‖.
fn ratios(s: &Setting, seeds: usize) -> Result<[f64; 3]> {
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
    let all: Vec<[f64; 3]> = per.into_iter().flatten().collect();
    Ok([0, 1, 2].map(|k| median(&all.iter().map(|r| r[k]).collect::<Vec<_>>())))
}

impl Check for Relative {
    fn id(&self) -> &'static str {
        "subspace.c7_relative"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let base = super::setting(p)?;
        let seeds = p.n("seeds")?;
        let small = Setting {
            beta: p.f("beta_small")?,
            ..base.clone()
        };
        let unit = Setting {
            rho_x: 1.0,
            ..base.clone()
        };
        let r1 = ratios(&base, seeds)?;
        let rs = ratios(&small, seeds)?;
        let ru = ratios(&unit, seeds)?;
        let mut ev = ctx.evidence();
        ev.le("ρ_x = √d, β = 1: median r⊥/d_opp", Kind::Probe, r1[0], 0.5)
            .ge(
                "median r⊥/d_opp at the small β minus at β = 1",
                Kind::Probe,
                rs[0] - r1[0],
                0.0,
            )
            .ge(
                "control: ρ_x = 1 (documented reversal): median r⊥/d_opp",
                Kind::Control,
                ru[0],
                0.5,
            );
        for (tag, r) in [
            ("ρ_x = √d, β = 1", r1),
            ("ρ_x = √d, small β", rs),
            ("ρ_x = 1, β = 1", ru),
        ] {
            ev.stat(format!("{tag}: median r⊥/d_opp"), r[0])
                .stat(format!("{tag}: median r⊥/r_P"), r[1])
                .stat(format!("{tag}: median r⊥/‖x‖"), r[2]);
        }
        Ok(ev)
    }
}
