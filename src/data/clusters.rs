//! Multi-class Gaussian clusters.
//!
//! K centres c_k uniform in [¼, ¾]^d; a sample of class k is c_k + N(0, σ²I_d), optionally
//! clamped to the box [0, 1]^d (the input domain of the attack families).

use super::MultiClass;
use crate::error::{Error, Result};
use crate::rng::{self, Rng};
use nalgebra::DMatrix;

/// Cluster centres and noise level.
#[derive(Clone, Debug, PartialEq)]
pub struct Clusters {
    /// Centres as rows, K × d.
    pub centres: DMatrix<f64>,
    /// Noise standard deviation.
    pub sigma: f64,
    /// Clamp samples to [0, 1]^d.
    pub clamp: bool,
}

impl Clusters {
    /// K random centres in R^d.
    pub fn random(rng: &mut Rng, k: usize, d: usize, sigma: f64, clamp: bool) -> Result<Self> {
        if k < 2 || d == 0 || !(sigma > 0.0) {
            return Err(Error::input(format!(
                "clusters need K ≥ 2, d ≥ 1, σ > 0; got K = {k}, d = {d}, σ = {sigma}"
            )));
        }
        let centres = DMatrix::from_fn(k, d, |_, _| 0.25 + 0.5 * rng::uniform(rng));
        Ok(Self {
            centres,
            sigma,
            clamp,
        })
    }

    /// Draws `n` samples with classes assigned round-robin (balanced).
    pub fn sample(&self, rng: &mut Rng, n: usize) -> Result<MultiClass> {
        let (k, d) = self.centres.shape();
        let mut x = DMatrix::zeros(n, d);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let c = i % k;
            for j in 0..d {
                let v = self.centres[(c, j)] + self.sigma * rng::normal(rng);
                x[(i, j)] = if self.clamp { v.clamp(0.0, 1.0) } else { v };
            }
            y.push(c);
        }
        MultiClass::new(x, y, k)
    }
}
