//! `dimpled.baseline.beta`: for δ uniform on S^{d−1} and a k-dimensional subspace,
//! ρ(δ)² = ‖Qᵀδ‖²/‖δ‖² ~ Beta(k/2, (d − k)/2), E ρ² = k/d — the random-direction baseline
//! every perpendicularity claim must beat (dimpled.md §3–§4, §7 check 1).

use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::{Error, Result};
use crate::geometry::Projector;
use crate::rng::{self, stream};
use crate::stats::{ks_pvalue, ks_statistic, mean_se};
use statrs::distribution::{Beta, ContinuousCDF};

pub struct BaselineBeta;

/// The parameters of `theory/dimpled.baseline.beta.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    d: usize,
    k: usize,
    directions: usize,
    seed: u64,
    /// The control's mean, as a multiple of k/d (the smallest shift the test claims to detect).
    control_factor: f64,
}

impl Check for BaselineBeta {
    fn id(&self) -> &'static str {
        "dimpled.baseline.beta"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let (d, k, count, seed) = (p.d, p.k, p.directions, p.seed);
        let q = Projector::new(rng::orthonormal_basis(
            &mut rng::seeded(seed, stream::DATA),
            d,
            k,
        ))?;
        let dirs = rng::gaussian_matrix(&mut rng::seeded(seed, stream::DIRECTIONS), count, d, 1.0);
        let r2: Vec<f64> = q.fractions(&dirs).iter().map(|r| r * r).collect();
        let (a, b) = (k as f64 / 2.0, (d - k) as f64 / 2.0);
        let law = Beta::new(a, b).map_err(|e| Error::input(format!("Beta({a}, {b}): {e}")))?;
        let (mean, _) = mean_se(&r2);
        let sd = (a * b / ((a + b).powi(2) * (a + b + 1.0))).sqrt();
        let se = sd / (count as f64).sqrt();
        let kd = k as f64 / d as f64;
        let mut ev = ctx.evidence();
        let ks = ks_pvalue(ks_statistic(&r2, |t| law.cdf(t)), count);
        let n = r2.len();
        ev.record("ks", Agg::of(ks, n))
            .record("mean", Agg::of((mean - kd).abs() / se, n))
            .record(
                "control.shifted_mean",
                Agg::of((mean - p.control_factor * kd).abs() / se, n),
            );
        ev.stat("mean ρ²", mean)
            .stat("k/d", kd)
            .stat("E ρ ≈ √(k/d)", kd.sqrt());
        Ok(ev)
    }
}
