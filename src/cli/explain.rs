//! `dimple explain`: explanation of one image (or a summary over several) from gradient
//! agreement between the explained MLP and independently trained surrogates, with precision of
//! the top-k patches against the occlusion reference and an SVG heat map.

use super::sweep::writable;
use super::MultiClassData;
use super::{emit, Failure};
use dimple::error::Error;
use dimple::explain::images::{heat_maps, occlusion, Patches};
use dimple::explain::{order, precision_at, Ranking, Scores};
use dimple::model::io::{self, Loaded};
use dimple::model::Mlp;
use std::path::{Path, PathBuf};

/// Arguments of `dimple explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The explained model (.safetensors MLP).
    #[arg(long)]
    pub model: PathBuf,
    /// Surrogate models, comma-separated (at least 3 must agree with the label; no copies).
    #[arg(long, value_delimiter = ',', required = true)]
    pub surrogates: Vec<PathBuf>,
    /// The images: the test part of a shipped set's split (`mnist5k`, `digits`), or a file of
    /// square images.
    #[command(flatten)]
    pub data: MultiClassData,
    /// The image to explain.
    #[arg(long, default_value_t = 0)]
    pub index: usize,
    /// Summarise the first N images instead (mean precision against occlusion).
    #[arg(long, default_value_t = 1)]
    pub images: usize,
    /// Number of patches listed (and k of precision@k).
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Patch side in pixels (positions are p × p patches, D = p²).
    #[arg(long, default_value_t = 4)]
    pub patch: usize,
    /// Write the heat maps (S, IP, NORM, occlusion) beside the image as SVG.
    #[arg(long)]
    pub map: Option<PathBuf>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn load_mlp(p: &Path) -> Result<Mlp, Error> {
    match io::load(p)? {
        Loaded::Classifier(m) => Ok(m),
        Loaded::Binary(_) => Err(Error::input(format!(
            "{} is not a multi-class MLP",
            p.display()
        ))),
    }
}

fn precisions(sc: &Scores, reference: &[usize], k: usize, l: usize) -> [f64; 4] {
    [
        precision_at(&order(sc, Ranking::S), reference, k),
        precision_at(&order(sc, Ranking::Ip), reference, k),
        precision_at(&order(sc, Ranking::Norm), reference, k),
        k as f64 / l as f64,
    ]
}

/// Explains and prints the ranked patches.
pub fn run(a: &ExplainArgs) -> Result<(), Failure> {
    if let Some(p) = &a.map {
        writable(p, "--map")?;
    }
    let f0 = load_mlp(&a.model)?;
    let surrogates: Vec<Mlp> = a
        .surrogates
        .iter()
        .map(|p| load_mlp(p))
        .collect::<Result<_, _>>()?;
    // Configuration errors first: a copy of f₀ among the surrogates, or too few surrogates.
    let data = a.data.load(false)?;
    let patches = Patches::new(data.d(), a.patch)?;
    let l = patches.positions();
    if a.top == 0 || a.top > l {
        return Err(
            Error::input(format!("--top must lie in 1..={l} (the number of patches)")).into(),
        );
    }
    let rows: Vec<usize> = if a.images > 1 {
        (0..a.images.min(data.n())).collect()
    } else {
        if a.index >= data.n() {
            return Err(Error::input(format!(
                "--index {} is out of range ({} images)",
                a.index,
                data.n()
            ))
            .into());
        }
        vec![a.index]
    };
    let sub = data.subset(&rows);
    let bar = super::delayed_spinner(format!(
        "explaining {} image(s) with {} surrogate models",
        rows.len(),
        surrogates.len()
    ));
    let results = dimple::api::explain(&f0, &surrogates, sub.x(), sub.y(), a.patch);
    bar.finish_and_clear();
    let results = results?;
    if a.images > 1 {
        let (mut sum, mut used, mut skipped) = ([0.0; 4], 0usize, 0usize);
        for (r, res) in results.iter().enumerate() {
            let Ok(sc) = res else {
                skipped += 1;
                continue;
            };
            let img: Vec<f64> = sub.x().row(r).iter().copied().collect();
            let drop = occlusion(&f0, &img, sub.y()[r], patches);
            let mut idx: Vec<usize> = (0..l).collect();
            idx.sort_by(|&x, &y| drop[y].total_cmp(&drop[x]));
            let p = precisions(sc, &idx[..a.top], a.top, l);
            for (s, v) in sum.iter_mut().zip(p) {
                *s += v;
            }
            used += 1;
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / used.max(1) as f64).collect();
        if a.json {
            emit(&serde_json::json!({"images": used, "skipped_preconditions": skipped, "top": a.top, "patch": a.patch,
                "precision_vs_occlusion": {"S": mean[0], "IP": mean[1], "NORM": mean[2], "random": mean[3]}}).to_string());
        } else {
            emit(&format!(
                "{used} images explained ({skipped} failed the preconditions); precision@{} of the top patches against the occlusion reference:\n  S {:.3}   IP {:.3}   NORM {:.3}   random {:.3}",
                a.top, mean[0], mean[1], mean[2], mean[3]
            ));
        }
        return Ok(());
    }
    let sc = results
        .into_iter()
        .next()
        .ok_or_else(|| Error::input("no image"))??;
    let img: Vec<f64> = sub.x().row(0).iter().copied().collect();
    let drop = occlusion(&f0, &img, sub.y()[0], patches);
    let mut reference: Vec<usize> = (0..l).collect();
    reference.sort_by(|&x, &y| drop[y].total_cmp(&drop[x]));
    let p = precisions(&sc, &reference[..a.top], a.top, l);
    if let Some(path) = &a.map {
        heat_maps(
            path,
            &img,
            patches,
            &[
                ("S", &sc.s),
                ("IP", &sc.ip),
                ("NORM", &sc.norm),
                ("occlusion", &drop),
            ],
        )?;
    }
    let top_s = order(&sc, Ranking::S);
    let g = patches.grid();
    if a.json {
        let rows: Vec<serde_json::Value> = top_s
            .iter()
            .take(a.top)
            .map(|&w| serde_json::json!({"patch": w, "row": w / g, "col": w % g, "S": sc.s[w], "IP": sc.ip[w], "NORM": sc.norm[w], "occlusion_drop": drop[w]}))
            .collect();
        emit(
            &serde_json::json!({"index": a.index, "label": sub.y()[0], "tau": sc.tau, "top": rows,
            "precision_vs_occlusion": {"S": p[0], "IP": p[1], "NORM": p[2], "random": p[3]}})
            .to_string(),
        );
    } else {
        let mut s = format!(
            "image {} (label {}), {} patches of {}×{} pixels, τ = {:.4}\n",
            a.index,
            sub.y()[0],
            l,
            a.patch,
            a.patch,
            sc.tau
        );
        s.push_str("  rank  patch (row, col)        S        IP      NORM   occlusion drop\n");
        for (r, &w) in top_s.iter().take(a.top).enumerate() {
            s.push_str(&format!(
                "  {:>4}  {:>5} ({:>2}, {:>2})  {:>8.4}  {:>8.4}  {:>8.4}  {:>10.4}\n",
                r + 1,
                w,
                w / g,
                w % g,
                sc.s[w],
                sc.ip[w],
                sc.norm[w],
                drop[w]
            ));
        }
        s.push_str(&format!(
            "  precision@{} against the occlusion reference: S {:.3}, IP {:.3}, NORM {:.3}, random {:.3}",
            a.top, p[0], p[1], p[2], p[3]
        ));
        emit(&s);
    }
    Ok(())
}
