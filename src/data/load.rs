//! Loading user data by file extension: `.npy`, `.csv`, `.csv.gz`.

use super::{csv, npy, Binary};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use std::path::Path;

fn is_npy(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "npy")
}

/// A 2-D data matrix (n × d). A 1-D `.npy` is refused: data must be one sample per row.
pub fn matrix(path: &Path) -> Result<DMatrix<f64>> {
    let m = if is_npy(path) {
        npy::read_matrix(path)?
    } else {
        csv::read(path)?
    };
    if m.nrows() == 0 || m.ncols() == 0 {
        return Err(Error::format(
            path,
            format!("no data: {} rows × {} columns", m.nrows(), m.ncols()),
        ));
    }
    Ok(m)
}

/// A 1-D vector (a `.npy` of shape (n,) or (n, 1), or a one-column CSV).
pub fn vector(path: &Path) -> Result<DVector<f64>> {
    if is_npy(path) {
        let a = npy::read(path)?;
        match a.shape.as_slice() {
            [0] | [0, 1] => Err(Error::format(path, "no data: the vector is empty")),
            [_] | [_, 1] => Ok(DVector::from_vec(a.data)),
            s => Err(Error::format(
                path,
                format!("expected a vector, got shape {s:?}"),
            )),
        }
    } else {
        let m = matrix(path)?;
        if m.ncols() == 1 {
            Ok(DVector::from_column_slice(m.as_slice()))
        } else if m.nrows() == 1 {
            Ok(m.row(0).transpose())
        } else {
            Err(Error::format(
                path,
                format!("expected one column, got {} × {}", m.nrows(), m.ncols()),
            ))
        }
    }
}

/// A binary data set from a data file and a labels file (labels ±1).
pub fn binary(data: &Path, labels: &Path) -> Result<Binary> {
    let x = matrix(data)?;
    let y = vector(labels)?;
    Binary::new(x, y)
}

/// Saves a matrix as `.npy` (f64, C order) or CSV, by extension.
pub fn save_matrix(path: &Path, m: &DMatrix<f64>) -> Result<()> {
    if is_npy(path) {
        let data: Vec<f64> = m.transpose().as_slice().to_vec();
        npy::write(path, &[m.nrows(), m.ncols()], &data)
    } else {
        csv::write(path, m)
    }
}
