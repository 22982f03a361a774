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
