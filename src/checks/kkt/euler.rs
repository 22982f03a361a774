//! `kkt.euler`: Euler's identity ⟨∇_θ N, θ⟩ = L·N and finite-difference gradients.

use crate::check::Agg;
use crate::check::{nan_max, over_seeds, Check, Ctx, Evidence, Extremes};
use crate::data::near_orthogonal::{sample_points, Sampling};
use crate::error::Result;
use crate::linalg::mul;
use crate::model::finite_diff::{self, max_row_rel_err, typical};
use crate::model::{Activation, Linear, Model, TwoLayer};
use crate::rng::{self, stream};
use nalgebra::{DMatrix, DVector};

pub struct Euler;

/// The parameters of `theory/kkt.euler.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    m: usize,
    seeds: usize,
    /// Points with a pre-activation closer than this to a kink are left out of the FD test.
    kink: f64,
    /// The FD step, relative to the typical entry size.
    fd_step: f64,
}

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
        .max_f()
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

fn run_seed(seed: u64, p: &P) -> Result<SeedResult> {
    let (n, d, m) = (p.n, p.d, p.m);
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
                let pre = net.preact(&x);
                (0..n)
                    .filter(|&i| pre.row(i).iter().all(|z| z.abs() >= p.kink))
                    .collect()
            }
            None => (0..n).collect(),
        };
        skipped += n - keep.len();
        let xs = x.select_rows(&keep);
        let jac = model.jacobian(&xs);
        let h_theta = p.fd_step * typical(model.params());
        fd_theta = nan_max(
            fd_theta,
            max_row_rel_err(&finite_diff::param_jacobian(model, &xs, h_theta), &jac),
        );
        let h_x = p.fd_step * typical(&DVector::from_column_slice(xs.as_slice()));
        fd_x = nan_max(
            fd_x,
            max_row_rel_err(
                &finite_diff::input_grad(model, &xs, h_x),
                &model.input_grad(&xs),
            ),
        );
        // The structured kernels against the explicit Jacobian.
        let c = DVector::from_fn(xs.nrows(), |i, _| (i as f64 + 1.0).sin());
        let vjp_err = (model.vjp(&xs, &c) - jac.tr_mul(&c)).norm() / (jac.norm() * c.norm());
        let u = DVector::from_fn(model.n_params(), |k, _| (k as f64 + 0.5).cos());
        let jvp_err = (model.jvp(&xs, &u) - &jac * &u).norm() / (jac.norm() * u.norm());
        let g = mul(&jac, crate::linalg::Op::N, &jac, crate::linalg::Op::T);
        let gram_err = (model.gram(&xs) - &g).norm() / g.norm();
        consistency = [vjp_err, jvp_err, gram_err]
            .into_iter()
            .fold(consistency, nan_max);
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
        .max_f();
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
        let p: P = ctx.params()?;
        let res = over_seeds(p.seeds, |s| run_seed(s, &p))?;
        let mut ev = ctx.evidence();
        let keys = [
            "euler.linear",
            "euler.relu2_fixed",
            "euler.relu2_both",
            "euler.leaky2_fixed",
        ];
        for (k, key) in keys.iter().enumerate() {
            ev.record(key, Agg::max(res.iter().map(|r| r.euler[k])));
        }
        ev.record("fd.theta", Agg::max(res.iter().map(|r| r.fd_theta)));
        ev.record("fd.x", Agg::max(res.iter().map(|r| r.fd_x)));
        ev.record("kernels", Agg::max(res.iter().map(|r| r.consistency)));
        ev.record("control.biased", Agg::min(res.iter().map(|r| r.control)));
        ev.stat(
            "points skipped near a kink",
            res.iter().map(|r| r.skipped).sum::<usize>() as f64,
        );
        Ok(ev)
    }
}
