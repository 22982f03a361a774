//! `kkt.multipliers.solvers`: Clarabel's multipliers against Lawson–Hanson, NNLS optimality,
//! scale covariance and Euler's identity b = L·q.

use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence};
use crate::checks::common::train_two_layer;
use crate::data::near_orthogonal::{self, Sampling};
use crate::data::Binary;
use crate::error::Result;
use crate::margin::certificate::{kkt_system, residual};
use crate::margin::multipliers::{lawson_hanson, nnls_qp_interior, optimality};
use crate::model::{Linear, Model};
use crate::rng::{self, stream};
use crate::train::observer::NoObserver;
use nalgebra::DMatrix;

pub struct MultipliersSolvers;

/// The parameters of `theory/kkt.multipliers.solvers.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    m: usize,
    steps: usize,
    seeds: usize,
}

#[derive(Default, Clone, Copy)]
struct Worst {
    raw_lambda: f64,
    raw_eps: f64,
    pol_lambda: f64,
    pol_eps: f64,
    optimality: f64,
    covariance: f64,
    euler: f64,
    control: f64,
    unpolished: usize,
}

use crate::check::nan_max as max;

fn measure(model: &dyn Model, data: &Binary) -> Result<Worst> {
    let l = model.homogeneity().unwrap_or(1) as f64;
    let sys = kkt_system(model, data);
    let mult = nnls_qp_interior(&sys.k, &sys.b)?;
    // Lawson–Hanson on G = [g_i] (p × n), g_i = y_i ∇_θ N(x_i).
    let mut g: DMatrix<f64> = model.jacobian(data.x()).transpose();
    for (i, mut c) in g.column_iter_mut().enumerate() {
        c *= data.y()[i];
    }
    let lh = lawson_hanson(&g, model.params())?;
    let eps_lh = residual(model, data, &lh).norm();
    let scale_l = lh.amax().max(f64::MIN_POSITIVE);
    let rel_eps = |e: f64| (e - eps_lh).abs() / eps_lh.max(f64::MIN_POSITIVE);
    let opt = optimality(&sys.k, &sys.b, &mult.lambda);
    let kscale = sys.b.amax().max(f64::MIN_POSITIVE);
    let mut w = Worst {
        raw_lambda: (&mult.raw - &lh).amax() / scale_l,
        raw_eps: rel_eps(residual(model, data, &mult.raw).norm()),
        pol_lambda: (&mult.lambda - &lh).amax() / scale_l,
        pol_eps: rel_eps(residual(model, data, &mult.lambda).norm()),
        optimality: max(
            (-opt.min_lambda).max(0.0) / scale_l,
            max(
                (-opt.min_gradient).max(0.0) / kscale,
                opt.max_complementarity / (kscale * scale_l),
            ),
        ),
        euler: (&sys.b - &sys.q * l).amax() / kscale,
        unpolished: usize::from(!mult.polished),
        ..Worst::default()
    };
    // Scale covariance: λ(cθ) = c^{2−L} λ(θ), ε(cθ) = c·ε(θ); the control claims L + 1.
    let eps = residual(model, data, &mult.lambda).norm();
    let mut control = f64::INFINITY;
    for c in [0.1, 10.0] {
        let mut scaled = model.boxed_clone();
        scaled.set_params(&(model.params() * c))?;
        let s2 = kkt_system(scaled.as_ref(), data);
        let m2 = nnls_qp_interior(&s2.k, &s2.b)?;
        let want = &mult.lambda * c.powf(2.0 - l);
        let lam_err = (&m2.lambda - &want).norm() / want.norm().max(f64::MIN_POSITIVE);
        let eps_err = (residual(scaled.as_ref(), data, &m2.lambda).norm() - c * eps).abs()
            / (c * eps).max(f64::MIN_POSITIVE);
        w.covariance = max(max(w.covariance, lam_err), eps_err);
        let wrong = &mult.lambda * c.powf(2.0 - (l + 1.0));
        control = -max(
            -control,
            -(&m2.lambda - &wrong).norm() / wrong.norm().max(f64::MIN_POSITIVE),
        );
    }
    w.control = control;
    Ok(w)
}

impl Check for MultipliersSolvers {
    fn id(&self) -> &'static str {
        "kkt.multipliers.solvers"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let (n, d, m, steps) = (p.n, p.d, p.m, p.steps);
        let res = over_seeds(p.seeds, |seed| {
            let run = train_two_layer(seed, n, d, m, 1.0, false, 1.0, steps, &mut NoObserver)?;
            let a = measure(&run.net, &run.data)?;
            let (data, _) = near_orthogonal::generate(
                &mut rng::seeded(seed, stream::DATA),
                n,
                d,
                Sampling::Gaussian,
            )?;
            let lin = Linear::new(rng::gaussian_vector(
                &mut rng::seeded(seed, stream::INIT),
                d,
                1.0,
            ));
            let b = measure(&lin, &data)?;
            Ok([a, b])
        })?;
        let all: Vec<Worst> = res.into_iter().flatten().collect();
        let worst = |f: fn(&Worst) -> f64| Agg::max(all.iter().map(f));
        let mut ev = ctx.evidence();
        ev.record("raw.lambda", worst(|w| w.raw_lambda))
            .record("raw.eps", worst(|w| w.raw_eps))
            .record("polished.lambda", worst(|w| w.pol_lambda))
            .record("polished.eps", worst(|w| w.pol_eps))
            .record("nnls.optimality", worst(|w| w.optimality))
            .record("scale.covariance", worst(|w| w.covariance))
            .record("euler.b", worst(|w| w.euler))
            .record(
                "control.wrong_degree",
                Agg::min(all.iter().map(|w| w.control)),
            );
        let unpolished: usize = all.iter().map(|w| w.unpolished).sum();
        ev.stat("instances whose polish was rejected", unpolished as f64);
        Ok(ev)
    }
}
