//! Multi-class multilayer perceptrons z = W_L σ(… σ(W₁x + b₁) …) + b_L.
//!
//! Layer sizes [d, h₁, …, K]; with no hidden layer this is the multi-class linear model
//! z = Wx + b. θ is the concatenation over layers of W_l (out × in, row-major — the layout of a
//! PyTorch `Linear.weight`) followed by b_l. Forward and backward passes process the whole batch
//! with one matrix product per layer and direction.

use super::{Activation, Classifier};
use crate::error::{Error, Result};
use crate::linalg::{gemm_slice, mul, MatRef, Op};
use crate::rng::{self, Rng};
use nalgebra::{DMatrix, DVector};

/// A fully connected classifier; see the module documentation for the layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    sizes: Vec<usize>,
    act: Activation,
    theta: DVector<f64>,
}

impl Mlp {
    fn param_count(sizes: &[usize]) -> usize {
        sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    /// An MLP with explicit parameters.
    pub fn new(sizes: Vec<usize>, act: Activation, theta: DVector<f64>) -> Result<Self> {
        if sizes.len() < 2 || sizes.contains(&0) || *sizes.last().unwrap_or(&0) < 2 {
            return Err(Error::input(format!(
                "MLP layer sizes must be ≥ 1 with K ≥ 2 classes, got {sizes:?}"
            )));
        }
        let p = Self::param_count(&sizes);
        if theta.len() != p {
            return Err(Error::shape(format!(
                "MLP {sizes:?} has {p} parameters, got {}",
                theta.len()
            )));
        }
        crate::error::ensure_finite("MLP parameters", theta.as_slice())?;
        Ok(Self { sizes, act, theta })
    }

    /// He initialisation N(0, 2/fan_in)·scale for the weights, zero biases.
    pub fn init(rng: &mut Rng, sizes: Vec<usize>, act: Activation, scale: f64) -> Result<Self> {
        let mut theta = DVector::zeros(Self::param_count(&sizes));
        let mut off = 0;
        for w in sizes.windows(2) {
            let sd = scale * (2.0 / w[0] as f64).sqrt();
            for t in theta.rows_mut(off, w[0] * w[1]).iter_mut() {
                *t = sd * rng::normal(rng);
            }
            off += w[0] * w[1] + w[1];
        }
        Self::new(sizes, act, theta)
    }

    /// Layer sizes [d, h₁, …, K].
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
    /// The activation of the hidden layers.
    pub fn activation(&self) -> Activation {
        self.act
    }

    /// (offset of W_l, fan_in, fan_out) for each layer.
    fn layers(&self) -> Vec<(usize, usize, usize)> {
        let mut off = 0;
        self.sizes
            .windows(2)
            .map(|w| {
                let o = off;
                off += w[0] * w[1] + w[1];
                (o, w[0], w[1])
            })
            .collect()
    }

    /// W_lᵀ (fan_in × fan_out) as a column-major view, and b_l.
    fn layer(&self, l: (usize, usize, usize)) -> (MatRef<'_>, &[f64]) {
        let (o, i, k) = l;
        let s = self.theta.as_slice();
        (
            MatRef::new(&s[o..o + i * k], i, k),
            &s[o + i * k..o + i * k + k],
        )
    }

    /// Pre-activations of every layer (the last is the logits).
    fn forward_all(&self, x: &DMatrix<f64>) -> Vec<DMatrix<f64>> {
        let mut zs: Vec<DMatrix<f64>> = Vec::new();
        for (l, spec) in self.layers().into_iter().enumerate() {
            let (wt, b) = self.layer(spec);
            let mut z = if l == 0 {
                mul(x, Op::N, wt, Op::N)
            } else {
                let h = zs[l - 1].map(|v| self.act.value(v));
                mul(&h, Op::N, wt, Op::N)
            };
            for (j, mut col) in z.column_iter_mut().enumerate() {
                col.add_scalar_mut(b[j]);
            }
            zs.push(z);
        }
        zs
    }

    /// Layer l's weights W_l (out × in) and bias b_l as owned matrices.
    pub fn weights(&self, l: usize) -> Option<(DMatrix<f64>, DVector<f64>)> {
        let spec = *self.layers().get(l)?;
        let (wt, b) = self.layer(spec);
        let (fi, fo) = (spec.1, spec.2);
        Some((
            DMatrix::from_column_slice(fi, fo, wt.data).transpose(),
            DVector::from_column_slice(b),
        ))
    }

    /// Per-class input gradients ∇_x z_c(x) for one class c and every row, n × d.
    pub fn class_input_grad(&self, x: &DMatrix<f64>, c: usize) -> DMatrix<f64> {
        let k = self.classes();
        let (_, gx, _) = self.forward_backward(x, false, &mut |z| {
            DMatrix::from_fn(z.nrows(), k, |_, j| if j == c { 1.0 } else { 0.0 })
        });
        gx
    }
}

impl Classifier for Mlp {
    fn input_dim(&self) -> usize {
        self.sizes[0]
    }
    fn classes(&self) -> usize {
        *self.sizes.last().unwrap_or(&0)
    }
    fn params(&self) -> &DVector<f64> {
        &self.theta
    }
    fn params_mut(&mut self) -> &mut DVector<f64> {
        &mut self.theta
    }
    fn logits(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        self.forward_all(x)
            .pop()
            .unwrap_or_else(|| DMatrix::zeros(x.nrows(), 0))
    }
    fn forward_backward(
        &self,
        x: &DMatrix<f64>,
        want_params: bool,
        cot: &mut dyn FnMut(&DMatrix<f64>) -> DMatrix<f64>,
    ) -> (DMatrix<f64>, DMatrix<f64>, Option<DVector<f64>>) {
        let zs = self.forward_all(x);
        let logits = zs[zs.len() - 1].clone();
        let g = cot(&logits);
        let (gx, grad) = self.backward(x, &zs, g, want_params);
        (logits, gx, grad)
    }
    fn class_gradients(
        &self,
        x: &DMatrix<f64>,
        classes: &[usize],
    ) -> (DMatrix<f64>, Vec<DMatrix<f64>>) {
        let zs = self.forward_all(x);
        let logits = zs[zs.len() - 1].clone();
        let k = self.classes();
        let grads = classes
            .iter()
            .map(|&c| {
                let g = DMatrix::from_fn(x.nrows(), k, |_, j| if j == c { 1.0 } else { 0.0 });
                self.backward(x, &zs, g, false).0
            })
            .collect();
        (logits, grads)
    }
}

impl Mlp {
    /// Pulls the cotangent `g` (n × K) of the logits back through the layers: the input
    /// gradient (n × d) and, if asked, the parameter gradient.
    fn backward(
        &self,
        x: &DMatrix<f64>,
        zs: &[DMatrix<f64>],
        mut g: DMatrix<f64>,
        want_params: bool,
    ) -> (DMatrix<f64>, Option<DVector<f64>>) {
        let mut grad = want_params.then(|| DVector::zeros(self.theta.len()));
        let layers = self.layers();
        for l in (0..layers.len()).rev() {
            let spec = layers[l];
            let (o, fi, fo) = spec;
            if let Some(gr) = grad.as_mut() {
                let s = gr.as_mut_slice();
                let h;
                let input: &DMatrix<f64> = if l == 0 {
                    x
                } else {
                    h = zs[l - 1].map(|v| self.act.value(v));
                    &h
                };
                gemm_slice(
                    &mut s[o..o + fi * fo],
                    fi,
                    fo,
                    1.0,
                    input.into(),
                    Op::T,
                    (&g).into(),
                    Op::N,
                    0.0,
                );
                for j in 0..fo {
                    s[o + fi * fo + j] = g.column(j).sum();
                }
            }
            let (wt, _) = self.layer(spec);
            let mut back = mul(&g, Op::N, wt, Op::T);
            if l > 0 {
                back.zip_apply(&zs[l - 1], |gv, z| *gv *= self.act.deriv(z));
            }
            g = back;
        }
        (g, grad)
    }
}
