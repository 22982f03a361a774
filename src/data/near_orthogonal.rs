//! Nearly-orthogonal high-dimensional points with random labels.
//!
//! x_i ~ N(0, I_d/d) (so E‖x_i‖² = 1) or x_i uniform on S^{d−1}; y_i uniform on {±1}. In high
//! dimension ‖x_i‖² concentrates at 1 and |⟨x_i, x_k⟩| = O(√(log n / d)); the generator returns
//! the measured [`Spread`] (ψ against R² = 1, φ) with the data.

use super::spread::Spread;
use super::Binary;
use crate::error::{Error, Result};
use crate::rng::{self, Rng};
use nalgebra::{DMatrix, DVector};

/// How the points are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// x ~ N(0, I_d/d).
    Gaussian,
    /// x uniform on the unit sphere.
    Sphere,
}

/// Draws `n` points in R^d with random ±1 labels.
pub fn generate(rng: &mut Rng, n: usize, d: usize, sampling: Sampling) -> Result<(Binary, Spread)> {
    if n == 0 || d == 0 {
        return Err(Error::input(format!(
            "need n ≥ 1 and d ≥ 1, got n = {n}, d = {d}"
        )));
    }
    let x = sample_points(rng, n, d, sampling);
    let y = DVector::from_fn(n, |_, _| rng::sign(rng));
    let spread = Spread::of_rows(&x, 1.0);
    Ok((Binary::new(x, y)?, spread))
}

/// `n` points in R^d, one per row.
pub fn sample_points(rng: &mut Rng, n: usize, d: usize, sampling: Sampling) -> DMatrix<f64> {
    let mut x = DMatrix::zeros(n, d);
    for i in 0..n {
        let row = match sampling {
            Sampling::Gaussian => rng::gaussian_vector(rng, d, 1.0 / (d as f64).sqrt()),
            Sampling::Sphere => rng::unit_sphere(rng, d),
        };
        x.row_mut(i).copy_from(&row.transpose());
    }
    x
}
