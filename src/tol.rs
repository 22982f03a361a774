//! Every numerical tolerance of the library, named once with what it guards.
//!
//! A tolerance here decides a discrete question about floating-point numbers (is this
//! multiplier zero, is this pivot zero, did this step decrease the objective) and is relative
//! to the scale named in its documentation unless it says otherwise. Constants that belong to
//! an algorithm's definition (the 1e−12 of APGD's L2 direction, the DLR denominators of the
//! reference codes, DeepFool's overshoot) are not tolerances: they are named in their modules
//! beside the reference they follow. A check's own gates are bounds, declared in its theory
//! file, never here.

// ---- Certificates: multipliers, supports, ranks (src/margin) -------------------------------

/// Margins within this of 1 count as active in the box QP: a margin of 1 + 1e−15 from
/// rounding must not force its multiplier to zero when δ₀ = 0. Absolute (margins are
/// normalised so that q_min = 1).
pub const ACTIVE_TOL: f64 = 1e-9;

/// A multiplier below this times the largest one counts as zero (the support of λ).
pub const SUPPORT_THRESHOLD: f64 = 1e-9;

/// The NNLS optimality conditions on the gradient Kλ − b hold to this, relative to the larger
/// of ‖b‖∞ and max diag K·‖λ‖∞ (the scales of the two terms); shared by every route that
/// certifies multipliers.
pub const GRADIENT_TOL: f64 = 1e-9;

/// A pivot below this times max diag K is zero in the numerical rank of K.
pub const RANK_TOL: f64 = 1e-10;

/// Two multiplier vectors have "the same residual" when K(λ − λ*) and ε agree to this,
/// relative to their scale (the δ-minimising λ may not give up any of ε's accuracy).
pub const RESIDUAL_TOL: f64 = 1e-9;

/// A point counts as on the margin when |q_i − 1| is at most this (margins normalised to
/// q_min = 1) when the LP's λ of smallest δ is polished on the margin.
pub const MARGIN_TOL: f64 = 1e-6;

/// δ below this times its scale is round-off: the LP that minimises δ is not worth running.
pub const DELTA_ROUNDOFF: f64 = 1e-12;

/// A column whose Schur complement on the passive set is below this (relative to its
/// diagonal) is dependent on the passive set (Lawson–Hanson on K, singular K).
pub const DEPENDENCE_TOL: f64 = 1e-10;

/// Lawson–Hanson on K: a dual entry w_j = (b − Kλ)_j above this, relative to the larger of
/// ‖b‖∞ and max diag K·‖λ‖∞ (the scales of w's two terms), lets j enter the passive set.
pub const DUAL_ENTRY_TOL: f64 = 1e-12;

/// Lawson–Hanson on K: a passive entry that a step toward the subproblem's solution leaves at or
/// below this, relative to ‖λ‖∞, has reached 0 and leaves the passive set.
pub const BLOCKED_ENTRY_TOL: f64 = 1e-12;

/// The box QP's crossover: a raw multiplier within this of its upper bound (or of 0), relative
/// to ‖λ_raw‖∞, is taken to sit there (Clarabel's interior iterates stop short of it). Tried
/// in order until a classification gives a certified answer: where the residual's minimum is
/// degenerate (δ₀ at the smallest δ of an exact fit, so ε* = 0 with several bounds active), the
/// interior point's λ is only accurate to about the square root of its gap (≈ 1e−5).
pub const AT_BOUND_TOLS: [f64; 3] = [1e-7, 1e-5, 1e-3];

/// A polished multiplier vector is accepted when its objective exceeds the raw one by at most
/// this, relative to ‖b‖∞·‖λ_raw‖∞ (polishing must not make the fit worse beyond rounding).
pub const NO_WORSE_TOL: f64 = 1e-12;

/// Clarabel's gap (absolute and relative) and feasibility tolerances for every QP (kkt.md §3).
pub const QP_TOL: f64 = 1e-10;

/// The matrix-free certificate's backtracking: a projected-gradient step of Lipschitz guess L
/// is accepted when f(z⁺) ≤ f(z) + ∇f·d + L‖d‖²/2 + this·|f(z)| (the slack absorbs rounding of
/// f near its minimum, where the test would otherwise double L without end).
pub const DESCENT_SLACK: f64 = 1e-12;

// ---- Geometry --------------------------------------------------------------------------------

/// A tangent basis is orthonormal when max |BᵀB − I| is at most this (absolute).
pub const ORTHONORMAL_TOL: f64 = 1e-8;

/// A sample at squared distance below this times 1 + ‖q‖² from a query is the query itself
/// (excluded from its neighbours in local PCA).
pub const SAME_POINT_TOL: f64 = 1e-20;

/// A direction is off the span of the Jacobian's rows when its residual after projection is
/// above this times its norm (the fixture of an exact KKT point perturbed off the span).
pub const OFF_SPAN_TOL: f64 = 1e-8;

/// The exact line search along a ray through a two-layer ReLU net: a slope Σ_i v_i s_i whose
/// magnitude is at most this times Σ_i |v_i s_i| has cancelled to rounding and is zero (else a
/// flat final piece gets a spurious root near 1e17). 64 units of round-off.
pub const SLOPE_ROUNDING: f64 = 64.0 * f64::EPSILON;

// ---- Attacks ---------------------------------------------------------------------------------

/// The sanity check after an attack: ‖x_adv − x‖ ≤ ε·(1 + this) (the projection rounds).
pub const RADIUS_ROUNDING: f64 = 1e-9;

// ---- Statistics and reports --------------------------------------------------------------------

/// The two-sided exact binomial test sums the outcomes whose probability is at most
/// p(k)·(1 + this): ties up to rounding count as "as extreme" (R's `binom.test` uses 1 + 1e−7).
pub const PMF_TIE_TOL: f64 = 1e-7;

/// A measured value below this in magnitude is written as 0 in a snapshot (absolute): round-off
/// of a quantity that is 0 in exact arithmetic must not change a committed snapshot.
pub const SNAPSHOT_ZERO: f64 = 1e-9;
