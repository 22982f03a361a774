//! # dimple
//!
//! Executable, reproducible checks of theorems about the high-dimensional geometry of trained
//! neural networks. Each claim of a paper is a [`check::Check`] tied to a theory file
//! (`theory/<id>.toml`): it draws an instance inside the theorem's assumptions from a seeded
//! ChaCha stream, trains / attacks / solves, measures, and compares the measurement with the
//! bound, returning [`check::Evidence`] with a verdict that can fail.
//!
//! Layers, bottom up: [`linalg`] and [`rng`]; [`data`] and [`model`]; [`loss`] and [`train`];
//! [`margin`] (QPs, LPs, KKT certificates); [`geometry`] (projections, PCA, tangent spaces) and
//! [`attack`] (APGD, DeepFool, line searches); [`stats`]; the [`theory`] registry; the
//! [`check`] framework and the [`checks`] themselves; [`report`] (tables, JSON, docs); [`api`]
//! (the operations on a user's model and data that the CLI and the Python module share).

#![warn(missing_docs)]
// Parameter checks are written `!(x > 0.0)` on purpose: unlike `x <= 0.0` they also reject NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod api;
pub mod attack;
pub mod budget;
pub mod check;
pub mod checks;
pub mod data;
pub mod dimpled;
pub mod error;
pub mod explain;
pub mod formula;
pub mod geometry;
pub mod limits;
pub mod linalg;
pub mod loss;
pub mod margin;
pub mod model;
pub mod report;
pub mod rng;
pub mod stats;
pub mod subspace;
pub mod theory;
pub mod tol;
pub mod train;
pub mod unlearn;

pub use error::{Error, Result};
