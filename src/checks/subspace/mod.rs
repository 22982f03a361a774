//! The subspace family (subspace.md; arXiv:2303.00783): two-layer ReLU nets trained on data in a
//! low-dimensional subspace keep their off-subspace weights frozen, have χ²-distributed
//! off-subspace gradients, are flipped by small perturbations orthogonal to the data, and become
//! more robust there with a smaller initialisation or weight decay.

mod c1_frozen;
mod c2_chi2;
mod c3_lower_tail;
mod c4_flip_sandwich;
mod c5_scale;
mod c6_universal;
mod c7_relative;
mod toy;
mod toy_chess;
mod toy_diagonal;

use crate::check::Check;
use crate::subspace::Setting;

/// The subspace checks.
pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(c1_frozen::Frozen),
        Box::new(c2_chi2::Chi2),
        Box::new(c3_lower_tail::LowerTail),
        Box::new(c4_flip_sandwich::FlipSandwich),
        Box::new(c5_scale::Scale),
        Box::new(c6_universal::Universal),
        Box::new(c7_relative::Relative),
        Box::new(toy_diagonal::Diagonal),
        Box::new(toy_chess::Chess),
    ]
}

/// The setting named by the parameters d, k, n, m, beta, max_steps (ρ_x = √d, γ_stop = 0.3).
pub(crate) fn setting(
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    beta: f64,
    max_steps: usize,
) -> Setting {
    let mut s = Setting::new(d, k, n, m);
    s.beta = beta;
    s.max_steps = max_steps;
    s
}
