//! `dimpled.linear.perpendicular`: on a linear manifold, the on-manifold fraction ρ of minimal
//! adversarial perturbations, of ∇_x N and of random directions, at ρ_x = √d and ρ_x = 1
//! (dimpled.md §4, §7 check 2). Probe (the DMM claim): at ρ_x = √d the median ρ(δ_std) ≤ 0.5.
//! Control: the same criterion must reject the regime where the perturbations are known to lie
//! on the manifold (ρ_x = 1, the documented reversal). That DeepFool's first step is along ∇N
//! for a binary model is a property of the code (`attack::deepfool` unit test), not evidence.

use super::{linear_case, LinearParams};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::dimpled::{finite, measure, Search};
use crate::error::Result;
use crate::geometry::Tangents;
use crate::stats::median;

pub struct LinearPerpendicular;

impl Check for LinearPerpendicular {
    fn id(&self) -> &'static str {
        "dimpled.linear.perpendicular"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: LinearParams = ctx.params()?;
        let seed = p.seed;
        let d = p.d as f64;
        let kd = p.k as f64 / d;
        let mut ev = ctx.evidence();
        let mut medians = Vec::new();
        let mut found = 0;
        for rho_x in [d.sqrt(), 1.0] {
            let c = linear_case(&p, rho_x)?;
            let t = Tangents::Shared(&c.tangent);
            let search = Search {
                n_iter: p.n_iter,
                bisection: p.bisection,
                eps_max: vec![2.0 * rho_x; c.y.len()],
                bounds: None,
                constrained: false,
            };
            let r = measure(&c.model, &c.x, &c.y, t, &search, seed)?;
            found += r.r_std.iter().filter(|v| v.is_finite()).count();
            let tag = if rho_x == 1.0 {
                "ρ_x = 1"
            } else {
                "ρ_x = √d"
            };
            medians.push(finite(&r.rho_std));
            let m_std = median(&finite(&r.rho_std));
            ev.stat(format!("{tag}: median ρ(δ_std)"), m_std)
                .stat(format!("{tag}: median ρ(∇N)"), median(&r.rho_grad))
                .stat(format!("{tag}: median ρ(random)"), median(&r.rho_rand))
                .stat(
                    format!("{tag}: median enrichment ρ(δ_std)²/(k/d)"),
                    m_std * m_std / kd,
                )
                .stat(format!("{tag}: median ‖δ_std‖"), median(&finite(&r.r_std)))
                .stat(
                    format!("{tag}: points without a perturbation ≤ 2ρ_x"),
                    r.r_std.iter().filter(|v| v.is_nan()).count() as f64,
                );
        }
        ev.record("perturbations", Agg::fraction(found, 2 * p.n_test))
            .record("rho.std", Agg::median(medians[0].iter().copied()))
            .record("control.reversal", Agg::median(medians[1].iter().copied()));
        ev.stat("random baseline k/d", kd);
        Ok(ev)
    }
}
