//! Arbitrary text as CSV: an error or a finite rectangular matrix, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(m) = dimple::data::csv::parse(text, std::path::Path::new("fuzz.csv")) {
            assert!(m.iter().all(|v| v.is_finite()), "non-finite value accepted");
        }
    }
});
