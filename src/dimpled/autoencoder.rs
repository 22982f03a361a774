//! A learned data manifold: an autoencoder and the tangent spaces of its decoder
//! (dimpled.md §2 step 2, the paper's protocol as reported \[unverified\]).
//!
//! The network is an MLP [d, h, k, h, d] with leaky-ReLU hidden layers (slope
//! [`LEAKY_SLOPE`], so that no code unit is dead on a whole region), the code layer included:
//!
//!   E(x) = σ(W₂ σ(W₁x + b₁) + b₂) ∈ R^k,   D(z) = W₄ σ(W₃z + b₃) + b₄,
//!
//! trained by full-batch Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e−8) on the mean squared
//! reconstruction error L = (1/2n) Σ_i ‖D(E(x_i)) − x_i‖² (the one loop of multi-output
//! training, [`crate::train::classifier::descend_outputs`]).
//! The manifold estimate is the decoder's image; its tangent space at x is the column space of
//! the decoder Jacobian at the code z = E(x),
//!
//!   J(z) = ∂D/∂z = W₄ diag(σ'(W₃z + b₃)) W₃ ∈ R^{d×k},
//!
//! orthonormalised (QR) into the basis Q(x) the perpendicularity measurements use.

use crate::error::{Error, Result};
use crate::geometry::Projector;
use crate::linalg::{mul, MatRef, Op};
use crate::model::{Activation, Classifier, Mlp};
use crate::rng::Rng;
use crate::train::classifier::{descend_outputs, ClassifierGd};
use crate::train::optim::Method;
use nalgebra::{DMatrix, DVector};

/// Negative-side slope of the hidden activations.
pub const LEAKY_SLOPE: f64 = 0.1;

/// Architecture and training of an [`Autoencoder`].
#[derive(Clone, Debug, PartialEq)]
pub struct AutoencoderConfig {
    /// Width h of the encoder's and the decoder's hidden layer.
    pub hidden: usize,
    /// Code dimension k (the manifold's dimension).
    pub code: usize,
    /// Adam's step size and the number of full-batch steps.
    pub gd: ClassifierGd,
}

/// L = (1/2n) Σ_i ‖out_i − x_i‖² over the n rows, and ∂L/∂out = (out − x)/n.
pub fn reconstruction_loss(out: &DMatrix<f64>, x: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    let n = x.nrows() as f64;
    let r = out - x;
    (0.5 * r.norm_squared() / n, r / n)
}

/// A trained autoencoder (see the module documentation).
#[derive(Clone, Debug)]
pub struct Autoencoder {
    net: Mlp,
}

impl Autoencoder {
    /// Trains an autoencoder on the rows of `x` from an initialisation drawn from `init`.
    pub fn train(init: &mut Rng, x: &DMatrix<f64>, cfg: &AutoencoderConfig) -> Result<Self> {
        let d = x.ncols();
        if cfg.code == 0 || cfg.code >= d || cfg.hidden == 0 || x.nrows() == 0 {
            return Err(Error::input(format!(
                "an autoencoder needs 1 ≤ code < d = {d}, hidden ≥ 1 and data; got code {}, \
                 hidden {}, {} rows",
                cfg.code,
                cfg.hidden,
                x.nrows()
            )));
        }
        crate::error::ensure_finite("autoencoder training data", x.as_slice())?;
        let sizes = vec![d, cfg.hidden, cfg.code, cfg.hidden, d];
        let mut net = Mlp::init(init, sizes, Activation::Leaky(LEAKY_SLOPE), 1.0)?;
        descend_outputs(
            &mut net,
            x,
            &mut |out| reconstruction_loss(out, x),
            &cfg.gd,
            Method::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            &mut |_, _| {},
        )?;
        Ok(Self { net })
    }

    /// An autoencoder with explicit parameters (layout of [`Mlp`], sizes [d, h, k, h, d]).
    pub fn from_mlp(net: Mlp) -> Result<Self> {
        let s = net.sizes();
        if s.len() != 5 || s[0] != s[4] || s[1] != s[3] || s[2] >= s[0] {
            return Err(Error::shape(format!(
                "an autoencoder has sizes [d, h, k, h, d] with k < d, got {s:?}"
            )));
        }
        Ok(Self { net })
    }

    /// Code dimension k.
    pub fn code_dim(&self) -> usize {
        self.net.sizes()[2]
    }

    /// D(E(x)) for every row.
    pub fn reconstruct(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        self.net.logits(x)
    }

    /// ‖X − D(E(X))‖_F / ‖X − X̄‖_F: the share of the data's spread (about its mean) that the
    /// reconstruction misses (1 for the mean itself, 0 for a perfect one).
    pub fn relative_error(&self, x: &DMatrix<f64>) -> f64 {
        let mean = x.row_mean();
        let spread = DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] - mean[j]).norm();
        (self.reconstruct(x) - x).norm() / spread
    }

    /// σ(z W_lᵀ + b_l) or, without the activation, z W_lᵀ + b_l, for layer l.
    fn layer(&self, l: usize, z: &DMatrix<f64>, activate: bool) -> DMatrix<f64> {
        let (w, b) = self
            .net
            .weights(l)
            .expect("five-layer sizes checked at construction");
        let mut out = mul(z, Op::N, MatRef::from(&w), Op::T);
        for (j, mut col) in out.column_iter_mut().enumerate() {
            col.add_scalar_mut(b[j]);
        }
        if activate {
            let act = self.net.activation();
            out.apply(|v| *v = act.value(*v));
        }
        out
    }

    /// The codes E(x), one row per row of `x` (n × k).
    pub fn encode(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        self.layer(1, &self.layer(0, x, true), true)
    }

    /// D(z) for every row of `z` (n × d).
    pub fn decode(&self, z: &DMatrix<f64>) -> DMatrix<f64> {
        self.layer(3, &self.layer(2, z, true), false)
    }

    /// The decoder Jacobians J(E(x_i)) (d × k), one per row of `x`.
    pub fn decoder_jacobians(&self, x: &DMatrix<f64>) -> Vec<DMatrix<f64>> {
        let z = self.encode(x);
        let pre = self.layer(2, &z, false);
        let (w3, _) = self.net.weights(2).expect("five-layer sizes");
        let (w4, _) = self.net.weights(3).expect("five-layer sizes");
        let act = self.net.activation();
        (0..x.nrows())
            .map(|i| {
                let slope = DVector::from_fn(pre.ncols(), |j, _| act.deriv(pre[(i, j)]));
                let mut scaled = w4.clone();
                for (j, mut col) in scaled.column_iter_mut().enumerate() {
                    col *= slope[j];
                }
                scaled * &w3
            })
            .collect()
    }

    /// The tangent spaces span J(E(x_i)) of the decoder's image at each row of `x`.
    pub fn tangents(&self, x: &DMatrix<f64>) -> Result<Vec<Projector>> {
        self.decoder_jacobians(x)
            .iter()
            .map(Projector::spanning)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    fn random_autoencoder(seed: u64, d: usize, h: usize, k: usize) -> Autoencoder {
        let net = Mlp::init(
            &mut rng::seeded(seed, 0),
            vec![d, h, k, h, d],
            Activation::Leaky(LEAKY_SLOPE),
            1.0,
        )
        .expect("sizes");
        // Nonzero biases, so that the kinks are not all at the origin.
        let mut theta = net.params().clone();
        let mut r = rng::seeded(seed, 1);
        for t in theta.iter_mut() {
            if *t == 0.0 {
                *t = 0.3 * rng::normal(&mut r);
            }
        }
        Autoencoder::from_mlp(
            Mlp::new(vec![d, h, k, h, d], Activation::Leaky(LEAKY_SLOPE), theta).expect("θ"),
        )
        .expect("shape")
    }

    /// The loss against a hand count and its gradient against central differences.
    #[test]
    fn reconstruction_loss_and_its_gradient() {
        let x = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.5, -1.0]);
        let out = DMatrix::from_row_slice(2, 2, &[2.0, 0.0, 0.5, 1.0]);
        // Residuals (1, 0) and (0, 2): L = (1 + 4)/(2·2).
        let (l, g) = reconstruction_loss(&out, &x);
        assert_eq!(l, 1.25);
        let step = 1e-6;
        for i in 0..2 {
            for j in 0..2 {
                let (mut up, mut down) = (out.clone(), out.clone());
                up[(i, j)] += step;
                down[(i, j)] -= step;
                let fd = (reconstruction_loss(&up, &x).0 - reconstruction_loss(&down, &x).0)
                    / (2.0 * step);
                assert!(
                    (fd - g[(i, j)]).abs() < 1e-8,
                    "({i}, {j}): {fd} vs {}",
                    g[(i, j)]
                );
            }
        }
    }

    #[test]
    fn encode_then_decode_is_the_network() {
        let ae = random_autoencoder(1, 7, 5, 3);
        let x = rng::gaussian_matrix(&mut rng::seeded(2, 0), 4, 7, 1.0);
        let diff = (ae.decode(&ae.encode(&x)) - ae.reconstruct(&x)).amax();
        assert!(diff < 1e-12, "{diff}");
        assert_eq!(ae.code_dim(), 3);
    }

    /// The hand-written Jacobian against central differences of D at the code (the step is far
    /// below the distance to the nearest kink at these random points; checked per entry).
    #[test]
    fn decoder_jacobian_matches_finite_differences() {
        let (d, h, k) = (9, 6, 3);
        let ae = random_autoencoder(3, d, h, k);
        let x = rng::gaussian_matrix(&mut rng::seeded(4, 0), 5, d, 1.0);
        let z = ae.encode(&x);
        let jac = ae.decoder_jacobians(&x);
        assert_eq!(jac.len(), 5);
        let step = 1e-6;
        for (i, j_i) in jac.iter().enumerate() {
            assert_eq!(j_i.shape(), (d, k));
            for c in 0..k {
                let mut up = z.rows(i, 1).clone_owned();
                let mut down = up.clone();
                up[(0, c)] += step;
                down[(0, c)] -= step;
                let fd = (ae.decode(&up) - ae.decode(&down)) / (2.0 * step);
                for r in 0..d {
                    let err = (fd[(0, r)] - j_i[(r, c)]).abs();
                    assert!(err < 1e-7, "point {i}, ({r}, {c}): {err}");
                }
            }
        }
    }

    /// Trained on points of a 2-plane in R⁶, the decoder's tangent spaces are that plane: ρ of
    /// a direction in the plane is near 1, of one orthogonal to it near 0; and the
    /// reconstruction error falls far below the mean's.
    #[test]
    fn a_trained_autoencoder_recovers_a_plane() {
        let mut r = rng::seeded(5, 0);
        let basis = rng::orthonormal_basis(&mut r, 6, 2);
        let coords = rng::gaussian_matrix(&mut r, 200, 2, 1.0);
        let x = &coords * basis.transpose();
        let cfg = AutoencoderConfig {
            hidden: 16,
            code: 2,
            gd: ClassifierGd {
                lr: 0.05,
                steps: 3000,
                weight_decay: 0.0,
            },
        };
        let ae = Autoencoder::train(&mut rng::seeded(6, 0), &x, &cfg).expect("trains");
        let err = ae.relative_error(&x);
        assert!(err < 0.1, "relative error {err}");
        let normal = {
            let v = rng::gaussian_vector(&mut r, 6, 1.0);
            &v - &basis * (basis.transpose() * &v)
        };
        let tangents = ae.tangents(&x.rows(0, 20).clone_owned()).expect("spans");
        assert_eq!(tangents.len(), 20);
        for (i, t) in tangents.iter().enumerate() {
            let along = t.fraction(&basis.column(0).clone_owned());
            let across = t.fraction(&normal);
            assert!(along > 0.9 && across < 0.3, "point {i}: {along} {across}");
        }
    }

    #[test]
    fn bad_shapes_are_refused() {
        let x = DMatrix::from_element(3, 4, 0.5);
        let cfg = |code| AutoencoderConfig {
            hidden: 3,
            code,
            gd: ClassifierGd {
                lr: 0.1,
                steps: 1,
                weight_decay: 0.0,
            },
        };
        assert!(Autoencoder::train(&mut rng::seeded(0, 0), &x, &cfg(4)).is_err());
        assert!(Autoencoder::train(&mut rng::seeded(0, 0), &x, &cfg(0)).is_err());
        // No rows: refused as bad input before training (not as a NaN loss during it).
        let empty = DMatrix::zeros(0, 4);
        let r = Autoencoder::train(&mut rng::seeded(0, 0), &empty, &cfg(2));
        assert!(matches!(r, Err(Error::Input(_))), "{r:?}");
        let flat =
            Mlp::init(&mut rng::seeded(0, 0), vec![4, 3, 4], Activation::Relu, 1.0).expect("sizes");
        assert!(Autoencoder::from_mlp(flat).is_err());
        // Five layers, each mismatch alone.
        for sizes in [
            vec![4, 3, 2, 3, 5],
            vec![4, 3, 2, 2, 4],
            vec![4, 3, 4, 3, 4],
        ] {
            let net = Mlp::init(&mut rng::seeded(0, 0), sizes.clone(), Activation::Relu, 1.0)
                .expect("sizes");
            assert!(Autoencoder::from_mlp(net).is_err(), "{sizes:?}");
        }
    }

    /// The relative error by hand: data rows (0, 0) and (2, 2) (mean (1, 1), spread 2), and an
    /// autoencoder whose output is the constant (1, 1) + (1, 0) — all weights zero, output bias
    /// (2, 1): residuals (2, 1) and (0, −1), error √6 / 2.
    #[test]
    fn relative_error_by_hand() {
        let sizes = vec![2, 1, 1, 1, 2];
        let p = 2 + 1 + 1 + 1 + 1 + 1 + 2 + 2;
        let mut theta = DVector::zeros(p);
        theta[p - 2] = 2.0;
        theta[p - 1] = 1.0;
        let ae = Autoencoder::from_mlp(
            Mlp::new(sizes, Activation::Leaky(LEAKY_SLOPE), theta).expect("θ"),
        )
        .expect("shape");
        let x = DMatrix::from_row_slice(2, 2, &[0.0, 0.0, 2.0, 2.0]);
        let err = ae.relative_error(&x);
        assert!((err - 6f64.sqrt() / 2.0).abs() < 1e-15, "{err}");
    }
}
