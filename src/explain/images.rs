//! The method on images: positions are p × p patches of pixels (D = p² gradient entries per
//! position, L = (side/p)² positions), the gradient is that of the label's logit, one batched
//! backward pass per model for all images; the reference ranking occludes each patch (pixels
//! set to 0) and measures the drop of f₀'s logit, one batched forward pass per image.

use super::{param_hash, scores, select_models, Scores};
use crate::error::{Error, Result};
use crate::model::Classifier;
use crate::report::heatmap::{draw, Panel, Style};
use nalgebra::DMatrix;
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

/// The image beside one heat map per named score (per position), as SVG: each position's score
/// fills its p × p patch ([`crate::report::heatmap`] draws the panels).
pub fn heat_maps(
    path: &Path,
    image: &[f64],
    patches: Patches,
    maps: &[(&str, &[f64])],
) -> Result<()> {
    let (side, p, g) = (patches.side, patches.patch, patches.grid());
    if let Some((name, vals)) = maps.iter().find(|(_, v)| v.len() != g * g) {
        return Err(Error::shape(format!(
            "heat map {name:?} has {} scores, the {g} × {g} patch grid needs {}",
            vals.len(),
            g * g
        )));
    }
    let cells: Vec<Vec<f64>> = maps
        .iter()
        .map(|(_, vals)| {
            (0..side * side)
                .map(|k| vals[(k / side / p) * g + (k % side) / p])
                .collect()
        })
        .collect();
    let mut panels = vec![Panel {
        title: "image",
        cells: image,
        style: Style::Grey,
    }];
    panels.extend(maps.iter().zip(&cells).map(|((name, _), c)| Panel {
        title: name,
        cells: c,
        style: Style::Scaled,
    }));
    draw(path, side, &panels)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A score list that does not fill the patch grid is refused with its name, not indexed
    /// out of bounds.
    #[test]
    fn heat_maps_refuse_a_score_list_of_the_wrong_length() {
        let patches = Patches { side: 4, patch: 2 };
        let path = std::env::temp_dir().join(format!("dimple-maps-{}.svg", std::process::id()));
        let image = [0.5; 16];
        let e = heat_maps(&path, &image, patches, &[("IP", &[1.0, 2.0, 3.0])]).unwrap_err();
        assert!(e.to_string().contains("\"IP\" has 3 scores"), "{e}");
        heat_maps(&path, &image, patches, &[("IP", &[1.0, 2.0, 3.0, 4.0])]).expect("drawn");
        std::fs::remove_file(&path).ok();
    }
}
