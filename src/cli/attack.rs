//! `dimple attack`: MALT, APGD-T or the AutoAttack standard pipeline on a multi-class model,
//! with clean and robust accuracy, the per-attack breakdown and the cost.

use super::sweep::writable;
use super::MultiClassData;
use super::{emit, Failure};
use dimple::attack::PipelineReport;
use dimple::data::npy;
use dimple::error::Error;
use dimple::model::io::{self, Loaded};
use std::path::PathBuf;

/// Threat model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NormArg {
    /// ‖δ‖∞ ≤ ε.
    Linf,
    /// ‖δ‖₂ ≤ ε.
    L2,
}

impl NormArg {
    fn name(self) -> &'static str {
        match self {
            NormArg::Linf => "linf",
            NormArg::L2 => "l2",
        }
    }
}

/// Attack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// MALT targeting, then APGD-DLR-T on the chosen targets.
    Malt,
    /// APGD-DLR-T on the top-k targets.
    ApgdT,
    /// The AutoAttack standard pipeline (APGD-CE, APGD-T, FAB-T, Square).
    Autoattack,
}

impl MethodArg {
    fn name(self) -> &'static str {
        match self {
            MethodArg::Malt => "malt",
            MethodArg::ApgdT => "apgd-t",
            MethodArg::Autoattack => "autoattack",
        }
    }
}

/// Arguments of `dimple attack`.
#[derive(clap::Args, Debug)]
pub struct AttackArgs {
    /// Model file (.safetensors, dimple.kind = mlp; e.g. from `dimple train`).
    #[arg(long)]
    pub model: PathBuf,
    /// The attacked points: the test part of a shipped set's split, or a file (values in [0, 1]).
    #[command(flatten)]
    pub data: MultiClassData,
    /// Threat model.
    #[arg(long, value_enum)]
    pub norm: NormArg,
    /// Radius ε > 0.
    #[arg(long, allow_negative_numbers = true)]
    pub eps: f64,
    /// Attack.
    #[arg(long, value_enum, default_value_t = MethodArg::Malt)]
    pub method: MethodArg,
    /// Attack only the first N ≥ 1 points.
    #[arg(long, allow_negative_numbers = true)]
    pub n: Option<i64>,
    /// APGD (and FAB) iterations (1..=1,000,000).
    #[arg(long, default_value_t = 100, allow_negative_numbers = true)]
    pub iters: i64,
    /// Targets (MALT's k; APGD-T's and FAB-T's number of targets).
    #[arg(long, default_value_t = 9, allow_negative_numbers = true)]
    pub k: i64,
    /// MALT's candidate set size (default K − 1).
    #[arg(long)]
    pub testk: Option<usize>,
    /// Seed of the random starts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the adversarial points (x where unbroken) as .npy.
    #[arg(long)]
    pub adv_out: Option<PathBuf>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the attack and prints the report.
pub fn run(a: &AttackArgs) -> Result<(), Failure> {
    if let Some(p) = &a.adv_out {
        writable(p, "--adv-out")?;
    }
    let iters = dimple::limits::count("iters (--iters)", a.iters, 1, dimple::limits::MAX_ITERS)?;
    // Range against the model's K − 1 is the library's check; here only the sign.
    let k = dimple::limits::count("k (--k)", a.k, 0, 1 << 20)?;
    let model = match io::load(&a.model)? {
        Loaded::Classifier(m) => m,
        Loaded::Binary(_) => {
            return Err(Error::input(format!(
            "{} is a binary (scalar) model; `attack` needs a multi-class MLP (dimple.kind = mlp)",
            a.model.display()
        ))
            .into())
        }
    };
    let mut data = a.data.load(false)?;
    if let Some(n) = a.n {
        let n = usize::try_from(n)
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| Error::input(format!("n (--n) must be at least 1, got {n}")))?;
        data = data.subset(&(0..n.min(data.n())).collect::<Vec<_>>());
    }
    let req = dimple::api::AttackRequest {
        norm: dimple::api::parse_norm(a.norm.name())?,
        eps: a.eps,
        method: dimple::api::Method::parse(a.method.name())?,
        iters,
        k,
        testk: a.testk,
        seed: a.seed,
    };
    let report: PipelineReport = dimple::api::attack(&model, data.x(), data.y(), &req)?;
    if let Some(p) = &a.adv_out {
        let (r, c) = report.x_adv.shape();
        let row_major: Vec<f64> = (0..r)
            .flat_map(|i| report.x_adv.row(i).iter().copied().collect::<Vec<_>>())
            .collect();
        npy::write(p, &[r, c], &row_major)?;
    }
    if a.json {
        emit(&serde_json::json!({
            "method": a.method.name(), "norm": a.norm.name(), "eps": a.eps, "points": data.n(),
            "clean_accuracy": report.clean_accuracy(), "robust_accuracy": report.robust_accuracy(),
            "broken": report.broken.iter().filter(|b| **b).count(),
            "stages": report.stages, "cost": report.cost, "seconds": report.seconds,
        })
        .to_string());
    } else {
        let mut s = format!(
            "{} ({}, ε = {}) on {} points: clean accuracy {:.4}, robust accuracy {:.4}\n",
            a.method.name(),
            a.norm.name(),
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
