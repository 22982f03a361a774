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

pub mod autoencoder;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Projector;
    use crate::model::{Activation, Mlp};
    use nalgebra::DVector;

    #[test]
    fn ratios_and_first_order_predictions_are_the_stated_quotients() {
        let p = Perpendicularity {
            rho_grad: vec![0.6, 0.8],
            r_std: vec![2.0, 4.0],
            r_on: vec![3.0, 5.0],
            r_off: vec![2.5, 8.0],
            ..Default::default()
        };
        assert_eq!(p.on_ratio(), vec![1.5, 1.25]);
        assert_eq!(p.off_ratio(), vec![1.25, 2.0]);
        let on = p.on_predicted();
        let off = p.off_predicted();
        assert_eq!((on.len(), off.len()), (2, 2));
        for (got, want) in on.iter().zip([1.0 / 0.6, 1.25]) {
            assert!((got - want).abs() < 1e-15, "{got}");
        }
        for (got, want) in off.iter().zip([1.25, 1.0 / 0.6]) {
            assert!((got - want).abs() < 1e-15, "{got}");
        }
        assert_eq!(
            finite(&[1.0, f64::NAN, -2.0, f64::INFINITY]),
            vec![1.0, -2.0]
        );
    }

    #[test]
    fn a_linear_classifier_has_the_closed_form_perturbations() {
        // Logits (0, ⟨u, x⟩), u = (3, 0, 4, 0), tangent space span(e₁, e₂): the minimal
        // perturbation is along u with radius |⟨u, x⟩|/‖u‖, its on-manifold fraction is
        // ‖Qᵀu‖/‖u‖ = 3/5, and the constrained radii are |⟨u, x⟩|/3 (on) and |⟨u, x⟩|/4 (off):
        // the ratios 5/3 and 5/4 are the first-order predictions exactly.
        let mut theta = DVector::zeros(4 * 2 + 2);
        theta[4] = 3.0;
        theta[6] = 4.0;
        let model = Mlp::new(vec![4, 2], Activation::Relu, theta).expect("sizes");
        let x = DMatrix::from_row_slice(2, 4, &[-1.0, 0.0, -1.0, 0.0, 0.0, -2.0, 1.0, 0.0]);
        let y = [0, 1];
        let q = Projector::new(DMatrix::from_fn(4, 2, |i, j| f64::from(u8::from(i == j)))).unwrap();
        let search = Search {
            n_iter: 50,
            bisection: 40,
            eps_max: vec![10.0, 10.0],
            bounds: None,
            constrained: true,
        };
        let p = measure(&model, &x, &y, Tangents::Shared(&q), &search, 0).expect("runs");
        let close = |got: f64, want: f64| (got - want).abs() <= 1e-6 * want;
        for (i, margin) in [7.0, 4.0].into_iter().enumerate() {
            assert!(close(p.r_std[i], margin / 5.0), "{:?}", p.r_std);
            assert!(close(p.r_on[i], margin / 3.0), "{:?}", p.r_on);
            assert!(close(p.r_off[i], margin / 4.0), "{:?}", p.r_off);
            assert!((p.rho_std[i] - 0.6).abs() < 1e-6, "{:?}", p.rho_std);
            assert!((p.rho_grad[i] - 0.6).abs() < 1e-12, "{:?}", p.rho_grad);
            assert!((0.0..=1.0).contains(&p.rho_rand[i]));
        }
        assert_eq!(p.on_predicted().len(), 2);
        assert_eq!(p.off_predicted().len(), 2);
        for (got, want) in p.on_ratio().iter().zip(p.on_predicted()) {
            assert!(close(*got, want), "{got} vs {want}");
        }
        for (got, want) in p.off_ratio().iter().zip(p.off_predicted()) {
            assert!(close(*got, want), "{got} vs {want}");
        }
        // Without the constrained attacks their radii are NaN, not zero.
        let quick = Search {
            constrained: false,
            ..search
        };
        let p = measure(&model, &x, &y, Tangents::Shared(&q), &quick, 0).expect("runs");
        assert!(p.r_on.iter().chain(&p.r_off).all(|v| v.is_nan()));
    }
}
