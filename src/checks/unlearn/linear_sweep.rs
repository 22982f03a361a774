//! `unlearn.linear.sweep`: f(c) = ε_NNLS(w − cλ_r y_r x_r, S_r) lies in
//! [|1 − c|λ_r‖x_r^⊥‖, |1 − c|λ_r‖x_r‖] and is minimal at c = 1 (unlearn.md §6, linear case).

use super::instances::{linear_step, LinearDraw};
use crate::check::Agg;
use crate::check::{nan_max, over_seeds, Check, Ctx, Evidence};
use crate::error::{Error, Result};
use crate::loss::MarginLoss;
use crate::margin::certificate::{certify_unnormalised, CertifyOptions};
use crate::model::Linear;

pub struct LinearSweep;

/// The parameters of `theory/unlearn.linear.sweep.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    seeds: usize,
}

struct Seed {
    lower_gap: f64,
    upper_gap: f64,
    argmin_off: f64,
    control: f64,
}

/// The grid c = k/20, k = 0..40.
pub fn grid() -> Vec<f64> {
    (0..=40).map(|k| k as f64 / 20.0).collect()
}

fn run_seed(seed: u64, n: usize, d: usize) -> Result<Seed> {
    let dr = LinearDraw::new(seed, n, d)?;
    let r = dr.r;
    let keep = dr.keep(&[r]);
    let retained = dr.data.subset(&keep);
    let lr = dr.lambda()[r];
    let wn = dr.svm.w.norm();
    // x_r^⊥: y_r x_r minus its projection onto span{y_i x_i : i ≠ r}.
    let z = retained.signed_x();
    let zr = dr.data.row(r) * dr.data.y()[r];
    let coef = crate::linalg::cholesky_solve(
        &dr.gram().select_rows(&keep).select_columns(&keep),
        &(&z * &zr),
    )
    .ok_or_else(|| Error::solver("retained Gram is singular"))?;
    let perp = (&zr - z.transpose() * coef).norm();
    let xr = zr.norm();
    let f = |c: f64| -> Result<f64> {
        Ok(certify_unnormalised(
            &Linear::new(linear_step(&dr, &[r], c)),
            &retained,
            &CertifyOptions::default(),
        )?
        .eps)
    };
    let mut out = Seed {
        lower_gap: f64::NEG_INFINITY,
        upper_gap: f64::NEG_INFINITY,
        argmin_off: 0.0,
        control: 0.0,
    };
    let (mut best, mut best_c) = (f64::INFINITY, f64::NAN);
    for c in grid() {
        let v = f(c)?;
        out.lower_gap = nan_max(out.lower_gap, ((1.0 - c).abs() * lr * perp - v) / wn);
        out.upper_gap = nan_max(out.upper_gap, (v - (1.0 - c).abs() * lr * xr) / wn);
        if v < best {
            best = v;
            best_c = c;
        }
    }
    out.argmin_off = (best_c - 1.0).abs();
    // Negative control: the naive step β = λ_r, i.e. c = |ℓ'(1)| for the logistic loss.
    out.control = f(MarginLoss::Logistic.deriv(1.0).abs())? / wn;
    Ok(out)
}

impl Check for LinearSweep {
    fn id(&self) -> &'static str {
        "unlearn.linear.sweep"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let all = over_seeds(p.seeds, |s| run_seed(s, p.n, p.d))?;
        let worst = |f: fn(&Seed) -> f64| Agg::max(all.iter().map(f));
        let mut ev = ctx.evidence();
        ev.record("sweep.lower", worst(|s| s.lower_gap))
            .record("sweep.upper", worst(|s| s.upper_gap))
            .record("sweep.argmin", worst(|s| s.argmin_off))
            .record(
                "control.naive_step",
                Agg::min(all.iter().map(|s| s.control)),
            );
        Ok(ev)
    }
}
