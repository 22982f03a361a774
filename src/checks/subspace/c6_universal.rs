//! `subspace.c6_universal` (probe): one direction per class flips points throughout the
//! subspace (D7): ẑ₊ ∝ Σ_{u_i<0} c_i flips positives and ẑ₋ ∝ Σ_{u_i>0} c_i negatives; the 99th
//! percentile of their flip distances is within 4× the per-point 99th percentile
//! (subspace.md §5 check 6). The claim is [unverified: third-party summary]; the mechanism
//! [derived].

use crate::attack::line::first_root;
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::error::Result;
use crate::rng::{self, stream};
use crate::stats::quantile;
use crate::subspace::{analyse, train, universal_directions};
use crate::train::optim::Method;

pub struct Universal;

/// The parameters of `theory/subspace.c6_universal.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    d: usize,
    k: usize,
    n: usize,
    beta: f64,
    max_steps: usize,
    ell_over_m_a: f64,
    ell_over_m_b: f64,
    ell_over_m_c: f64,
    n_test: usize,
    seeds: usize,
}

impl Check for Universal {
    fn id(&self) -> &'static str {
        "subspace.c6_universal"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let base = super::setting(p.d, p.k, p.n, 2, p.beta, p.max_steps);
        let ell = base.ell() as f64;
        let mut ev = ctx.evidence();
        let mut ratios = Vec::new();
        let mut controls = Vec::new();
        for r in [p.ell_over_m_a, p.ell_over_m_b, p.ell_over_m_c] {
            let m = ((ell / r).round() as usize).max(2);
            let s = crate::subspace::Setting { m, ..base.clone() };
            let per_seed = over_seeds(p.seeds, |seed| {
                let inst = train(seed, &s, Method::Gd)?;
                let x = inst.test_points(seed, p.n_test)?;
                let pts = analyse(&inst.net, &inst.sub, x.x());
                let (zp, zm) = universal_directions(&inst.net, &inst.sub);
                let mut rd = rng::seeded(seed, stream::DIRECTIONS);
                let z_rand = inst
                    .sub
                    .project_out(&rng::gaussian_matrix(&mut rd, 1, s.d, 1.0));
                let z_rand = z_rand.row(0).transpose().normalize();
                let mut own = Vec::new();
                let mut uni = Vec::new();
                let mut rand = Vec::new();
                for (i, g) in pts.iter().enumerate() {
                    let xi = x.x().row(i).transpose();
                    let z = if g.n_x > 0.0 { &zp } else { &zm };
                    own.push(g.line.t.unwrap_or(f64::INFINITY));
                    uni.push(first_root(&inst.net, &xi, z).t.unwrap_or(f64::INFINITY));
                    // The random control: the better of ±z_rand, as for a universal direction.
                    let tr = [
                        first_root(&inst.net, &xi, &z_rand),
                        first_root(&inst.net, &xi, &(-&z_rand)),
                    ]
                    .iter()
                    .map(|l| l.t.unwrap_or(f64::INFINITY))
                    .min_f();
                    rand.push(tr);
                }
                Ok((own, uni, rand))
            })?;
            let cat = |k: usize| -> Vec<f64> {
                per_seed
                    .iter()
                    .flat_map(|s| match k {
                        0 => s.0.clone(),
                        1 => s.1.clone(),
                        _ => s.2.clone(),
                    })
                    .collect()
            };
            let q_own = quantile(&cat(0), 0.99);
            let big_r = quantile(&cat(1), 0.99) / q_own;
            let r_rand = quantile(&cat(2), 0.99) / q_own;
            ev.stat(format!("ℓ/m = {r} (m = {m}): R = α₉₉/t₉₉"), big_r)
                .stat(
                    format!("ℓ/m = {r} (m = {m}): random direction α₉₉/t₉₉"),
                    r_rand,
                );
            ratios.push(big_r);
            controls.push(r_rand);
        }
        ev.record("ratio.max", Agg::max(ratios.iter().copied()))
            .record(
                "control.random_direction",
                Agg::min(controls.iter().copied()),
            );
        Ok(ev)
    }
}
