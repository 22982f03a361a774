//! The sum-pooled per-position two-layer model of the planted design (explain.md §5):
//! N(x) = (1/T) Σ_w Σ_i u_i σ(⟨w_i, e_w⟩ + b_i) for a document of T embeddings e_w ∈ R^D, one
//! shared two-layer net applied at every position. A document is a row of T·D entries (position
//! w occupies columns wD … (w + 1)D − 1). The per-position gradient G\[w\] = (1/T) Σ_{i∈A(e_w)} u_i w_i
//! depends on the token at w through its own activation set. Training and certificates use the
//! [`Model`] trait through the inner net on the stacked positions.
//!
//! The planted data: V tokens with embeddings in a k_e-dimensional subspace span(B) of R^D
//! (rows of Z·Bᵀ rescaled to norm √D), 5 positive and 5 negative signal tokens (ids 0–4 and
//! 5–9), documents of T neutral tokens with 1–3 positions replaced by signal tokens of the
//! document's polarity.

use crate::data::Binary;
use crate::error::{Error, Result};
use crate::model::{Model, TwoLayer};
use crate::rng::{self, Rng};
use nalgebra::{DMatrix, DVector};

/// A shared per-position net, mean-pooled over T positions.
#[derive(Clone, Debug)]
pub struct SumPooled {
    inner: TwoLayer,
    positions: usize,
}

impl SumPooled {
    /// Wraps a net of input dimension D for documents of T positions.
    pub fn new(inner: TwoLayer, positions: usize) -> Result<Self> {
        if positions == 0 {
            return Err(Error::input("a document needs at least one position"));
        }
        Ok(Self { inner, positions })
    }
    /// The per-position net.
    pub fn inner(&self) -> &TwoLayer {
        &self.inner
    }
    fn dim(&self) -> usize {
        self.inner.input_dim()
    }
    /// The n·T × D matrix of positions (document-major: row i·T + w is position w of document
    /// i). Column j of the result interleaves the T source columns w·D + j; it is written
    /// sequentially, reading T columns in step (this runs once per training step).
    fn stack(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let (n, t, d) = (x.nrows(), self.positions, self.dim());
        let src = x.as_slice();
        let mut out = DMatrix::zeros(n * t, d);
        for (j, col) in out.as_mut_slice().chunks_exact_mut(n * t).enumerate() {
            for w in 0..t {
                let source = &src[(w * d + j) * n..(w * d + j + 1) * n];
                for (i, &v) in source.iter().enumerate() {
                    col[i * t + w] = v;
                }
            }
        }
        out
    }
    /// Per-position gradients of one document: T × D.
    pub fn position_grads(&self, doc: &DMatrix<f64>) -> DMatrix<f64> {
        let g = self.input_grad(doc);
        let (t, d) = (self.positions, self.dim());
        DMatrix::from_fn(t, d, |w, j| g[(0, w * d + j)])
    }
}

impl Model for SumPooled {
    fn name(&self) -> String {
        format!(
            "sum-pooled {} over {} positions",
            self.inner.name(),
            self.positions
        )
    }
    fn input_dim(&self) -> usize {
        self.positions * self.dim()
    }
    fn params(&self) -> &DVector<f64> {
        self.inner.params()
    }
    fn params_mut(&mut self) -> &mut DVector<f64> {
        self.inner.params_mut()
    }
    fn homogeneity(&self) -> Option<u32> {
        self.inner.homogeneity()
    }
    fn forward(&self, x: &DMatrix<f64>) -> DVector<f64> {
        let o = self.inner.forward(&self.stack(x));
        let t = self.positions;
        DVector::from_fn(x.nrows(), |i, _| o.rows(i * t, t).sum() / t as f64)
    }
    fn jvp(&self, x: &DMatrix<f64>, u: &DVector<f64>) -> DVector<f64> {
        let o = self.inner.jvp(&self.stack(x), u);
        let t = self.positions;
        DVector::from_fn(x.nrows(), |i, _| o.rows(i * t, t).sum() / t as f64)
    }
    fn vjp(&self, x: &DMatrix<f64>, c: &DVector<f64>) -> DVector<f64> {
        let t = self.positions;
        let cs = DVector::from_fn(x.nrows() * t, |r, _| c[r / t] / t as f64);
        self.inner.vjp(&self.stack(x), &cs)
    }
    /// The fused step of the inner net on the stacked positions: one forward and one backward
    /// product per step.
    fn descend(
        &mut self,
        x: &DMatrix<f64>,
        coef: &mut dyn FnMut(&DVector<f64>) -> Option<DVector<f64>>,
        lr: f64,
        decay: f64,
    ) -> DVector<f64> {
        let (n, t) = (x.nrows(), self.positions);
        let stacked = self.stack(x);
        let mut doc_out = DVector::zeros(n);
        self.inner.descend(
            &stacked,
            &mut |pos_out| {
                doc_out = DVector::from_fn(n, |i, _| pos_out.rows(i * t, t).sum() / t as f64);
                coef(&doc_out).map(|c| DVector::from_fn(n * t, |r, _| c[r / t] / t as f64))
            },
            lr,
            decay,
        );
        doc_out
    }
    fn jacobian(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let j = self.inner.jacobian(&self.stack(x));
        let t = self.positions;
        DMatrix::from_fn(x.nrows(), j.ncols(), |i, p| {
            (0..t).map(|w| j[(i * t + w, p)]).sum::<f64>() / t as f64
        })
    }
    fn input_grad(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let g = self.inner.input_grad(&self.stack(x));
        let (n, t, d) = (x.nrows(), self.positions, self.dim());
        DMatrix::from_fn(n, t * d, |i, c| g[(i * t + c / d, c % d)] / t as f64)
    }
    fn boxed_clone(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The planted vocabulary.
#[derive(Clone, Debug)]
pub struct Planted {
    /// Token embeddings, V × D (rows of norm √D in span(B)).
    pub embeddings: DMatrix<f64>,
    /// B, D × k_e orthonormal.
    pub basis: DMatrix<f64>,
    /// Positions per document.
    pub positions: usize,
}

/// A planted document set: embedded documents with labels, token ids and signal positions.
#[derive(Clone, Debug)]
pub struct Documents {
    /// Embedded documents (n × T·D) and ±1 labels.
    pub data: Binary,
    /// Token ids per document.
    pub tokens: Vec<Vec<usize>>,
    /// Signal positions per document.
    pub signal: Vec<Vec<usize>>,
}

/// Number of signal tokens of each polarity.
pub const SIGNAL_PER_CLASS: usize = 5;

impl Planted {
    /// V tokens in R^D with a k_e-dimensional embedding subspace.
    pub fn new(
        rng: &mut Rng,
        vocab: usize,
        d: usize,
        k_e: usize,
        positions: usize,
    ) -> Result<Self> {
        if vocab <= 2 * SIGNAL_PER_CLASS || k_e == 0 || k_e > d || positions < 3 {
            return Err(Error::input(format!(
                "planted design needs V > 10, 1 ≤ k_e ≤ D, T ≥ 3; got V = {vocab}, k_e = {k_e}, D = {d}, T = {positions}"
            )));
        }
        let basis = rng::orthonormal_basis(rng, d, k_e);
        let z = rng::gaussian_matrix(rng, vocab, k_e, 1.0);
        let mut embeddings = z * basis.transpose();
        for mut r in embeddings.row_iter_mut() {
            let n = r.norm();
            r *= (d as f64).sqrt() / n;
        }
        Ok(Self {
            embeddings,
            basis,
            positions,
        })
    }
    /// n documents: neutral tokens, label ±1, 1–3 positions with signal tokens of its polarity.
    pub fn documents(&self, rng: &mut Rng, n: usize) -> Result<Documents> {
        let (v, d, t) = (
            self.embeddings.nrows(),
            self.embeddings.ncols(),
            self.positions,
        );
        let mut x = DMatrix::zeros(n, t * d);
        let mut y = DVector::zeros(n);
        let (mut tokens, mut signal) = (Vec::new(), Vec::new());
        for i in 0..n {
            let label = rng::sign(rng);
            let mut doc: Vec<usize> = (0..t)
                .map(|_| 2 * SIGNAL_PER_CLASS + rng::index(rng, v - 2 * SIGNAL_PER_CLASS))
                .collect();
            let count = 1 + rng::index(rng, 3);
            let pos = rng::distinct_indices(rng, t, count);
            let offset = if label > 0.0 { 0 } else { SIGNAL_PER_CLASS };
            for &p in &pos {
                doc[p] = offset + rng::index(rng, SIGNAL_PER_CLASS);
            }
            for (w, &tok) in doc.iter().enumerate() {
                for j in 0..d {
                    x[(i, w * d + j)] = self.embeddings[(tok, j)];
                }
            }
            y[i] = label;
            tokens.push(doc);
            signal.push(pos);
        }
        Ok(Documents {
            data: Binary::new(x, y)?,
            tokens,
            signal,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::finite_diff;
    use crate::model::Activation;

    #[test]
    fn gradients_match_finite_differences_and_the_fused_step_matches_vjp() {
        let mut r = rng::seeded(11, 0);
        let inner = TwoLayer::init(&mut r, 5, 8, Activation::Relu, true, false, 0.7);
        let mut net = SumPooled::new(inner, 4).unwrap();
        let x = rng::gaussian_matrix(&mut r, 3, 20, 1.0);
        let fd = finite_diff::input_grad(&net, &x, 1e-6);
        assert!(finite_diff::max_row_rel_err(&net.input_grad(&x), &fd) < 1e-6);
        let jfd = finite_diff::param_jacobian(&net, &x, 1e-6);
        assert!(finite_diff::max_row_rel_err(&net.jacobian(&x), &jfd) < 1e-6);
        let c = DVector::from_vec(vec![0.3, -1.2, 0.5]);
        let want = net.params() - net.vjp(&x, &c) * 0.1;
        net.descend(&x, &mut |_| Some(c.clone()), 0.1, 0.0);
        assert!((net.params() - want).norm() < 1e-12);
        assert!(SumPooled::new(net.inner().clone(), 0).is_err());
    }

    #[test]
    fn stacking_puts_position_w_of_document_i_in_row_i_t_plus_w() {
        let mut r = rng::seeded(12, 0);
        let (n, t, d) = (3, 4, 5);
        let inner = TwoLayer::init(&mut r, d, 2, Activation::Relu, true, false, 1.0);
        let net = SumPooled::new(inner, t).unwrap();
        let x = rng::gaussian_matrix(&mut r, n, t * d, 1.0);
        let s = net.stack(&x);
        assert_eq!(s.shape(), (n * t, d));
        for i in 0..n {
            for w in 0..t {
                for j in 0..d {
                    assert_eq!(s[(i * t + w, j)], x[(i, w * d + j)]);
                }
            }
        }
    }
}
