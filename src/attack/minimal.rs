//! The smallest radius at which an attack succeeds, by bisection on ε (dimpled.md §3).
//!
//! For each point: run the attack at ε_max; if it fails the point has no finite radius here.
//! Otherwise keep [lo, hi] with a success at hi, halve the interval `steps` times, and return
//! the smallest successful perturbation found (its norm is ≤ hi). All points are attacked
//! together, each at its own ε.

use super::apgd::{apgd, ApgdConfig};
use super::incumbent::{Incumbent, Keep, Live};
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
    let all = Live::all(n);
    let first = apgd(obj, x, all.rows(), eps_max, cfg, constraint, rng, None)?;
    // The smallest successful perturbation per point (+∞ where none yet).
    let mut best = Incumbent::new(
        DMatrix::zeros(n, x.ncols()),
        vec![f64::INFINITY; n],
        Keep::Smaller,
    );
    let offer = |best: &mut Incumbent, live: &[usize], x_adv: &DMatrix<f64>, success: &[bool]| {
        let delta = x_adv - x.select_rows(live);
        let score: Vec<f64> = (cfg.norm.row_norms(&delta).iter().zip(success))
            .map(|(&r, &ok)| if ok { r } else { f64::INFINITY })
            .collect();
        best.offer(live, &delta, &score);
    };
    offer(&mut best, all.rows(), &first.x_adv, &first.success);
    let live = Live::filter(n, |&i| best.score()[i].is_finite());
    let mut hi = eps_max.to_vec();
    let mut lo = vec![0.0; n];
    if !live.is_empty() {
        let xs = live.select(x);
        for _ in 0..steps {
            let mid: Vec<f64> = live.rows().iter().map(|&i| 0.5 * (lo[i] + hi[i])).collect();
            let r = apgd(obj, &xs, live.rows(), &mid, cfg, constraint, rng, None)?;
            for (r_i, &i) in live.rows().iter().enumerate() {
                if r.success[r_i] {
                    hi[i] = mid[r_i];
                } else {
                    lo[i] = mid[r_i];
                }
            }
            offer(&mut best, live.rows(), &r.x_adv, &r.success);
        }
    }
    let (delta, radius) = best.into_parts();
    Ok(Minimal {
        delta,
        radius: radius
            .into_iter()
            .map(|r| r.is_finite().then_some(r))
            .collect(),
    })
}
