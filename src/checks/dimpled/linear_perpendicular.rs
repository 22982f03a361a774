//! `dimpled.linear.perpendicular`: on a linear manifold, the on-manifold fraction ρ of minimal
//! adversarial perturbations, of ∇_x N and of random directions, at ρ_x = √d and ρ_x = 1
//! (dimpled.md §4, §7 check 2). Gate: DeepFool's first step is along ∇N, so its ρ equals ρ_g.
//! Probe (the DMM claim): at ρ_x = √d the median ρ(δ_std) ≤ 0.5 and below its value at ρ_x = 1.

use super::linear_case;
use crate::attack::deepfool::{deepfool, DeepFoolConfig};
use crate::check::{Check, Ctx, Evidence};
use crate::dimpled::{finite, measure, Search};
use crate::error::Result;
use crate::geometry::{Constraint, Tangents};
use crate::stats::median;
use crate::theory::Kind;

pub struct LinearPerpendicular;

impl Check for LinearPerpendicular {
    fn id(&self) -> &'static str {
        "dimpled.linear.perpendicular"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let seed = p.n("seed")? as u64;
        let d = p.n("d")? as f64;
        let kd = p.n("k")? as f64 / d;
        let mut ev = ctx.evidence();
        let mut medians = Vec::new();
        let (mut gate, mut control): (f64, f64) = (0.0, f64::INFINITY);
        for rho_x in [d.sqrt(), 1.0] {
            let c = linear_case(p, seed, rho_x)?;
            let t = Tangents::Shared(&c.tangent);
            let search = Search {
                n_iter: p.n("n_iter")?,
                bisection: p.n("bisection")?,
                eps_max: vec![2.0 * rho_x; c.y.len()],
                bounds: None,
                constrained: false,
            };
            let r = measure(&c.model, &c.x, &c.y, t, &search, seed)?;
            let df = deepfool(
                &c.model,
                &c.x,
                &c.y,
                &DeepFoolConfig::default(),
                &Constraint::Free,
            )?;
            let rho_first = c.tangent.fractions(&df.first_step);
            for ((first, grad), rand) in rho_first.iter().zip(&r.rho_grad).zip(&r.rho_rand) {
                gate = gate.max((first - grad).abs());
                control = control.min((rand - grad).abs());
            }
            let tag = if rho_x == 1.0 {
                "ρ_x = 1"
            } else {
                "ρ_x = √d"
            };
            let m_std = median(&finite(&r.rho_std));
            medians.push(m_std);
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
        ev.le(
            "max |ρ(DeepFool first step) − ρ(∇N)|",
            Kind::Gate,
            gate,
            1e-9,
        )
        .le("ρ_x = √d: median ρ(δ_std)", Kind::Probe, medians[0], 0.5)
        .ge(
            "median ρ(δ_std): ρ_x = 1 minus ρ_x = √d",
            Kind::Probe,
            medians[1] - medians[0],
            0.0,
        )
        .ge(
            "control: a random direction in place of the first step: min |ρ(random) − ρ(∇N)|",
            Kind::Control,
            control,
            1e-9,
        );
        ev.stat("random baseline k/d", kd);
        Ok(ev)
    }
}
