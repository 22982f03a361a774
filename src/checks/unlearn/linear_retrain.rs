//! `unlearn.linear.retrain`: the unlearned w' is close to the retrained SVM w* of S_r, with
//! ‖w' − w*‖² = λ_r² g_rᵀ G_{−r}⁻¹ g_r exactly (T4, unlearn.md §5).

use super::instances::{linear_step, LinearDraw};
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::error::{Error, Result};
use crate::linalg::cosine;
use crate::margin::svm;
use crate::theory::Kind;
use nalgebra::DVector;

pub struct LinearRetrain;

struct Seed {
    a3: bool,
    identity: f64,
    rho_ratio: f64,
    cos_gap: f64,
    cos_orig: f64,
    cos_unl: f64,
    control: f64,
}

fn run_seed(seed: u64, n: usize, d: usize) -> Result<Seed> {
    let dr = LinearDraw::new(seed, n, d)?;
    let (s, r) = (&dr.spread, dr.r);
    let keep = dr.keep(&[r]);
    let wstar = svm::hard_margin(&dr.data.subset(&keep))?.w;
    let wp = linear_step(&dr, &[r], 1.0);
    let g = dr.gram();
    let gr = DVector::from_iterator(keep.len(), keep.iter().map(|&i| g[(i, r)]));
    let gmr = g.select_rows(&keep).select_columns(&keep);
    let solved = crate::linalg::cholesky_solve(&gmr, &gr)
        .ok_or_else(|| Error::solver("G_{−r} is not positive definite"))?;
    let lr = dr.lambda()[r];
    let predicted = lr * lr * gr.dot(&solved);
    let actual = (&wp - &wstar).norm_squared();
    let nf = n as f64;
    let kappa = (s.r2_max + (nf - 2.0) * s.phi) / (s.r2_min - (nf - 2.0) * s.phi);
    let bound = lr * s.phi * kappa.sqrt();
    let rho = (&wp - &wstar).norm() / wstar.norm();
    Ok(Seed {
        a3: s.a3_holds(n),
        identity: (actual - predicted).abs() / actual.max(f64::MIN_POSITIVE),
        rho_ratio: rho / bound,
        cos_gap: (1.0 - rho * rho).max(0.0).sqrt() - cosine(&wp, &wstar),
        cos_orig: cosine(&dr.svm.w, &wstar),
        cos_unl: cosine(&wp, &wstar),
        control: ((&dr.svm.w - &wstar).norm() / wstar.norm()) / bound,
    })
}

impl Check for LinearRetrain {
    fn id(&self) -> &'static str {
        "unlearn.linear.retrain"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let (n, d) = (p.n("n")?, p.n("d")?);
        let all = over_seeds(p.n("seeds")?, |s| run_seed(s, n, d))?;
        let ok: Vec<&Seed> = all.iter().filter(|s| s.a3).collect();
        let worst = |f: fn(&Seed) -> f64| ok.iter().map(|s| f(s)).max_f();
        let mut ev = ctx.evidence();
        ev.ge("draws satisfying (A3)", Kind::Gate, ok.len() as f64, 1.0)
            .le(
                "T4: |‖w' − w*‖² − λ_r² g_rᵀG_{−r}⁻¹g_r| / ‖w' − w*‖²",
                Kind::Gate,
                worst(|s| s.identity),
                1e-8,
            )
            .le(
                "T4: ρ/(λ_r φ √κ)",
                Kind::Gate,
                worst(|s| s.rho_ratio),
                1.0 + 1e-9,
            )
            .le(
                "T4: √(1 − ρ²) − cos(w', w*)",
                Kind::Gate,
                worst(|s| s.cos_gap),
                1e-12,
            )
            .ge(
                "control: the original w, ρ(w)/(λ_r φ √κ)",
                Kind::Control,
                ok.iter().map(|s| s.control).min_f(),
                1.0,
            );
        ev.stat(
            "median cos(w, w*)",
            crate::stats::median(&ok.iter().map(|s| s.cos_orig).collect::<Vec<_>>()),
        );
        ev.stat(
            "median cos(w', w*)",
            crate::stats::median(&ok.iter().map(|s| s.cos_unl).collect::<Vec<_>>()),
        );
        ev.stat("draws violating (A3)", (all.len() - ok.len()) as f64);
        Ok(ev)
    }
}
