//! The parameter update of every trainer, written once: the methods (full-batch GD, minibatch
//! SGD, Adam), multiplicative weight decay and the non-squared first-layer penalty λ‖θ₁‖₂ of the
//! reference `chess` code (the invariance checks of subspace.md §3).
//!
//! Updates, with g the gradient of the mean loss over the (mini)batch:
//! - GD/SGD: θ ← (1 − κ)θ − ηg;
//! - Adam: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← (1 − κ)θ − η m̂/(√v̂ + ε)
//!   (bias-corrected; the decay is decoupled from the gradient, as in AdamW, Loshchilov & Hutter
//!   2019);
//! - penalty: θ₁ ← θ₁·max(0, 1 − ηλ/‖θ₁‖) − ηg₁, θ₁ = the first `len` parameters: the
//!   proximal map of ηλ‖·‖₂ (block soft-thresholding) at the old θ₁, which shrinks θ₁ towards
//!   0 and never past it; where ‖θ₁‖ > ηλ it is the gradient step of λ‖θ₁‖₂.
//!
//! The multiplicative factors are taken from the old θ and applied first, then the method's
//! step. [`Update::apply`] returns their product on θ₁ — the factor by which a component of θ₁
//! that receives no gradient shrinks. The loops that compute g are [`super::train`] (margin
//! losses of a binary model) and [`super::classifier::descend_outputs`] (losses of a
//! multi-output model's outputs); both step through [`Update`].

use crate::error::{Error, Result};
use crate::rng::{self, Rng};
use nalgebra::DVector;

/// The update rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Full-batch gradient descent.
    Gd,
    /// Minibatch SGD over a seeded shuffle per epoch.
    Sgd {
        /// Batch size (at least 1; the last batch of an epoch may be smaller).
        batch: usize,
        /// Seed of the shuffles.
        seed: u64,
    },
    /// Full-batch Adam.
    Adam {
        /// β₁.
        beta1: f64,
        /// β₂.
        beta2: f64,
        /// ε.
        eps: f64,
    },
}

/// Adam's first and second moment estimates and its step count (Kingma & Ba 2015).
#[derive(Clone, Debug)]
pub struct AdamMoments {
    m1: DVector<f64>,
    m2: DVector<f64>,
    t: i32,
}

impl AdamMoments {
    /// Zero moments for `p` parameters.
    pub fn new(p: usize) -> Self {
        Self {
            m1: DVector::zeros(p),
            m2: DVector::zeros(p),
            t: 0,
        }
    }

    /// One Adam update: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², then
    /// θ ← θ − η m̂/(√v̂ + ε) with the bias-corrected m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ).
    pub fn step(
        &mut self,
        theta: &mut DVector<f64>,
        g: &DVector<f64>,
        lr: f64,
        (beta1, beta2, eps): (f64, f64, f64),
    ) {
        self.t += 1;
        self.m1 = &self.m1 * beta1 + g * (1.0 - beta1);
        self.m2 = &self.m2 * beta2 + g.map(|v| v * v) * (1.0 - beta2);
        let (c1, c2) = (1.0 - beta1.powi(self.t), 1.0 - beta2.powi(self.t));
        for i in 0..theta.len() {
            theta[i] -= lr * (self.m1[i] / c1) / ((self.m2[i] / c2).sqrt() + eps);
        }
    }
}

/// One optimiser: the step size, the method with its state, the decay and the penalty.
#[derive(Clone, Debug)]
pub struct Update {
    lr: f64,
    method: Method,
    decay: f64,
    penalty: Option<(f64, usize)>,
    moments: AdamMoments,
}

impl Update {
    /// The update of `p` parameters with step size η = `lr`, decay κ = `decay` per step and the
    /// penalty λ‖θ[..len]‖₂ for `penalty = Some((λ, len))`. Refuses η ≤ 0 or non-finite,
    /// κ ∉ [0, 1), λ < 0 or non-finite, len ∉ [1, p], an SGD batch of 0, and Adam's β ∉ [0, 1)
    /// or ε ≤ 0.
    pub fn new(
        lr: f64,
        method: Method,
        decay: f64,
        penalty: Option<(f64, usize)>,
        p: usize,
    ) -> Result<Self> {
        if !(lr > 0.0) || !lr.is_finite() || !(0.0..1.0).contains(&decay) {
            return Err(Error::input(format!(
                "need a finite step size η > 0 and a weight decay κ in [0, 1); got η = {lr}, \
                 κ = {decay}"
            )));
        }
        if let Some((lam, len)) = penalty {
            if !(lam >= 0.0) || !lam.is_finite() || len == 0 || len > p {
                return Err(Error::input(format!(
                    "norm penalty needs a finite λ ≥ 0 and 1 ≤ len ≤ {p}; got λ = {lam}, \
                     len = {len}"
                )));
            }
        }
        match method {
            Method::Sgd { batch: 0, .. } => {
                return Err(Error::input("SGD batch size must be at least 1, got 0"));
            }
            Method::Adam { beta1, beta2, eps }
                if !(0.0..1.0).contains(&beta1) || !(0.0..1.0).contains(&beta2) || !(eps > 0.0) =>
            {
                return Err(Error::input(format!(
                    "Adam needs β₁, β₂ in [0, 1) and ε > 0; got {beta1}, {beta2}, {eps}"
                )));
            }
            _ => {}
        }
        Ok(Self {
            lr,
            method,
            decay,
            penalty,
            moments: AdamMoments::new(p),
        })
    }

    /// One update of θ by the gradient `g` (`None`: the factors alone, for a model with
    /// nothing to differentiate). Returns the product of the multiplicative factors applied to
    /// θ₁ (to all of θ when there is no penalty).
    pub fn apply(&mut self, theta: &mut DVector<f64>, g: Option<&DVector<f64>>) -> f64 {
        // The penalty's factor is read from the old θ₁, before the decay.
        let penalty = self.penalty.map(|(lam, len)| {
            let norm = theta.rows(0, len).norm();
            let factor = if norm > 0.0 {
                (1.0 - self.lr * lam / norm).max(0.0)
            } else {
                1.0
            };
            (len, factor)
        });
        let mut shrink = 1.0;
        if self.decay > 0.0 {
            *theta *= 1.0 - self.decay;
            shrink *= 1.0 - self.decay;
        }
        if let Some((len, factor)) = penalty {
            theta.rows_mut(0, len).scale_mut(factor);
            shrink *= factor;
        }
        if let Some(g) = g {
            match self.method {
                Method::Adam { beta1, beta2, eps } => {
                    self.moments.step(theta, g, self.lr, (beta1, beta2, eps));
                }
                Method::Gd | Method::Sgd { .. } => theta.axpy(-self.lr, g, 1.0),
            }
        }
        shrink
    }
}

/// The minibatches of SGD: consecutive slices of a seeded shuffle of 0..n, reshuffled at the
/// start of every epoch (the last batch of an epoch holds what is left).
#[derive(Clone, Debug)]
pub struct Minibatches {
    order: Vec<usize>,
    pos: usize,
    batch: usize,
    rng: Rng,
}

impl Minibatches {
    /// Batches of `batch ≥ 1` indices of 0..n, shuffled by the stream of `seed`.
    pub fn new(n: usize, batch: usize, seed: u64) -> Self {
        Self {
            order: (0..n).collect(),
            pos: n,
            batch,
            rng: rng::seeded(seed, rng::stream::CHOICE),
        }
    }

    /// The next batch.
    pub fn next_batch(&mut self) -> &[usize] {
        let n = self.order.len();
        if self.pos >= n {
            rng::shuffle(&mut self.rng, &mut self.order);
            self.pos = 0;
        }
        let start = self.pos;
        self.pos = (start + self.batch).min(n);
        &self.order[start..self.pos]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minibatches_cover_every_index_once_per_epoch() {
        let mut b = Minibatches::new(7, 3, 4);
        for _ in 0..3 {
            let mut epoch: Vec<usize> = Vec::new();
            let sizes: Vec<usize> = (0..3)
                .map(|_| {
                    let batch = b.next_batch();
                    epoch.extend_from_slice(batch);
                    batch.len()
                })
                .collect();
            assert_eq!(sizes, vec![3, 3, 1]);
            epoch.sort_unstable();
            assert_eq!(epoch, (0..7).collect::<Vec<_>>());
        }
        // Seeded: the same seed gives the same batches, another seed other ones.
        let first = |seed| Minibatches::new(7, 7, seed).next_batch().to_vec();
        assert_eq!(first(4), first(4));
        assert_ne!(first(4), first(5));
    }

    /// Adam's first step is η·g/(|g| + ε) in every coordinate (m̂ = g, v̂ = g² after the bias
    /// correction); ε matters where |g| is small.
    #[test]
    fn the_first_adam_step_is_eta_g_over_abs_g_plus_eps() {
        let (beta1, beta2, eps) = (0.9, 0.999, 1e-8);
        let method = Method::Adam { beta1, beta2, eps };
        let mut u = Update::new(0.1, method, 0.0, None, 3).expect("valid");
        let theta0 = DVector::from_vec(vec![1.0, -1.0, 0.5]);
        let g = DVector::from_vec(vec![1e-6, -2e-6, 3.0]);
        let mut theta = theta0.clone();
        assert_eq!(u.apply(&mut theta, Some(&g)), 1.0);
        for i in 0..3 {
            let step = theta0[i] - theta[i];
            let want = 0.1 * g[i] / (g[i].abs() + eps);
            assert!(
                (step - want).abs() <= 1e-12 * want.abs(),
                "θ[{i}]: {step} vs {want}"
            );
        }
        // At |g| = 1e−6 the step is visibly below η: 0.1·1e−6/(1e−6 + 1e−8).
        assert!((theta0[0] - theta[0] - 0.1 / 1.01).abs() < 1e-12);
    }

    /// Two Adam steps against the update written out by hand: the moments carry the first
    /// gradient into the second step with the weights β₁, β₂ and the bias corrections 1 − β².
    #[test]
    fn two_adam_steps_follow_the_moment_recursion() {
        let (b1, b2, eps, lr) = (0.9, 0.999, 1e-8, 0.05);
        let method = Method::Adam {
            beta1: b1,
            beta2: b2,
            eps,
        };
        let mut u = Update::new(lr, method, 0.0, None, 2).expect("valid");
        let (g1, g2) = ([0.3, -2.0], [-0.1, -1.0]);
        let mut theta = DVector::from_vec(vec![1.0, 1.0]);
        u.apply(&mut theta, Some(&DVector::from_vec(g1.to_vec())));
        let after_one = theta.clone();
        u.apply(&mut theta, Some(&DVector::from_vec(g2.to_vec())));
        for i in 0..2 {
            let m = b1 * (1.0 - b1) * g1[i] + (1.0 - b1) * g2[i];
            let v = b2 * (1.0 - b2) * g1[i] * g1[i] + (1.0 - b2) * g2[i] * g2[i];
            let (mh, vh) = (m / (1.0 - b1 * b1), v / (1.0 - b2 * b2));
            let want = lr * mh / (vh.sqrt() + eps);
            let step = after_one[i] - theta[i];
            assert!(
                (step - want).abs() <= 1e-12 * want.abs(),
                "θ[{i}]: {step} vs {want}"
            );
        }
    }

    #[test]
    fn the_factors_come_from_the_old_parameters() {
        // θ₁ = (3, 4), ‖θ₁‖ = 5; η = 0.5, λ = 2: penalty factor 1 − 1/5 = 0.8; decay 0.5.
        let mut u = Update::new(0.5, Method::Gd, 0.5, Some((2.0, 2)), 3).expect("valid");
        let mut theta = DVector::from_vec(vec![3.0, 4.0, 10.0]);
        let g = DVector::from_vec(vec![1.0, -2.0, 4.0]);
        let shrink = u.apply(&mut theta, Some(&g));
        assert_eq!(shrink, 0.4);
        // θ₁: 0.5·0.8·(3, 4) − 0.5·(1, −2); θ₂: 0.5·10 − 0.5·4.
        let want = [0.7, 2.6, 3.0];
        assert!(
            (&theta - DVector::from_vec(want.to_vec())).amax() < 1e-15,
            "{theta}"
        );
        // No gradient: the factors alone.
        let mut theta = DVector::from_vec(vec![3.0, 4.0, 10.0]);
        let shrink = u.apply(&mut theta, None);
        assert_eq!(shrink, 0.4);
        let want = [1.2, 1.6, 5.0];
        assert!(
            (&theta - DVector::from_vec(want.to_vec())).amax() < 1e-15,
            "{theta}"
        );
        // A zero first block is left alone by the penalty (no direction to shrink along).
        let mut u = Update::new(0.5, Method::Gd, 0.0, Some((2.0, 2)), 3).expect("valid");
        let mut theta = DVector::from_vec(vec![0.0, 0.0, 1.0]);
        assert_eq!(u.apply(&mut theta, None), 1.0);
    }
}
