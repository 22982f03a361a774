//! Arbitrary bytes as a `.npy` file: an error or an array, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = dimple::data::npy::parse(data, std::path::Path::new("fuzz.npy")) {
        let count: usize = a.shape.iter().product();
        assert_eq!(count, a.data.len(), "shape and payload disagree");
    }
});
