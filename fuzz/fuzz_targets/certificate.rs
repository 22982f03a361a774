//! The KKT certificate on arbitrary small instances inside its assumptions (a homogeneous model,
//! labels that it classifies correctly so every margin is positive) must respect the bounds that
//! hold for every input: 0 ≤ ε ≤ ‖θ̃‖ (λ = 0 is feasible), τ = 0 after normalisation up to
//! rounding, λ ≥ 0, and Euler's identity b = L·q. A fourth kind of instance is an exact
//! hard-margin SVM with more points than dimensions (the multipliers are not unique): its
//! certificate must report ε and δ of the δ-minimising multipliers ≈ 0. The matrix-free route
//! must bracket the exact ε* at any iteration count. A violation aborts.
#![no_main]
use dimple::data::Binary;
use dimple::margin::certificate::{certify, CertifyOptions};
use dimple::model::{Activation, Linear, Model, OutputLayer, TwoLayer};
use libfuzzer_sys::fuzz_target;
use nalgebra::{DMatrix, DVector};

fn take(data: &mut &[u8]) -> Option<f64> {
    if data.len() < 2 {
        return None;
    }
    let v = i16::from_le_bytes([data[0], data[1]]) as f64 / 4096.0;
    *data = &data[2..];
    Some(v)
}

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() < 4 {
        return;
    }
    let (n, d, half_m, kind) = (1 + bytes[0] as usize % 6, 1 + bytes[1] as usize % 6, 1 + bytes[2] as usize % 3, bytes[3] % 4);
    if kind == 3 {
        let seed = bytes[4..].iter().take(8).fold(0u64, |a, &b| a << 8 | b as u64);
        let n_wide = d + 1 + bytes[0] as usize % 24;
        let Ok((data, _)) = dimple::data::planted::generate(&mut dimple::rng::seeded(seed, 1), n_wide, d, 0.2) else { return };
        let Ok(s) = dimple::margin::svm::hard_margin(&data) else { return };
        let Ok(c) = certify(&Linear::new(s.w), &data, &CertifyOptions::default()) else { return };
        assert!(c.eps_rel <= 1e-8, "exact SVM (n = {n_wide} > d = {d}): ε_rel = {}", c.eps_rel);
        assert!(c.delta <= 1e-8 * c.lambda.amax(), "exact SVM (n = {n_wide} > d = {d}): δ = {} (rank {}, reselected {})", c.delta, c.rank, c.reselected);
        return;
    }
    let mut rest = &bytes[4..];
    let m = 2 * half_m;
    let x = DMatrix::from_fn(n, d, |_, _| take(&mut rest).unwrap_or(0.5));
    let model: Box<dyn Model> = match kind {
        0 => Box::new(Linear::new(DVector::from_fn(d, |_, _| take(&mut rest).unwrap_or(0.25)))),
        k => {
            let trained = k == 2;
            let p = m * d + if trained { m } else { 0 };
            let theta = DVector::from_fn(p, |_, _| take(&mut rest).unwrap_or(-0.3));
            let output = if trained { OutputLayer::Trained } else { OutputLayer::Fixed(dimple::model::two_layer::alternating_signs(m)) };
            Box::new(TwoLayer::new(d, m, Activation::Relu, false, output, theta).expect("consistent sizes"))
        }
    };
    let out = model.forward(&x);
    if out.iter().any(|v| v.abs() < 1e-6) {
        return; // outside the assumptions: a point on the decision boundary
    }
    let data = Binary::new(x, out.map(f64::signum)).expect("finite data and ±1 labels");
    let Ok(c) = certify(model.as_ref(), &data, &CertifyOptions::default()) else { return };
    assert!(c.eps.is_finite() && c.eps >= 0.0);
    assert!(c.eps <= c.theta_norm * (1.0 + 1e-9) + 1e-12, "ε = {} > ‖θ̃‖ = {}", c.eps, c.theta_norm);
    assert!(c.tau <= 1e-9, "τ = {} after normalisation", c.tau);
    assert!(c.lambda.iter().all(|&l| l >= 0.0), "negative multiplier");
    assert!(c.euler_gap <= 1e-9, "Euler gap {}", c.euler_gap);
    // The matrix-free bracket holds the exact ε* at any iteration count.
    let opts = dimple::margin::matrix_free::Options { max_iters: 1 + bytes[3] as usize % 40, gap: 1e-9, check_every: 3 };
    if let Ok(mf) = dimple::margin::matrix_free::certify(model.as_ref(), &data, &opts, &mut |_, _, _| {}) {
        let tol = 1e-9 * c.theta_norm + 1e-12;
        assert!(mf.eps_lower <= c.eps + tol, "matrix-free lower bound {} > ε* {}", mf.eps_lower, c.eps);
        assert!(mf.eps >= c.eps - tol, "matrix-free upper bound {} < ε* {}", mf.eps, c.eps);
    }
});
