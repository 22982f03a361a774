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
    /// A real parameter.
    pub fn f(&self, name: &str) -> Result<f64> {
        self.values.get(name).copied().ok_or_else(|| {
            Error::input(format!(
                "check {} reads parameter `{name}`, which its theory file does not define",
                self.id
            ))
        })
    }
    /// A non-negative integer parameter.
    pub fn n(&self, name: &str) -> Result<usize> {
        let v = self.f(name)?;
        if v < 0.0 || v.fract() != 0.0 || v > 1e12 {
            return Err(Error::input(format!(
                "parameter `{name}` = {v} must be a non-negative integer"
            )));
        }
        Ok(v as usize)
    }
}
