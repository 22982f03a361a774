//! `unlearn.linear.retrain`: the unlearned w' is close to the retrained SVM w* of S_r, with
//! ‖w' − w*‖² = λ_r² g_rᵀ G_{−r}⁻¹ g_r exactly (T4, unlearn.md §5).

use super::instances::{linear_step, LinearDraw};
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence};
use crate::error::{Error, Result};
use crate::linalg::cosine;
use crate::margin::svm;
use nalgebra::DVector;

pub struct LinearRetrain;

/// The parameters of `theory/unlearn.linear.retrain.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    seeds: usize,
}

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
        let p: P = ctx.params()?;
        let all = over_seeds(p.seeds, |s| run_seed(s, p.n, p.d))?;
        let ok: Vec<&Seed> = all.iter().filter(|s| s.a3).collect();
        let worst = |f: fn(&Seed) -> f64| Agg::max(ok.iter().map(|s| f(s)));
        let mut ev = ctx.evidence();
        ev.record("a3.draws", Agg::count(ok.len(), all.len()))
            .record("t4.identity", worst(|s| s.identity))
            .record("t4.rho", worst(|s| s.rho_ratio))
            .record("t4.cos", worst(|s| s.cos_gap))
            .record("control.original", Agg::min(ok.iter().map(|s| s.control)));
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
