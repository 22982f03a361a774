//! The kkt family (kkt.md): homogeneous models, margin maximisation, KKT certificates and the
//! implicit bias of gradient descent.

mod certificate_fixture;
mod euler;
mod linear_gd_direction;
mod multipliers_solvers;
mod smoothed_margin;
mod svm_dual_primal;
mod twolayer_trajectory;

use crate::check::Check;

/// The kkt checks.
pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(euler::Euler),
        Box::new(svm_dual_primal::SvmDualPrimal),
        Box::new(multipliers_solvers::MultipliersSolvers),
        Box::new(certificate_fixture::CertificateFixture),
        Box::new(linear_gd_direction::LinearGdDirection),
        Box::new(smoothed_margin::SmoothedMargin),
        Box::new(twolayer_trajectory::TwolayerTrajectory),
    ]
}
