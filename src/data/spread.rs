//! Norm spread and near-orthogonality of a point set.
//!
//! For rows x_i of X and a reference squared norm R²:
//! ψ = max_i |‖x_i‖²/R² − 1|, φ = max_{i≠k} |⟨x_i, x_k⟩|, and R²_min, R²_max the extremes of
//! ‖x_i‖². These are the quantities of the near-orthogonality assumptions (A1)–(A3) of
//! unlearn.md §4.

use crate::linalg::gram_rows;
use nalgebra::DMatrix;
use serde::Serialize;

/// Measured norm spread and maximal inner product of a point set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    /// Smallest squared norm.
    pub r2_min: f64,
    /// Largest squared norm.
    pub r2_max: f64,
    /// max_i |‖x_i‖²/R² − 1| for the reference R² the spread was measured against.
    pub psi: f64,
    /// max_{i≠k} |⟨x_i, x_k⟩| (0 for a single point).
    pub phi: f64,
}

impl Spread {
    /// Measures the rows of `x` against the reference squared norm `r2`.
    pub fn of_rows(x: &DMatrix<f64>, r2: f64) -> Spread {
        Self::of_gram(&gram_rows(x), r2)
    }

    /// The same quantities read off a Gram matrix.
    pub fn of_gram(g: &DMatrix<f64>, r2: f64) -> Spread {
        let n = g.nrows();
        let diag: Vec<f64> = (0..n).map(|i| g[(i, i)]).collect();
        let r2_min = diag.iter().cloned().fold(f64::INFINITY, f64::min);
        let r2_max = diag.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let psi = diag
            .iter()
            .map(|v| (v / r2 - 1.0).abs())
            .fold(0.0, f64::max);
        let mut phi: f64 = 0.0;
        for j in 0..n {
            for i in 0..j {
                phi = phi.max(g[(i, j)].abs());
            }
        }
        Spread {
            r2_min,
            r2_max,
            psi,
            phi,
        }
    }

    /// Assumption (A3) of unlearn.md §4: R²_min > 2(n − 1)φ.
    pub fn a3_holds(&self, n: usize) -> bool {
        self.r2_min > 2.0 * (n as f64 - 1.0) * self.phi
    }
}
