//! `dimple list` and `dimple check`: the registered checks, and running them with verdicts.

use super::{emit, parse_set, progress_bar, Failure, ScaleArg};
use dimple::check::{self, Outcome, RunConfig};
use dimple::limits;
use dimple::report::{self, table, Record};
use dimple::{checks, theory};

/// Arguments of `dimple list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// JSON Lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Prints the registered checks.
pub fn list(a: &ListArgs) -> Result<(), Failure> {
    for t in theory::all()? {
        if a.json {
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

/// The parameters of a check run shared by `check` and `sweep`.
#[derive(clap::Args, Clone, Debug)]
pub struct RunArgs {
    /// Parameter scale.
    #[arg(long, value_enum, default_value_t = ScaleArg::Default)]
    pub scale: ScaleArg,
    /// Number of seeds (sets the `seeds` parameter).
    #[arg(long, allow_negative_numbers = true)]
    pub seeds: Option<i64>,
    /// Override a parameter: --set name=value (repeatable). Values outside the theorem's
    /// assumptions, or above the resource caps, are refused.
    #[arg(long = "set", value_name = "NAME=VALUE", allow_negative_numbers = true)]
    pub set: Vec<String>,
    /// Memory budget in GiB (default: half the physical memory); a run estimated above it is
    /// refused before it starts.
    #[arg(long, allow_negative_numbers = true)]
    pub max_memory: Option<f64>,
}

impl RunArgs {
    /// The run configuration (seeds and overrides parsed, not yet checked against a theory).
    pub fn config(&self) -> Result<RunConfig, dimple::Error> {
        let seeds = self
            .seeds
            .map(|s| limits::count("seeds (--seeds)", s, 1, limits::MAX_SEEDS))
            .transpose()?;
        Ok(RunConfig {
            scale: self.scale.into(),
            seeds,
            overrides: parse_set(&self.set)?,
            budget: dimple::budget::Budget::from_gib(self.max_memory)?,
        })
    }
}

/// Arguments of `dimple check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Check id, family, or `all`.
    pub target: String,
    #[command(flatten)]
    pub run: RunArgs,
    /// JSON Lines (one record per check) instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Runs the selected checks and prints their verdicts.
pub fn run(a: &CheckArgs) -> Result<(), Failure> {
    let selected = checks::select(&a.target)?;
    let cfg = a.run.config()?;
    // Validate every selected check's parameters (and resources) before running any of them.
    let theories = selected
        .iter()
        .map(|c| theory::get(c.id()))
        .collect::<Result<Vec<_>, _>>()?;
    // `--seeds N` over several checks applies to those that have seeds; the others run with
    // their own setting and are named.
    let configs: Vec<RunConfig> = theories
        .iter()
        .map(|t| {
            let mut c = cfg.clone();
            if selected.len() > 1 && !t.params.default.contains_key("seeds") {
                c.seeds = None;
            }
            c
        })
        .collect();
    if let Some(n) = cfg.seeds.filter(|_| selected.len() > 1) {
        let skipped: Vec<&str> = theories
            .iter()
            .filter(|t| !t.params.default.contains_key("seeds"))
            .map(|t| t.id.as_str())
            .collect();
        if !skipped.is_empty() {
            eprintln!(
                "note: --seeds {n} applies to {} of {} checks; these have no `seeds` parameter and \
                 run as documented: {}",
                theories.len() - skipped.len(),
                theories.len(),
                skipped.join(", ")
            );
        }
    }
    for (t, c) in theories.iter().zip(&configs) {
        if selected.len() == 1 || c.seeds.is_some() || !c.overrides.is_empty() {
            check::resolve_params(t, c)?;
        }
    }
    let bar = progress_bar(
        selected.len() as u64,
        "{spinner} [{pos}/{len}] {msg} ({elapsed})",
        a.json,
    );
    let mut could_not = None;
    let mut summary = report::summary::Summary::default();
    for ((c, t), cfg) in selected.iter().zip(&theories).zip(&configs) {
        bar.set_message(c.id().to_string());
        let start = std::time::Instant::now();
        let out = check::run(c.as_ref(), t, cfg);
        bar.inc(1);
        summary.add(c.id(), out.as_ref().ok());
        match out {
            Ok(ev) => {
                if a.json {
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
                if a.json {
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
        if a.json {
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
