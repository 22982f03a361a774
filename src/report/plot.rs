//! SVG line plots (plotters, SVG backend, no system fonts).
//!
//! Tick labels use the suite's number format (1e−12 ticks as `1.000e-12`, not `0.0`); a log axis
//! is drawn as log10 of the values with ticks labelled by the values themselves; the legend sits
//! beside the plotting area, never over the data; ten colours, then the marker shape changes.

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

/// One named series of (x, y) points.
pub struct Series {
    /// Legend label.
    pub label: String,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// Axis scales of a plot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Axes {
    /// log10 x axis (every x must be positive).
    pub log_x: bool,
    /// log10 y axis (every y must be positive).
    pub log_y: bool,
}

/// Draws `series` as lines with markers into an SVG file (linear axes).
pub fn line_plot(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<()> {
    line_plot_with(path, title, x_label, y_label, series, Axes::default())
}

/// Ten distinct colours (matplotlib's tab10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Ranges whose width overflows (values near ±1.8e308) or that no axis can label.
const WIDEST: f64 = 1e100;

/// The finite range of one coordinate over all series, after the axis transform.
fn range(values: impl Iterator<Item = f64>, axis: &str) -> Result<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return Err(Error::input("nothing finite to plot"));
    }
    if !((hi - lo).is_finite() && lo.abs() <= WIDEST && hi.abs() <= WIDEST) {
        return Err(Error::input(format!(
            "the {axis} values span [{lo:e}, {hi:e}]: too wide to plot (|value| ≤ {WIDEST:e})"
        )));
    }
    Ok((lo, hi))
}

/// Draws `series` with the axis scales `axes`.
pub fn line_plot_with(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    axes: Axes,
) -> Result<()> {
    let tx = |v: f64| if axes.log_x { v.log10() } else { v };
    let ty = |v: f64| if axes.log_y { v.log10() } else { v };
    for (log, axis, coord) in [(axes.log_x, "x", 0), (axes.log_y, "y", 1)] {
        if log {
            let bad = series.iter().flat_map(|s| s.points.iter()).find(|p| {
                let v = if coord == 0 { p.0 } else { p.1 };
                v.is_finite() && v <= 0.0
            });
            if let Some(p) = bad {
                return Err(Error::input(format!(
                    "a log {axis} axis needs positive values; ({}, {}) is not",
                    p.0, p.1
                )));
            }
        }
    }
    let points: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .map(|&(x, y)| (tx(x), ty(y)))
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect()
        })
        .collect();
    let (x0, x1) = range(points.iter().flatten().map(|p| p.0), "x")?;
    let (y0, y1) = range(points.iter().flatten().map(|p| p.1), "y")?;
    let pad = ((y1 - y0) * 0.05).max(1e-12 * y0.abs().max(y1.abs()).max(1.0));
    // A single x value gets a unit-wide axis around it.
    let (x0, x1) = if x1 > x0 {
        (x0, x1)
    } else {
        (x0 - 0.5, x1 + 0.5)
    };
    let err = |e: String| Error::Io {
        path: path.into(),
        source: std::io::Error::other(e),
    };
    let legend_width = 260;
    let root = SVGBackend::new(path, (720 + legend_width, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let (plot_area, legend_area) = root.split_horizontally(720);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
        .map_err(|e| err(e.to_string()))?;
    let untx = |v: &f64| super::fmt_num(if axes.log_x { 10f64.powf(*v) } else { *v });
    let unty = |v: &f64| super::fmt_num(if axes.log_y { 10f64.powf(*v) } else { *v });
    let log_note = |label: &str, log: bool| {
        if log {
            format!("{label} (log scale)")
        } else {
            label.to_string()
        }
    };
    chart
        .configure_mesh()
        .x_desc(log_note(x_label, axes.log_x))
        .y_desc(log_note(y_label, axes.log_y))
        .x_label_formatter(&untx)
        .y_label_formatter(&unty)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (k, pts) in points.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().cloned(), color.stroke_width(2)))
            .map_err(|e| err(e.to_string()))?;
        let style = color.filled();
        match (k / PALETTE.len()) % 3 {
            0 => chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, style))),
            1 => chart.draw_series(pts.iter().map(|&p| TriangleMarker::new(p, 4, style))),
            _ => chart.draw_series(pts.iter().map(|&p| Cross::new(p, 4, style))),
        }
        .map_err(|e| err(e.to_string()))?;
    }
    // The legend beside the plotting area: a line sample and the label per series.
    for (k, s) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let y = 40 + 18 * k as i32;
        legend_area
            .draw(&PathElement::new(
                vec![(4, y), (24, y)],
                color.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?;
        let label: String = s.label.chars().take(40).collect();
        legend_area
            .draw(&Text::new(label, (30, y - 6), ("sans-serif", 12)))
            .map_err(|e| err(e.to_string()))?;
    }
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("dimple-plot-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn small_values_tick_in_scientific_notation_and_log_axes_refuse_non_positive_values() {
        let s = [Series {
            label: "gate".into(),
            points: vec![(1.0, 1e-13), (2.0, 5e-13), (3.0, 9e-13)],
        }];
        let p = tmp("small.svg");
        line_plot(&p, "t", "x", "y", &s).unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(
            svg.contains("e-13"),
            "ticks of 1e−13 values must not read 0.0"
        );
        let log = Axes {
            log_x: false,
            log_y: true,
        };
        line_plot_with(&p, "t", "x", "y", &s, log).unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(svg.contains("(log scale)"));
        let bad = [Series {
            label: "b".into(),
            points: vec![(1.0, 0.0), (2.0, 1.0)],
        }];
        let e = line_plot_with(&p, "t", "x", "y", &bad, log)
            .unwrap_err()
            .to_string();
        assert!(e.contains("log y axis needs positive values"), "{e}");
        let huge = [Series {
            label: "h".into(),
            points: vec![(1.0, 1.7e308), (2.0, -1.7e308)],
        }];
        let e = line_plot(&p, "t", "x", "y", &huge).unwrap_err().to_string();
        assert!(e.contains("too wide to plot"), "{e}");
    }
}
