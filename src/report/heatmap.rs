//! SVG heat maps: square panels of side × side cells, side by side, each under its title.
//!
//! A [`Style::Grey`] panel shows values in [0, 1] as grey levels (0 white, 1 black; an image);
//! a [`Style::Scaled`] panel maps its own smallest value to blue and its largest to red (linear
//! in between; a constant panel is drawn at its smallest colour) and has its colour scale under
//! it, labelled with those two values.

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

/// Cell size in pixels.
const CELL: u32 = 8;

/// How a panel colours its cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Values in [0, 1] as grey levels (clamped).
    Grey,
    /// The panel's own range, blue to red, with a colour scale under it.
    Scaled,
}

/// One panel: its title and its side × side cells in row-major order.
pub struct Panel<'a> {
    /// Title above the panel.
    pub title: &'a str,
    /// The values, row by row.
    pub cells: &'a [f64],
    /// Colouring.
    pub style: Style,
}

/// The colour of v ∈ [0, 1] on the blue-to-red scale.
fn scaled(v: f64) -> RGBColor {
    RGBColor(
        (255.0 * v) as u8,
        (80.0 * v) as u8,
        (255.0 * (1.0 - v)) as u8,
    )
}

/// The smallest and largest value of a panel.
fn range(cells: &[f64]) -> (f64, f64) {
    cells
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        })
}

/// Draws `panels` (each of side × side cells) side by side into an SVG file. Refuses a panel
/// without side² cells.
pub fn draw(path: &Path, side: usize, panels: &[Panel<'_>]) -> Result<()> {
    if let Some(p) = panels.iter().find(|p| p.cells.len() != side * side) {
        return Err(Error::shape(format!(
            "heat map panel {:?} has {} cells, not {side} × {side}",
            p.title,
            p.cells.len()
        )));
    }
    let panel = side as u32 * CELL;
    let width = (panel + 20) * panels.len() as u32 + 20;
    let root = SVGBackend::new(path, (width, panel + 90)).into_drawing_area();
    let err = |e: String| Error::input(format!("cannot draw {}: {e}", path.display()));
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    for (k, p) in panels.iter().enumerate() {
        let x0 = 20 + k as u32 * (panel + 20);
        root.draw(&Text::new(
            p.title.to_string(),
            (x0 as i32, 10),
            ("sans-serif", 14).into_font(),
        ))
        .map_err(|e| err(e.to_string()))?;
        let (lo, hi) = range(p.cells);
        let span = if hi > lo { hi - lo } else { 1.0 };
        for r in 0..side {
            for c in 0..side {
                let v = p.cells[r * side + c];
                let colour = match p.style {
                    Style::Grey => {
                        let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
                        RGBColor(g, g, g)
                    }
                    Style::Scaled => scaled(((v - lo) / span).clamp(0.0, 1.0)),
                };
                let (px, py) = ((x0 + c as u32 * CELL) as i32, (35 + r as u32 * CELL) as i32);
                root.draw(&Rectangle::new(
                    [(px, py), (px + CELL as i32, py + CELL as i32)],
                    colour.filled(),
                ))
                .map_err(|e| err(e.to_string()))?;
            }
        }
        if p.style == Style::Scaled {
            // The colour scale: 20 steps from the panel's smallest to its largest value.
            let (x0, y0) = (x0 as i32, (35 + panel + 8) as i32);
            let step = (panel as i32 / 20).max(1);
            for j in 0..20 {
                root.draw(&Rectangle::new(
                    [(x0 + j * step, y0), (x0 + (j + 1) * step, y0 + 8)],
                    scaled(j as f64 / 19.0).filled(),
                ))
                .map_err(|e| err(e.to_string()))?;
            }
            for (text, x) in [
                (super::fmt_num(lo), x0),
                (super::fmt_num(hi), x0 + 20 * step - 30),
            ] {
                root.draw(&Text::new(
                    text,
                    (x, y0 + 12),
                    ("sans-serif", 10).into_font(),
                ))
                .map_err(|e| err(e.to_string()))?;
            }
        }
    }
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_colours_run_from_blue_to_red() {
        assert_eq!(scaled(0.0), RGBColor(0, 0, 255));
        assert_eq!(scaled(1.0), RGBColor(255, 80, 0));
        assert_eq!(range(&[2.0, -1.0, 5.0]), (-1.0, 5.0));
    }

    #[test]
    fn panels_are_drawn_with_one_rectangle_per_cell_and_a_labelled_scale() {
        let dir = std::env::temp_dir().join(format!("dimple-heatmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("maps.svg");
        let image = [0.0, 1.0, 0.5, 0.25];
        let score = [3.0, -1.0, 1.0, 2.0];
        let panels = [
            Panel {
                title: "image",
                cells: &image,
                style: Style::Grey,
            },
            Panel {
                title: "score",
                cells: &score,
                style: Style::Scaled,
            },
        ];
        draw(&path, 2, &panels).expect("drawn");
        let svg = std::fs::read_to_string(&path).expect("written");
        // 4 + 4 cells, 20 scale steps, the background.
        assert_eq!(svg.matches("<rect").count(), 4 + 4 + 20 + 1, "{svg}");
        for text in [
            "image",
            "score",
            &crate::report::fmt_num(-1.0),
            &crate::report::fmt_num(3.0),
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        // The largest score is red, the smallest blue, a black pixel black.
        for colour in ["#FF5000", "#0000FF", "#000000"] {
            assert!(svg.to_uppercase().contains(colour), "{colour} missing");
        }
        let short = [Panel {
            title: "short",
            cells: &image[..3],
            style: Style::Grey,
        }];
        assert!(draw(&path, 2, &short).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
