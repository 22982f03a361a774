//! Global principal component analysis: a linear estimate of the data manifold.
//!
//! With X̄ the centred data (n × d), the thin SVD X̄ = UΣVᵀ gives the principal directions as the
//! columns of V and the explained variances σ_j²/(n − 1). The manifold estimate of dimension k is
//! the span of the first k directions; k can be chosen as the smallest number of components
//! whose variances reach a fraction of the total (dimpled.md §5: 90 %).

use super::Projector;
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// Principal directions and explained variances of a data matrix.
#[derive(Clone, Debug)]
pub struct Pca {
    /// The mean row.
    pub mean: DVector<f64>,
    /// Principal directions as columns, d × r (r = min(n, d)), by decreasing variance.
    pub directions: DMatrix<f64>,
    /// Explained variance of each direction.
    pub variances: Vec<f64>,
}

impl Pca {
    /// Fits PCA to the rows of `x` (n ≥ 2 finite rows).
    pub fn fit(x: &DMatrix<f64>) -> Result<Self> {
        let (n, d) = x.shape();
        if n < 2 || d == 0 {
            return Err(Error::shape(format!(
                "PCA needs at least 2 rows and 1 column, got {n} × {d}"
            )));
        }
        crate::error::ensure_finite("PCA data", x.as_slice())?;
        let mean = DVector::from_fn(d, |j, _| x.column(j).mean());
        let mut c = x.clone();
        for (j, mut col) in c.column_iter_mut().enumerate() {
            col.add_scalar_mut(-mean[j]);
        }
        let svd = c.svd(false, true);
        let vt = svd
            .v_t
            .ok_or_else(|| Error::solver("SVD did not return the right singular vectors"))?;
        let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
        order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
        let directions = DMatrix::from_fn(d, order.len(), |i, j| vt[(order[j], i)]);
        let variances = order
            .iter()
            .map(|&j| svd.singular_values[j].powi(2) / (n - 1) as f64)
            .collect();
        Ok(Self {
            mean,
            directions,
            variances,
        })
    }
    /// The smallest k whose leading variances sum to at least `fraction` of the total.
    pub fn components_for(&self, fraction: f64) -> usize {
        let total: f64 = self.variances.iter().sum();
        let mut acc = 0.0;
        for (j, v) in self.variances.iter().enumerate() {
            acc += v;
            if acc >= fraction * total {
                return j + 1;
            }
        }
        self.variances.len()
    }
    /// The fraction of the total variance explained by the first k directions.
    pub fn explained(&self, k: usize) -> f64 {
        let total: f64 = self.variances.iter().sum();
        self.variances.iter().take(k).sum::<f64>() / total
    }
    /// The span of the first k directions.
    pub fn subspace(&self, k: usize) -> Result<Projector> {
        if k == 0 || k > self.directions.ncols() {
            return Err(Error::input(format!(
                "PCA has {} directions, asked for k = {k}",
                self.directions.ncols()
            )));
        }
        Projector::new(self.directions.columns(0, k).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn pca_recovers_a_planted_subspace() {
        let mut r = rng::seeded(3, 0);
        let q = rng::orthonormal_basis(&mut r, 20, 3);
        let coef = rng::gaussian_matrix(&mut r, 200, 3, 1.0);
        let noise = rng::gaussian_matrix(&mut r, 200, 20, 1e-3);
        let x = coef * q.transpose() + noise;
        let pca = Pca::fit(&x).unwrap();
        assert_eq!(pca.components_for(0.99), 3);
        let angle = super::super::largest_principal_angle(
            &pca.subspace(3).unwrap(),
            &Projector::new(q).unwrap(),
        );
        assert!(angle < 1e-2, "{angle}");
        assert!(pca.variances.windows(2).all(|w| w[0] >= w[1]));
    }
}
