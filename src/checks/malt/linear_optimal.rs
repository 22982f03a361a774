//! `malt.linear.optimal`: for linear models MALT's first target is the exact minimal-perturbation
//! class (malt.md §5): its rank-1 target is arg min_t d_t, the closed-form δ_{t*} at (1 + 1e−9)
//! makes t* the arg-max, nothing succeeds below d*(1 − 1e−9), targeted APGD toward t* succeeds
//! at 1.1·d*, and inside the box the exact LP (good_lp) agrees with d_t when the box is inactive
//! and never undercuts it.

use super::{col, linear_model, row};
use crate::attack::exact::{linear_distance, linear_linf_box};
use crate::attack::losses::{argmax, DlrForm, Loss};
use crate::attack::targets::malt_rankings;
use crate::attack::{apgd, ApgdConfig, ClassObjective, Goal, Norm, Objective, Variant};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::geometry::Constraint;
use crate::model::Classifier;
use crate::rng::{self, stream};
use crate::stats::clopper_pearson_lower;
use nalgebra::{DMatrix, DVector};

pub struct LinearOptimal;

/// The parameters of `theory/malt.linear.optimal.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    points: usize,
    d: usize,
    classes: usize,
    n_iter: usize,
    seed: u64,
    /// Relative tolerance of the optimality comparisons (1 ± tol).
    rel_tol: f64,
    /// APGD must succeed at this multiple of the optimal radius.
    apgd_margin: f64,
}

impl Check for LinearOptimal {
    fn id(&self) -> &'static str {
        "malt.linear.optimal"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let (n, d, k, seed, tol) = (p.points, p.d, p.classes, p.seed, p.rel_tol);
        let model = linear_model(seed, d, k)?;
        let (w, b) = model
            .weights(0)
            .ok_or_else(|| crate::error::Error::input("linear model without a layer"))?;
        let mut rd = rng::seeded(seed, stream::DATA);
        let x = DMatrix::from_fn(n, d, |_, _| rng::uniform(&mut rd));
        let z = model.logits(&x);
        let y = crate::linalg::row_argmax(&z);
        let mut ev = ctx.evidence();
        let mut logit_agrees = 0usize;
        let (mut rank_bad, mut above_bad, mut below_bad, mut lp_bad) = (0, 0, 0, 0);
        let (mut below_cases, mut lp_cases, mut lp_dev) = (0, 0, Vec::new());
        let mut apgd_hits = 0usize;
        let mut apgd_below = 0usize;
        let mut ra = rng::seeded(seed, stream::ATTACK);
        for norm in [Norm::Linf, Norm::L2] {
            let (ranks, _) = malt_rankings(&model, &x, &y, norm, 1, k - 1)?;
            let mut tstar = Vec::with_capacity(n);
            let mut dstar = Vec::with_capacity(n);
            for i in 0..n {
                let xi = col(&x, i);
                let dist: Vec<(f64, DVector<f64>)> = (0..k)
                    .map(|t| {
                        if t == y[i] {
                            (f64::INFINITY, DVector::zeros(d))
                        } else {
                            linear_distance(&w, &b, &xi, y[i], t, norm)
                        }
                    })
                    .collect();
                let ts = (0..k)
                    .min_by(|&a, &c| dist[a].0.total_cmp(&dist[c].0))
                    .unwrap_or(0);
                rank_bad += usize::from(ranks[i].targets[0] != ts);
                if norm == Norm::Linf {
                    logit_agrees += usize::from(
                        crate::attack::targets::autoattack_targets(&row(&z, i), 1)[0] == ts,
                    );
                }
                let at = |f: f64, t: usize| argmax((&w * (&xi + &dist[t].1 * f) + &b).as_slice());
                above_bad += usize::from(at(1.0 + tol, ts) != ts);
                // Every closed-form direction, scaled to (1 − tol)·d*, leaves y the arg-max.
                let dmin = dist[ts].0;
                let others: Vec<usize> = (0..k).filter(|&t| t != y[i] && dist[t].0 > 0.0).collect();
                below_cases += others.len();
                below_bad += others
                    .iter()
                    .filter(|&&t| at((1.0 - tol) * dmin / dist[t].0, t) != y[i])
                    .count();
                if norm == Norm::Linf {
                    for t in (0..k).filter(|&t| t != y[i]) {
                        // `None`: the box excludes class t altogether, nothing to compare.
                        if let Some(v) = linear_linf_box(&w, &b, &xi, y[i], t)? {
                            let room = xi
                                .iter()
                                .map(|&c| c.min(1.0 - c))
                                .fold(f64::INFINITY, f64::min);
                            lp_cases += 1;
                            lp_bad += usize::from(v < dist[t].0 * (1.0 - tol));
                            if dist[t].0 <= room {
                                lp_dev
                                    .push((v - dist[t].0).abs() / dist[t].0.max(f64::MIN_POSITIVE));
                            }
                        }
                    }
                }
                tstar.push(ts);
                dstar.push(dist[ts].0);
            }
            // Targeted adv_lib APGD toward t*: succeeds at apgd_margin·d*, never below d*(1 − tol).
            let obj = ClassObjective::new(
                &model,
                &y,
                Loss::DlrTargeted(DlrForm::AdvLib),
                Goal::Targeted(tstar.clone()),
            )?;
            let cfg = ApgdConfig {
                bounds: None,
                n_iter: p.n_iter,
                ..ApgdConfig::new(norm, Variant::AdvLib)
            };
            let idx: Vec<usize> = (0..n).collect();
            let hi: Vec<f64> = dstar.iter().map(|v| p.apgd_margin * v).collect();
            let lo: Vec<f64> = dstar.iter().map(|v| (1.0 - tol) * v).collect();
            apgd_hits += apgd(&obj, &x, &idx, &hi, &cfg, &Constraint::Free, &mut ra, None)?
                .success
                .iter()
                .filter(|s| **s)
                .count();
            let r = apgd(&obj, &x, &idx, &lo, &cfg, &Constraint::Free, &mut ra, None)?;
            apgd_below += obj.success(&r.x_adv, &idx).iter().filter(|s| **s).count();
        }
        let total = 2 * n;
        let alpha = ev.alpha();
        ev.record("rank1.argmin", Agg::count(rank_bad, total))
            .record("closed_form.reaches", Agg::count(above_bad, total))
            .record("closed_form.minimal", Agg::count(below_bad, below_cases))
            .record("apgd.below_optimum", Agg::count(apgd_below, total))
            .record(
                "apgd.success",
                Agg::of(clopper_pearson_lower(apgd_hits, total, alpha), total),
            )
            .record("box_lp.below", Agg::count(lp_bad, lp_cases))
            .record("box_lp.inactive", Agg::max(lp_dev))
            .record("control.logit_rank1", Agg::fraction(logit_agrees, n));
        ev.stat(
            "fraction where the logit rank-1 differs from t* (L∞)",
            1.0 - logit_agrees as f64 / n as f64,
        )
        .stat("points", n as f64);
        Ok(ev)
    }
}
