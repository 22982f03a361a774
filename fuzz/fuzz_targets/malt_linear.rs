//! The linear-model optimality fact of malt.md §5 on arbitrary small instances: for z = Wx + b
//! and x labelled by its arg-max, MALT's rank-1 target (testk = K − 1) is the class with the
//! smallest closed-form distance d_t (L∞ and L2), x + (1 + 1e−9)δ_{t*} is classified t* (unless
//! another class is exactly as close), and the
//! direction of every class scaled to (1 − 1e−9)d* leaves y the arg-max. A violation aborts.
#![no_main]
use dimple::attack::exact::linear_distance;
use dimple::attack::losses::argmax;
use dimple::attack::targets::malt_rankings;
use dimple::attack::Norm;
use dimple::model::{Activation, Classifier, Mlp};
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
    if bytes.len() < 2 {
        return;
    }
    let d = 1 + bytes[0] as usize % 8;
    let k = 2 + bytes[1] as usize % 8;
    let mut rest = &bytes[2..];
    let theta = DVector::from_fn(d * k + k, |_, _| take(&mut rest).unwrap_or(0.3));
    let Ok(model) = Mlp::new(vec![d, k], Activation::Relu, theta) else { return };
    let x = DMatrix::from_fn(1, d, |_, _| take(&mut rest).unwrap_or(0.1));
    let Some((w, b)) = model.weights(0) else { return };
    let z: Vec<f64> = model.logits(&x).row(0).iter().copied().collect();
    let y = argmax(&z);
    // Skip near-ties, where the arg-max is decided by rounding.
    let mut sorted = z.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    if sorted[0] - sorted[1] < 1e-6 {
        return;
    }
    let xi = x.row(0).transpose();
    for norm in [Norm::Linf, Norm::L2] {
        let dist: Vec<(f64, DVector<f64>)> = (0..k)
            .map(|t| if t == y { (f64::INFINITY, DVector::zeros(d)) } else { linear_distance(&w, &b, &xi, y, t, norm) })
            .collect();
        if dist.iter().any(|(v, _)| v.is_nan()) {
            return; // w_t = w_y: that class can never beat y.
        }
        let best = dist.iter().map(|v| v.0).fold(f64::INFINITY, f64::min);
        let Ok((ranks, _)) = malt_rankings(&model, &x, &[y], norm, 1, k - 1) else { return };
        let t = ranks[0].targets[0];
        // Logit gaps are computed by two different products (MALT: the batched forward pass;
        // d_t: W x + b); their rounding is ~1e−15·max|z|, so distances are compared to within
        // 1e−9·(1 + max|z|)/‖w_t − w_y‖_q.
        let zmax = z.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let q = |c: usize| {
            let diff: Vec<f64> = (0..d).map(|j| w[(c, j)] - w[(y, j)]).collect();
            match norm {
                Norm::Linf => diff.iter().map(|v| v.abs()).sum::<f64>(),
                Norm::L2 => diff.iter().map(|v| v * v).sum::<f64>().sqrt(),
            }
        };
        let slack = 1e-9 * (1.0 + zmax) / q(t);
        assert!(dist[t].0 <= best + slack, "MALT rank-1 {t} is not a closest class");
        if dist[t].0.is_finite() && dist[t].0 > 0.0 {
            let at = |f: f64, c: usize| {
                let v: Vec<f64> = (&w * (&xi + &dist[c].1 * f) + &b).iter().copied().collect();
                (argmax(&v), v)
            };
            let (won, v) = at(1.0 + 1e-9, t);
            let tied = v.iter().filter(|&&a| (a - v[t]).abs() <= 1e-9 * (1.0 + a.abs())).count() > 1;
            // The fact needs t* to be the unique closest class: another class exactly as close
            // (duplicate rows of W, say) may win the tie.
            let also_closest = won != y && dist[won].0 <= dist[t].0 * (1.0 + 1e-6);
            assert!(won == t || tied || also_closest, "x + δ_t* is classified {won}, not {t}");
            for c in (0..k).filter(|&c| c != y && dist[c].0.is_finite()) {
                let (still, v) = at((1.0 - 1e-9) * best / dist[c].0, c);
                let tied = v.iter().filter(|&&a| (a - v[y]).abs() <= 1e-9 * (1.0 + a.abs())).count() > 1;
                assert!(still == y || tied, "a shorter perturbation toward {c} flips the class");
            }
        }
    }
});
