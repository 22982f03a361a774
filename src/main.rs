//! The `dimple` command line. See `dimple --help`.
//!
//! Exit codes: 0 every gate, stat and control holds; 1 some verdict failed; 2 bad input or usage
//! (unknown id, parameter outside a theorem's assumptions, malformed file); 3 a check could not
//! run (solver status, numerical failure).

// `!(x >= 0.0)` rejects NaN as well as negative values.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use clap::{Parser, Subcommand};
use dimple::check::{self, RunConfig, Scale, Verdict};
use dimple::error::Error;
use dimple::margin::certificate::{certify, loss_multipliers, CertifyOptions};
use dimple::model::io::{self, Loaded};
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
        /// Also report ε*(δ₀) from the box QP for this δ₀ ≥ 0.
        #[arg(long)]
        box_delta: Option<f64>,
        /// JSON instead of a table.
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

enum Failure {
    Verdict,
    Input(Error),
    CouldNotRun(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Solver(_) | Error::NonFinite(_) => Failure::CouldNotRun(e),
            other => Failure::Input(other),
        }
    }
}

/// Writes one line to stdout; a closed pipe (`dimple … | head`) ends the process quietly with
/// the conventional SIGPIPE status instead of a panic.
fn emit(text: &str) {
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
    let (mut failed, mut could_not) = (false, None);
    for (c, t) in selected.iter().zip(&theories) {
        bar.set_message(c.id().to_string());
        let start = std::time::Instant::now();
        let out = check::run(c.as_ref(), t, &cfg);
        bar.inc(1);
        match out {
            Ok(ev) => {
                failed |= ev.verdict() == Verdict::Fail;
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
    if let Some(e) = could_not {
        return Err(Failure::from(e));
    }
    if failed {
        return Err(Failure::Verdict);
    }
    Ok(())
}

fn cmd_certify(
    model: &Path,
    data_path: &Path,
    labels: &Path,
    box_delta: Option<f64>,
    json: bool,
) -> Result<(), Failure> {
    let model = match io::load(model)? {
        Loaded::Binary(m) => m,
        Loaded::Classifier(_) => return Err(Error::input("certify needs a scalar-output model (linear or two-layer); this file holds a multi-class MLP").into()),
    };
    if let Some(d) = box_delta {
        if !(d >= 0.0) {
            return Err(Error::input(format!("--box-delta must be ≥ 0, got {d}")).into());
        }
    }
    let data = data::load::binary(data_path, labels)?;
    let cert = certify(model.as_ref(), &data, &CertifyOptions { box_delta })?;
    let loss_eps = loss_multipliers(model.as_ref(), &data, dimple::loss::MarginLoss::Logistic)
        .map(|(_, e)| e)
        .ok();
    if json {
        let mut v = serde_json::to_value(&cert).map_err(|e| Error::input(e.to_string()))?;
        v["model"] = serde_json::json!(model.name());
        v["n"] = serde_json::json!(data.n());
        v["lambda"] = serde_json::json!(cert.lambda.as_slice());
        v["loss_implied_eps"] = serde_json::json!(loss_eps);
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
            json,
        } => cmd_certify(model, data, labels, *box_delta, *json),
        Command::Docs { out, check } => cmd_docs(out, *check),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Verdict) => ExitCode::from(1),
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
