//! `unlearn.linear.kkt`: for the exact SVM of near-orthogonal data, w' = w − λ_r y_r x_r is an
//! exact KKT point of S_r up to the margin shifts T2, with the (ε, δ, τ) bounds T3 and the
//! forgotten point's margin T5 (unlearn.md §5).

use super::instances::{linear_step, restrict, LinearDraw};
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::error::Result;
use crate::model::{Linear, Model};
use crate::theory::Kind;
use crate::unlearn::triple;

pub struct LinearKkt;

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
        out.t2_identity = out.t2_identity.max((qp[i] - (q[i] - lr * g[(i, r)])).abs());
        out.t2_range = out.t2_range.max((qp[i] - 1.0).abs() / (lr * phi));
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
        let p = &ctx.params;
        let (n, d) = (p.n("n")?, p.n("d")?);
        let all = over_seeds(p.n("seeds")?, |s| run_seed(s, n, d))?;
        let ok: Vec<&Seed> = all.iter().filter(|s| s.a3).collect();
        let worst = |f: fn(&Seed) -> f64| ok.iter().map(|s| f(s)).max_f();
        let tol = 1.0 + 1e-9;
        let mut ev = ctx.evidence();
        ev.ge("draws satisfying (A3)", Kind::Gate, ok.len() as f64, 1.0)
            .le(
                "T1: ε(w', S_r; λ|S_r)/‖w‖",
                Kind::Gate,
                worst(|s| s.eps),
                1e-10,
            )
            .le(
                "T2: |q_i(w') − (q_i(w) − λ_r G_ir)|",
                Kind::Gate,
                worst(|s| s.t2_identity),
                1e-10,
            )
            .le(
                "T2: |q_i(w') − 1|/(λ_r φ)",
                Kind::Gate,
                worst(|s| s.t2_range),
                tol,
            )
            .le(
                "T3 raw: δ/(Λ λ_r φ)",
                Kind::Gate,
                worst(|s| s.delta_raw),
                tol,
            )
            .le("T3 raw: τ/(λ_r φ)", Kind::Gate, worst(|s| s.tau_raw), tol)
            .le(
                "T3: (1 − λ_r φ)/q'_min",
                Kind::Gate,
                worst(|s| s.qmin_renorm),
                tol,
            )
            .le(
                "T3 renormalised: δ̃/(2Λλ_rφ/(1 − λ_rφ)²)",
                Kind::Gate,
                worst(|s| s.delta_renorm),
                tol,
            )
            .le(
                "T5: |q_r(w') − (1 − λ_r‖x_r‖²)|, |q_r(w') − Σ_{k≠r} λ_k G_kr|",
                Kind::Gate,
                worst(|s| s.t5_identity),
                1e-10,
            )
            .le(
                "T5: |q_r(w')|/((n − 1)Λφ)",
                Kind::Gate,
                worst(|s| s.t5_bound),
                tol,
            )
            .le(
                "L0: Λ·(R²_min − (n − 1)φ)",
                Kind::Gate,
                worst(|s| s.l0_max),
                tol,
            )
            .le(
                "L0: lower bound on λ_min / λ_min",
                Kind::Gate,
                worst(|s| s.l0_min),
                tol,
            )
            .ge(
                "control: step fraction c = ½, ε/‖w‖",
                Kind::Control,
                ok.iter().map(|s| s.control_eps).min_f(),
                1e-6,
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
