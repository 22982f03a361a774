//! `dimpled.linear.cost_ratio` (probe): the norms of on- and off-manifold constrained minimal
//! perturbations relative to the unconstrained one, against the first-order predictions 1/ρ_g
//! and 1/√(1 − ρ_g²) (dimpled.md §4, §7 check 3). DMM expectation at ρ_x = √d: on/std ≥ 1.5 and
//! off/std ≤ 1.3; at ρ_x = 1 the signature reverses [derived: pilot].

use super::linear_case;
use crate::check::{Check, Ctx, Evidence};
use crate::dimpled::{finite, measure, Search};
use crate::error::Result;
use crate::geometry::Tangents;
use crate::stats::median;
use crate::theory::Kind;

pub struct LinearCostRatio;

impl Check for LinearCostRatio {
    fn id(&self) -> &'static str {
        "dimpled.linear.cost_ratio"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let seed = p.n("seed")? as u64;
        let d = p.n("d")? as f64;
        let mut ev = ctx.evidence();
        let mut on_off = Vec::new();
        for rho_x in [d.sqrt(), 1.0] {
            let c = linear_case(p, seed, rho_x)?;
            let search = Search {
                n_iter: p.n("n_iter")?,
                bisection: p.n("bisection")?,
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
            let (m_on, m_off) = (median(&finite(&on)), median(&finite(&off)));
            on_off.push((m_on, m_off));
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
        ev.ge(
            "ρ_x = √d: median ‖δ_on‖/‖δ_std‖",
            Kind::Probe,
            on_off[0].0,
            1.5,
        )
        .le(
            "ρ_x = √d: median ‖δ_off‖/‖δ_std‖",
            Kind::Probe,
            on_off[0].1,
            1.3,
        )
        .le(
            "control: ρ_x = 1 (documented reversal): median ‖δ_on‖/‖δ_std‖",
            Kind::Control,
            on_off[1].0,
            1.5,
        );
        Ok(ev)
    }
}
