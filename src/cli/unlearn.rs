//! `dimple unlearn`: one gradient-ascent step on a user's model (or a generated instance), the
//! certificate before and after, the comparison with retraining, and the step-size sweep.

use super::sweep::writable;
use super::{delayed_spinner, emit, parse_set, Failure};
use dimple::api::{GeneratedSpec, Multipliers};
use dimple::data;
use dimple::error::Error;
use dimple::model::io::{self, Loaded};
use dimple::model::Model;
use dimple::report;
use std::path::{Path, PathBuf};

/// Where λ comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MultipliersArg {
    /// The NNLS certificate.
    Certificate,
    /// The training loss (λ_i ∝ |ℓ'(q_i)|, logistic, scale fitted to θ̃).
    Loss,
}

impl From<MultipliersArg> for Multipliers {
    fn from(m: MultipliersArg) -> Self {
        match m {
            MultipliersArg::Certificate => Multipliers::Certificate,
            MultipliersArg::Loss => Multipliers::Loss,
        }
    }
}

/// Arguments of `dimple unlearn`.
#[derive(clap::Args, Debug)]
pub struct UnlearnArgs {
    /// Model file (.safetensors, linear or two-layer); omit to generate an instance.
    #[arg(long, requires_all = ["data", "labels"])]
    pub model: Option<PathBuf>,
    /// Data file (n × d), with --model.
    #[arg(long, requires = "model")]
    pub data: Option<PathBuf>,
    /// Labels file (±1), with --model.
    #[arg(long, requires = "model")]
    pub labels: Option<PathBuf>,
    /// Indices to forget, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub forget: Vec<usize>,
    /// Step as a fraction c ≥ 0 of the theorem's step (θ' = θ − c·Σ λ_r g_r).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub fraction: f64,
    /// Where λ comes from: the NNLS certificate, or the training loss (λ_i ∝ |ℓ'(q_i)|,
    /// logistic, scale fitted to θ̃).
    #[arg(long, value_enum, default_value_t = MultipliersArg::Certificate)]
    pub multipliers: MultipliersArg,
    /// For a user's two-layer model: the initialisation to retrain from on the retained set.
    #[arg(long, requires = "model")]
    pub init: Option<PathBuf>,
    /// Steps of the retraining baseline: GD on the retained set from the initialisation (--init,
    /// or the generated instance's); the learning rate is the suite's rule 0.5·8n/λ_max(XXᵀ), not
    /// an option. The generated instance's own training steps are `--set steps=…`.
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Parameters of the generated instance (without --model): n points, dimension d, width m,
    /// its GD training steps, seed (the retraining baseline runs `--steps` steps).
    #[arg(
        long = "set",
        value_name = "NAME=VALUE",
        conflicts_with = "model",
        allow_negative_numbers = true
    )]
    pub set: Vec<String>,
    /// Memory budget in GiB (default: half the physical memory).
    #[arg(long, allow_negative_numbers = true)]
    pub max_memory: Option<f64>,
    /// Write the step-size sweep ε_rel(c), c ∈ [0, 2] (Figure 1) as an SVG plot.
    #[arg(long)]
    pub sweep: Option<PathBuf>,
    /// Write the unlearned model (.safetensors).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What is unlearned: the model, its data and (if known) the initialisation and learning rate
/// to retrain with.
struct Instance {
    model: Box<dyn Model>,
    data: data::Binary,
    init: Option<Box<dyn Model>>,
    lr: Option<f64>,
}

fn load_binary_model(path: &Path) -> Result<Box<dyn Model>, Error> {
    match io::load(path)? {
        Loaded::Binary(m) => Ok(m),
        Loaded::Classifier(_) => Err(Error::input(format!(
            "{} holds a multi-class MLP; this command needs a linear or two-layer model",
            path.display()
        ))),
    }
}

/// Unlearns and prints the report.
pub fn run(a: &UnlearnArgs) -> Result<(), Failure> {
    if !(a.fraction >= 0.0) || !a.fraction.is_finite() {
        return Err(Error::input(format!(
            "fraction (--fraction) must be a finite number ≥ 0, got {}",
            a.fraction
        ))
        .into());
    }
    for (p, what) in [(&a.out, "--out"), (&a.sweep, "--sweep")] {
        if let Some(p) = p {
            writable(p, what)?;
        }
    }
    let budget = dimple::budget::Budget::from_gib(a.max_memory)?;
    // The instance: the model, the data and (if known) the initialisation and learning rate.
    let Instance {
        model,
        data,
        init,
        lr,
    } = match (&a.model, &a.data, &a.labels) {
        (Some(mp), Some(dp), Some(lp)) => Instance {
            model: load_binary_model(mp)?,
            data: data::load::binary(dp, lp)?,
            init: a.init.as_deref().map(load_binary_model).transpose()?,
            lr: None,
        },
        (Some(_), _, _) => return Err(Error::input("--model needs --data and --labels").into()),
        (None, _, _) => {
            let spec = GeneratedSpec::from_overrides(&parse_set(&a.set)?, &budget)?;
            let bar = delayed_spinner(format!(
                "training the generated instance (n = {}, d = {}, m = {}, {} GD steps)",
                spec.n, spec.d, spec.m, spec.steps
            ));
            let g = spec.generate();
            bar.finish_and_clear();
            let g = g?;
            Instance {
                model: g.model,
                data: g.data,
                init: Some(g.init),
                lr: Some(g.lr),
            }
        }
    };
    let bar = delayed_spinner(if init.is_some() {
        format!("unlearning, then retraining for {} steps", a.steps)
    } else {
        "unlearning".to_string()
    });
    let outcome = dimple::api::unlearn(
        model.as_ref(),
        &data,
        &dimple::api::UnlearnRequest {
            forget: &a.forget,
            fraction: a.fraction,
            multipliers: a.multipliers.into(),
            init: init.as_deref(),
            lr,
            steps: a.steps,
        },
    );
    bar.finish_and_clear();
    let outcome = outcome?;
    let u = &outcome.unlearned;
    let comparison = outcome
        .retraining
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| Error::input(e.to_string()))?;
    // Figure-1 sweep.
    let mut sweep_rows = Vec::new();
    if let Some(path) = &a.sweep {
        sweep_rows = dimple::api::step_sweep(u, &data)?;
        let series = [dimple::report::plot::Series {
            label: "ε_rel of θ − c·Σλ_r g_r on S_r".into(),
            points: sweep_rows.clone(),
        }];
        dimple::report::plot::line_plot(
            path,
            "Unlearning step-size sweep",
            "c = β/β*",
            "ε / ‖θ'‖ on the retained set",
            &series,
        )?;
    }
    if let Some(out) = &a.out {
        io::save(out, &io::model_bytes(u.model.as_ref())?)?;
    }
    if a.json {
        let v =
            serde_json::json!({"report": u.report, "retraining": comparison, "sweep": sweep_rows});
        emit(&v.to_string());
        return Ok(());
    }
    let f = report::fmt_num;
    let r = &u.report;
    emit(&format!(
        "Unlearning {:?} from {} points with {} (step fraction c = {})",
        r.forget,
        data.n(),
        model.name(),
        r.fraction
    ));
    emit(&format!(
        "  before, on S (normalised):   ε/‖θ̃‖ = {}  δ = {}  τ = {}  ({:?})",
        f(r.before.eps_rel),
        f(r.before.delta),
        f(r.before.tau),
        r.before.status
    ));
    emit(&format!(
        "  β*_r = λ_r/|ℓ'(q_r)|:         {}",
        r.beta_star
            .iter()
            .map(|b| f(*b))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    emit(&format!(
        "  after, on S_r, μ = λ|S_r:     ε/‖θ'‖ = {}  δ = {}  τ = {}",
        f(r.with_certificate.eps_rel),
        f(r.with_certificate.delta),
        f(r.with_certificate.tau)
    ));
    emit(&format!(
        "  after, on S_r, μ = NNLS:      ε/‖θ'‖ = {}  δ = {}  τ = {}",
        f(r.with_nnls.eps_rel),
        f(r.with_nnls.delta),
        f(r.with_nnls.tau)
    ));
    emit(&format!(
        "  after, renormalised:          ε/‖θ̃'‖ = {}  δ = {}  τ = {}",
        f(r.renormalised.eps_rel),
        f(r.renormalised.delta),
        f(r.renormalised.tau)
    ));
    match &outcome.retraining {
        Some(c) => {
            let list = |v: &[f64]| v.iter().map(|x| f(*x)).collect::<Vec<_>>().join(", ");
            let q = &c.forgotten_margin_over_qmin;
            emit(&format!(
                "  retraining ({}): cos(θ, θ_ret) = {}  cos(θ', θ_ret) = {}",
                c.baseline,
                f(c.cos_original_retrained),
                f(c.cos_unlearned_retrained)
            ));
            emit(&format!(
                "  forgotten points' q_r/q_min:  original {}  unlearned {}  retrained {}",
                list(&q.original),
                list(&q.unlearned),
                list(&q.retrained)
            ));
            emit(&format!(
                "  on S_r against θ_ret:          prediction agreement original {} / unlearned {}; \
                 mean |Δ normalised margin| original {} / unlearned {}",
                f(c.retained_prediction_agreement.original),
                f(c.retained_prediction_agreement.unlearned),
                f(c.retained_mean_normalised_margin_gap.original),
                f(c.retained_mean_normalised_margin_gap.unlearned)
            ));
        }
        None => emit("  retraining: skipped (two-layer user model without --init)"),
    }
    for (c, e) in &sweep_rows {
        emit(&format!("  sweep c = {c:.2}: ε_rel = {}", f(*e)));
    }
    Ok(())
}
