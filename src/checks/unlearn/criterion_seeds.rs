//! `unlearn.criterion.seeds` (stat): with thresholds fixed in advance from the high-probability
//! bounds ψ_p, φ_p of Gaussian data, the linear pipeline fails the (ε, δ, τ) criterion in at most a
//! fraction p of the seeds (unlearn.md §3–§4).

use super::instances::{linear_step, restrict, LinearDraw};
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::data::near_orthogonal::{self, Sampling};
use crate::error::Result;
use crate::model::Linear;
use crate::rng::{self, stream};
use crate::stats::{clopper_pearson_lower, clopper_pearson_upper};
use crate::unlearn::triple;

pub struct CriterionSeeds;

/// The parameters of `theory/unlearn.criterion.seeds.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    p: f64,
    datasets: usize,
    seeds: usize,
    /// ε₀ of the fixed thresholds (ε, δ, τ) ≤ (ε₀, δ₀, τ₀).
    eps0: f64,
    /// The control's δ₀ is this quantile of the measured δ over seeds.
    control_quantile: f64,
}

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
        let p: P = ctx.params()?;
        let (n, d, prob) = (p.n, p.d, p.p);
        let (psi_p, phi_p) = high_probability_bounds(n, d, prob);
        // (a) the high-probability event, on data sets of their own sub-stream.
        let datasets = p.datasets;
        let viol = over_seeds(datasets, |s| {
            let (_, sp) = near_orthogonal::generate(
                &mut rng::sub(s, stream::DATA, 1),
                n,
                d,
                Sampling::Gaussian,
            )?;
            Ok(sp.psi > psi_p || sp.phi > phi_p)
        })?;
        let ka = viol.iter().filter(|&&v| v).count();
        // (b) the pipeline against fixed thresholds.
        let big_lp = 1.0 / ((1.0 - psi_p) - (n as f64 - 1.0) * phi_p);
        let (eps0, delta0, tau0) = (p.eps0, big_lp * big_lp * phi_p, big_lp * phi_p);
        let seeds = p.seeds;
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
        // Control: δ₀ at the seeds' control_quantile of δ, so at least a fraction
        // 1 − control_quantile of the seeds fail by construction (3p at the defaults): a known,
        // modest violation the test must detect.
        let deltas: Vec<f64> = triples.iter().map(|t| t.1).collect();
        let kc = fails(
            eps0,
            crate::stats::quantile(&deltas, p.control_quantile),
            tau0,
        );
        let mut ev = ctx.evidence();
        let alpha = ev.alpha();
        let cp = |k: usize, n: usize| Agg::of(clopper_pearson_lower(k, n, alpha), n);
        ev.record_bounded("a.frequency", cp(ka, datasets), prob)
            .record_bounded("b.p_fail", cp(kb, seeds), prob)
            .record_bounded("control.tight_delta", cp(kc, seeds), prob);
        ev.stat("(a) frequency", ka as f64 / datasets as f64);
        ev.stat("(b) p̂_fail", kb as f64 / seeds as f64);
        ev.stat(
            "(b) one-sided 99.9% Clopper–Pearson upper bound of p_fail",
            clopper_pearson_upper(kb, seeds, alpha),
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
