//! Shared pieces of the paper's two toy settings (subspace.md §4): a two-layer net with trained
//! output layer and biases, trained by full-batch SGD on the mean logistic (BCE) loss until the
//! logit margin is reached, and flip distances along a fixed off-data direction.

use crate::attack::line::first_root;
use crate::data::Binary;
use crate::error::Result;
use crate::model::{Activation, Model, OutputLayer, TwoLayer};
use crate::train::observer::NoObserver;
use crate::train::{train as descend, TrainConfig, TrainReport};
use nalgebra::{DMatrix, DVector};

/// An initial net, its trained copy and the run.
pub(super) struct ToyRun {
    pub init: TwoLayer,
    pub net: TwoLayer,
    pub fit: TrainReport,
}

/// A net with trained output and biases from explicit initial W (m × d), b, v.
pub(super) fn net(w: &DMatrix<f64>, b: &DVector<f64>, v: &DVector<f64>) -> Result<TwoLayer> {
    let (m, d) = w.shape();
    let mut theta = Vec::with_capacity(d * m + 2 * m);
    for i in 0..m {
        theta.extend(w.row(i).iter());
    }
    theta.extend(b.iter());
    theta.extend(v.iter());
    TwoLayer::new(
        d,
        m,
        Activation::Relu,
        true,
        OutputLayer::Trained,
        DVector::from_vec(theta),
    )
}

/// Trains a copy of `init` with per-parameter path lengths recorded.
pub(super) fn train(init: &TwoLayer, data: &Binary, cfg: TrainConfig) -> Result<ToyRun> {
    let mut net = init.clone();
    let p = init.width() * (init.input_dim() + 1);
    let cfg = TrainConfig {
        path_blocks: Some((1, p)),
        ..cfg
    };
    let fit = descend(&mut net, data, &cfg, &mut NoObserver)?;
    Ok(ToyRun {
        init: init.clone(),
        net,
        fit,
    })
}

/// Flip distances are reported capped at 10 (ten times the data's extent); a net that never
/// changes sign along the direction gets the cap.
pub(super) const FLIP_CAP: f64 = 10.0;

/// The exact distance to the first sign change of N from `x` along ±e (the nearer one).
pub(super) fn flip_along(net: &TwoLayer, x: &DVector<f64>, e: &DVector<f64>) -> f64 {
    let up = first_root(net, x, e).t.unwrap_or(f64::INFINITY);
    let down = first_root(net, x, &(-e)).t.unwrap_or(f64::INFINITY);
    up.min(down)
}

/// Fraction of training points with y·N(x) > 0.
pub(super) fn training_accuracy(net: &TwoLayer, data: &Binary) -> f64 {
    let q = net.forward(data.x()).component_mul(data.y());
    q.iter().filter(|&&v| v > 0.0).count() as f64 / data.n() as f64
}
