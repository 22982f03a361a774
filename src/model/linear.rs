//! The linear model N(x; w) = ⟨w, x⟩ (no bias), 1-homogeneous.
//!
//! θ = w ∈ R^d. ∇_θ N(x) = x, ∇_x N(x) = w, J = X, J Jᵀ = X Xᵀ.

use super::Model;
use crate::linalg::{gram_rows, mul_vec, Op};
use nalgebra::{DMatrix, DVector};

/// A bias-free linear predictor.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    w: DVector<f64>,
}

impl Linear {
    /// The predictor with weights `w`.
    pub fn new(w: DVector<f64>) -> Self {
        Self { w }
    }
    /// The weights.
    pub fn weights(&self) -> &DVector<f64> {
        &self.w
    }
}

impl Model for Linear {
    fn name(&self) -> String {
        "linear".into()
    }
    fn input_dim(&self) -> usize {
        self.w.len()
    }
    fn params(&self) -> &DVector<f64> {
        &self.w
    }
    fn params_mut(&mut self) -> &mut DVector<f64> {
        &mut self.w
    }
    fn homogeneity(&self) -> Option<u32> {
        Some(1)
    }
    fn forward(&self, x: &DMatrix<f64>) -> DVector<f64> {
        mul_vec(x, Op::N, &self.w)
    }
    fn jvp(&self, x: &DMatrix<f64>, u: &DVector<f64>) -> DVector<f64> {
        mul_vec(x, Op::N, u)
    }
    fn vjp(&self, x: &DMatrix<f64>, c: &DVector<f64>) -> DVector<f64> {
        mul_vec(x, Op::T, c)
    }
    fn jacobian(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        x.clone()
    }
    fn gram(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        gram_rows(x)
    }
    fn kkt_parts(&self, x: &DMatrix<f64>) -> (DVector<f64>, DMatrix<f64>, DVector<f64>) {
        // Jθ = Xw = N for a linear model: one pass over X serves both.
        let out = self.forward(x);
        (out.clone(), gram_rows(x), out)
    }
    fn input_grad(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        DMatrix::from_fn(x.nrows(), self.w.len(), |_, k| self.w[k])
    }
    fn boxed_clone(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
