//! Two-component Gaussian mixture x = ỹμ + ξ, ξ ~ N(0, σ²I_d), with optional label noise.
//!
//! ỹ is uniform on {±1}; the observed label is y = ỹ, flipped with probability η. For any linear
//! w the test error is exactly err(w) = η + (1 − 2η)·Φ̄(⟨w, μ⟩/(σ‖w‖)) (unlearn.md §8).

use super::Binary;
use crate::error::{Error, Result};
use crate::rng::{self, Rng};
use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ContinuousCDF, Normal};

/// The mixture's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    /// The mean direction, scaled: ‖μ‖² is the signal strength.
    pub mu: DVector<f64>,
    /// Noise standard deviation σ.
    pub sigma: f64,
    /// Label-flip probability η ∈ [0, ½).
    pub label_noise: f64,
}

impl Mixture {
    /// A mixture with a uniformly random mean direction of squared norm `mu_norm2`.
    pub fn random(
        rng: &mut Rng,
        d: usize,
        mu_norm2: f64,
        sigma: f64,
        label_noise: f64,
    ) -> Result<Self> {
        if d == 0 || !(mu_norm2 >= 0.0) || !(sigma > 0.0) || !(0.0..0.5).contains(&label_noise) {
            return Err(Error::input(format!(
                "mixture needs d ≥ 1, ‖μ‖² ≥ 0, σ > 0, η ∈ [0, ½); got d = {d}, ‖μ‖² = {mu_norm2}, σ = {sigma}, η = {label_noise}"
            )));
        }
        let mu = rng::unit_sphere(rng, d) * mu_norm2.sqrt();
        Ok(Self {
            mu,
            sigma,
            label_noise,
        })
    }

    /// Draws `n` labelled points.
    pub fn sample(&self, rng: &mut Rng, n: usize) -> Result<Binary> {
        let d = self.mu.len();
        let mut x = DMatrix::zeros(n, d);
        let mut y = DVector::zeros(n);
        for i in 0..n {
            let yt = rng::sign(rng);
            for k in 0..d {
                x[(i, k)] = self.mu[k] * yt + self.sigma * rng::normal(rng);
            }
            let flip = self.label_noise > 0.0 && rng::uniform(rng) < self.label_noise;
            y[i] = if flip { -yt } else { yt };
        }
        Binary::new(x, y)
    }

    /// Exact test error of the linear classifier sign⟨w, x⟩.
    pub fn linear_error(&self, w: &DVector<f64>) -> f64 {
        let s = w.dot(&self.mu) / (self.sigma * w.norm());
        let tail = 1.0 - Normal::standard().cdf(s);
        self.label_noise + (1.0 - 2.0 * self.label_noise) * tail
    }
}
