//! `unlearn.linear.kkt`: for the exact SVM of near-orthogonal data, w' = w − λ_r y_r x_r is an
//! exact KKT point of S_r up to the margin shifts T2, with the (ε, δ, τ) bounds T3 and the
//! forgotten point's margin T5 (unlearn.md §5).

use super::instances::{linear_step, restrict, LinearDraw};
use crate::check::Agg;
use crate::check::{nan_max, over_seeds, Check, Ctx, Evidence, Extremes};
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
    eps: f64,
    t2_identity: f64,
    t2_range: f64,
    delta_raw: f64,
    tau_raw: f64,
    qmin_renorm: f64,
    delta_renorm: f64,
    t5_identity: f64,
    t5_bound: f64,
    l0_max: f64,
    l0_min: f64,
    control_eps: f64,
    delta: f64,
    tau: f64,
}

fn run_seed(seed: u64, n: usize, d: usize) -> Result<Seed> {
    let dr = LinearDraw::new(seed, n, d)?;
    let (s, r) = (&dr.spread, dr.r);
    let lam = dr.lambda();
    let g = dr.gram();
    let w = &dr.svm.w;
    let wn = w.norm();
    let (big_l, phi, lr) = (lam.max(), s.phi, lam[r]);
    let keep = dr.keep(&[r]);
    let retained = dr.data.subset(&keep);
    let mu = restrict(lam, &keep);
    let wp = Linear::new(linear_step(&dr, &[r], 1.0));
    let tr = triple(&wp, &retained, &mu);
    let q = Linear::new(w.clone())
        .forward(dr.data.x())
        .component_mul(dr.data.y());
    let qp = wp.forward(dr.data.x()).component_mul(dr.data.y());
    let mut out = Seed {
        a3: s.a3_holds(n),
        eps: tr.eps / wn,
        delta: tr.delta,
        tau: tr.tau,
        ..Seed::default()
    };
    for &i in &keep {
        out.t2_identity = nan_max(out.t2_identity, (qp[i] - (q[i] - lr * g[(i, r)])).abs());
        out.t2_range = nan_max(out.t2_range, (qp[i] - 1.0).abs() / (lr * phi));
    }
    out.delta_raw = tr.delta / (big_l * lr * phi);
    out.tau_raw = tr.tau / (lr * phi);
    // Renormalised: θ̃' = w'/q'_min, μ̃ = μ/q'_min (L = 1).
    let qmin = keep.iter().map(|&i| qp[i]).min_f();
    out.qmin_renorm = (1.0 - lr * phi) / qmin;
    let delta_renorm = keep
        .iter()
        .enumerate()
        .map(|(a, &i)| (mu[a] / qmin) * (qp[i] / qmin - 1.0))
        .max_f();
    out.delta_renorm = delta_renorm / (2.0 * big_l * lr * phi / (1.0 - lr * phi).powi(2));
    // T5: q_r(w') = 1 − λ_r‖x_r‖² = Σ_{k≠r} λ_k G_kr, |q_r(w')| ≤ (n − 1)Λφ.
    let xr2 = dr.data.row(r).norm_squared();
    let sum: f64 = keep.iter().map(|&k| lam[k] * g[(k, r)]).sum();
    out.t5_identity = (qp[r] - (1.0 - lr * xr2)).abs().max((qp[r] - sum).abs());
    out.t5_bound = qp[r].abs() / ((n as f64 - 1.0) * big_l * phi);
    // Lemma L0.
    let nf = n as f64;
    out.l0_max = big_l / (1.0 / (s.r2_min - (nf - 1.0) * phi));
    out.l0_min = ((s.r2_min - 2.0 * (nf - 1.0) * phi) / ((s.r2_min - (nf - 1.0) * phi) * s.r2_max))
        / lam.min();
    // Negative control: half the step leaves ε = ½λ_r‖x_r‖ with the certificate multipliers.
    let half = Linear::new(linear_step(&dr, &[r], 0.5));
    out.control_eps = triple(&half, &retained, &mu).eps / wn;
    Ok(out)
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
            .record("t1.eps", worst(|s| s.eps))
            .record("t2.identity", worst(|s| s.t2_identity))
            .record("t2.margin", worst(|s| s.t2_range))
            .record("t3.raw_delta", worst(|s| s.delta_raw))
            .record("t3.raw_tau", worst(|s| s.tau_raw))
            .record("t3.qmin", worst(|s| s.qmin_renorm))
            .record("t3.renorm_delta", worst(|s| s.delta_renorm))
            .record("t5.identity", worst(|s| s.t5_identity))
            .record("t5.margin", worst(|s| s.t5_bound))
            .record("l0.lambda_lower", worst(|s| s.l0_max))
            .record("l0.bound_ratio", worst(|s| s.l0_min))
            .record(
                "control.half_step",
                Agg::min(ok.iter().map(|s| s.control_eps)),
            );
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
