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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Budget;

    /// A check that records nothing (so it breaks its theory's contract) or fails to run.
    struct Stub {
        fail: bool,
    }

    impl Check for Stub {
        fn id(&self) -> &'static str {
            "malt.apgd.schedule"
        }
        fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
            if self.fail {
                return Err(Error::Solver("stub could not run".into()));
            }
            Ok(ctx.evidence())
        }
    }

    fn theory(id: &str) -> Theory {
        crate::theory::get(id).unwrap()
    }

    #[test]
    fn parameters_come_from_the_scale_and_the_overrides() {
        let t = theory("kkt.linear.gd_direction");
        assert_ne!(
            t.params.test, t.params.default,
            "the scales must differ for this test"
        );
        let test = resolve_params(&t, &RunConfig::default()).unwrap();
        assert_eq!(test.values(), &t.params.test);
        let cfg = RunConfig {
            scale: Scale::Default,
            ..Default::default()
        };
        assert_eq!(
            resolve_params(&t, &cfg).unwrap().values(),
            &t.params.default
        );
        // --seeds and --set land in their slots and nowhere else.
        let cfg = RunConfig {
            seeds: Some(2),
            overrides: vec![("n".into(), 24.0), ("gap".into(), 0.25)],
            ..Default::default()
        };
        let p = resolve_params(&t, &cfg).unwrap();
        let mut want = t.params.test.clone();
        want.insert("seeds".into(), 2.0);
        want.insert("n".into(), 24.0);
        want.insert("gap".into(), 0.25);
        assert_eq!(p.values(), &want);
    }

    #[test]
    fn unknown_names_assumptions_and_budgets_are_refused() {
        let t = theory("malt.apgd.schedule");
        let with = |name: &str, v: f64| RunConfig {
            overrides: vec![(name.into(), v)],
            ..Default::default()
        };
        let e = resolve_params(&t, &with("rho", 0.5)).unwrap_err();
        assert!(matches!(e, Error::Input(_)), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("no parameter `rho`") && msg.contains("control_threshold"),
            "{msg}"
        );
        // This theory has no `seeds`: --seeds is refused the same way.
        let cfg = RunConfig {
            seeds: Some(3),
            ..Default::default()
        };
        assert!(matches!(resolve_params(&t, &cfg), Err(Error::Input(_))));
        // Its constraint 0 < ρ < 1.
        assert!(resolve_params(&t, &with("control_threshold", 0.5)).is_ok());
        let e = resolve_params(&t, &with("control_threshold", 1.0)).unwrap_err();
        assert!(matches!(e, Error::Assumption { .. }), "{e}");
        // A budget below the declared estimate (1e6 bytes).
        let cfg = RunConfig {
            budget: Budget::from_gib(Some(1e-4)).unwrap(),
            ..Default::default()
        };
        assert!(resolve_params(&t, &cfg).is_err());
        let cfg = RunConfig {
            budget: Budget::from_gib(Some(1e-2)).unwrap(),
            ..Default::default()
        };
        assert!(resolve_params(&t, &cfg).is_ok());
    }

    /// `run` holds a check's evidence to its theory's contract, and passes its errors through.
    #[test]
    fn run_enforces_the_contract_and_passes_errors_through() {
        let t = theory("malt.apgd.schedule");
        let e = run(&Stub { fail: false }, &t, &RunConfig::default()).unwrap_err();
        assert!(matches!(e, Error::Contract(_)), "{e}");
        assert!(e.to_string().contains("schedule.violations"), "{e}");
        let e = run(&Stub { fail: true }, &t, &RunConfig::default()).unwrap_err();
        assert!(matches!(e, Error::Solver(_)), "{e}");
        // A bad override is refused before the check runs.
        let cfg = RunConfig {
            overrides: vec![("control_threshold".into(), 2.0)],
            ..Default::default()
        };
        assert!(matches!(
            run(&Stub { fail: true }, &t, &cfg),
            Err(Error::Assumption { .. })
        ));
    }

    #[test]
    fn extremes_keep_nan_and_start_from_the_identity() {
        assert_eq!([1.0, 3.0, 2.0].into_iter().max_f(), 3.0);
        assert_eq!([1.0, 3.0, -2.0].into_iter().min_f(), -2.0);
        assert_eq!(std::iter::empty::<f64>().max_f(), f64::NEG_INFINITY);
        assert_eq!(std::iter::empty::<f64>().min_f(), f64::INFINITY);
        for xs in [[f64::NAN, 1.0], [1.0, f64::NAN]] {
            assert!(xs.into_iter().max_f().is_nan() && xs.into_iter().min_f().is_nan());
        }
        assert_eq!(nan_max(1.0, 2.0), 2.0);
        assert_eq!(nan_max(2.0, -1.0), 2.0);
        assert!(nan_max(f64::NAN, 1.0).is_nan() && nan_max(1.0, f64::NAN).is_nan());
    }

    #[test]
    fn seeds_come_back_in_order_and_errors_stop_the_map() {
        let out = over_seeds(50, |s| Ok(s * s)).unwrap();
        assert_eq!(out, (0..50u64).map(|s| s * s).collect::<Vec<_>>());
        assert!(over_seeds(0, Ok).unwrap().is_empty());
        let e = over_seeds(10, |s| {
            if s == 7 {
                Err(Error::input("seed 7"))
            } else {
                Ok(s)
            }
        });
        assert!(e.is_err());
    }

    #[test]
    fn a_context_builds_its_evidence_and_typed_parameters() {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct P {
            control_threshold: f64,
        }
        let t = theory("malt.apgd.schedule");
        let params = resolve_params(&t, &RunConfig::default()).unwrap();
        let ctx = Ctx {
            theory: &t,
            params,
            scale: Scale::Test,
        };
        let p: P = ctx.params().unwrap();
        assert_eq!(p.control_threshold, 0.7);
        let ev = ctx.evidence();
        assert!(ev.finish().is_err(), "an empty record breaks the contract");
    }
}
