//! Generated documentation: `docs/index.md` and one page per check, tying the statement, its
//! provenance and assumptions to the code and to the statistics of a fresh test-scale run.
//!
//! Pages contain no timings and only rounded numbers (see [`super::snapshot`]), so they are
//! reproducible and `dimple docs --check` can fail CI when the committed pages are stale.

use super::snapshot::{headroom, measured};
use crate::check::{Evidence, Outcome};
use crate::error::Result;
use crate::theory::{Bound, Constraint, Kind, Scope, Theory, ALPHA};
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

/// Text for a Markdown table cell: a `|` inside (an absolute value, a norm) would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
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
    let _ = writeln!(s, "\n## Bound (in words)\n\n{}\n", t.bound.trim());
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
    let memory = |scale| {
        crate::formula::eval(&t.resources.memory, scale)
            .map(crate::budget::human)
            .unwrap_or_else(|e| e.to_string())
    };
    let _ = writeln!(
        s,
        "\nResources: peak memory estimated as `{}` bytes ({} at the default scale, {} at the test \
         scale), checked against `--max-memory` before a run; each integer parameter is capped at \
         {}× its documented value and their joint growth at {:.0e}× (`dimple::limits`).",
        t.resources.memory.replace('|', "\\|"),
        memory(&t.params.default),
        memory(&t.params.test),
        crate::limits::CHECK_SCALE_FACTOR,
        crate::limits::CHECK_WORK_FACTOR,
    );
    contract(&mut s, t);
    let _ = writeln!(s, "\n## Measured (fresh test-scale run by `dimple docs`)\n");
    match outcome {
        Ok(ev) => {
            let claim = match ev.claim() {
                Some(c) => format!(" — claim: **{}**", c.claim_label()),
                None => String::new(),
            };
            let _ = writeln!(s, "Outcome: **{}**{claim}\n", ev.outcome().label());
            for r in ev.reasons() {
                let _ = writeln!(s, "- why: {r}");
            }
            if !ev.reasons().is_empty() {
                let _ = writeln!(s);
            }
            let _ = writeln!(
                s,
                "| key | measured | instances | bound | headroom | outcome |\n|---|---|---|---|---|---|"
            );
            for m in &ev.measurements {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} | {} {} | {} | {} |",
                    m.key,
                    value_text(&measured(m.measured)),
                    m.samples,
                    m.relation.symbol(),
                    value_text(&measured(m.bound)),
                    value_text(&headroom(m)),
                    match m.outcome {
                        Outcome::Pass => "pass".to_string(),
                        Outcome::Fail => "**fail**".to_string(),
                        Outcome::Inconclusive =>
                            format!("inconclusive ({})", cell(m.reason.as_deref().unwrap_or(""))),
                    }
                );
            }
            if !ev.stats.is_empty() {
                let _ = writeln!(s, "\n| statistic | value |\n|---|---|");
                for (k, v) in &ev.stats {
                    let _ = writeln!(s, "| {} | {} |", cell(k), value_text(&measured(*v)));
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

/// The declared measurements of the theory file: the contract the run is judged by.
fn contract(s: &mut String, t: &Theory) {
    let _ = writeln!(
        s,
        "\n## Contract (declared in the theory file)\n\n| key | kind | measurement | bound | min. instances |\n|---|---|---|---|---|"
    );
    for m in &t.measured {
        let bound = match &m.bound {
            Bound::Number(b) => super::fmt_num(*b),
            Bound::Formula(f) if f == "alpha" => {
                format!("α_i = {}", super::fmt_num(t.alpha_each()))
            }
            Bound::Formula(f) if f == "z(alpha)" => {
                format!("Φ⁻¹(1 − α_i/2), α_i = {}", super::fmt_num(t.alpha_each()))
            }
            Bound::Formula(f) => {
                let c: Vec<String> = m
                    .constants
                    .iter()
                    .map(|(k, v)| format!("{k} = {}", super::fmt_num(*v)))
                    .collect();
                if c.is_empty() {
                    f.clone()
                } else {
                    format!("{f} with {}", c.join(", "))
                }
            }
        };
        let kind = match (m.kind, m.scope) {
            (Kind::Precondition, Scope::Probes) => "precondition (of the claim)".to_string(),
            (k, _) => k.tag().to_string(),
        };
        let _ = writeln!(
            s,
            "| `{}` | {kind} | {}{} | {} {} | {} |",
            m.key,
            cell(&m.name),
            if m.description.trim().is_empty() {
                String::new()
            } else {
                format!(" — {}", cell(m.description.trim()))
            },
            m.relation.symbol(),
            cell(&bound),
            m.min_samples
        );
    }
    let stats: Vec<_> = t.measured.iter().filter(|m| m.kind == Kind::Stat).collect();
    if !stats.is_empty() {
        let _ = writeln!(
            s,
            "\nStatistical level: α = {} for the check, split evenly (Bonferroni) over its {} stat measurement(s): α_i = {}. Power at the default scale:\n",
            super::fmt_num(ALPHA),
            stats.len(),
            super::fmt_num(t.alpha_each())
        );
        for m in stats {
            let _ = writeln!(
                s,
                "- `{}`: power {} against {}",
                m.key,
                m.power.map(super::fmt_num).unwrap_or_else(|| "?".into()),
                m.alternative.as_deref().unwrap_or("?")
            );
        }
    }
}

/// The index page.
pub fn index(pages: &[(Theory, Result<Evidence>)]) -> String {
    let mut s = String::from("# dimple — checks\n\nGenerated by `dimple docs` from `theory/*.toml` and a fresh test-scale run of every check. Each page ties a statement to its provenance, assumptions, the declared measurements (the contract: key, kind, bound), the code and the measured values. Outcomes: PASS (every declared bound held on a non-empty, finite set of instances that met the preconditions), FAIL (a gate, stat or control bound was violated), INCONCLUSIVE (no instances, a NaN, too few instances, or an unmet precondition). A paper claim (the probes) is held, not held, or inconclusive. Provenance tags: [paper] read in the paper or its official code; [background] a cited prior result; [derived] derived for this suite; [pilot] an empirical number from a pilot run of this suite; [unverified] second-hand, never used as a paper's constant.\n\n| check | kind | provenance | title | test-scale outcome | claim |\n|---|---|---|---|---|---|\n");
    for (t, o) in pages {
        let (v, c) = match o {
            Ok(ev) => (
                ev.outcome().label().to_string(),
                ev.claim()
                    .map(|c| c.claim_label())
                    .unwrap_or("")
                    .to_string(),
            ),
            Err(_) => ("could not run".to_string(), String::new()),
        };
        let _ = writeln!(
            s,
            "| [`{}`](checks/{}.md) | {} | {:?} | {} | {v} | {c} |",
            t.id,
            t.id,
            t.kind.tag(),
            t.provenance,
            cell(&t.title)
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
