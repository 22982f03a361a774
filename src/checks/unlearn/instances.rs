//! Instances shared by the unlearn checks: the exact SVM of near-orthogonal data, and a
//! GD-trained V1 net brought to the KKT scale with its NNLS multipliers.

use crate::checks::common::{init_two_layer, sphere_data, two_layer_lr};
use crate::data::near_orthogonal::{self, Sampling};
use crate::data::spread::Spread;
use crate::data::Binary;
use crate::error::Result;
use crate::loss::MarginLoss;
use crate::margin::certificate::{certify, CertifyOptions};
use crate::margin::svm::{self, Svm};
use crate::model::{Model, TwoLayer};
use crate::rng::{self, stream};
use crate::train::{self, observer::NoObserver, TrainConfig};
use nalgebra::{DMatrix, DVector};

/// A linear instance: Gaussian data N(0, I_d/d), its exact SVM and the forgotten index.
pub struct LinearDraw {
    /// Training data S.
    pub data: Binary,
    /// ψ, φ, R²_min, R²_max of S.
    pub spread: Spread,
    /// The SVM of S (polished multipliers).
    pub svm: Svm,
    /// The forgotten index r.
    pub r: usize,
}

impl LinearDraw {
    /// Draws seed `seed`.
    pub fn new(seed: u64, n: usize, d: usize) -> Result<Self> {
        let (data, spread) = near_orthogonal::generate(
            &mut rng::seeded(seed, stream::DATA),
            n,
            d,
            Sampling::Gaussian,
        )?;
        let svm = svm::hard_margin(&data)?;
        let r = rng::index(&mut rng::seeded(seed, stream::CHOICE), n);
        Ok(Self {
            data,
            spread,
            svm,
            r,
        })
    }
    /// The multipliers λ.
    pub fn lambda(&self) -> &DVector<f64> {
        self.svm.lambda()
    }
    /// The signed Gram matrix G.
    pub fn gram(&self) -> &DMatrix<f64> {
        &self.svm.gram
    }
    /// Indices of S_r.
    pub fn keep(&self, forget: &[usize]) -> Vec<usize> {
        crate::unlearn::retained(self.data.n(), forget)
    }
}

/// w' = w − c·Σ_{r∈F} λ_r y_r x_r.
pub fn linear_step(d: &LinearDraw, forget: &[usize], c: f64) -> DVector<f64> {
    let mut w = d.svm.w.clone();
    for &r in forget {
        w -= d.data.row(r) * (c * d.lambda()[r] * d.data.y()[r]);
    }
    w
}

/// Multipliers restricted to the kept indices.
pub fn restrict(lambda: &DVector<f64>, keep: &[usize]) -> DVector<f64> {
    DVector::from_iterator(keep.len(), keep.iter().map(|&i| lambda[i]))
}

/// A GD-trained V1 instance at the KKT scale.
pub struct TrainedDraw {
    /// Training data S (on the sphere, random labels).
    pub data: Binary,
    /// The initialisation (for retraining).
    pub init: TwoLayer,
    /// The trained net rescaled to q_min = 1.
    pub net: TwoLayer,
    /// NNLS multipliers of `net` on S.
    pub lambda: DVector<f64>,
    /// ε(net, S).
    pub eps: f64,
    /// The learning rate used.
    pub lr: f64,
    /// The forgotten index r.
    pub r: usize,
}

/// Trains V1 (x on the sphere, init N(0, (1e−4/√d)²), mean logistic loss, η = 0.5·8n/λ_max)
/// for `steps` steps, rescales to the KKT scale and certifies.
pub fn trained_v1(seed: u64, n: usize, d: usize, m: usize, steps: usize) -> Result<TrainedDraw> {
    let data = sphere_data(seed, n, d)?;
    let init = init_two_layer(seed, d, m, 1e-4, false);
    let lr = two_layer_lr(&data);
    let mut net = init.clone();
    train::train(
        &mut net,
        &data,
        &TrainConfig::new(lr, steps, MarginLoss::Logistic),
        &mut NoObserver,
    )?;
    let cert = certify(&net, &data, &CertifyOptions::default())?;
    let theta = net.params() / cert.scale;
    net.set_params(&theta)?;
    let r = rng::index(&mut rng::seeded(seed, stream::CHOICE), n);
    Ok(TrainedDraw {
        data,
        init,
        net,
        lambda: cert.lambda,
        eps: cert.eps,
        lr,
        r,
    })
}

/// The GA step on a two-layer net, as a two-layer net.
pub fn two_layer_step(
    net: &TwoLayer,
    data: &Binary,
    lambda: &DVector<f64>,
    forget: &[usize],
    c: f64,
) -> Result<TwoLayer> {
    let stepped = crate::unlearn::ga_step(net, data, lambda, forget, c)?;
    let mut out = net.clone();
    out.set_params(stepped.params())?;
    Ok(out)
}
