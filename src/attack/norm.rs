//! The threat model's norm, written once: the norm ‖·‖ of a perturbation, its dual ‖·‖_* (the
//! norm of a gradient or of a weight difference, so that |⟨g, δ⟩| ≤ ‖g‖_*‖δ‖), and the
//! projection onto the ball ‖x′ − x‖ ≤ ε.
//!
//! - L∞: ‖δ‖ = max_j |δ_j|, dual ‖g‖₁ = Σ_j |g_j|; the projection clips every coordinate to
//!   [x_j − ε, x_j + ε].
//! - L2: ‖δ‖₂, self-dual; the projection rescales v = x′ − x by min(ε, ‖v‖)/(‖v‖ + 1e−12), the
//!   form of both APGD reference codes ([`L2_GUARD`]).
//!
//! Sums run over the coordinates in index order, so a row's norm is the same number whether it
//! is computed from a slice or from a row of a matrix.

use crate::linalg::scale_rows;
use nalgebra::DMatrix;

/// The 1e−12 both APGD reference codes add to an L2 norm they divide by (the step direction
/// g/(‖g‖₂ + 1e−12) and the projection's factor min(ε, ‖v‖)/(‖v‖ + 1e−12)): part of APGD's
/// definition, not a tolerance.
pub const L2_GUARD: f64 = 1e-12;

/// The threat model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Norm {
    /// ‖δ‖_∞ ≤ ε.
    Linf,
    /// ‖δ‖₂ ≤ ε.
    L2,
}

impl Norm {
    /// ‖v‖ in this norm.
    pub fn of(self, v: &[f64]) -> f64 {
        match self {
            Self::Linf => v.iter().fold(0.0, |m, a| m.max(a.abs())),
            Self::L2 => v.iter().fold(0.0, |s, a| s + a * a).sqrt(),
        }
    }

    /// ‖v‖_*, the dual norm (L1 for L∞, L2 for L2).
    pub fn dual_of(self, v: &[f64]) -> f64 {
        match self {
            Self::Linf => v.iter().fold(0.0, |s, a| s + a.abs()),
            Self::L2 => Self::L2.of(v),
        }
    }

    /// ‖v‖ in this norm for every row.
    pub fn row_norms(self, v: &DMatrix<f64>) -> Vec<f64> {
        match self {
            Self::Linf => accumulate_rows(v, |acc, a| acc.max(a.abs())),
            Self::L2 => sqrt_all(accumulate_rows(v, |acc, a| acc + a * a)),
        }
    }

    /// ‖v‖_* for every row.
    pub fn dual_row_norms(self, v: &DMatrix<f64>) -> Vec<f64> {
        match self {
            Self::Linf => accumulate_rows(v, |acc, a| acc + a.abs()),
            Self::L2 => Self::L2.row_norms(v),
        }
    }

    /// Projects every row of `v` onto the ball of radius `eps[i]` around row i of `centre`.
    pub fn project_rows(self, v: &mut DMatrix<f64>, centre: &DMatrix<f64>, eps: &[f64]) {
        let (n, d) = v.shape();
        match self {
            Self::Linf => {
                for j in 0..d {
                    for i in 0..n {
                        let c = centre[(i, j)];
                        v[(i, j)] = v[(i, j)].max(c - eps[i]).min(c + eps[i]);
                    }
                }
            }
            Self::L2 => {
                let mut diff = &*v - centre;
                let f: Vec<f64> = self
                    .row_norms(&diff)
                    .iter()
                    .zip(eps)
                    .map(|(&nv, &e)| nv.min(e) / (nv + L2_GUARD))
                    .collect();
                scale_rows(&mut diff, &f);
                *v = centre + diff;
            }
        }
    }
}

/// Folds every row of `v` with `f`, from 0, column by column (the matrix is column-major), each
/// row's coordinates in index order.
fn accumulate_rows(v: &DMatrix<f64>, f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    let mut s = vec![0.0f64; v.nrows()];
    for col in v.column_iter() {
        for (acc, a) in s.iter_mut().zip(col.iter()) {
            *acc = f(*acc, *a);
        }
    }
    s
}

fn sqrt_all(mut s: Vec<f64>) -> Vec<f64> {
    s.iter_mut().for_each(|a| *a = a.sqrt());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norms_and_duals_by_hand() {
        let v = [3.0, -4.0, 0.0];
        assert_eq!(Norm::Linf.of(&v), 4.0);
        assert_eq!(Norm::L2.of(&v), 5.0);
        assert_eq!(Norm::Linf.dual_of(&v), 7.0);
        assert_eq!(Norm::L2.dual_of(&v), 5.0);
        // Hölder: |⟨g, δ⟩| ≤ ‖g‖_*‖δ‖, with equality at δ = sign(g) for L∞.
        let sign: Vec<f64> = v
            .iter()
            .map(|a: &f64| a.signum() * f64::from(*a != 0.0))
            .collect();
        let dot: f64 = v.iter().zip(&sign).map(|(a, b)| a * b).sum();
        assert_eq!(dot, Norm::Linf.dual_of(&v) * Norm::Linf.of(&sign));
        // Rows of a matrix give the same numbers as slices.
        let m = DMatrix::from_row_slice(2, 3, &[3.0, -4.0, 0.0, 1.0, 2.0, -2.0]);
        assert_eq!(Norm::Linf.row_norms(&m), vec![4.0, 2.0]);
        assert_eq!(Norm::L2.row_norms(&m), vec![5.0, 3.0]);
        assert_eq!(Norm::Linf.dual_row_norms(&m), vec![7.0, 5.0]);
        assert_eq!(Norm::L2.dual_row_norms(&m), vec![5.0, 3.0]);
    }

    #[test]
    fn the_projection_lands_in_the_ball_and_keeps_what_is_inside() {
        let centre = DMatrix::from_row_slice(2, 2, &[0.0, 0.0, 1.0, 1.0]);
        // Row 0 outside (distance 5 in L2, 4 in L∞), row 1 inside both balls of radius 1.
        let v = DMatrix::from_row_slice(2, 2, &[3.0, -4.0, 1.5, 0.75]);
        let eps = [1.0, 1.0];
        let mut linf = v.clone();
        Norm::Linf.project_rows(&mut linf, &centre, &eps);
        assert_eq!(
            linf.row(0).iter().copied().collect::<Vec<_>>(),
            vec![1.0, -1.0]
        );
        assert_eq!(linf.row(1), v.row(1));
        let mut l2 = v.clone();
        Norm::L2.project_rows(&mut l2, &centre, &eps);
        // (3, −4)/5, up to the guard's relative 2e−13.
        assert!((l2[(0, 0)] - 0.6).abs() < 1e-12 && (l2[(0, 1)] + 0.8).abs() < 1e-12);
        assert!((l2.row(1) - v.row(1)).amax() < 1e-12);
        assert!(Norm::L2.of(&[l2[(0, 0)], l2[(0, 1)]]) <= 1.0);
    }
}
