//! No verdict without evidence: for every check at test scale, a NaN in one instance of any one
//! recorded aggregate makes the check (for a gate, stat, control or precondition) or its claim
//! (for a probe or a claim's precondition) INCONCLUSIVE — never PASS, and FAIL only where
//! another measurement already failed; and emptying every instance set makes every check
//! INCONCLUSIVE. Every aggregate a check constructs must reach a recorded measurement.
//!
//! The fault switch of `dimple::check::agg` is process-wide, so this binary holds one test.

use dimple::check::agg::fault::{self, Fault};
use dimple::check::{self, Evidence, Outcome, RunConfig, Scale};
use dimple::theory::{self, Kind, Scope};
use dimple::{checks, Result};

fn run(id: &str) -> Result<Evidence> {
    let c = checks::select(id)?.remove(0);
    let t = theory::get(id)?;
    check::run(
        c.as_ref(),
        &t,
        &RunConfig {
            scale: Scale::Test,
            ..RunConfig::default()
        },
    )
}

/// The measurement an injected aggregate reached: the one that is inconclusive now and was not
/// in the clean run.
fn reached<'a>(clean: &Evidence, faulty: &'a Evidence) -> Vec<&'a dimple::check::Measurement> {
    faulty
        .measurements
        .iter()
        .zip(&clean.measurements)
        .filter(|(f, c)| f.outcome == Outcome::Inconclusive && c.outcome != Outcome::Inconclusive)
        .map(|(f, _)| f)
        .collect()
}

#[test]
fn a_nan_or_an_empty_set_behind_any_aggregate_is_inconclusive() {
    let mut failures = Vec::new();
    let mut injected = 0;
    for t in theory::all().expect("theory files") {
        fault::set(Fault::None);
        let clean = run(&t.id).expect("clean run");
        let constructed = fault::constructed();
        assert!(
            constructed >= clean.measurements.len(),
            "{}: {constructed} aggregates for {} measurements",
            t.id,
            clean.measurements.len()
        );
        // One aggregate at a time with a NaN instance (the costly part: one run per aggregate);
        // emptying is exercised on every aggregate at once below.
        for mode in [Fault::NanInstance] {
            for k in 0..constructed {
                fault::set_at(mode, Some(k));
                let ev = match run(&t.id) {
                    Ok(ev) => ev,
                    Err(e) => {
                        failures.push(format!("{} {mode:?} #{k}: could not run: {e}", t.id));
                        continue;
                    }
                };
                injected += 1;
                let hit = reached(&clean, &ev);
                if hit.is_empty() {
                    failures.push(format!(
                        "{} {mode:?} #{k}: no measurement became inconclusive",
                        t.id
                    ));
                    continue;
                }
                for m in hit {
                    // A definite violation elsewhere is evidence: a scope whose clean run
                    // failed may stay FAIL. Otherwise it must be INCONCLUSIVE, never PASS.
                    let claim_only = m.kind == Kind::Probe || m.scope == Some(Scope::Probes);
                    let (clean_o, o) = if claim_only {
                        (clean.claim(), ev.claim())
                    } else {
                        (Some(clean.outcome()), Some(ev.outcome()))
                    };
                    let ok = o == Some(Outcome::Inconclusive)
                        || (clean_o == Some(Outcome::Fail) && o == Some(Outcome::Fail));
                    if !ok {
                        failures.push(format!(
                            "{} {mode:?} #{k}: `{}` ({:?}) inconclusive but the check is {:?} / claim {:?}",
                            t.id,
                            m.key,
                            m.kind,
                            ev.outcome(),
                            ev.claim()
                        ));
                    }
                }
            }
        }
        // Every aggregate at once: the whole check is inconclusive.
        for mode in [Fault::NanInstance, Fault::Empty] {
            fault::set(mode);
            let ev = run(&t.id).expect("faulty run");
            if ev.outcome() != Outcome::Inconclusive {
                failures.push(format!("{} {mode:?} everywhere: {:?}", t.id, ev.outcome()));
            }
        }
    }
    fault::set(Fault::None);
    assert!(injected > 46 * 2, "only {injected} injections");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
