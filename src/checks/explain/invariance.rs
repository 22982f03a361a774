//! `explain.invariance`: IP, NORM and S do not change when one model's gradients are multiplied
//! by α ∈ {−3, 0.5} or when the models are permuted (explain.md §6 check 3).

use super::planted_run;
use crate::check::{Check, Ctx, Evidence};
use crate::error::Result;
use crate::explain::{scores, Scores};
use crate::rng::{self, stream};
use crate::theory::Kind;
use nalgebra::DMatrix;

pub struct Invariance;

fn diff(a: &Scores, b: &Scores) -> f64 {
    let m = |x: &[f64], y: &[f64]| {
        x.iter()
            .zip(y)
            .map(|(u, v)| (u - v).abs())
            .fold(0.0, f64::max)
    };
    m(&a.ip, &b.ip).max(m(&a.norm, &b.norm)).max(m(&a.s, &b.s))
}

/// Max change of the scores over one-model rescalings and a permutation; and the change under
/// a per-position rescaling of one model (the control).
fn changes(g: &[DMatrix<f64>]) -> Result<(f64, f64)> {
    let base = scores(g)?;
    let mut worst: f64 = 0.0;
    for a in 0..g.len() {
        for alpha in [-3.0, 0.5] {
            let mut h = g.to_vec();
            h[a] *= alpha;
            worst = worst.max(diff(&base, &scores(&h)?));
        }
    }
    let mut rev = g.to_vec();
    rev.reverse();
    worst = worst.max(diff(&base, &scores(&rev)?));
    let mut h = g.to_vec();
    let l = h[0].nrows();
    for (w, mut row) in h[0].row_iter_mut().enumerate() {
        row *= 1.0 + w as f64 / l as f64;
    }
    Ok((worst, diff(&base, &scores(&h)?)))
}

impl Check for Invariance {
    fn id(&self) -> &'static str {
        "explain.invariance"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let seed = p.n("seed")? as u64;
        let mut r = rng::seeded(seed, stream::DIRECTIONS);
        let random: Vec<DMatrix<f64>> = (0..6)
            .map(|_| rng::gaussian_matrix(&mut r, 30, 64, 1.0))
            .collect();
        let (w1, c1) = changes(&random)?;
        let run = planted_run(p, seed, p.f("beta")?, p.n("models")?)?;
        let doc = run.test.data.x().rows(0, 1).into_owned();
        let planted: Vec<DMatrix<f64>> =
            run.models.iter().map(|m| m.position_grads(&doc)).collect();
        let (w2, c2) = changes(&planted)?;
        let mut ev = ctx.evidence();
        ev.le(
            "max change of IP, NORM, S: random gradients (M = 6, L = 30, D = 64)",
            Kind::Gate,
            w1,
            1e-12,
        )
        .le(
            "max change of IP, NORM, S: planted-design gradients",
            Kind::Gate,
            w2,
            1e-12,
        )
        .ge(
            "control: a per-position rescaling of one model changes the scores (min over both)",
            Kind::Control,
            c1.min(c2),
            1e-6,
        );
        Ok(ev)
    }
}
