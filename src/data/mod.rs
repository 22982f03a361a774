//! Data sets: containers, seeded generators and file formats.
//!
//! A binary data set is a matrix `X ∈ R^{n×d}` (one sample per row) and labels `y ∈ {±1}^n`; a
//! multi-class data set carries labels in `0..K`. Generators draw from a ChaCha stream and return
//! the data together with the metadata a theorem's assumptions are stated in (norm spread ψ,
//! maximal inner product φ, the subspace basis, the mixture mean, the manifold's embedding).

pub mod clusters;
pub mod csv;
pub mod files;
pub mod load;
pub mod manifold;
pub mod mixture;
pub mod near_orthogonal;
pub mod npy;
pub mod planted;
pub mod real;
pub mod spread;
pub mod subspace;

use crate::error::{ensure_finite, Error, Result};
use nalgebra::{DMatrix, DVector};

/// A binary-labelled data set: rows of `x` are samples, `y` holds ±1.
#[derive(Clone, Debug, PartialEq)]
pub struct Binary {
    x: DMatrix<f64>,
    y: DVector<f64>,
}

impl Binary {
    /// Validates shapes, finiteness and labels (each exactly −1 or +1).
    pub fn new(x: DMatrix<f64>, y: DVector<f64>) -> Result<Self> {
        if x.nrows() != y.len() {
            return Err(Error::shape(format!(
                "data has {} rows but there are {} labels",
                x.nrows(),
                y.len()
            )));
        }
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err(Error::input(format!(
                "data set is empty ({} × {})",
                x.nrows(),
                x.ncols()
            )));
        }
        ensure_finite("data", x.as_slice())?;
        if let Some(i) = y.iter().position(|&v| v != 1.0 && v != -1.0) {
            return Err(Error::input(format!(
                "label {i} is {}; binary labels must be −1 or +1",
                y[i]
            )));
        }
        Ok(Self { x, y })
    }

    /// The samples, one per row.
    pub fn x(&self) -> &DMatrix<f64> {
        &self.x
    }
    /// The ±1 labels.
    pub fn y(&self) -> &DVector<f64> {
        &self.y
    }
    /// Number of samples.
    pub fn n(&self) -> usize {
        self.x.nrows()
    }
    /// Input dimension.
    pub fn d(&self) -> usize {
        self.x.ncols()
    }
    /// Sample `i` as a column vector.
    pub fn row(&self, i: usize) -> DVector<f64> {
        self.x.row(i).transpose()
    }
    /// The samples with the given indices, in that order.
    pub fn subset(&self, idx: &[usize]) -> Binary {
        Binary {
            x: self.x.select_rows(idx),
            y: DVector::from_iterator(idx.len(), idx.iter().map(|&i| self.y[i])),
        }
    }
    /// All samples except those in `drop` (which must be valid indices).
    pub fn without(&self, drop: &[usize]) -> Binary {
        let keep: Vec<usize> = (0..self.n()).filter(|i| !drop.contains(i)).collect();
        self.subset(&keep)
    }
    /// The signed rows `diag(y)·X`.
    pub fn signed_x(&self) -> DMatrix<f64> {
        let mut s = self.x.clone();
        for (i, mut r) in s.row_iter_mut().enumerate() {
            r *= self.y[i];
        }
        s
    }
}

/// A multi-class data set: rows of `x` are samples, labels in `0..k`.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiClass {
    x: DMatrix<f64>,
    y: Vec<usize>,
    k: usize,
}

impl MultiClass {
    /// Validates shapes, finiteness and label range.
    pub fn new(x: DMatrix<f64>, y: Vec<usize>, k: usize) -> Result<Self> {
        if x.nrows() != y.len() {
            return Err(Error::shape(format!(
                "data has {} rows but there are {} labels",
                x.nrows(),
                y.len()
            )));
        }
        if k < 2 {
            return Err(Error::input(format!("need at least 2 classes, got {k}")));
        }
        ensure_finite("data", x.as_slice())?;
        if let Some(i) = y.iter().position(|&c| c >= k) {
            return Err(Error::input(format!(
                "label {i} is {} but there are {k} classes",
                y[i]
            )));
        }
        Ok(Self { x, y, k })
    }
    /// The samples, one per row.
    pub fn x(&self) -> &DMatrix<f64> {
        &self.x
    }
    /// The class labels.
    pub fn y(&self) -> &[usize] {
        &self.y
    }
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.k
    }
    /// Number of samples.
    pub fn n(&self) -> usize {
        self.x.nrows()
    }
    /// Input dimension.
    pub fn d(&self) -> usize {
        self.x.ncols()
    }
    /// The samples with the given indices, in that order.
    pub fn subset(&self, idx: &[usize]) -> MultiClass {
        MultiClass {
            x: self.x.select_rows(idx),
            y: idx.iter().map(|&i| self.y[i]).collect(),
            k: self.k,
        }
    }
}
