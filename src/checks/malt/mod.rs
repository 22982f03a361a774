//! The malt family (malt.md; arXiv:2407.02240): MALT's targeting score, its optimality for linear
//! models, the two targeted-DLR forms, APGD's schedule and invariants, the certified radius of
//! two-layer nets, mesoscopic linearity, and MALT against APGD-CE + APGD-T.

mod apgd_invariants;
mod apgd_schedule;
mod dlr_variants;
mod linear_optimal;
mod pipeline_vs_apgdt;
mod score_unit;
mod twolayer_certified;
mod twolayer_mesoscopic;

use crate::check::Check;
use crate::data::clusters::Clusters;
use crate::data::MultiClass;
use crate::error::Result;
use crate::model::{Activation, Mlp};
use crate::rng::{self, stream};
use crate::train::classifier::{correct_indices, train_relu_mlp, ClassifierGd};
use nalgebra::DVector;

/// The malt checks.
pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(score_unit::ScoreUnit),
        Box::new(linear_optimal::LinearOptimal),
        Box::new(dlr_variants::DlrVariants),
        Box::new(apgd_schedule::ApgdSchedule),
        Box::new(apgd_invariants::ApgdInvariants),
        Box::new(twolayer_certified::TwolayerCertified),
        Box::new(twolayer_mesoscopic::TwolayerMesoscopic),
        Box::new(pipeline_vs_apgdt::PipelineVsApgdt),
    ]
}

/// A multi-class linear model z = Wx with W ~ N(0, 1) (an MLP without hidden layer, zero bias).
pub(crate) fn linear_model(seed: u64, d: usize, k: usize) -> Result<Mlp> {
    let mut r = rng::seeded(seed, stream::INIT);
    let mut theta = rng::gaussian_vector(&mut r, d * k + k, 1.0);
    theta.rows_mut(d * k, k).fill(0.0);
    Mlp::new(vec![d, k], Activation::Relu, theta)
}

/// The data and training parameters of [`cluster_net`] (shared by three theory files).
pub(crate) struct ClusterNet {
    pub d: usize,
    pub classes: usize,
    pub sigma: f64,
    pub n_train: usize,
    pub lr: f64,
    pub steps: usize,
}

/// The [`ClusterNet`] of a parameter struct with the fields d, classes, sigma, n_train, lr and
/// steps (the three theory files that train a cluster net share them).
macro_rules! cluster_of {
    ($p:expr) => {
        $crate::checks::malt::ClusterNet {
            d: $p.d,
            classes: $p.classes,
            sigma: $p.sigma,
            n_train: $p.n_train,
            lr: $p.lr,
            steps: $p.steps,
        }
    };
}
pub(crate) use cluster_of;

/// A two-layer ReLU net [d, m, K] trained by full-batch GD on the cross-entropy over K Gaussian
/// clusters clamped to [0, 1] (malt.md §8 check 6), and `points` fresh test points it classifies
/// correctly.
pub(crate) fn cluster_net(
    c: &ClusterNet,
    seed: u64,
    m: usize,
    points: usize,
) -> Result<(Mlp, MultiClass)> {
    let (d, k) = (c.d, c.classes);
    let mut rd = rng::seeded(seed, stream::DATA);
    let cl = Clusters::random(&mut rd, k, d, c.sigma, true)?;
    let train = cl.sample(&mut rd, c.n_train)?;
    let (net, _) = train_relu_mlp(
        &mut rng::seeded(seed, stream::INIT),
        vec![d, m, k],
        &train,
        &ClassifierGd {
            lr: c.lr,
            steps: c.steps,
            weight_decay: 0.0,
        },
    )?;
    let test = cl.sample(&mut rng::seeded(seed, stream::TEST), 4 * points)?;
    let ok: Vec<usize> = correct_indices(&net, &test)
        .into_iter()
        .take(points)
        .collect();
    Ok((net, test.subset(&ok)))
}

/// A logit row as a vector.
pub(crate) fn row(z: &nalgebra::DMatrix<f64>, i: usize) -> Vec<f64> {
    z.row(i).iter().copied().collect()
}

/// A matrix row as a column vector.
pub(crate) fn col(x: &nalgebra::DMatrix<f64>, i: usize) -> DVector<f64> {
    x.row(i).transpose()
}
