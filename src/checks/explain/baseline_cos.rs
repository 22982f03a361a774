//! `explain.baseline.cos`: the null law of |cos| between independent isotropic vectors and the
//! shared-signal limit (explain.md §3, §6 check 1).

use crate::check::{Check, Ctx, Evidence};
use crate::error::{Error, Result};
use crate::explain::{null_mean_abs_cos, scores};
use crate::linalg::cosine;
use crate::rng::{self, stream};
use crate::stats::{ks_pvalue, ks_statistic, mean_se, ALPHA};
use crate::theory::Kind;
use nalgebra::{DMatrix, DVector};
use statrs::distribution::{Beta, ContinuousCDF};

pub struct BaselineCos;

impl Check for BaselineCos {
    fn id(&self) -> &'static str {
        "explain.baseline.cos"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let (pairs, groups) = (p.n("pairs")?, p.n("groups")?);
        let mut r = rng::seeded(p.n("seed")? as u64, stream::DIRECTIONS);
        let mut ev = ctx.evidence();
        let (mut min_p, mut ctrl_p): (f64, f64) = (1.0, 0.0);
        for d in [16usize, 48, 64, 96] {
            let c2: Vec<f64> = (0..pairs)
                .map(|_| {
                    let a = rng::gaussian_vector(&mut r, d, 1.0);
                    let b = rng::gaussian_vector(&mut r, d, 1.0);
                    cosine(&a, &b).powi(2)
                })
                .collect();
            let law =
                Beta::new(0.5, (d as f64 - 1.0) / 2.0).map_err(|e| Error::input(e.to_string()))?;
            min_p = min_p.min(ks_pvalue(ks_statistic(&c2, |t| law.cdf(t)), pairs));
            // Control: the law of twice the dimension.
            let wrong = Beta::new(0.5, (2.0 * d as f64 - 1.0) / 2.0)
                .map_err(|e| Error::input(e.to_string()))?;
            ctrl_p = ctrl_p.max(ks_pvalue(ks_statistic(&c2, |t| wrong.cdf(t)), pairs));
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
        let var = ips.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (ips.len() as f64 - 1.0);
        let var_pred = (1.0 / d as f64 - m1 * m1) / 15.0;
        // (c) shared signal: g_a = s + n_a, D = 512, ‖s‖²/ν² = r; mean cos → r/(1 + r).
        let mut dev: f64 = 0.0;
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
            dev = dev.max((mc - ratio / (1.0 + ratio)).abs());
        }
        ev.ge(
            "min over D ∈ {16, 48, 64, 96} of the KS p-value of cos² against Beta(½, (D − 1)/2)",
            Kind::Stat,
            min_p,
            ALPHA,
        )
        .le(
            "|mean IP − E|cos||/SE (M = 6, D = 64)",
            Kind::Stat,
            (mean - m1).abs() / se,
            4.0,
        )
        .le(
            "|var IP/((1/D − m₁²)/15) − 1|",
            Kind::Stat,
            (var / var_pred - 1.0).abs(),
            0.15,
        )
        .le(
            "max |mean cos − ‖s‖²/(‖s‖² + ν²)| (D = 512)",
            Kind::Stat,
            dev,
            0.02,
        )
        .le(
            "control: max KS p-value against the law of dimension 2D",
            Kind::Control,
            ctrl_p,
            ALPHA,
        );
        ev.stat("E|cos| at D = 64", m1)
            .stat("mean IP", mean)
            .stat("E|cos| at D = 48", null_mean_abs_cos(48));
        Ok(ev)
    }
}
