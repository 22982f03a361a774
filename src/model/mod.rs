//! Models: scalar-output networks for binary margins and multi-class classifiers.
//!
//! A [`Model`] maps x ∈ R^d to N(x; θ) ∈ R with parameters θ held as one flat vector. Batched
//! methods take X ∈ R^{n×d} (one sample per row) and return, per sample, the output, directional
//! derivatives J·u (`jvp`), the pulled-back gradient Jᵀc = Σ_i c_i ∇_θ N(x_i) (`vjp`), the full
//! Jacobian J ∈ R^{n×p}, its Gram matrix J Jᵀ and the input gradients ∇_x N(x_i). A model is
//! L-homogeneous when N(x; αθ) = α^L N(x; θ) for α > 0 (kkt.md §1); [`Model::homogeneity`]
//! returns L or `None`.
//!
//! Convention: σ'(0) := 0 for ReLU, so the Euler identity ⟨∇_θ N, θ⟩ = L·N holds exactly.
//!
//! A [`Classifier`] maps x to K logits (the attack families).

pub mod activation;
pub mod finite_diff;
pub mod io;
pub mod linear;
pub mod mlp;
pub mod two_layer;

pub use activation::Activation;
pub use linear::Linear;
pub use mlp::Mlp;
pub use two_layer::{OutputLayer, TwoLayer};

use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// The Jacobian J of a model at fixed θ and inputs, as a linear operator.
pub trait Linearized {
    /// J u.
    fn jvp(&self, u: &DVector<f64>) -> DVector<f64>;
    /// Jᵀ c.
    fn vjp(&self, c: &DVector<f64>) -> DVector<f64>;
}

/// The default [`Model::linearize`]: every product is a model call.
struct ByCalls<'a, M: ?Sized> {
    model: &'a M,
    x: &'a DMatrix<f64>,
}

impl<M: Model + ?Sized> Linearized for ByCalls<'_, M> {
    fn jvp(&self, u: &DVector<f64>) -> DVector<f64> {
        self.model.jvp(self.x, u)
    }
    fn vjp(&self, c: &DVector<f64>) -> DVector<f64> {
        self.model.vjp(self.x, c)
    }
}

/// A scalar-output model with flat parameters.
///
/// Batched methods assume `x.ncols() == self.input_dim()`; public entry points check this with
/// [`Model::check_input`] before calling them.
pub trait Model: Send + Sync {
    /// A short name of the architecture.
    fn name(&self) -> String;
    /// Input dimension d.
    fn input_dim(&self) -> usize;
    /// The flat parameter vector θ (layout documented by each model).
    fn params(&self) -> &DVector<f64>;
    /// Mutable access to θ.
    fn params_mut(&mut self) -> &mut DVector<f64>;
    /// The homogeneity degree L, or `None` if the model is not homogeneous.
    fn homogeneity(&self) -> Option<u32>;
    /// N(x_i; θ) for every row.
    fn forward(&self, x: &DMatrix<f64>) -> DVector<f64>;
    /// (J u)_i = ⟨∇_θ N(x_i), u⟩.
    fn jvp(&self, x: &DMatrix<f64>, u: &DVector<f64>) -> DVector<f64>;
    /// Jᵀ c = Σ_i c_i ∇_θ N(x_i).
    fn vjp(&self, x: &DMatrix<f64>, c: &DVector<f64>) -> DVector<f64>;
    /// The outputs and Jᵀ c(outputs) from one pass (the training step).
    fn forward_vjp(
        &self,
        x: &DMatrix<f64>,
        coef: &mut dyn FnMut(&DVector<f64>) -> DVector<f64>,
    ) -> (DVector<f64>, DVector<f64>) {
        let out = self.forward(x);
        let c = coef(&out);
        let g = self.vjp(x, &c);
        (out, g)
    }
    /// One fused descent step: computes the outputs at θ, asks `coef` for the coefficients c
    /// (or `None` to leave θ unchanged), and sets θ ← (1 − κ)θ − η·Jᵀc. Returns the outputs at
    /// the old θ. Models override this to write the update straight into θ.
    fn descend(
        &mut self,
        x: &DMatrix<f64>,
        coef: &mut dyn FnMut(&DVector<f64>) -> Option<DVector<f64>>,
        lr: f64,
        decay: f64,
    ) -> DVector<f64> {
        let out = self.forward(x);
        if let Some(c) = coef(&out) {
            let g = self.vjp(x, &c);
            let theta = self.params_mut();
            if decay > 0.0 {
                *theta *= 1.0 - decay;
            }
            theta.axpy(-lr, &g, 1.0);
        }
        out
    }
    /// The Jacobian at θ on `x` as a linear operator, for many products at a fixed θ. Models
    /// override this to cache what the products share (the two-layer net its activation
    /// pattern, which halves the cost of each product).
    fn linearize<'a>(&'a self, x: &'a DMatrix<f64>) -> Box<dyn Linearized + 'a> {
        Box::new(ByCalls { model: self, x })
    }
    /// The Jacobian J ∈ R^{n×p}, row i = ∇_θ N(x_i).
    fn jacobian(&self, x: &DMatrix<f64>) -> DMatrix<f64>;
    /// J Jᵀ ∈ R^{n×n}. Models override this with a structured formula.
    fn gram(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        crate::linalg::gram_rows(&self.jacobian(x))
    }
    /// The outputs N(x_i), the Gram matrix J Jᵀ and J θ in one call (the pieces of the KKT
    /// multiplier problem). Models override this to share one forward pass.
    fn kkt_parts(&self, x: &DMatrix<f64>) -> (DVector<f64>, DMatrix<f64>, DVector<f64>) {
        (self.forward(x), self.gram(x), self.jvp(x, self.params()))
    }
    /// ∇_x N(x_i; θ) for every row, n × d.
    fn input_grad(&self, x: &DMatrix<f64>) -> DMatrix<f64>;
    /// A boxed copy.
    fn boxed_clone(&self) -> Box<dyn Model>;
    /// The concrete model, for serialisation.
    fn as_any(&self) -> &dyn std::any::Any;

    /// Number of parameters p.
    fn n_params(&self) -> usize {
        self.params().len()
    }
    /// Fails with a shape error unless `x` has `input_dim()` columns and finite entries.
    fn check_input(&self, x: &DMatrix<f64>) -> Result<()> {
        if x.ncols() != self.input_dim() {
            return Err(Error::shape(format!(
                "model {} takes inputs of dimension {}, data has {} columns",
                self.name(),
                self.input_dim(),
                x.ncols()
            )));
        }
        crate::error::ensure_finite("data", x.as_slice())?;
        crate::error::ensure_finite("model parameters", self.params().as_slice())
    }
    /// Replaces θ, checking its length and finiteness.
    fn set_params(&mut self, theta: &DVector<f64>) -> Result<()> {
        if theta.len() != self.n_params() {
            return Err(Error::shape(format!(
                "model {} has {} parameters, got {}",
                self.name(),
                self.n_params(),
                theta.len()
            )));
        }
        crate::error::ensure_finite("parameters", theta.as_slice())?;
        self.params_mut().copy_from(theta);
        Ok(())
    }
}

impl Clone for Box<dyn Model> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}

/// A multi-class model: x ∈ R^d ↦ logits z ∈ R^K.
pub trait Classifier: Send + Sync {
    /// Input dimension d.
    fn input_dim(&self) -> usize;
    /// Number of classes K.
    fn classes(&self) -> usize;
    /// The flat parameter vector.
    fn params(&self) -> &DVector<f64>;
    /// Mutable parameters.
    fn params_mut(&mut self) -> &mut DVector<f64>;
    /// Logits for every row, n × K.
    fn logits(&self, x: &DMatrix<f64>) -> DMatrix<f64>;
    /// Logits and the pull-back of the cotangent `cot(logits)` (n × K) to the inputs (n × d)
    /// and, if asked, to the parameters.
    fn forward_backward(
        &self,
        x: &DMatrix<f64>,
        want_params: bool,
        cot: &mut dyn FnMut(&DMatrix<f64>) -> DMatrix<f64>,
    ) -> (DMatrix<f64>, DMatrix<f64>, Option<DVector<f64>>);
    /// The logits and the input gradients ∇_x z_c of each class c in `classes` (one n × d
    /// matrix per class). The default makes one pass per class; models override it to share the
    /// forward pass.
    fn class_gradients(
        &self,
        x: &DMatrix<f64>,
        classes: &[usize],
    ) -> (DMatrix<f64>, Vec<DMatrix<f64>>) {
        let k = self.classes();
        let mut logits = DMatrix::zeros(x.nrows(), k);
        let grads = classes
            .iter()
            .map(|&c| {
                let (z, g, _) = self.forward_backward(x, false, &mut |z| {
                    DMatrix::from_fn(z.nrows(), k, |_, j| if j == c { 1.0 } else { 0.0 })
                });
                logits = z;
                g
            })
            .collect();
        if classes.is_empty() {
            logits = self.logits(x);
        }
        (logits, grads)
    }
}
