//! Points in a random k-dimensional linear (or affine) subspace of R^d.
//!
//! P = span(Q_P) with Q_P ∈ R^{d×k} orthonormal (uniformly random, or the first k coordinate
//! axes). Points are x = o + ρ_x·Q_P·u with u ∈ S^{k−1} and an optional offset o. Labels:
//! `Circle` spaces n points evenly on a circle in (u₁, u₂) and alternates the sign over blocks of
//! 3 consecutive points; `Sectors` draws u uniformly and alternates the sign over 8 equal angular
//! sectors of (u₁, u₂) (subspace.md §2).

use super::Binary;
use crate::error::{Error, Result};
use crate::rng::{self, Rng};
use nalgebra::{DMatrix, DVector};

/// Orientation of the subspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orientation {
    /// A uniformly random subspace.
    Random,
    /// The span of the first k coordinate axes.
    Axis,
}

/// Placement and labelling of the points inside the subspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Evenly spaced on a circle in (u₁, u₂); sign alternates over blocks of 3 points.
    Circle,
    /// Uniform on S^{k−1}; sign alternates over 8 sectors of the angle of (u₁, u₂).
    Sectors,
}

/// A k-dimensional affine subspace o + span(Q_P) of R^d.
#[derive(Clone, Debug, PartialEq)]
pub struct Subspace {
    /// Orthonormal basis, d × k.
    pub basis: DMatrix<f64>,
    /// Optional offset o (zero for a linear subspace).
    pub offset: Option<DVector<f64>>,
}

impl Subspace {
    /// A k-dimensional subspace of R^d.
    pub fn new(rng: &mut Rng, d: usize, k: usize, orientation: Orientation) -> Result<Self> {
        if k < 2 || k >= d {
            return Err(Error::input(format!(
                "subspace needs 2 ≤ k < d, got k = {k}, d = {d}"
            )));
        }
        let basis = match orientation {
            Orientation::Random => rng::orthonormal_basis(rng, d, k),
            Orientation::Axis => DMatrix::from_fn(d, k, |i, j| if i == j { 1.0 } else { 0.0 }),
        };
        Ok(Self {
            basis,
            offset: None,
        })
    }

    /// Ambient dimension d.
    pub fn ambient(&self) -> usize {
        self.basis.nrows()
    }
    /// Intrinsic dimension k.
    pub fn dim(&self) -> usize {
        self.basis.ncols()
    }

    /// Projects the rows of `v` (n × d) onto the orthogonal complement P⊥ (ignoring the offset).
    pub fn project_out(&self, v: &DMatrix<f64>) -> DMatrix<f64> {
        let coef = v * &self.basis;
        v - coef * self.basis.transpose()
    }

    /// Draws `n` labelled points at radius `rho_x`.
    pub fn sample(&self, rng: &mut Rng, n: usize, rho_x: f64, layout: Layout) -> Result<Binary> {
        if n == 0 || !(rho_x > 0.0) {
            return Err(Error::input(format!(
                "need n ≥ 1 and ρ_x > 0, got n = {n}, ρ_x = {rho_x}"
            )));
        }
        let (d, k) = (self.ambient(), self.dim());
        let mut x = DMatrix::zeros(n, d);
        let mut y = DVector::zeros(n);
        for i in 0..n {
            let (u, label) = match layout {
                Layout::Circle => {
                    let a = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
                    let mut u = DVector::zeros(k);
                    u[0] = a.cos();
                    u[1] = a.sin();
                    (u, if (i / 3) % 2 == 0 { 1.0 } else { -1.0 })
                }
                Layout::Sectors => {
                    let u = rng::unit_sphere(rng, k);
                    let a = u[1].atan2(u[0]).rem_euclid(2.0 * std::f64::consts::PI);
                    let sector = ((a / (std::f64::consts::PI / 4.0)) as usize).min(7);
                    (u, if sector % 2 == 0 { 1.0 } else { -1.0 })
                }
            };
            let mut xi = &self.basis * u * rho_x;
            if let Some(o) = &self.offset {
                xi += o;
            }
            x.row_mut(i).copy_from(&xi.transpose());
            y[i] = label;
        }
        Binary::new(x, y)
    }
}
