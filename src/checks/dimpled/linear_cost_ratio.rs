//! `dimpled.linear.cost_ratio` (probe): the norms of on- and off-manifold constrained minimal
//! perturbations relative to the unconstrained one, against the first-order predictions 1/ρ_g
//! and 1/√(1 − ρ_g²) (dimpled.md §4, §7 check 3). DMM expectation at ρ_x = √d: on/std ≥ 1.5 and
//! off/std ≤ 1.3; at ρ_x = 1 the signature reverses [derived: pilot].

use super::{linear_case, LinearParams};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::dimpled::{finite, measure, Search};
use crate::error::Result;
use crate::geometry::Tangents;
use crate::stats::median;

pub struct LinearCostRatio;

impl Check for LinearCostRatio {
    fn id(&self) -> &'static str {
        "dimpled.linear.cost_ratio"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: LinearParams = ctx.params()?;
        let seed = p.seed;
        let d = p.d as f64;
        let mut ev = ctx.evidence();
        let mut on_off = Vec::new();
        for rho_x in [d.sqrt(), 1.0] {
            let c = linear_case(&p, rho_x)?;
            let search = Search {
                n_iter: p.n_iter,
                bisection: p.bisection,
                eps_max: vec![4.0 * rho_x; c.y.len()],
                bounds: None,
                constrained: true,
            };
            let r = measure(
                &c.model,
                &c.x,
                &c.y,
                Tangents::Shared(&c.tangent),
                &search,
                seed,
            )?;
            let (on, off) = (r.on_ratio(), r.off_ratio());
            let ratio = |a: &[f64], b: &[f64]| {
                median(&finite(
                    &a.iter().zip(b).map(|(x, y)| x / y).collect::<Vec<_>>(),
                ))
            };
            let tag = if rho_x == 1.0 {
                "ρ_x = 1"
            } else {
                "ρ_x = √d"
            };
            on_off.push((finite(&on), finite(&off)));
            let (m_on, m_off) = (median(&finite(&on)), median(&finite(&off)));
            ev.stat(format!("{tag}: median ‖δ_on‖/‖δ_std‖"), m_on)
                .stat(format!("{tag}: median ‖δ_off‖/‖δ_std‖"), m_off)
                .stat(
                    format!("{tag}: median predicted on/std 1/ρ_g"),
                    median(&r.on_predicted()),
                )
                .stat(
                    format!("{tag}: median predicted off/std 1/√(1 − ρ_g²)"),
                    median(&r.off_predicted()),
                )
                .stat(
                    format!("{tag}: median on/std measured/predicted"),
                    ratio(&on, &r.on_predicted()),
                )
                .stat(
                    format!("{tag}: median off/std measured/predicted"),
                    ratio(&off, &r.off_predicted()),
                )
                .stat(
                    format!("{tag}: points where a constrained attack failed"),
                    on.iter()
                        .zip(&off)
                        .filter(|(a, b)| !a.is_finite() || !b.is_finite())
                        .count() as f64,
                );
        }
        let [(on_big, off_big), (on_unit, _)] = <[_; 2]>::try_from(on_off)
            .map_err(|_| crate::error::Error::input("two data radii expected"))?;
        ev.record("on_std", Agg::median(on_big))
            .record("off_std", Agg::median(off_big))
            .record("control.reversal", Agg::median(on_unit));
        Ok(ev)
    }
}
