//! `dimple attack`: MALT, APGD-T or the AutoAttack standard pipeline on a multi-class model,
//! with clean and robust accuracy, the per-attack breakdown and the cost.

use super::sweep::writable;
use super::MultiClassData;
use super::{emit, Failure};
use dimple::attack::square::Offsets;
use dimple::attack::{PipelineReport, Stage};
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

/// Square's window offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OffsetsArg {
    /// As the reference implementation.
    Reference,
    /// Every pixel reachable.
    Full,
}

impl From<OffsetsArg> for Offsets {
    fn from(o: OffsetsArg) -> Self {
        match o {
            OffsetsArg::Reference => Offsets::Reference,
            OffsetsArg::Full => Offsets::Full,
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
    /// Targets: MALT's k, APGD-T's number of targets, and FAB-T's unless --fab-k is given
    /// (1..=K − 1).
    #[arg(long, default_value_t = 9, allow_negative_numbers = true)]
    pub k: i64,
    /// FAB-T's number of targets (default: --k).
    #[arg(long)]
    pub fab_k: Option<usize>,
    /// `autoattack`: the stages to run, in order (default: apgd-ce,apgd-t,fab-t,square; one
    /// alone runs that attack alone).
    #[arg(long, value_delimiter = ',')]
    pub attacks: Vec<String>,
    /// Square's query budget.
    #[arg(long, default_value_t = 5000)]
    pub square_queries: usize,
    /// Square's window offsets: `reference` (as fra31/auto-attack: corners in [0, h − s − 1], so
    /// the last row and column are never perturbed after the initial stripes; what AutoAttack
    /// means) or `full` (corners in [0, h − s]: every pixel, a stronger attack). L2 Square is
    /// the suite's own version, not the reference's.
    #[arg(long, value_enum, default_value_t = OffsetsArg::Reference)]
    pub square_offsets: OffsetsArg,
    /// MALT's candidate set size (default K − 1).
    #[arg(long)]
    pub testk: Option<usize>,
    /// Seed of the random starts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the adversarial points (x where unbroken) as .npy.
    #[arg(long)]
    pub adv_out: Option<PathBuf>,
    /// Write the attacked clean points as .npy (and their labels beside it as
    /// `<name>.labels.npy`), so another tool can attack the same inputs.
    #[arg(long)]
    pub points_out: Option<PathBuf>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the attack and prints the report.
pub fn run(a: &AttackArgs) -> Result<(), Failure> {
    for (p, what) in [(&a.adv_out, "--adv-out"), (&a.points_out, "--points-out")] {
        if let Some(p) = p {
            writable(p, what)?;
        }
    }
    let iters = dimple::limits::count("iters (--iters)", a.iters, 1, dimple::limits::MAX_ITERS)?;
    // Range against the model's K − 1 is the library's check; here only the sign.
    let k = dimple::limits::count("k (--k)", a.k, 0, 1 << 20)?;
    let attacks = a
        .attacks
        .iter()
        .map(|s| Stage::parse(s.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    if !attacks.is_empty() && a.method != MethodArg::Autoattack {
        return Err(Error::input("--attacks chooses the stages of --method autoattack").into());
    }
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
        iters,
        k,
        testk: a.testk,
        seed: a.seed,
        attacks,
        fab_k: a.fab_k,
        square_queries: a.square_queries,
        square_offsets: a.square_offsets.into(),
        ..dimple::api::AttackRequest::new(
            dimple::api::parse_norm(a.norm.name())?,
            a.eps,
            dimple::api::Method::parse(a.method.name())?,
        )
    };
    let bar = super::delayed_spinner(format!("{} on {} points", a.method.name(), data.n()));
    let method = a.method.name();
    let report = dimple::api::attack_with(&model, data.x(), data.y(), &req, &mut |stage| {
        bar.set_message(format!("{method} on {} points: {stage}", data.n()))
    });
    bar.finish_and_clear();
    let report: PipelineReport = report?;
    let row_major = |m: &nalgebra::DMatrix<f64>| -> Vec<f64> {
        (0..m.nrows())
            .flat_map(|i| m.row(i).iter().copied().collect::<Vec<_>>())
            .collect()
    };
    if let Some(p) = &a.adv_out {
        let (r, c) = report.x_adv.shape();
        npy::write(p, &[r, c], &row_major(&report.x_adv))?;
    }
    if let Some(p) = &a.points_out {
        let (r, c) = data.x().shape();
        npy::write(p, &[r, c], &row_major(data.x()))?;
        let labels: Vec<f64> = data.y().iter().map(|&l| l as f64).collect();
        npy::write(&labels_path(p), &[r], &labels)?;
    }
    let stages: Vec<&str> = match a.method {
        MethodArg::Malt => vec!["malt"],
        MethodArg::ApgdT => vec!["apgd-t"],
        MethodArg::Autoattack if req.attacks.is_empty() => {
            Stage::STANDARD.iter().map(|s| s.name()).collect()
        }
        MethodArg::Autoattack => req.attacks.iter().map(|s| s.name()).collect(),
    };
    let settings = serde_json::json!({
        "method": a.method.name(), "norm": a.norm.name(), "eps": a.eps, "points": data.n(),
        "seed": a.seed, "iters": iters, "k": k, "fab_k": req.fab_k.unwrap_or(k),
        "testk": a.testk.unwrap_or(model_classes(&model) - 1), "stages": stages,
        "square_queries": req.square_queries, "square_offsets": req.square_offsets,
        "data": a.data.data, "split_seed": a.data.split_seed,
        "train_fraction": a.data.train_fraction, "part": "test",
    });
    if a.json {
        emit(&serde_json::json!({
            "settings": settings,
            "method": a.method.name(), "norm": a.norm.name(), "eps": a.eps, "points": data.n(),
            "clean_accuracy": report.clean_accuracy(), "robust_accuracy": report.robust_accuracy(),
            "broken": report.broken.iter().filter(|b| **b).count(),
            "stages": report.stages, "cost": report.cost, "seconds": report.seconds,
            "sanity": report.sanity, "warnings": report.warnings,
        })
        .to_string());
        return Ok(());
    }
    emit(&render(&report, &settings, data.n()));
    Ok(())
}

fn model_classes(m: &dimple::model::Mlp) -> usize {
    use dimple::model::Classifier;
    m.classes()
}

/// `P.npy` → `P.labels.npy`.
fn labels_path(p: &std::path::Path) -> PathBuf {
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("points");
    p.with_file_name(format!("{stem}.labels.npy"))
}

/// The text report, as AutoAttack logs it: settings, clean accuracy, robust accuracy after each
/// stage with the cumulative time, the sanity line and the warnings.
pub fn render(report: &PipelineReport, settings: &serde_json::Value, n: usize) -> String {
    let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
    let f = dimple::report::fmt_num;
    let mut s = format!(
        "{} ({}, ε = {}) on {} points\n",
        settings["method"].as_str().unwrap_or(""),
        settings["norm"].as_str().unwrap_or(""),
        f(settings["eps"].as_f64().unwrap_or(f64::NAN)),
        n
    );
    let v = |k: &str| settings[k].to_string().trim_matches('"').to_string();
    let mut set = format!(
        "  settings: seed {} · iterations {} · data {} (test part of the split with seed {}, \
         train fraction {})",
        v("seed"),
        v("iters"),
        v("data"),
        v("split_seed"),
        v("train_fraction")
    );
    match settings["method"].as_str() {
        Some("malt") => set.push_str(&format!(
            " · targets k = {} of testk = {}",
            v("k"),
            v("testk")
        )),
        Some("apgd-t") => set.push_str(&format!(" · targets {}", v("k"))),
        _ => {
            let stages: Vec<String> = settings["stages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            set.push_str(&format!(
                " · stages {} · APGD-T targets {} · FAB-T targets {} · Square {} queries, {} offsets",
                stages.join(", "),
                v("k"),
                v("fab_k"),
                v("square_queries"),
                v("square_offsets")
            ));
        }
    }
    s.push_str(&set);
    s.push('\n');
    let clean = report.clean_correct.iter().filter(|c| **c).count();
    s.push_str(&format!("  clean accuracy: {:.2}%\n", pct(clean)));
    s.push_str(
        "  stage                      broken   robust accuracy    fwd+bwd        fwd   seconds   total s\n",
    );
    for st in &report.stages {
        s.push_str(&format!(
            "  {:<26} {:>6}   {:>14.2}%   {:>8}   {:>8}   {:>7.3}   {:>7.3}\n",
            st.name,
            st.broken,
            pct(st.robust_after),
            st.cost.gradients,
            st.cost.forwards,
            st.seconds,
            st.seconds_total
        ));
    }
    s.push_str(&format!(
        "  robust accuracy: {:.2}%  (passes incl. the clean pass: {} fwd+bwd, {} fwd; {:.3} s)\n",
        100.0 * report.robust_accuracy(),
        report.cost.gradients,
        report.cost.forwards,
        report.seconds
    ));
    let sc = &report.sanity;
    s.push_str(&format!(
        "  sanity: max ‖δ‖ = {} (ε = {}), {} non-finite, x_adv in [{}, {}] — {}",
        f(sc.max_perturbation),
        f(sc.eps),
        sc.non_finite,
        f(sc.min),
        f(sc.max),
        if sc.ok() { "ok" } else { "FAILED" }
    ));
    for w in &report.warnings {
        s.push_str(&format!(
            "
  warning: {w}"
        ));
    }
    s
}
