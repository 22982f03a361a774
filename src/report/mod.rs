//! Reporting: terminal tables, JSON Lines, rounded snapshots and the generated docs.

pub mod docs;
pub mod heatmap;
pub mod plot;
pub mod snapshot;
pub mod summary;
pub mod sweep;
pub mod table;

use crate::check::{Evidence, Outcome};
use serde::Serialize;

/// One JSON Lines record of a check run.
#[derive(Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Record<'a> {
    /// The check ran; its evidence, outcome and the claim's status.
    Ran {
        /// The evidence.
        #[serde(flatten)]
        evidence: &'a Evidence,
        /// PASS, FAIL or INCONCLUSIVE over the gate, stat and control measurements (and the
        /// preconditions).
        verdict: Outcome,
        /// The paper claim's status from the probes, if any.
        claim: Option<Outcome>,
        /// Why the check or its claim is not a pass.
        reasons: Vec<String>,
    },
    /// The check could not run.
    CouldNotRun {
        /// The check id.
        id: &'a str,
        /// Why.
        error: String,
    },
}

impl<'a> Record<'a> {
    /// The record of a finished run.
    pub fn ran(evidence: &'a Evidence) -> Self {
        Record::Ran {
            evidence,
            verdict: evidence.outcome(),
            claim: evidence.claim(),
            reasons: evidence.reasons(),
        }
    }
    /// One JSON line.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!("{{\"status\":\"could_not_run\",\"error\":\"serialisation: {e}\"}}")
        })
    }
}

/// Formats a number for humans: integers as such, otherwise 4 significant digits, scientific
/// outside [1e−3, 1e5).
pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if v.fract() == 0.0 && a < 1e9 {
        format!("{v:.0}")
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        let digits = (3 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    }
}
