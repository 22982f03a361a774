//! Local tangent spaces (local PCA over nearest neighbours) and principal angles.
//!
//! Local PCA at a query x: take the k_nn samples nearest to x (squared distances
//! ‖x‖² + ‖s‖² − 2⟨x, s⟩ for all queries and samples from one product), centre them at their
//! mean and take the top-k right singular vectors (dimpled.md §3).
//!
//! Principal angles between span(Q₁) and span(Q₂) (both orthonormal, k columns): the singular
//! values of Q₁ᵀQ₂ are cos θ₁ ≥ … ≥ cos θ_k; the largest angle is arccos σ_min.

use super::{Pca, Projector};
use crate::error::{Error, Result};
use crate::linalg::{mul, Op};
use nalgebra::DMatrix;

/// Principal angles (radians, ascending) between two subspaces of the same dimension k.
///
/// The cosines are the singular values of Q₁ᵀQ₂ and the sines those of (I − Q₁Q₁ᵀ)Q₂;
/// pairing them through atan2 keeps small angles accurate (arccos alone loses half the digits
/// near 0).
pub fn principal_angles(a: &Projector, b: &Projector) -> Vec<f64> {
    let mut cos: Vec<f64> = a
        .basis()
        .tr_mul(b.basis())
        .singular_values()
        .iter()
        .copied()
        .collect();
    let off = b.basis() - a.basis() * a.basis().tr_mul(b.basis());
    let mut sin: Vec<f64> = off.singular_values().iter().copied().collect();
    cos.sort_by(|x, y| y.total_cmp(x));
    sin.sort_by(f64::total_cmp);
    let mut s: Vec<f64> = cos
        .iter()
        .zip(sin.iter().chain(std::iter::repeat(&0.0)))
        .map(|(c, sn)| sn.atan2(*c))
        .collect();
    s.sort_by(f64::total_cmp);
    s
}

/// The largest principal angle.
pub fn largest_principal_angle(a: &Projector, b: &Projector) -> f64 {
    principal_angles(a, b).last().copied().unwrap_or(0.0)
}

/// Local-PCA tangent spaces of dimension `k` at each row of `queries`, from the `k_nn` nearest
/// rows of `samples`. A sample at distance 0 from its query (the query itself) is skipped.
pub fn local_pca(
    queries: &DMatrix<f64>,
    samples: &DMatrix<f64>,
    k_nn: usize,
    k: usize,
) -> Result<Vec<Projector>> {
    let (nq, d) = queries.shape();
    if samples.ncols() != d {
        return Err(Error::shape(format!(
            "queries have {d} columns, samples {}",
            samples.ncols()
        )));
    }
    if k == 0 || k_nn <= k || k_nn >= samples.nrows() {
        return Err(Error::input(format!(
            "local PCA needs 1 ≤ k < k_nn < number of samples; got k = {k}, k_nn = {k_nn}, {} samples",
            samples.nrows()
        )));
    }
    let cross = mul(queries, Op::N, samples, Op::T);
    let sq_s: Vec<f64> = samples.row_iter().map(|r| r.norm_squared()).collect();
    (0..nq)
        .map(|q| {
            let sq_q = queries.row(q).norm_squared();
            let mut dist: Vec<(f64, usize)> = (0..samples.nrows())
                .map(|s| (sq_q + sq_s[s] - 2.0 * cross[(q, s)], s))
                .filter(|(dd, _)| *dd > crate::tol::SAME_POINT_TOL * (1.0 + sq_q))
                .collect();
            dist.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let idx: Vec<usize> = dist.iter().take(k_nn).map(|&(_, s)| s).collect();
            let nb = samples.select_rows(&idx);
            Pca::fit(&nb)?.subspace(k)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn principal_angles_of_known_planes() {
        let e = |i: usize| DMatrix::from_fn(3, 1, |r, _| if r == i { 1.0 } else { 0.0 });
        let a = Projector::new(e(0)).unwrap();
        let t = 0.3f64;
        let b = Projector::new(DMatrix::from_column_slice(3, 1, &[t.cos(), t.sin(), 0.0])).unwrap();
        assert!((largest_principal_angle(&a, &b) - t).abs() < 1e-12);
        assert!(
            (largest_principal_angle(&a, &Projector::new(e(2)).unwrap())
                - std::f64::consts::FRAC_PI_2)
                .abs()
                < 1e-12
        );
    }

    #[test]
    fn local_pca_on_a_plane_is_the_plane() {
        let mut r = rng::seeded(4, 0);
        let q = rng::orthonormal_basis(&mut r, 10, 2);
        let s = rng::gaussian_matrix(&mut r, 300, 2, 1.0) * q.transpose();
        let x = rng::gaussian_matrix(&mut r, 5, 2, 1.0) * q.transpose();
        let t = local_pca(&x, &s, 20, 2).unwrap();
        let truth = Projector::new(q).unwrap();
        assert!(t.iter().all(|p| largest_principal_angle(p, &truth) < 1e-8));
        assert!(local_pca(&x, &s, 2, 2).is_err());
    }
}
