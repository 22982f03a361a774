//! Two-layer networks N(x; θ) = Σ_{j=1..m} v_j σ(⟨w_j, x⟩ + b_j).
//!
//! θ = [W | b | v]: W ∈ R^{m×d} in row-major order (w₁ first, the layout of a PyTorch
//! `Linear(d, m).weight`), then the biases b ∈ R^m if the model has them, then the output
//! weights v ∈ R^m if they are trained. With fixed v (kkt.md's V1, v_j = ±1/√m) the model is
//! 1-homogeneous in θ; with trained v (V2) it is 2-homogeneous. A *trained* hidden bias scales
//! with W (σ(α⟨w, x⟩ + αb) = ασ(⟨w, x⟩ + b)), so it keeps the degree; a fixed, untrained offset
//! would break homogeneity. The kkt and unlearn checks use bias-free nets as kkt.md specifies.
//!
//! Batched formulas, with P = X Wᵀ + 1bᵀ, S = σ(P), A = σ'(P) and A_v = A·diag(v):
//! - N = S v;
//! - Jᵀc: ∇_W = (diag(c) A_v)ᵀ X, ∇_b = (diag(c) A_v)ᵀ 1, ∇_v = Sᵀ c;
//! - J Jᵀ = (X Xᵀ) ∘ (A_v A_vᵀ) [+ A_v A_vᵀ with bias] [+ S Sᵀ with trained v];
//! - ∇_x N = A_v W.
//!
//! A training step costs two products of the shapes (n×d)·(d×m) and (d×n)·(n×m).

use super::{Activation, Linearized, Model};
use crate::linalg::{gemm_slice, gram_rows, mul, MatRef, Op};
use crate::rng::{self, Rng};
use nalgebra::{DMatrix, DVector};

/// How the output layer is handled.
#[derive(Clone, Debug, PartialEq)]
pub enum OutputLayer {
    /// Fixed output weights (not parameters).
    Fixed(DVector<f64>),
    /// Output weights are the last m parameters.
    Trained,
}

/// A two-layer network; see the module documentation for the parameter layout.
#[derive(Clone, Debug, PartialEq)]
pub struct TwoLayer {
    d: usize,
    m: usize,
    act: Activation,
    bias: bool,
    output: OutputLayer,
    theta: DVector<f64>,
}

/// v_j = +1/√m for odd j and −1/√m for even j (1-based), so Σ v_j² = 1.
pub fn alternating_signs(m: usize) -> DVector<f64> {
    let s = 1.0 / (m as f64).sqrt();
    DVector::from_fn(m, |j, _| if j % 2 == 0 { s } else { -s })
}

impl TwoLayer {
    /// A network with explicit parameters; `theta` must have the documented length.
    pub fn new(
        d: usize,
        m: usize,
        act: Activation,
        bias: bool,
        output: OutputLayer,
        theta: DVector<f64>,
    ) -> crate::error::Result<Self> {
        let net = Self {
            d,
            m,
            act,
            bias,
            output,
            theta: DVector::zeros(0),
        };
        let p = net.expected_params();
        if let OutputLayer::Fixed(v) = &net.output {
            if v.len() != m {
                return Err(crate::error::Error::shape(format!(
                    "output layer has {} weights, width is {m}",
                    v.len()
                )));
            }
        }
        if theta.len() != p {
            return Err(crate::error::Error::shape(format!(
                "two-layer net (d = {d}, m = {m}, bias = {bias}) has {p} parameters, got {}",
                theta.len()
            )));
        }
        Ok(Self { theta, ..net })
    }

    /// Gaussian initialisation: W and b i.i.d. N(0, sd²); v = ±1/√m (fixed or as the initial
    /// value of the trained output layer).
    pub fn init(
        rng: &mut Rng,
        d: usize,
        m: usize,
        act: Activation,
        bias: bool,
        trained_output: bool,
        sd: f64,
    ) -> Self {
        let v = alternating_signs(m);
        let output = if trained_output {
            OutputLayer::Trained
        } else {
            OutputLayer::Fixed(v.clone())
        };
        let mut net = Self {
            d,
            m,
            act,
            bias,
            output,
            theta: DVector::zeros(0),
        };
        let mut theta = DVector::zeros(net.expected_params());
        for t in theta.iter_mut().take(d * m + if bias { m } else { 0 }) {
            *t = sd * rng::normal(rng);
        }
        if trained_output {
            let off = theta.len() - m;
            theta.rows_mut(off, m).copy_from(&v);
        }
        net.theta = theta;
        net
    }

    fn expected_params(&self) -> usize {
        self.d * self.m
            + if self.bias { self.m } else { 0 }
            + if self.output == OutputLayer::Trained {
                self.m
            } else {
                0
            }
    }

    /// Width m.
    pub fn width(&self) -> usize {
        self.m
    }
    /// The activation.
    pub fn activation(&self) -> Activation {
        self.act
    }
    /// Whether the hidden units have biases.
    pub fn has_bias(&self) -> bool {
        self.bias
    }
    /// Whether the output weights are trained parameters.
    pub fn trained_output(&self) -> bool {
        self.output == OutputLayer::Trained
    }
    /// Wᵀ as a d × m column-major view (the same memory as W in row-major order).
    pub fn wt(&self) -> MatRef<'_> {
        MatRef::new(&self.theta.as_slice()[..self.d * self.m], self.d, self.m)
    }
    /// W as an owned m × d matrix.
    pub fn w(&self) -> DMatrix<f64> {
        DMatrix::from_row_slice(self.m, self.d, &self.theta.as_slice()[..self.d * self.m])
    }
    /// The biases, if any.
    pub fn b(&self) -> Option<&[f64]> {
        self.bias
            .then(|| &self.theta.as_slice()[self.d * self.m..self.d * self.m + self.m])
    }
    /// The output weights.
    pub fn v(&self) -> &[f64] {
        match &self.output {
            OutputLayer::Fixed(v) => v.as_slice(),
            OutputLayer::Trained => &self.theta.as_slice()[self.theta.len() - self.m..],
        }
    }
    fn v_offset(&self) -> usize {
        self.d * self.m + if self.bias { self.m } else { 0 }
    }

    /// Pre-activations P = X Wᵀ + 1bᵀ, n × m.
    pub fn preact(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let mut p = mul(x, Op::N, self.wt(), Op::N);
        if let Some(b) = self.b() {
            for (j, mut col) in p.column_iter_mut().enumerate() {
                col.add_scalar_mut(b[j]);
            }
        }
        p
    }

    /// A_v = σ'(P)·diag(v), n × m.
    fn gated_v(&self, p: &DMatrix<f64>) -> DMatrix<f64> {
        let v = self.v();
        let mut a = p.map(|z| self.act.deriv(z));
        for (j, mut col) in a.column_iter_mut().enumerate() {
            col *= v[j];
        }
        a
    }

    fn vjp_from_preact(
        &self,
        x: &DMatrix<f64>,
        p: &DMatrix<f64>,
        c: &DVector<f64>,
    ) -> DVector<f64> {
        let s = self.trained_output().then(|| p.map(|z| self.act.value(z)));
        self.vjp_gated(x, &self.gated_v(p), s.as_ref(), c)
    }

    /// Jᵀc from the gates A_v and (with a trained output layer) the activations S = σ(P).
    fn vjp_gated(
        &self,
        x: &DMatrix<f64>,
        av: &DMatrix<f64>,
        s: Option<&DMatrix<f64>>,
        c: &DVector<f64>,
    ) -> DVector<f64> {
        let (d, m) = (self.d, self.m);
        let mut dmat = av.clone();
        for (i, mut row) in dmat.row_iter_mut().enumerate() {
            row *= c[i];
        }
        let mut g = DVector::zeros(self.theta.len());
        gemm_slice(
            &mut g.as_mut_slice()[..d * m],
            d,
            m,
            1.0,
            x.into(),
            Op::T,
            (&dmat).into(),
            Op::N,
            0.0,
        );
        if self.bias {
            for j in 0..m {
                g[d * m + j] = dmat.column(j).sum();
            }
        }
        if let Some(s) = s {
            let gv = s.tr_mul(c);
            let off = self.v_offset();
            g.rows_mut(off, m).copy_from(&gv);
        }
        g
    }

    /// Ju from the gates A_v and (with a trained output layer) the activations S = σ(P).
    fn jvp_gated(
        &self,
        x: &DMatrix<f64>,
        av: &DMatrix<f64>,
        s: Option<&DMatrix<f64>>,
        u: &DVector<f64>,
    ) -> DVector<f64> {
        let (d, m) = (self.d, self.m);
        let mut z = mul(x, Op::N, MatRef::new(&u.as_slice()[..d * m], d, m), Op::N);
        if self.bias {
            for j in 0..m {
                z.column_mut(j).add_scalar_mut(u[d * m + j]);
            }
        }
        let mut out = DVector::from_fn(x.nrows(), |i, _| av.row(i).dot(&z.row(i)));
        if let Some(s) = s {
            out += s * u.rows(self.v_offset(), m);
        }
        out
    }
}

/// The two-layer Jacobian at fixed θ with the gates (and activations) cached: each product is
/// one matrix product with X instead of two.
struct TwoLayerLinearized<'a> {
    net: &'a TwoLayer,
    x: &'a DMatrix<f64>,
    av: DMatrix<f64>,
    s: Option<DMatrix<f64>>,
}

impl Linearized for TwoLayerLinearized<'_> {
    fn jvp(&self, u: &DVector<f64>) -> DVector<f64> {
        self.net.jvp_gated(self.x, &self.av, self.s.as_ref(), u)
    }
    fn vjp(&self, c: &DVector<f64>) -> DVector<f64> {
        self.net.vjp_gated(self.x, &self.av, self.s.as_ref(), c)
    }
}

impl Model for TwoLayer {
    fn name(&self) -> String {
        format!(
            "two-layer(m = {}, {}, {}{})",
            self.m,
            self.act.tag(),
            if self.trained_output() {
                "trained output"
            } else {
                "fixed output"
            },
            if self.bias { ", bias" } else { "" }
        )
    }
    fn input_dim(&self) -> usize {
        self.d
    }
    fn params(&self) -> &DVector<f64> {
        &self.theta
    }
    fn params_mut(&mut self) -> &mut DVector<f64> {
        &mut self.theta
    }
    fn homogeneity(&self) -> Option<u32> {
        Some(if self.trained_output() { 2 } else { 1 })
    }
    fn forward(&self, x: &DMatrix<f64>) -> DVector<f64> {
        let p = self.preact(x);
        let v = DVector::from_column_slice(self.v());
        p.map(|z| self.act.value(z)) * v
    }
    fn jvp(&self, x: &DMatrix<f64>, u: &DVector<f64>) -> DVector<f64> {
        self.linearize(x).jvp(u)
    }
    fn linearize<'a>(&'a self, x: &'a DMatrix<f64>) -> Box<dyn Linearized + 'a> {
        let p = self.preact(x);
        Box::new(TwoLayerLinearized {
            net: self,
            x,
            av: self.gated_v(&p),
            s: self.trained_output().then(|| p.map(|z| self.act.value(z))),
        })
    }
    fn vjp(&self, x: &DMatrix<f64>, c: &DVector<f64>) -> DVector<f64> {
        self.vjp_from_preact(x, &self.preact(x), c)
    }
    fn forward_vjp(
        &self,
        x: &DMatrix<f64>,
        coef: &mut dyn FnMut(&DVector<f64>) -> DVector<f64>,
    ) -> (DVector<f64>, DVector<f64>) {
        let p = self.preact(x);
        let v = DVector::from_column_slice(self.v());
        let out = p.map(|z| self.act.value(z)) * v;
        let c = coef(&out);
        let g = self.vjp_from_preact(x, &p, &c);
        (out, g)
    }
    fn descend(
        &mut self,
        x: &DMatrix<f64>,
        coef: &mut dyn FnMut(&DVector<f64>) -> Option<DVector<f64>>,
        lr: f64,
        decay: f64,
    ) -> DVector<f64> {
        let (d, m) = (self.d, self.m);
        let p = self.preact(x);
        let v = DVector::from_column_slice(self.v());
        let out = p.map(|z| self.act.value(z)) * &v;
        let Some(c) = coef(&out) else { return out };
        let mut dmat = self.gated_v(&p);
        for (i, mut row) in dmat.row_iter_mut().enumerate() {
            row *= c[i];
        }
        // Small parts first (they read the old θ), then W ← (1 − κ)W − η·(diag(c)A_v)ᵀX in place.
        let gb: Option<Vec<f64>> = self
            .bias
            .then(|| (0..m).map(|j| dmat.column(j).sum()).collect());
        let gv = self
            .trained_output()
            .then(|| p.map(|z| self.act.value(z)).tr_mul(&c));
        let off_v = self.v_offset();
        let theta = self.theta.as_mut_slice();
        gemm_slice(
            &mut theta[..d * m],
            d,
            m,
            -lr,
            x.into(),
            Op::T,
            (&dmat).into(),
            Op::N,
            1.0 - decay,
        );
        if let Some(gb) = gb {
            for j in 0..m {
                theta[d * m + j] = (1.0 - decay) * theta[d * m + j] - lr * gb[j];
            }
        }
        if let Some(gv) = gv {
            for j in 0..m {
                theta[off_v + j] = (1.0 - decay) * theta[off_v + j] - lr * gv[j];
            }
        }
        out
    }
    fn jacobian(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let (n, d, m) = (x.nrows(), self.d, self.m);
        let p = self.preact(x);
        let av = self.gated_v(&p);
        let mut jac = DMatrix::zeros(n, self.theta.len());
        for j in 0..m {
            for k in 0..d {
                let mut col = jac.column_mut(j * d + k);
                for i in 0..n {
                    col[i] = av[(i, j)] * x[(i, k)];
                }
            }
        }
        if self.bias {
            for j in 0..m {
                jac.column_mut(d * m + j).copy_from(&av.column(j));
            }
        }
        if self.trained_output() {
            let off = self.v_offset();
            for j in 0..m {
                let s = p.column(j).map(|z| self.act.value(z));
                jac.column_mut(off + j).copy_from(&s);
            }
        }
        jac
    }
    fn kkt_parts(&self, x: &DMatrix<f64>) -> (DVector<f64>, DMatrix<f64>, DVector<f64>) {
        // One pre-activation product serves all three: with u = θ, the W and b parts of Jθ are
        // Σ_j v_j σ'(p_ij)(⟨w_j, x_i⟩ + b_j) = Σ_j (A_v)_ij p_ij, and the v part is (S v)_i.
        let p = self.preact(x);
        let av = self.gated_v(&p);
        let s = p.map(|z| self.act.value(z));
        let v = DVector::from_column_slice(self.v());
        let out = &s * &v;
        let mut jtheta = DVector::from_fn(x.nrows(), |i, _| av.row(i).dot(&p.row(i)));
        if self.trained_output() {
            jtheta += &out;
        }
        (out, self.gram_from(x, &p, &av), jtheta)
    }
    fn gram(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let p = self.preact(x);
        let av = self.gated_v(&p);
        self.gram_from(x, &p, &av)
    }
    fn input_grad(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let av = self.gated_v(&self.preact(x));
        mul(&av, Op::N, self.wt(), Op::T)
    }
    fn boxed_clone(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl TwoLayer {
    /// J Jᵀ from the pre-activations and A_v (see the module documentation).
    fn gram_from(&self, x: &DMatrix<f64>, p: &DMatrix<f64>, av: &DMatrix<f64>) -> DMatrix<f64> {
        let ga = gram_rows(av);
        let gx = gram_rows(x);
        let mut k = gx.component_mul(&ga);
        if self.bias {
            k += &ga;
        }
        if self.trained_output() {
            k += gram_rows(&p.map(|z| self.act.value(z)));
        }
        k
    }
}
