//! The check framework: parameters, evidence, verdicts, and the runner.
//!
//! A [`Check`] receives a [`Ctx`] (its theory, the parameters of the chosen scale with the
//! user's overrides validated against the theory's constraints) and returns [`Evidence`]: a list
//! of [`Measurement`]s — each a measured value, a bound, the relation that must hold and the
//! measurement's kind — plus reported statistics. The run fails when a gate, stat or control
//! measurement fails; probes report their verdict without failing the run. An `Err` means the
//! check could not run (solver status, bad data), which is distinct from a failed verdict.

pub mod evidence;
pub mod params;
pub mod sweep;

pub use evidence::{Evidence, Measurement, Relation, Verdict};
pub use params::{Params, Scale};

use crate::error::{Error, Result};
use crate::theory::Theory;
use rayon::prelude::*;

/// What a check sees when it runs.
pub struct Ctx<'a> {
    /// Its theory file.
    pub theory: &'a Theory,
    /// Validated parameters.
    pub params: Params,
    /// The scale.
    pub scale: Scale,
}

impl Ctx<'_> {
    /// An empty evidence record for this check.
    pub fn evidence(&self) -> Evidence {
        Evidence::new(self.theory, self.scale, &self.params)
    }
}

/// A check of one theory id.
pub trait Check: Send + Sync {
    /// The theory id it implements.
    fn id(&self) -> &'static str;
    /// Runs the check.
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence>;
}

/// How to run a check.
#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    /// Test or default scale.
    pub scale: Scale,
    /// Overrides the `seeds` parameter.
    pub seeds: Option<usize>,
    /// `name=value` overrides.
    pub overrides: Vec<(String, f64)>,
}

/// Resolves the parameters of `theory` for `cfg`, refusing unknown names and values outside
/// the assumptions.
pub fn resolve_params(theory: &Theory, cfg: &RunConfig) -> Result<Params> {
    let base = match cfg.scale {
        Scale::Test => &theory.params.test,
        Scale::Default => &theory.params.default,
    };
    let mut values = base.clone();
    let mut set = |name: &str, v: f64| -> Result<()> {
        match values.get_mut(name) {
            Some(slot) => {
                *slot = v;
                Ok(())
            }
            None => Err(Error::input(format!(
                "check {} has no parameter `{name}`; its parameters are: {}",
                theory.id,
                base.keys().cloned().collect::<Vec<_>>().join(", ")
            ))),
        }
    };
    if let Some(s) = cfg.seeds {
        set("seeds", s as f64)?;
    }
    for (k, v) in &cfg.overrides {
        set(k, *v)?;
    }
    theory.validate(&values)?;
    Ok(Params::new(theory.id.clone(), values))
}

/// Runs one check.
pub fn run(check: &dyn Check, theory: &Theory, cfg: &RunConfig) -> Result<Evidence> {
    let params = resolve_params(theory, cfg)?;
    let ctx = Ctx {
        theory,
        params,
        scale: cfg.scale,
    };
    check.run(&ctx)
}

/// Extremes of a stream of measurements: `max_f` is −∞ and `min_f` is +∞ for an empty stream
/// (so an empty set of instances never passes a `≥` gate or a `≤` gate on a minimum by accident).
pub trait Extremes: Iterator<Item = f64> + Sized {
    /// The largest value.
    fn max_f(self) -> f64 {
        self.fold(f64::NEG_INFINITY, f64::max)
    }
    /// The smallest value.
    fn min_f(self) -> f64 {
        self.fold(f64::INFINITY, f64::min)
    }
}

impl<I: Iterator<Item = f64>> Extremes for I {}

/// Maps `f` over seeds 0..n in parallel, keeping the seed order (so the result is the same as a
/// serial run whatever the thread count).
pub fn over_seeds<T: Send>(n: usize, f: impl Fn(u64) -> Result<T> + Sync + Send) -> Result<Vec<T>> {
    (0..n as u64).into_par_iter().map(f).collect()
}
