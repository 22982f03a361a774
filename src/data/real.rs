//! The real data sets shipped in `data/` (see `data/README.md` for sources and licences).
//!
//! - `digits`: UCI optical recognition of handwritten digits, 1797 × 64, grey levels 0–16.
//! - `mnist5k`: 5000 MNIST digits, 28×28, grey levels 0–255.
//!
//! Both are CSV (gzip) with the pixel columns first and the label 0–9 last; pixels are scaled to
//! [0, 1]. The directory is `$DIMPLE_DATA` if set, else `data/` of this crate.

use super::{csv, MultiClass};
use crate::error::{Error, Result};
use std::path::PathBuf;

/// A shipped data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shipped {
    /// 8×8 digits (64 features).
    Digits,
    /// 28×28 MNIST subset (784 features).
    Mnist5k,
}

impl Shipped {
    fn file(self) -> &'static str {
        match self {
            Self::Digits => "digits.csv.gz",
            Self::Mnist5k => "mnist_5k.csv.gz",
        }
    }
    fn max_grey(self) -> f64 {
        match self {
            Self::Digits => 16.0,
            Self::Mnist5k => 255.0,
        }
    }
}

/// The directory holding the shipped data.
pub fn data_dir() -> PathBuf {
    std::env::var_os("DIMPLE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data"))
}

/// Loads a shipped data set with pixels scaled to [0, 1].
pub fn load(which: Shipped) -> Result<MultiClass> {
    let path = data_dir().join(which.file());
    let m = csv::read(&path)?;
    let d = m.ncols() - 1;
    let mut y = Vec::with_capacity(m.nrows());
    for i in 0..m.nrows() {
        let v = m[(i, d)];
        if !(0.0..=9.0).contains(&v) || v.fract() != 0.0 {
            return Err(Error::format(
                &path,
                format!("row {i}: label {v} is not a digit"),
            ));
        }
        y.push(v as usize);
    }
    let x = m.columns(0, d).map(|v| v / which.max_grey());
    MultiClass::new(x, y, 10)
}

/// A seeded split of `data` into a training part (the first ⌊fraction·n⌋ of a ChaCha
/// permutation) and the rest.
pub fn split(data: &MultiClass, seed: u64, fraction: f64) -> Result<(MultiClass, MultiClass)> {
    let n = data.n();
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::input(format!(
            "train fraction {fraction} must lie in (0, 1)"
        )));
    }
    split_at(data, seed, (fraction * n as f64).floor() as usize)
}

/// As [`split`] with the training size given: the first `n_train` of the permutation of `seed`.
pub fn split_at(data: &MultiClass, seed: u64, n_train: usize) -> Result<(MultiClass, MultiClass)> {
    let n = data.n();
    if n_train == 0 || n_train >= n {
        return Err(Error::input(format!(
            "a training part of {n_train} leaves an empty part of {n} samples"
        )));
    }
    let order =
        crate::rng::permutation(&mut crate::rng::seeded(seed, crate::rng::stream::CHOICE), n);
    Ok((
        data.subset(&order[..n_train]),
        data.subset(&order[n_train..]),
    ))
}

impl Shipped {
    /// The data set a check's `mnist` parameter names: 1 the MNIST subset, otherwise the
    /// digits (the theory files constrain the parameter to {0, 1}).
    pub fn from_mnist_flag(mnist: usize) -> Self {
        if mnist == 1 {
            Self::Mnist5k
        } else {
            Self::Digits
        }
    }

    /// Parses `digits` or `mnist5k`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "digits" => Some(Self::Digits),
            "mnist5k" => Some(Self::Mnist5k),
            _ => None,
        }
    }
}
