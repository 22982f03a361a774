//! A curved k-dimensional manifold embedded in R^d (dimpled.md §5).
//!
//! x(t) = (ρ_x/√F) Σ_{f=1..F} q_f cos(ω_fᵀt + φ_f) for t ∈ [0, 1]^k, with q_f orthonormal in R^d,
//! ω_f ~ N(0, ω₀² I_k) and φ_f ~ U[0, 2π]. The tangent map is
//! J(t) = −(ρ_x/√F) Σ_f q_f sin(ω_fᵀt + φ_f) ω_fᵀ ∈ R^{d×k}. The intrinsic dimension is k while
//! the linear span has dimension up to F. Labels: y = sign(sin(2π·2·t₁)).

use super::Binary;
use crate::error::{Error, Result};
use crate::rng::{self, Rng};
use nalgebra::{DMatrix, DVector};

/// The embedding's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvedManifold {
    /// q_f as columns, d × F, orthonormal.
    pub q: DMatrix<f64>,
    /// ω_f as rows, F × k.
    pub omega: DMatrix<f64>,
    /// φ_f.
    pub phase: DVector<f64>,
    /// Radius ρ_x.
    pub rho: f64,
}

impl CurvedManifold {
    /// A random embedding of a k-manifold in R^d with F frequencies.
    pub fn new(rng: &mut Rng, d: usize, k: usize, f: usize, omega0: f64, rho: f64) -> Result<Self> {
        if k == 0 || f < k || f > d || !(omega0 > 0.0) || !(rho > 0.0) {
            return Err(Error::input(format!(
                "curved manifold needs 1 ≤ k ≤ F ≤ d, ω₀ > 0, ρ > 0; got k = {k}, F = {f}, d = {d}, ω₀ = {omega0}, ρ = {rho}"
            )));
        }
        let q = rng::orthonormal_basis(rng, d, f);
        let omega = rng::gaussian_matrix(rng, f, k, omega0);
        let phase = DVector::from_fn(f, |_, _| 2.0 * std::f64::consts::PI * rng::uniform(rng));
        Ok(Self {
            q,
            omega,
            phase,
            rho,
        })
    }

    fn scale(&self) -> f64 {
        self.rho / (self.q.ncols() as f64).sqrt()
    }

    /// The point x(t).
    pub fn point(&self, t: &DVector<f64>) -> DVector<f64> {
        let arg = &self.omega * t + &self.phase;
        &self.q * arg.map(f64::cos) * self.scale()
    }

    /// The tangent map J(t), d × k.
    pub fn tangent(&self, t: &DVector<f64>) -> DMatrix<f64> {
        let arg = &self.omega * t + &self.phase;
        let s = arg.map(f64::sin);
        let mut w = self.omega.clone();
        for (f, mut r) in w.row_iter_mut().enumerate() {
            r *= -s[f] * self.scale();
        }
        &self.q * w
    }

    /// Draws `n` points with t uniform in \[0, 1\]^k; returns the data and the parameters t (n × k).
    pub fn sample(&self, rng: &mut Rng, n: usize) -> Result<(Binary, DMatrix<f64>)> {
        let k = self.omega.ncols();
        let d = self.q.nrows();
        let t = DMatrix::from_fn(n, k, |_, _| rng::uniform(rng));
        let mut x = DMatrix::zeros(n, d);
        let mut y = DVector::zeros(n);
        for i in 0..n {
            let ti = t.row(i).transpose();
            x.row_mut(i).copy_from(&self.point(&ti).transpose());
            y[i] = if (2.0 * std::f64::consts::PI * 2.0 * ti[0]).sin() >= 0.0 {
                1.0
            } else {
                -1.0
            };
        }
        Ok((Binary::new(x, y)?, t))
    }
}
