//! SVG line plots (plotters, SVG backend, no system fonts).

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

/// Draws `series` as lines with markers into an SVG file.
pub fn line_plot(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<()> {
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() || !y0.is_finite() {
        return Err(Error::input("nothing finite to plot"));
    }
    // Ranges whose width overflows (values near ±1.8e308) or that no axis can label.
    const WIDEST: f64 = 1e100;
    for (axis, lo, hi) in [("x", x0, x1), ("y", y0, y1)] {
        if !((hi - lo).is_finite() && lo.abs() <= WIDEST && hi.abs() <= WIDEST) {
            return Err(Error::input(format!(
                "the {axis} values span [{lo:e}, {hi:e}]: too wide to plot (|value| ≤ {WIDEST:e})"
            )));
        }
    }
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
    let root = SVGBackend::new(path, (720, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
        .map_err(|e| err(e.to_string()))?;
    // Tick labels in the suite's number format: 1e−12 ticks as 1.000e-12, not 0.0.
    let tick = |v: &f64| super::fmt_num(*v);
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    // Ten distinct colours; beyond them the marker changes (circle, triangle, cross).
    let palette = [
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
    for (k, s) in series.iter().enumerate() {
        let color = palette[k % palette.len()];
        chart
            .draw_series(LineSeries::new(
                s.points.iter().cloned(),
                color.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        let style = color.filled();
        match (k / palette.len()) % 3 {
            0 => chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, style))),
            1 => chart.draw_series(s.points.iter().map(|&p| TriangleMarker::new(p, 4, style))),
            _ => chart.draw_series(s.points.iter().map(|&p| Cross::new(p, 4, style))),
        }
        .map_err(|e| err(e.to_string()))?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}
