//! Generated documentation: `docs/index.md` and one page per check, tying the statement, its
//! provenance and assumptions to the code and to the statistics of a fresh test-scale run.
//!
//! Pages contain no timings and only rounded numbers (see [`super::snapshot`]), so they are
//! reproducible and `dimple docs --check` can fail CI when the committed pages are stale.

use super::snapshot::measured;
use crate::check::{Evidence, Relation, Verdict};
use crate::error::Result;
use crate::theory::{Constraint, Theory};
use std::fmt::Write;

fn constraint_text(c: &Constraint) -> String {
    let mut parts = Vec::new();
    if let Some(v) = c.min {
        parts.push(format!("≥ {v}"));
    }
    if let Some(v) = c.max {
        parts.push(format!("≤ {v}"));
    }
    if let Some(v) = c.above {
        parts.push(format!("> {v}"));
    }
    if let Some(v) = c.below {
        parts.push(format!("< {v}"));
    }
    if let Some(o) = &c.less_than {
        parts.push(format!("< `{o}`"));
    }
    if c.even {
        parts.push("even".into());
    } else if c.integer {
        parts.push("integer".into());
    }
    format!("`{}` {}", c.param, parts.join(", "))
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) => n
            .as_f64()
            .map(super::fmt_num)
            .unwrap_or_else(|| n.to_string()),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One check's page.
pub fn page(t: &Theory, outcome: &Result<Evidence>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# `{}` — {}\n", t.id, t.title);
    let _ = writeln!(s, "| | |\n|---|---|\n| family | `{}` |\n| kind | {:?} |\n| paper | {} |\n| provenance of the bound | **[{:?}]** |\n| code | [`{}`](../../{}) |\n| theory file | [`theory/{}.toml`](../../theory/{}.toml) |\n", t.family, t.kind, t.paper, t.provenance, t.code, t.code, t.id, t.id);
    let _ = writeln!(s, "## Statement\n\n{}\n", t.statement.trim());
    let _ = writeln!(s, "## Assumptions\n");
    for a in &t.assumptions {
        let cs: Vec<String> = t
            .constraints
            .iter()
            .filter(|c| c.assumption == a.name)
            .map(constraint_text)
            .collect();
        let enforced = if cs.is_empty() {
            String::new()
        } else {
            format!(" Enforced on parameters: {}.", cs.join("; "))
        };
        let _ = writeln!(s, "- **{}**: {}{}", a.name, a.text.trim(), enforced);
    }
    let _ = writeln!(s, "\n## Bound\n\n{}\n", t.bound.trim());
    let _ = writeln!(s, "## Negative control\n\n{}\n", t.negative_control.trim());
    if !t.notes.trim().is_empty() {
        let _ = writeln!(s, "## Notes\n\n{}\n", t.notes.trim());
    }
    let _ = writeln!(
        s,
        "## Parameters\n\n| parameter | default | test |\n|---|---|---|"
    );
    for (k, v) in &t.params.default {
        let _ = writeln!(
            s,
            "| `{k}` | {} | {} |",
            super::fmt_num(*v),
            super::fmt_num(t.params.test[k])
        );
    }
    let _ = writeln!(s, "\n## Measured (fresh test-scale run by `dimple docs`)\n");
    match outcome {
        Ok(ev) => {
            let verdict = match ev.verdict() {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
            };
            let _ = writeln!(
                s,
                "Verdict: **{verdict}**{}\n",
                match ev.probe_verdict() {
                    Some(Verdict::Pass) => " (probe: PASS)",
                    Some(Verdict::Fail) => " (probe: FAIL, reported only)",
                    None => "",
                }
            );
            let _ = writeln!(
                s,
                "| measurement | kind | measured | bound | holds |\n|---|---|---|---|---|"
            );
            for m in &ev.measurements {
                let rel = if m.relation == Relation::Le {
                    "≤"
                } else {
                    "≥"
                };
                let _ = writeln!(
                    s,
                    "| {} | {:?} | {} | {rel} {} | {} |",
                    m.name,
                    m.kind,
                    value_text(&measured(m.measured)),
                    super::fmt_num(m.bound),
                    if m.passed { "yes" } else { "**no**" }
                );
            }
            if !ev.stats.is_empty() {
                let _ = writeln!(s, "\n| statistic | value |\n|---|---|");
                for (k, v) in &ev.stats {
                    let _ = writeln!(s, "| {k} | {} |", value_text(&measured(*v)));
                }
            }
            for n in &ev.notes {
                let _ = writeln!(s, "\n- {n}");
            }
        }
        Err(e) => {
            let _ = writeln!(s, "Could not run: {e}");
        }
    }
    s
}

/// The index page.
pub fn index(pages: &[(Theory, Result<Evidence>)]) -> String {
    let mut s = String::from("# dimple — checks\n\nGenerated by `dimple docs` from `theory/*.toml` and a fresh test-scale run of every check. Each page ties a statement to its provenance, assumptions, code and measured statistics. Provenance tags: [paper] read in the paper or its official code; [background] a cited prior result; [derived] derived for this suite; [unverified] second-hand, never used as a paper's constant.\n\n| check | kind | provenance | title | test-scale verdict |\n|---|---|---|---|---|\n");
    for (t, o) in pages {
        let v = match o {
            Ok(ev) => match (ev.verdict(), ev.probe_verdict()) {
                (Verdict::Pass, Some(Verdict::Fail)) => "PASS (probe FAIL)".to_string(),
                (Verdict::Pass, _) => "PASS".to_string(),
                (Verdict::Fail, _) => "FAIL".to_string(),
            },
            Err(_) => "could not run".to_string(),
        };
        let _ = writeln!(
            s,
            "| [`{}`](checks/{}.md) | {:?} | {:?} | {} | {v} |",
            t.id, t.id, t.kind, t.provenance, t.title
        );
    }
    s
}

/// All generated files as (relative path, contents).
pub fn render_all(pages: &[(Theory, Result<Evidence>)]) -> Vec<(String, String)> {
    let mut files = vec![("index.md".to_string(), index(pages))];
    for (t, o) in pages {
        files.push((format!("checks/{}.md", t.id), page(t, o)));
    }
    files
}
