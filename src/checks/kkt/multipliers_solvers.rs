//! `kkt.multipliers.solvers`: Clarabel's multipliers against Lawson–Hanson, NNLS optimality,
//! scale covariance and Euler's identity b = L·q.

use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::checks::common::train_two_layer;
use crate::data::near_orthogonal::{self, Sampling};
use crate::data::Binary;
use crate::error::Result;
use crate::margin::certificate::{kkt_system, residual};
use crate::margin::multipliers::{lawson_hanson, nnls_qp_interior, optimality};
use crate::model::{Linear, Model};
use crate::rng::{self, stream};
use crate::theory::Kind;
use crate::train::observer::NoObserver;
use nalgebra::DMatrix;

pub struct MultipliersSolvers;

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

fn max(a: f64, b: f64) -> f64 {
    a.max(b)
}

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
    let rel_eps = |e: f64| (e - eps_lh).abs() / eps_lh.max(1e-300);
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
            / (c * eps).max(1e-300);
        w.covariance = w.covariance.max(lam_err).max(eps_err);
        let wrong = &mult.lambda * c.powf(2.0 - (l + 1.0));
        control = control.min((&m2.lambda - &wrong).norm() / wrong.norm().max(f64::MIN_POSITIVE));
    }
    w.control = control;
    Ok(w)
}

impl Check for MultipliersSolvers {
    fn id(&self) -> &'static str {
        "kkt.multipliers.solvers"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let (n, d, m, steps) = (p.n("n")?, p.n("d")?, p.n("m")?, p.n("steps")?);
        let res = over_seeds(p.n("seeds")?, |seed| {
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
        let worst = |f: fn(&Worst) -> f64| all.iter().map(f).fold(0.0, f64::max);
        let mut ev = ctx.evidence();
        ev.le(
            "raw Clarabel λ vs Lawson–Hanson (·max λ)",
            Kind::Gate,
            worst(|w| w.raw_lambda),
            1e-6,
        )
        .le(
            "raw Clarabel ε vs Lawson–Hanson (relative)",
            Kind::Gate,
            worst(|w| w.raw_eps),
            1e-6,
        )
        .le(
            "polished λ vs Lawson–Hanson (·max λ)",
            Kind::Gate,
            worst(|w| w.pol_lambda),
            1e-10,
        )
        .le(
            "polished ε vs Lawson–Hanson (relative)",
            Kind::Gate,
            worst(|w| w.pol_eps),
            1e-10,
        )
        .le(
            "NNLS optimality violation (λ ≥ 0, Kλ − b ≥ 0, λ∘(Kλ − b) = 0)",
            Kind::Gate,
            worst(|w| w.optimality),
            1e-10,
        )
        .le(
            "scale covariance at c ∈ {0.1, 10}",
            Kind::Gate,
            worst(|w| w.covariance),
            1e-6,
        )
        .le(
            "Euler: max|b − L·q| / max|b|",
            Kind::Gate,
            worst(|w| w.euler),
            1e-12,
        )
        .ge(
            "control: covariance error when L is claimed one too high",
            Kind::Control,
            all.iter().map(|w| w.control).min_f(),
            1e-3,
        );
        let unpolished: usize = all.iter().map(|w| w.unpolished).sum();
        ev.stat("instances whose polish was rejected", unpolished as f64);
        Ok(ev)
    }
}
