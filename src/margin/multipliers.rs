//! Non-negative multipliers: λ* = argmin_{λ≥0} ‖θ − Σ_i λ_i g_i‖² (kkt.md §3).
//!
//! Expanding the square and dropping ½‖θ‖² gives the QP min ½λᵀKλ − bᵀλ, λ ≥ 0, with
//! K_ik = ⟨g_i, g_k⟩ and b_i = ⟨g_i, θ⟩, solved by Clarabel (P = K, q = −b, A = −I, b = 0,
//! one non-negative cone). An interior-point λ is accurate to about 1e−8, so it is *polished*:
//! on the support S⁺ = {λ_i > 1e−9·max λ} solve K_{S⁺S⁺} λ = b_{S⁺} by Cholesky and keep the
//! result if λ ≥ 0 and the NNLS optimality conditions hold (Kλ − b ≥ −tol off the support).
//! The hard-margin SVM dual is the same problem with b = 1.
//!
//! The exact (ε, δ) trade-off is the box QP ε*(δ₀) = min ‖θ − Σλ_i g_i‖ subject to
//! 0 ≤ λ_i ≤ δ₀/(q_i − 1) where q_i > 1 (no upper bound where q_i ≤ 1).
//!
//! [`nnls_qp`] first tries the active-set route ([`active_set`]: block principal pivoting, then
//! the crossover from K⁻¹b and Lawson–Hanson on the Cholesky factor), whose answer is accepted only if it satisfies the NNLS
//! optimality conditions, and otherwise solves the QP with Clarabel ([`nnls_qp_interior`]).
//! [`lawson_hanson`] on the tall matrix \[g_i\] (the `nnls` crate) is the independent cross-check.

use super::qp::{self, Cone, QpStatus};
use crate::error::{Error, Result};
use clarabel::algebra::CscMatrix;
use nalgebra::{DMatrix, DVector};
use serde::Serialize;

/// Largest n for which the active-set route falls back to the crossover and Lawson–Hanson on the
/// Cholesky factor when block principal pivoting does not settle.
pub const ACTIVE_SET_FALLBACK_MAX: usize = 1500;

/// The largest diagonal entry of K (0 for an empty K).
pub fn max_diag(k: &DMatrix<f64>) -> f64 {
    (0..k.nrows()).map(|i| k[(i, i)]).fold(0.0, f64::max)
}

/// The tolerance on the NNLS gradient Kλ − b shared by every route that certifies multipliers:
/// [`GRADIENT_TOL`] relative to the larger of ‖b‖∞ and max diag K·‖λ‖∞ (the scales of the two
/// terms).
pub fn gradient_tol(k: &DMatrix<f64>, b: &DVector<f64>, lambda: &DVector<f64>) -> f64 {
    GRADIENT_TOL
        * b.amax()
            .max(max_diag(k) * lambda.amax())
            .max(f64::MIN_POSITIVE)
}

pub use crate::tol::SUPPORT_THRESHOLD;
use crate::tol::{AT_BOUND_TOLS, GRADIENT_TOL, NO_WORSE_TOL};

/// The algorithm that produced a set of multipliers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Method {
    /// Clarabel's interior-point method, then the polish.
    InteriorPoint,
    /// Block principal pivoting, or the Lawson–Hanson crossover on the Cholesky factor.
    ActiveSet,
    /// Lawson–Hanson on the tall Jacobian (the `nnls` crate) when K is singular and p < n, then
    /// the polish.
    TallLawsonHanson,
}

/// Multipliers from the QP, raw and (when the polish is accepted) polished.
#[derive(Clone, Debug)]
pub struct Multipliers {
    /// Which algorithm produced `raw`.
    pub method: Method,
    /// Clarabel's λ with negative entries clipped to 0.
    pub raw: DVector<f64>,
    /// The polished λ if accepted, else `raw`.
    pub lambda: DVector<f64>,
    /// Whether `lambda` is the polished solution.
    pub polished: bool,
    /// Solver status (AlmostSolved is a warning).
    pub status: QpStatus,
    /// Interior-point iterations, or the factorisations of block principal pivoting.
    pub iterations: u32,
}

/// How well λ satisfies the NNLS optimality conditions λ ≥ 0, ∇ = Kλ − b ≥ 0, λ∘∇ = 0.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Optimality {
    /// min_i λ_i.
    pub min_lambda: f64,
    /// min_i (Kλ − b)_i.
    pub min_gradient: f64,
    /// max_i |λ_i (Kλ − b)_i|.
    pub max_complementarity: f64,
}

fn neg_identity(n: usize) -> CscMatrix<f64> {
    CscMatrix::new(n, n, (0..=n).collect(), (0..n).collect(), vec![-1.0; n])
}

fn validate(k: &DMatrix<f64>, b: &DVector<f64>) -> Result<()> {
    if k.nrows() != k.ncols() || k.nrows() != b.len() || b.is_empty() {
        return Err(Error::shape(format!(
            "QP needs a square K matching b: K is {:?}, b has {}",
            k.shape(),
            b.len()
        )));
    }
    crate::error::ensure_finite("Gram matrix", k.as_slice())?;
    crate::error::ensure_finite("linear term", b.as_slice())
}

/// Solves min_{λ≥0} ½λᵀKλ − bᵀλ: by the active-set route when K is positive definite and the
/// result passes the NNLS optimality conditions (see [`active_set`]), otherwise by Clarabel's
/// interior point followed by the polish.
pub fn nnls_qp(k: &DMatrix<f64>, b: &DVector<f64>) -> Result<Multipliers> {
    validate(k, b)?;
    match active_set(k, b) {
        Some(m) => Ok(m),
        None => nnls_qp_interior(k, b),
    }
}

/// The active-set route for positive-definite K: block principal pivoting
/// ([`super::nnls_bpp`], a handful of blocked factorisations); if that does not settle, the
/// crossover [`polish`] started from the unconstrained solution K⁻¹b and then Lawson–Hanson on the
/// Cholesky factor (½λᵀKλ − bᵀλ = ½‖Lᵀλ − L⁻¹b‖² + const) followed by the polish, for
/// n ≤ [`ACTIVE_SET_FALLBACK_MAX`]. `None` when K is not positive definite or nothing is
/// certified.
pub fn active_set(k: &DMatrix<f64>, b: &DVector<f64>) -> Option<Multipliers> {
    active_set_after(k, b, super::nnls_bpp::solve(k, b))
}

/// [`active_set`] given block principal pivoting's outcome `bpp`.
fn active_set_after(
    k: &DMatrix<f64>,
    b: &DVector<f64>,
    bpp: Option<super::nnls_bpp::Bpp>,
) -> Option<Multipliers> {
    if let Some(s) = bpp {
        return Some(Multipliers {
            method: Method::ActiveSet,
            raw: s.lambda.clone(),
            lambda: s.lambda,
            polished: true,
            status: QpStatus::Solved,
            iterations: s.iterations as u32,
        });
    }
    // The fallbacks below cost O(n) factorisations (the `nnls` crate's Lawson–Hanson
    // refactorises at every step): affordable only for small n.
    if !fallback_affordable(b.len()) {
        return None;
    }
    cholesky_fallback(k, b)
}

/// Whether the active-set route's O(n)-factorisation fallback runs for n points.
fn fallback_affordable(n: usize) -> bool {
    n <= ACTIVE_SET_FALLBACK_MAX
}

/// The active-set route's fallback when block principal pivoting does not settle: the crossover
/// [`polish`] from the clipped unconstrained solution max(K⁻¹b, 0), and if that is not certified,
/// Lawson–Hanson on the Cholesky factor (½λᵀKλ − bᵀλ = ½‖Lᵀλ − L⁻¹b‖² + const), polished. `None`
/// when K is not positive definite or neither result is certified.
fn cholesky_fallback(k: &DMatrix<f64>, b: &DVector<f64>) -> Option<Multipliers> {
    let ch = k.clone().cholesky()?;
    let done = |raw: DVector<f64>, lambda| {
        Some(Multipliers {
            method: Method::ActiveSet,
            raw,
            lambda,
            polished: true,
            status: QpStatus::Solved,
            iterations: 0,
        })
    };
    let start = ch.solve(b).map(|v| v.max(0.0));
    if let Some(lambda) = polish(k, b, &start) {
        return done(start, lambda);
    }
    let raw = factor_lawson_hanson(&ch, b)?;
    let lambda = polish(k, b, &raw)?;
    done(raw, lambda)
}

/// Lawson–Hanson on the Cholesky factor K = LLᵀ: min_{λ≥0} ‖Lᵀλ − L⁻¹b‖², the NNLS problem of
/// (K, b) up to a constant.
fn factor_lawson_hanson(
    ch: &nalgebra::Cholesky<f64, nalgebra::Dyn>,
    b: &DVector<f64>,
) -> Option<DVector<f64>> {
    let l = ch.l();
    let rhs = l.solve_lower_triangular(b)?;
    lawson_hanson(&l.transpose(), &rhs).ok()
}

/// The route for a singular K with fewer parameters than points: Lawson–Hanson on the tall
/// p × n matrix G = \[g_i\] (its passive set stays linearly independent, so rank deficiency costs
/// nothing), then the polish. `None` if the polish does not certify the result.
pub fn tall(
    g: &DMatrix<f64>,
    theta: &DVector<f64>,
    k: &DMatrix<f64>,
    b: &DVector<f64>,
) -> Option<Multipliers> {
    let raw = lawson_hanson(g, theta).ok()?;
    let lambda = polish(k, b, &raw)?;
    Some(Multipliers {
        method: Method::TallLawsonHanson,
        raw,
        lambda,
        polished: true,
        status: QpStatus::Solved,
        iterations: 0,
    })
}

/// Solves min_{λ≥0} ½λᵀKλ − bᵀλ with Clarabel's interior point, then polishes the result.
pub fn nnls_qp_interior(k: &DMatrix<f64>, b: &DVector<f64>) -> Result<Multipliers> {
    validate(k, b)?;
    let n = b.len();
    let q: Vec<f64> = b.iter().map(|v| -v).collect();
    let sol = qp::solve(
        "multiplier QP",
        &qp::csc_upper(k),
        &q,
        &neg_identity(n),
        &vec![0.0; n],
        &[Cone::Nonneg(n)],
    )?;
    let raw = DVector::from_iterator(n, sol.x.iter().map(|v| v.max(0.0)));
    let (lambda, polished) = match polish(k, b, &raw) {
        Some(l) => (l, true),
        None => (raw.clone(), false),
    };
    Ok(Multipliers {
        method: Method::InteriorPoint,
        raw,
        lambda,
        polished,
        status: sol.status,
        iterations: sol.iterations,
    })
}

/// The active-set polish described in the module documentation; `None` if it is not accepted.
///
/// Starting from the interior-point support, the support is corrected by a few active-set
/// exchanges (drop indices whose equality-constrained solution is negative, add the most violated
/// off-support index) — a crossover, needed because an interior-point λ of a truly inactive
/// constraint can sit just above the 1e−9 threshold. Whatever is returned satisfies the NNLS
/// optimality conditions to the tolerance, so it is certified optimal.
pub fn polish(k: &DMatrix<f64>, b: &DVector<f64>, raw: &DVector<f64>) -> Option<DVector<f64>> {
    polish_counting(k, b, raw).map(|(lambda, _)| lambda)
}

/// [`polish`] and the number of support exchanges it made: 0 when the raw support was right;
/// those made before the Gram-form fallback took over (a dependent support), or the cap when the
/// exchanges did not settle.
fn polish_counting(
    k: &DMatrix<f64>,
    b: &DVector<f64>,
    raw: &DVector<f64>,
) -> Option<(DVector<f64>, usize)> {
    let n = b.len();
    let max = raw.max();
    let mut support: Vec<usize> = if max > 0.0 {
        (0..n)
            .filter(|&i| raw[i] > SUPPORT_THRESHOLD * max)
            .collect()
    } else {
        Vec::new()
    };
    let cap = 2 * n + 2;
    for exchanges in 0..cap {
        let mut lambda = DVector::zeros(n);
        if !support.is_empty() {
            let ks = k.select_rows(&support).select_columns(&support);
            let bs = DVector::from_iterator(support.len(), support.iter().map(|&i| b[i]));
            let Some(ls) = crate::linalg::cholesky_solve(&ks, &bs) else {
                // The support is linearly dependent (a singular K with more support points than
                // its rank): re-solve by the Gram-form Lawson–Hanson, whose simplex pivot keeps
                // the passive set independent, and keep the answer only if it is optimal.
                return gram_fallback(k, b).map(|lambda| (lambda, exchanges));
            };
            if ls.iter().any(|&v| v < 0.0) {
                support = support
                    .iter()
                    .zip(ls.iter())
                    .filter(|(_, &v)| v > 0.0)
                    .map(|(&i, _)| i)
                    .collect();
                continue;
            }
            for (a, &i) in support.iter().enumerate() {
                lambda[i] = ls[a];
            }
        }
        let grad = k * &lambda - b;
        let tol = gradient_tol(k, b, &lambda);
        let worst = (0..n)
            .filter(|i| !support.contains(i))
            .min_by(|&i, &j| grad[i].total_cmp(&grad[j]));
        match worst {
            Some(i) if grad[i] < -tol => {
                support.push(i);
                support.sort_unstable();
            }
            _ => return Some((lambda, exchanges)),
        }
    }
    // The exchanges did not settle (a nearly singular support whose Cholesky succeeded with a
    // tiny pivot can cycle): the Gram-form Lawson–Hanson decides.
    gram_fallback(k, b).map(|lambda| (lambda, cap))
}

fn gram_fallback(k: &DMatrix<f64>, b: &DVector<f64>) -> Option<DVector<f64>> {
    let n = b.len();
    let lambda = super::nnls_gram::lawson_hanson_gram(k, b, &(0..n).collect::<Vec<_>>());
    let opt = optimality(k, b, &lambda);
    let tol = gradient_tol(k, b, &lambda);
    (opt.min_lambda >= 0.0
        && opt.min_gradient >= -tol
        && opt.max_complementarity <= tol * lambda.amax())
    .then_some(lambda)
}

/// The NNLS optimality measures of λ for (K, b).
pub fn optimality(k: &DMatrix<f64>, b: &DVector<f64>, lambda: &DVector<f64>) -> Optimality {
    let grad = k * lambda - b;
    Optimality {
        min_lambda: lambda.min(),
        min_gradient: grad.min(),
        max_complementarity: lambda.component_mul(&grad).amax(),
    }
}

/// The box QP min ½λᵀKλ − bᵀλ s.t. 0 ≤ λ_i ≤ upper_i (no bound where `upper_i` is `None`).
pub fn box_qp(
    k: &DMatrix<f64>,
    b: &DVector<f64>,
    upper: &[Option<f64>],
) -> Result<(DVector<f64>, QpStatus)> {
    validate(k, b)?;
    let n = b.len();
    if upper.len() != n {
        return Err(Error::shape(format!(
            "box QP: {} bounds for {n} multipliers",
            upper.len()
        )));
    }
    let bounded: Vec<(usize, f64)> = upper
        .iter()
        .enumerate()
        .filter_map(|(i, u)| u.map(|u| (i, u)))
        .collect();
    if let Some(&(i, u)) = bounded.iter().find(|(_, u)| !(*u >= 0.0)) {
        return Err(Error::input(format!(
            "box QP: upper bound {i} is {u}, must be ≥ 0"
        )));
    }
    let nb = bounded.len();
    let mut a = DMatrix::zeros(n + nb, n);
    for i in 0..n {
        a[(i, i)] = -1.0;
    }
    let mut rhs = vec![0.0; n + nb];
    for (r, &(i, u)) in bounded.iter().enumerate() {
        a[(n + r, i)] = 1.0;
        rhs[n + r] = u;
    }
    let q: Vec<f64> = b.iter().map(|v| -v).collect();
    let cones = [Cone::Nonneg(n), Cone::Nonneg(nb)];
    let cones: &[Cone] = if nb == 0 { &cones[..1] } else { &cones };
    let sol = qp::solve(
        "box QP",
        &qp::csc_upper(k),
        &q,
        &qp::csc_dense(&a),
        &rhs,
        cones,
    )?;
    let lambda = DVector::from_iterator(
        n,
        sol.x
            .iter()
            .enumerate()
            .map(|(i, v)| v.clamp(0.0, upper[i].unwrap_or(f64::INFINITY))),
    );
    let polished = polish_box(k, b, upper, &lambda).unwrap_or(lambda);
    Ok((polished, sol.status))
}

/// ½λᵀKλ − bᵀλ.
fn objective(k: &DMatrix<f64>, b: &DVector<f64>, lambda: &DVector<f64>) -> f64 {
    0.5 * lambda.dot(&(k * lambda)) - b.dot(lambda)
}

/// Polishes an interior-point box-QP solution (accurate to about 1e−8, or 1e−5 where the
/// minimum is degenerate) as the NNLS polish does: classify each λ_i as at 0, at its bound u_i or
/// free, with the tolerances [`AT_BOUND_TOLS`] in turn; solve the free block exactly,
/// K_FF λ_F = b_F − K_FU u_U (Cholesky; Lawson–Hanson on the free candidates when the block is
/// singular and every bound is 0, the δ₀ = 0 case); keep the first result that is feasible,
/// satisfies the KKT conditions of the box QP to the gradient tolerance and does not raise the
/// objective.
pub fn polish_box(
    k: &DMatrix<f64>,
    b: &DVector<f64>,
    upper: &[Option<f64>],
    raw: &DVector<f64>,
) -> Option<DVector<f64>> {
    AT_BOUND_TOLS
        .iter()
        .find_map(|&rel| polish_box_at(k, b, upper, raw, rel))
}

/// One classification of [`polish_box`], with "at a bound" meaning within `rel`·‖λ_raw‖∞.
fn polish_box_at(
    k: &DMatrix<f64>,
    b: &DVector<f64>,
    upper: &[Option<f64>],
    raw: &DVector<f64>,
    rel: f64,
) -> Option<DVector<f64>> {
    let n = b.len();
    let scale = raw.amax().max(f64::MIN_POSITIVE);
    let tol = rel * scale;
    let at_upper = |i: usize| upper[i].is_some_and(|u| raw[i] >= u - tol);
    let free: Vec<usize> = (0..n).filter(|&i| raw[i] > tol && !at_upper(i)).collect();
    let mut lambda = DVector::from_fn(n, |i, _| {
        if at_upper(i) {
            upper[i].unwrap_or(0.0)
        } else {
            0.0
        }
    });
    if !free.is_empty() {
        let rhs = b - k * &lambda;
        let kf = k.select_rows(&free).select_columns(&free);
        let bf = DVector::from_iterator(free.len(), free.iter().map(|&i| rhs[i]));
        match crate::linalg::cholesky_solve(&kf, &bf) {
            Some(z) => {
                for (a, &i) in free.iter().enumerate() {
                    lambda[i] = z[a];
                }
            }
            None if upper.iter().all(|u| u.is_none_or(|u| u == 0.0)) => {
                let allowed: Vec<usize> = (0..n).filter(|&i| upper[i].is_none()).collect();
                lambda = super::nnls_gram::lawson_hanson_gram(k, b, &allowed);
            }
            None => return None,
        }
    }
    let feasible = (0..n).all(|i| lambda[i] >= 0.0 && upper[i].is_none_or(|u| lambda[i] <= u));
    let grad = k * &lambda - b;
    let gtol = gradient_tol(k, b, &lambda);
    let kkt = (0..n).all(|i| {
        let lo = lambda[i] <= 0.0;
        let hi = upper[i].is_some_and(|u| lambda[i] >= u);
        (lo && grad[i] >= -gtol)
            || (hi && grad[i] <= gtol)
            || (!lo && !hi && grad[i].abs() <= gtol)
            || (lo && hi)
    });
    let no_worse =
        objective(k, b, &lambda) <= objective(k, b, raw) + NO_WORSE_TOL * b.amax() * scale;
    (feasible && kkt && no_worse).then_some(lambda)
}

/// Lawson–Hanson NNLS on the tall matrix G (p × n, column i = g_i) with target θ.
pub fn lawson_hanson(g: &DMatrix<f64>, theta: &DVector<f64>) -> Result<DVector<f64>> {
    let (p, n) = g.shape();
    if p == 0 || n == 0 || theta.len() != p {
        return Err(Error::shape(format!(
            "Lawson–Hanson needs a non-empty p × n matrix and θ of length p; got {p} × {n} and {}",
            theta.len()
        )));
    }
    let a = ndarray::Array2::from_shape_fn((p, n), |(i, j)| g[(i, j)]);
    let t = ndarray::Array1::from_iter(theta.iter().cloned());
    let x = without_panics(|| nnls::nnls(a.view(), t.view()).0).ok_or_else(|| {
        Error::Solver(
            "Lawson–Hanson (the nnls crate) hit a round-off branch it does not implement".into(),
        )
    })?;
    Ok(DVector::from_iterator(n, x.iter().cloned()))
}

/// Runs `f`, turning a panic into `None` without printing it. The `nnls` crate (0.5) panics
/// ("GOTO x[i] = 0.0") when round-off makes a passive coefficient non-positive after a step, a
/// branch of Lawson–Hanson's algorithm it does not implement (the certificate fuzz target found
/// such an input); every caller has a fallback route. The panic hook is swapped for a silent one
/// for the duration of the call (under a lock, so concurrent calls do not interleave their swaps)
/// and restored after, so a fuzzer's or the user's hook sees no panic from here.
fn without_panics<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    static HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = std::panic::catch_unwind(f);
    std::panic::set_hook(previous);
    out.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: usize, v: &[f64]) -> DMatrix<f64> {
        DMatrix::from_row_slice(rows, v.len() / rows, v)
    }
    fn v(v: &[f64]) -> DVector<f64> {
        DVector::from_row_slice(v)
    }
    fn close(a: &DVector<f64>, b: &[f64], tol: f64) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
    }

    /// A positive-definite K = [[2, 1], [1, 2]] and three right-hand sides solved by hand:
    /// b = (1, 1) has the interior solution K⁻¹b = (⅓, ⅓); b = (3, −3) has K⁻¹b = (3, −3), so
    /// λ₂ = 0 and λ₁ = 3/2 (gradient (0, 4.5) ≥ 0); b = (−1, −2) gives λ = 0.
    fn hand_problems() -> Vec<(DMatrix<f64>, DVector<f64>, Vec<f64>)> {
        let k = m(2, &[2.0, 1.0, 1.0, 2.0]);
        vec![
            (k.clone(), v(&[1.0, 1.0]), vec![1.0 / 3.0, 1.0 / 3.0]),
            (k.clone(), v(&[3.0, -3.0]), vec![1.5, 0.0]),
            (k, v(&[-1.0, -2.0]), vec![0.0, 0.0]),
        ]
    }

    #[test]
    fn every_route_solves_the_hand_problems() {
        for (k, b, want) in hand_problems() {
            let a = nnls_qp(&k, &b).unwrap();
            assert_eq!(a.method, Method::ActiveSet);
            assert!(a.polished && a.status == QpStatus::Solved);
            assert!(close(&a.lambda, &want, 1e-15), "{b}: {}", a.lambda);
            let ip = nnls_qp_interior(&k, &b).unwrap();
            assert_eq!(ip.method, Method::InteriorPoint);
            assert!(ip.polished, "{b}");
            assert!(close(&ip.lambda, &want, 1e-15), "{b}: {}", ip.lambda);
            // Clarabel's raw λ is close but not exact, and clipped at 0.
            assert!(
                close(&ip.raw, &want, 1e-6) && ip.raw.min() >= 0.0,
                "{}",
                ip.raw
            );
            assert!(ip.iterations > 0);
            let fb = cholesky_fallback(&k, &b).unwrap();
            assert!(close(&fb.lambda, &want, 1e-15), "{b}: {}", fb.lambda);
            assert_eq!((fb.method, fb.iterations), (Method::ActiveSet, 0));
            // The raw point of the fallback is the clipped unconstrained solution.
            let unconstrained = k.clone().cholesky().unwrap().solve(&b).map(|x| x.max(0.0));
            assert_eq!(fb.raw, unconstrained);
            let lh = factor_lawson_hanson(&k.clone().cholesky().unwrap(), &b).unwrap();
            assert!(close(&lh, &want, 1e-12), "{b}: {lh}");
            let opt = optimality(&k, &b, &a.lambda);
            assert!(opt.min_lambda >= 0.0 && opt.min_gradient >= -1e-15);
            assert!(opt.max_complementarity <= 1e-15);
        }
    }

    /// The optimality measures and the shared tolerance by hand.
    #[test]
    fn optimality_and_tolerance_by_hand() {
        let k = m(2, &[2.0, 1.0, 1.0, 3.0]);
        let b = v(&[1.0, -4.0]);
        let lambda = v(&[2.0, -0.5]);
        // Kλ − b = (3.5 − 1, 0.5 − 1.5 + 4) = (2.5, 3).
        let o = optimality(&k, &b, &lambda);
        assert_eq!(o.min_lambda, -0.5);
        assert_eq!(o.min_gradient, 2.5);
        assert_eq!(o.max_complementarity, 5.0);
        assert_eq!(max_diag(&k), 3.0);
        assert_eq!(max_diag(&DMatrix::zeros(0, 0)), 0.0);
        assert_eq!(max_diag(&m(2, &[-1.0, 0.0, 0.0, -2.0])), 0.0);
        // GRADIENT_TOL·max(‖b‖∞ = 4, 3·2 = 6).
        assert_eq!(gradient_tol(&k, &b, &lambda), GRADIENT_TOL * 6.0);
        assert_eq!(
            gradient_tol(&k, &v(&[9.0, 0.0]), &lambda),
            GRADIENT_TOL * 9.0
        );
        let zero = DVector::zeros(2);
        assert_eq!(
            gradient_tol(&DMatrix::zeros(2, 2), &zero, &zero),
            GRADIENT_TOL * f64::MIN_POSITIVE
        );
    }

    #[test]
    fn malformed_problems_are_refused() {
        let k = m(2, &[2.0, 1.0, 1.0, 2.0]);
        for (k, b) in [
            (m(1, &[1.0, 2.0]), v(&[1.0])),
            (k.clone(), v(&[1.0])),
            (DMatrix::zeros(0, 0), DVector::zeros(0)),
        ] {
            assert!(matches!(nnls_qp(&k, &b), Err(Error::Shape(_))), "{k} {b}");
            assert!(matches!(nnls_qp_interior(&k, &b), Err(Error::Shape(_))));
            assert!(matches!(
                box_qp(&k, &b, &vec![None; b.len()]),
                Err(Error::Shape(_))
            ));
        }
        let mut bad = k.clone();
        bad[(0, 1)] = f64::NAN;
        assert!(nnls_qp(&bad, &v(&[1.0, 1.0])).is_err());
        assert!(nnls_qp(&k, &v(&[1.0, f64::INFINITY])).is_err());
        assert!(matches!(
            box_qp(&k, &v(&[1.0, 1.0]), &[None]),
            Err(Error::Shape(_))
        ));
        for u in [-1.0, f64::NAN] {
            let r = box_qp(&k, &v(&[1.0, 1.0]), &[None, Some(u)]);
            assert!(matches!(r, Err(Error::Input(_))), "{u}");
        }
        assert!(matches!(
            lawson_hanson(&DMatrix::zeros(0, 2), &DVector::zeros(0)),
            Err(Error::Shape(_))
        ));
        assert!(matches!(
            lawson_hanson(&DMatrix::zeros(2, 0), &DVector::zeros(2)),
            Err(Error::Shape(_))
        ));
        assert!(matches!(
            lawson_hanson(&DMatrix::identity(2, 2), &v(&[1.0])),
            Err(Error::Shape(_))
        ));
    }

    /// The polish corrects a wrong support: from λ = 0 it adds the most violated index, from a
    /// support with a negative equality solution it drops it, and a tiny entry below the support
    /// threshold is not on the support.
    #[test]
    fn the_polish_corrects_the_support() {
        let k = m(2, &[2.0, 1.0, 1.0, 2.0]);
        let b = v(&[3.0, -3.0]);
        for raw in [
            v(&[0.0, 0.0]),
            v(&[1.0, 1.0]),
            v(&[1.4, 1e-12]),
            v(&[0.0, 5.0]),
        ] {
            let l = polish(&k, &b, &raw).unwrap();
            assert!(close(&l, &[1.5, 0.0], 1e-15), "{raw}: {l}");
        }
        // Three points, K = I: b = (1, −1, 2) → λ = (1, 0, 2) from any start.
        let k3 = DMatrix::identity(3, 3);
        let b3 = v(&[1.0, -1.0, 2.0]);
        for raw in [
            v(&[0.0, 0.0, 0.0]),
            v(&[0.0, 1.0, 0.0]),
            v(&[1.0, 1.0, 1.0]),
        ] {
            assert_eq!(
                polish(&k3, &b3, &raw).unwrap(),
                v(&[1.0, 0.0, 2.0]),
                "{raw}"
            );
        }
    }

    /// The polish starts from the raw vector's support (entries above 10⁻⁹ of its largest) and
    /// exchanges only what is wrong: K = [[2, 1], [1, 2]], b = (3, −3), λ* = (1.5, 0).
    #[test]
    fn the_polish_starts_from_the_raw_support() {
        let k = m(2, &[2.0, 1.0, 1.0, 2.0]);
        let b = v(&[3.0, -3.0]);
        for (raw, exchanges) in [
            // The right support: nothing to exchange (a tiny entry is below the threshold).
            (v(&[1.4, 1e-12]), 0),
            (v(&[1.5, 0.0]), 0),
            // Empty: index 0 is added.
            (v(&[0.0, 0.0]), 1),
            (v(&[-1.0, -2.0]), 1),
            // {0, 1}: the solution on it, (3, −3), is negative at 1, which is dropped.
            (v(&[1.0, 1.0]), 1),
            // {1}: its solution −1.5 < 0 is dropped, then 0 is added.
            (v(&[0.0, 5.0]), 2),
        ] {
            let (l, made) = polish_counting(&k, &b, &raw).unwrap();
            assert!(close(&l, &[1.5, 0.0], 1e-15), "{raw}: {l}");
            assert_eq!(made, exchanges, "{raw}");
        }
        // The threshold is relative: at K/1000 (λ* = (1500, 0)) the entry 10⁻⁹ is still below
        // 10⁻⁹ of the largest, so the start is right.
        let (l, made) = polish_counting(&(&k / 1000.0), &b, &v(&[1400.0, 1e-9])).unwrap();
        assert!(close(&l, &[1500.0, 0.0], 1e-12), "{l}");
        assert_eq!(made, 0);
    }

    /// A degenerate optimum, K = I, b = (1, 0, 2): λ* = (1, 0, 2) with the gradient 0 at the
    /// index off the support. Nothing is exchanged — an index enters only when its gradient is
    /// below −tol, not merely below tol.
    #[test]
    fn a_zero_gradient_off_the_support_stays_off() {
        let k = DMatrix::identity(3, 3);
        let b = v(&[1.0, 0.0, 2.0]);
        let (l, made) = polish_counting(&k, &b, &v(&[1.0, 0.0, 2.0])).unwrap();
        assert_eq!((l, made), (v(&[1.0, 0.0, 2.0]), 0));
        // From {1}: its solution 0 is not negative, so 1 stays, and 0 and 2 are added.
        let (l, made) = polish_counting(&k, &b, &v(&[0.0, 1.0, 0.0])).unwrap();
        assert_eq!((l, made), (v(&[1.0, 0.0, 2.0]), 2));
    }

    /// x, −x and e₂ with one label: not separable through the origin, so the SVM dual (b = 1)
    /// has no minimiser. The full support cannot be factored (K is singular), the Gram-form
    /// Lawson–Hanson stops at a λ ≥ 0 whose gradient is negative, and the polish refuses it:
    /// every optimality condition must hold, not one of them.
    #[test]
    fn the_gram_fallback_refuses_a_non_optimal_answer() {
        let k = m(3, &[1.0, -1.0, 0.0, -1.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let b = v(&[1.0, 1.0, 1.0]);
        assert!(gram_fallback(&k, &b).is_none());
        assert!(polish(&k, &b, &v(&[1.0, 1.0, 1.0])).is_none());
    }

    #[test]
    fn the_fallback_runs_up_to_its_size_cap() {
        // When block principal pivoting does not settle, small problems take the fallback
        // (iterations = 0 marks it) and large ones are left to the interior point.
        for (k, b, want) in hand_problems() {
            let fb = active_set_after(&k, &b, None).expect("the fallback runs");
            assert_eq!((fb.method, fb.iterations), (Method::ActiveSet, 0));
            assert!(close(&fb.lambda, &want, 1e-15), "{b}: {}", fb.lambda);
        }
        let n = ACTIVE_SET_FALLBACK_MAX + 1;
        let (k, b) = (DMatrix::identity(n, n), DVector::from_element(n, 1.0));
        assert!(active_set_after(&k, &b, None).is_none());
        assert!(fallback_affordable(1));
        assert!(fallback_affordable(ACTIVE_SET_FALLBACK_MAX));
        assert!(!fallback_affordable(ACTIVE_SET_FALLBACK_MAX + 1));
    }

    /// A singular K (two equal gradients, K = [[1, 1], [1, 1]], b = (1, 1)): every λ ≥ 0 with
    /// λ₁ + λ₂ = 1 is optimal. The support {1, 2} cannot be factored, so the polish hands over
    /// to the Gram-form Lawson–Hanson, whose answer is optimal; the active set refuses (K is not
    /// positive definite) and `nnls_qp` takes the interior point; the tall route works on G.
    #[test]
    fn a_singular_gram_matrix_takes_the_other_routes() {
        let k = m(2, &[1.0, 1.0, 1.0, 1.0]);
        let b = v(&[1.0, 1.0]);
        let l = polish(&k, &b, &v(&[0.5, 0.5])).unwrap();
        assert!((l.sum() - 1.0).abs() < 1e-15 && l.min() >= 0.0, "{l}");
        assert!(active_set(&k, &b).is_none());
        assert!(cholesky_fallback(&k, &b).is_none());
        let r = nnls_qp(&k, &b).unwrap();
        assert_eq!(r.method, Method::InteriorPoint);
        assert!((r.lambda.sum() - 1.0).abs() < 1e-12, "{}", r.lambda);
        // G = [g, g] with g = (1, 0), θ = (1, 0): K = GᵀG and b = Gᵀθ as above.
        let g = m(2, &[1.0, 1.0, 0.0, 0.0]);
        let t = tall(&g, &v(&[1.0, 0.0]), &k, &b).unwrap();
        assert_eq!(t.method, Method::TallLawsonHanson);
        assert!(t.polished);
        assert!(
            (t.lambda.sum() - 1.0).abs() < 1e-15 && t.lambda.min() >= 0.0,
            "{}",
            t.lambda
        );
        // The tall Lawson–Hanson itself on G = I: θ = (1, −1) → (1, 0).
        let x = lawson_hanson(&DMatrix::identity(2, 2), &v(&[1.0, -1.0])).unwrap();
        assert!(close(&x, &[1.0, 0.0], 1e-15), "{x}");
    }

    /// The box QP by hand with K = I, b = (1, 2, −1, 4): the solution clips b to [0, u_i]; with
    /// bounds (0.5, none, 3, 0) it is (0.5, 2, 0, 0). Without any bound it is the NNLS solution.
    #[test]
    fn the_box_qp_by_hand() {
        let k = DMatrix::identity(4, 4);
        let b = v(&[1.0, 2.0, -1.0, 4.0]);
        let upper = [Some(0.5), None, Some(3.0), Some(0.0)];
        let (l, status) = box_qp(&k, &b, &upper).unwrap();
        assert_eq!(status, QpStatus::Solved);
        assert!(close(&l, &[0.5, 2.0, 0.0, 0.0], 1e-15), "{l}");
        let (l, _) = box_qp(&k, &b, &[None; 4]).unwrap();
        assert!(close(&l, &[1.0, 2.0, 0.0, 4.0], 1e-15), "{l}");
        // A coupled K = [[2, 1], [1, 2]], b = (3, 3), u₁ = 0.5: λ₁ = 0.5 at its bound, then
        // 2λ₂ = 3 − 0.5 gives λ₂ = 1.25; the gradient of λ₁ is 1 + 1.25 − 3 = −0.75 ≤ 0.
        let k = m(2, &[2.0, 1.0, 1.0, 2.0]);
        let (l, _) = box_qp(&k, &v(&[3.0, 3.0]), &[Some(0.5), None]).unwrap();
        assert!(close(&l, &[0.5, 1.25], 1e-15), "{l}");
    }

    /// The box polish: classification at 0, at the bound and free from a raw point near the
    /// answer; refused when the raw point misclassifies (λ = 0 where the gradient is negative),
    /// when the free block is singular and a bound is positive; the singular block with every
    /// bound 0 or absent goes to Lawson–Hanson on the unbounded indices.
    #[test]
    fn the_box_polish_by_hand() {
        let k = m(2, &[2.0, 1.0, 1.0, 2.0]);
        let b = v(&[3.0, 3.0]);
        let upper = [Some(0.5), None];
        let l = polish_box(&k, &b, &upper, &v(&[0.5 - 1e-9, 1.25 + 1e-9])).unwrap();
        assert!(close(&l, &[0.5, 1.25], 1e-15), "{l}");
        assert!(polish_box(&k, &b, &upper, &v(&[0.0, 0.0])).is_none());
        // Free λ₂ = 1.5 with λ₁ taken at its bound 0.5 gives λ₂ = 1.25 instead; from
        // (0.2, 1.4) λ₁ is free and the solve gives K⁻¹b = (1, 1), above the bound: refused.
        assert!(polish_box(&k, &b, &upper, &v(&[0.2, 1.4])).is_none());
        let singular = m(2, &[1.0, 1.0, 1.0, 1.0]);
        let b1 = v(&[1.0, 1.0]);
        assert!(polish_box(&singular, &b1, &[Some(2.0), None], &v(&[0.5, 0.5])).is_none());
        let l = polish_box(&singular, &b1, &[None, None], &v(&[0.5, 0.5])).unwrap();
        assert!((l.sum() - 1.0).abs() < 1e-15 && l.min() >= 0.0, "{l}");
        // A bound of 0 on λ₁ (three equal gradients, K = 𝟙𝟙ᵀ, b = 𝟙): λ₁ sits at its bound and
        // the free block {2, 3} is singular, so Lawson–Hanson on the unbounded λ₂, λ₃ decides:
        // λ₁ = 0, λ₂ + λ₃ = 1.
        let ones = DMatrix::from_element(3, 3, 1.0);
        let b3 = v(&[1.0, 1.0, 1.0]);
        let upper = [Some(0.0), None, None];
        let l = polish_box(&ones, &b3, &upper, &v(&[0.0, 0.5, 0.5])).unwrap();
        assert_eq!(l[0], 0.0);
        assert!((l[1] + l[2] - 1.0).abs() < 1e-15 && l.min() >= 0.0, "{l}");
        // With a positive bound on λ₁ the singular block is refused.
        let upper = [Some(0.25), None, None];
        assert!(polish_box(&ones, &b3, &upper, &v(&[0.25, 0.5, 0.5])).is_none());
    }

    /// "At a bound" is relative to the raw vector's scale: the hand problem above at K·s with
    /// the bound 0.5/s has the polished answer (0.5, 1.25)/s from a raw vector 10⁻⁹/s off it.
    #[test]
    fn the_box_polish_follows_the_scale() {
        let k = m(2, &[2.0, 1.0, 1.0, 2.0]);
        let b = v(&[3.0, 3.0]);
        for s in [1e-3, 1.0, 1e3] {
            let raw = v(&[0.5 - 1e-9, 1.25 + 1e-9]) / s;
            let l = polish_box(&(&k * s), &b, &[Some(0.5 / s), None], &raw).expect("polished");
            assert!(close(&(l.clone() * s), &[0.5, 1.25], 1e-12), "{s}: {l}");
        }
    }

    /// A raw vector at a bound that does not bind: K = [[2, 1], [1, 2]], b = (3, 3), λ₁ ≤ 2 (the
    /// minimiser (1, 1) is inside). From (2, 0.5) λ₁ is taken at its bound, the free solve gives
    /// λ₂ = 0.5, and the gradient at the bound, 1.5 > 0, fails the KKT conditions: refused.
    #[test]
    fn the_box_polish_refuses_a_bound_with_the_wrong_gradient() {
        let k = m(2, &[2.0, 1.0, 1.0, 2.0]);
        let b = v(&[3.0, 3.0]);
        let upper = [Some(2.0), None];
        assert!(polish_box(&k, &b, &upper, &v(&[2.0, 0.5])).is_none());
        let l = polish_box(&k, &b, &upper, &v(&[1.0 + 1e-9, 1.0 - 1e-9])).unwrap();
        assert!(close(&l, &[1.0, 1.0], 1e-15), "{l}");
    }

    #[test]
    fn the_objective_by_hand() {
        // K = [[2, 1], [1, 2]], b = (3, 3), λ = (0.5, 1.25): Kλ = (2.25, 3), ½λᵀKλ = 2.4375,
        // bᵀλ = 5.25.
        let k = m(2, &[2.0, 1.0, 1.0, 2.0]);
        assert_eq!(objective(&k, &v(&[3.0, 3.0]), &v(&[0.5, 1.25])), -2.8125);
    }

    #[test]
    fn a_panic_inside_is_none_and_a_value_is_some() {
        assert_eq!(without_panics(|| -> u8 { panic!("inside") }), None);
        assert_eq!(without_panics(|| 7), Some(7));
    }
}
