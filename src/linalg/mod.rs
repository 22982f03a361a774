//! Dense linear-algebra kernels on nalgebra matrices.
//!
//! nalgebra owns the storage (column-major `DMatrix<f64>`); the hot products go through the
//! `gemm` crate, which is several times faster than nalgebra's built-in product on large shapes
//! and parallelises over output blocks only. The reduction order of every entry is therefore the
//! same for any thread count, so results are bit-identical whatever [`set_threads`] says (a test
//! asserts this).
//!
//! Also here: the symmetric Gram product `A Aᵀ` computed on the upper block triangle only,
//! a blocked Cholesky factorisation ([`Cholesky`]) and its solves, thin QR, and the largest eigenvalue of a symmetric matrix.

mod cholesky;

pub use cholesky::Cholesky;
use nalgebra::{DMatrix, DVector};
use std::sync::atomic::{AtomicUsize, Ordering};

static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets the number of threads used by large matrix products (0 = all cores). Results do not
/// depend on it.
pub fn set_threads(n: usize) {
    THREADS.store(n, Ordering::Relaxed);
}

fn parallelism(flops: usize) -> gemm::Parallelism {
    let t = match THREADS.load(Ordering::Relaxed) {
        0 => rayon::current_num_threads(),
        t => t,
    };
    if t > 1 && flops >= 1 << 20 {
        gemm::Parallelism::Rayon(t)
    } else {
        gemm::Parallelism::None
    }
}

/// A row-major `n × d` slice (C order: entry (i, j) at `i·d + j`) as a column-major matrix, by a
/// blocked transpose: a block of rows is read row by row and written column by column, so both
/// sides stream through cache (nalgebra's `from_row_slice` reads with stride `d`).
///
/// # Panics
/// If `rows.len() != n·d` (a caller's shape bug, not user input).
pub fn from_row_major(n: usize, d: usize, rows: &[f64]) -> DMatrix<f64> {
    assert_eq!(rows.len(), n * d, "row-major slice of the wrong length");
    const BLOCK: usize = 16;
    // Written once, without zeroing first: every slot of the spare capacity is set below.
    let mut data: Vec<f64> = Vec::with_capacity(n * d);
    let dst = &mut data.spare_capacity_mut()[..n * d];
    for i0 in (0..n).step_by(BLOCK) {
        let i1 = (i0 + BLOCK).min(n);
        for j in 0..d {
            let col = &mut dst[j * n + i0..j * n + i1];
            for (k, slot) in col.iter_mut().enumerate() {
                slot.write(rows[(i0 + k) * d + j]);
            }
        }
    }
    // SAFETY: the blocks (i0..i1) × (0..d) cover every (i, j) once, so all n·d slots are
    // initialised.
    unsafe { data.set_len(n * d) };
    DMatrix::from_vec(n, d, data)
}

/// Whether an operand enters a product as is (`N`) or transposed (`T`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// As stored.
    N,
    /// Transposed.
    T,
}

/// A borrowed column-major matrix: `data[i + j·rows]` is entry (i, j).
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    /// Entries in column-major order (`rows · cols` of them).
    pub data: &'a [f64],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
}

impl<'a> MatRef<'a> {
    /// A view of `data` as a `rows × cols` column-major matrix.
    pub fn new(data: &'a [f64], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "MatRef size");
        Self { data, rows, cols }
    }
}

impl<'a> From<&'a DMatrix<f64>> for MatRef<'a> {
    fn from(m: &'a DMatrix<f64>) -> Self {
        Self {
            data: m.as_slice(),
            rows: m.nrows(),
            cols: m.ncols(),
        }
    }
}

/// A strided view: pointer, rows, cols, row stride, column stride.
#[derive(Clone, Copy)]
struct View {
    ptr: *const f64,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
}

fn view(a: MatRef<'_>, op: Op) -> View {
    let (r, c) = (a.rows, a.cols);
    match op {
        Op::N => View {
            ptr: a.data.as_ptr(),
            rows: r,
            cols: c,
            rs: 1,
            cs: r as isize,
        },
        Op::T => View {
            ptr: a.data.as_ptr(),
            rows: c,
            cols: r,
            rs: r as isize,
            cs: 1,
        },
    }
}

/// `dst ← beta·dst + alpha·op(a)·op(b)` on raw strided views.
///
/// # Safety
/// The views must describe memory valid for their shapes and strides; `dst` must not alias the
/// operands.
unsafe fn gemm_raw(
    dst: *mut f64,
    dst_rs: isize,
    dst_cs: isize,
    a: View,
    b: View,
    alpha: f64,
    beta: f64,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    debug_assert_eq!(k, b.rows);
    let read_dst = beta != 0.0;
    // gemm computes dst = alpha_g·dst + beta_g·lhs·rhs.
    gemm::gemm(
        m,
        n,
        k,
        dst,
        dst_cs,
        dst_rs,
        read_dst,
        a.ptr,
        a.cs,
        a.rs,
        b.ptr,
        b.cs,
        b.rs,
        beta,
        alpha,
        false,
        false,
        false,
        parallelism(m * n * k),
    );
}

/// `dst ← beta·dst + alpha·op(a)·op(b)` where `dst` is a column-major `rows × cols` slice.
/// Panics only on a programming error (inconsistent internal shapes); user shapes are validated
/// before they reach the kernels.
#[allow(clippy::too_many_arguments)]
pub fn gemm_slice(
    dst: &mut [f64],
    rows: usize,
    cols: usize,
    alpha: f64,
    a: MatRef<'_>,
    opa: Op,
    b: MatRef<'_>,
    opb: Op,
    beta: f64,
) {
    let va = view(a, opa);
    let vb = view(b, opb);
    assert_eq!(va.cols, vb.rows, "inner dimensions of a product");
    assert_eq!(
        (rows, cols),
        (va.rows, vb.cols),
        "output shape of a product"
    );
    assert_eq!(dst.len(), rows * cols, "output size of a product");
    if rows == 0 || cols == 0 {
        return;
    }
    if va.cols == 0 {
        dst.iter_mut().for_each(|v| *v *= beta);
        return;
    }
    // SAFETY: views come from live slices with checked shapes; dst is a distinct &mut borrow.
    unsafe { gemm_raw(dst.as_mut_ptr(), 1, rows as isize, va, vb, alpha, beta) }
}

/// `c ← beta·c + alpha·op(a)·op(b)`.
pub fn gemm_into<'a, 'b>(
    c: &mut DMatrix<f64>,
    alpha: f64,
    a: impl Into<MatRef<'a>>,
    opa: Op,
    b: impl Into<MatRef<'b>>,
    opb: Op,
    beta: f64,
) {
    let (r, k) = c.shape();
    gemm_slice(
        c.as_mut_slice(),
        r,
        k,
        alpha,
        a.into(),
        opa,
        b.into(),
        opb,
        beta,
    );
}

/// `op(a)·op(b)` as a new matrix.
pub fn mul<'a, 'b>(
    a: impl Into<MatRef<'a>>,
    opa: Op,
    b: impl Into<MatRef<'b>>,
    opb: Op,
) -> DMatrix<f64> {
    let (a, b) = (a.into(), b.into());
    let r = if opa == Op::N { a.rows } else { a.cols };
    let c = if opb == Op::N { b.cols } else { b.rows };
    let mut out = DMatrix::zeros(r, c);
    gemm_into(&mut out, 1.0, a, opa, b, opb, 0.0);
    out
}

/// `op(a)·v` for a vector `v`.
pub fn mul_vec<'a>(a: impl Into<MatRef<'a>>, opa: Op, v: &DVector<f64>) -> DVector<f64> {
    let vm = MatRef::new(v.as_slice(), v.len(), 1);
    let out = mul(a, opa, vm, Op::N);
    DVector::from_column_slice(out.as_slice())
}

/// The Gram matrix `A·Aᵀ` of the rows of `a` (n × p), exactly symmetric.
///
/// For n ≤ 256 one (parallel) product is fastest on the shapes used here: with p ≫ n the
/// output is small and the block-triangle variant runs its products one at a time (measured
/// 27 ms against 67 ms for n = 100, p = 50 000). For larger n only the upper block triangle is
/// computed (about half the flops). Either way the upper triangle is mirrored, so the result is
/// symmetric to the bit.
pub fn gram_rows(a: &DMatrix<f64>) -> DMatrix<f64> {
    let (n, p) = a.shape();
    let mut g = DMatrix::zeros(n, n);
    if n == 0 || p == 0 {
        return g;
    }
    if n <= 256 {
        gemm_into(&mut g, 1.0, a, Op::N, a, Op::T, 0.0);
    } else {
        let bs = 128;
        let blocks: Vec<usize> = (0..n).step_by(bs).collect();
        for &i0 in &blocks {
            let ni = bs.min(n - i0);
            for &j0 in blocks.iter().filter(|&&j0| j0 >= i0) {
                let nj = bs.min(n - j0);
                // Row block I of A (ni × p) and the transpose of row block J (p × nj).
                let va = View {
                    ptr: unsafe { a.as_ptr().add(i0) },
                    rows: ni,
                    cols: p,
                    rs: 1,
                    cs: n as isize,
                };
                let vb = View {
                    ptr: unsafe { a.as_ptr().add(j0) },
                    rows: p,
                    cols: nj,
                    rs: n as isize,
                    cs: 1,
                };
                // SAFETY: the block of g at (i0, j0) is ni × nj inside g; views stay inside a.
                unsafe {
                    gemm_raw(
                        g.as_mut_ptr().add(i0 + j0 * n),
                        1,
                        n as isize,
                        va,
                        vb,
                        1.0,
                        0.0,
                    );
                }
            }
        }
    }
    for j in 0..n {
        for i in (j + 1)..n {
            g[(i, j)] = g[(j, i)];
        }
    }
    g
}

/// An orthonormal basis of the column space of a full-column-rank `g` (thin QR).
pub fn orthonormalize(g: &DMatrix<f64>) -> DMatrix<f64> {
    let k = g.ncols();
    let qr = g.clone().qr();
    let q = qr.q();
    q.columns(0, k).into_owned()
}

/// Solves `K x = b` for symmetric positive-definite `K`; `None` if the factorisation fails.
pub fn cholesky_solve(k: &DMatrix<f64>, b: &DVector<f64>) -> Option<DVector<f64>> {
    let x = Cholesky::new(k)?.solve(b);
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The largest eigenvalue of a symmetric matrix.
pub fn lambda_max_sym(a: &DMatrix<f64>) -> f64 {
    a.clone()
        .symmetric_eigenvalues()
        .iter()
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Euclidean norm of every row of an n × d column-major matrix.
pub fn row_norms(m: &DMatrix<f64>) -> Vec<f64> {
    let mut s = vec![0.0; m.nrows()];
    for col in m.column_iter() {
        for (acc, v) in s.iter_mut().zip(col.iter()) {
            *acc += v * v;
        }
    }
    s.into_iter().map(f64::sqrt).collect()
}

/// Max-norm of every row.
pub fn row_max_abs(m: &DMatrix<f64>) -> Vec<f64> {
    let mut s = vec![0.0f64; m.nrows()];
    for col in m.column_iter() {
        for (acc, v) in s.iter_mut().zip(col.iter()) {
            *acc = acc.max(v.abs());
        }
    }
    s
}

/// Multiplies row i of `m` by `f[i]`.
pub fn scale_rows(m: &mut DMatrix<f64>, f: &[f64]) {
    for mut col in m.column_iter_mut() {
        for (v, s) in col.iter_mut().zip(f) {
            *v *= s;
        }
    }
}

/// The arg-max column of every row, lowest index on ties (as `attack::losses::argmax`): the
/// predicted classes of a logits matrix.
pub fn row_argmax(z: &DMatrix<f64>) -> Vec<usize> {
    z.row_iter()
        .map(|r| {
            let mut best = 0;
            for (j, &v) in r.iter().enumerate() {
                if v > r[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// Cosine of the angle between two vectors (0 if either is zero).
pub fn cosine(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    let d = a.norm() * b.norm();
    if d == 0.0 {
        0.0
    } else {
        (a.dot(b) / d).clamp(-1.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_argmax_takes_the_lowest_index_on_ties() {
        let z = DMatrix::from_row_slice(3, 3, &[0.1, 2.0, 2.0, -1.0, -3.0, -2.0, 5.0, 5.0, 5.0]);
        assert_eq!(row_argmax(&z), vec![1, 0, 0]);
        for i in 0..3 {
            let r: Vec<f64> = z.row(i).iter().copied().collect();
            assert_eq!(row_argmax(&z)[i], crate::attack::losses::argmax(&r));
        }
    }

    #[test]
    fn row_major_slices_become_the_same_matrix_as_nalgebra_reads_them() {
        for (n, d) in [(1, 1), (3, 5), (17, 4), (40, 33), (16, 16), (0, 3)] {
            let rows: Vec<f64> = (0..n * d).map(|k| k as f64 * 0.5 - 3.0).collect();
            assert_eq!(
                from_row_major(n, d, &rows),
                DMatrix::from_row_slice(n, d, &rows)
            );
        }
    }
    use crate::rng;

    #[test]
    fn gemm_matches_nalgebra_for_every_op() {
        let mut r = rng::seeded(0, 0);
        let a = rng::gaussian_matrix(&mut r, 37, 53, 1.0);
        let b = rng::gaussian_matrix(&mut r, 53, 29, 1.0);
        let bt = b.transpose();
        let at = a.transpose();
        let want = &a * &b;
        for (x, ox, y, oy) in [
            (&a, Op::N, &b, Op::N),
            (&at, Op::T, &b, Op::N),
            (&a, Op::N, &bt, Op::T),
            (&at, Op::T, &bt, Op::T),
        ] {
            let got = mul(x, ox, y, oy);
            assert!((&got - &want).norm() <= 1e-12 * want.norm());
        }
    }

    #[test]
    fn gram_is_symmetric_and_correct() {
        let mut r = rng::seeded(1, 0);
        for n in [1, 5, 64, 65, 130, 300] {
            let a = rng::gaussian_matrix(&mut r, n, 41, 1.0);
            let g = gram_rows(&a);
            let want = &a * a.transpose();
            assert!((&g - &want).norm() <= 1e-12 * want.norm());
            assert_eq!(g, g.transpose());
        }
    }

    #[test]
    fn products_are_bit_identical_across_thread_counts() {
        let mut r = rng::seeded(2, 0);
        let a = rng::gaussian_matrix(&mut r, 120, 700, 1.0);
        let b = rng::gaussian_matrix(&mut r, 700, 300, 1.0);
        set_threads(1);
        let one = mul(&a, Op::N, &b, Op::N);
        let g1 = gram_rows(&a);
        set_threads(2);
        let two = mul(&a, Op::N, &b, Op::N);
        let g2 = gram_rows(&a);
        set_threads(0);
        assert_eq!(one, two);
        assert_eq!(g1, g2);
    }
}
