//! Perpendicularity of adversarial perturbations to the data manifold (dimpled.md §3–§4;
//! Shamir, Melamed & BenShmuel 2021, arXiv:2106.10151).
//!
//! For points x_i with tangent spaces Q(x_i) ∈ R^{d×k}:
//! - on-manifold fraction ρ(δ) = ‖Qᵀδ‖/‖δ‖ and enrichment E(δ) = ρ²/(k/d); for δ uniform on
//!   S^{d−1}, ρ² ~ Beta(k/2, (d − k)/2), so E ≈ 1 is "no preference";
//! - δ_std: the minimal L2 perturbation (L2 APGD on the margin loss inside a bisection on ε);
//! - δ_on, δ_off: the same attack with every gradient projected by QQᵀ or I − QQᵀ (no random
//!   start), so that the perturbation stays in (or orthogonal to) the tangent space when there
//!   is no box;
//! - cost ratios ‖δ_on‖/‖δ_std‖ and ‖δ_off‖/‖δ_std‖, with the first-order predictions 1/ρ_g and
//!   1/√(1 − ρ_g²), ρ_g = ρ(∇_x margin) [derived, §4].

use crate::attack::losses::Loss;
use crate::attack::minimal::minimal_radius;
use crate::attack::{ApgdConfig, ClassObjective, Goal, Norm, Objective, Variant};
use crate::error::Result;
use crate::geometry::{Constraint, Tangents};
use crate::model::Classifier;
use crate::rng::{self, stream};
use nalgebra::DMatrix;

/// How the minimal perturbations are searched.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    /// APGD iterations per radius.
    pub n_iter: usize,
    /// Bisection halvings.
    pub bisection: usize,
    /// Upper end of the bisection, per point.
    pub eps_max: Vec<f64>,
    /// Input box (None for synthetic data).
    pub bounds: Option<(f64, f64)>,
    /// Also run the on- and off-manifold constrained attacks.
    pub constrained: bool,
}

/// Per-point measurements (NaN where an attack failed at ε_max).
#[derive(Clone, Debug, Default)]
pub struct Perpendicularity {
    /// ρ(δ_std).
    pub rho_std: Vec<f64>,
    /// ρ(∇_x margin).
    pub rho_grad: Vec<f64>,
    /// ρ of one uniform random direction per point.
    pub rho_rand: Vec<f64>,
    /// ‖δ_std‖.
    pub r_std: Vec<f64>,
    /// ‖δ_on‖ (NaN unless constrained).
    pub r_on: Vec<f64>,
    /// ‖δ_off‖ (NaN unless constrained).
    pub r_off: Vec<f64>,
}

impl Perpendicularity {
    /// ‖δ_on‖/‖δ_std‖ per point.
    pub fn on_ratio(&self) -> Vec<f64> {
        self.r_on
            .iter()
            .zip(&self.r_std)
            .map(|(a, b)| a / b)
            .collect()
    }
    /// ‖δ_off‖/‖δ_std‖ per point.
    pub fn off_ratio(&self) -> Vec<f64> {
        self.r_off
            .iter()
            .zip(&self.r_std)
            .map(|(a, b)| a / b)
            .collect()
    }
    /// Predicted on/std = 1/ρ_g.
    pub fn on_predicted(&self) -> Vec<f64> {
        self.rho_grad.iter().map(|g| 1.0 / g).collect()
    }
    /// Predicted off/std = 1/√(1 − ρ_g²).
    pub fn off_predicted(&self) -> Vec<f64> {
        self.rho_grad
            .iter()
            .map(|g| 1.0 / (1.0 - g * g).sqrt())
            .collect()
    }
}

/// Keeps the finite values.
pub fn finite(v: &[f64]) -> Vec<f64> {
    v.iter().copied().filter(|x| x.is_finite()).collect()
}

/// Measures the perpendicularity of minimal perturbations of `model` at the rows of `x` (labels
/// `y`, correctly classified) with tangent spaces `tangents`.
pub fn measure(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    tangents: Tangents<'_>,
    search: &Search,
    seed: u64,
) -> Result<Perpendicularity> {
    let (n, d) = x.shape();
    tangents.check(n, d)?;
    let obj = ClassObjective::new(model, y, Loss::Margin, Goal::Untargeted)?;
    let idx: Vec<usize> = (0..n).collect();
    let grad = obj.eval(x, &idx).grad;
    let mut rng = rng::seeded(seed, stream::ATTACK);
    let cfg = |random_start| ApgdConfig {
        norm: Norm::L2,
        n_iter: search.n_iter,
        restarts: 1,
        variant: Variant::AutoAttack,
        random_start,
        bounds: search.bounds,
    };
    let std = minimal_radius(
        &obj,
        x,
        &search.eps_max,
        search.bisection,
        &cfg(true),
        &Constraint::Free,
        &mut rng,
    )?;
    let mut dirs = rng::gaussian_matrix(&mut rng::seeded(seed, stream::DIRECTIONS), n, d, 1.0);
    dirs.row_iter_mut().for_each(|mut r| {
        let nr = r.norm();
        r /= nr;
    });
    let rho = |m: &DMatrix<f64>, i: usize| tangents.at(i).fraction(&m.row(i).transpose());
    let mut out = Perpendicularity::default();
    for i in 0..n {
        let found = std.radius[i].is_some();
        out.rho_std
            .push(if found { rho(&std.delta, i) } else { f64::NAN });
        out.r_std.push(std.radius[i].unwrap_or(f64::NAN));
        out.rho_grad.push(rho(&grad, i));
        out.rho_rand.push(rho(&dirs, i));
    }
    if search.constrained {
        for (on, slot) in [(true, 0), (false, 1)] {
            let c = if on {
                Constraint::On(tangents)
            } else {
                Constraint::Off(tangents)
            };
            let r = minimal_radius(
                &obj,
                x,
                &search.eps_max,
                search.bisection,
                &cfg(false),
                &c,
                &mut rng,
            )?;
            let radii: Vec<f64> = r.radius.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            if slot == 0 {
                out.r_on = radii;
            } else {
                out.r_off = radii;
            }
        }
    } else {
        out.r_on = vec![f64::NAN; n];
        out.r_off = vec![f64::NAN; n];
    }
    Ok(out)
}
