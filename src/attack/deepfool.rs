//! DeepFool (Moosavi-Dezfooli et al. 2016, arXiv:1511.04599): minimal L2 perturbations by
//! iterated linearisation, batched, optionally constrained to a tangent space or its complement.
//!
//! At x_k = x + (1 + overshoot)·r (r the accumulated step) with true class y still winning, for
//! every class c ≠ y: f_c = z_c − z_y, w_c = P∇_x f_c (P the constraint's projection); the
//! linearised distance to the c-boundary is |f_c|/‖w_c‖; with l the closest class the step is
//! r ← r + (|f_l| + 1e−4)/‖w_l‖²·w_l. A point stops once it is misclassified. The class
//! gradients of all points come from one forward pass and one backward pass per class.

use super::incumbent::Live;
use crate::error::{Error, Result};
use crate::geometry::Constraint;
use crate::model::Classifier;
use nalgebra::{DMatrix, DVector};

/// The 1e−4 DeepFool's reference code adds to |f| in each linearised step r = (|f| + 1e−4)·w/‖w‖²
/// (Moosavi-Dezfooli et al. 2016), so that a step lands past the boundary rather than on it.
pub const STEP_SLACK: f64 = 1e-4;

/// DeepFool settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeepFoolConfig {
    /// Iteration budget.
    pub max_iter: usize,
    /// The final perturbation is (1 + overshoot)·r.
    pub overshoot: f64,
}

impl Default for DeepFoolConfig {
    fn default() -> Self {
        Self {
            max_iter: 50,
            overshoot: 0.02,
        }
    }
}

/// Outcome per point.
#[derive(Clone, Debug)]
pub struct DeepFool {
    /// The perturbations (1 + overshoot)·r, one per row.
    pub delta: DMatrix<f64>,
    /// The first step r₁ (the linearised minimal perturbation at x).
    pub first_step: DMatrix<f64>,
    /// Whether x + δ is misclassified.
    pub success: Vec<bool>,
    /// Iterations used per point.
    pub iterations: Vec<usize>,
}

/// Runs DeepFool on the rows of `x` with labels `y`.
pub fn deepfool(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    cfg: &DeepFoolConfig,
    constraint: &Constraint<'_>,
) -> Result<DeepFool> {
    let (n, d) = x.shape();
    let k = model.classes();
    if d != model.input_dim() || y.len() != n {
        return Err(Error::shape(format!(
            "DeepFool: {n} × {d} points with {} labels for a model of input dimension {}",
            y.len(),
            model.input_dim()
        )));
    }
    if let Some(&l) = y.iter().find(|&&l| l >= k) {
        return Err(Error::input(format!(
            "label {l} is not a class of a {k}-class model"
        )));
    }
    crate::error::ensure_finite("attacked points", x.as_slice())?;
    let classes: Vec<usize> = (0..k).collect();
    let mut r = DMatrix::zeros(n, d);
    let mut first_step = DMatrix::zeros(n, d);
    let mut success = vec![false; n];
    let mut iterations = vec![0; n];
    // A point leaves once misclassified or out of iterations.
    let mut live = Live::all(n);
    for it in 0..=cfg.max_iter {
        if live.is_empty() {
            break;
        }
        let xa = live.select(x) + live.select(&r) * (1.0 + cfg.overshoot);
        let (z, grads) = model.class_gradients(&xa, &classes);
        let mut still = vec![false; live.len()];
        for (row, &i) in live.rows().iter().enumerate() {
            let zr: Vec<f64> = z.row(row).iter().copied().collect();
            if super::losses::argmax(&zr) != y[i] {
                success[i] = true;
                continue;
            }
            if it == cfg.max_iter {
                continue;
            }
            let gy = grads[y[i]].row(row).transpose();
            let mut best: Option<(f64, f64, DVector<f64>)> = None;
            for c in (0..k).filter(|&c| c != y[i]) {
                let mut w =
                    DMatrix::from_row_slice(1, d, (grads[c].row(row).transpose() - &gy).as_slice());
                constraint.project_row(&mut w, 0, i);
                let w = w.row(0).transpose();
                let nw = w.norm();
                if nw == 0.0 {
                    continue;
                }
                let f = (zr[c] - zr[y[i]]).abs();
                if best.as_ref().is_none_or(|b| f / nw < b.0) {
                    best = Some((f / nw, f, w));
                }
            }
            let Some((_, f, w)) = best else { continue };
            let step = &w * ((f + STEP_SLACK) / w.norm_squared());
            if it == 0 {
                first_step.row_mut(i).copy_from(&step.transpose());
            }
            let new = r.row(i) + step.transpose();
            r.row_mut(i).copy_from(&new);
            iterations[i] = it + 1;
            still[row] = true;
        }
        live.retain(&still);
    }
    Ok(DeepFool {
        delta: r * (1.0 + cfg.overshoot),
        first_step,
        success,
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::binary::BinaryClassifier;
    use crate::model::{Activation, Model, TwoLayer};
    use crate::rng;

    /// For a binary model the only other class's difference is ±N, so DeepFool's first step is
    /// (|N(x)| + 1e−4)/‖∇N‖²·∇N up to sign: along the input gradient. (This identity was a gate of
    /// `dimpled.linear.perpendicular`; it is a property of the code, tested here.)
    #[test]
    fn binary_first_step_is_the_scaled_input_gradient() {
        let mut r = rng::seeded(3, rng::stream::INIT);
        let net = TwoLayer::init(&mut r, 7, 12, Activation::Relu, true, false, 1.0);
        let x = rng::gaussian_matrix(&mut r, 9, 7, 1.0);
        let out = net.forward(&x);
        let y: Vec<usize> = out.iter().map(|v| usize::from(*v > 0.0)).collect();
        let model = BinaryClassifier::new(&net);
        let df = deepfool(
            &model,
            &x,
            &y,
            &DeepFoolConfig::default(),
            &Constraint::Free,
        )
        .unwrap();
        let g = net.input_grad(&x);
        for i in 0..x.nrows() {
            let gi = g.row(i).transpose();
            let want = &gi * (-out[i].signum() * (out[i].abs() + 1e-4) / gi.norm_squared());
            let got = df.first_step.row(i).transpose();
            assert!(
                (&got - &want).norm() <= 1e-12 * want.norm(),
                "row {i}: {got} vs {want}"
            );
        }
    }
}
