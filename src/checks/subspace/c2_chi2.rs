//! `subspace.c2_chi2`: Q(x) = ‖g⊥(x)‖²·d/(s_T²β²S(x)) ~ χ²_ℓ exactly (D4), tested on one fixed
//! test point per independently drawn network (subspace.md §5 check 2).

use crate::check::{over_seeds, Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::stats::{ks_pvalue, ks_statistic, mean_se};
use crate::subspace::{analyse, chi2_statistic, train};
use crate::train::optim::Method;
use statrs::distribution::{ChiSquared, ContinuousCDF};

pub struct Chi2;

/// The parameters of `theory/subspace.c2_chi2 and subspace.c3_lower_tail.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct P {
    pub(super) d: usize,
    pub(super) k: usize,
    pub(super) n: usize,
    pub(super) m: usize,
    pub(super) beta: f64,
    pub(super) max_steps: usize,
    pub(super) seeds: usize,
}

/// One seed's measurements at its test point.
pub(super) struct Sample {
    /// Q(x).
    pub q: f64,
    /// The mis-normalised control Q(x)·S(x) (the active mass left out).
    pub q_control: f64,
    /// ‖g⊥(x)‖.
    pub g_off: f64,
    /// Its D4 scale s_Tβ√(S(x)ℓ/d).
    pub scale: f64,
}

/// ℓ and one [`Sample`] per seed.
pub(super) fn samples(p: &P) -> Result<(usize, Vec<Sample>)> {
    let s = super::setting(p.d, p.k, p.n, p.m, p.beta, p.max_steps);
    let v = over_seeds(p.seeds, |seed| {
        let inst = train(seed, &s, Method::Gd)?;
        let x = inst.test_points(seed, 1)?;
        let g = analyse(&inst.net, &inst.sub, x.x())[0];
        let q = chi2_statistic(&g, s.d, inst.fit.shrink, s.beta);
        let scale = inst.fit.shrink * s.beta * (g.active_mass * s.ell() as f64 / s.d as f64).sqrt();
        Ok(Sample {
            q,
            q_control: q * g.active_mass,
            g_off: g.g_off,
            scale,
        })
    })?;
    Ok((s.ell(), v))
}

/// The KS p-value of `v` against χ²_ℓ.
pub(super) fn ks_chi2(v: &[f64], ell: usize) -> Result<f64> {
    let law = ChiSquared::new(ell as f64)
        .map_err(|e| crate::error::Error::input(format!("χ²_{ell}: {e}")))?;
    Ok(ks_pvalue(ks_statistic(v, |t| law.cdf(t)), v.len()))
}

impl Check for Chi2 {
    fn id(&self) -> &'static str {
        "subspace.c2_chi2"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let (ell, v) = samples(&ctx.params()?)?;
        let q: Vec<f64> = v.iter().map(|s| s.q).collect();
        let ctrl: Vec<f64> = v.iter().map(|s| s.q_control).collect();
        let l = ell as f64;
        let s = q.len() as f64;
        let (mean, _) = mean_se(&q);
        let var = q.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (s - 1.0);
        // SE of the mean √(2ℓ/S); of the sample variance √((μ₄ − σ⁴)/S) with μ₄ = 12ℓ(ℓ + 4).
        let se_mean = (2.0 * l / s).sqrt();
        let se_var = ((12.0 * l * (l + 4.0) - 4.0 * l * l) / s).sqrt();
        let mut ev = ctx.evidence();
        let n = q.len();
        ev.record("ks", Agg::of(ks_chi2(&q, ell)?, n))
            .record("mean", Agg::of((mean - l).abs() / se_mean, n))
            .record("var", Agg::of((var - 2.0 * l).abs() / se_var, n))
            .record("control.ks_no_mass", Agg::of(ks_chi2(&ctrl, ell)?, n));
        let mean_of = |f: fn(&Sample) -> f64| v.iter().map(f).sum::<f64>() / s;
        ev.stat("mean Q/ℓ", mean / l)
            .stat("var Q/(2ℓ)", var / (2.0 * l))
            .stat("mean ‖g⊥(x)‖", mean_of(|t| t.g_off))
            .stat("mean D4 scale s_Tβ√(S(x)ℓ/d) of ‖g⊥‖", mean_of(|t| t.scale));
        Ok(ev)
    }
}
