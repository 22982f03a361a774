//! The method on images: positions are p × p patches of pixels (D = p² gradient entries per
//! position, L = (side/p)² positions), the gradient is that of the label's logit, one batched
//! backward pass per model for all images; the reference ranking occludes each patch (pixels
//! set to 0) and measures the drop of f₀'s logit, one batched forward pass per image.

use super::{param_hash, scores, select_models, Scores};
use crate::error::{Error, Result};
use crate::model::Classifier;
use nalgebra::DMatrix;
use plotters::prelude::*;
use std::path::Path;

/// The patch grid of a square image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Patches {
    /// Image side (pixels).
    pub side: usize,
    /// Patch side p.
    pub patch: usize,
}

impl Patches {
    /// A grid of p × p patches over a square image of d pixels; p ≥ 2 must divide the side.
    pub fn new(d: usize, patch: usize) -> Result<Self> {
        let side = (d as f64).sqrt().round() as usize;
        if side * side != d {
            return Err(Error::shape(format!("{d} features are not a square image")));
        }
        if patch < 2 || side % patch != 0 {
            return Err(Error::input(format!(
                "patch side {patch} must be ≥ 2 and divide the image side {side} (with one pixel per position the angle score is degenerate: |cos| of scalars is 0 or 1)"
            )));
        }
        Ok(Self { side, patch })
    }
    /// Positions per side.
    pub fn grid(&self) -> usize {
        self.side / self.patch
    }
    /// L = grid².
    pub fn positions(&self) -> usize {
        self.grid() * self.grid()
    }
    /// The pixel indices of position w (row-major patches, row-major pixels).
    pub fn pixels(&self, w: usize) -> Vec<usize> {
        let (g, p) = (self.grid(), self.patch);
        let (pr, pc) = (w / g, w % g);
        (0..p * p)
            .map(|k| (pr * p + k / p) * self.side + pc * p + k % p)
            .collect()
    }
    /// Row `r` of a per-pixel matrix as an L × D per-position matrix.
    pub fn gather(&self, m: &DMatrix<f64>, r: usize) -> DMatrix<f64> {
        let l = self.positions();
        let mut out = DMatrix::zeros(l, self.patch * self.patch);
        for w in 0..l {
            for (k, px) in self.pixels(w).into_iter().enumerate() {
                out[(w, k)] = m[(r, px)];
            }
        }
        out
    }
}

/// ∇_x z_{y_i}(x_i) for every row: one forward and one backward pass.
pub fn label_gradients(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
) -> (DMatrix<f64>, DMatrix<f64>) {
    let k = model.classes();
    let (z, g, _) = model.forward_backward(x, false, &mut |zz| {
        DMatrix::from_fn(zz.nrows(), k, |i, c| f64::from(u8::from(c == y[i])))
    });
    (z, g)
}

/// The scores of every image (row of `x`): `models[0]` is f₀, the rest are surrogates. Each
/// image goes through the preconditions; the gradients come from one batched pass per model.
pub fn explain_images(
    models: &[&dyn Classifier],
    x: &DMatrix<f64>,
    y: &[usize],
    patches: Patches,
) -> Result<Vec<Result<Scores>>> {
    if let Some(m) = models.iter().find(|m| m.input_dim() != x.ncols()) {
        return Err(Error::shape(format!(
            "a model takes {} features, the images have {}",
            m.input_dim(),
            x.ncols()
        )));
    }
    let hashes: Vec<u64> = models.iter().map(|m| param_hash(m.params())).collect();
    let per_model: Vec<(DMatrix<f64>, DMatrix<f64>)> =
        models.iter().map(|m| label_gradients(*m, x, y)).collect();
    let predicted: Vec<Vec<usize>> = per_model
        .iter()
        .map(|(z, _)| crate::linalg::row_argmax(z))
        .collect();
    Ok((0..x.nrows())
        .map(|i| {
            let correct: Vec<bool> = predicted.iter().map(|p| p[i] == y[i]).collect();
            let used = select_models(&correct, &hashes)?;
            let grads: Vec<DMatrix<f64>> = used
                .iter()
                .map(|&a| patches.gather(&per_model[a].1, i))
                .collect();
            scores(&grads)
        })
        .collect())
}

/// The drop of f₀'s label logit when each patch is set to 0 (one batched forward pass).
pub fn occlusion(model: &dyn Classifier, image: &[f64], y: usize, patches: Patches) -> Vec<f64> {
    let l = patches.positions();
    let d = image.len();
    let mut batch = DMatrix::from_fn(l + 1, d, |_, j| image[j]);
    for w in 0..l {
        for px in patches.pixels(w) {
            batch[(w + 1, px)] = 0.0;
        }
    }
    let z = model.logits(&batch);
    (0..l).map(|w| z[(0, y)] - z[(w + 1, y)]).collect()
}

/// The image beside one heat map per named score (per position), as SVG.
pub fn heat_maps(
    path: &Path,
    image: &[f64],
    patches: Patches,
    maps: &[(&str, &[f64])],
) -> Result<()> {
    let cell = 8u32;
    let side = patches.side as u32;
    let panel = side * cell;
    let width = (panel + 20) * (maps.len() as u32 + 1) + 20;
    let root = SVGBackend::new(path, (width, panel + 90)).into_drawing_area();
    let err = |e: String| Error::input(format!("cannot draw {}: {e}", path.display()));
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let draw_panel =
        |k: u32, title: &str, value: &dyn Fn(usize, usize) -> f64, grey: bool| -> Result<()> {
            let x0 = 20 + k * (panel + 20);
            root.draw(&Text::new(
                title.to_string(),
                (x0 as i32, 10),
                ("sans-serif", 14).into_font(),
            ))
            .map_err(|e| err(e.to_string()))?;
            for r in 0..patches.side {
                for c in 0..patches.side {
                    let v = value(r, c).clamp(0.0, 1.0);
                    let colour = if grey {
                        let g = (255.0 * (1.0 - v)) as u8;
                        RGBColor(g, g, g)
                    } else {
                        RGBColor(
                            (255.0 * v) as u8,
                            (80.0 * v) as u8,
                            (255.0 * (1.0 - v)) as u8,
                        )
                    };
                    let (px, py) = ((x0 + c as u32 * cell) as i32, (35 + r as u32 * cell) as i32);
                    root.draw(&Rectangle::new(
                        [(px, py), (px + cell as i32, py + cell as i32)],
                        colour.filled(),
                    ))
                    .map_err(|e| err(e.to_string()))?;
                }
            }
            Ok(())
        };
    draw_panel(0, "image", &|r, c| image[r * patches.side + c], true)?;
    for (k, (name, vals)) in maps.iter().enumerate() {
        let (lo, hi) = vals
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        let g = patches.grid();
        let p = patches.patch;
        draw_panel(
            k as u32 + 1,
            name,
            &|r, c| (vals[(r / p) * g + c / p] - lo) / span,
            false,
        )?;
        // The colour scale under the panel: 20 steps from the map's smallest to largest value.
        let x0 = (20 + (k as u32 + 1) * (panel + 20)) as i32;
        let y0 = (35 + panel + 8) as i32;
        let step = (panel as i32 / 20).max(1);
        for j in 0..20 {
            let v = j as f64 / 19.0;
            let colour = RGBColor(
                (255.0 * v) as u8,
                (80.0 * v) as u8,
                (255.0 * (1.0 - v)) as u8,
            );
            root.draw(&Rectangle::new(
                [(x0 + j * step, y0), (x0 + (j + 1) * step, y0 + 8)],
                colour.filled(),
            ))
            .map_err(|e| err(e.to_string()))?;
        }
        for (text, x) in [
            (crate::report::fmt_num(lo), x0),
            (crate::report::fmt_num(hi), x0 + 20 * step - 30),
        ] {
            root.draw(&Text::new(
                text,
                (x, y0 + 12),
                ("sans-serif", 10).into_font(),
            ))
            .map_err(|e| err(e.to_string()))?;
        }
    }
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}
