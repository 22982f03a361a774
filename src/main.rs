//! The `dimple` command line. See `dimple --help`.
//!
//! Exit codes: 0 every gate, stat and control holds; 1 some verdict failed; 2 bad input or usage
//! (unknown id, parameter outside a theorem's assumptions, malformed file); 3 a check could not
//! run (solver status, numerical failure).

// `!(x >= 0.0)` rejects NaN as well as negative values.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod cli;

use clap::{Parser, Subcommand};
use dimple::check::{self, Outcome, RunConfig, Scale};
use dimple::error::Error;
use dimple::model::io::{self, Loaded};
use dimple::model::Model;
use dimple::report::{self, docs, table, Record};
use dimple::{checks, data, theory};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "dimple", version, about = "Executable checks of theorems about the high-dimensional geometry of trained neural networks", long_about = None)]
struct Cli {
    /// Threads for parallel seeds and large matrix products (0 = all cores). Results do not
    /// depend on it.
    #[arg(long, global = true, default_value_t = 0)]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the registered checks.
    List {
        /// JSON Lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run checks: a check id (kkt.euler), a family (kkt) or `all`.
    Check {
        /// Check id, family, or `all`.
        target: String,
        /// Parameter scale.
        #[arg(long, default_value = "default", value_parser = ["test", "default"])]
        scale: String,
        /// Number of seeds (sets the `seeds` parameter).
        #[arg(long)]
        seeds: Option<usize>,
        /// Override a parameter: --set name=value (repeatable). Values outside the theorem's
        /// assumptions are refused.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// JSON Lines (one record per check) instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Print the KKT certificate of a homogeneous model (linear or two-layer, .safetensors) on
    /// data (.npy or .csv, one sample per row) with ±1 labels.
    Certify {
        /// Model file (.safetensors; see the README for tensor names).
        #[arg(long)]
        model: PathBuf,
        /// Data file (n × d).
        #[arg(long)]
        data: PathBuf,
        /// Labels file (n values, each −1 or +1).
        #[arg(long)]
        labels: PathBuf,
        /// Also report ε*(δ₀) from the box QP for this δ₀ ≥ 0 (dense route).
        #[arg(long, allow_negative_numbers = true)]
        box_delta: Option<f64>,
        /// `dense`: exact, from the n × n Gram matrix; `matrix-free`: Jacobian-vector products
        /// only, ε bracketed between an upper and a lower bound; `auto`: dense when its estimate
        /// (about 5·10¹¹ flops at most, ≈ 10–20 s) and memory fit, else matrix-free.
        #[arg(long, default_value = "auto", value_parser = ["auto", "dense", "matrix-free"])]
        route: String,
        /// Matrix-free: most iterations (each is two passes over the data).
        #[arg(long, default_value_t = 2000, allow_negative_numbers = true)]
        max_iters: i64,
        /// Matrix-free: stop when (ε_upper − ε_lower)/ε_upper ≤ this.
        #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
        gap: f64,
        /// Memory budget in GiB (default: half the physical memory); runs estimated above it
        /// are refused before they allocate.
        #[arg(long, allow_negative_numbers = true)]
        max_memory: Option<f64>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Unlearn points by one gradient-ascent step and report the certificate before and after,
    /// the (ε, δ, τ) triple on the retained set and the comparison with retraining. Without
    /// --model the instance is generated (V1 trained by GD on points on the sphere; parameters
    /// n, d, m, steps, seed via --set).
    Unlearn {
        /// Model file (.safetensors, linear or two-layer); omit to generate an instance.
        #[arg(long, requires_all = ["data", "labels"])]
        model: Option<PathBuf>,
        /// Data file (n × d).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Labels file (±1).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Indices to forget, comma-separated (default: 0).
        #[arg(long, value_delimiter = ',', default_value = "0")]
        forget: Vec<usize>,
        /// Step as a fraction c of the theorem's step (θ' = θ − c·Σ λ_r g_r).
        #[arg(long, default_value_t = 1.0)]
        fraction: f64,
        /// Where λ comes from: the NNLS certificate, or the training loss (λ_i ∝ |ℓ'(q_i)|,
        /// logistic, scale fitted to θ̃).
        #[arg(long, default_value = "certificate", value_parser = ["certificate", "loss"])]
        multipliers: String,
        /// For a user's two-layer model: the initialisation to retrain from on the retained set.
        #[arg(long)]
        init: Option<PathBuf>,
        /// Retraining steps (user model with --init) and learning rate (default 0.5·8n/λ_max).
        #[arg(long, default_value_t = 2000)]
        steps: usize,
        /// Generated instance parameters: n, d, m, steps, seed.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Write the step-size sweep ε_rel(c), c ∈ [0, 2] (Figure 1) as an SVG plot.
        #[arg(long)]
        sweep: Option<PathBuf>,
        /// Write the unlearned model (.safetensors).
        #[arg(long)]
        out: Option<PathBuf>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run one check over a parameter grid (cartesian product of the --grid options), in
    /// parallel, printing a table, writing JSON Lines and optionally an SVG plot. With
    /// --shard k/n only the k-th of n slices runs (for batch-scheduler array jobs; join the
    /// outputs with `dimple merge`).
    Sweep {
        /// Check id.
        check: String,
        /// name=v1,v2,… (repeatable; the last varies fastest).
        #[arg(long = "grid", value_name = "NAME=V1,V2,…", required = true)]
        grid: Vec<String>,
        /// Parameter scale of the values not swept.
        #[arg(long, default_value = "default", value_parser = ["test", "default"])]
        scale: String,
        /// Number of seeds (sets the `seeds` parameter).
        #[arg(long)]
        seeds: Option<usize>,
        /// Fixed overrides: --set name=value (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Run only shard k of n (1-based), e.g. 3/10.
        #[arg(long)]
        shard: Option<String>,
        /// Write one JSON record per grid point to this file (JSON Lines).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write an SVG plot of the measurement(s) matching --measure against --x.
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Swept parameter on the plot's x axis (default: the first --grid).
        #[arg(long)]
        x: Option<String>,
        /// Substring of the measurement or statistic names to plot (default: the first measurement).
        #[arg(long)]
        measure: Option<String>,
        /// JSON Lines on stdout instead of the table (no progress bar).
        #[arg(long)]
        json: bool,
    },
    /// Join the JSON Lines outputs of sweep shards: checks that they come from one sweep,
    /// reports missing grid points, prints the table and optionally writes the joined records
    /// and a plot.
    Merge {
        /// Shard outputs (JSON Lines).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write the joined records here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write an SVG plot (see `sweep --plot`).
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Swept parameter on the x axis (default: the first grid parameter).
        #[arg(long)]
        x: Option<String>,
        /// Substring of the measurement names to plot (default: the first measurement).
        #[arg(long)]
        measure: Option<String>,
        /// JSON Lines on stdout instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Attack a multi-class MLP (.safetensors) with MALT, APGD-T or the AutoAttack standard
    /// pipeline (APGD-CE, APGD-T, FAB-T, Square); prints clean and robust accuracy, the
    /// per-attack breakdown and the cost (passes and wall time).
    Attack {
        /// Model file (.safetensors, dimple.kind = mlp; e.g. from `dimple train`).
        #[arg(long)]
        model: PathBuf,
        /// `digits` or `mnist5k` (the test part of the seeded split), or a data file (n × d,
        /// values in [0, 1]).
        #[arg(long)]
        data: String,
        /// Labels file (class indices) for a data file.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Threat model.
        #[arg(long, value_parser = ["linf", "l2"])]
        norm: String,
        /// Radius ε > 0.
        #[arg(long, allow_negative_numbers = true)]
        eps: f64,
        /// Attack.
        #[arg(long, default_value = "malt", value_parser = ["malt", "apgd-t", "autoattack"])]
        method: String,
        /// Attack only the first N points.
        #[arg(long)]
        n: Option<usize>,
        /// APGD (and FAB) iterations.
        #[arg(long, default_value_t = 100)]
        iters: usize,
        /// Targets (MALT's k; APGD-T's and FAB-T's number of targets).
        #[arg(long, default_value_t = 9)]
        k: usize,
        /// MALT's candidate set size (default K − 1).
        #[arg(long)]
        testk: Option<usize>,
        /// Seed of the random starts.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Seed and train fraction of the split of a shipped data set.
        #[arg(long, default_value_t = 0)]
        split_seed: u64,
        /// Train fraction of the split of a shipped data set.
        #[arg(long, default_value_t = 0.8)]
        train_fraction: f64,
        /// Write the adversarial points (x where unbroken) as .npy.
        #[arg(long)]
        adv_out: Option<PathBuf>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Explain an image from gradient agreement between the model and independently trained
    /// surrogates: ranked patches with IP, NORM and S, precision against occlusion, a heat map.
    Explain {
        /// The explained model (.safetensors MLP).
        #[arg(long)]
        model: PathBuf,
        /// Surrogate models, comma-separated (at least 3 must agree with the label).
        #[arg(long, value_delimiter = ',', required = true)]
        surrogates: Vec<PathBuf>,
        /// `mnist5k` or `digits` (the test part of the seeded split), or a data file (square images).
        #[arg(long)]
        data: String,
        /// Labels file for a data file.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// The image to explain.
        #[arg(long, default_value_t = 0)]
        index: usize,
        /// Summarise the first N images instead (mean precision against occlusion).
        #[arg(long, default_value_t = 1)]
        images: usize,
        /// Number of patches listed (and k of precision@k).
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Patch side in pixels (positions are p × p patches, D = p²).
        #[arg(long, default_value_t = 4)]
        patch: usize,
        /// Write the heat maps (S, IP, NORM, occlusion) beside the image as SVG.
        #[arg(long)]
        map: Option<PathBuf>,
        /// Seed of the split of a shipped data set.
        #[arg(long, default_value_t = 0)]
        split_seed: u64,
        /// Train fraction of the split of a shipped data set.
        #[arg(long, default_value_t = 0.8)]
        train_fraction: f64,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Train a multi-class MLP by full-batch GD on the cross-entropy and save it (.safetensors).
    Train {
        /// `digits` or `mnist5k` (the train part of the seeded split), or a data file.
        #[arg(long)]
        data: String,
        /// Labels file for a data file.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Hidden widths, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "64,32")]
        hidden: Vec<usize>,
        /// GD steps.
        #[arg(long, default_value_t = 500)]
        steps: usize,
        /// Learning rate.
        #[arg(long, default_value_t = 0.5)]
        lr: f64,
        /// Initialisation seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Seed of the split of a shipped data set.
        #[arg(long, default_value_t = 0)]
        split_seed: u64,
        /// Train fraction of the split of a shipped data set.
        #[arg(long, default_value_t = 0.8)]
        train_fraction: f64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Regenerate docs/ (index and one page per check, from a fresh test-scale run).
    Docs {
        /// Output directory.
        #[arg(long, default_value = "docs")]
        out: PathBuf,
        /// Do not write: fail if the committed pages differ from a fresh generation.
        #[arg(long)]
        check: bool,
    },
}

pub(crate) enum Failure {
    Verdict,
    Inconclusive,
    Input(Error),
    CouldNotRun(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Solver(_) | Error::NonFinite(_) | Error::Contract(_) => Failure::CouldNotRun(e),
            other => Failure::Input(other),
        }
    }
}

/// Writes one line to stdout; a closed pipe (`dimple … | head`) ends the process quietly with
/// the conventional SIGPIPE status instead of a panic.
pub(crate) fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

fn parse_set(items: &[String]) -> Result<Vec<(String, f64)>, Error> {
    items
        .iter()
        .map(|s| {
            let (k, v) = s
                .split_once('=')
                .ok_or_else(|| Error::input(format!("--set expects NAME=VALUE, got `{s}`")))?;
            let v: f64 = v
                .trim()
                .parse()
                .map_err(|_| Error::input(format!("--set {k}: `{v}` is not a number")))?;
            Ok((k.trim().to_string(), v))
        })
        .collect()
}

fn cmd_list(json: bool) -> Result<(), Failure> {
    for t in theory::all()? {
        if json {
            emit(&serde_json::json!({"id": t.id, "family": t.family, "kind": t.kind, "provenance": t.provenance, "title": t.title}).to_string());
        } else {
            emit(&format!(
                "{:<28} {:<6} {:<12} {}",
                t.id,
                format!("{:?}", t.kind).to_lowercase(),
                format!("[{:?}]", t.provenance).to_lowercase(),
                t.title
            ));
        }
    }
    Ok(())
}

fn cmd_check(
    target: &str,
    scale: &str,
    seeds: Option<usize>,
    set: &[String],
    json: bool,
) -> Result<(), Failure> {
    let selected = checks::select(target)?;
    let cfg = RunConfig {
        scale: Scale::parse(scale).unwrap_or_default(),
        seeds,
        overrides: parse_set(set)?,
    };
    // Validate every selected check's parameters before running any of them.
    let theories = selected
        .iter()
        .map(|c| theory::get(c.id()))
        .collect::<Result<Vec<_>, _>>()?;
    if selected.len() == 1 || seeds.is_some() || !cfg.overrides.is_empty() {
        for t in &theories {
            check::resolve_params(t, &cfg)?;
        }
    }
    let bar = if !json && std::io::stderr().is_terminal() {
        let b = ProgressBar::new(selected.len() as u64);
        b.set_style(
            ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        b
    } else {
        ProgressBar::hidden()
    };
    let mut could_not = None;
    let mut summary = report::summary::Summary::default();
    for (c, t) in selected.iter().zip(&theories) {
        bar.set_message(c.id().to_string());
        let start = std::time::Instant::now();
        let out = check::run(c.as_ref(), t, &cfg);
        bar.inc(1);
        summary.add(c.id(), out.as_ref().ok());
        match out {
            Ok(ev) => {
                if json {
                    emit(&Record::ran(&ev).to_line());
                } else {
                    bar.suspend(|| {
                        emit(&format!(
                            "{}  · wall time {:.2} s\n",
                            table::render(&ev),
                            start.elapsed().as_secs_f64()
                        ))
                    });
                }
            }
            Err(e) => {
                if json {
                    emit(
                        &Record::CouldNotRun {
                            id: c.id(),
                            error: e.to_string(),
                        }
                        .to_line(),
                    );
                } else {
                    bar.suspend(|| emit(&format!("{} COULD NOT RUN: {e}\n", c.id())));
                }
                could_not.get_or_insert(e);
            }
        }
    }
    bar.finish_and_clear();
    if selected.len() > 1 {
        if json {
            emit(&summary.to_json().to_string());
        } else {
            emit(&summary.render());
        }
    }
    if let Some(e) = could_not {
        return Err(Failure::from(e));
    }
    match summary.outcome() {
        Outcome::Fail => Err(Failure::Verdict),
        Outcome::Inconclusive => Err(Failure::Inconclusive),
        Outcome::Pass => Ok(()),
    }
}

struct SweepOutput<'a> {
    out: Option<&'a Path>,
    plot: Option<&'a Path>,
    x: Option<&'a str>,
    measure: Option<&'a str>,
    json: bool,
}

/// Table or JSON lines, the records file and the plot of a finished sweep or merge.
fn emit_sweep(records: &[serde_json::Value], o: &SweepOutput<'_>) -> Result<(), Failure> {
    if o.json {
        for r in records {
            emit(&r.to_string());
        }
    } else {
        emit(&report::sweep::table(records));
    }
    if let Some(path) = o.out {
        let text: String = records.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
    }
    if let Some(path) = o.plot {
        let first = records
            .first()
            .ok_or_else(|| Error::input("no records to plot"))?;
        let x = match o.x {
            Some(x) => x.to_string(),
            None => first["grid"]
                .as_object()
                .and_then(|m| m.keys().next().cloned())
                .unwrap_or_default(),
        };
        let measure = match o.measure {
            Some(m) => m.to_string(),
            None => first["evidence"]["measurements"][0]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        };
        report::sweep::plot(records, &x, &measure, path)?;
    }
    if records.iter().any(|r| r["verdict"] == "CouldNotRun") {
        return Err(Failure::CouldNotRun(Error::input(
            "some grid points could not run (see their records)",
        )));
    }
    if records.iter().any(|r| r["verdict"] == "Fail") {
        return Err(Failure::Verdict);
    }
    if records.iter().any(|r| r["verdict"] == "Inconclusive") {
        return Err(Failure::Inconclusive);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn cmd_sweep(
    id: &str,
    grid: &[String],
    scale: &str,
    seeds: Option<usize>,
    set: &[String],
    shard: Option<&str>,
    o: &SweepOutput<'_>,
) -> Result<(), Failure> {
    let c = checks::select(id)?
        .into_iter()
        .find(|c| c.id() == id)
        .ok_or_else(|| Error::input(format!("`{id}` is a family; sweep takes one check id")))?;
    let t = theory::get(id)?;
    let grid = check::sweep::Grid::parse(grid)?;
    let base = RunConfig {
        scale: Scale::parse(scale).unwrap_or_default(),
        seeds,
        overrides: parse_set(set)?,
    };
    let shard = shard
        .map(check::sweep::parse_shard)
        .transpose()?
        .unwrap_or((1, 1));
    let points = check::sweep::shard_points(grid.len(), shard);
    check::sweep::validate(&t, &grid, &base, &points)?;
    let bar = if !o.json && std::io::stderr().is_terminal() {
        let b = ProgressBar::new(points.len() as u64);
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{pos}/{len}] ({elapsed}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.set_message(id.to_string());
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        b
    } else {
        ProgressBar::hidden()
    };
    let records = check::sweep::run_points(c.as_ref(), &t, &grid, &base, &points, &|| bar.inc(1));
    bar.finish_and_clear();
    emit_sweep(&records, o)
}

fn cmd_merge(files: &[PathBuf], o: &SweepOutput<'_>) -> Result<(), Failure> {
    let mut records = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        for (line_no, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| Error::format(f, format!("line {}: {e}", line_no + 1)))?;
            records.push(v);
        }
    }
    let (records, missing) = check::sweep::merge(records)?;
    if !missing.is_empty() {
        eprintln!(
            "warning: {} grid point(s) missing from the shards: {:?}",
            missing.len(),
            missing
        );
    }
    emit_sweep(&records, o)
}

/// A spinner on stderr that appears only if the work is still running after two seconds (and
/// only on a terminal), so quick commands print nothing extra.
fn delayed_spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message);
    if std::io::stderr().is_terminal() {
        let shown = bar.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(2));
            if !shown.is_finished() {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown.enable_steady_tick(std::time::Duration::from_millis(200));
            }
        });
    }
    bar
}

fn cmd_certify(
    model: &Path,
    data_path: &Path,
    labels: &Path,
    req: &dimple::api::CertifyRequest,
    json: bool,
) -> Result<(), Failure> {
    let model = match io::load(model)? {
        Loaded::Binary(m) => m,
        Loaded::Classifier(_) => return Err(Error::input("certify needs a scalar-output model (linear or two-layer); this file holds a multi-class MLP").into()),
    };
    let data = data::load::binary(data_path, labels)?;
    let bar = delayed_spinner(format!(
        "certifying {} on {} points",
        model.name(),
        data.n()
    ));
    let outcome = dimple::api::certify_with(model.as_ref(), &data, req, &mut |it, up, lo| {
        bar.set_message(format!(
            "matrix-free certificate: iteration {it}, ε ∈ [{}, {}]",
            report::fmt_num(lo),
            report::fmt_num(up)
        ))
    });
    bar.finish_and_clear();
    let report = match outcome? {
        dimple::api::CertifyOutcome::Dense(r) => r,
        dimple::api::CertifyOutcome::MatrixFree(r) => {
            print_matrix_free(&r, data.n(), json)?;
            return Ok(());
        }
    };
    let (cert, loss_eps) = (&report.certificate, report.loss_implied_eps);
    if json {
        let mut v = serde_json::to_value(&report).map_err(|e| Error::input(e.to_string()))?;
        v["route"] = serde_json::json!("dense");
        v["lambda"] = serde_json::json!(cert.lambda.as_slice());
        emit(&v.to_string());
    } else {
        emit(&format!(
            "KKT certificate of {} on {} points (d = {})",
            model.name(),
            data.n(),
            data.d()
        ));
        let f = report::fmt_num;
        emit(&format!("  homogeneity L            {}", cert.homogeneity));
        emit(&format!("  min margin (raw)         {}", f(cert.q_min_raw)));
        emit(&format!(
            "  normalised by            q_min^(1/L) = {}",
            f(cert.scale)
        ));
        emit(&format!(
            "  ‖θ̃‖                      {}",
            f(cert.theta_norm)
        ));
        emit(&format!(
            "  ε (stationarity)         {}   (ε/‖θ̃‖ = {})",
            f(cert.eps),
            f(cert.eps_rel)
        ));
        emit(&format!(
            "  δ = max λ(q − 1)         {}   (max λ|q − 1| = {})",
            f(cert.delta),
            f(cert.delta_abs)
        ));
        emit(&format!("  τ (feasibility slack)    {}", f(cert.tau)));
        emit(&format!(
            "  Σλ vs ‖θ̃‖²/L             {} vs {}",
            f(cert.lambda_sum),
            f(cert.theta_norm.powi(2) / cert.homogeneity as f64)
        ));
        emit(&format!(
            "  support                  {} of {}",
            cert.support,
            data.n()
        ));
        emit(&format!(
            "  Jacobian rank            {} of {}: λ {}",
            cert.rank,
            data.n(),
            if cert.unique {
                "unique"
            } else if cert.reselected {
                "not unique; reported: the residual minimiser of smallest δ"
            } else {
                "not unique; the solver's minimiser already had the smallest δ found"
            }
        ));
        emit(&format!(
            "  route                    dense (exact; {})",
            match cert.method {
                dimple::margin::multipliers::Method::ActiveSet => "active set",
                dimple::margin::multipliers::Method::TallLawsonHanson =>
                    "Lawson–Hanson on the tall Jacobian",
                dimple::margin::multipliers::Method::InteriorPoint => "interior point",
            }
        ));
        emit(&format!(
            "  solver                   {:?}{}",
            cert.status,
            if cert.polished {
                ", polished"
            } else {
                ", raw interior point"
            }
        ));
        emit(&format!("  Euler consistency        {}", f(cert.euler_gap)));
        if let Some(b) = cert.box_eps {
            emit(&format!("  box QP ε*(δ₀)            {}", f(b)));
        }
        if let Some(e) = loss_eps {
            emit(&format!(
                "  ε of loss-implied λ      {}   (λ_i ∝ |ℓ'(q_i)|, logistic)",
                f(e)
            ));
        }
    }
    Ok(())
}

fn print_matrix_free(
    r: &dimple::api::MatrixFreeReport,
    n: usize,
    json: bool,
) -> Result<(), Failure> {
    let c = &r.certificate;
    if json {
        let mut v = serde_json::to_value(dimple::api::CertifyOutcome::MatrixFree(r.clone()))
            .map_err(|e| Error::input(e.to_string()))?;
        v["lambda"] = serde_json::json!(c.lambda.as_slice());
        emit(&v.to_string());
        return Ok(());
    }
    let f = report::fmt_num;
    emit(&format!(
        "KKT certificate of {} on {n} points (matrix-free: Jacobian-vector products, no Gram matrix)",
        r.model
    ));
    emit(&format!("  homogeneity L            {}", c.homogeneity));
    emit(&format!("  min margin (raw)         {}", f(c.q_min_raw)));
    emit(&format!(
        "  normalised by            q_min^(1/L) = {}",
        f(c.scale)
    ));
    emit(&format!("  ‖θ̃‖                      {}", f(c.theta_norm)));
    emit(&format!(
        "  ε* bracket               [{}, {}]   (upper = ε of the λ reported; ε/‖θ̃‖ = {})",
        f(c.eps_lower),
        f(c.eps),
        f(c.eps_rel)
    ));
    emit(&format!(
        "  relative gap             {}   ({} after {} iterations, {} passes)",
        f(c.gap_rel),
        if c.converged {
            "reached"
        } else {
            "NOT reached"
        },
        c.iterations,
        c.passes
    ));
    emit(&format!(
        "  δ = max λ(q − 1)         {}   (max λ|q − 1| = {})",
        f(c.delta),
        f(c.delta_abs)
    ));
    emit(&format!("  τ (feasibility slack)    {}", f(c.tau)));
    emit(&format!("  support                  {} of {n}", c.support));
    Ok(())
}

struct UnlearnArgs<'a> {
    model: Option<&'a Path>,
    data: Option<&'a Path>,
    labels: Option<&'a Path>,
    forget: &'a [usize],
    fraction: f64,
    loss_multipliers: bool,
    init: Option<&'a Path>,
    steps: usize,
    set: &'a [String],
    sweep: Option<&'a Path>,
    out: Option<&'a Path>,
    json: bool,
}

/// What `dimple unlearn` works on: the model, its data, and (if known) the initialisation and
/// learning rate to retrain with.
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

fn cmd_unlearn(a: &UnlearnArgs<'_>) -> Result<(), Failure> {
    if !(a.fraction >= 0.0) || !a.fraction.is_finite() {
        return Err(Error::input(format!(
            "--fraction must be a finite number ≥ 0, got {}",
            a.fraction
        ))
        .into());
    }
    // The instance: the model, the data and (if known) the initialisation and learning rate.
    let Instance {
        model,
        data,
        init,
        lr,
    } = match a.model {
        Some(mp) => {
            let (dp, lp) = (a.data.unwrap_or(mp), a.labels.unwrap_or(mp));
            let m = load_binary_model(mp)?;
            let data = data::load::binary(dp, lp)?;
            let init = a.init.map(load_binary_model).transpose()?;
            Instance {
                model: m,
                data,
                init,
                lr: None,
            }
        }
        None => {
            let mut p = std::collections::BTreeMap::from([
                ("n".to_string(), 6.0),
                ("d".to_string(), 1000.0),
                ("m".to_string(), 8.0),
                ("steps".to_string(), 2000.0),
                ("seed".to_string(), 0.0),
            ]);
            for (k, v) in parse_set(a.set)? {
                let slot = p.get_mut(&k).ok_or_else(|| {
                    Error::input(format!("unknown parameter `{k}` (n, d, m, steps, seed)"))
                })?;
                *slot = v;
            }
            let int = |k: &str| -> Result<usize, Error> {
                let v = p[k];
                if v < 0.0 || v.fract() != 0.0 {
                    return Err(Error::input(format!(
                        "`{k}` = {v} must be a non-negative integer"
                    )));
                }
                Ok(v as usize)
            };
            let (n, d, m, steps, seed) =
                (int("n")?, int("d")?, int("m")?, int("steps")?, int("seed")?);
            if m < 2 || m % 2 != 0 {
                return Err(Error::assumption(
                    "even width",
                    format!("m = {m} must be even and ≥ 2 (v_j = ±1/√m)"),
                )
                .into());
            }
            if n < 2 || d < 1 {
                return Err(Error::assumption(
                    "sizes",
                    format!("need n ≥ 2 and d ≥ 1; got n = {n}, d = {d}"),
                )
                .into());
            }
            let t = dimple::checks::unlearn::instances::trained_v1(seed as u64, n, d, m, steps)?;
            Instance {
                model: Box::new(t.net),
                data: t.data,
                init: Some(Box::new(t.init)),
                lr: Some(t.lr),
            }
        }
    };
    let outcome = dimple::api::unlearn(
        model.as_ref(),
        &data,
        &dimple::api::UnlearnRequest {
            forget: a.forget,
            fraction: a.fraction,
            multipliers: if a.loss_multipliers {
                dimple::api::Multipliers::Loss
            } else {
                dimple::api::Multipliers::Certificate
            },
            init: init.as_deref(),
            lr,
            steps: a.steps,
        },
    )?;
    let u = &outcome.unlearned;
    let keep: Vec<usize> = (0..data.n()).filter(|i| !a.forget.contains(i)).collect();
    let retained = data.subset(&keep);
    let comparison = outcome
        .retraining
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| Error::input(e.to_string()))?;
    // Figure-1 sweep.
    let mut sweep_rows = Vec::new();
    if let Some(path) = a.sweep {
        for k in 0..=40 {
            let c = k as f64 / 20.0;
            let m = dimple::unlearn::ga_step(
                u.original.as_ref(),
                &data,
                &u.report.before.lambda,
                a.forget,
                c,
            )?;
            let e = dimple::margin::certificate::certify_unnormalised(
                m.as_ref(),
                &retained,
                &Default::default(),
            )?
            .eps;
            sweep_rows.push((c, e / m.params().norm()));
        }
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
    if let Some(out) = a.out {
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
    match &comparison {
        Some(c) => emit(&format!(
            "  retraining ({}): cos(θ, θ_ret) = {}  cos(θ', θ_ret) = {}  forgotten q_r/q_min: {}\n  on S_r vs θ_ret: prediction agreement {}  mean |Δ normalised margin| {}",
            c["baseline"].as_str().unwrap_or(""),
            f(c["cos_original_retrained"].as_f64().unwrap_or(f64::NAN)),
            f(c["cos_unlearned_retrained"].as_f64().unwrap_or(f64::NAN)),
            c["forgotten_margin_over_qmin"],
            c["retained_prediction_agreement"],
            c["retained_mean_normalised_margin_gap"]
        )),
        None => emit("  retraining: skipped (two-layer user model without --init)"),
    }
    for (c, e) in &sweep_rows {
        emit(&format!("  sweep c = {c:.2}: ε_rel = {}", f(*e)));
    }
    Ok(())
}

fn cmd_docs(out: &Path, check_only: bool) -> Result<(), Failure> {
    let cfg = RunConfig {
        scale: Scale::Test,
        ..RunConfig::default()
    };
    let mut pages = Vec::new();
    for c in checks::registry() {
        let t = theory::get(c.id())?;
        eprintln!("running {} (test scale)", t.id);
        let o = check::run(c.as_ref(), &t, &cfg);
        pages.push((t, o));
    }
    let files = docs::render_all(&pages);
    if check_only {
        let stale: Vec<String> = files
            .iter()
            .filter(|(rel, text)| {
                std::fs::read_to_string(out.join(rel)).ok().as_deref() != Some(text.as_str())
            })
            .map(|(rel, _)| rel.clone())
            .collect();
        if !stale.is_empty() {
            return Err(Error::input(format!(
                "docs are stale, run `dimple docs`: {}",
                stale.join(", ")
            ))
            .into());
        }
        eprintln!("docs are up to date ({} files)", files.len());
        return Ok(());
    }
    for (rel, text) in &files {
        let p = out.join(rel);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.into(),
                source,
            })?;
        }
        std::fs::write(&p, text).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
    }
    eprintln!("wrote {} files under {}", files.len(), out.display());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    dimple::linalg::set_threads(cli.threads);
    if cli.threads > 0 {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(cli.threads)
            .build_global();
    }
    let result = match &cli.command {
        Command::List { json } => cmd_list(*json),
        Command::Check {
            target,
            scale,
            seeds,
            set,
            json,
        } => cmd_check(target, scale, *seeds, set, *json),
        Command::Certify {
            model,
            data,
            labels,
            box_delta,
            route,
            max_iters,
            gap,
            max_memory,
            json,
        } => (|| {
            let req = dimple::api::CertifyRequest {
                box_delta: *box_delta,
                route: dimple::api::Route::parse(route)?,
                matrix_free: dimple::margin::matrix_free::Options {
                    max_iters: usize::try_from(*max_iters).map_err(|_| {
                        Error::input(format!(
                            "max_iters (--max-iters) must be at least 1, got {max_iters}"
                        ))
                    })?,
                    gap: *gap,
                    ..Default::default()
                },
                budget: dimple::budget::Budget::from_gib(*max_memory)?,
            };
            cmd_certify(model, data, labels, &req, *json)
        })(),
        Command::Unlearn {
            model,
            data,
            labels,
            forget,
            fraction,
            multipliers,
            init,
            steps,
            set,
            sweep,
            out,
            json,
        } => cmd_unlearn(&UnlearnArgs {
            model: model.as_deref(),
            data: data.as_deref(),
            labels: labels.as_deref(),
            forget,
            fraction: *fraction,
            loss_multipliers: multipliers == "loss",
            init: init.as_deref(),
            steps: *steps,
            set,
            sweep: sweep.as_deref(),
            out: out.as_deref(),
            json: *json,
        }),
        Command::Sweep {
            check,
            grid,
            scale,
            seeds,
            set,
            shard,
            out,
            plot,
            x,
            measure,
            json,
        } => cmd_sweep(
            check,
            grid,
            scale,
            *seeds,
            set,
            shard.as_deref(),
            &SweepOutput {
                out: out.as_deref(),
                plot: plot.as_deref(),
                x: x.as_deref(),
                measure: measure.as_deref(),
                json: *json,
            },
        ),
        Command::Merge {
            files,
            out,
            plot,
            x,
            measure,
            json,
        } => cmd_merge(
            files,
            &SweepOutput {
                out: out.as_deref(),
                plot: plot.as_deref(),
                x: x.as_deref(),
                measure: measure.as_deref(),
                json: *json,
            },
        ),
        Command::Attack {
            model,
            data,
            labels,
            norm,
            eps,
            method,
            n,
            iters,
            k,
            testk,
            seed,
            split_seed,
            train_fraction,
            adv_out,
            json,
        } => cli::attack::run(&cli::attack::AttackArgs {
            model,
            data,
            labels: labels.as_deref(),
            norm,
            eps: *eps,
            method,
            n: *n,
            iters: *iters,
            k: *k,
            testk: *testk,
            seed: *seed,
            split_seed: *split_seed,
            train_fraction: *train_fraction,
            adv_out: adv_out.as_deref(),
            json: *json,
        }),
        Command::Train {
            data,
            labels,
            hidden,
            steps,
            lr,
            seed,
            split_seed,
            train_fraction,
            out,
            json,
        } => cli::train::run(&cli::train::TrainArgs {
            data,
            labels: labels.as_deref(),
            hidden,
            steps: *steps,
            lr: *lr,
            seed: *seed,
            split_seed: *split_seed,
            train_fraction: *train_fraction,
            out,
            json: *json,
        }),
        Command::Explain {
            model,
            surrogates,
            data,
            labels,
            index,
            images,
            top,
            patch,
            map,
            split_seed,
            train_fraction,
            json,
        } => cli::explain::run(&cli::explain::ExplainArgs {
            model,
            surrogates,
            data,
            labels: labels.as_deref(),
            index: *index,
            images: *images,
            top: *top,
            patch: *patch,
            map: map.as_deref(),
            split_seed: *split_seed,
            train_fraction: *train_fraction,
            json: *json,
        }),
        Command::Docs { out, check } => cmd_docs(out, *check),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Verdict) => ExitCode::from(1),
        Err(Failure::Inconclusive) => ExitCode::from(4),
        Err(Failure::Input(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(Failure::CouldNotRun(e)) => {
            eprintln!("could not run: {e}");
            ExitCode::from(3)
        }
    }
}
