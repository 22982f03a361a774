//! The `dimple` command line. See `dimple --help`; each subcommand lives in its own module under
//! `cli/` with its typed arguments.
//!
//! Exit codes: 0 every check passed (or the command did its work); 1 some verdict failed; 2 bad
//! input or usage (unknown id, a parameter outside a theorem's assumptions or above a resource
//! cap, a malformed file); 3 a check could not run (solver status, numerical failure); 4 nothing
//! failed but some check was inconclusive.

// `!(x >= 0.0)` rejects NaN as well as negative values.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod cli;

use clap::{Parser, Subcommand};
use cli::Failure;
use dimple::error::Error;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "dimple", version, about = "Executable checks of theorems about the high-dimensional geometry of trained neural networks", long_about = None)]
struct Cli {
    /// Threads for parallel seeds and large matrix products (0 = all cores; at most 8 per core).
    /// Results do not depend on it.
    #[arg(long, global = true, default_value_t = 0)]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the registered checks.
    List(cli::check::ListArgs),
    /// Run checks: a check id (kkt.euler), a family (kkt) or `all`.
    Check(cli::check::CheckArgs),
    /// Print the KKT certificate of a homogeneous model (linear or two-layer, .safetensors) on
    /// data (.npy or .csv, one sample per row) with ±1 labels.
    Certify(cli::certify::CertifyArgs),
    /// Unlearn points by one gradient-ascent step and report the certificate before and after,
    /// the (ε, δ, τ) triple on the retained set and the comparison with retraining. Without
    /// --model the instance is generated (V1 trained by GD on points on the sphere; parameters
    /// n, d, m, steps, seed via --set).
    Unlearn(cli::unlearn::UnlearnArgs),
    /// Run one check over a parameter grid (cartesian product of the --grid options), in
    /// parallel, printing a table, writing JSON Lines and optionally an SVG plot. With
    /// --shard k/n only the k-th of n slices runs (for batch-scheduler array jobs; join the
    /// outputs with `dimple merge`).
    Sweep(cli::sweep::SweepArgs),
    /// Join the JSON Lines outputs of sweep shards: checks that they come from one sweep,
    /// reports missing grid points, prints the table and optionally writes the joined records
    /// and a plot.
    Merge(cli::sweep::MergeArgs),
    /// Attack a multi-class MLP (.safetensors) with MALT, APGD-T or the AutoAttack standard
    /// pipeline (APGD-CE, APGD-T, FAB-T, Square); prints clean and robust accuracy, the
    /// per-attack breakdown and the cost (passes and wall time).
    Attack(cli::attack::AttackArgs),
    /// Explain an image from gradient agreement between the model and independently trained
    /// surrogates: ranked patches with IP, NORM and S, precision against occlusion, a heat map.
    Explain(cli::explain::ExplainArgs),
    /// Train a multi-class MLP by full-batch GD on the cross-entropy and save it (.safetensors).
    Train(cli::train::TrainArgs),
    /// Regenerate docs/ (index and one page per check, from a fresh test-scale run).
    Docs(cli::docs::DocsArgs),
}

/// Sets the thread count of the products and of the global pool, refusing absurd counts.
fn threads(n: usize) -> Result<(), Failure> {
    let max = dimple::limits::max_threads();
    if n > max {
        return Err(Error::input(format!(
            "threads (--threads) must be at most {max} (8 per core), got {n}"
        ))
        .into());
    }
    dimple::linalg::set_threads(n);
    if n > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::input(format!("cannot start {n} threads (--threads): {e}")))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = threads(cli.threads).and_then(|()| match &cli.command {
        Command::List(a) => cli::check::list(a),
        Command::Check(a) => cli::check::run(a),
        Command::Certify(a) => cli::certify::run(a),
        Command::Unlearn(a) => cli::unlearn::run(a),
        Command::Sweep(a) => cli::sweep::run(a),
        Command::Merge(a) => cli::sweep::merge(a),
        Command::Attack(a) => cli::attack::run(a),
        Command::Explain(a) => cli::explain::run(a),
        Command::Train(a) => cli::train::run(a),
        Command::Docs(a) => cli::docs::run(a),
    });
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
