//! Instance builders shared by several checks.

use crate::data::near_orthogonal::{self, Sampling};
use crate::data::Binary;
use crate::error::Result;
use crate::linalg::{gram_rows, lambda_max_sym};
use crate::loss::MarginLoss;
use crate::model::{Activation, TwoLayer};
use crate::rng::{self, stream};
use crate::train::{self, Observer, TrainConfig, TrainReport};

/// The step η = 0.5·8n/λ_max(XXᵀ) used for two-layer GD on the mean logistic loss (kkt.md §5).
pub fn two_layer_lr(data: &Binary) -> f64 {
    0.5 * 8.0 * data.n() as f64 / lambda_max_sym(&gram_rows(data.x()))
}

/// A two-layer GD run as in kkt.md §5 check 6: x uniform on the sphere, random labels,
/// W ~ N(0, (init/√d)²), v = ±1/√m (fixed, or trained from that value), mean logistic loss.
pub struct TwoLayerRun {
    /// Training data.
    pub data: Binary,
    /// The trained network.
    pub net: TwoLayer,
    /// The learning rate used.
    pub lr: f64,
    /// The training report.
    pub report: TrainReport,
}

/// The data of `seed`: n points uniform on S^{d−1} with random labels.
pub fn sphere_data(seed: u64, n: usize, d: usize) -> Result<Binary> {
    Ok(near_orthogonal::generate(&mut rng::seeded(seed, stream::DATA), n, d, Sampling::Sphere)?.0)
}

/// The initialisation of `seed`: W ~ N(0, (init/√d)²), v = ±1/√m, no bias.
pub fn init_two_layer(seed: u64, d: usize, m: usize, init: f64, trained_output: bool) -> TwoLayer {
    TwoLayer::init(
        &mut rng::seeded(seed, stream::INIT),
        d,
        m,
        Activation::Relu,
        false,
        trained_output,
        init / (d as f64).sqrt(),
    )
}

/// Draws the data and initialisation of `seed` and trains for `steps` steps.
#[allow(clippy::too_many_arguments)]
pub fn train_two_layer(
    seed: u64,
    n: usize,
    d: usize,
    m: usize,
    init: f64,
    trained_output: bool,
    lr_scale: f64,
    steps: usize,
    observer: &mut dyn Observer,
) -> Result<TwoLayerRun> {
    let data = sphere_data(seed, n, d)?;
    let mut net = init_two_layer(seed, d, m, init, trained_output);
    let lr = two_layer_lr(&data) * lr_scale;
    let report = train::train(
        &mut net,
        &data,
        &TrainConfig::new(lr, steps, MarginLoss::Logistic),
        observer,
    )?;
    Ok(TwoLayerRun {
        data,
        net,
        lr,
        report,
    })
}
