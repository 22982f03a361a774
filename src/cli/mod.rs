//! Subcommands of the binary that train, attack and explain multi-class models.

pub mod attack;
pub mod explain;
pub mod train;

use dimple::data::{load, real, MultiClass};
use dimple::error::{Error, Result};
use std::path::Path;

/// `--data digits|mnist5k` (a seeded split's test or train part) or `--data X.npy --labels y.npy`.
pub fn multiclass(
    data: &str,
    labels: Option<&Path>,
    seed: u64,
    fraction: f64,
    train_part: bool,
) -> Result<MultiClass> {
    if let Some(which) = real::Shipped::parse(data) {
        if labels.is_some() {
            return Err(Error::input("--labels is not used with a shipped data set"));
        }
        let (train, test) = real::split(&real::load(which)?, seed, fraction)?;
        return Ok(if train_part { train } else { test });
    }
    let x = load::matrix(Path::new(data))?;
    let Some(lp) = labels else {
        return Err(Error::input(
            "--data FILE needs --labels FILE (class indices 0..K−1)",
        ));
    };
    let y = load::vector(lp)?;
    let mut cls = Vec::with_capacity(y.len());
    for (i, &v) in y.iter().enumerate() {
        if !(v >= 0.0) || v.fract() != 0.0 || v > 1e6 {
            return Err(Error::format(
                lp,
                format!("label {i} is {v}, not a class index"),
            ));
        }
        cls.push(v as usize);
    }
    let k = cls.iter().max().map_or(0, |m| m + 1).max(2);
    MultiClass::new(x, cls, k)
}
