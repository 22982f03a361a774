//! `dimple attack`: MALT, APGD-T or the AutoAttack standard pipeline on a multi-class model,
//! with clean and robust accuracy, the per-attack breakdown and the cost.

use super::multiclass;
use crate::{emit, Failure};
use dimple::attack::PipelineReport;
use dimple::data::npy;
use dimple::error::Error;
use dimple::model::io::{self, Loaded};
use std::path::Path;

/// Arguments of `dimple attack`.
pub struct AttackArgs<'a> {
    pub model: &'a Path,
    pub data: &'a str,
    pub labels: Option<&'a Path>,
    pub norm: &'a str,
    pub eps: f64,
    pub method: &'a str,
    pub n: Option<usize>,
    pub iters: usize,
    pub k: usize,
    pub testk: Option<usize>,
    pub seed: u64,
    pub split_seed: u64,
    pub train_fraction: f64,
    pub adv_out: Option<&'a Path>,
    pub json: bool,
}

pub fn run(a: &AttackArgs<'_>) -> Result<(), Failure> {
    let model = match io::load(a.model)? {
        Loaded::Classifier(m) => m,
        Loaded::Binary(_) => {
            return Err(Error::input(format!(
            "{} is a binary (scalar) model; `attack` needs a multi-class MLP (dimple.kind = mlp)",
            a.model.display()
        ))
            .into())
        }
    };
    let mut data = multiclass(a.data, a.labels, a.split_seed, a.train_fraction, false)?;
    if let Some(n) = a.n {
        data = data.subset(&(0..n.min(data.n())).collect::<Vec<_>>());
    }
    let req = dimple::api::AttackRequest {
        norm: dimple::api::parse_norm(a.norm)?,
        eps: a.eps,
        method: dimple::api::Method::parse(a.method)?,
        iters: a.iters,
        k: a.k,
        testk: a.testk,
        seed: a.seed,
    };
    let report: PipelineReport = dimple::api::attack(&model, data.x(), data.y(), &req)?;
    if let Some(p) = a.adv_out {
        let (r, c) = report.x_adv.shape();
        let row_major: Vec<f64> = (0..r)
            .flat_map(|i| report.x_adv.row(i).iter().copied().collect::<Vec<_>>())
            .collect();
        npy::write(p, &[r, c], &row_major)?;
    }
    if a.json {
        emit(&serde_json::json!({
            "method": a.method, "norm": a.norm, "eps": a.eps, "points": data.n(),
            "clean_accuracy": report.clean_accuracy(), "robust_accuracy": report.robust_accuracy(),
            "broken": report.broken.iter().filter(|b| **b).count(),
            "stages": report.stages, "cost": report.cost, "seconds": report.seconds,
        })
        .to_string());
    } else {
        let mut s = format!(
            "{} ({}, ε = {}) on {} points: clean accuracy {:.4}, robust accuracy {:.4}\n",
            a.method,
            a.norm,
            a.eps,
            data.n(),
            report.clean_accuracy(),
            report.robust_accuracy()
        );
        s.push_str("  stage              broken   fwd+bwd passes   fwd passes   seconds\n");
        for st in &report.stages {
            s.push_str(&format!(
                "  {:<18} {:>6}   {:>14}   {:>10}   {:>7.3}\n",
                st.name, st.broken, st.cost.gradients, st.cost.forwards, st.seconds
            ));
        }
        s.push_str(&format!(
            "  total (incl. the clean pass) {:>10} fwd+bwd, {} fwd, {:.3} s",
            report.cost.gradients, report.cost.forwards, report.seconds
        ));
        emit(&s);
    }
    Ok(())
}
