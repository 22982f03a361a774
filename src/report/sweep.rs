//! Rendering of sweep records (see [`crate::check::sweep`]): a table with one row per grid point
//! and an SVG plot of a measurement and its bound against a swept parameter.

use super::fmt_num;
use super::plot::{line_plot, Series};
use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// One row per record: the grid values, the verdict and, for every measurement, measured/bound.
pub fn table(records: &[Value]) -> String {
    let mut out = String::new();
    for r in records {
        let grid: Vec<String> = r["grid"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} = {}", fmt_num(v.as_f64().unwrap_or(f64::NAN))))
                    .collect()
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "[{}] {}  {}\n",
            r["point"],
            grid.join(", "),
            r["verdict"].as_str().unwrap_or("?")
        ));
        if let Some(e) = r["error"].as_str() {
            out.push_str(&format!("    could not run: {e}\n"));
        }
        for m in r["evidence"]["measurements"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.push_str(&format!(
                "    {:<66} {:>11} {} {:<11} {}\n",
                m["name"].as_str().unwrap_or(""),
                fmt_num(m["measured"].as_f64().unwrap_or(f64::NAN)),
                m["relation"].as_str().unwrap_or("?"),
                fmt_num(m["bound"].as_f64().unwrap_or(f64::NAN)),
                if m["passed"].as_bool() == Some(true) {
                    "yes"
                } else {
                    "NO"
                }
            ));
        }
    }
    out
}

/// Plots, against grid parameter `x`, the measured value and the bound of every measurement
/// whose name contains `measure`, and every reported statistic whose name contains it.
pub fn plot(records: &[Value], x: &str, measure: &str, path: &Path) -> Result<()> {
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
        for m in r["evidence"]["measurements"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = m["name"].as_str().unwrap_or("");
            if name.contains(measure) {
                push(format!("{name} (measured)"), px, m["measured"].as_f64());
                push(format!("{name} (bound)"), px, m["bound"].as_f64());
            }
        }
        for (name, v) in r["evidence"]["stats"].as_object().into_iter().flatten() {
            if name.contains(measure) {
                push(name.clone(), px, v.as_f64());
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
    line_plot(path, &format!("{id}: {measure}"), x, "value", &series)
}
