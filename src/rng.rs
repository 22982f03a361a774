//! Seeded random streams.
//!
//! Every random quantity in dimple comes from a ChaCha8 stream identified by a `(seed, stream)`
//! pair. A check derives one stream per purpose (data, initialisation, test points, …) from its
//! seed, so results do not depend on the order in which work is scheduled or on the number of
//! threads: seed `s` always gives the same numbers.

use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The generator used everywhere.
pub type Rng = ChaCha8Rng;

/// Named stream ids, so that two purposes never share a stream by accident.
pub mod stream {
    /// Training or fixture data.
    pub const DATA: u64 = 1;
    /// Model initialisation.
    pub const INIT: u64 = 2;
    /// Held-out test points.
    pub const TEST: u64 = 3;
    /// Random directions, baselines and perturbations.
    pub const DIRECTIONS: u64 = 4;
    /// Choice of forgotten points / attack targets / subsets.
    pub const CHOICE: u64 = 5;
    /// Attack restarts and stochastic steps.
    pub const ATTACK: u64 = 6;
}

/// A ChaCha8 generator for `(seed, stream)`.
pub fn seeded(seed: u64, stream: u64) -> Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// One standard normal draw.
pub fn normal(rng: &mut Rng) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

/// An `r × c` matrix of i.i.d. N(0, sd²) entries, filled column by column.
pub fn gaussian_matrix(rng: &mut Rng, r: usize, c: usize, sd: f64) -> DMatrix<f64> {
    DMatrix::from_fn(r, c, |_, _| sd * normal(rng))
}

/// A vector of i.i.d. N(0, sd²) entries.
pub fn gaussian_vector(rng: &mut Rng, n: usize, sd: f64) -> DVector<f64> {
    DVector::from_fn(n, |_, _| sd * normal(rng))
}

/// A point uniform on the unit sphere S^{d−1}.
pub fn unit_sphere(rng: &mut Rng, d: usize) -> DVector<f64> {
    loop {
        let g = gaussian_vector(rng, d, 1.0);
        let n = g.norm();
        if n > 0.0 {
            return g / n;
        }
    }
}

/// A uniform draw in [0, 1).
pub fn uniform(rng: &mut Rng) -> f64 {
    rng.random::<f64>()
}

/// A uniform index in 0..n (n > 0).
pub fn index(rng: &mut Rng, n: usize) -> usize {
    rng.random_range(0..n)
}

/// A random label in {−1, +1}.
pub fn sign(rng: &mut Rng) -> f64 {
    if rng.random::<bool>() {
        1.0
    } else {
        -1.0
    }
}

/// `k` distinct indices from 0..n, in increasing order (partial Fisher–Yates).
pub fn distinct_indices(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    let k = k.min(n);
    for i in 0..k {
        let j = i + rng.random_range(0..n - i);
        all.swap(i, j);
    }
    let mut out = all[..k].to_vec();
    out.sort_unstable();
    out
}

/// An orthonormal `d × k` basis of a uniformly random k-dimensional subspace (QR of a Gaussian).
pub fn orthonormal_basis(rng: &mut Rng, d: usize, k: usize) -> DMatrix<f64> {
    let g = gaussian_matrix(rng, d, k, 1.0);
    crate::linalg::orthonormalize(&g)
}
