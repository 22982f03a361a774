//! The subcommands of the `dimple` binary, one module each: typed argument structs (clap
//! `Args`, enums as `ValueEnum`) whose validation lives with the types, and a `run` that calls
//! the library. `main.rs` only parses and dispatches.
//!
//! Exit codes: 0 every check passed (or the command did its work); 1 some verdict failed; 2 bad
//! input or usage; 3 could not run (solver status, numerical failure); 4 nothing failed but some
//! check was inconclusive.

pub mod attack;
pub mod certify;
pub mod check;
pub mod docs;
pub mod explain;
pub mod sweep;
pub mod train;
pub mod unlearn;

use dimple::data::{load, real, MultiClass};
use dimple::error::{Error, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;

/// How a command ended, when not with success.
pub enum Failure {
    /// Some verdict failed (exit 1).
    Verdict,
    /// Nothing failed, some check was inconclusive (exit 4).
    Inconclusive,
    /// Bad input or usage (exit 2).
    Input(Error),
    /// Could not run (exit 3).
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
pub fn emit(text: &str) {
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

/// `--set NAME=VALUE` items as (name, value) pairs; a name given twice is refused.
pub fn parse_set(items: &[String]) -> Result<Vec<(String, f64)>> {
    let mut out: Vec<(String, f64)> = Vec::with_capacity(items.len());
    for s in items {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| Error::input(format!("--set expects NAME=VALUE, got `{s}`")))?;
        let k = k.trim();
        let v: f64 = v
            .trim()
            .parse()
            .map_err(|_| Error::input(format!("--set {k}: `{v}` is not a number")))?;
        if out.iter().any(|(name, _)| name == k) {
            return Err(Error::input(format!("--set names `{k}` twice")));
        }
        out.push((k.to_string(), v));
    }
    Ok(out)
}

/// A spinner on stderr that appears only if the work is still running after two seconds (and
/// only on a terminal), so quick commands print nothing extra.
pub fn delayed_spinner(message: String) -> ProgressBar {
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

/// A counting progress bar on a terminal (hidden otherwise, and under `--json`).
pub fn progress_bar(len: u64, template: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    b.enable_steady_tick(std::time::Duration::from_millis(200));
    b
}

/// The parameter scale of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ScaleArg {
    /// The scale `cargo test` runs (seconds).
    Test,
    /// The documented scale.
    #[default]
    Default,
}

impl From<ScaleArg> for dimple::check::Scale {
    fn from(s: ScaleArg) -> Self {
        match s {
            ScaleArg::Test => dimple::check::Scale::Test,
            ScaleArg::Default => dimple::check::Scale::Default,
        }
    }
}

/// `--data digits|mnist5k` with the seeded split, or `--data FILE --labels FILE`.
#[derive(clap::Args, Clone, Debug)]
pub struct MultiClassData {
    /// `digits` or `mnist5k` (a part of the seeded split), or a data file (n × d).
    #[arg(long)]
    pub data: String,
    /// Labels file (class indices 0..K−1) for a data file.
    #[arg(long)]
    pub labels: Option<std::path::PathBuf>,
    /// Seed of the split of a shipped data set.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// Train fraction of the split of a shipped data set (in (0, 1)).
    #[arg(long, default_value_t = 0.8, allow_negative_numbers = true)]
    pub train_fraction: f64,
}

impl MultiClassData {
    /// The train or the test part.
    pub fn load(&self, train_part: bool) -> Result<MultiClass> {
        multiclass(
            &self.data,
            self.labels.as_deref(),
            self.split_seed,
            self.train_fraction,
            train_part,
        )
    }
}

/// `--data digits|mnist5k` (a seeded split's test or train part) or `--data X.npy --labels y.npy`.
fn multiclass(
    data: &str,
    labels: Option<&Path>,
    seed: u64,
    fraction: f64,
    train_part: bool,
) -> Result<MultiClass> {
    if let Some(which) = real::Shipped::parse(data) {
        if labels.is_some() {
            return Err(Error::input("--labels is not used with a shipped data set"));
        }
        let (train, test) = real::split(&real::load(which)?, seed, fraction)?;
        return Ok(if train_part { train } else { test });
    }
    let x = load::matrix(Path::new(data))?;
    let Some(lp) = labels else {
        return Err(Error::input(
            "--data FILE needs --labels FILE (class indices 0..K−1)",
        ));
    };
    let y = load::vector(lp)?;
    let mut cls = Vec::with_capacity(y.len());
    for (i, &v) in y.iter().enumerate() {
        if !(v >= 0.0) || v.fract() != 0.0 || v > 1e6 {
            return Err(Error::format(
                lp,
                format!("label {i} is {v}, not a class index"),
            ));
        }
        cls.push(v as usize);
    }
    let k = cls.iter().max().map_or(0, |m| m + 1).max(2);
    MultiClass::new(x, cls, k)
}
