//! `malt.twolayer.mesoscopic` (probe): mesoscopic almost-linearity of two-layer nets trained on
//! clusters (malt.md §6): the linearity ratio E_t(ε)/(ε‖∇g_t‖_q) and the gradient drift and
//! linearisation error at the attack's endpoint, the top-1 agreement and Spearman correlation of
//! MALT's and the logit ordering with the bisection radii of every target, and the histogram of
//! the rank at which MALT breaks a point. Claim probed: MALT's top-1 agreement ≥ the logits'.

use super::{cluster_net, cluster_of, row};
use crate::attack::losses::{DlrForm, Loss};
use crate::attack::minimal::minimal_radius;
use crate::attack::targets::{by_logit, malt_rankings};
use crate::attack::{malt, ApgdConfig, ClassObjective, Goal, MaltConfig, Norm, Variant};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::geometry::Constraint;
use crate::model::Classifier;
use crate::rng::{self, stream};
use crate::stats::median;
use nalgebra::DMatrix;

pub struct TwolayerMesoscopic;

/// The parameters of `theory/malt.twolayer.mesoscopic.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    d: usize,
    classes: usize,
    sigma: f64,
    n_train: usize,
    lr: f64,
    steps: usize,
    seed: u64,
    m: usize,
    points: usize,
    n_iter: usize,
    bisection: usize,
    /// The bisection searches radii up to this (L∞).
    search_radius: f64,
}

/// Spearman's rank correlation (average ranks are not needed: the inputs have no ties here).
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let ranks = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        for (pos, &i) in idx.iter().enumerate() {
            r[i] = pos as f64;
        }
        r
    };
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let d2: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - y) * (x - y)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

/// z_t − z_y and its input gradient ∇(z_t − z_y) at every row (targets t, labels y): one
/// forward-backward pass with the cotangent e_t − e_y per row.
fn margin_gradients(
    net: &dyn Classifier,
    x: &DMatrix<f64>,
    t: &[usize],
    y: &[usize],
) -> (Vec<f64>, DMatrix<f64>) {
    let k = net.classes();
    let (z, g, _) = net.forward_backward(x, false, &mut |zz| {
        DMatrix::from_fn(zz.nrows(), k, |i, c| {
            f64::from(u8::from(c == t[i])) - f64::from(u8::from(c == y[i]))
        })
    });
    let values = (0..x.nrows())
        .map(|i| z[(i, t[i])] - z[(i, y[i])])
        .collect();
    (values, g)
}

impl Check for TwolayerMesoscopic {
    fn id(&self) -> &'static str {
        "malt.twolayer.mesoscopic"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let seed = p.seed;
        let (net, data) = cluster_net(&cluster_of!(p), seed, p.m, p.points)?;
        let (n, k) = (data.n(), net.classes());
        let norm = Norm::Linf;
        let (ranks, _) = malt_rankings(&net, data.x(), data.y(), norm, k - 1, k - 1)?;
        let z = net.logits(data.x());
        // Bisection radius of every target.
        let cfg = ApgdConfig {
            n_iter: p.n_iter,
            ..ApgdConfig::new(norm, Variant::AdvLib)
        };
        let mut ra = rng::seeded(seed, stream::ATTACK);
        let mut radius = vec![vec![f64::INFINITY; k]; n];
        let mut lin_err = Vec::new();
        let mut drift = Vec::new();
        for j in 0..k - 1 {
            let targets: Vec<usize> = (0..n).map(|i| ranks[i].candidates[j]).collect();
            let obj = ClassObjective::new(
                &net,
                data.y(),
                Loss::DlrTargeted(DlrForm::AdvLib),
                Goal::Targeted(targets.clone()),
            )?;
            let m = minimal_radius(
                &obj,
                data.x(),
                &vec![p.search_radius; n],
                p.bisection,
                &cfg,
                &Constraint::Free,
                &mut ra,
            )?;
            // g_t = f_t − f_y at x and at x + δ for every point with a radius, one batched pass
            // each: the linearisation error and the gradient drift.
            let mut hit = Vec::new();
            for (i, r) in m.radius.iter().enumerate() {
                if let Some(r) = r {
                    radius[i][targets[i]] = *r;
                    hit.push(i);
                }
            }
            let ts: Vec<usize> = hit.iter().map(|&i| targets[i]).collect();
            let ys: Vec<usize> = hit.iter().map(|&i| data.y()[i]).collect();
            let xs = data.x().select_rows(&hit);
            let delta = m.delta.select_rows(&hit);
            let (v0, g0) = margin_gradients(&net, &xs, &ts, &ys);
            let (v1, g1) = margin_gradients(&net, &(&xs + &delta), &ts, &ys);
            let predicted = g0.component_mul(&delta).column_sum();
            let drift_num = norm.dual_row_norms(&(&g1 - &g0));
            let grad_norm = norm.dual_row_norms(&g0);
            for r in 0..hit.len() {
                lin_err.push((v1[r] - (v0[r] + predicted[r])).abs() / v0[r].abs());
                drift.push(drift_num[r] / grad_norm[r]);
            }
        }
        let (mut malt_top1, mut logit_top1, mut reversed_top1) = (0usize, 0usize, 0usize);
        let mut compared = 0usize;
        let (mut rho_malt, mut rho_logit) = (Vec::new(), Vec::new());
        for i in 0..n {
            let best = (0..k)
                .min_by(|&a, &b| radius[i][a].total_cmp(&radius[i][b]))
                .unwrap_or(0);
            if !radius[i][best].is_finite() {
                continue;
            }
            let order = &ranks[i].targets;
            compared += 1;
            malt_top1 += usize::from(order[0] == best);
            reversed_top1 += usize::from(order[order.len() - 1] == best);
            logit_top1 += usize::from(by_logit(&row(&z, i), data.y()[i])[0] == best);
            let cands = &ranks[i].candidates;
            let finite: Vec<usize> = (0..cands.len())
                .filter(|&j| radius[i][cands[j]].is_finite())
                .collect();
            if finite.len() > 2 {
                let rad: Vec<f64> = finite.iter().map(|&j| radius[i][cands[j]]).collect();
                rho_malt.push(spearman(
                    &finite
                        .iter()
                        .map(|&j| ranks[i].scores[j])
                        .collect::<Vec<_>>(),
                    &rad,
                ));
                rho_logit.push(spearman(
                    &finite.iter().map(|&j| j as f64).collect::<Vec<_>>(),
                    &rad,
                ));
            }
        }
        // Rank histogram of MALT's successes at ε = the median smallest radius.
        let eps = median(
            &radius
                .iter()
                .map(|r| r.iter().copied().fold(f64::INFINITY, f64::min))
                .filter(|v| v.is_finite())
                .collect::<Vec<_>>(),
        );
        let mut mc = MaltConfig::new(norm, eps, k);
        mc.n_iter = p.n_iter;
        mc.seed = seed;
        let rep = malt(&net, data.x(), data.y(), &mc)?;
        let mut hist = [0usize; 4];
        for r in rep.broken_at.iter().flatten() {
            hist[(*r).min(3)] += 1;
        }
        // Linearity ratio E_t(ε)/(ε‖∇g_t‖₁) for the top MALT target at ε.
        let (w1, b1) = net
            .weights(0)
            .ok_or_else(|| crate::error::Error::input("empty MLP"))?;
        let (v, _) = net
            .weights(1)
            .ok_or_else(|| crate::error::Error::input("not a two-layer net"))?;
        // E_t(ε) = Σ_j |V_tj − V_yj|·(ε‖w_j‖₁ − |p_j|)_+ with the pre-activations of every point
        // from one product and the row norms ‖w_j‖₁ once.
        let pre = crate::linalg::mul(data.x(), crate::linalg::Op::N, &w1, crate::linalg::Op::T);
        let w_l1 = Norm::Linf.dual_row_norms(&w1);
        let top: Vec<usize> = ranks.iter().map(|rk| rk.targets[0]).collect();
        let (_, g) = margin_gradients(&net, data.x(), &top, data.y());
        let ratio: Vec<f64> = norm
            .dual_row_norms(&g)
            .into_iter()
            .enumerate()
            .map(|(i, gq)| {
                let (t, y) = (top[i], data.y()[i]);
                let e: f64 = (0..w1.nrows())
                    .map(|j| {
                        (v[(t, j)] - v[(y, j)]).abs()
                            * (eps * w_l1[j] - (pre[(i, j)] + b1[j]).abs()).max(0.0)
                    })
                    .sum();
                e / (eps * gq)
            })
            .collect();
        let gain = |other: usize| Agg::of(malt_top1 as f64 - other as f64, compared);
        let mut ev = ctx.evidence();
        ev.record("top1.gain", gain(logit_top1))
            .record("control.reversed", gain(reversed_top1));
        ev.stat("points", n as f64)
            .stat(
                "MALT top-1 agreement with the smallest radius",
                malt_top1 as f64 / n as f64,
            )
            .stat(
                "logit top-1 agreement with the smallest radius",
                logit_top1 as f64 / n as f64,
            )
            .stat("median Spearman(MALT score, radius)", median(&rho_malt))
            .stat("median Spearman(logit rank, radius)", median(&rho_logit))
            .stat(
                "median linearisation error e(δ) at the minimal perturbation",
                median(&lin_err),
            )
            .stat(
                "median gradient drift ‖∇g_t(x + δ) − ∇g_t(x)‖₁/‖∇g_t(x)‖₁",
                median(&drift),
            )
            .stat(
                "median linearity ratio E_t(ε)/(ε‖∇g_t‖₁), top target",
                median(&ratio),
            )
            .stat("ε of the rank histogram (median smallest radius)", eps)
            .stat("MALT successes at rank 1", hist[0] as f64)
            .stat("MALT successes at rank 2", hist[1] as f64)
            .stat("MALT successes at rank 3", hist[2] as f64)
            .stat("MALT successes at rank > 3", hist[3] as f64);
        Ok(ev)
    }
}
