//! Aggregates over instances: a value together with the number of instances behind it.
//!
//! Every measurement a check records is an [`Agg`]. The constructors propagate NaN (one NaN
//! instance makes the aggregate NaN, unlike `f64::max`, which drops it) and count their
//! instances, so that the evidence layer can refuse a verdict on nothing: an aggregate over zero
//! instances or with a NaN is INCONCLUSIVE, never PASS or FAIL.
//!
//! For the property tests there is a process-wide [`fault`] switch that makes a constructor (the
//! k-th, or every one) behave as if one of its instances were NaN, or as if its instance set
//! were empty. The switch is process-wide: only a test binary that runs one test may use it.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// A value aggregated over `samples` instances.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Agg {
    /// The aggregate (NaN when any instance was NaN or there were none).
    pub value: f64,
    /// How many instances it aggregates.
    pub samples: usize,
}

/// Fault injection for the evidence property tests (not for production runs).
pub mod fault {
    use super::*;

    /// What the aggregate constructors inject.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[repr(u8)]
    pub enum Fault {
        /// Nothing: normal operation.
        None = 0,
        /// The first instance of the targeted aggregates is NaN.
        NanInstance = 1,
        /// The targeted aggregates see no instances.
        Empty = 2,
    }

    static MODE: AtomicU8 = AtomicU8::new(0);
    static TARGET: AtomicUsize = AtomicUsize::new(usize::MAX);
    static COUNT: AtomicUsize = AtomicUsize::new(0);

    /// Sets the process-wide fault mode for every aggregate constructed from now on.
    pub fn set(f: Fault) {
        set_at(f, None);
    }

    /// Sets the fault mode for the `k`-th aggregate constructed from now on only (counting
    /// from 0), or for all of them with `None`; resets the count.
    pub fn set_at(f: Fault, k: Option<usize>) {
        COUNT.store(0, Ordering::SeqCst);
        TARGET.store(k.unwrap_or(usize::MAX), Ordering::SeqCst);
        MODE.store(f as u8, Ordering::SeqCst);
    }

    /// How many aggregates were constructed since the last [`set`] or [`set_at`].
    pub fn constructed() -> usize {
        COUNT.load(Ordering::SeqCst)
    }

    /// The fault of the aggregate being constructed now (and counts it).
    pub(super) fn next() -> Fault {
        let k = COUNT.fetch_add(1, Ordering::SeqCst);
        let target = TARGET.load(Ordering::SeqCst);
        if target != usize::MAX && target != k {
            return Fault::None;
        }
        match MODE.load(Ordering::SeqCst) {
            1 => Fault::NanInstance,
            2 => Fault::Empty,
            _ => Fault::None,
        }
    }
}

use fault::Fault;

fn injected(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    match fault::next() {
        Fault::None => values.into_iter().collect(),
        Fault::Empty => Vec::new(),
        Fault::NanInstance => {
            let mut v: Vec<f64> = values.into_iter().collect();
            if let Some(first) = v.first_mut() {
                *first = f64::NAN;
            }
            v
        }
    }
}

fn fold(values: impl IntoIterator<Item = f64>, f: impl Fn(f64, f64) -> f64) -> Agg {
    let v = injected(values);
    let value = match v.split_first() {
        None => f64::NAN,
        Some((&first, rest)) if v.iter().all(|x| !x.is_nan()) => {
            rest.iter().fold(first, |a, &b| f(a, b))
        }
        Some(_) => f64::NAN,
    };
    Agg {
        value,
        samples: v.len(),
    }
}

impl Agg {
    /// The largest instance.
    pub fn max(values: impl IntoIterator<Item = f64>) -> Agg {
        fold(values, f64::max)
    }
    /// The smallest instance.
    pub fn min(values: impl IntoIterator<Item = f64>) -> Agg {
        fold(values, f64::min)
    }
    /// The sum of the instances.
    pub fn sum(values: impl IntoIterator<Item = f64>) -> Agg {
        fold(values, |a, b| a + b)
    }
    /// The mean of the instances.
    pub fn mean(values: impl IntoIterator<Item = f64>) -> Agg {
        fold(values, |a, b| a + b).map_samples(|s, n| s / n as f64)
    }
    /// The median of the instances (mean of the middle two for an even count).
    pub fn median(values: impl IntoIterator<Item = f64>) -> Agg {
        let mut v = injected(values);
        let samples = v.len();
        if v.is_empty() || v.iter().any(|x| x.is_nan()) {
            return Agg {
                value: f64::NAN,
                samples,
            };
        }
        v.sort_by(f64::total_cmp);
        let h = samples / 2;
        let value = if samples % 2 == 1 {
            v[h]
        } else {
            0.5 * (v[h - 1] + v[h])
        };
        Agg { value, samples }
    }
    /// A value computed from `samples` instances (a test statistic, a ratio of medians, …).
    pub fn of(value: f64, samples: usize) -> Agg {
        match fault::next() {
            Fault::None => Agg { value, samples },
            Fault::NanInstance => Agg {
                value: f64::NAN,
                samples,
            },
            Fault::Empty => Agg {
                value: f64::NAN,
                samples: 0,
            },
        }
    }
    /// A count of `k` instances out of `n`.
    pub fn count(k: usize, n: usize) -> Agg {
        Self::of(k as f64, n)
    }
    /// The fraction k/n (NaN for n = 0).
    pub fn fraction(k: usize, n: usize) -> Agg {
        Self::of(k as f64 / n as f64, n)
    }
    fn map_samples(self, f: impl FnOnce(f64, usize) -> f64) -> Agg {
        Agg {
            value: f(self.value, self.samples),
            samples: self.samples,
        }
    }
    /// A value derived from this one, over the same instances.
    pub fn map(self, f: impl FnOnce(f64) -> f64) -> Agg {
        Agg {
            value: f(self.value),
            samples: self.samples,
        }
    }
    /// A value derived from two aggregates: its instances are the fewer of the two.
    pub fn zip(self, other: Agg, f: impl FnOnce(f64, f64) -> f64) -> Agg {
        Agg {
            value: f(self.value, other.value),
            samples: self.samples.min(other.samples),
        }
    }
    /// self / other.
    pub fn ratio(self, other: Agg) -> Agg {
        self.zip(other, |a, b| a / b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_propagates_where_f64_max_drops_it() {
        let v = [1.0, f64::NAN, 3.0];
        assert_eq!(v.iter().copied().fold(0.0, f64::max), 3.0);
        assert!(Agg::max(v).value.is_nan());
        assert!(Agg::min(v).value.is_nan());
        assert!(Agg::median(v).value.is_nan());
        assert!(Agg::mean(v).value.is_nan());
        assert_eq!(Agg::max(v).samples, 3);
    }

    #[test]
    fn empty_is_nan_with_no_samples() {
        for a in [
            Agg::max([]),
            Agg::min([]),
            Agg::median([]),
            Agg::mean([]),
            Agg::sum([]),
        ] {
            assert!(a.value.is_nan());
            assert_eq!(a.samples, 0);
        }
        assert!(Agg::fraction(0, 0).value.is_nan());
    }

    #[test]
    fn values() {
        assert_eq!(Agg::max([1.0, 4.0, 2.0]).value, 4.0);
        assert_eq!(Agg::min([1.0, 4.0, 2.0]).value, 1.0);
        assert_eq!(Agg::median([5.0, 1.0, 4.0, 2.0]).value, 3.0);
        assert_eq!(Agg::median([5.0, 1.0, 4.0]).value, 4.0);
        assert_eq!(Agg::mean([1.0, 2.0, 6.0]).value, 3.0);
        assert_eq!(Agg::fraction(1, 4).value, 0.25);
        let s = Agg::sum([1.0, 2.0, 6.0]);
        assert_eq!((s.value, s.samples), (9.0, 3));
        let c = Agg::count(2, 5);
        assert_eq!((c.value, c.samples), (2.0, 5));
        let m = Agg::of(2.0, 4).map(|v| v * 3.0);
        assert_eq!((m.value, m.samples), (6.0, 4));
        let r = Agg::of(6.0, 3).ratio(Agg::of(2.0, 2));
        assert_eq!((r.value, r.samples), (3.0, 2));
    }
}
