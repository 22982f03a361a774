//! The unlearn family (unlearn.md; arXiv:2510.14844): one gradient-ascent step with
//! β* = λ_r/|ℓ'(q_r)| unlearns a point, checked as (ε, δ, τ)-success on the retained data,
//! closeness to retraining, and test accuracy on a Gaussian mixture.

mod criterion_seeds;
mod forget_set;
mod gmm_linear;
mod gmm_twolayer;
mod linear_kkt;
mod linear_retrain;
mod linear_sweep;
mod twolayer_fixture;
mod twolayer_gd;
mod twolayer_retrain;
mod twolayer_sweep;

pub mod instances;

use crate::check::Check;

/// The unlearn checks.
pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(linear_kkt::LinearKkt),
        Box::new(linear_retrain::LinearRetrain),
        Box::new(linear_sweep::LinearSweep),
        Box::new(twolayer_fixture::TwolayerFixture),
        Box::new(twolayer_gd::TwolayerGd),
        Box::new(twolayer_sweep::TwolayerSweep),
        Box::new(twolayer_retrain::TwolayerRetrain),
        Box::new(forget_set::ForgetSet),
        Box::new(gmm_linear::GmmLinear),
        Box::new(gmm_twolayer::GmmTwolayer),
        Box::new(criterion_seeds::CriterionSeeds),
    ]
}
