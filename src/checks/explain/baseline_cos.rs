//! `explain.baseline.cos`: the null law of |cos| between independent isotropic vectors and the
//! shared-signal limit (explain.md §3, §6 check 1).

use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::{Error, Result};
use crate::explain::{null_mean_abs_cos, scores};
use crate::linalg::cosine;
use crate::rng::{self, stream};
use crate::stats::{ks_pvalue, ks_statistic, mean_se};
use nalgebra::{DMatrix, DVector};
use statrs::distribution::{Beta, ContinuousCDF};

pub struct BaselineCos;

/// The parameters of `theory/explain.baseline.cos.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    pairs: usize,
    groups: usize,
    seed: u64,
}

impl Check for BaselineCos {
    fn id(&self) -> &'static str {
        "explain.baseline.cos"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let (pairs, groups) = (p.pairs, p.groups);
        let mut r = rng::seeded(p.seed, stream::DIRECTIONS);
        let mut ev = ctx.evidence();
        let (mut ks_p, mut ctrl_p) = (Vec::new(), Vec::new());
        let dims = [16usize, 48, 64, 96];
        for d in dims {
            let c2: Vec<f64> = (0..pairs)
                .map(|_| {
                    let a = rng::gaussian_vector(&mut r, d, 1.0);
                    let b = rng::gaussian_vector(&mut r, d, 1.0);
                    cosine(&a, &b).powi(2)
                })
                .collect();
            let law =
                Beta::new(0.5, (d as f64 - 1.0) / 2.0).map_err(|e| Error::input(e.to_string()))?;
            ks_p.push(ks_pvalue(ks_statistic(&c2, |t| law.cdf(t)), pairs));
            // Control: the law of twice the dimension.
            let wrong = Beta::new(0.5, (2.0 * d as f64 - 1.0) / 2.0)
                .map_err(|e| Error::input(e.to_string()))?;
            ctrl_p.push(ks_pvalue(ks_statistic(&c2, |t| wrong.cdf(t)), pairs));
        }
        // (b) IP of M = 6 independent vectors at one position, D = 64.
        let (d, m) = (64usize, 6usize);
        let ips: Vec<f64> = (0..groups)
            .map(|_| {
                let g: Vec<DMatrix<f64>> = (0..m)
                    .map(|_| rng::gaussian_matrix(&mut r, 1, d, 1.0))
                    .collect();
                scores(&g).map(|s| s.ip[0])
            })
            .collect::<Result<_>>()?;
        let m1 = null_mean_abs_cos(d);
        let (mean, se) = mean_se(&ips);
        let g = ips.len() as f64;
        let var = ips.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (g - 1.0);
        let var_pred = (1.0 / d as f64 - m1 * m1) / 15.0;
        // SE of the sample variance from the sample fourth central moment: √((μ₄ − σ⁴)/G).
        let mu4 = ips.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / g;
        let se_var = ((mu4 - var * var) / g).sqrt();
        // (c) shared signal: g_a = s + n_a, D = 512, ‖s‖²/ν² = r; mean cos → r/(1 + r).
        let mut dev = Vec::new();
        let dd = 512;
        for ratio in [0.25, 1.0, 4.0] {
            let cs: Vec<f64> = (0..pairs.min(2000))
                .map(|_| {
                    let s: Vec<f64> = (0..dd)
                        .map(|_| rng::normal(&mut r) * f64::sqrt(ratio))
                        .collect();
                    let a: Vec<f64> = s.iter().map(|v| v + rng::normal(&mut r)).collect();
                    let b: Vec<f64> = s.iter().map(|v| v + rng::normal(&mut r)).collect();
                    cosine(&DVector::from_vec(a), &DVector::from_vec(b))
                })
                .collect();
            let mc = cs.iter().sum::<f64>() / cs.len() as f64;
            dev.push((mc - ratio / (1.0 + ratio)).abs());
        }
        // The smallest of the four KS p-values, Bonferroni-adjusted for the four dimensions.
        let adjusted = Agg::min(ks_p).map(|v| {
            let a = v * dims.len() as f64;
            if a > 1.0 {
                1.0
            } else {
                a
            }
        });
        ev.record("ks", adjusted)
            .record("mean", Agg::of((mean - m1).abs() / se, ips.len()))
            .record("var", Agg::of((var - var_pred).abs() / se_var, ips.len()))
            .record("shared_signal", Agg::max(dev))
            .record("control.twice_d", Agg::max(ctrl_p));
        ev.stat("E|cos| at D = 64", m1)
            .stat("mean IP", mean)
            .stat("E|cos| at D = 48", null_mean_abs_cos(48));
        Ok(ev)
    }
}
