//! Linearly separable data with a planted unit normal and a guaranteed gap.
//!
//! x ~ N(0, I_d), y = sign⟨w*, x⟩ with ‖w*‖ = 1, then x ← x + gap·y·w*, so every point has
//! y⟨w*, x⟩ ≥ gap and the data are separable through the origin (no bias).

use super::Binary;
use crate::error::{Error, Result};
use crate::rng::{self, Rng};
use nalgebra::DVector;

/// Planted separable data and its planted normal.
pub fn generate(rng: &mut Rng, n: usize, d: usize, gap: f64) -> Result<(Binary, DVector<f64>)> {
    if n == 0 || d == 0 || !(gap > 0.0) {
        return Err(Error::input(format!(
            "planted data needs n ≥ 1, d ≥ 1, gap > 0; got n = {n}, d = {d}, gap = {gap}"
        )));
    }
    let w = rng::unit_sphere(rng, d);
    let mut x = rng::gaussian_matrix(rng, n, d, 1.0);
    let mut y = DVector::zeros(n);
    for i in 0..n {
        let s = x.row(i).transpose().dot(&w);
        let yi = if s >= 0.0 { 1.0 } else { -1.0 };
        y[i] = yi;
        let shift = (gap * yi) * w.transpose();
        let mut r = x.row_mut(i);
        r += shift;
    }
    Ok((Binary::new(x, y)?, w))
}
