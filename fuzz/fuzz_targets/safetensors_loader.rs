//! Arbitrary bytes as a model file: an error or a model whose parameters are finite.
#![no_main]
use dimple::model::io::{parse, Loaded};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse(data, std::path::Path::new("fuzz.safetensors")) {
        Ok(Loaded::Binary(m)) => assert!(m.params().iter().all(|v| v.is_finite())),
        Ok(Loaded::Classifier(m)) => {
            use dimple::model::Classifier;
            assert!(m.params().iter().all(|v| v.is_finite()))
        }
        Err(_) => {}
    }
});
