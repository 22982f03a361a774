//! Caps on what a run may ask for: counts that make a run longer (seeds, steps, iterations,
//! grid points, threads) and sizes that make it larger (widths, points, dimensions).
//!
//! A cap is not a statement about a theorem: it bounds the time and memory a single command may
//! take, so that a typo (`--steps 1000000000000`, `--set n=1e12`) ends in exit 2 with a message
//! within milliseconds instead of an allocation abort or a run without end. Memory is bounded
//! separately by [`crate::budget`] from an estimate made before anything is allocated; the caps
//! here are the ones an estimate cannot give (wall time) or that must hold before an estimate
//! can be computed without overflow.
//!
//! Check parameters are capped relative to their documented scale
//! ([`CHECK_SCALE_FACTOR`] × the larger of the default and test value, per integer parameter,
//! and [`CHECK_WORK_FACTOR`] for the product of those ratios); seeds that name a random stream
//! are capped at 2⁵³, the integers an f64 holds exactly.

use crate::error::{Error, Result};

/// Largest number of seeds of a check run.
pub const MAX_SEEDS: usize = 100_000;
/// Largest number of gradient steps of a training run.
pub const MAX_STEPS: usize = 10_000_000;
/// Largest number of attack iterations.
pub const MAX_ITERS: usize = 1_000_000;
/// Largest number of points of one sweep.
pub const MAX_GRID_POINTS: usize = 100_000;
/// Largest hidden width of a trained model.
pub const MAX_WIDTH: usize = 1 << 20;
/// Largest seed of a random stream (integers above it are not exact in f64).
pub const MAX_SEED: u64 = 1 << 53;
/// Largest arithmetic work of one command, in floating-point operations (≈ 3 h at 10 Gflop/s).
pub const MAX_FLOPS: f64 = 1e14;
/// An integer check parameter may be at most this multiple of its documented-scale value.
pub const CHECK_SCALE_FACTOR: f64 = 100.0;
/// The product over a check's integer parameters of (value / documented value), where above 1,
/// may be at most this: each parameter alone may grow 100×, but not all of them at once.
pub const CHECK_WORK_FACTOR: f64 = 10_000.0;

/// Threads a run may use: at most 8 per core the machine has (and at least 64).
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (8 * cores).max(64)
}

/// A count given on the command line (possibly negative) as `usize` in `min..=max`; the error
/// names the argument and the range.
pub fn count(what: &str, value: i64, min: usize, max: usize) -> Result<usize> {
    usize::try_from(value)
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| Error::input(format!("{what} must lie in {min}..={max}, got {value}")))
}

/// `value ≤ max` for an already non-negative count, with the same message as [`count`].
pub fn at_most(what: &str, value: usize, max: usize) -> Result<usize> {
    if value > max {
        return Err(Error::input(format!(
            "{what} must be at most {max}, got {value}"
        )));
    }
    Ok(value)
}

/// Refuses a run whose work estimate is above [`MAX_FLOPS`]; `what` names the run, `hint` says
/// which argument to lower.
pub fn check_flops(what: &str, flops: f64, hint: &str) -> Result<()> {
    if flops.is_finite() && flops <= MAX_FLOPS {
        return Ok(());
    }
    Err(Error::input(format!(
        "{what} needs about {flops:.1e} floating-point operations, above the cap of {MAX_FLOPS:.0e} \
         (hours of compute); {hint}"
    )))
}

/// The parameter count of a dense network with layer sizes `sizes` (weights and biases), or an
/// error if it overflows.
pub fn dense_params(sizes: &[usize]) -> Result<usize> {
    sizes.windows(2).try_fold(0usize, |acc, w| {
        w[0].checked_mul(w[1])
            .and_then(|p| p.checked_add(w[1]))
            .and_then(|p| acc.checked_add(p))
            .ok_or_else(|| {
                Error::input(format!(
                    "a network with layer sizes {sizes:?} has more parameters than can be counted"
                ))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_outside_their_range_are_refused_with_the_range() {
        assert_eq!(count("seeds", 3, 1, 10).unwrap(), 3);
        let e = count("seeds (--seeds)", -1, 1, 10).unwrap_err().to_string();
        assert!(
            e.contains("seeds (--seeds) must lie in 1..=10, got -1"),
            "{e}"
        );
        assert!(count("x", 11, 1, 10).is_err() && count("x", 0, 1, 10).is_err());
        assert_eq!(count("x", 10, 1, 10).unwrap(), 10);
        assert!(at_most("k", 5, 5).is_ok() && at_most("k", 6, 5).is_err());
    }

    #[test]
    fn parameter_counts_overflow_into_an_error() {
        assert_eq!(
            dense_params(&[64, 8, 10]).unwrap(),
            64 * 8 + 8 + 8 * 10 + 10
        );
        assert!(dense_params(&[64, 1 << 62, 10]).is_err());
    }

    #[test]
    fn work_above_the_cap_is_refused() {
        assert!(check_flops("a run", 1e13, "").is_ok());
        assert!(check_flops("a run", MAX_FLOPS, "").is_ok());
        let e = check_flops("a run", 2e14, "lower --steps")
            .unwrap_err()
            .to_string();
        assert!(e.contains("2.0e14") && e.contains("lower --steps"), "{e}");
        assert!(check_flops("a run", f64::NAN, "").is_err());
    }
}
