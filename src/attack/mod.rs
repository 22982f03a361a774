//! Adversarial perturbations shared by the subspace, dimpled and malt families.
//!
//! - [`mod@losses`]: the attack losses on a logit row (CE, margin, DLR, targeted DLR in AutoAttack's
//!   and adv_lib's forms) with their gradients (malt.md §4);
//! - [`mod@objective`]: a batched loss-and-input-gradient oracle over a classifier, with success
//!   tests and counted passes;
//! - [`mod@binary`]: a scalar model N(x) viewed as the two-logit classifier (0, N(x));
//! - [`mod@apgd`]: APGD for L∞ and L2 (Croce & Hein 2020) with both reference variants, optional box
//!   and a tangent-space constraint on the steps;
//! - [`mod@norm`]: the threat model's norm, its dual and the projection onto the ε-ball;
//! - [`mod@minimal`]: the smallest ε at which an attack succeeds, by bisection;
//! - [`mod@deepfool`]: minimal L2 perturbations by iterated linearisation (DeepFool);
//! - [`mod@line`]: exact first sign change of a two-layer ReLU net along a ray;
//! - [`mod@targets`]: MALT's targeting score and AutoAttack's logit ranking;
//! - [`mod@fab`], [`mod@square`]: FAB-T and the Square attack;
//! - [`mod@incumbent`]: the per-row bookkeeping of every iterative attack (the rows still
//!   attacked, the point kept per row under its keep rule);
//! - [`mod@campaign`]: the bookkeeping every pipeline shares (points still attacked, kept
//!   adversarial points, broken counts, stages, passes);
//! - [`mod@report`]: what a pipeline reports (per-stage successes and cost, sanity checks,
//!   warnings) and the validation of the attacked batch;
//! - [`mod@autoattack`]: the standard AutoAttack pipeline;
//! - [`mod@malt`]: the MALT pipeline.
//!
//! Every kernel works on a whole batch at once: one forward and one backward product per
//! iteration.

pub mod apgd;
pub mod autoattack;
pub mod binary;
pub mod campaign;
pub mod deepfool;
pub mod exact;
pub mod fab;
pub mod incumbent;
pub mod line;
pub mod losses;
pub mod malt;
pub mod minimal;
pub mod norm;
pub mod objective;
pub mod report;
pub mod square;
pub mod targets;

pub use apgd::{apgd, checkpoints, ApgdConfig, ApgdResult, Norm, Variant};
pub use autoattack::{autoattack, AutoAttackConfig, Stage};
pub use binary::BinaryClassifier;
pub use malt::{malt, MaltConfig, MaltReport};
pub use objective::{ClassObjective, Cost, Eval, Goal, Objective};
pub use report::PipelineReport;
