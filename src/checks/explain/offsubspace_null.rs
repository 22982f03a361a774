//! `explain.offsubspace.null`: on the planted design the parts of the per-word gradients outside
//! the embedding subspace are model-specific noise: their mean |cos| across models is the null
//! value E|cos| at D = ℓ_pos = 48 (explain.md §3, §6 check 2).

use super::{planted_run, PlantedParams};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::explain::null_mean_abs_cos;
use crate::geometry::Projector;

pub struct OffsubspaceNull;

impl Check for OffsubspaceNull {
    fn id(&self) -> &'static str {
        "explain.offsubspace.null"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: PlantedParams = ctx.params()?;
        let run = planted_run(&p, p.seed, p.beta()?, p.models)?;
        let q = Projector::new(run.planted.basis.clone())?;
        let (mut off_sum, mut on_sum, mut count) = (0.0, 0.0, 0usize);
        let abs_cos = |a: &nalgebra::DVector<f64>, b: &nalgebra::DVector<f64>| {
            (a.dot(b) / (a.norm() * b.norm()).max(f64::MIN_POSITIVE)).abs()
        };
        for i in 0..run.test.data.n() {
            let doc = run.test.data.x().rows(i, 1).into_owned();
            let g: Vec<_> = run.models.iter().map(|m| m.position_grads(&doc)).collect();
            for w in 0..run.planted.positions {
                let rows: Vec<_> = g.iter().map(|gi| gi.row(w).transpose()).collect();
                let off: Vec<_> = rows.iter().map(|v| q.off(v)).collect();
                let on: Vec<_> = rows.iter().map(|v| q.on(v)).collect();
                for a in 0..rows.len() {
                    for b in (a + 1)..rows.len() {
                        if off[a].norm() > 0.0 && off[b].norm() > 0.0 {
                            off_sum += abs_cos(&off[a], &off[b]);
                            on_sum += abs_cos(&on[a], &on[b]);
                            count += 1;
                        }
                    }
                }
            }
        }
        let ell = run.planted.embeddings.ncols() - run.planted.basis.ncols();
        let null = null_mean_abs_cos(ell);
        let (off_mean, on_mean) = (off_sum / count as f64, on_sum / count as f64);
        let mut ev = ctx.evidence();
        ev.record("perp.mean", Agg::of((off_mean / null - 1.0).abs(), count))
            .record(
                "control.in_subspace",
                Agg::of((on_mean / null - 1.0).abs(), count),
            );
        ev.stat("mean |cos|, P⊥ parts", off_mean)
            .stat("E|cos| at D = ℓ_pos", null)
            .stat("mean |cos|, in-subspace parts", on_mean)
            .stat("pairs", count as f64)
            .stat(
                "median training steps",
                crate::stats::median(&run.steps.iter().map(|&s| s as f64).collect::<Vec<_>>()),
            );
        Ok(ev)
    }
}
