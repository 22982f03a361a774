//! Rounded views of evidence for insta snapshots and the generated docs.
//!
//! Measured values and statistics are rounded to 3 significant digits; values below 1e−9 in
//! magnitude are floating-point noise (their exact digits depend on the SIMD path of the
//! machine) and are written as 0 — the bounds they are checked against stay exact.

use crate::check::Evidence;
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
    } else if v.abs() < 1e-9 {
        json!(0.0)
    } else {
        json!(round_sig(v, 3))
    }
}

/// The rounded evidence.
pub fn rounded(ev: &Evidence) -> Value {
    let ms: Vec<Value> = ev
        .measurements
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "kind": m.kind,
                "measured": measured(m.measured),
                "relation": m.relation,
                "bound": m.bound,
                "passed": m.passed,
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
        "verdict": ev.verdict(),
        "probe_verdict": ev.probe_verdict(),
        "measurements": ms,
        "stats": stats,
    })
}
