//! `unlearn.linear.kkt`: for the exact SVM of near-orthogonal data, the multipliers obey Lemma
//! L0 and the step w' = w − λ_r y_r x_r, renormalised by its smallest retained margin, is a
//! (0, δ̃, 0)-KKT point of S_r with δ̃ ≤ 2Λλ_rφ/(1 − λ_rφ)² (T3; unlearn.md §5).
//!
//! The identities that restate the construction of w' (T1 ε = 0, the T2 and T5 margin formulas,
//! the raw T3 triple, the half step's ε = ½λ_r‖x_r‖) are the unit tests below, not evidence.

use super::instances::{linear_step, restrict, LinearDraw};
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::error::Result;
use crate::model::{Linear, Model};
use crate::unlearn::triple;

pub struct LinearKkt;

/// The parameters of `theory/unlearn.linear.kkt.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    seeds: usize,
}

#[derive(Default)]
struct Seed {
    a3: bool,
    /// δ̃ over its T3 bound 2Λλ_rφ/(1 − λ_rφ)².
    delta_renorm: f64,
    l0_max: f64,
    l0_min: f64,
    delta: f64,
    tau: f64,
}

fn run_seed(seed: u64, n: usize, d: usize) -> Result<Seed> {
    let dr = LinearDraw::new(seed, n, d)?;
    let (s, r) = (&dr.spread, dr.r);
    let lam = dr.lambda();
    let (big_l, phi, lr) = (lam.max(), s.phi, lam[r]);
    let keep = dr.keep(&[r]);
    let retained = dr.data.subset(&keep);
    let mu = restrict(lam, &keep);
    let wp = Linear::new(linear_step(&dr, &[r], 1.0));
    let tr = triple(&wp, &retained, &mu);
    let qp = wp.forward(dr.data.x()).component_mul(dr.data.y());
    // Renormalised: θ̃' = w'/q'_min, μ̃ = μ/q'_min (L = 1).
    let qmin = keep.iter().map(|&i| qp[i]).min_f();
    let delta_renorm = keep
        .iter()
        .enumerate()
        .map(|(a, &i)| (mu[a] / qmin) * (qp[i] / qmin - 1.0))
        .max_f();
    // Lemma L0.
    let nf = n as f64;
    Ok(Seed {
        a3: s.a3_holds(n),
        delta_renorm: delta_renorm / (2.0 * big_l * lr * phi / (1.0 - lr * phi).powi(2)),
        l0_max: big_l / (1.0 / (s.r2_min - (nf - 1.0) * phi)),
        l0_min: ((s.r2_min - 2.0 * (nf - 1.0) * phi) / ((s.r2_min - (nf - 1.0) * phi) * s.r2_max))
            / lam.min(),
        delta: tr.delta,
        tau: tr.tau,
    })
}

impl Check for LinearKkt {
    fn id(&self) -> &'static str {
        "unlearn.linear.kkt"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let all = over_seeds(p.seeds, |s| run_seed(s, p.n, p.d))?;
        let ok: Vec<&Seed> = all.iter().filter(|s| s.a3).collect();
        let worst = |f: fn(&Seed) -> f64| Agg::max(ok.iter().map(|s| f(s)));
        let mut ev = ctx.evidence();
        ev.record("a3.draws", Agg::count(ok.len(), all.len()))
            .record("t3.renorm_delta", worst(|s| s.delta_renorm))
            .record("l0.lambda_lower", worst(|s| s.l0_max))
            .record("l0.bound_ratio", worst(|s| s.l0_min))
            .record("control.tightness", worst(|s| s.delta_renorm));
        ev.stat(
            "draws violating (A3) (excluded from the bounds)",
            (all.len() - ok.len()) as f64,
        );
        ev.stat(
            "median raw δ",
            crate::stats::median(&ok.iter().map(|s| s.delta).collect::<Vec<_>>()),
        );
        ev.stat(
            "median raw τ",
            crate::stats::median(&ok.iter().map(|s| s.tau).collect::<Vec<_>>()),
        );
        Ok(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identities of unlearn.md §5 that restate the construction of w' = w − λ_r y_r x_r:
    /// T1 ε = 0 with μ = λ|S_r; T2 q_i(w') = q_i(w) − λ_r G_ir within [1 − λ_rφ, 1 + λ_rφ]; the
    /// raw T3 triple (0, ≤ Λλ_rφ, ≤ λ_rφ); T5 q_r(w') = 1 − λ_r‖x_r‖² = Σ_{k≠r} λ_k G_kr with
    /// |q_r(w')| ≤ (n − 1)Λφ; and the half step leaves ε = ½λ_r‖x_r‖.
    #[test]
    fn the_step_is_the_construction() {
        for seed in 0..10 {
            let (n, d) = (6, 2000);
            let dr = LinearDraw::new(seed, n, d).unwrap();
            let (s, r) = (&dr.spread, dr.r);
            assert!(s.a3_holds(n));
            let lam = dr.lambda();
            let g = dr.gram();
            let w = &dr.svm.w;
            let (big_l, phi, lr) = (lam.max(), s.phi, lam[r]);
            let slack = 1.0 + 1e-9;
            let keep = dr.keep(&[r]);
            let retained = dr.data.subset(&keep);
            let mu = restrict(lam, &keep);
            let wp = Linear::new(linear_step(&dr, &[r], 1.0));
            let tr = triple(&wp, &retained, &mu);
            assert!(tr.eps <= 1e-10 * w.norm(), "T1 ε = {}", tr.eps);
            assert!(tr.delta <= big_l * lr * phi * slack);
            assert!(tr.tau <= lr * phi * slack);
            let q = Linear::new(w.clone())
                .forward(dr.data.x())
                .component_mul(dr.data.y());
            let qp = wp.forward(dr.data.x()).component_mul(dr.data.y());
            for &i in &keep {
                assert!((qp[i] - (q[i] - lr * g[(i, r)])).abs() <= 1e-10);
                assert!((qp[i] - 1.0).abs() <= lr * phi * slack);
            }
            let xr = dr.data.row(r);
            let sum: f64 = keep.iter().map(|&k| lam[k] * g[(k, r)]).sum();
            assert!((qp[r] - (1.0 - lr * xr.norm_squared())).abs() <= 1e-10);
            assert!((qp[r] - sum).abs() <= 1e-10);
            assert!(qp[r].abs() <= (n as f64 - 1.0) * big_l * phi * slack);
            let half = Linear::new(linear_step(&dr, &[r], 0.5));
            let eps_half = triple(&half, &retained, &mu).eps;
            let want = 0.5 * lr * xr.norm();
            assert!(
                (eps_half - want).abs() <= 1e-10 * want,
                "{eps_half} vs {want}"
            );
        }
    }
}
