//! The smallest radius at which an attack succeeds, by bisection on ε (dimpled.md §3).
//!
//! For each point: run the attack at ε_max; if it fails the point has no finite radius here.
//! Otherwise keep [lo, hi] with a success at hi, halve the interval `steps` times, and return
//! the smallest successful perturbation found (its norm is ≤ hi). All points are attacked
//! together, each at its own ε.

use super::apgd::{apgd, ApgdConfig};
use super::objective::Objective;
use crate::error::Result;
use crate::geometry::Constraint;
use crate::rng::Rng;
use nalgebra::DMatrix;

/// The outcome per point.
#[derive(Clone, Debug)]
pub struct Minimal {
    /// The smallest successful perturbation found (rows; zero where none).
    pub delta: DMatrix<f64>,
    /// Its norm in the attack's norm, `None` if the attack failed at ε_max.
    pub radius: Vec<Option<f64>>,
}

/// Bisection of the attack radius between 0 and `eps_max` with `steps` halvings.
#[allow(clippy::too_many_arguments)]
pub fn minimal_radius(
    obj: &dyn Objective,
    x: &DMatrix<f64>,
    eps_max: &[f64],
    steps: usize,
    cfg: &ApgdConfig,
    constraint: &Constraint<'_>,
    rng: &mut Rng,
) -> Result<Minimal> {
    let n = x.nrows();
    let idx: Vec<usize> = (0..n).collect();
    let first = apgd(obj, x, &idx, eps_max, cfg, constraint, rng, None)?;
    let mut delta = DMatrix::zeros(n, x.ncols());
    let mut radius = vec![None; n];
    let mut hi = eps_max.to_vec();
    let mut lo = vec![0.0; n];
    let keep =
        |delta: &mut DMatrix<f64>, radius: &mut Vec<Option<f64>>, i: usize, d: DMatrix<f64>| {
            let r = cfg.norm.row_norms(&d)[0];
            if radius[i].is_none_or(|old| r <= old) {
                delta.row_mut(i).copy_from(&d.row(0));
                radius[i] = Some(r);
            }
        };
    for i in 0..n {
        if first.success[i] {
            let d = (first.x_adv.row(i) - x.row(i)).into_owned();
            keep(
                &mut delta,
                &mut radius,
                i,
                DMatrix::from_row_slice(1, d.len(), d.as_slice()),
            );
        }
    }
    let live: Vec<usize> = (0..n).filter(|&i| radius[i].is_some()).collect();
    if live.is_empty() {
        return Ok(Minimal { delta, radius });
    }
    let xs = x.select_rows(&live);
    for _ in 0..steps {
        let mid: Vec<f64> = live.iter().map(|&i| 0.5 * (lo[i] + hi[i])).collect();
        let r = apgd(obj, &xs, &live, &mid, cfg, constraint, rng, None)?;
        for (r_i, &i) in live.iter().enumerate() {
            if r.success[r_i] {
                hi[i] = mid[r_i];
                let d = (r.x_adv.row(r_i) - x.row(i)).into_owned();
                keep(
                    &mut delta,
                    &mut radius,
                    i,
                    DMatrix::from_row_slice(1, d.len(), d.as_slice()),
                );
            } else {
                lo[i] = mid[r_i];
            }
        }
    }
    Ok(Minimal { delta, radius })
}
