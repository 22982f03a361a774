//! The fault switch of `dimple::check::agg` itself: what each mode does to each kind of
//! aggregate constructor, that `set_at` targets exactly the k-th aggregate constructed after it,
//! and the construction count. `tests/inconclusive.rs` relies on all three to inject a NaN into
//! one aggregate of a check at a time.
//!
//! The switch is process-wide, so this binary holds one test.

use dimple::check::agg::fault::{self, Fault};
use dimple::check::agg::Agg;

fn agg(value: f64, samples: usize) -> Agg {
    Agg { value, samples }
}

fn is_nan_over(a: Agg, samples: usize) -> bool {
    a.value.is_nan() && a.samples == samples
}

#[test]
fn each_mode_reaches_the_targeted_aggregates_only() {
    // No fault: the values themselves, and every constructor counts once.
    fault::set(Fault::None);
    assert_eq!(fault::constructed(), 0);
    assert_eq!(Agg::max([1.0, 3.0, 2.0]), agg(3.0, 3));
    assert_eq!(Agg::median([4.0, 1.0, 2.0]), agg(2.0, 3));
    assert_eq!(Agg::of(5.0, 7), agg(5.0, 7));
    assert_eq!(fault::constructed(), 3);

    // A NaN instance in every aggregate: folds and the median turn NaN over the same instance
    // count, and a value given whole (`of`) turns NaN with its count kept.
    fault::set(Fault::NanInstance);
    assert_eq!(fault::constructed(), 0, "set resets the count");
    assert!(is_nan_over(Agg::max([1.0, 3.0]), 2));
    assert!(is_nan_over(Agg::median([1.0, 3.0, 2.0]), 3));
    assert!(is_nan_over(Agg::of(5.0, 7), 7));
    assert!(is_nan_over(Agg::count(2, 4), 4));

    // An empty instance set: NaN over no instances, for folds and for whole values alike.
    fault::set(Fault::Empty);
    assert!(is_nan_over(Agg::sum([1.0, 3.0]), 0));
    assert!(is_nan_over(Agg::median([1.0]), 0));
    assert!(is_nan_over(Agg::of(5.0, 7), 0));

    // Targeted: only the aggregate constructed second (k = 1) after `set_at` is faulty.
    fault::set_at(Fault::NanInstance, Some(1));
    assert_eq!(fault::constructed(), 0, "set_at resets the count");
    assert_eq!(Agg::min([2.0, 1.0]), agg(1.0, 2));
    assert!(is_nan_over(Agg::min([2.0, 1.0]), 2));
    assert_eq!(Agg::min([2.0, 1.0]), agg(1.0, 2));
    assert_eq!(fault::constructed(), 3);

    fault::set_at(Fault::Empty, Some(0));
    assert!(is_nan_over(Agg::of(1.0, 3), 0));
    assert_eq!(Agg::of(1.0, 3), agg(1.0, 3));

    // Back to normal for anything after this test.
    fault::set(Fault::None);
    assert_eq!(Agg::sum([1.0, 2.0]), agg(3.0, 2));
}
