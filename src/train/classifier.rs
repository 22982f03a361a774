//! Full-batch gradient descent on the mean cross-entropy of a multi-class classifier, through
//! the one loop for losses of a multi-output model's outputs ([`descend_outputs`]).

use super::optim::{Method, Update};
use crate::data::MultiClass;
use crate::error::{Error, Result};
use crate::loss::cross_entropy;
use crate::model::{Activation, Classifier, Mlp};
use crate::rng::Rng;
use nalgebra::DMatrix;
use serde::Serialize;

/// Settings of [`train_classifier`].
#[derive(Clone, Debug, PartialEq)]
pub struct ClassifierGd {
    /// Learning rate.
    pub lr: f64,
    /// Number of full-batch steps.
    pub steps: usize,
    /// Per-step multiplicative weight decay κ ∈ [0, 1).
    pub weight_decay: f64,
}

/// Outcome of a classifier training run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassifierReport {
    /// Steps taken.
    pub steps: usize,
    /// Final mean cross-entropy.
    pub loss: f64,
    /// Final training accuracy.
    pub accuracy: f64,
}

/// Fraction of rows whose arg-max logit equals the label.
pub fn accuracy(model: &dyn Classifier, data: &MultiClass) -> f64 {
    correct_indices(model, data).len() as f64 / data.n() as f64
}

/// The rows whose arg-max logit equals the label, in order.
pub fn correct_indices(model: &dyn Classifier, data: &MultiClass) -> Vec<usize> {
    let predicted = crate::linalg::row_argmax(&model.logits(data.x()));
    (0..data.n())
        .filter(|&i| predicted[i] == data.y()[i])
        .collect()
}

/// A ReLU MLP with layer sizes `sizes` (input, hidden…, classes), initialised from `init`
/// ([`Mlp::init`], scale 1) and trained by [`train_classifier`]: the model every MLP experiment
/// here starts from.
pub fn train_relu_mlp(
    init: &mut Rng,
    sizes: Vec<usize>,
    data: &MultiClass,
    cfg: &ClassifierGd,
) -> Result<(Mlp, ClassifierReport)> {
    train_relu_mlp_with(init, sizes, data, cfg, &mut |_, _| {})
}

/// [`train_relu_mlp`] calling `progress(step, loss)` after every step.
pub fn train_relu_mlp_with(
    init: &mut Rng,
    sizes: Vec<usize>,
    data: &MultiClass,
    cfg: &ClassifierGd,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<(Mlp, ClassifierReport)> {
    let mut model = Mlp::init(init, sizes, Activation::Relu, 1.0)?;
    let report = train_classifier_with(&mut model, data, cfg, progress)?;
    Ok((model, report))
}

/// Trains in place; a non-finite loss is an error naming the step.
pub fn train_classifier(
    model: &mut dyn Classifier,
    data: &MultiClass,
    cfg: &ClassifierGd,
) -> Result<ClassifierReport> {
    train_classifier_with(model, data, cfg, &mut |_, _| {})
}

/// [`train_classifier`] calling `progress(step, loss)` after every step (for a progress bar).
pub fn train_classifier_with(
    model: &mut dyn Classifier,
    data: &MultiClass,
    cfg: &ClassifierGd,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<ClassifierReport> {
    if data.d() != model.input_dim() || data.classes() != model.classes() {
        return Err(Error::shape(format!(
            "model maps {} inputs to {} classes, data have {} features and {} classes",
            model.input_dim(),
            model.classes(),
            data.d(),
            data.classes()
        )));
    }
    descend_outputs(
        model,
        data.x(),
        &mut |z| cross_entropy(z, data.y()),
        cfg,
        Method::Gd,
        progress,
    )?;
    let (l, _) = cross_entropy(&model.logits(data.x()), data.y());
    Ok(ClassifierReport {
        steps: cfg.steps,
        loss: l,
        accuracy: accuracy(model, data),
    })
}

/// A loss of a batch's outputs z (n × K): its value and ∂L/∂z.
pub type OutputLoss<'a> = dyn FnMut(&DMatrix<f64>) -> (f64, DMatrix<f64>) + 'a;

/// Full-batch gradient descent on any loss of a multi-output model's outputs: `loss(z)` returns
/// L and ∂L/∂z for the outputs z (n × K) of the whole batch, and each step is
/// θ ← (1 − κ)θ − η∇_θ L. The loop of every trainer of multi-output models (classifiers on
/// cross-entropy, autoencoders on the reconstruction error); a non-finite loss is an error
/// naming the step. `progress(step, L)` is called after every step. `method` is
/// [`Method::Gd`] or [`Method::Adam`], stepped by [`Update`] as in [`super::train`] (Adam's step
/// replaces −η∇_θ L; the decay stays decoupled); full-batch only.
pub fn descend_outputs(
    model: &mut dyn Classifier,
    x: &DMatrix<f64>,
    loss: &mut OutputLoss<'_>,
    cfg: &ClassifierGd,
    method: Method,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<()> {
    if let Method::Sgd { .. } = method {
        return Err(Error::input(
            "minibatch SGD is not a method of full-batch output descent",
        ));
    }
    let mut update = Update::new(cfg.lr, method, cfg.weight_decay, None, model.params().len())?;
    let mut value = f64::NAN;
    for step in 0..cfg.steps {
        let (_, _, grad) = model.forward_backward(x, true, &mut |z| {
            let (l, g) = loss(z);
            value = l;
            g
        });
        if !value.is_finite() {
            return Err(super::non_finite_at(step));
        }
        update.apply(model.params_mut(), grad.as_ref());
        progress(step + 1, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    fn net() -> Mlp {
        Mlp::init(&mut rng::seeded(1, 0), vec![3, 4, 2], Activation::Relu, 1.0).expect("sizes")
    }

    fn cfg(lr: f64, weight_decay: f64) -> ClassifierGd {
        ClassifierGd {
            lr,
            steps: 1,
            weight_decay,
        }
    }

    /// A loss with zero gradient: only the decay moves θ, by exactly the factor 1 − κ.
    #[test]
    fn the_decay_alone_scales_the_parameters() {
        let x = DMatrix::from_element(2, 3, 0.5);
        let mut zero = |z: &DMatrix<f64>| (0.0, DMatrix::zeros(z.nrows(), z.ncols()));
        for (kappa, method) in [
            (0.25, Method::Gd),
            (
                0.25,
                Method::Adam {
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 1e-8,
                },
            ),
            (0.0, Method::Gd),
        ] {
            let mut m = net();
            let before = m.params().clone();
            descend_outputs(
                &mut m,
                &x,
                &mut zero,
                &cfg(0.1, kappa),
                method,
                &mut |_, _| {},
            )
            .expect("runs");
            assert_eq!(
                m.params(),
                &(&before * (1.0 - kappa)),
                "κ = {kappa}, {method:?}"
            );
        }
        // `progress` sees steps 1, 2, 3 and the loss of each.
        let mut seen = Vec::new();
        let three = ClassifierGd {
            steps: 3,
            ..cfg(0.1, 0.0)
        };
        descend_outputs(
            &mut net(),
            &x,
            &mut zero,
            &three,
            Method::Gd,
            &mut |t, l| seen.push((t, l)),
        )
        .expect("runs");
        assert_eq!(seen, vec![(1, 0.0), (2, 0.0), (3, 0.0)]);
    }

    /// Adam's first step moves every parameter with a clear gradient by η·ĝ/(|ĝ| + ε) ≈ η
    /// whatever the gradient's size (plain GD would move it by η|g|).
    #[test]
    fn the_first_adam_step_has_the_step_size_in_every_coordinate() {
        let x = rng::gaussian_matrix(&mut rng::seeded(2, 0), 5, 3, 1.0);
        let mut linear = |z: &DMatrix<f64>| {
            let g = DMatrix::from_fn(z.nrows(), z.ncols(), |i, j| 3.0 * (i + 1) as f64 - j as f64);
            (g.component_mul(z).sum(), g)
        };
        let mut m = net();
        let before = m.params().clone();
        let (_, _, grad) = m.forward_backward(&x, true, &mut |z| linear(z).1);
        let grad = grad.expect("asked");
        let adam = Method::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        descend_outputs(
            &mut m,
            &x,
            &mut linear,
            &cfg(0.01, 0.0),
            adam,
            &mut |_, _| {},
        )
        .expect("runs");
        let mut clear = 0;
        for i in 0..before.len() {
            if grad[i].abs() > 1e-3 {
                clear += 1;
                let moved = before[i] - m.params()[i];
                assert!(
                    (moved - 0.01 * grad[i].signum()).abs() < 1e-7,
                    "θ[{i}]: {moved}"
                );
            }
        }
        assert!(clear > before.len() / 2, "{clear} of {}", before.len());
    }

    /// Each bad setting alone is refused: η = 0, η < 0, κ = 1, κ < 0, minibatch SGD.
    #[test]
    fn bad_settings_are_refused_one_at_a_time() {
        let x = DMatrix::from_element(2, 3, 0.5);
        let mut zero = |z: &DMatrix<f64>| (0.0, DMatrix::zeros(z.nrows(), z.ncols()));
        for (lr, kappa) in [(0.0, 0.0), (-1.0, 0.0), (0.1, 1.0), (0.1, -0.5)] {
            let r = descend_outputs(
                &mut net(),
                &x,
                &mut zero,
                &cfg(lr, kappa),
                Method::Gd,
                &mut |_, _| {},
            );
            assert!(matches!(r, Err(Error::Input(_))), "η {lr}, κ {kappa}");
        }
        let sgd = Method::Sgd { batch: 1, seed: 0 };
        let r = descend_outputs(
            &mut net(),
            &x,
            &mut zero,
            &cfg(0.1, 0.0),
            sgd,
            &mut |_, _| {},
        );
        assert!(matches!(r, Err(Error::Input(_))));
    }
}
