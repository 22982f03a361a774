//! `malt.twolayer.mesoscopic` (probe): mesoscopic almost-linearity of two-layer nets trained on
//! clusters (malt.md §6): the linearity ratio E_t(ε)/(ε‖∇g_t‖_q) and the gradient drift and
//! linearisation error at the attack's endpoint, the top-1 agreement and Spearman correlation of
//! MALT's and the logit ordering with the bisection radii of every target, and the histogram of
//! the rank at which MALT breaks a point. Claim probed: MALT's top-1 agreement ≥ the logits'.

use super::{cluster_net, cluster_of, row};
use crate::attack::losses::{DlrForm, Loss};
use crate::attack::minimal::minimal_radius;
use crate::attack::targets::{by_logit, dual_norms, malt_rankings};
use crate::attack::{malt, ApgdConfig, ClassObjective, Goal, MaltConfig, Norm, Variant};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::geometry::Constraint;
use crate::model::Classifier;
use crate::rng::{self, stream};
use crate::stats::median;

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
            for i in 0..n {
                if let Some(r) = m.radius[i] {
                    radius[i][targets[i]] = r;
                    // g_t = f_t − f_y at x and at x + δ: linearisation error and gradient drift.
                    let t = targets[i];
                    let y = data.y()[i];
                    let xi = data.x().rows(i, 1).into_owned();
                    let xa = &xi + m.delta.rows(i, 1);
                    let (z0, g0) = net.class_gradients(&xi, &[t, y]);
                    let (z1, g1) = net.class_gradients(&xa, &[t, y]);
                    let gt0 = &g0[0] - &g0[1];
                    let gt1 = &g1[0] - &g1[1];
                    let (v0, v1) = (z0[(0, t)] - z0[(0, y)], z1[(0, t)] - z1[(0, y)]);
                    let pred = v0 + (gt0.clone() * m.delta.rows(i, 1).transpose())[(0, 0)];
                    lin_err.push((v1 - pred).abs() / v0.abs());
                    let dn = dual_norms(norm, &(&gt1 - &gt0))[0];
                    drift.push(dn / dual_norms(norm, &gt0)[0]);
                }
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
        let mut ratio = Vec::new();
        for (i, rk) in ranks.iter().enumerate() {
            let (t, y) = (rk.targets[0], data.y()[i]);
            let xi = data.x().row(i).transpose();
            let pre = &w1 * &xi + &b1;
            let e: f64 = (0..pre.len())
                .map(|j| {
                    (v[(t, j)] - v[(y, j)]).abs()
                        * (eps * w1.row(j).iter().map(|a| a.abs()).sum::<f64>() - pre[j].abs())
                            .max(0.0)
                })
                .sum();
            let (_, g) = net.class_gradients(&data.x().rows(i, 1).into_owned(), &[t, y]);
            let gq = dual_norms(norm, &(&g[0] - &g[1]))[0];
            ratio.push(e / (eps * gq));
        }
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
