//! A scalar model N(x) as the two-class classifier with logits (0, N(x)): class 1 ↔ y = +1.
//!
//! The margin loss of the true class is then max_{j≠y} z_j − z_y = −yN(x), and DeepFool's
//! class difference is ±N, so the multi-class attacks apply to binary models unchanged.

use crate::error::{Error, Result};
use crate::model::{Classifier, Model};
use nalgebra::{DMatrix, DVector};

/// Owns a copy of a binary model and exposes it as a two-logit classifier.
pub struct BinaryClassifier {
    model: Box<dyn Model>,
}

impl BinaryClassifier {
    /// Wraps a copy of `model`.
    pub fn new(model: &dyn Model) -> Self {
        Self {
            model: model.boxed_clone(),
        }
    }
    /// Class labels 0/1 from ±1 labels.
    pub fn classes_of(y: &DVector<f64>) -> Result<Vec<usize>> {
        y.iter()
            .map(|&v| match v {
                1.0 => Ok(1),
                -1.0 => Ok(0),
                _ => Err(Error::input(format!("binary label {v} is not ±1"))),
            })
            .collect()
    }
}

impl Classifier for BinaryClassifier {
    fn input_dim(&self) -> usize {
        self.model.input_dim()
    }
    fn classes(&self) -> usize {
        2
    }
    fn params(&self) -> &DVector<f64> {
        self.model.params()
    }
    fn params_mut(&mut self) -> &mut DVector<f64> {
        self.model.params_mut()
    }
    fn logits(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let n = self.model.forward(x);
        DMatrix::from_fn(x.nrows(), 2, |i, j| if j == 1 { n[i] } else { 0.0 })
    }
    fn forward_backward(
        &self,
        x: &DMatrix<f64>,
        want_params: bool,
        cot: &mut dyn FnMut(&DMatrix<f64>) -> DMatrix<f64>,
    ) -> (DMatrix<f64>, DMatrix<f64>, Option<DVector<f64>>) {
        let z = self.logits(x);
        let g = cot(&z);
        let c = g.column(1).into_owned();
        let mut gx = self.model.input_grad(x);
        for mut col in gx.column_iter_mut() {
            col.component_mul_assign(&c);
        }
        let gp = want_params.then(|| self.model.vjp(x, &c));
        (z, gx, gp)
    }
}
