//! `dimple check <id> --set name=value` for every check and parameter, as the CLI resolves it:
//! one to three overrides of arbitrary names (a declared parameter or junk) and values (any
//! f64, including NaN, ±∞, 1e12, negatives and non-integers) under a 256 MiB memory budget.
//! Resolution must refuse (an `Err`, the CLI's exit 2) or accept; an accepted run small enough
//! to finish in a fuzzing iteration (every integer parameter at most its test value) is run, and
//! must end in an outcome or an `Err` — never a panic or an abort. A run whose training never
//! converges goes to its step cap: 34 s for `explain.planted.recovery` at test scale (measured),
//! which CI's per-input timeout allows for.
#![no_main]
use dimple::budget::Budget;
use dimple::check::{self, RunConfig, Scale};
use dimple::{checks, theory};
use libfuzzer_sys::fuzz_target;

fn value(b: &[u8]) -> f64 {
    match b[0] % 8 {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => -1.0,
        3 => 1e12,
        4 => 0.0,
        5 => f64::from(b[1]) / 16.0,
        6 => f64::from(b[1]),
        _ => f64::from_le_bytes(b[1..9].try_into().unwrap_or([0; 8])),
    }
}

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() < 2 + 3 * 10 {
        return;
    }
    let registry = checks::registry();
    let c = &registry[bytes[0] as usize % registry.len()];
    let Ok(t) = theory::get(c.id()) else {
        panic!("{}: no theory", c.id())
    };
    let names: Vec<&String> = t.params.test.keys().collect();
    let mut overrides = Vec::new();
    for k in 0..1 + bytes[1] as usize % 3 {
        let b = &bytes[2 + 10 * k..12 + 10 * k];
        let name = if names.is_empty() || b[9] == 255 {
            "no_such_parameter".to_string()
        } else {
            names[b[9] as usize % names.len()].clone()
        };
        if overrides.iter().all(|(n, _): &(String, f64)| *n != name) {
            overrides.push((name, value(b)));
        }
    }
    let cfg = RunConfig {
        scale: Scale::Test,
        seeds: None,
        overrides,
        budget: Budget::from_gib(Some(0.25)).expect("budget"),
    };
    let Ok(params) = check::resolve_params(&t, &cfg) else {
        return; // refused: the CLI's exit 2
    };
    let small = t.integer_params().iter().all(|p| {
        let v = params.values()[*p];
        *p == "seed" || p.ends_with("_seed") || v <= t.params.test[*p].max(1.0)
    });
    if small {
        let _ = check::run(c.as_ref(), &t, &cfg);
    }
});
