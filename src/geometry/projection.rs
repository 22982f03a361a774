//! Orthogonal projections onto a k-dimensional subspace span(Q) and its complement.
//!
//! With Q ∈ R^{d×k} orthonormal, P_on v = Q(Qᵀv) and P_off v = v − Q(Qᵀv). The on-manifold
//! fraction of v ≠ 0 is ρ(v) = ‖Qᵀv‖/‖v‖ (dimpled.md §3); for v uniform on S^{d−1},
//! ρ² ~ Beta(k/2, (d − k)/2) and E ρ² = k/d. Batched forms act on the rows of an n × d matrix
//! with two products.

use crate::error::{Error, Result};
use crate::linalg::{mul, Op};
use nalgebra::{DMatrix, DVector};

/// Projection onto span(Q) for an orthonormal Q ∈ R^{d×k}.
#[derive(Clone, Debug, PartialEq)]
pub struct Projector {
    basis: DMatrix<f64>,
}

impl Projector {
    /// Wraps an orthonormal basis; fails unless QᵀQ = I to 1e−8 and the entries are finite.
    pub fn new(basis: DMatrix<f64>) -> Result<Self> {
        crate::error::ensure_finite("tangent basis", basis.as_slice())?;
        let (d, k) = basis.shape();
        if k == 0 || k > d {
            return Err(Error::shape(format!(
                "a tangent basis must be d × k with 1 ≤ k ≤ d, got {d} × {k}"
            )));
        }
        let gram = basis.transpose() * &basis;
        let dev = (gram - DMatrix::identity(k, k)).abs().max();
        if dev > crate::tol::ORTHONORMAL_TOL {
            return Err(Error::input(format!(
                "tangent basis is not orthonormal (max |QᵀQ − I| = {dev:.2e})"
            )));
        }
        Ok(Self { basis })
    }
    /// The orthonormal basis of any full-rank d × k matrix (thin QR).
    pub fn spanning(g: &DMatrix<f64>) -> Result<Self> {
        Self::new(crate::linalg::orthonormalize(g))
    }
    /// Q.
    pub fn basis(&self) -> &DMatrix<f64> {
        &self.basis
    }
    /// Ambient dimension d.
    pub fn ambient(&self) -> usize {
        self.basis.nrows()
    }
    /// Subspace dimension k.
    pub fn dim(&self) -> usize {
        self.basis.ncols()
    }
    /// Coordinates Qᵀv.
    pub fn coords(&self, v: &DVector<f64>) -> DVector<f64> {
        self.basis.tr_mul(v)
    }
    /// QQᵀv.
    pub fn on(&self, v: &DVector<f64>) -> DVector<f64> {
        &self.basis * self.coords(v)
    }
    /// v − QQᵀv.
    pub fn off(&self, v: &DVector<f64>) -> DVector<f64> {
        v - self.on(v)
    }
    /// ρ(v) = ‖Qᵀv‖/‖v‖ (0 for v = 0).
    pub fn fraction(&self, v: &DVector<f64>) -> f64 {
        on_fraction(self.coords(v).norm(), v.norm())
    }
    /// QQᵀ applied to every row of `v` (n × d).
    pub fn on_rows(&self, v: &DMatrix<f64>) -> DMatrix<f64> {
        let c = mul(v, Op::N, &self.basis, Op::N);
        mul(&c, Op::N, &self.basis, Op::T)
    }
    /// I − QQᵀ applied to every row of `v`.
    pub fn off_rows(&self, v: &DMatrix<f64>) -> DMatrix<f64> {
        v - self.on_rows(v)
    }
    /// ρ of every row of `v`.
    pub fn fractions(&self, v: &DMatrix<f64>) -> Vec<f64> {
        let c = mul(v, Op::N, &self.basis, Op::N);
        (0..v.nrows())
            .map(|i| on_fraction(c.row(i).norm(), v.row(i).norm()))
            .collect()
    }
}

/// ‖Qᵀv‖/‖v‖ from the two norms, clamped to [0, 1]; 0 when v = 0.
pub fn on_fraction(on_norm: f64, norm: f64) -> f64 {
    if norm > 0.0 {
        (on_norm / norm).min(1.0)
    } else {
        0.0
    }
}

/// Tangent spaces at the points of a batch.
#[derive(Clone, Copy, Debug)]
pub enum Tangents<'a> {
    /// One subspace for every point (a linear manifold, global PCA).
    Shared(&'a Projector),
    /// One subspace per point, indexed like the batch (curved manifold, local PCA).
    PerPoint(&'a [Projector]),
}

impl<'a> Tangents<'a> {
    /// The tangent space at point `i`.
    pub fn at(&self, i: usize) -> &'a Projector {
        match self {
            Self::Shared(p) => p,
            Self::PerPoint(ps) => &ps[i],
        }
    }
    /// Fails unless there is one tangent space per point (or a shared one) of dimension `d`.
    pub fn check(&self, n: usize, d: usize) -> Result<()> {
        let bad = |m: String| Err(Error::shape(m));
        match self {
            Self::Shared(p) if p.ambient() != d => bad(format!(
                "tangent space lives in R^{}, points in R^{d}",
                p.ambient()
            )),
            Self::PerPoint(ps) if ps.len() != n => {
                bad(format!("{} tangent spaces for {n} points", ps.len()))
            }
            Self::PerPoint(ps) if ps.iter().any(|p| p.ambient() != d) => {
                bad(format!("a tangent space does not live in R^{d}"))
            }
            _ => Ok(()),
        }
    }
}

/// Where an attack may move: anywhere, only along the tangent space, or only orthogonal to it.
#[derive(Clone, Copy, Debug)]
pub enum Constraint<'a> {
    /// No constraint.
    Free,
    /// Steps projected by QQᵀ (on-manifold).
    On(Tangents<'a>),
    /// Steps projected by I − QQᵀ (off-manifold).
    Off(Tangents<'a>),
}

impl Constraint<'_> {
    /// Projects row `r` of `g` in place; `i` is the point's index in the tangent field.
    pub fn project_row(&self, g: &mut DMatrix<f64>, r: usize, i: usize) {
        let (t, keep_on) = match self {
            Self::Free => return,
            Self::On(t) => (t, true),
            Self::Off(t) => (t, false),
        };
        let v = g.row(r).transpose();
        let p = if keep_on {
            t.at(i).on(&v)
        } else {
            t.at(i).off(&v)
        };
        g.row_mut(r).copy_from(&p.transpose());
    }
    /// Projects every row; row r belongs to point `idx[r]`.
    pub fn project_rows(&self, g: &mut DMatrix<f64>, idx: &[usize]) {
        match self {
            Self::Free => {}
            Self::On(Tangents::Shared(p)) => *g = p.on_rows(g),
            Self::Off(Tangents::Shared(p)) => *g = p.off_rows(g),
            _ => {
                for (r, &i) in idx.iter().enumerate() {
                    self.project_row(g, r, i);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn projections_split_a_vector_orthogonally() {
        let mut r = rng::seeded(0, 0);
        let p = Projector::new(rng::orthonormal_basis(&mut r, 30, 4)).unwrap();
        let v = rng::gaussian_vector(&mut r, 30, 1.0);
        let (a, b) = (p.on(&v), p.off(&v));
        assert!((&a + &b - &v).norm() < 1e-12);
        assert!(a.dot(&b).abs() < 1e-12);
        let rho = p.fraction(&v);
        assert!((rho * rho + (b.norm() / v.norm()).powi(2) - 1.0).abs() < 1e-12);
        let m = DMatrix::from_fn(3, 30, |i, j| v[j] * (i + 1) as f64);
        let rows = p.on_rows(&m);
        assert!((rows.row(1).transpose() - &a * 2.0).norm() < 1e-12);
        assert!((p.fractions(&m)[2] - rho).abs() < 1e-12);
    }

    #[test]
    fn non_orthonormal_bases_are_refused() {
        let q = DMatrix::from_element(5, 2, 1.0);
        assert!(Projector::new(q).is_err());
        assert!(Projector::new(DMatrix::zeros(3, 0)).is_err());
    }
}
