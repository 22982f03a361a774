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
use crate::check::{Check, Ctx, Evidence};
use crate::error::Result;
use crate::geometry::Constraint;
use crate::model::Classifier;
use crate::rng::{self, stream};
use crate::theory::Kind;
use nalgebra::{DMatrix, DVector};

pub struct LinearOptimal;

impl Check for LinearOptimal {
    fn id(&self) -> &'static str {
        "malt.linear.optimal"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let (n, d, k) = (p.n("points")?, p.n("d")?, p.n("classes")?);
        let seed = p.n("seed")? as u64;
        let model = linear_model(seed, d, k)?;
        let (w, b) = model
            .weights(0)
            .ok_or_else(|| crate::error::Error::input("linear model without a layer"))?;
        let mut rd = rng::seeded(seed, stream::DATA);
        let x = DMatrix::from_fn(n, d, |_, _| rng::uniform(&mut rd));
        let z = model.logits(&x);
        let y: Vec<usize> = (0..n).map(|i| argmax(&row(&z, i))).collect();
        let mut ev = ctx.evidence();
        let mut logit_agrees = 0usize;
        let (mut rank_bad, mut above_bad, mut below_bad, mut lp_bad, mut lp_dev) =
            (0, 0, 0, 0, 0.0f64);
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
                above_bad += usize::from(at(1.0 + 1e-9, ts) != ts);
                // Every closed-form direction, scaled to (1 − 1e−9)·d*, leaves y the arg-max.
                let dmin = dist[ts].0;
                below_bad += (0..k)
                    .filter(|&t| {
                        t != y[i]
                            && dist[t].0 > 0.0
                            && at((1.0 - 1e-9) * dmin / dist[t].0, t) != y[i]
                    })
                    .count();
                if norm == Norm::Linf {
                    for t in (0..k).filter(|&t| t != y[i]) {
                        // `None`: the box excludes class t altogether, nothing to compare.
                        if let Some(v) = linear_linf_box(&w, &b, &xi, y[i], t)? {
                            let room = xi
                                .iter()
                                .map(|&c| c.min(1.0 - c))
                                .fold(f64::INFINITY, f64::min);
                            lp_bad += usize::from(v < dist[t].0 * (1.0 - 1e-9));
                            if dist[t].0 <= room {
                                lp_dev = lp_dev.max((v - dist[t].0).abs() / dist[t].0.max(1e-300));
                            }
                        }
                    }
                }
                tstar.push(ts);
                dstar.push(dist[ts].0);
            }
            // Targeted adv_lib APGD toward t*: succeeds at 1.1·d*, never below d*(1 − 1e−9).
            let obj = ClassObjective::new(
                &model,
                &y,
                Loss::DlrTargeted(DlrForm::AdvLib),
                Goal::Targeted(tstar.clone()),
            )?;
            let cfg = ApgdConfig {
                bounds: None,
                n_iter: p.n("n_iter")?,
                ..ApgdConfig::new(norm, Variant::AdvLib)
            };
            let idx: Vec<usize> = (0..n).collect();
            let hi: Vec<f64> = dstar.iter().map(|v| 1.1 * v).collect();
            let lo: Vec<f64> = dstar.iter().map(|v| (1.0 - 1e-9) * v).collect();
            apgd_hits += apgd(&obj, &x, &idx, &hi, &cfg, &Constraint::Free, &mut ra, None)?
                .success
                .iter()
                .filter(|s| **s)
                .count();
            let r = apgd(&obj, &x, &idx, &lo, &cfg, &Constraint::Free, &mut ra, None)?;
            apgd_below += obj.success(&r.x_adv, &idx).iter().filter(|s| **s).count();
        }
        let total = (2 * n) as f64;
        ev.le(
            "MALT rank-1 ≠ arg min_t d_t (L∞ and L2)",
            Kind::Gate,
            rank_bad as f64,
            0.0,
        )
        .le(
            "x + (1 + 1e−9)δ_{t*} not classified t*",
            Kind::Gate,
            above_bad as f64,
            0.0,
        )
        .le(
            "closed forms δ_t succeeding when scaled to (1 − 1e−9)d*",
            Kind::Gate,
            below_bad as f64,
            0.0,
        )
        .le(
            "APGD successes below d*(1 − 1e−9)",
            Kind::Gate,
            apgd_below as f64,
            0.0,
        )
        .ge(
            "targeted adv_lib APGD success rate at 1.1·d*",
            Kind::Gate,
            apgd_hits as f64 / total,
            0.95,
        )
        .le(
            "box LP below the closed form d_t(1 − 1e−9)",
            Kind::Gate,
            lp_bad as f64,
            0.0,
        )
        .le(
            "box LP vs d_t where the box is inactive: max relative difference",
            Kind::Gate,
            lp_dev,
            1e-7,
        )
        .le(
            "control: the logit ranking's rank-1 equals t* (L∞) in every case",
            Kind::Control,
            logit_agrees as f64 / n as f64,
            1.0 - 1e-9,
        );
        ev.stat(
            "fraction where the logit rank-1 differs from t* (L∞)",
            1.0 - logit_agrees as f64 / n as f64,
        )
        .stat("points", n as f64);
        Ok(ev)
    }
}
