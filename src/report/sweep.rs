//! Rendering of sweep records (see [`crate::check::sweep`]): a table with one row per grid point
//! and an SVG plot of a measurement and its bound against a swept parameter.

use super::fmt_num;
use super::plot::{line_plot_with, Axes, Series};
use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// One block per record, in the columns of the check table ([`super::table`]): the grid values
/// and the outcome, then per measurement its key, kind, measured value, instances, the relation
/// and bound, measured/bound (against a positive bound only) and the mark, then the statistics.
pub fn table(records: &[Value]) -> String {
    let num = |v: &Value| fmt_num(v.as_f64().unwrap_or(f64::NAN));
    let mut out = String::new();
    for r in records {
        let grid: Vec<String> = r["grid"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| format!("{k} = {}", num(v))).collect())
            .unwrap_or_default();
        let verdict = match r["verdict"].as_str().unwrap_or("?") {
            "Pass" => "PASS",
            "Fail" => "FAIL",
            "Inconclusive" => "INCONCLUSIVE",
            "CouldNotRun" => "COULD NOT RUN",
            other => other,
        };
        out.push_str(&format!(
            "[{}] {}  {verdict}\n",
            r["point"],
            grid.join(", ")
        ));
        if let Some(e) = r["error"].as_str() {
            out.push_str(&format!("    could not run: {e}\n"));
        }
        let ms: Vec<&Value> = r["evidence"]["measurements"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let kw = ms
            .iter()
            .map(|m| m["key"].as_str().unwrap_or("").chars().count())
            .max()
            .unwrap_or(3)
            .max(3);
        for m in &ms {
            let (measured, bound) = (
                m["measured"].as_f64().unwrap_or(f64::NAN),
                m["bound"].as_f64().unwrap_or(f64::NAN),
            );
            let ratio = if bound > 0.0 && measured.is_finite() {
                fmt_num(measured / bound)
            } else {
                "-".into()
            };
            let relation = match m["relation"].as_str() {
                Some("<=") => "≤",
                Some(">=") => "≥",
                _ => "?",
            };
            let mark = match m["outcome"].as_str() {
                Some("Pass") => "yes",
                Some("Fail") => "NO",
                _ => "n/a",
            };
            out.push_str(&format!(
                "    {:<kw$}  {:<12}  {:>11}  {:>6}  {relation} {:>11}  {:>10}  {:<3}  {}\n",
                m["key"].as_str().unwrap_or(""),
                m["kind"].as_str().unwrap_or(""),
                fmt_num(measured),
                m["samples"]
                    .as_u64()
                    .map_or("?".to_string(), |n| n.to_string()),
                fmt_num(bound),
                ratio,
                mark,
                m["name"].as_str().unwrap_or("")
            ));
        }
        for (k, v) in r["evidence"]["stats"].as_object().into_iter().flatten() {
            out.push_str(&format!("    · {k} = {}\n", num(v)));
        }
    }
    out
}

/// Plots, against grid parameter `x`, the measured value and the bound of every measurement
/// whose name contains `measure`, and every reported statistic whose name contains it. With more
/// than one grid axis, each combination of the other axes' values is its own series (labelled
/// with them), so a second grid axis shows as separate lines.
pub fn plot(records: &[Value], x: &str, measure: &str, path: &Path, axes: Axes) -> Result<()> {
    let mut series: Vec<Series> = Vec::new();
    let mut push = |label: String, px: f64, py: Option<f64>| {
        let Some(py) = py else { return };
        match series.iter_mut().find(|s| s.label == label) {
            Some(s) => s.points.push((px, py)),
            None => series.push(Series {
                label,
                points: vec![(px, py)],
            }),
        }
    };
    for r in records {
        let Some(px) = r["grid"][x].as_f64() else {
            return Err(Error::input(format!("`{x}` is not a swept parameter")));
        };
        let others: Vec<String> = r["grid"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.as_str() != x)
            .map(|(k, v)| format!("{k} = {}", fmt_num(v.as_f64().unwrap_or(f64::NAN))))
            .collect();
        let suffix = if others.is_empty() {
            String::new()
        } else {
            format!(" [{}]", others.join(", "))
        };
        for m in r["evidence"]["measurements"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = m["name"].as_str().unwrap_or("");
            if name.contains(measure) {
                push(
                    format!("{name} (measured){suffix}"),
                    px,
                    m["measured"].as_f64(),
                );
                push(format!("{name} (bound){suffix}"), px, m["bound"].as_f64());
            }
        }
        for (name, v) in r["evidence"]["stats"].as_object().into_iter().flatten() {
            if name.contains(measure) {
                push(format!("{name}{suffix}"), px, v.as_f64());
            }
        }
    }
    if series.is_empty() {
        return Err(Error::input(format!(
            "no measurement or statistic matches `{measure}`"
        )));
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let id = records
        .first()
        .and_then(|r| r["check"].as_str())
        .unwrap_or("sweep");
    line_plot_with(path, &format!("{id}: {measure}"), x, "value", &series, axes)
}
