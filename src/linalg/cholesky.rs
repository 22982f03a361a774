//! Blocked Cholesky factorisation K = LLᵀ of a symmetric positive-definite matrix.
//!
//! Right-looking, block size [`BLOCK`] (Golub & Van Loan, *Matrix Computations*, 4th ed.,
//! Alg. 4.2.4): factor the diagonal block unblocked, solve the panel below it against L₁₁ᵀ, and
//! subtract the panel's outer product from the trailing lower triangle one block column at a time
//! through `gemm` — n³/3 flops, almost all of them in matrix products, so that a 4,000-point Gram
//! factorises in well under a second where nalgebra's unblocked `cholesky` takes several.
//! Only the lower triangle of the input is read. The factorisation fails (returns `None`) at the
//! first pivot that is not a positive finite number; note that in floating point the
//! factorisation of a *singular* K often succeeds with a tiny pivot, so success is no rank test
//! (see [`crate::margin::min_delta::numerical_rank`]).

use super::{gemm_raw, View};
use nalgebra::{DMatrix, DVector};

/// Block size of the factorisation.
pub const BLOCK: usize = 96;

/// The lower-triangular factor L of K = LLᵀ.
#[derive(Clone, Debug)]
pub struct Cholesky {
    l: DMatrix<f64>,
}

impl Cholesky {
    /// Factorises `k` (its lower triangle); `None` if a pivot is not positive and finite.
    pub fn new(k: &DMatrix<f64>) -> Option<Self> {
        let n = k.nrows();
        assert_eq!(n, k.ncols(), "Cholesky of a non-square matrix");
        let mut a = k.clone();
        let mut k0 = 0;
        while k0 < n {
            let kb = BLOCK.min(n - k0);
            factor_diagonal_block(&mut a, k0, kb)?;
            solve_panel(&mut a, k0, kb);
            update_trailing(&mut a, k0, kb);
            k0 += kb;
        }
        for j in 0..n {
            for i in 0..j {
                a[(i, j)] = 0.0;
            }
        }
        Some(Self { l: a })
    }

    /// The factor L (upper triangle zero).
    pub fn l(&self) -> &DMatrix<f64> {
        &self.l
    }

    /// Solves K x = b by forward and back substitution.
    pub fn solve(&self, b: &DVector<f64>) -> DVector<f64> {
        let mut x = b.clone();
        self.solve_in_place(&mut x);
        x
    }

    /// Solves K x = b in place (`x` holds b on entry).
    pub fn solve_in_place(&self, x: &mut DVector<f64>) {
        let n = self.l.nrows();
        let l = self.l.as_slice();
        // L y = b (column-oriented: after y_j is known, eliminate it from the rows below).
        for j in 0..n {
            let col = &l[j * n..(j + 1) * n];
            let yj = x[j] / col[j];
            x[j] = yj;
            for i in (j + 1)..n {
                x[i] -= col[i] * yj;
            }
        }
        // Lᵀ x = y (row j of Lᵀ is column j of L: a dot product with the solved tail).
        for j in (0..n).rev() {
            let col = &l[j * n..(j + 1) * n];
            let mut s = x[j];
            for i in (j + 1)..n {
                s -= col[i] * x[i];
            }
            x[j] = s / col[j];
        }
    }
}

fn factor_diagonal_block(a: &mut DMatrix<f64>, k0: usize, kb: usize) -> Option<()> {
    for j in k0..k0 + kb {
        let mut d = a[(j, j)];
        for c in k0..j {
            d -= a[(j, c)] * a[(j, c)];
        }
        if !(d > 0.0 && d.is_finite()) {
            return None;
        }
        let s = d.sqrt();
        a[(j, j)] = s;
        for i in (j + 1)..k0 + kb {
            let mut v = a[(i, j)];
            for c in k0..j {
                v -= a[(i, c)] * a[(j, c)];
            }
            a[(i, j)] = v / s;
        }
    }
    Some(())
}

/// Rows below the diagonal block: X L₁₁ᵀ = A₂₁, column by column of the block.
fn solve_panel(a: &mut DMatrix<f64>, k0: usize, kb: usize) {
    let n = a.nrows();
    for j in k0..k0 + kb {
        let d = a[(j, j)];
        for c in k0..j {
            let ljc = a[(j, c)];
            if ljc != 0.0 {
                for i in (k0 + kb)..n {
                    let v = a[(i, c)];
                    a[(i, j)] -= v * ljc;
                }
            }
        }
        for i in (k0 + kb)..n {
            a[(i, j)] /= d;
        }
    }
}

/// A₂₂ ← A₂₂ − X Xᵀ on the lower triangle, one block column of A₂₂ at a time.
fn update_trailing(a: &mut DMatrix<f64>, k0: usize, kb: usize) {
    let n = a.nrows();
    let ld = n as isize;
    let base = a.as_mut_ptr();
    let mut j0 = k0 + kb;
    while j0 < n {
        let jb = BLOCK.min(n - j0);
        // Rows j0..n of X (the panel, columns k0..k0+kb) times rows j0..j0+jb of X, transposed.
        let x_rows = View {
            ptr: unsafe { base.add(j0 + k0 * n) },
            rows: n - j0,
            cols: kb,
            rs: 1,
            cs: ld,
        };
        let x_block_t = View {
            ptr: unsafe { base.add(j0 + k0 * n) },
            rows: kb,
            cols: jb,
            rs: ld,
            cs: 1,
        };
        // SAFETY: the destination (rows j0.., columns j0..j0+jb) lies in columns ≥ k0 + kb, the
        // operands in columns k0..k0+kb: disjoint regions of the same live allocation.
        unsafe {
            gemm_raw(base.add(j0 + j0 * n), 1, ld, x_rows, x_block_t, -1.0, 1.0);
        }
        j0 += jb;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    fn spd(n: usize, seed: u64) -> DMatrix<f64> {
        let a = rng::gaussian_matrix(&mut rng::seeded(seed, 0), n, n + 3, 1.0);
        &a * a.transpose()
    }

    #[test]
    fn factor_matches_nalgebra_across_block_boundaries() {
        for n in [1, 5, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 17, 300] {
            let k = spd(n, n as u64);
            let ours = Cholesky::new(&k).expect("positive definite");
            let reference = k.clone().cholesky().expect("positive definite").l();
            let err = (ours.l() - &reference).amax() / reference.amax();
            assert!(err <= 1e-12, "n = {n}: relative difference {err:e}");
            let b = DVector::from_fn(n, |i, _| (i as f64).sin());
            let x = ours.solve(&b);
            let res = (&k * &x - &b).amax() / b.amax().max(1e-300);
            assert!(res <= 1e-8, "n = {n}: residual {res:e}");
        }
    }

    #[test]
    fn indefinite_and_non_finite_matrices_are_refused() {
        let mut k = spd(150, 1);
        k[(120, 120)] = -1.0;
        assert!(Cholesky::new(&k).is_none());
        let mut k = spd(150, 2);
        k[(140, 3)] = f64::NAN;
        assert!(Cholesky::new(&k).is_none());
        // An exactly zero pivot (a singular matrix whose elimination is exact) is refused too.
        let ones = DMatrix::from_element(2, 2, 1.0);
        assert!(Cholesky::new(&ones).is_none());
        assert!(Cholesky::new(&DMatrix::zeros(1, 1)).is_none());
    }
}
