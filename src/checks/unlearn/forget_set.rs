//! `unlearn.forget_set`: one GA step with per-example β_r on a forget set F (unlearn.md §7), on
//! the linear SVM and on the V1 class-aligned fixture.

use super::instances::{linear_step, restrict, two_layer_step, LinearDraw};
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::error::{Error, Result};
use crate::loss::MarginLoss;
use crate::margin::fixture::{class_aligned, Draw};
use crate::margin::svm;
use crate::model::{Linear, Model};
use crate::rng::{self, stream};
use crate::unlearn::{flips, triple};
use nalgebra::DVector;

pub struct ForgetSet;

/// The parameters of `theory/unlearn.forget_set.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    m: usize,
    mu_norm2: f64,
    seeds: usize,
    /// Forget sets of every size from size_min to size_max.
    size_min: usize,
    size_max: usize,
}

#[derive(Default)]
struct Seed {
    eps: f64,
    shift: f64,
    delta_renorm: f64,
    identity: f64,
    v1_eps: f64,
    v1_identity: f64,
    v1_shift: f64,
    v1_flips: usize,
    v1_accepted: bool,
    control: f64,
    beta: f64,
}

fn run_seed(seed: u64, n: usize, d: usize, size: usize, m: usize, mu2: f64) -> Result<Seed> {
    let dr = LinearDraw::new(seed, n, d)?;
    let forget = rng::distinct_indices(&mut rng::seeded(seed, stream::CHOICE), n, size);
    let keep = dr.keep(&forget);
    let lam = dr.lambda();
    let (big_l, phi) = (lam.max(), dr.spread.phi);
    let fl = size as f64;
    let retained = dr.data.subset(&keep);
    let mu = restrict(lam, &keep);
    let wp = Linear::new(linear_step(&dr, &forget, 1.0));
    let wn = dr.svm.w.norm();
    let mut out = Seed {
        eps: triple(&wp, &retained, &mu).eps / wn,
        ..Seed::default()
    };
    let q = Linear::new(dr.svm.w.clone())
        .forward(dr.data.x())
        .component_mul(dr.data.y());
    let qp = wp.forward(dr.data.x()).component_mul(dr.data.y());
    out.shift = keep
        .iter()
        .map(|&i| (qp[i] - q[i]).abs())
        .fold(0.0, f64::max)
        / (fl * big_l * phi);
    let qmin = keep.iter().map(|&i| qp[i]).min_f();
    let dren = keep
        .iter()
        .enumerate()
        .map(|(a, &i)| (mu[a] / qmin) * (qp[i] / qmin - 1.0))
        .max_f();
    out.delta_renorm = dren / (2.0 * fl * big_l * big_l * phi / (1.0 - fl * big_l * phi).powi(2));
    // ‖w' − w*_F‖² = λ_Fᵀ G_{F,−F} G_{−F}⁻¹ G_{−F,F} λ_F.
    let wstar = svm::hard_margin(&retained)?.w;
    let g = dr.gram();
    let lf = restrict(lam, &forget);
    let gfk = g.select_rows(&keep).select_columns(&forget);
    let rhs = &gfk * &lf;
    let solved = crate::linalg::cholesky_solve(&g.select_rows(&keep).select_columns(&keep), &rhs)
        .ok_or_else(|| Error::solver("G_{−F} is singular"))?;
    let predicted = rhs.dot(&solved);
    let actual = (wp.params() - &wstar).norm_squared();
    out.identity = (actual - predicted).abs() / actual.max(f64::MIN_POSITIVE);
    // Negative control: forgetting only the first element of F.
    out.control = triple(
        &Linear::new(linear_step(&dr, &forget[..1], 1.0)),
        &retained,
        &mu,
    )
    .eps / wn;
    // A single β for the whole set, reported: mean(λ_F)/|ℓ'(mean q_F)|.
    out.beta = lf.mean()
        / MarginLoss::Logistic
            .deriv(restrict(&q, &forget).mean())
            .abs();
    // The V1 fixture.
    if let Draw::Accepted(f) = class_aligned(&mut rng::sub(seed, stream::DATA, 1), n, d, m, mu2)? {
        out.v1_accepted = true;
        let fset = rng::distinct_indices(&mut rng::sub(seed, stream::CHOICE, 1), n, size);
        let keep = crate::unlearn::retained(n, &fset);
        let w1 = two_layer_step(&f.net, &f.data, &f.lambda, &fset, 1.0)?;
        out.v1_flips = flips::count(&f.net, &w1, &f.data, &fset);
        let mu = restrict(&f.lambda, &keep);
        out.v1_eps = triple(&w1, &f.data.subset(&keep), &mu).eps / f.net.params().norm();
        let q = f.net.forward(f.data.x()).component_mul(f.data.y());
        let q1 = w1.forward(f.data.x()).component_mul(f.data.y());
        let lf = DVector::from_iterator(size, fset.iter().map(|&r| f.lambda[r]));
        let phi_h = crate::data::spread::Spread::of_gram(&f.h, 1.0).phi;
        for &i in &keep {
            let predicted: f64 = fset
                .iter()
                .zip(lf.iter())
                .map(|(&r, l)| l * f.h[(i, r)])
                .sum();
            out.v1_identity = out.v1_identity.max((q1[i] - (q[i] - predicted)).abs());
            if phi_h > 0.0 {
                out.v1_shift = out
                    .v1_shift
                    .max((q1[i] - q[i]).abs() / (fl * f.lambda.max() * phi_h));
            }
        }
    }
    Ok(out)
}

impl Check for ForgetSet {
    fn id(&self) -> &'static str {
        "unlearn.forget_set"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let mut all = Vec::new();
        for size in p.size_min..=p.size_max {
            all.extend(over_seeds(p.seeds, |s| {
                run_seed(s, p.n, p.d, size, p.m, p.mu_norm2)
            })?);
        }
        let worst = |f: fn(&Seed) -> f64| Agg::max(all.iter().map(f));
        let v1: Vec<&Seed> = all
            .iter()
            .filter(|s| s.v1_accepted && s.v1_flips == 0)
            .collect();
        let v1_worst = |f: fn(&Seed) -> f64| Agg::max(v1.iter().map(|s| f(s)));
        let mut ev = ctx.evidence();
        ev.record("linear.eps", worst(|s| s.eps))
            .record("linear.margin_shift", worst(|s| s.shift))
            .record("linear.renorm_delta", worst(|s| s.delta_renorm))
            .record("linear.distance", worst(|s| s.identity))
            .record("v1.accepted", Agg::count(v1.len(), all.len()))
            .record("v1.eps", v1_worst(|s| s.v1_eps))
            .record("v1.identity", v1_worst(|s| s.v1_identity))
            .record("v1.margin_shift", v1_worst(|s| s.v1_shift))
            .record(
                "control.first_only",
                Agg::min(all.iter().map(|s| s.control)),
            );
        ev.stat(
            "V1 draws with flips (excluded)",
            all.iter()
                .filter(|s| s.v1_accepted && s.v1_flips > 0)
                .count() as f64,
        );
        ev.stat(
            "median single β for the set (logistic)",
            crate::stats::median(&all.iter().map(|s| s.beta).collect::<Vec<_>>()),
        );
        Ok(ev)
    }
}
