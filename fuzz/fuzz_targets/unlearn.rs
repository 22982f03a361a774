//! Random in-assumption linear instances (n, d, seed, and a scale on d that moves φ): after the
//! GA step with the theorem's β*, the unlearned SVM must satisfy the bounds of
//! `unlearn.linear.kkt` — T1 (ε = 0 with the certificate multipliers), T2 and T3 with the measured
//! Λ and φ — whenever the draw satisfies (A3). A violation aborts.
#![no_main]
use dimple::data::near_orthogonal::{self, Sampling};
use dimple::margin::svm;
use dimple::model::{Linear, Model};
use dimple::rng;
use dimple::unlearn::triple;
use libfuzzer_sys::fuzz_target;
use nalgebra::DVector;

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() < 11 {
        return;
    }
    let n = 2 + bytes[0] as usize % 9;
    // d from n² (φ large, (A3) often fails) up to 400·n² (φ small).
    let d = n * n * (1 + u16::from_le_bytes([bytes[1], bytes[2]]) as usize % 400);
    let seed = u64::from_le_bytes(bytes[3..11].try_into().unwrap_or([0; 8]));
    let Ok((data, spread)) = near_orthogonal::generate(&mut rng::seeded(seed, 1), n, d, Sampling::Gaussian) else { return };
    if !spread.a3_holds(n) {
        return; // outside the assumptions
    }
    let s = svm::hard_margin(&data).expect("(A3) data are separable");
    let lam = s.lambda();
    let r = (seed % n as u64) as usize;
    let keep: Vec<usize> = (0..n).filter(|&i| i != r).collect();
    let wp = &s.w - data.row(r) * (lam[r] * data.y()[r]);
    let mu = DVector::from_iterator(keep.len(), keep.iter().map(|&i| lam[i]));
    let t = triple(&Linear::new(wp.clone()), &data.subset(&keep), &mu);
    let (big_l, phi, lr) = (lam.max(), spread.phi, lam[r]);
    assert!(t.eps <= 1e-10 * s.w.norm(), "T1: ε = {}", t.eps);
    assert!(t.delta <= big_l * lr * phi * (1.0 + 1e-9) + 1e-15, "T3: δ = {} > {}", t.delta, big_l * lr * phi);
    assert!(t.tau <= lr * phi * (1.0 + 1e-9) + 1e-15, "T3: τ = {} > {}", t.tau, lr * phi);
    let q = Linear::new(wp).forward(data.x()).component_mul(data.y());
    for &i in &keep {
        assert!((q[i] - 1.0).abs() <= lr * phi * (1.0 + 1e-9) + 1e-12, "T2 at {i}");
    }
});
