//! The terminal table: measured, bound, measured/bound and verdict per measurement.

use super::fmt_num;
use crate::check::{Evidence, Relation, Verdict};
use crate::theory::Kind;

fn kind_tag(k: Kind) -> &'static str {
    match k {
        Kind::Gate => "gate",
        Kind::Stat => "stat",
        Kind::Probe => "probe",
        Kind::Control => "control",
    }
}

/// Renders one check's evidence.
pub fn render(ev: &Evidence) -> String {
    let mut s = String::new();
    let verdict = match ev.verdict() {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    };
    let probe = match ev.probe_verdict() {
        Some(Verdict::Pass) => " (probe: PASS)",
        Some(Verdict::Fail) => " (probe: FAIL, reported)",
        None => "",
    };
    s.push_str(&format!(
        "{} [{}, {:?} scale] {verdict}{probe}\n",
        ev.id,
        kind_tag(ev.kind),
        ev.scale
    ));
    let w = ev
        .measurements
        .iter()
        .map(|m| m.name.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 70);
    s.push_str(&format!(
        "  {:<w$}  {:<7}  {:>11}  {:>13}  {:>11}  {}\n",
        "measurement", "kind", "measured", "bound", "meas/bound", "ok"
    ));
    for m in &ev.measurements {
        let rel = match m.relation {
            Relation::Le => "≤",
            Relation::Ge => "≥",
        };
        let name: String = m.name.chars().take(w).collect();
        let pad = w - name.chars().count();
        s.push_str(&format!(
            "  {name}{:pad$}  {:<7}  {:>11}  {rel} {:>11}  {:>11}  {}\n",
            "",
            kind_tag(m.kind),
            fmt_num(m.measured),
            fmt_num(m.bound),
            if m.bound != 0.0 {
                fmt_num(m.ratio())
            } else {
                "-".into()
            },
            if m.passed { "yes" } else { "NO" }
        ));
    }
    for (k, v) in &ev.stats {
        s.push_str(&format!("  · {k} = {}\n", fmt_num(*v)));
    }
    for n in &ev.notes {
        s.push_str(&format!("  · note: {n}\n"));
    }
    s
}
