//! `dimple docs`: the generated documentation (index and one page per check, from a fresh
//! test-scale run; the paper claims page from a default-scale run of the checks with probes).

use super::Failure;
use dimple::check::{self, RunConfig, Scale};
use dimple::error::Error;
use dimple::report::docs;
use dimple::theory::Theory;
use dimple::{checks, theory};
use rayon::prelude::*;
use std::path::PathBuf;

/// Arguments of `dimple docs`.
#[derive(clap::Args, Debug)]
pub struct DocsArgs {
    /// Output directory.
    #[arg(long, default_value = "docs")]
    pub out: PathBuf,
    /// Do not write: fail if the committed pages differ from a fresh generation.
    #[arg(long)]
    pub check: bool,
}

/// Regenerates (or checks) the pages.
pub fn run(a: &DocsArgs) -> Result<(), Failure> {
    let (out, check_only) = (a.out.as_path(), a.check);
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
    // The claims page speaks of the documented runs: the checks with probes at the default scale.
    let default = RunConfig {
        scale: Scale::Default,
        ..RunConfig::default()
    };
    // The runs are independent and each is deterministic whatever the thread count, so they run
    // side by side (a minute and a half instead of three on two cores).
    let claim_theories: Vec<&Theory> = pages
        .iter()
        .map(|(t, _)| t)
        .filter(|t| t.claim.is_some())
        .collect();
    let claim_runs = claim_theories
        .par_iter()
        .map(|t| {
            let c = checks::select(&t.id)?.remove(0);
            eprintln!("running {} (default scale, for claims.md)", t.id);
            Ok(((*t).clone(), check::run(c.as_ref(), t, &default)))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    // A figure a review cites must exist (it is drawn by its command, not here).
    if let Some(why) = claim_runs
        .iter()
        .find_map(|(t, _)| docs::missing_figure(t, out))
    {
        return Err(Error::input(why).into());
    }
    let files = docs::render_all(&pages, &claim_runs);
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
