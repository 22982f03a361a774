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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct P {
        n: usize,
        shift: i64,
        rate: f64,
        big: f64,
    }

    fn params(values: &[(&str, f64)]) -> Params {
        Params::new(
            "some.check".into(),
            values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        )
    }

    #[test]
    fn scales_parse_by_name() {
        assert_eq!(Scale::parse("test"), Some(Scale::Test));
        assert_eq!(Scale::parse("default"), Some(Scale::Default));
        assert_eq!(Scale::parse("Default"), None);
        assert_eq!(Scale::default(), Scale::Test);
    }

    /// Integral values become integers (non-negative as u64, negative as i64), so an integer
    /// field takes them and refuses a fraction; a float field takes either; 2⁵³ and above stay
    /// floats.
    #[test]
    fn typed_parameters_convert_integral_values() {
        let p = params(&[("n", 3.0), ("shift", -2.0), ("rate", 3.0), ("big", 1e16)]);
        assert_eq!(
            p.typed::<P>().unwrap(),
            P {
                n: 3,
                shift: -2,
                rate: 3.0,
                big: 1e16
            }
        );
        assert_eq!(p.values().len(), 4);
        let e = params(&[("n", 2.5), ("shift", 0.0), ("rate", 0.5), ("big", 0.0)])
            .typed::<P>()
            .unwrap_err();
        assert!(
            matches!(e, Error::Input(_)) && e.to_string().contains("some.check"),
            "{e}"
        );
        // A negative count is refused, not wrapped.
        assert!(
            params(&[("n", -1.0), ("shift", 0.0), ("rate", 0.5), ("big", 0.0)])
                .typed::<P>()
                .is_err()
        );
        // 9e15 and above are not integers here: a usize field refuses them.
        assert!(
            params(&[("n", 9.0e15), ("shift", 0.0), ("rate", 0.5), ("big", 0.0)])
                .typed::<P>()
                .is_err()
        );
        assert!(
            params(&[("n", 8.9e15), ("shift", 0.0), ("rate", 0.5), ("big", 0.0)])
                .typed::<P>()
                .is_ok()
        );
        // Unknown and missing names.
        assert!(params(&[
            ("n", 1.0),
            ("shift", 0.0),
            ("rate", 0.5),
            ("big", 0.0),
            ("x", 1.0)
        ])
        .typed::<P>()
        .is_err());
        assert!(params(&[("n", 1.0)]).typed::<P>().is_err());
    }
}
