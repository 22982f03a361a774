//! The multipliers of smallest δ among all that minimise the stationarity residual.
//!
//! The residual ε(λ) = ‖θ − Σ λ_i g_i‖ over λ ≥ 0 has a unique minimising *vector* Σ λ_i g_i (a
//! projection onto a convex cone), but the minimising λ is unique only when the g_i are linearly
//! independent, i.e. when K = [⟨g_i, g_k⟩] has full rank n. Otherwise (more points than the
//! Jacobian's rank, e.g. a linear model with n > d) every λ ≥ 0 with K(λ − λ*) = 0 is as good, and
//! δ = max_i λ_i(q_i − 1) depends on which one a solver returns: an interior-point λ spreads mass
//! over every point and reports a large δ at an exact KKT point.
//!
//! This module reports the numerical rank of K (pivoted Cholesky, relative tolerance
//! [`RANK_TOL`]) and, when it is below n, solves the linear program
//!
//!   min t  subject to  λ ≥ 0,  |(K(λ − λ*))_i| ≤ tol_i,  λ_i(q_i − 1) ≤ t for all i,
//!
//! with tol_i = [`RESIDUAL_TOL`]·(|K||λ*|)_i, through good_lp (microlp). The LP's λ is only as
//! exact as its tolerance, so three refinements of it compete: polished by Cholesky on its
//! support among the points on the margin, polished on its whole support, and moved on its
//! support by the least-norm correction back onto Kλ = Kλ* (which keeps the LP's δ when the
//! optimum is balanced over more points than the rank, where polishing moves to a vertex of
//! larger δ). Before the LP it tries the cheaper exact candidate: NNLS
//! (Lawson–Hanson in Gram form) on the points on the margin, |q_i − 1| ≤ [`MARGIN_TOL`], whose
//! δ contribution is 0. A candidate is kept only if it satisfies the NNLS optimality conditions,
//! its residual is at most ε(λ*) + [`RESIDUAL_TOL`]·‖θ‖ — the stated tolerance of "the same
//! residual" — and its δ is smaller; of the acceptable ones the smallest δ is kept, and
//! otherwise λ* stands \[derived; kkt.md §3 defines ε and δ,
//! the choice of the δ-minimising representative is this suite's\].

use super::multipliers::{gradient_tol, max_diag, optimality, polish};
use super::nnls_gram::lawson_hanson_gram;
use crate::error::{Error, Result};
use good_lp::{constraint, microlp, variable, variables, Expression, Solution, SolverModel};
use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use crate::tol::DELTA_ROUNDOFF;
pub use crate::tol::{MARGIN_TOL, RANK_TOL, RESIDUAL_TOL};
/// Largest n for which the LP is solved (dense K rows as constraints).
pub const MAX_LP_POINTS: usize = 600;

/// Inverse iterations of the full-rank test.
pub const INVERSE_ITERATIONS: usize = 8;

/// Numerical rank of a symmetric positive semi-definite matrix: the number of pivots of a
/// diagonally pivoted Cholesky above [`RANK_TOL`]·max diag K.
///
/// The pivoted factorisation is unblocked (O(n²r) in vector operations), so full rank is first
/// tested the fast way: a blocked Cholesky of K and [`INVERSE_ITERATIONS`] steps of inverse
/// iteration, whose 1/‖K⁻¹x‖ is an upper bound on λ_min(K) that converges to it at the rate
/// λ_min/λ_next. Only a bound above 10·[`RANK_TOL`]·max diag K is taken as full rank; a singular K
/// (whose factorisation may succeed in floating point) gives a bound at rounding level after one
/// step, and anything else falls to the pivoted count \[derived\].
pub fn numerical_rank(k: &DMatrix<f64>) -> usize {
    if certainly_full_rank(k) {
        return k.nrows();
    }
    pivoted_rank(k)
}

/// The fast test of [`numerical_rank`]: `true` only when the bound on λ_min(K) is clear of the
/// rank tolerance. `false` decides nothing (the pivoted count follows). An empty K has max
/// diag 0 and is refused with the zero matrix.
fn certainly_full_rank(k: &DMatrix<f64>) -> bool {
    let max_diag = max_diag(k);
    max_diag > 0.0 && lambda_min_upper_bound(k) > 10.0 * RANK_TOL * max_diag
}

/// 1/‖K⁻¹x‖ after inverse iteration from a fixed start (∞-free: 0 when K does not factorise).
fn lambda_min_upper_bound(k: &DMatrix<f64>) -> f64 {
    let n = k.nrows();
    let Some(ch) = crate::linalg::Cholesky::new(k) else {
        return 0.0;
    };
    // A fixed start with no special structure (every entry nonzero, irrational ratios).
    let mut x = DVector::from_fn(n, |i, _| 1.0 + 0.5 * ((i as f64) * 0.618_033_988_7).fract());
    x /= x.norm();
    let mut bound = f64::INFINITY;
    for _ in 0..INVERSE_ITERATIONS {
        ch.solve_in_place(&mut x);
        let mu = x.norm();
        if !(mu.is_finite() && mu > 0.0) {
            return 0.0;
        }
        x /= mu;
        bound = bound.min(1.0 / mu);
    }
    bound
}

/// Numerical rank by diagonally pivoted Cholesky (see [`numerical_rank`]).
pub fn pivoted_rank(k: &DMatrix<f64>) -> usize {
    let n = k.nrows();
    if n == 0 {
        return 0;
    }
    let max_diag = max_diag(k);
    if !(max_diag > 0.0) {
        return 0;
    }
    let tol = RANK_TOL * max_diag;
    // The columns of the factor L (in pivot order) and the remaining diagonal of K − LLᵀ.
    let mut diag: Vec<f64> = (0..n).map(|i| k[(i, i)]).collect();
    let mut used = vec![false; n];
    let mut cols: Vec<DVector<f64>> = Vec::new();
    for _ in 0..n {
        let (p, &d) = match diag
            .iter()
            .enumerate()
            .filter(|(i, _)| !used[*i])
            .max_by(|a, b| a.1.total_cmp(b.1))
        {
            Some(x) => x,
            None => break,
        };
        if !(d > tol) {
            break;
        }
        used[p] = true;
        let s = d.sqrt();
        let mut col = DVector::from_fn(n, |i, _| k[(i, p)]);
        for c in &cols {
            col.axpy(-c[p], c, 1.0);
        }
        col /= s;
        for i in 0..n {
            if !used[i] {
                diag[i] -= col[i] * col[i];
            }
        }
        cols.push(col);
    }
    cols.len()
}

/// The δ-minimising representative of the residual minimisers (see the module documentation).
#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    /// Numerical rank of K (= of the Jacobian rows y_i ∇_θ N(x_i)).
    pub rank: usize,
    /// Whether the minimising λ is unique (K has full rank).
    pub unique: bool,
    /// Whether the δ-minimising λ replaced the solver's.
    pub reselected: bool,
    /// The multipliers.
    #[serde(skip)]
    pub lambda: DVector<f64>,
}

fn delta_of(lambda: &DVector<f64>, q: &DVector<f64>) -> f64 {
    super::certificate::slackness(lambda, q).0
}

/// Chooses, among the λ ≥ 0 with the residual of `lambda`, one of smallest δ. `eps_of`
/// evaluates the residual of a candidate; `theta_norm` scales the absolute tolerance.
/// The rank is always computed by the pivoted test: an unpivoted Cholesky of a singular K often
/// succeeds in floating point (its small pivot is λ_min/v_n², v the null vector), so "K was
/// factorised" is no evidence of full rank.
pub fn choose(
    k: &DMatrix<f64>,
    b: &DVector<f64>,
    q: &DVector<f64>,
    lambda: &DVector<f64>,
    eps_of: impl Fn(&DVector<f64>) -> f64,
    theta_norm: f64,
) -> Result<Choice> {
    let n = k.nrows();
    let rank = numerical_rank(k);
    let unique = rank == n;
    let keep = |reselected: bool, l: DVector<f64>| Choice {
        rank,
        unique,
        reselected,
        lambda: l,
    };
    let delta0 = delta_of(lambda, q);
    let scale = lambda.amax().max(f64::MIN_POSITIVE);
    if unique || !(delta0 > 0.0) {
        return Ok(keep(false, lambda.clone()));
    }
    let eps0 = eps_of(lambda);
    let acceptable = |c: &DVector<f64>| {
        let opt = optimality(k, b, c);
        opt.min_lambda >= 0.0
            && opt.min_gradient >= -gradient_tol(k, b, c)
            && eps_of(c) <= eps0 + RESIDUAL_TOL * theta_norm
            && delta_of(c, q) < delta0
    };
    // First try: NNLS on the points on the margin only (δ contribution 0). At an exact KKT
    // point this is a residual minimiser with δ ≈ 0, exact even when more points lie on the
    // margin than the rank.
    let margin: Vec<usize> = (0..n)
        .filter(|&i| (q[i] - 1.0).abs() <= MARGIN_TOL)
        .collect();
    if !margin.is_empty() {
        let c = lawson_hanson_gram(k, b, &margin);
        if acceptable(&c) {
            return Ok(keep(true, c));
        }
    }
    // The LP is worth its cost only when δ is above round-off, and affordable only for small n.
    if n > MAX_LP_POINTS || !(delta0 > DELTA_ROUNDOFF * scale) {
        return Ok(keep(false, lambda.clone()));
    }
    let target = k * lambda;
    let abs_k_lambda = k.abs() * lambda.abs();
    let mut vars = variables!();
    let t = vars.add(variable());
    let lam: Vec<_> = (0..n).map(|_| vars.add(variable().min(0.0))).collect();
    let mut problem = vars.minimise(t).using(microlp);
    for i in 0..n {
        let mut e = Expression::from(0.0);
        for j in 0..n {
            let c = k[(i, j)];
            if c != 0.0 {
                e += c * lam[j];
            }
        }
        let tol = RESIDUAL_TOL * abs_k_lambda[i] + f64::MIN_POSITIVE;
        problem = problem
            .with(constraint!(e.clone() <= target[i] + tol))
            .with(constraint!(e >= target[i] - tol));
        problem = problem.with(constraint!((q[i] - 1.0) * lam[i] <= t));
    }
    let sol = problem
        .solve()
        .map_err(|e| Error::solver(format!("minimum-δ multipliers (LP): {e}")))?;
    let raw = DVector::from_iterator(n, lam.iter().map(|v| sol.value(*v).max(0.0)));
    // Polish on the LP's support restricted to the points on the margin (where λ_i(q_i − 1) is
    // 0): the LP is only as exact as λ*, and a few LP-sized entries off the margin would
    // otherwise stay; the crossover of `polish` adds back any index the optimality conditions
    // need.
    let on_margin = DVector::from_fn(n, |i, _| {
        if (q[i] - 1.0).abs() <= MARGIN_TOL {
            raw[i]
        } else {
            0.0
        }
    });
    // Polishing moves λ to a vertex of its support, which can cost δ away from an exact KKT
    // point (there the LP's optimum is balanced over more points than the rank); the LP's own λ,
    // brought back onto K λ = K λ* on its support, keeps its δ. The acceptable one of smallest δ
    // is kept.
    let candidates = [
        polish(k, b, &on_margin),
        polish(k, b, &raw),
        onto_residual_set(k, lambda, &raw),
    ];
    let best = candidates
        .into_iter()
        .flatten()
        .filter(|c| acceptable(c))
        .min_by(|a, c| delta_of(a, q).total_cmp(&delta_of(c, q)));
    Ok(match best {
        Some(c) => keep(true, c),
        None => keep(false, lambda.clone()),
    })
}

/// `raw` moved, on its support S, by the least-norm correction Δ_S with K_{:,S} Δ_S =
/// −K(raw − λ*), so that K λ = K λ* holds to rounding (the LP holds it only to its tolerance);
/// `None` if the correction makes an entry negative.
fn onto_residual_set(
    k: &DMatrix<f64>,
    lambda_star: &DVector<f64>,
    raw: &DVector<f64>,
) -> Option<DVector<f64>> {
    let support: Vec<usize> = (0..raw.len()).filter(|&i| raw[i] > 0.0).collect();
    if support.is_empty() {
        return None;
    }
    let r = k * (raw - lambda_star);
    let ks = k.select_columns(&support);
    let tol = RANK_TOL * ks.amax();
    let delta = ks.svd(true, true).solve(&(-r), tol).ok()?;
    let mut out = raw.clone();
    for (j, &i) in support.iter().enumerate() {
        out[i] += delta[j];
    }
    (out.min() >= 0.0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_of_gram_matrices() {
        // 6 points in R^3: rank 3; 3 generic points in R^5: rank 3; a duplicated point adds
        // nothing; sin(7i + 3j) has rank 2 (the angle-sum identity).
        let mut r = crate::rng::seeded(1, 1);
        let g = crate::rng::gaussian_matrix(&mut r, 6, 3, 1.0);
        assert_eq!(numerical_rank(&(&g * g.transpose())), 3);
        let h = crate::rng::gaussian_matrix(&mut r, 3, 5, 1.0);
        assert_eq!(numerical_rank(&(&h * h.transpose())), 3);
        let mut d = h.clone().insert_row(3, 0.0);
        d.set_row(3, &h.row(0).clone_owned());
        assert_eq!(numerical_rank(&(&d * d.transpose())), 3);
        let t = DMatrix::from_fn(6, 3, |i, j| ((i * 7 + j * 3) as f64).sin());
        assert_eq!(numerical_rank(&(&t * t.transpose())), 2);
        assert_eq!(numerical_rank(&DMatrix::zeros(4, 4)), 0);
    }

    #[test]
    fn fast_full_rank_test_agrees_with_the_pivoted_count() {
        // n points in R^d for n on both sides of d, including n = d + 1, where an unpivoted
        // Cholesky of the singular Gram matrix often succeeds.
        let mut r = crate::rng::seeded(2, 1);
        let mut singular_factorised = 0;
        for (n, d) in [
            (5, 4),
            (8, 7),
            (30, 29),
            (40, 60),
            (120, 119),
            (150, 150),
            (150, 40),
        ] {
            for _ in 0..5 {
                let g = crate::rng::gaussian_matrix(&mut r, n, d, 1.0);
                let k = &g * g.transpose();
                assert_eq!(numerical_rank(&k), pivoted_rank(&k), "n = {n}, d = {d}");
                assert_eq!(numerical_rank(&k), n.min(d), "n = {n}, d = {d}");
                // The same matrices in other units (a power of 2: the same rounding, so the
                // singular ones still factorise) keep their rank.
                for c in [2f64.powi(-30), 2f64.powi(30)] {
                    assert_eq!(
                        numerical_rank(&(&k * c)),
                        n.min(d),
                        "n = {n}, d = {d}, ×{c}"
                    );
                }
                if n > d && crate::linalg::Cholesky::new(&k).is_some() {
                    singular_factorised += 1;
                }
            }
        }
        // The case the fast test exists for does occur.
        assert!(singular_factorised > 0);
    }

    /// The fast test is what makes full rank cheap: it accepts well-conditioned Gram matrices
    /// (a regression that sent them all to the pivoted count would only show as time) and never
    /// a singular one.
    #[test]
    fn the_fast_test_accepts_full_rank_and_refuses_singular_matrices() {
        let mut r = crate::rng::seeded(4, 1);
        for (n, d) in [(1, 1), (5, 40), (30, 60), (100, 400)] {
            let g = crate::rng::gaussian_matrix(&mut r, n, d, 1.0);
            for c in [2f64.powi(-30), 1.0, 2f64.powi(30)] {
                let k = &g * g.transpose() * c;
                assert!(certainly_full_rank(&k), "n = {n}, d = {d}, ×{c}");
            }
            let s = crate::rng::gaussian_matrix(&mut r, n + 1, n, 1.0);
            assert!(
                !certainly_full_rank(&(&s * s.transpose())),
                "n = {n} + 1 in R^{n}"
            );
        }
        assert!(!certainly_full_rank(&DMatrix::zeros(3, 3)));
        assert!(!certainly_full_rank(&DMatrix::zeros(0, 0)));
    }

    /// An instance only the LP can improve: θ = Σ μ_i g_i with μ spread over n = 8 generic
    /// points in R^3 (ε = 0, λ not unique) and one point on the margin, whose NNLS alone cannot
    /// reproduce θ. The reselected λ keeps the residual and lowers δ.
    /// Eight points in R³ (rank 3 < 8) and θ = Σ μ_i g_i with every μ_i > 0: an exact residual
    /// minimiser λ* = μ that spreads mass over points off the margin. Returns (G, θ, μ, b, K, q).
    #[allow(clippy::type_complexity)]
    fn spread_instance() -> (
        DMatrix<f64>,
        DVector<f64>,
        DVector<f64>,
        DVector<f64>,
        DMatrix<f64>,
        DVector<f64>,
    ) {
        let (n, d) = (8, 3);
        let mut r = crate::rng::seeded(5, 1);
        // Points in the half-space ⟨g, e₁⟩ > 0, so that θ (in their cone) has positive margins.
        let mut g = crate::rng::gaussian_matrix(&mut r, n, d, 1.0);
        for i in 0..n {
            g[(i, 0)] = g[(i, 0)].abs() + 0.5;
        }
        let mu = DVector::from_fn(n, |i, _| 0.5 + 0.1 * i as f64);
        let theta = g.transpose() * &mu;
        let b = &g * &theta;
        let k = &g * g.transpose();
        let q = &b / b.min();
        (g, theta, mu, b, k, q)
    }

    /// A candidate of smaller δ whose residual exceeds ε(λ*) by more than the tolerance is
    /// refused, even when it meets the NNLS optimality conditions: here `eps_of` charges every
    /// λ other than λ* a residual of ½‖θ‖ (for the gate, a stand-in for a worse fit).
    #[test]
    fn a_candidate_with_a_larger_residual_is_refused() {
        let (_, theta, mu, b, k, q) = spread_instance();
        let norm = theta.norm();
        let eps_of = |l: &DVector<f64>| if *l == mu { 0.0 } else { 0.5 * norm };
        let c = choose(&k, &b, &q, &mu, eps_of, norm).expect("LP solves");
        assert!(!c.reselected, "{c:?}");
        assert_eq!(c.lambda, mu);
        // With the true residual the same instance is reselected (the previous test).
    }

    /// Above the LP's size cap the margin-only NNLS still runs: at an exact KKT point with
    /// more points than the LP takes, it replaces a λ* that spreads mass off the margin.
    #[test]
    fn the_margin_candidate_works_beyond_the_lp_cap() {
        // θ = e₁ in R²; two points (1, ±1) on the margin (⟨g, θ⟩ = 1), the rest (2, t) at
        // margin 2. λ* = ¼ on (2, ±1): Gᵀλ* = θ exactly, δ0 = ¼·(2 − 1).
        let n = MAX_LP_POINTS + 1;
        let g = DMatrix::from_fn(n, 2, |i, j| match (i, j) {
            (0, 0) | (1, 0) => 1.0,
            (_, 0) => 2.0,
            (0, _) | (2, _) => 1.0,
            (1, _) | (3, _) => -1.0,
            (i, _) => 1.0 + i as f64 / n as f64,
        });
        let theta = DVector::from_vec(vec![1.0, 0.0]);
        let b = &g * &theta;
        let k = &g * g.transpose();
        let q = &b / b.min();
        let mut star = DVector::zeros(n);
        star[2] = 0.25;
        star[3] = 0.25;
        let eps_of = |l: &DVector<f64>| (&theta - g.transpose() * l).norm();
        assert!(eps_of(&star) < 1e-15);
        assert_eq!(delta_of(&star, &q), 0.25);
        let c = choose(&k, &b, &q, &star, eps_of, 1.0).expect("no LP");
        assert_eq!((c.rank, c.unique, c.reselected), (2, false, true));
        assert!(delta_of(&c.lambda, &q).abs() < 1e-12, "{:?}", c.lambda);
        assert!(eps_of(&c.lambda) < 1e-12);
    }

    #[test]
    fn the_lp_lowers_delta_where_the_margin_alone_cannot() {
        let (g, theta, mu, b, k, q) = spread_instance();
        let (n, d) = g.shape();
        assert_eq!(
            q.iter().filter(|&&v| (v - 1.0).abs() <= MARGIN_TOL).count(),
            1
        );
        let eps_of = |l: &DVector<f64>| (&theta - g.transpose() * l).norm();
        let delta0 = delta_of(&mu, &q);
        let c = choose(&k, &b, &q, &mu, eps_of, theta.norm()).expect("LP solves");
        assert_eq!((c.rank, c.unique), (d, false));
        assert!(c.reselected, "{c:?}");
        let delta = delta_of(&c.lambda, &q);
        assert!(delta < delta0, "δ {delta} against {delta0}");
        assert!(c.lambda.min() >= 0.0);
        assert!(
            eps_of(&c.lambda) <= 1e-9 * theta.norm(),
            "ε {}",
            eps_of(&c.lambda)
        );
        // The LP's δ is optimal: no residual minimiser of the points' 3-subsets does better.
        let mut best = f64::INFINITY;
        for a in 0..n {
            for b2 in a + 1..n {
                for c2 in b2 + 1..n {
                    let sub = DMatrix::from_fn(d, 3, |row, col| g[([a, b2, c2][col], row)]);
                    if let Some(l) = sub.clone().lu().solve(&theta) {
                        if l.min() >= 0.0 {
                            let mut full = DVector::zeros(n);
                            for (j, &i) in [a, b2, c2].iter().enumerate() {
                                full[i] = l[j];
                            }
                            best = best.min(delta_of(&full, &q));
                        }
                    }
                }
            }
        }
        assert!(best.is_finite());
        assert!(
            delta <= best * (1.0 + 1e-6) + 1e-12,
            "δ {delta} against the best vertex {best}"
        );
    }

    /// The correction onto K λ = K λ* on the support, for a K of rank 2 with n = 4 (every
    /// column on the support, so K_{:,S} is singular): K·out = K·λ* to rounding, the correction
    /// is least-norm (it lies in the row space of K_{:,S}, here ⊥ the null space of K), and it
    /// is the same for K scaled by 10⁶ and 10⁻⁶ — the rank tolerance is relative to max |K|.
    #[test]
    fn the_correction_onto_the_residual_set_is_scale_free() {
        let g = DMatrix::from_row_slice(2, 4, &[1.0, 2.0, 0.0, 1.0, 0.0, 1.0, 1.0, -1.0]);
        let k = g.transpose() * &g;
        let lambda_star = DVector::from_row_slice(&[1.0, 0.5, 0.2, 2.0]);
        let raw = DVector::from_row_slice(&[1.01, 0.52, 0.23, 1.99]);
        let out = onto_residual_set(&k, &lambda_star, &raw).unwrap();
        let off = (&k * (&out - &lambda_star)).amax();
        assert!(off <= 1e-13, "K(out − λ*) = {off:e}");
        // Least norm: the correction has no component in the null space of K (= of G), spanned
        // by (−2, 1, −1, 0) and (−1, 0, 1, 1).
        let moved = &out - &raw;
        assert!(moved.amax() > 1e-3, "{moved}");
        for null in [[-2.0, 1.0, -1.0, 0.0], [-1.0, 0.0, 1.0, 1.0]] {
            let null = DVector::from_row_slice(&null);
            assert_eq!(&g * &null, DVector::zeros(2));
            let along = null.dot(&moved);
            assert!(along.abs() <= 1e-13, "null-space part {along:e}");
        }
        for s in [1e6, 1e-6] {
            let scaled = onto_residual_set(&(&k * s), &lambda_star, &raw).unwrap();
            let d = (&scaled - &out).amax();
            assert!(d <= 1e-9, "K × {s:e}: differs by {d:e}");
        }
    }

    /// The rank does not depend on the units of K: the tolerances are relative to max diag K.
    #[test]
    fn rank_is_scale_invariant() {
        let mut r = crate::rng::seeded(3, 1);
        for (n, d) in [(6, 3), (9, 8), (12, 20)] {
            let g = crate::rng::gaussian_matrix(&mut r, n, d, 1.0);
            let k = &g * g.transpose();
            for c in [1e-8, 1.0, 1e8] {
                assert_eq!(
                    numerical_rank(&(&k * c)),
                    n.min(d),
                    "n = {n}, d = {d}, c = {c}"
                );
            }
        }
    }
}
