//! Activation flips caused by a gradient-ascent step on a two-layer net (unlearn.md §6).
//!
//! With σ'_ij = 1[⟨w_j, x_i⟩ > 0], a flip is a pair (i ≠ r, j) whose activation changes between
//! W and W'. The no-flip sufficient condition for the step w_j' = w_j − cλ_r y_r v_j σ'_rj x_r is
//! |⟨w_j, x_i⟩| > cλ_r|v_j||⟨x_r, x_i⟩| for every unit j with σ'_rj = 1 and every i ≠ r.

use crate::data::Binary;
use crate::model::TwoLayer;

/// Number of (i ∉ F, j) pairs whose activation differs between `before` and `after`.
pub fn count(before: &TwoLayer, after: &TwoLayer, data: &Binary, forget: &[usize]) -> usize {
    let (p0, p1) = (before.preact(data.x()), after.preact(data.x()));
    let mut flips = 0;
    for i in super::retained(data.n(), forget) {
        for j in 0..before.width() {
            if (p0[(i, j)] > 0.0) != (p1[(i, j)] > 0.0) {
                flips += 1;
            }
        }
    }
    flips
}

/// Whether the sufficient condition for no flips holds for forgetting the single point r with
/// multiplier λ_r at fraction c.
pub fn sufficient_condition(
    net: &TwoLayer,
    data: &Binary,
    r: usize,
    lambda_r: f64,
    c: f64,
) -> bool {
    let p = net.preact(data.x());
    let v = net.v();
    let xr = data.row(r);
    (0..data.n()).filter(|&i| i != r).all(|i| {
        let ip = data.row(i).dot(&xr).abs();
        (0..net.width())
            .filter(|&j| p[(r, j)] > 0.0)
            .all(|j| p[(i, j)].abs() > c * lambda_r * v[j].abs() * ip)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activation, OutputLayer};
    use nalgebra::{DMatrix, DVector};

    /// A 1-input net with biases: pre-activation w_j·x + b_j, output weights `v` (fixed).
    fn net(w: &[f64], b: &[f64], v: &[f64]) -> TwoLayer {
        let theta: Vec<f64> = w.iter().chain(b).copied().collect();
        TwoLayer::new(
            1,
            w.len(),
            Activation::Relu,
            true,
            OutputLayer::Fixed(DVector::from_column_slice(v)),
            DVector::from_vec(theta),
        )
        .expect("parameters of the documented length")
    }

    fn data(x: &[f64]) -> Binary {
        Binary::new(
            DMatrix::from_column_slice(x.len(), 1, x),
            DVector::from_element(x.len(), 1.0),
        )
        .expect("labels ±1")
    }

    #[test]
    fn a_flip_is_a_sign_change_of_a_retained_pre_activation_and_zero_is_inactive() {
        // Unit 0: w x + 0 → w x − 1; unit 1: w x − 1 → w x + 0.
        let before = net(&[1.0, 1.0], &[0.0, -1.0], &[1.0, -1.0]);
        let after = net(&[1.0, 1.0], &[-1.0, 0.0], &[1.0, -1.0]);
        // x = 0: pre-activations 0 → −1 and −1 → 0, inactive throughout (no flip);
        // x = 0.5: 0.5 → −0.5 and −0.5 → 0.5 (two flips); x = 2: active throughout;
        // x = 0.5 again, forgotten: its two flips are not counted.
        let d = data(&[0.0, 0.5, 2.0, 0.5]);
        assert_eq!(count(&before, &after, &d, &[3]), 2);
        assert_eq!(count(&before, &after, &d, &[1]), 2);
        assert_eq!(count(&before, &after, &d, &[0]), 4);
        assert_eq!(count(&before, &before, &d, &[0]), 0);
    }

    #[test]
    fn the_sufficient_condition_compares_each_active_unit_with_its_step() {
        // x_r = 1 (r = 0), x_1 = 2, so |⟨x_r, x_1⟩| = 2 and the step of unit j at point 1 is
        // c·λ_r·|v_j|·2 = λ_r·|v_j|·2 at c = 1. Unit 0 (w 1, b 1) is active at r: pre-activations
        // 2 at r and 3 at x_1. Unit 1 (w −1, b 1) is exactly 0 at r and unit 2 (w −½, b 0) is
        // negative there: both inactive, so their small pre-activations at x_1 do not count.
        let n = net(&[1.0, -1.0, -0.5], &[1.0, 1.0, 0.0], &[0.5, -0.5, 0.5]);
        let d = data(&[1.0, 2.0]);
        // λ_r = 1: step 1 at x_1 against |3|, and 0.5 at r itself: holds.
        assert!(sufficient_condition(&n, &d, 0, 1.0, 1.0));
        // λ_r = 2.9: step 2.9 against |3| holds; the step is a product (c·λ_r + |v_j|·ip = 3.9 or
        // c·λ_r·|v_j| + ip = 3.45 would not).
        assert!(sufficient_condition(&n, &d, 0, 2.9, 1.0));
        // λ_r = 3: the step at x_1 is exactly 3 = |p|; the condition is strict.
        assert!(!sufficient_condition(&n, &d, 0, 3.0, 1.0));
        // λ_r = 3.5: violated at x_1 (3 < 3.5) though r itself (2 > 1.75) would pass.
        assert!(!sufficient_condition(&n, &d, 0, 3.5, 1.0));
        // The fraction c scales the step: c = 0.5 at λ_r = 3.5 holds again.
        assert!(sufficient_condition(&n, &d, 0, 3.5, 0.5));
    }
}
