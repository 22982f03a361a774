//! Rounded views of evidence for insta snapshots and the generated docs.
//!
//! Measured values and statistics are rounded to 3 significant digits; values below 1e−9 in
//! magnitude are floating-point noise (their exact digits depend on the SIMD path of the
//! machine) and are written as 0 — the bounds they are checked against stay exact.
//!
//! That stability must not make a snapshot blind to drift: each measurement also carries its
//! [`headroom`] against its bound. For a gate it is the decade of the measurement's distance to
//! its bound, ⌈log10(measured/bound)⌉ (⌈log10(bound/measured)⌉ for `≥`), floored at −2: a gate
//! at 1e−15 against 1e−12 reads −2, the same gate drifted to 9e−13 reads 0, and rounding noise
//! below 1 % of the bound stays at −2 (a floor of −3 would let noise near 1e−3 of the bound flip
//! between two decades from one machine to another). Other kinds carry measured/bound to 3 significant digits.

use crate::check::{Evidence, Measurement, Outcome, Relation};
use crate::theory::Kind;
use serde_json::{json, Value};

/// Rounds to `sig` significant digits.
pub fn round_sig(v: f64, sig: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let p = sig - 1 - v.abs().log10().floor() as i32;
    let f = 10f64.powi(p);
    (v * f).round() / f
}

/// A measured value as it appears in snapshots.
pub fn measured(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "inf" } else { "-inf" })
    } else if v.abs() < crate::tol::SNAPSHOT_ZERO {
        json!(0.0)
    } else {
        json!(round_sig(v, 3))
    }
}

/// The floor of a gate's headroom decade.
pub const HEADROOM_FLOOR: i32 = -2;

/// A measurement's headroom against its bound (see the module documentation): a decade for a
/// gate, measured/bound for the other kinds, `"n/a"` when inconclusive.
pub fn headroom(m: &Measurement) -> Value {
    if m.outcome == Outcome::Inconclusive {
        return json!("n/a");
    }
    let (num, den) = match m.relation {
        Relation::Le => (m.measured, m.bound),
        Relation::Ge => (m.bound, m.measured),
    };
    if m.kind == Kind::Gate {
        if den > 0.0 && num >= 0.0 && den.is_finite() {
            let e = if num == 0.0 {
                HEADROOM_FLOOR
            } else {
                ((num / den).log10().ceil() as i32).max(HEADROOM_FLOOR)
            };
            return json!(e);
        }
        // A bound of 0 (an exact gate): the measurement itself is the distance.
        return measured(m.measured - m.bound);
    }
    if m.bound != 0.0 {
        measured(m.measured / m.bound)
    } else {
        measured(m.measured)
    }
}

/// The rounded evidence.
pub fn rounded(ev: &Evidence) -> Value {
    let ms: Vec<Value> = ev
        .measurements
        .iter()
        .map(|m| {
            json!({
                "key": m.key,
                "kind": m.kind,
                "measured": measured(m.measured),
                "samples": m.samples,
                "relation": m.relation,
                // A declared constant is exact; an evaluated formula is a measurement.
                "bound": if m.formula.is_some() { measured(m.bound) } else { json!(m.bound) },
                "headroom": headroom(m),
                "outcome": m.outcome,
            })
        })
        .collect();
    let stats: serde_json::Map<String, Value> = ev
        .stats
        .iter()
        .map(|(k, v)| (k.clone(), measured(*v)))
        .collect();
    json!({
        "id": ev.id,
        "scale": ev.scale,
        "params": ev.params,
        "outcome": ev.outcome(),
        "claim": ev.claim(),
        "measurements": ms,
        "stats": stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(measured: f64, bound: f64) -> Measurement {
        Measurement {
            key: "k".into(),
            name: "k".into(),
            kind: Kind::Gate,
            relation: Relation::Le,
            bound,
            formula: None,
            measured,
            samples: 3,
            min_samples: 1,
            scope: None,
            outcome: if measured <= bound {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            passed: Some(measured <= bound),
            reason: None,
        }
    }

    #[test]
    fn a_gate_drifting_toward_its_bound_changes_its_snapshot() {
        // Both values are written as 0 (below 1e−9) …
        assert_eq!(measured(1e-15), measured(9e-13));
        // … but the headroom moves from the floor to the bound's decade.
        assert_eq!(headroom(&gate(1e-15, 1e-12)), json!(-2));
        assert_eq!(headroom(&gate(9e-13, 1e-12)), json!(0));
        assert_eq!(headroom(&gate(2e-14, 1e-12)), json!(-1));
        assert_eq!(headroom(&gate(2e-12, 1e-12)), json!(1));
    }

    #[test]
    fn rounding_noise_far_below_the_bound_does_not() {
        for noise in [0.0, 1e-17, 3.3e-16, 1.1e-15, 8e-16, 9.9e-15] {
            assert_eq!(headroom(&gate(noise, 1e-12)), json!(HEADROOM_FLOOR));
            assert_eq!(measured(noise), json!(0.0));
        }
    }

    #[test]
    fn other_kinds_carry_the_ratio_and_inconclusive_says_so() {
        let mut m = gate(0.5, 2.0);
        m.kind = Kind::Probe;
        assert_eq!(headroom(&m), json!(0.25));
        m.outcome = Outcome::Inconclusive;
        assert_eq!(headroom(&m), json!("n/a"));
    }
}
