//! `explain.invariance`: IP, NORM and S do not change when one model's gradients are multiplied
//! by α ∈ {−3, 0.5} or when the models are permuted (explain.md §6 check 3).

use super::{planted_run, PlantedParams};
use crate::check::{Agg, Check, Ctx, Evidence, Extremes};
use crate::error::Result;
use crate::explain::{scores, Scores};
use crate::rng::{self, stream};
use nalgebra::DMatrix;

pub struct Invariance;

fn diff(a: &Scores, b: &Scores) -> f64 {
    let m = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(u, v)| (u - v).abs()).max_f();
    [m(&a.ip, &b.ip), m(&a.norm, &b.norm), m(&a.s, &b.s)]
        .into_iter()
        .max_f()
}

/// Max change of the scores over one-model rescalings and a permutation; and the change under
/// a per-position rescaling of one model by the factors 1 + η·w/L, w = 0..L (the control: an
/// invariance broken by a known relative amount η).
fn changes(g: &[DMatrix<f64>], eta: f64) -> Result<(Agg, Agg)> {
    let base = scores(g)?;
    let mut changed = Vec::new();
    for a in 0..g.len() {
        for alpha in [-3.0, 0.5] {
            let mut h = g.to_vec();
            h[a] *= alpha;
            changed.push(diff(&base, &scores(&h)?));
        }
    }
    let mut rev = g.to_vec();
    rev.reverse();
    changed.push(diff(&base, &scores(&rev)?));
    let mut h = g.to_vec();
    let l = h[0].nrows();
    for (w, mut row) in h[0].row_iter_mut().enumerate() {
        row *= 1.0 + eta * w as f64 / l as f64;
    }
    Ok((Agg::max(changed), Agg::of(diff(&base, &scores(&h)?), 1)))
}

impl Check for Invariance {
    fn id(&self) -> &'static str {
        "explain.invariance"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: PlantedParams = ctx.params()?;
        let seed = p.seed;
        let mut r = rng::seeded(seed, stream::DIRECTIONS);
        let random: Vec<DMatrix<f64>> = (0..6)
            .map(|_| rng::gaussian_matrix(&mut r, 30, 64, 1.0))
            .collect();
        let mut ev = ctx.evidence();
        let eta = ev.constant("control.rescaled", "eta");
        let (w1, c1) = changes(&random, eta)?;
        let run = planted_run(&p, seed, p.beta()?, p.models)?;
        let doc = run.test.data.x().rows(0, 1).into_owned();
        let planted: Vec<DMatrix<f64>> =
            run.models.iter().map(|m| m.position_grads(&doc)).collect();
        let (w2, c2) = changes(&planted, eta)?;
        ev.record("random", w1)
            .record("planted", w2)
            .record("control.rescaled", Agg::min([c1.value, c2.value]));
        Ok(ev)
    }
}
