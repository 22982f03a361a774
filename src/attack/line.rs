//! The exact first sign change of a two-layer ReLU (or leaky ReLU) net along a ray
//! (subspace.md §3 D6).
//!
//! Along x + tẑ, h(t) = Σ_i v_i σ(p_i + t s_i) with p_i = ⟨w_i, x⟩ + b_i and s_i = ⟨w_i, ẑ⟩ is
//! piecewise linear with breakpoints t_i = −p_i/s_i. Scanning the sorted positive breakpoints,
//! keeping h and its slope on each segment, finds the first t > 0 with h(t) = 0 exactly (up to
//! rounding): the root inside the first segment whose end values straddle 0, by linear
//! interpolation, or on the last, unbounded piece. The first-order estimate t₁ = −h(0)/h'(0⁺) is
//! exact iff it falls before the first breakpoint.

use crate::model::{Activation, TwoLayer};
use nalgebra::DVector;

/// The outcome of a line search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineRoot {
    /// The first t > 0 with h(t) = 0, `None` if h keeps its sign on [0, ∞).
    pub t: Option<f64>,
    /// The first-order estimate −h(0)/h'(0⁺) (∞ if h'(0⁺) does not point towards 0).
    pub t_first_order: f64,
    /// The first positive breakpoint (∞ if none).
    pub first_breakpoint: f64,
    /// h(0) = N(x).
    pub h0: f64,
}

/// Slope of σ on the side where the argument moves: 1 if active, else the leak.
fn slope_of(act: Activation, active: bool) -> f64 {
    match (act, active) {
        (_, true) => 1.0,
        (Activation::Relu, false) => 0.0,
        (Activation::Leaky(a), false) => a,
    }
}

/// Line search from `x` along `z` (any length; t is in units of ‖z‖ = 1 if z is a unit vector).
pub fn first_root(net: &TwoLayer, x: &DVector<f64>, z: &DVector<f64>) -> LineRoot {
    let w = net.w();
    let p = &w * x
        + net
            .b()
            .map_or_else(|| DVector::zeros(net.width()), DVector::from_column_slice);
    let s = &w * z;
    let v = net.v();
    let act = net.activation();
    let h0: f64 = (0..net.width()).map(|i| v[i] * act.value(p[i])).sum();
    // A slope that cancels to rounding level is zero: otherwise a flat final piece would get a
    // spurious root at ~1e17 (found by the `subspace` fuzz target).
    let slope_tol =
        crate::tol::SLOPE_ROUNDING * (0..net.width()).map(|i| (v[i] * s[i]).abs()).sum::<f64>();
    let flat = |sl: f64| if sl.abs() <= slope_tol { 0.0 } else { sl };
    // Active on (0, ε): p > 0, or p = 0 and moving up.
    let mut slope: f64 = (0..net.width())
        .map(|i| v[i] * s[i] * slope_of(act, p[i] > 0.0 || (p[i] == 0.0 && s[i] > 0.0)))
        .sum();
    slope = flat(slope);
    let mut bps: Vec<(f64, usize)> = (0..net.width())
        .filter(|&i| s[i] != 0.0 && p[i] != 0.0 && -p[i] / s[i] > 0.0)
        .map(|i| (-p[i] / s[i], i))
        .collect();
    bps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let first_breakpoint = bps.first().map_or(f64::INFINITY, |b| b.0);
    let t1 = if h0 * slope < 0.0 {
        -h0 / slope
    } else {
        f64::INFINITY
    };
    let mut out = LineRoot {
        t: None,
        t_first_order: t1,
        first_breakpoint,
        h0,
    };
    if h0 == 0.0 {
        out.t = Some(0.0);
        return out;
    }
    let (mut t_a, mut h_a) = (0.0, h0);
    for &(t_b, i) in &bps {
        let h_b = h_a + slope * (t_b - t_a);
        if slope != 0.0 && (h_b == 0.0 || h_b.signum() != h0.signum()) {
            out.t = Some(t_a - h_a / slope);
            return out;
        }
        // Unit i crosses its kink: it becomes active if s_i > 0, inactive otherwise.
        let change = v[i] * s[i] * (slope_of(act, true) - slope_of(act, false));
        slope = flat(slope + if s[i] > 0.0 { change } else { -change });
        t_a = t_b;
        h_a = h_b;
    }
    if h_a * slope < 0.0 {
        out.t = Some(t_a - h_a / slope);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Model, OutputLayer};
    use crate::rng;
    use nalgebra::DMatrix;

    /// Units exactly at their kink at x count as active only if the ray moves them up: at
    /// x = 0 along z = +1, h(t) = σ(t) + 5σ(−t) − 1 = t − 1 for t > 0, root 1; counting the
    /// unit moving down (slope −5) would find no root.
    #[test]
    fn a_unit_at_its_kink_is_active_only_when_the_ray_moves_it_up() {
        let theta = DVector::from_vec(vec![1.0, -1.0, 0.0, 0.0, 0.0, 1.0]);
        let v = DVector::from_vec(vec![1.0, 5.0, -1.0]);
        let net =
            TwoLayer::new(1, 3, Activation::Relu, true, OutputLayer::Fixed(v), theta).unwrap();
        let res = first_root(&net, &DVector::zeros(1), &DVector::from_vec(vec![1.0]));
        assert_eq!(res.h0, -1.0);
        assert_eq!(res.t, Some(1.0));
        assert_eq!(res.t_first_order, 1.0);
        assert_eq!(res.first_breakpoint, f64::INFINITY);
    }

    /// Three units active along the whole ray whose slopes cancel to rounding: v = (0.3, −0.1,
    /// −0.2), s_i = 1024 each, so Σ v_i s_i = −2.8e−14 in floating point (0 in exact
    /// arithmetic) against the tolerance 64ε·Σ|v_i s_i| = 8.7e−12. The flat piece has no root;
    /// an unflattened slope would put one at t ≈ 1e13.
    #[test]
    fn a_slope_that_cancels_to_rounding_is_flat() {
        // Both signs of h₀ (v and −v): a flat final piece has no root either way.
        for sign in [1.0, -1.0] {
            let theta = DVector::from_vec(vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
            let v = DVector::from_vec(vec![0.3, -0.1, -0.2]) * sign;
            let net =
                TwoLayer::new(1, 3, Activation::Relu, true, OutputLayer::Fixed(v), theta).unwrap();
            let x = DVector::from_vec(vec![1.0]);
            let res = first_root(&net, &x, &DVector::from_vec(vec![1024.0]));
            assert!((res.h0 - 0.3 * sign).abs() < 1e-15);
            assert_eq!(res.t, None, "h0 = {}", res.h0);
            assert_eq!(res.t_first_order, f64::INFINITY);
            assert_eq!(res.first_breakpoint, f64::INFINITY);
        }
    }

    #[test]
    fn root_is_a_zero_of_the_network_and_the_first_one() {
        let mut r = rng::seeded(9, 0);
        for trial in 0..50 {
            let (d, m) = (5, 12);
            let theta = rng::gaussian_vector(&mut r, d * m + m, 1.0);
            let act = if trial % 2 == 0 {
                Activation::Relu
            } else {
                Activation::Leaky(0.1)
            };
            let v = rng::gaussian_vector(&mut r, m, 1.0);
            let net = TwoLayer::new(d, m, act, true, OutputLayer::Fixed(v), theta).unwrap();
            let x = rng::gaussian_vector(&mut r, d, 1.0);
            let z = rng::unit_sphere(&mut r, d);
            let res = first_root(&net, &x, &z);
            let at =
                |t: f64| net.forward(&DMatrix::from_row_slice(1, d, (&x + &z * t).as_slice()))[0];
            assert!((res.h0 - at(0.0)).abs() < 1e-12);
            if let Some(t) = res.t {
                assert!(at(t).abs() < 1e-9 * (1.0 + res.h0.abs()), "trial {trial}");
                // No sign change before t on a fine grid.
                for k in 1..200 {
                    let tt = t * k as f64 / 200.0;
                    assert!(
                        at(tt) * res.h0 > 0.0 || at(tt).abs() < 1e-9,
                        "trial {trial}"
                    );
                }
            } else {
                for tt in [1.0, 10.0, 1e3] {
                    assert!(at(tt) * res.h0 > 0.0);
                }
            }
            if res.t_first_order < res.first_breakpoint {
                assert!((res.t.unwrap() - res.t_first_order).abs() <= 1e-12 * res.t_first_order);
            }
        }
    }
}
