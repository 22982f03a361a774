//! The check framework: parameters, evidence, verdicts, and the runner.
//!
//! A [`Check`] receives a [`Ctx`] (its theory, the parameters of the chosen scale with the
//! user's overrides validated against the theory's constraints) and returns [`Evidence`]: one
//! [`Measurement`] per key its theory file declares — an [`Agg`]regate over instances, judged
//! against the declared bound — plus reported statistics. The outcome is PASS, FAIL or
//! INCONCLUSIVE (see [`evidence`]); probes give a paper claim's status without failing the run.
//! An `Err` means the check could not run (solver status, bad data), which is distinct from
//! every outcome.

pub mod agg;
pub mod evidence;
pub mod params;
pub mod sweep;

pub use agg::Agg;
pub use evidence::{Evidence, Measurement, Outcome, Relation};
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
    /// The parameters as the check's typed struct (unknown or missing names refused).
    pub fn params<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        self.params.typed()
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
    /// Memory budget a run's estimate must fit.
    pub budget: crate::budget::Budget,
}

/// Resolves the parameters of `theory` for `cfg`, refusing unknown names, values outside the
/// assumptions, and runs above the resource caps or the memory budget
/// ([`Theory::check_resources`]).
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
    theory.check_resources(&values, &cfg.budget)?;
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
    check.run(&ctx)?.finish()
}

/// Extremes of a stream inside a computation (not for recorded measurements, which use
/// [`Agg`]): `max_f` is −∞ and `min_f` is +∞ for an empty stream, and a NaN anywhere makes the
/// result NaN (`f64::max` alone would drop it).
pub trait Extremes: Iterator<Item = f64> + Sized {
    /// The largest value.
    fn max_f(self) -> f64 {
        self.fold(f64::NEG_INFINITY, |a, b| {
            if a.is_nan() || b.is_nan() {
                f64::NAN
            } else {
                a.max(b)
            }
        })
    }
    /// The smallest value.
    fn min_f(self) -> f64 {
        self.fold(f64::INFINITY, |a, b| {
            if a.is_nan() || b.is_nan() {
                f64::NAN
            } else {
                a.min(b)
            }
        })
    }
}

impl<I: Iterator<Item = f64>> Extremes for I {}

/// max(a, b) that keeps a NaN (`f64::max` drops it).
pub fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Maps `f` over seeds 0..n in parallel, keeping the seed order (so the result is the same as a
/// serial run whatever the thread count).
pub fn over_seeds<T: Send>(n: usize, f: impl Fn(u64) -> Result<T> + Sync + Send) -> Result<Vec<T>> {
    (0..n as u64).into_par_iter().map(f).collect()
}
