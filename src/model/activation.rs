//! Positively homogeneous activations: ReLU σ(z) = max(0, z) and leaky ReLU σ_a(z) = max(az, z).
//!
//! Both satisfy σ(z) = σ'(z)·z for every z with the convention σ'(0) := 0 (ReLU) or a (leaky),
//! which makes the Euler identity of kkt.md §1 exact.

use serde::{Deserialize, Serialize};

/// The hidden-layer activation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    /// max(0, z), σ'(0) = 0.
    Relu,
    /// max(az, z) with slope 0 ≤ a < 1 on the negative side, σ'(0) = a.
    Leaky(f64),
}

impl Activation {
    /// σ(z).
    #[inline]
    pub fn value(self, z: f64) -> f64 {
        match self {
            Self::Relu => z.max(0.0),
            Self::Leaky(a) => {
                if z > 0.0 {
                    z
                } else {
                    a * z
                }
            }
        }
    }
    /// σ'(z) with the kink convention above.
    #[inline]
    pub fn deriv(self, z: f64) -> f64 {
        match self {
            Self::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Leaky(a) => {
                if z > 0.0 {
                    1.0
                } else {
                    a
                }
            }
        }
    }
    /// The name used in files: `relu` or `leaky_relu:<a>`.
    pub fn tag(self) -> String {
        match self {
            Self::Relu => "relu".into(),
            Self::Leaky(a) => format!("leaky_relu:{a}"),
        }
    }
    /// Parses [`Activation::tag`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "relu" => Some(Self::Relu),
            _ => {
                let a: f64 = s.strip_prefix("leaky_relu:")?.parse().ok()?;
                (0.0..1.0).contains(&a).then_some(Self::Leaky(a))
            }
        }
    }
}
