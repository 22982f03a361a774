//! Exact and certified minimal perturbations (malt.md §5–§6).
//!
//! - Linear models f(x) = Wx + b: the minimal L_p distance to the f_t = f_y boundary is
//!   d_t = (f_y − f_t)_+/‖w_y − w_t‖_q (q dual to p), attained by δ_t = d_t·sign(w_t − w_y) (L∞)
//!   or d_t(w_t − w_y)/‖w_t − w_y‖₂ (L2). With the box [0, 1]^d the L∞ value is the small LP
//!   min s s.t. (w_t − w_y)ᵀδ ≥ f_y − f_t, −s ≤ δ_i ≤ s, 0 ≤ x_i + δ_i ≤ 1 (good_lp, microlp).
//! - Two-layer nets f = Vσ(Wx + b) + c: for ‖δ‖_p ≤ ε, |g_t(x + δ) − g_t(x) − ⟨∇g_t, δ⟩| ≤
//!   E_t(ε) = Σ_j a_j(ε‖w_j‖_q − |p_j|)_+ with a_j = |V_tj − V_yj|, g_t = f_t − f_y; so no δ with
//!   ‖δ‖_p < r_t^cert = min{ε : g_t(x) + ε‖∇g_t(x)‖_q + E_t(ε) ≥ 0} makes t beat y. The left
//!   side is piecewise linear in ε with breakpoints |p_j|/‖w_j‖_q; scanning them gives r exactly.

use super::apgd::Norm;
use crate::error::{Error, Result};
use good_lp::{constraint, microlp, variable, variables, Expression, Solution, SolverModel};
use nalgebra::{DMatrix, DVector};

/// Closed-form minimal distance d_t and perturbation δ_t of a linear model (W: K × d rows w_c,
/// b: K) from x with label y toward class t (no box).
pub fn linear_distance(
    w: &DMatrix<f64>,
    b: &DVector<f64>,
    x: &DVector<f64>,
    y: usize,
    t: usize,
    norm: Norm,
) -> (f64, DVector<f64>) {
    let f = w * x + b;
    let diff: DVector<f64> = (w.row(t) - w.row(y)).transpose();
    let q = norm.dual_of(diff.as_slice());
    let dist = (f[y] - f[t]).max(0.0) / q;
    let delta = match norm {
        Norm::Linf => diff.map(|v| v.signum() * f64::from(u8::from(v != 0.0))) * dist,
        Norm::L2 => &diff * (dist / diff.norm()),
    };
    (dist, delta)
}

/// The exact minimal L∞ distance toward class t inside the box [0, 1]^d (an LP; `None` if no
/// point of the box makes f_t ≥ f_y).
pub fn linear_linf_box(
    w: &DMatrix<f64>,
    b: &DVector<f64>,
    x: &DVector<f64>,
    y: usize,
    t: usize,
) -> Result<Option<f64>> {
    let d = x.len();
    let f = w * x + b;
    let mut vars = variables!();
    let s = vars.add(variable().min(0.0));
    let delta: Vec<_> = (0..d)
        .map(|i| vars.add(variable().min(-x[i]).max(1.0 - x[i])))
        .collect();
    let mut problem = vars.minimise(s).using(microlp);
    let mut e = Expression::from(0.0);
    for i in 0..d {
        let c = w[(t, i)] - w[(y, i)];
        if c != 0.0 {
            e += c * delta[i];
        }
        problem = problem
            .with(constraint!(delta[i] <= s))
            .with(constraint!(delta[i] >= -s));
    }
    problem = problem.with(constraint!(e >= f[y] - f[t]));
    match problem.solve() {
        Ok(sol) => Ok(Some(sol.value(s))),
        Err(good_lp::ResolutionError::Infeasible) => Ok(None),
        Err(e) => Err(Error::solver(format!("box LP (microlp): {e}"))),
    }
}

/// The certified targeted radius r_t^cert of a two-layer net at x (W₁: m × d, b₁: m, V: K × m),
/// for label y and target t ≠ y; 0 if t already beats y.
#[allow(clippy::too_many_arguments)]
pub fn certified_radius(
    w1: &DMatrix<f64>,
    b1: &DVector<f64>,
    v: &DMatrix<f64>,
    c: &DVector<f64>,
    x: &DVector<f64>,
    y: usize,
    t: usize,
    norm: Norm,
) -> f64 {
    let p = w1 * x + b1;
    let h = p.map(|z| z.max(0.0));
    let f = v * &h + c;
    let g = f[t] - f[y];
    if g >= 0.0 {
        return 0.0;
    }
    let m = p.len();
    let a: Vec<f64> = (0..m).map(|j| (v[(t, j)] - v[(y, j)]).abs()).collect();
    // ∇g_t = Σ_j (V_tj − V_yj) σ'(p_j) w_j.
    let mut grad = DVector::zeros(x.len());
    for j in 0..m {
        if p[j] > 0.0 {
            grad += w1.row(j).transpose() * (v[(t, j)] - v[(y, j)]);
        }
    }
    let gq = norm.dual_of(grad.as_slice());
    let nq: Vec<f64> = norm.dual_row_norms(w1);
    // F(ε) = g + ε·gq + Σ_j a_j (ε n_j − |p_j|)_+ ; slopes change at ε_j = |p_j|/n_j.
    let mut bps: Vec<(f64, f64)> = (0..m)
        .filter(|&j| a[j] > 0.0 && nq[j] > 0.0)
        .map(|j| (p[j].abs() / nq[j], a[j] * nq[j]))
        .collect();
    bps.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut eps, mut val, mut slope) = (0.0, g, gq);
    for (e_j, ds) in bps {
        let next = val + slope * (e_j - eps);
        if next >= 0.0 && slope > 0.0 {
            return eps + (-val) / slope;
        }
        val = next;
        eps = e_j;
        slope += ds;
    }
    if slope > 0.0 {
        eps + (-val) / slope
    } else {
        f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + b.abs())
    }

    /// W = [[1, 2, 0], [0, −1, 3]], b = (0.5, 0), x = (1, 1, 0), y = 0, t = 1: f = (3.5, −1),
    /// w_t − w_y = (−1, −3, 3), so d_∞ = 4.5/7 and d_2 = 4.5/√19, and x + δ lies on f_t = f_y.
    #[test]
    fn linear_distance_reaches_the_boundary_at_the_closed_form_distance() {
        let w = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 0.0, 0.0, -1.0, 3.0]);
        let b = DVector::from_vec(vec![0.5, 0.0]);
        let x = DVector::from_vec(vec![1.0, 1.0, 0.0]);
        for (norm, want) in [(Norm::Linf, 4.5 / 7.0), (Norm::L2, 4.5 / 19f64.sqrt())] {
            let (dist, delta) = linear_distance(&w, &b, &x, 0, 1, norm);
            assert!(close(dist, want), "{norm:?}: {dist} vs {want}");
            let size = match norm {
                Norm::Linf => delta.amax(),
                Norm::L2 => delta.norm(),
            };
            assert!(close(size, want), "{norm:?}: ‖δ‖ = {size}");
            let f = &w * (&x + &delta) + &b;
            assert!((f[0] - f[1]).abs() < 1e-12, "{norm:?}: {f}");
        }
        // A zero coordinate of w_t − w_y is not moved under L∞.
        let w = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 0.0, 1.0]);
        let (dist, delta) = linear_distance(
            &w,
            &DVector::zeros(2),
            &x.rows(0, 2).into(),
            0,
            1,
            Norm::Linf,
        );
        assert_eq!((dist, delta[0], delta[1]), (1.0, -1.0, 0.0));
        // Already beaten: distance 0.
        let (dist, _) =
            linear_distance(&w, &DVector::zeros(2), &x.rows(0, 2).into(), 1, 0, Norm::L2);
        assert_eq!(dist, 0.0);
    }

    /// x = (0.95, 0.5), w_t − w_y = (1, 1), f_y − f_t = 0.2: without the box s = 0.1, but
    /// x₁ + 0.1 leaves [0, 1], so δ₁ = 0.05 and δ₂ = 0.15 (s = 0.15). A gap of 0.6 along
    /// w_t − w_y = (1, 0) from x₁ = 0.5 cannot be closed inside the box.
    #[test]
    fn the_box_lp_is_exact_where_the_box_binds_and_none_where_it_is_infeasible() {
        let w = DMatrix::from_row_slice(2, 2, &[0.0, 0.0, 1.0, 1.0]);
        let b = DVector::from_vec(vec![1.65, 0.0]);
        let x = DVector::from_vec(vec![0.95, 0.5]);
        let free = linear_distance(&w, &b, &x, 0, 1, Norm::Linf).0;
        assert!(close(free, 0.1), "{free}");
        let boxed = linear_linf_box(&w, &b, &x, 0, 1)
            .unwrap()
            .expect("feasible");
        assert!((boxed - 0.15).abs() < 1e-9, "{boxed}");
        let w = DMatrix::from_row_slice(2, 2, &[0.0, 0.0, 1.0, 0.0]);
        let b = DVector::from_vec(vec![1.1, 0.0]);
        let x = DVector::from_vec(vec![0.5, 0.5]);
        assert_eq!(linear_linf_box(&w, &b, &x, 0, 1).unwrap(), None);
    }

    /// d = 1, x = 1, four units σ(x), σ(x − 0.5), σ(x − 1) (exactly at its kink), σ(x − 0.8),
    /// V_y = (1, 0, 0, 1), V_t = (0, 1, 1, 1): the last unit adds the same to both logits, so
    /// f_t − f_y = (x − 0.5)_+ + (x − 1)_+ − x and t first ties y at x = 1.5, a distance 0.5. The
    /// bound is tight: ∇g = 0 (the kink unit is inactive, the shared unit cancels) and
    /// F(ε) = −0.5 + ε + (ε − 0.5)_+ + (ε − 1)_+, zero at ε = 0.5. With the first two units only,
    /// F(ε) = −0.5 + (ε − 0.5)_+ + (ε − 1)_+ and the radius is 1 (t ties y at x = 0).
    #[test]
    fn certified_radius_is_tight_on_a_hand_solved_net() {
        let x = DVector::from_vec(vec![1.0]);
        let c = DVector::zeros(2);
        let w1 = DMatrix::from_column_slice(4, 1, &[1.0, 1.0, 1.0, 1.0]);
        let b1 = DVector::from_vec(vec![0.0, -0.5, -1.0, -0.8]);
        let v = DMatrix::from_row_slice(2, 4, &[1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
        for norm in [Norm::Linf, Norm::L2] {
            let r = certified_radius(&w1, &b1, &v, &c, &x, 0, 1, norm);
            assert!(close(r, 0.5), "{norm:?}: {r}");
            let r2 = certified_radius(
                &w1.rows(0, 2).into(),
                &b1.rows(0, 2).into(),
                &v.columns(0, 2).into(),
                &c,
                &x,
                0,
                1,
                norm,
            );
            assert!(close(r2, 1.0), "{norm:?}: {r2}");
            // t already ahead: 0; a t that can never catch up: ∞.
            let ahead = DMatrix::from_row_slice(2, 4, &[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
            assert_eq!(certified_radius(&w1, &b1, &ahead, &c, &x, 0, 1, norm), 0.0);
            let never = DMatrix::zeros(2, 4);
            let c_never = DVector::from_vec(vec![1.0, 0.0]);
            assert_eq!(
                certified_radius(&w1, &b1, &never, &c_never, &x, 0, 1, norm),
                f64::INFINITY
            );
        }
    }

    /// A root past the last breakpoint: one unit σ(x) at x = 1 with V_y = 1, V_t = 0 and
    /// c = (0, −1) gives F(ε) = −2 + ε + (ε − 1)_+, zero at ε = 1.5. A unit with zero incoming
    /// weights (its breakpoint |p|/‖w‖ is 0/0) changes nothing.
    #[test]
    fn certified_radius_past_the_last_breakpoint_ignores_zero_weight_units() {
        let x = DVector::from_vec(vec![1.0]);
        let c = DVector::from_vec(vec![0.0, -1.0]);
        let w1 = DMatrix::from_column_slice(2, 1, &[1.0, 0.0]);
        let b1 = DVector::zeros(2);
        let v = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 1.0]);
        for norm in [Norm::Linf, Norm::L2] {
            let one = certified_radius(
                &w1.rows(0, 1).into(),
                &b1.rows(0, 1).into(),
                &v.columns(0, 1).into(),
                &c,
                &x,
                0,
                1,
                norm,
            );
            assert!(close(one, 1.5), "{norm:?}: {one}");
            let with_dead = certified_radius(&w1, &b1, &v, &c, &x, 0, 1, norm);
            assert!(close(with_dead, 1.5), "{norm:?}: {with_dead}");
        }
    }

    /// Soundness on random nets: no point of a fine grid of radii along random directions, and
    /// no closed-form linearised step, makes t beat y strictly inside the certified radius.
    #[test]
    fn no_perturbation_inside_the_certified_radius_flips_a_random_net() {
        let mut r = rng::seeded(31, 0);
        let (d, m, k) = (3, 8, 3);
        for trial in 0..40 {
            let w1 = DMatrix::from_iterator(
                m,
                d,
                rng::gaussian_vector(&mut r, m * d, 1.0).iter().copied(),
            );
            let b1 = rng::gaussian_vector(&mut r, m, 0.5);
            let v = DMatrix::from_iterator(
                k,
                m,
                rng::gaussian_vector(&mut r, k * m, 1.0).iter().copied(),
            );
            let c = DVector::zeros(k);
            let x = rng::gaussian_vector(&mut r, d, 1.0);
            let f = |z: &DVector<f64>| &v * (&w1 * z + &b1).map(|a| a.max(0.0)) + &c;
            let fx = f(&x);
            let y = crate::attack::losses::argmax(fx.as_slice());
            let t = (y + 1) % k;
            for norm in [Norm::Linf, Norm::L2] {
                let radius = certified_radius(&w1, &b1, &v, &c, &x, y, t, norm);
                assert!(radius > 0.0, "trial {trial}: y is the arg max");
                if !radius.is_finite() {
                    continue;
                }
                for _ in 0..50 {
                    let u = rng::unit_sphere(&mut r, d);
                    let u = match norm {
                        Norm::Linf => u.map(f64::signum),
                        Norm::L2 => u,
                    };
                    for s in 1..100 {
                        let z = &x + &u * (radius * s as f64 / 100.0);
                        let fz = f(&z);
                        assert!(
                            fz[t] < fz[y] + 1e-9,
                            "trial {trial} {norm:?}: flipped inside r"
                        );
                    }
                }
            }
        }
    }
}
