//! The theory registry: one machine-readable statement per check (`theory/<id>.toml`).
//!
//! A theory file names the claim (statement, paper, provenance tag), the assumptions in words
//! and as machine-checkable parameter constraints, the measured quantities, the bound with its
//! explicit constants, the negative control, the code that checks it, and the default and
//! test-scale parameters. The files are embedded at compile time; a test asserts that the files
//! in `theory/`, this list and the registered checks match one to one.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kind of a check or of one of its measurements (theory-notes README).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A derived identity or deterministic bound; must pass at both scales.
    Gate,
    /// A statistical bound at level α = 1e−3 on fixed seeds.
    Stat,
    /// A paper's empirical claim, measured and reported; does not fail the run.
    Probe,
    /// A negative control: the criterion must reject an instance built to violate it.
    Control,
}

impl Kind {
    /// Whether a failed measurement of this kind fails the run.
    pub fn gating(self) -> bool {
        !matches!(self, Kind::Probe)
    }
}

/// Provenance of a statement (theory-notes README).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provenance {
    /// Read in the cited paper or its official code.
    Paper,
    /// A standard prior result or prior-work code, cited.
    Background,
    /// Derived for this suite (derivation sketched in the statement).
    Derived,
    /// Recalled or second-hand; never hard-coded as the paper's constant.
    Unverified,
}

/// A named assumption in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assumption {
    /// Short name, used in error messages.
    pub name: String,
    /// The assumption as stated.
    pub text: String,
}

/// A machine-checkable constraint on one parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraint {
    /// The assumption it encodes (an `assumptions[].name`).
    pub assumption: String,
    /// The parameter.
    pub param: String,
    /// Inclusive lower bound.
    pub min: Option<f64>,
    /// Inclusive upper bound.
    pub max: Option<f64>,
    /// Exclusive lower bound.
    pub above: Option<f64>,
    /// Exclusive upper bound.
    pub below: Option<f64>,
    /// Must be strictly less than this other parameter.
    pub less_than: Option<String>,
    /// Must be an integer.
    #[serde(default)]
    pub integer: bool,
    /// Must be an even integer.
    #[serde(default)]
    pub even: bool,
}

/// A measured quantity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    /// Its name in the evidence.
    pub name: String,
    /// What it is.
    pub description: String,
}

/// Default and test-scale parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scales {
    /// The documented run.
    pub default: BTreeMap<String, f64>,
    /// The scale run by `cargo test` (seconds).
    pub test: BTreeMap<String, f64>,
}

/// One theory file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theory {
    /// Check id, `family.name`.
    pub id: String,
    /// Family (`kkt`, `unlearn`, …).
    pub family: String,
    /// One-line title.
    pub title: String,
    /// The check's kind.
    pub kind: Kind,
    /// Paper reference(s).
    pub paper: String,
    /// Provenance of the asserted bound.
    pub provenance: Provenance,
    /// The statement, with formulas.
    pub statement: String,
    /// Assumptions in words.
    pub assumptions: Vec<Assumption>,
    /// Machine-checkable parameter constraints.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// Measured quantities.
    pub measured: Vec<Quantity>,
    /// The bound with its explicit constants.
    pub bound: String,
    /// The negative control and what it must show.
    pub negative_control: String,
    /// Source file implementing the check.
    pub code: String,
    /// Parameters.
    pub params: Scales,
    /// Pilot numbers and remarks.
    #[serde(default)]
    pub notes: String,
}

macro_rules! theory_files {
    ($($id:literal),* $(,)?) => {
        /// The embedded theory files: (id, TOML text).
        pub static FILES: &[(&str, &str)] = &[
            $(($id, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/theory/", $id, ".toml")))),*
        ];
    };
}

theory_files![
    "kkt.euler",
    "kkt.svm.dual_primal",
    "kkt.multipliers.solvers",
    "kkt.certificate.fixture",
    "kkt.linear.gd_direction",
    "kkt.smoothed_margin",
    "kkt.twolayer.trajectory",
    "unlearn.linear.kkt",
    "unlearn.linear.retrain",
    "unlearn.linear.sweep",
    "unlearn.twolayer.fixture",
    "unlearn.twolayer.gd",
    "unlearn.twolayer.sweep",
    "unlearn.twolayer.retrain",
    "unlearn.forget_set",
    "unlearn.gmm.linear",
    "unlearn.gmm.twolayer",
    "unlearn.criterion.seeds",
    "subspace.c1_frozen",
    "subspace.c2_chi2",
    "subspace.c3_lower_tail",
    "subspace.c4_flip_sandwich",
    "subspace.c5_scale",
    "subspace.c6_universal",
    "subspace.c7_relative",
    "subspace.toy.diagonal",
    "subspace.toy.chess",
    "dimpled.baseline.beta",
    "dimpled.linear.perpendicular",
    "dimpled.linear.cost_ratio",
    "dimpled.curved.tangent",
    "dimpled.real.pca",
    "dimpled.mislabeled",
    "malt.score.unit",
    "malt.linear.optimal",
    "malt.dlr.variants",
    "malt.apgd.schedule",
    "malt.apgd.invariants",
    "malt.twolayer.certified",
    "malt.twolayer.mesoscopic",
    "malt.pipeline.vs_apgdt",
    "explain.baseline.cos",
    "explain.offsubspace.null",
    "explain.invariance",
    "explain.bugs",
    "explain.planted.recovery",
];

impl Theory {
    /// Parses and validates one theory file.
    pub fn parse(id: &str, text: &str) -> Result<Theory> {
        let t: Theory = toml::from_str(text)
            .map_err(|e| Error::format(format!("theory/{id}.toml"), e.to_string()))?;
        let bad = |m: String| Error::format(format!("theory/{id}.toml"), m);
        if t.id != id {
            return Err(bad(format!("id `{}` does not match the file name", t.id)));
        }
        if !id.starts_with(&format!("{}.", t.family)) {
            return Err(bad(format!(
                "id does not start with its family `{}`",
                t.family
            )));
        }
        for c in &t.constraints {
            if !t.assumptions.iter().any(|a| a.name == c.assumption) {
                return Err(bad(format!(
                    "constraint on `{}` names unknown assumption `{}`",
                    c.param, c.assumption
                )));
            }
            for scale in [&t.params.default, &t.params.test] {
                if !scale.contains_key(&c.param) {
                    return Err(bad(format!(
                        "constraint names parameter `{}` that has no value",
                        c.param
                    )));
                }
            }
        }
        if t.params.default.keys().ne(t.params.test.keys()) {
            return Err(bad(
                "default and test scales must set the same parameters".into()
            ));
        }
        Ok(t)
    }

    /// Checks `params` against every constraint; the error names the assumption.
    pub fn validate(&self, params: &BTreeMap<String, f64>) -> Result<()> {
        for c in &self.constraints {
            let v = *params
                .get(&c.param)
                .ok_or_else(|| Error::input(format!("missing parameter `{}`", c.param)))?;
            let fail = |why: String| {
                Err(Error::assumption(
                    c.assumption.clone(),
                    format!("{} = {v} {why}", c.param),
                ))
            };
            if !v.is_finite() {
                return fail("is not finite".into());
            }
            if (c.integer || c.even) && v.fract() != 0.0 {
                return fail("must be an integer".into());
            }
            if c.even && (v as i64) % 2 != 0 {
                return fail("must be even".into());
            }
            if let Some(m) = c.min.filter(|&m| v < m) {
                return fail(format!("must be ≥ {m}"));
            }
            if let Some(m) = c.max.filter(|&m| v > m) {
                return fail(format!("must be ≤ {m}"));
            }
            if let Some(m) = c.above.filter(|&m| v <= m) {
                return fail(format!("must be > {m}"));
            }
            if let Some(m) = c.below.filter(|&m| v >= m) {
                return fail(format!("must be < {m}"));
            }
            if let Some(other) = &c.less_than {
                let o = params.get(other).copied().unwrap_or(f64::NAN);
                if !(v < o) {
                    return fail(format!("must be < {other} = {o}"));
                }
            }
        }
        Ok(())
    }
}

/// All theory files, parsed (a malformed embedded file is a build defect caught by the tests).
pub fn all() -> Result<Vec<Theory>> {
    FILES
        .iter()
        .map(|(id, text)| Theory::parse(id, text))
        .collect()
}

/// The theory of one id.
pub fn get(id: &str) -> Result<Theory> {
    let (_, text) = FILES
        .iter()
        .find(|(i, _)| *i == id)
        .ok_or_else(|| Error::UnknownCheck(id.to_string()))?;
    Theory::parse(id, text)
}
