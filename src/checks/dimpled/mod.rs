//! The dimpled family (dimpled.md; arXiv:2106.10151): are minimal adversarial perturbations
//! nearly perpendicular to the data manifold, against the random-direction baseline, and how do
//! on- and off-manifold constrained attacks compare?

mod baseline_beta;
mod curved_tangent;
mod linear_cost_ratio;
mod linear_perpendicular;
mod mislabeled;
mod real_pca;

use crate::attack::BinaryClassifier;
use crate::check::Check;
use crate::error::Result;
use crate::geometry::Projector;
use crate::model::Model;
use crate::subspace::{train, Setting};
use crate::train::optim::Method;
use nalgebra::DMatrix;

/// The dimpled checks.
pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(baseline_beta::BaselineBeta),
        Box::new(linear_perpendicular::LinearPerpendicular),
        Box::new(linear_cost_ratio::LinearCostRatio),
        Box::new(curved_tangent::CurvedTangent),
        Box::new(real_pca::RealPca),
        Box::new(mislabeled::Mislabeled),
    ]
}

/// A two-layer net trained as in subspace.md §2 on a linear manifold at radius `rho_x`, with
/// `n_test` test points of the manifold labelled by the net's own prediction.
/// The parameters of `theory/dimpled.linear.perpendicular.toml` and
/// `theory/dimpled.linear.cost_ratio.toml`: the subspace setting and the attack.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinearParams {
    pub d: usize,
    pub k: usize,
    pub n: usize,
    pub m: usize,
    pub beta: f64,
    pub max_steps: usize,
    pub n_test: usize,
    pub n_iter: usize,
    pub bisection: usize,
    pub seed: u64,
}

pub(crate) struct LinearCase {
    pub model: BinaryClassifier,
    pub x: DMatrix<f64>,
    pub y: Vec<usize>,
    pub tangent: Projector,
}

pub(crate) fn linear_case(p: &LinearParams, rho_x: f64) -> Result<LinearCase> {
    let s = Setting {
        rho_x,
        beta: p.beta,
        max_steps: p.max_steps,
        ..Setting::new(p.d, p.k, p.n, p.m)
    };
    let seed = p.seed;
    let inst = train(seed, &s, Method::Gd)?;
    let x = inst.test_points(seed, p.n_test)?.x().clone();
    let out = inst.net.forward(&x);
    let y = out.iter().map(|v| usize::from(*v > 0.0)).collect();
    let tangent = Projector::new(inst.sub.basis.clone())?;
    let model = BinaryClassifier::new(&inst.net);
    Ok(LinearCase {
        model,
        x,
        y,
        tangent,
    })
}
