//! Resolved check parameters.

use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// Which parameter set of a theory file to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// Small instances that run in seconds (`cargo test`).
    #[default]
    Test,
    /// The documented run.
    Default,
}

impl Scale {
    /// Parses `test` or `default`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "test" => Some(Self::Test),
            "default" => Some(Self::Default),
            _ => None,
        }
    }
}

/// Parameter values of one run, with typed accessors whose errors name the parameter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Params {
    #[serde(skip)]
    id: String,
    values: BTreeMap<String, f64>,
}

impl Params {
    /// Wraps validated values.
    pub fn new(id: String, values: BTreeMap<String, f64>) -> Self {
        Self { id, values }
    }
    /// All values.
    pub fn values(&self) -> &BTreeMap<String, f64> {
        &self.values
    }
    /// The values as a typed struct: integral values become integers, so a `usize` field
    /// refuses 2.5 and a `f64` field takes 3; unknown or missing names are refused by the
    /// struct's `#[serde(deny_unknown_fields)]`.
    pub fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let map: serde_json::Map<String, serde_json::Value> = self
            .values
            .iter()
            .map(|(k, &v)| {
                let j = if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    if v >= 0.0 {
                        serde_json::Value::from(v as u64)
                    } else {
                        serde_json::Value::from(v as i64)
                    }
                } else {
                    serde_json::Value::from(v)
                };
                (k.clone(), j)
            })
            .collect();
        serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| Error::input(format!("check {}: parameters: {e}", self.id)))
    }
}
