//! Geometry of data manifolds: projections onto a tangent space and its complement, global PCA,
//! local PCA tangent spaces and principal angles (subspace.md §3, dimpled.md §3).
//!
//! A tangent space at a point is represented by an orthonormal basis Q ∈ R^{d×k}; the on-manifold
//! part of a vector v is QQᵀv and the off-manifold part v − QQᵀv. For a linear manifold Q is the
//! same at every point ([`Tangents::Shared`]); for curved manifolds or local PCA it varies
//! ([`Tangents::PerPoint`]).

pub mod pca;
pub mod projection;
pub mod tangent;

pub use pca::Pca;
pub use projection::{on_fraction, Constraint, Projector, Tangents};
pub use tangent::{largest_principal_angle, local_pca, principal_angles};
