//! `subspace.c4_flip_sandwich`: the certified radius L⊥ = |N|/(‖u‖₂‖C‖_op) lower-bounds the exact
//! flip distance along −sign(N)g⊥ (D5), and the exact distance equals t₁ = |N|/‖g⊥‖ wherever t₁
//! precedes the first breakpoint (D6) (subspace.md §5 check 4).

use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence};
use crate::error::Result;
use crate::stats::median;
use crate::subspace::{analyse, train, PointGeometry};
use crate::train::optim::Method;

pub struct FlipSandwich;

/// The parameters of `theory/subspace.c4_flip_sandwich.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    m_wide: usize,
    beta: f64,
    kappa: f64,
    max_steps: usize,
    n_test: usize,
    seeds: usize,
}

impl Check for FlipSandwich {
    fn id(&self) -> &'static str {
        "subspace.c4_flip_sandwich"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let mut ev = ctx.evidence();
        let mut all: Vec<PointGeometry> = Vec::new();
        for m in [p.m, p.m_wide] {
            let s = crate::subspace::Setting {
                weight_decay: p.kappa,
                ..super::setting(p.d, p.k, p.n, m, p.beta, p.max_steps)
            };
            let pts: Vec<PointGeometry> = over_seeds(p.seeds, |seed| {
                let inst = train(seed, &s, Method::Gd)?;
                let x = inst.test_points(seed, p.n_test)?;
                Ok(analyse(&inst.net, &inst.sub, x.x()))
            })?
            .into_iter()
            .flatten()
            .collect();
            let gaps: Vec<f64> = pts
                .iter()
                .filter_map(|g| g.line.t.map(|t| (t - g.line.t_first_order).abs() / t))
                .collect();
            let exact: Vec<f64> = pts.iter().filter_map(|g| g.line.t).collect();
            let certified: Vec<f64> = pts.iter().map(|g| g.certified).collect();
            ev.stat(format!("m = {m}: median t_exact"), median(&exact))
                .stat(format!("m = {m}: median L⊥"), median(&certified))
                .stat(
                    format!("m = {m}: median |t_exact − t₁|/t_exact"),
                    median(&gaps),
                )
                .stat(
                    format!("m = {m}: median L⊥/t_exact"),
                    median(
                        &pts.iter()
                            .filter_map(|g| g.line.t.map(|t| g.certified / t))
                            .collect::<Vec<_>>(),
                    ),
                )
                .stat(
                    format!("m = {m}: fraction with t₁ before the first breakpoint"),
                    pts.iter()
                        .filter(|g| g.line.t_first_order < g.line.first_breakpoint)
                        .count() as f64
                        / pts.len() as f64,
                );
            all.extend(pts);
        }
        let flipped: Vec<&PointGeometry> = all.iter().filter(|g| g.line.t.is_some()).collect();
        let t = |g: &PointGeometry| g.line.t.unwrap_or(f64::INFINITY);
        let rel = |g: &&PointGeometry| (t(g) - g.line.t_first_order).abs() / t(g);
        let (before, after): (Vec<&PointGeometry>, Vec<&PointGeometry>) = flipped
            .iter()
            .partition(|g| g.line.t_first_order < g.line.first_breakpoint);
        ev.record("flipped", Agg::count(flipped.len(), all.len()))
            .record(
                "sandwich",
                Agg::max(flipped.iter().map(|g| g.certified / t(g))),
            )
            .record("t1.exact", Agg::max(before.iter().map(rel)))
            .record(
                "control.t1_past_breakpoint",
                Agg::max(after.iter().map(rel)),
            );
        ev.stat("points", all.len() as f64).stat(
            "points never flipped along the ray",
            (all.len() - flipped.len()) as f64,
        );
        Ok(ev)
    }
}
