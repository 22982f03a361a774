//! `kkt.euler`: Euler's identity ⟨∇_θ N, θ⟩ = L·N and finite-difference gradients.

use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::data::near_orthogonal::{sample_points, Sampling};
use crate::error::Result;
use crate::linalg::mul;
use crate::model::finite_diff::{self, max_row_rel_err, typical};
use crate::model::{Activation, Linear, Model, TwoLayer};
use crate::rng::{self, stream};
use crate::theory::Kind;
use nalgebra::{DMatrix, DVector};

pub struct Euler;

/// Σ_j |v_j σ(⟨w_j, x_i⟩ + b_j)| (two-layer) or Σ_k |w_k x_ik| (linear), per sample.
fn unit_contributions(model: &dyn Model, net: Option<&TwoLayer>, x: &DMatrix<f64>) -> DVector<f64> {
    match net {
        Some(net) => {
            let s = net.preact(x).map(|z| net.activation().value(z).abs());
            let v = DVector::from_iterator(net.width(), net.v().iter().map(|a| a.abs()));
            s * v
        }
        None => {
            let w = model.params().map(f64::abs);
            x.map(f64::abs) * w
        }
    }
}

/// max_i |⟨∇_θ N(x_i), θ⟩ − L·N(x_i)| / (L·Σ_j |unit contribution|).
fn euler_rel(model: &dyn Model, net: Option<&TwoLayer>, x: &DMatrix<f64>, l: f64) -> f64 {
    let lhs = model.jvp(x, model.params());
    let out = model.forward(x);
    let scale = unit_contributions(model, net, x);
    (0..x.nrows())
        .map(|i| (lhs[i] - l * out[i]).abs() / (l * scale[i]).max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max)
}

struct SeedResult {
    euler: Vec<f64>,
    fd_theta: f64,
    fd_x: f64,
    consistency: f64,
    control: f64,
    skipped: usize,
}

fn random_net(
    seed: u64,
    d: usize,
    m: usize,
    act: Activation,
    bias: bool,
    trained: bool,
) -> TwoLayer {
    let mut r = rng::seeded(seed, stream::INIT);
    let mut net = TwoLayer::init(&mut r, d, m, act, bias, trained, 1.0);
    let p = net.n_params();
    let theta = rng::gaussian_vector(&mut r, p, 1.0);
    net.params_mut().copy_from(&theta);
    net
}

fn run_seed(seed: u64, n: usize, d: usize, m: usize) -> Result<SeedResult> {
    let x = sample_points(
        &mut rng::seeded(seed, stream::DATA),
        n,
        d,
        Sampling::Gaussian,
    );
    let linear = Linear::new(rng::gaussian_vector(
        &mut rng::seeded(seed, stream::DIRECTIONS),
        d,
        1.0,
    ));
    let nets = [
        random_net(seed, d, m, Activation::Relu, false, false),
        random_net(seed, d, m, Activation::Relu, false, true),
        random_net(seed, d, m, Activation::Leaky(0.1), false, false),
    ];
    let mut euler = vec![euler_rel(&linear, None, &x, 1.0)];
    for net in &nets {
        euler.push(euler_rel(
            net,
            Some(net),
            &x,
            net.homogeneity().unwrap_or(1) as f64,
        ));
    }
    // Finite differences, skipping points within 1e−4 of a kink.
    let mut fd_theta: f64 = 0.0;
    let mut fd_x: f64 = 0.0;
    let mut consistency: f64 = 0.0;
    let mut skipped = 0;
    let models: Vec<(&dyn Model, Option<&TwoLayer>)> =
        std::iter::once((&linear as &dyn Model, None))
            .chain(nets.iter().map(|n| (n as &dyn Model, Some(n))))
            .collect();
    for (model, net) in models {
        let keep: Vec<usize> = match net {
            Some(net) => {
                let p = net.preact(&x);
                (0..n)
                    .filter(|&i| p.row(i).iter().all(|z| z.abs() >= 1e-4))
                    .collect()
            }
            None => (0..n).collect(),
        };
        skipped += n - keep.len();
        let xs = x.select_rows(&keep);
        let jac = model.jacobian(&xs);
        let h_theta = 1e-6 * typical(model.params());
        fd_theta = fd_theta.max(max_row_rel_err(
            &finite_diff::param_jacobian(model, &xs, h_theta),
            &jac,
        ));
        let h_x = 1e-6 * typical(&DVector::from_column_slice(xs.as_slice()));
        fd_x = fd_x.max(max_row_rel_err(
            &finite_diff::input_grad(model, &xs, h_x),
            &model.input_grad(&xs),
        ));
        // The structured kernels against the explicit Jacobian.
        let c = DVector::from_fn(xs.nrows(), |i, _| (i as f64 + 1.0).sin());
        let vjp_err = (model.vjp(&xs, &c) - jac.tr_mul(&c)).norm() / (jac.norm() * c.norm());
        let u = DVector::from_fn(model.n_params(), |k, _| (k as f64 + 0.5).cos());
        let jvp_err = (model.jvp(&xs, &u) - &jac * &u).norm() / (jac.norm() * u.norm());
        let g = mul(&jac, crate::linalg::Op::N, &jac, crate::linalg::Op::T);
        let gram_err = (model.gram(&xs) - &g).norm() / g.norm();
        consistency = consistency.max(vjp_err).max(jvp_err).max(gram_err);
    }
    // Negative control: with the biases held fixed (not parameters) the net is not homogeneous
    // in W, so Euler over W alone must fail: ⟨∇_W N, W⟩ = N − Σ_j v_j σ'(p_j) b_j.
    let biased = random_net(seed, d, m, Activation::Relu, true, false);
    let mut w_only = biased.params().clone();
    w_only.rows_mut(d * m, m).fill(0.0);
    let lhs = biased.jvp(&x, &w_only);
    let out = biased.forward(&x);
    let scale = unit_contributions(&biased, Some(&biased), &x);
    let control = (0..n)
        .map(|i| (lhs[i] - out[i]).abs() / scale[i].max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max);
    Ok(SeedResult {
        euler,
        fd_theta,
        fd_x,
        consistency,
        control,
        skipped,
    })
}

impl Check for Euler {
    fn id(&self) -> &'static str {
        "kkt.euler"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let (n, d, m, seeds) = (p.n("n")?, p.n("d")?, p.n("m")?, p.n("seeds")?);
        let res = over_seeds(seeds, |s| run_seed(s, n, d, m))?;
        let mut ev = ctx.evidence();
        let names = [
            "linear",
            "relu2-fixed (V1)",
            "relu2-both (V2)",
            "leaky2-fixed",
        ];
        for (k, name) in names.iter().enumerate() {
            let worst = res.iter().map(|r| r.euler[k]).fold(0.0, f64::max);
            ev.le(
                format!("Euler relative error, {name}"),
                Kind::Gate,
                worst,
                1e-12,
            );
        }
        ev.le(
            "FD relative error of ∇_θ N",
            Kind::Gate,
            res.iter().map(|r| r.fd_theta).fold(0.0, f64::max),
            1e-6,
        );
        ev.le(
            "FD relative error of ∇_x N",
            Kind::Gate,
            res.iter().map(|r| r.fd_x).fold(0.0, f64::max),
            1e-6,
        );
        ev.le(
            "vjp / jvp / Gram vs explicit Jacobian",
            Kind::Gate,
            res.iter().map(|r| r.consistency).fold(0.0, f64::max),
            1e-12,
        );
        ev.ge(
            "control: Euler error over W of a net with fixed biases (not homogeneous)",
            Kind::Control,
            res.iter().map(|r| r.control).min_f(),
            1e-3,
        );
        ev.stat(
            "points skipped near a kink",
            res.iter().map(|r| r.skipped).sum::<usize>() as f64,
        );
        Ok(ev)
    }
}
