//! Generated documentation: `docs/index.md` and one page per check, tying the statement, its
//! provenance and assumptions to the code and to the statistics of a fresh test-scale run.
//!
//! Pages contain no timings and only rounded numbers (see [`super::snapshot`]), so they are
//! reproducible and `dimple docs --check` can fail CI when the committed pages are stale.

use super::snapshot::{headroom, measured};
use crate::check::{Evidence, Measurement, Outcome};
use crate::error::Result;
use crate::theory::{Bound, ClaimReview, Constraint, Kind, Scope, Theory, ALPHA};
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
    if let Some(c) = &t.claim {
        let _ = writeln!(
            s,
            "## The paper claim (see [claims](../claims.md))\n\n{}\n",
            c.claim.trim()
        );
        review(&mut s, c, "../");
        let _ = writeln!(s);
    }
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

/// The paper's arXiv identifier (the first in the reference), or its first clause.
fn paper_short(paper: &str) -> String {
    match paper.find("arXiv:") {
        Some(i) => paper[i..]
            .chars()
            .take_while(|c| !matches!(c, ',' | ' ' | ';' | ')'))
            .collect(),
        None => cell(paper.split(',').next().unwrap_or(paper).trim()),
    }
}

/// The review's power, finding, evidence, variant and figure as list items (`root` leads from
/// the page to `docs/`).
fn review(s: &mut String, c: &ClaimReview, root: &str) {
    let _ = writeln!(s, "- power: {}", c.power.trim());
    if let Some(f) = c.finding {
        let _ = writeln!(s, "- finding at the default scale: {}", f.label());
    }
    if !c.evidence.trim().is_empty() {
        let _ = writeln!(s, "- review: {}", c.evidence.trim());
    }
    if let Some(v) = &c.variant {
        let _ = writeln!(s, "- variant: `{v}`");
    }
    if let Some(f) = &c.figure {
        let _ = writeln!(
            s,
            "\n![{}]({root}{})\n\n{} (`{}`)",
            f.caption, f.path, f.caption, f.command
        );
    }
}

/// One probe (or unmet precondition) against its bound, marked ✓ / ✗ / ?.
fn against_bound(m: &Measurement) -> String {
    let mark = match m.outcome {
        Outcome::Pass => "✓",
        Outcome::Fail => "✗",
        Outcome::Inconclusive => "?",
    };
    format!(
        "`{}` {} {} {} {mark}",
        m.key,
        value_text(&measured(m.measured)),
        m.relation.symbol(),
        value_text(&measured(m.bound)),
    )
}

/// The claims page: one row per paper claim (a check with probes) from its default-scale run
/// (the documented run), with its status, the probes against their bounds, the finding of its
/// review and the command that reproduces it; then each claim's power and evidence.
pub fn claims(runs: &[(Theory, Result<Evidence>)]) -> String {
    let mut s = String::from("# dimple — paper claims\n\nGenerated by `dimple docs` from the `[claim]` review of each theory file and a fresh default-scale run of every check that measures a paper claim (its probes). Status: **held** (every probe within its bound, the claim's preconditions met), **not held** (a probe outside its bound in a run that met them), **inconclusive** (an unmet precondition, or no instances). A claim not held is reviewed as one of: *precondition* (the run did not reach the claim's regime), *setup* (the suite's setting differs from the paper's in a way that decides it), *counterexample* (it fails where its assumptions hold); *open* when the evidence does not yet decide. \"Power\" says what would have made the probes fail.\n\n| check | paper | claim | status | measured against the claim | scale | finding | reproduce |\n|---|---|---|---|---|---|---|---|\n");
    let reviewed = runs
        .iter()
        .filter_map(|(t, o)| t.claim.as_ref().map(|c| (t, c, o)));
    for (t, c, o) in reviewed.clone() {
        let (status, probes, finding) = match o {
            Ok(ev) => {
                let claim = ev.claim();
                let probes: Vec<String> = ev
                    .measurements
                    .iter()
                    .filter(|m| {
                        m.kind == Kind::Probe
                            || (m.kind == Kind::Precondition && m.outcome != Outcome::Pass)
                    })
                    .map(against_bound)
                    .collect();
                let finding = match (claim, c.finding) {
                    (Some(Outcome::Pass), _) => "—",
                    (_, Some(f)) => f.label(),
                    (_, None) => "open",
                };
                (
                    claim.map_or("", Outcome::claim_label),
                    probes.join("<br>"),
                    finding,
                )
            }
            Err(e) => ("could not run", cell(&e.to_string()), "—"),
        };
        let _ = writeln!(
            s,
            "| [`{}`](checks/{}.md) | {} | {} | **{status}** | {} | default | {finding} | `dimple check {}` |",
            t.id,
            t.id,
            paper_short(&t.paper),
            cell(c.claim.trim()),
            cell(&probes),
            t.id
        );
    }
    for (t, c, _) in reviewed {
        let _ = writeln!(
            s,
            "\n## `{}`\n\n{}\n\n- paper: {}",
            t.id,
            c.claim.trim(),
            t.paper
        );
        review(&mut s, c, "");
    }
    s
}

/// Why the figure `t`'s claim review cites is missing under `docs_dir`, if it is (the figure is
/// drawn by its command, not by `dimple docs`).
pub fn missing_figure(t: &Theory, docs_dir: &std::path::Path) -> Option<String> {
    let f = t.claim.as_ref()?.figure.as_ref()?;
    (!docs_dir.join(&f.path).is_file()).then(|| {
        format!(
            "theory/{}.toml cites the figure {}, which does not exist; draw it with `{}`",
            t.id,
            docs_dir.join(&f.path).display(),
            f.command
        )
    })
}

/// All generated files as (relative path, contents): the index and the check pages from the
/// test-scale `pages`, the claims page from the default-scale `claim_runs`.
pub fn render_all(
    pages: &[(Theory, Result<Evidence>)],
    claim_runs: &[(Theory, Result<Evidence>)],
) -> Vec<(String, String)> {
    let mut files = vec![
        ("index.md".to_string(), index(pages)),
        ("claims.md".to_string(), claims(claim_runs)),
    ];
    for (t, o) in pages {
        files.push((format!("checks/{}.md", t.id), page(t, o)));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::{missing_figure, paper_short};

    #[test]
    fn a_cited_figure_must_exist() {
        let t = crate::theory::get("kkt.twolayer.trajectory").expect("theory");
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        assert_eq!(missing_figure(&t, &docs), None);
        let why = missing_figure(&t, &docs.join("checks")).expect("not there");
        assert!(why.contains("kkt-trajectory-eps-ratio.svg") && why.contains("dimple sweep"));
        // A review without a figure has nothing to miss.
        let held = crate::theory::get("subspace.c6_universal").expect("theory");
        assert_eq!(missing_figure(&held, &docs.join("checks")), None);
    }

    #[test]
    fn a_claim_row_names_its_paper_by_the_first_arxiv_identifier() {
        assert_eq!(
            paper_short("Melamed et al. 2023, arXiv:2303.00783, Figure 2"),
            "arXiv:2303.00783"
        );
        assert_eq!(
            paper_short("Lyu & Li 2020 (arXiv:1906.05890)"),
            "arXiv:1906.05890"
        );
        assert_eq!(paper_short("Lyu & Li 2020, Theorem 4.4"), "Lyu & Li 2020");
    }
}
