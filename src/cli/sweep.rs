//! `dimple sweep` and `dimple merge`: a check over a parameter grid (one JSON record per point,
//! written as each point finishes), and the join of shard outputs.

use super::check::RunArgs;
use super::{emit, progress_bar, Failure};
use dimple::check::{self, sweep::Grid};
use dimple::error::Error;
use dimple::{checks, report, theory};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where a sweep's or merge's results go besides stdout.
#[derive(clap::Args, Debug)]
pub struct SweepOutput {
    /// Write one JSON record per grid point to this file (JSON Lines; `sweep` writes and
    /// flushes each record as its point finishes).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write an SVG plot of the measurement(s) matching --measure against --x.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Swept parameter on the plot's x axis (default: the first --grid).
    #[arg(long)]
    pub x: Option<String>,
    /// Substring of the measurement or statistic names to plot (default: the first measurement).
    #[arg(long)]
    pub measure: Option<String>,
    /// Plot the x axis on a log scale.
    #[arg(long)]
    pub log_x: bool,
    /// Plot the y axis on a log scale.
    #[arg(long)]
    pub log_y: bool,
    /// JSON Lines on stdout instead of the table (no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `dimple sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Check id.
    pub check: String,
    /// name=v1,v2,… (repeatable; the last varies fastest; at most 100,000 points in all).
    #[arg(
        long = "grid",
        value_name = "NAME=V1,V2,…",
        required = true,
        allow_negative_numbers = true
    )]
    pub grid: Vec<String>,
    #[command(flatten)]
    pub run: RunArgs,
    /// Run only shard k of n (1-based), e.g. 3/10.
    #[arg(long)]
    pub shard: Option<String>,
    #[command(flatten)]
    pub output: SweepOutput,
}

/// Arguments of `dimple merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard outputs (JSON Lines).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub output: SweepOutput,
}

/// Checks that an output path can be written before any work: its directory exists and the
/// path is not a directory.
pub fn writable(path: &Path, what: &str) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::input(format!(
            "{what} {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(Error::input(format!(
            "{what} {} is a directory",
            path.display()
        )));
    }
    Ok(())
}

/// Runs the sweep.
pub fn run(a: &SweepArgs) -> Result<(), Failure> {
    let id = &a.check;
    let c = checks::select(id)?
        .into_iter()
        .find(|c| c.id() == id)
        .ok_or_else(|| Error::input(format!("`{id}` is a family; sweep takes one check id")))?;
    let t = theory::get(id)?;
    let grid = Grid::parse(&a.grid)?;
    let base = a.run.config()?;
    let shard = a
        .shard
        .as_deref()
        .map(check::sweep::parse_shard)
        .transpose()?
        .unwrap_or((1, 1));
    check::sweep::validate(&t, &grid, &base)?;
    let o = &a.output;
    for (p, what) in [(&o.out, "--out"), (&o.plot, "--plot")] {
        if let Some(p) = p {
            writable(p, what)?;
        }
    }
    let points = check::sweep::shard_points(grid.len(), shard);
    let file = o
        .out
        .as_deref()
        .map(|p| std::fs::File::create(p).map_err(|e| Error::io(p, e)))
        .transpose()?
        .map(|f| Mutex::new(std::io::BufWriter::new(f)));
    let write_error: Mutex<Option<Error>> = Mutex::new(None);
    let bar = progress_bar(
        points.len() as u64,
        "{spinner} {msg} [{pos}/{len}] ({elapsed}, eta {eta})",
        o.json,
    );
    bar.set_message(id.to_string());
    let records = check::sweep::run_points(c.as_ref(), &t, &grid, &base, &points, &|rec| {
        if let (Some(f), Some(path)) = (&file, &o.out) {
            let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = writeln!(f, "{rec}").and_then(|_| f.flush()) {
                write_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(Error::io(path, e));
            }
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    if let Some(e) = write_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e.into());
    }
    emit_sweep(&records, o, false)
}

/// Joins shard outputs.
pub fn merge(a: &MergeArgs) -> Result<(), Failure> {
    let o = &a.output;
    for (p, what) in [(&o.out, "--out"), (&o.plot, "--plot")] {
        if let Some(p) = p {
            writable(p, what)?;
        }
    }
    let mut records = Vec::new();
    for f in &a.files {
        let bytes = dimple::data::files::read(f)?;
        let text = String::from_utf8(bytes).map_err(|_| Error::format(f, "not UTF-8 text"))?;
        let mut lines = 0;
        for (line_no, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: Value = serde_json::from_str(line)
                .map_err(|e| Error::format(f, format!("line {}: {e}", line_no + 1)))?;
            records.push(v);
            lines += 1;
        }
        if lines == 0 {
            return Err(Error::format(f, "no sweep records (empty file)").into());
        }
    }
    let (records, missing) = check::sweep::merge(records)?;
    if !missing.is_empty() {
        const SHOWN: usize = 20;
        let head: Vec<String> = missing.iter().take(SHOWN).map(|i| i.to_string()).collect();
        eprintln!(
            "warning: {} of {} grid point(s) missing from the shards (a shard stopped early?): {}{}",
            missing.len(),
            missing.len() + records.len(),
            head.join(", "),
            if missing.len() > SHOWN { ", …" } else { "" }
        );
    }
    emit_sweep(&records, o, true)
}

/// Table or JSON lines, the records file (unless a sweep streamed it) and the plot.
fn emit_sweep(records: &[Value], o: &SweepOutput, write_out: bool) -> Result<(), Failure> {
    if o.json {
        for r in records {
            emit(&r.to_string());
        }
    } else {
        emit(&report::sweep::table(records));
    }
    if let (true, Some(path)) = (write_out, &o.out) {
        let text: String = records.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
    }
    if let Some(path) = &o.plot {
        let first = records
            .first()
            .ok_or_else(|| Error::input("no records to plot"))?;
        let x = match &o.x {
            Some(x) => x.clone(),
            None => first["grid"]
                .as_object()
                .and_then(|m| m.keys().next().cloned())
                .unwrap_or_default(),
        };
        let measure = match &o.measure {
            Some(m) => m.clone(),
            None => first["evidence"]["measurements"][0]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        };
        let axes = report::plot::Axes {
            log_x: o.log_x,
            log_y: o.log_y,
        };
        report::sweep::plot(records, &x, &measure, path, axes)?;
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
