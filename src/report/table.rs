//! The terminal table: per measurement its key, kind, measured value with its number of
//! instances, the declared bound, measured/bound and outcome; then the check's outcome, the
//! claim's status and, when either is not a pass, the reasons.

use super::fmt_num;
use crate::check::{Evidence, Measurement, Outcome};

fn mark(m: &Measurement) -> &'static str {
    match m.outcome {
        Outcome::Pass => "yes",
        Outcome::Fail => "NO",
        Outcome::Inconclusive => "n/a",
    }
}

/// Renders one check's evidence.
pub fn render(ev: &Evidence) -> String {
    let mut s = String::new();
    let claim = match ev.claim() {
        Some(c) => format!(" (claim: {})", c.claim_label()),
        None => String::new(),
    };
    s.push_str(&format!(
        "{} [{}, {:?} scale] {}{claim}\n",
        ev.id,
        ev.kind.tag(),
        ev.scale,
        ev.outcome().label()
    ));
    let kw = ev
        .measurements
        .iter()
        .map(|m| m.key.chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    s.push_str(&format!(
        "  {:<kw$}  {:<12}  {:>11}  {:>6}  {:>13}  {:>10}  {:<3}  {}\n",
        "key", "kind", "measured", "n", "bound", "meas/bound", "ok", "measurement"
    ));
    for m in &ev.measurements {
        // The ratio only means something against a positive bound.
        let ratio = if m.bound > 0.0 && m.measured.is_finite() {
            fmt_num(m.ratio())
        } else {
            "-".into()
        };
        s.push_str(&format!(
            "  {:<kw$}  {:<12}  {:>11}  {:>6}  {} {:>11}  {:>10}  {:<3}  {}\n",
            m.key,
            m.kind.tag(),
            fmt_num(m.measured),
            m.samples,
            m.relation.symbol(),
            fmt_num(m.bound),
            ratio,
            mark(m),
            m.name
        ));
    }
    for r in ev.reasons() {
        s.push_str(&format!("  · why: {r}\n"));
    }
    for (k, v) in &ev.stats {
        s.push_str(&format!("  · {k} = {}\n", fmt_num(*v)));
    }
    for n in &ev.notes {
        s.push_str(&format!("  · note: {n}\n"));
    }
    s
}
