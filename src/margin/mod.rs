//! Margins, multipliers and KKT certificates (kkt.md §2–§3).
//!
//! - [`qp`]: the Clarabel interface (status checked, never assumed);
//! - [`multipliers`]: λ* = argmin_{λ≥0} ‖θ − Σλ_i g_i‖ as the QP min ½λᵀKλ − bᵀλ, the active-set
//!   polish, the box QP ε*(δ₀), and a Lawson–Hanson cross-check;
//! - [`nnls_bpp`]: block principal pivoting, the fast exact route for positive-definite K;
//! - [`nnls_gram`]: Lawson–Hanson on (K, b) alone, with a simplex pivot for singular K;
//! - [`matrix_free`]: the certificate from Jacobian-vector products, bracketed by bounds on ε*;
//! - [`min_delta`]: the δ-minimising representative when λ* is not unique;
//! - [`svm`]: the bias-free hard-margin SVM, dual and primal;
//! - [`lp`]: L1- and L∞-geometry margins as LPs through good_lp;
//! - [`certificate`]: the (ε, δ, τ) certificate of any homogeneous model;
//! - [`fixture`]: the V1 class-aligned exact KKT point.

pub mod certificate;
pub mod fixture;
pub mod lp;
pub mod matrix_free;
pub mod min_delta;
pub mod multipliers;
pub mod nnls_bpp;
pub mod nnls_gram;
pub mod qp;
pub mod svm;
