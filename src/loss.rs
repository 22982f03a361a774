//! Margin losses ℓ(q) for binary labels and the softmax cross-entropy, in stable forms.
//!
//! - logistic: ℓ(q) = log(1 + e^{−q}), ℓ'(q) = −1/(1 + e^{q});
//! - exponential: ℓ(q) = e^{−q}, ℓ'(q) = −e^{−q};
//! - cross-entropy: −z_y + log Σ_c e^{z_c} via the max-shifted log-sum-exp.
//!
//! The logistic loss is evaluated as max(−q, 0) + log1p(e^{−|q|}) so neither large positive nor
//! large negative margins overflow or lose the tail.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// A margin loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MarginLoss {
    /// log(1 + e^{−q}).
    Logistic,
    /// e^{−q}.
    Exponential,
}

impl MarginLoss {
    /// ℓ(q).
    pub fn value(self, q: f64) -> f64 {
        match self {
            Self::Logistic => (-q).max(0.0) + (-q.abs()).exp().ln_1p(),
            Self::Exponential => (-q).exp(),
        }
    }
    /// ℓ'(q) (negative).
    pub fn deriv(self, q: f64) -> f64 {
        match self {
            Self::Logistic => {
                if q >= 0.0 {
                    let e = (-q).exp();
                    -e / (1.0 + e)
                } else {
                    -1.0 / (1.0 + q.exp())
                }
            }
            Self::Exponential => -(-q).exp(),
        }
    }
    /// Σ_i ℓ(q_i).
    pub fn total(self, q: &DVector<f64>) -> f64 {
        q.iter().map(|&v| self.value(v)).sum()
    }
    /// The smoothed margin γ̃ of kkt.md §4 for the *summed* loss ℒ and ‖θ‖^L:
    /// exponential log(1/ℒ)/‖θ‖^L, logistic −log(e^ℒ − 1)/‖θ‖^L.
    pub fn smoothed_margin(self, total: f64, norm_pow_l: f64) -> f64 {
        match self {
            Self::Exponential => -total.ln() / norm_pow_l,
            Self::Logistic => -total.exp_m1().ln() / norm_pow_l,
        }
    }
    /// Parses `logistic` or `exponential`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "logistic" => Some(Self::Logistic),
            "exponential" => Some(Self::Exponential),
            _ => None,
        }
    }
}

/// log Σ_c e^{z_c} for one row, shifted by the maximum.
pub fn log_sum_exp(z: &[f64]) -> f64 {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Mean cross-entropy of logits (n × K) against labels, and its gradient w.r.t. the logits
/// (softmax − one-hot)/n.
pub fn cross_entropy(logits: &DMatrix<f64>, y: &[usize]) -> (f64, DMatrix<f64>) {
    let (n, k) = logits.shape();
    let mut g = DMatrix::zeros(n, k);
    let mut total = 0.0;
    for i in 0..n {
        let row: Vec<f64> = logits.row(i).iter().cloned().collect();
        let lse = log_sum_exp(&row);
        total += lse - row[y[i]];
        for c in 0..k {
            g[(i, c)] = (row[c] - lse).exp() / n as f64;
        }
        g[(i, y[i])] -= 1.0 / n as f64;
    }
    (total / n as f64, g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_is_stable_and_matches_naive_where_safe() {
        for q in [-30.0f64, -2.0, 0.0, 1.0, 5.0] {
            let naive = (1.0 + (-q).exp()).ln();
            assert!((MarginLoss::Logistic.value(q) - naive).abs() < 1e-12);
        }
        assert!(MarginLoss::Logistic.value(700.0) > 0.0);
        assert_eq!(MarginLoss::Logistic.value(800.0), 0.0); // e^{−800} is below the smallest subnormal
        assert!(MarginLoss::Logistic.value(-800.0).is_finite());
        assert!((MarginLoss::Logistic.deriv(1.0) + 1.0 / (1.0 + 1f64.exp())).abs() < 1e-15);
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for loss in [MarginLoss::Logistic, MarginLoss::Exponential] {
            for q in [-3.0, -0.5, 0.0, 0.7, 4.0] {
                let h = 1e-6;
                let fd = (loss.value(q + h) - loss.value(q - h)) / (2.0 * h);
                assert!((fd - loss.deriv(q)).abs() < 1e-8, "{loss:?} at {q}");
            }
        }
    }
}
