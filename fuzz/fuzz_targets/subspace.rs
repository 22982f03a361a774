//! The off-subspace bounds of subspace.md §3 on arbitrary small in-assumption instances: a
//! two-layer ReLU net with biases and fixed output weights, a random subspace P, and points of P.
//! For every point: the certified radius L⊥ = |N|/(‖u‖₂‖ΠW‖_op) must not exceed the exact flip
//! distance along −sign(N)g⊥ (D5 ≤ D6), the line search's root must be a zero of N, t₁ must equal
//! the exact root when it precedes the first breakpoint, and a random z ∈ P⊥ shorter than L⊥
//! must not flip the sign. A violation aborts.
#![no_main]
use dimple::data::subspace::{Orientation, Subspace};
use dimple::model::{Activation, Model, OutputLayer, TwoLayer};
use dimple::rng;
use dimple::subspace::analyse;
use libfuzzer_sys::fuzz_target;
use nalgebra::{DMatrix, DVector};

fn take(data: &mut &[u8]) -> Option<f64> {
    if data.len() < 2 {
        return None;
    }
    let v = i16::from_le_bytes([data[0], data[1]]) as f64 / 8192.0;
    *data = &data[2..];
    Some(v)
}

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() < 5 {
        return;
    }
    let d = 3 + bytes[0] as usize % 8;
    let k = 2 + bytes[1] as usize % (d - 2);
    let m = 2 * (1 + bytes[2] as usize % 6);
    let n = 1 + bytes[3] as usize % 5;
    let seed = bytes[4] as u64;
    let mut rest = &bytes[5..];
    let Ok(sub) = Subspace::new(&mut rng::seeded(seed, 1), d, k, Orientation::Random) else {
        return;
    };
    let theta = DVector::from_fn(d * m + m, |_, _| take(&mut rest).unwrap_or(0.37));
    let u = dimple::model::two_layer::alternating_signs(m);
    let net = TwoLayer::new(d, m, Activation::Relu, true, OutputLayer::Fixed(u), theta).expect("sizes");
    let coef = DMatrix::from_fn(n, k, |_, _| take(&mut rest).unwrap_or(-0.2) * 4.0);
    let x = coef * sub.basis.transpose();
    let out = net.forward(&x);
    for (i, g) in analyse(&net, &sub, &x).iter().enumerate() {
        if out[i].abs() < 1e-9 || g.g_off < 1e-9 {
            continue;
        }
        let Some(t) = g.line.t else { continue };
        assert!(g.certified <= t * (1.0 + 1e-9), "L⊥ {} > t_exact {t}", g.certified);
        let xi = x.row(i).transpose();
        let z = sub.project_out(&net.input_grad(&x.rows(i, 1).into_owned())).row(0).transpose();
        let dir = z.normalize() * -out[i].signum();
        let at = net.forward(&DMatrix::from_row_slice(1, d, (&xi + &dir * t).as_slice()))[0];
        assert!(at.abs() <= 1e-7 * (1.0 + out[i].abs()), "N at the root is {at}");
        if g.line.t_first_order < g.line.first_breakpoint {
            assert!((t - g.line.t_first_order).abs() <= 1e-9 * t);
        }
        // A random off-subspace perturbation inside the certified radius keeps the sign.
        let r = sub.project_out(&rng::gaussian_matrix(&mut rng::seeded(seed, 4), 1, d, 1.0)).row(0).transpose();
        if r.norm() > 0.0 {
            let zr = r.normalize() * (0.999 * g.certified);
            let v = net.forward(&DMatrix::from_row_slice(1, d, (&xi + zr).as_slice()))[0];
            assert!(v * out[i] > 0.0 || v.abs() < 1e-9, "flip inside L⊥");
        }
    }
});
