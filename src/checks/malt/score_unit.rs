//! `malt.score.unit`: MALT's targeting score and ranking (malt.md §2) against an independent
//! brute-force implementation, with its invariances, the zero-gradient rule, the size errors,
//! the dual norms, and the batched rankings of small MLPs against per-class gradients.

use super::row;
use crate::attack::losses::sorted_desc;
use crate::attack::targets::{malt_rankings, rank};
use crate::attack::Norm;
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::model::{Activation, Classifier, Mlp};
use crate::rng::{self, stream};
use nalgebra::DMatrix;

pub struct ScoreUnit;

/// The parameters of `theory/malt.score.unit.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    cases: usize,
    d: usize,
    seed: u64,
    /// Relative tolerance of the dual-norm comparison.
    norm_tol: f64,
}

/// The brute-force reference: every c ≠ y scored, candidates = first testk by logit, targets =
/// the k smallest (score, candidate position) pairs.
fn reference(z: &[f64], y: usize, norms: &[f64], k: usize, testk: usize) -> Vec<usize> {
    let top = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let cands: Vec<usize> = sorted_desc(z)
        .into_iter()
        .filter(|&c| c != y)
        .take(testk)
        .collect();
    let mut scored: Vec<(f64, usize, usize)> = cands
        .iter()
        .enumerate()
        .map(|(pos, &c)| {
            (
                if norms[c] > 0.0 {
                    (top - z[c]) / norms[c]
                } else {
                    f64::INFINITY
                },
                pos,
                c,
            )
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|s| s.2).collect()
}

impl Check for ScoreUnit {
    fn id(&self) -> &'static str {
        "malt.score.unit"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let (cases, d) = (p.cases, p.d);
        let mut r = rng::seeded(p.seed, stream::DATA);
        let sizes = [4usize, 10, 100];
        let (mut order_bad, mut zero_bad, mut err_bad, mut scale_bad, mut dual_bad) =
            (0, 0, 0, 0, 0);
        let (mut shift_dev, mut logit_differs) = (Vec::new(), 0usize);
        let (mut norms_compared, mut mlp_compared) = (0, 0);
        for case in 0..cases {
            let kk = sizes[case % 3];
            let z: Vec<f64> = (0..kk).map(|_| 3.0 * rng::normal(&mut r)).collect();
            let y = rng::index(&mut r, kk);
            let g = rng::gaussian_matrix(&mut r, kk, d, 1.0);
            let norm = if case % 2 == 0 { Norm::Linf } else { Norm::L2 };
            let diff = DMatrix::from_fn(kk, d, |c, j| g[(c, j)] - g[(y, j)]);
            let norms = norm.dual_row_norms(&diff);
            // L∞ scores use ‖·‖₁, L2 scores ‖·‖₂.
            for (c, got) in norms.iter().enumerate() {
                let want: f64 = match norm {
                    Norm::Linf => diff.row(c).iter().map(|v| v.abs()).sum(),
                    Norm::L2 => diff.row(c).norm(),
                };
                dual_bad += usize::from((got - want).abs() > p.norm_tol * (1.0 + want));
                norms_compared += 1;
            }
            let testk = 1 + rng::index(&mut r, kk - 1);
            let k = 1 + rng::index(&mut r, testk);
            let got = rank(&z, y, |c| norms[c], k, testk)?;
            order_bad += usize::from(got.targets != reference(&z, y, &norms, k, testk));
            let by_logit: Vec<usize> = got.candidates.iter().take(k).copied().collect();
            logit_differs += usize::from(by_logit != got.targets);
            // Zero gradient difference: +∞, recorded, ranked last among the candidates.
            let c0 = got.candidates[0];
            let mut zn = norms.clone();
            zn[c0] = 0.0;
            let zr = rank(&z, y, |c| zn[c], testk, testk)?;
            zero_bad += usize::from(
                !(zr.zero_gradient == vec![c0]
                    && zr.scores[0].is_infinite()
                    && zr.targets.last() == Some(&c0)),
            );
            // Size errors are errors.
            err_bad += usize::from(rank(&z, y, |c| norms[c], testk + 1, testk).is_ok());
            err_bad += usize::from(rank(&z, y, |c| norms[c], 1, kk).is_ok());
            // z + const·1 leaves the scores; a·z (a > 0) leaves the ranking.
            let shift = 7.5 * rng::normal(&mut r);
            let zs: Vec<f64> = z.iter().map(|v| v + shift).collect();
            let s2 = rank(&zs, y, |c| norms[c], k, testk)?;
            for (a, b) in got.scores.iter().zip(&s2.scores) {
                if a.is_finite() {
                    shift_dev.push((a - b).abs() / (1.0 + a.abs()));
                }
            }
            let a = 0.1 + 5.0 * rng::uniform(&mut r);
            let za: Vec<f64> = z.iter().map(|v| v * a).collect();
            scale_bad += usize::from(rank(&za, y, |c| norms[c], k, testk)?.targets != got.targets);
        }
        // Batched rankings of small MLPs against per-class gradients.
        let mut mlp_bad = 0;
        for (i, &kk) in sizes.iter().enumerate() {
            let net = Mlp::init(
                &mut rng::seeded(i as u64, stream::INIT),
                vec![d, 16, kk],
                Activation::Relu,
                1.0,
            )?;
            let x = DMatrix::from_fn(5, d, |_, _| rng::uniform(&mut r));
            let y: Vec<usize> = (0..5).map(|_| rng::index(&mut r, kk)).collect();
            let testk = kk - 1;
            let k = 3.min(testk);
            for norm in [Norm::Linf, Norm::L2] {
                let (batched, _) = malt_rankings(&net, &x, &y, norm, k, testk)?;
                let classes: Vec<usize> = (0..kk).collect();
                let (z, grads) = net.class_gradients(&x, &classes);
                for (n, b) in batched.iter().enumerate() {
                    let norms: Vec<f64> = (0..kk)
                        .map(|c| {
                            let dg = DMatrix::from_row_slice(
                                1,
                                d,
                                (grads[c].row(n) - grads[y[n]].row(n))
                                    .transpose()
                                    .as_slice(),
                            );
                            norm.dual_row_norms(&dg)[0]
                        })
                        .collect();
                    mlp_bad +=
                        usize::from(reference(&row(&z, n), y[n], &norms, k, testk) != b.targets);
                    mlp_compared += 1;
                }
            }
        }
        let mut ev = ctx.evidence();
        ev.record("rankings.brute_force", Agg::count(order_bad, cases))
            .record("zero_gradient", Agg::count(zero_bad, cases))
            .record("testk.refused", Agg::count(err_bad, 2 * cases))
            .record("shift.invariance", Agg::max(shift_dev))
            .record("scale.invariance", Agg::count(scale_bad, cases))
            .record("dual_norms", Agg::count(dual_bad, norms_compared))
            .record("batched.per_class", Agg::count(mlp_bad, mlp_compared))
            .record("control.logit_ranking", Agg::count(logit_differs, cases));
        ev.stat("cases", cases as f64).stat(
            "fraction where the logit order differs from MALT's",
            logit_differs as f64 / cases as f64,
        );
        Ok(ev)
    }
}
