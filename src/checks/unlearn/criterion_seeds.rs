//! `unlearn.criterion.seeds` (stat): with thresholds fixed in advance from the high-probability
//! bounds ψ_p, φ_p of Gaussian data, the linear pipeline fails the (ε, δ, τ) criterion in at most a
//! fraction p of the seeds (unlearn.md §3–§4).

use super::instances::{linear_step, restrict, LinearDraw};
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::data::near_orthogonal::{self, Sampling};
use crate::error::Result;
use crate::model::Linear;
use crate::rng::{self, stream};
use crate::stats::{clopper_pearson_lower, clopper_pearson_upper, ALPHA};
use crate::theory::Kind;
use crate::unlearn::triple;

pub struct CriterionSeeds;

/// ψ_p = (2√(du) + 2u)/d with u = log(4n/p); φ_p = √((1 + ψ_p)·2 log(2n(n − 1)/p)/d).
pub fn high_probability_bounds(n: usize, d: usize, p: f64) -> (f64, f64) {
    let (nf, df) = (n as f64, d as f64);
    let u = (4.0 * nf / p).ln();
    let psi = (2.0 * (df * u).sqrt() + 2.0 * u) / df;
    let phi = ((1.0 + psi) * 2.0 * (2.0 * nf * (nf - 1.0) / p).ln() / df).sqrt();
    (psi, phi)
}

impl Check for CriterionSeeds {
    fn id(&self) -> &'static str {
        "unlearn.criterion.seeds"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let (n, d, prob) = (p.n("n")?, p.n("d")?, p.f("p")?);
        let (psi_p, phi_p) = high_probability_bounds(n, d, prob);
        // (a) the high-probability event.
        let datasets = p.n("datasets")?;
        let viol = over_seeds(datasets, |s| {
            let (_, sp) = near_orthogonal::generate(
                &mut rng::seeded(s + 1_000_000, stream::DATA),
                n,
                d,
                Sampling::Gaussian,
            )?;
            Ok(sp.psi > psi_p || sp.phi > phi_p)
        })?;
        let ka = viol.iter().filter(|&&v| v).count();
        // (b) the pipeline against fixed thresholds.
        let big_lp = 1.0 / ((1.0 - psi_p) - (n as f64 - 1.0) * phi_p);
        let (eps0, delta0, tau0) = (1e-10, big_lp * big_lp * phi_p, big_lp * phi_p);
        let seeds = p.n("seeds")?;
        let triples = over_seeds(seeds, |s| {
            let dr = LinearDraw::new(s, n, d)?;
            let keep = dr.keep(&[dr.r]);
            let wp = Linear::new(linear_step(&dr, &[dr.r], 1.0));
            let t = triple(&wp, &dr.data.subset(&keep), &restrict(dr.lambda(), &keep));
            Ok((t.eps_rel, t.delta, t.tau))
        })?;
        let fails = |e0: f64, d0: f64, t0: f64| {
            triples
                .iter()
                .filter(|(e, dl, t)| *e > e0 || *dl > d0 || *t > t0)
                .count()
        };
        let kb = fails(eps0, delta0, tau0);
        let kc = fails(0.0, 0.0, 0.0);
        let mut ev = ctx.evidence();
        ev.le(
            "(a) Clopper–Pearson lower bound of P(ψ > ψ_p or φ > φ_p)",
            Kind::Stat,
            clopper_pearson_lower(ka, datasets, ALPHA),
            prob,
        )
        .le(
            "(b) Clopper–Pearson lower bound of p_fail",
            Kind::Stat,
            clopper_pearson_lower(kb, seeds, ALPHA),
            prob,
        )
        .ge(
            "control: thresholds (0, 0, 0), Clopper–Pearson lower bound of p_fail",
            Kind::Control,
            clopper_pearson_lower(kc, seeds, ALPHA),
            prob,
        );
        ev.stat("(a) frequency", ka as f64 / datasets as f64);
        ev.stat("(b) p̂_fail", kb as f64 / seeds as f64);
        ev.stat(
            "(b) one-sided 99.9% Clopper–Pearson upper bound of p_fail",
            clopper_pearson_upper(kb, seeds, ALPHA),
        );
        ev.stat("ψ_p", psi_p);
        ev.stat("φ_p", phi_p);
        ev.stat("δ₀ = Λ_p²φ_p", delta0);
        ev.stat("τ₀ = Λ_pφ_p", tau0);
        ev.stat("max δ over seeds", triples.iter().map(|t| t.1).max_f());
        ev.stat("max τ over seeds", triples.iter().map(|t| t.2).max_f());
        Ok(ev)
    }
}
