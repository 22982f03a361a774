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
    /// A condition the run must meet for its other measurements to speak about the claim
    /// (training reached the regime, enough flip-free seeds, …); unmet means INCONCLUSIVE.
    Precondition,
}

impl Kind {
    /// Whether a failed measurement of this kind fails the run.
    pub fn gating(self) -> bool {
        matches!(self, Kind::Gate | Kind::Stat | Kind::Control)
    }
    /// The lower-case name used in theory files, tables and JSON.
    pub fn tag(self) -> &'static str {
        match self {
            Kind::Gate => "gate",
            Kind::Stat => "stat",
            Kind::Probe => "probe",
            Kind::Control => "control",
            Kind::Precondition => "precondition",
        }
    }
}

/// The relation a measurement must satisfy with its bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Relation {
    /// measured ≤ bound.
    #[serde(rename = "<=")]
    Le,
    /// measured ≥ bound.
    #[serde(rename = ">=")]
    Ge,
}

impl Relation {
    /// `≤` or `≥`.
    pub fn symbol(self) -> &'static str {
        match self {
            Relation::Le => "≤",
            Relation::Ge => "≥",
        }
    }
    /// Whether `measured relation bound` holds (false for NaN on either side).
    pub fn holds(self, measured: f64, bound: f64) -> bool {
        match self {
            Relation::Le => measured <= bound,
            Relation::Ge => measured >= bound,
        }
    }
}

/// The declared bound of a measurement: a number, a formula of the run's data written out with
/// its constants (the check evaluates it with the constants read from the file), or a
/// statistical threshold the framework computes from the check's level α.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    /// A constant bound.
    Number(f64),
    /// `"alpha"` (the measurement's share α_i of the check's level), `"z(alpha)"` (the
    /// two-sided normal quantile Φ⁻¹(1 − α_i/2)), or a data-dependent formula in words.
    Formula(String),
}

pub use crate::stats::ALPHA;

/// One declared measurement: the contract between a theory file and its check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    /// Short stable identifier (what the check records and JSON carries).
    pub key: String,
    /// Human-readable name.
    pub name: String,
    /// Gate, stat, probe, control or precondition.
    pub kind: Kind,
    /// `<=` or `>=`.
    pub relation: Relation,
    /// The bound.
    pub bound: Bound,
    /// Named constants of a formula bound (read by the check, never typed in code).
    #[serde(default)]
    pub constants: BTreeMap<String, f64>,
    /// Fewest instances the aggregate needs before it may decide (default 1).
    #[serde(default = "one")]
    pub min_samples: usize,
    /// What is measured, over which instances (optional prose for the docs page).
    #[serde(default)]
    pub description: String,
    /// For a precondition: whether it conditions the whole check (`all`, the default) or only
    /// the paper claim its probes measure (`probes`).
    #[serde(default)]
    pub scope: Scope,
    /// For a stat: the alternative its power is stated against.
    #[serde(default)]
    pub alternative: Option<String>,
    /// For a stat: the power against `alternative` at the default scale.
    #[serde(default)]
    pub power: Option<f64>,
}

/// What an unmet precondition makes inconclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The whole check and its claim.
    #[default]
    All,
    /// Only the claim (the probes): the gates do not depend on it.
    Probes,
}

fn one() -> usize {
    1
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
    /// An empirical number from a pilot run of this suite; a threshold fitted to it says so.
    Pilot,
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
    /// The declared measurements, in the order the check records them.
    pub measured: Vec<Declared>,
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
    /// What a run costs, as formulas of the parameters.
    pub resources: Resources,
    /// The review of the paper claim the probes measure (required exactly when the file
    /// declares a probe).
    #[serde(default)]
    pub claim: Option<ClaimReview>,
}

/// What a failing or inconclusive probe is, read with evidence (docs/claims.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Finding {
    /// The run did not reach the regime the claim speaks about (a precondition measurement
    /// says so, and the outcome is INCONCLUSIVE).
    Precondition,
    /// The suite's setting differs from the paper's in a way that decides the outcome.
    Setup,
    /// The claim fails in a setting that meets its stated assumptions: a result.
    Counterexample,
}

impl Finding {
    /// The finding in words, as the theory file writes it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Precondition => "precondition",
            Self::Setup => "setup",
            Self::Counterexample => "counterexample",
        }
    }
}

/// The review of a check's paper claim: what would make its probes fail, and, when the
/// documented run does not hold, which of the three [`Finding`]s it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimReview {
    /// The paper's claim in one sentence.
    pub claim: String,
    /// The probes' power: an instance that would have made them fail, measured where it says so.
    pub power: String,
    /// Why the documented run does not hold the claim (absent when it holds, and when the
    /// evidence does not yet decide between the three).
    #[serde(default)]
    pub finding: Option<Finding>,
    /// The finding's evidence in words (or, without a finding, what is known so far).
    #[serde(default)]
    pub evidence: String,
    /// One command reproducing the finding or a documented variant (besides the documented
    /// run, `dimple check <id>`).
    #[serde(default)]
    pub variant: Option<String>,
    /// A figure of the finding: its path under `docs/` and the command that draws it.
    #[serde(default)]
    pub figure: Option<ClaimFigure>,
}

/// A figure of a claim's finding (written by the command, not by `dimple docs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimFigure {
    /// Path under `docs/`, e.g. `figures/x.svg`.
    pub path: String,
    /// What it shows.
    pub caption: String,
    /// The `dimple` command that draws it.
    pub command: String,
}

/// A run's cost as formulas of its parameters ([`crate::formula`]), evaluated before it starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// Peak memory in bytes (the dominant arrays alive at once, counted in f64s × 8; an
    /// estimate of order, not a measurement). A run above the budget is refused.
    pub memory: String,
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
        for name in crate::formula::names(&t.resources.memory) {
            if !t.params.default.contains_key(&name) {
                return Err(bad(format!(
                    "resources.memory names `{name}`, which is not a parameter"
                )));
            }
        }
        for scale in [&t.params.default, &t.params.test] {
            let bytes =
                crate::formula::eval(&t.resources.memory, scale).map_err(|e| bad(e.to_string()))?;
            if !(bytes.is_finite() && bytes > 0.0) {
                return Err(bad(format!(
                    "resources.memory is {bytes} bytes at a shipped scale"
                )));
            }
        }
        t.validate_contract().map_err(bad)?;
        Ok(t)
    }

    /// Integer parameters (declared `integer` or `even`): the sizes and counts the caps of
    /// [`crate::limits`] apply to.
    pub fn integer_params(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.constraints {
            if (c.integer || c.even) && !out.contains(&c.param.as_str()) {
                out.push(&c.param);
            }
        }
        out
    }

    /// Refuses `params` whose run would be too long or too large: a seed above 2⁵³, an
    /// integer parameter above [`crate::limits::CHECK_SCALE_FACTOR`] times its documented value,
    /// the product of those growth ratios above [`crate::limits::CHECK_WORK_FACTOR`], or a memory
    /// estimate (`resources.memory`) above `budget`. Messages name the parameter and the cap.
    pub fn check_resources(
        &self,
        params: &BTreeMap<String, f64>,
        budget: &crate::budget::Budget,
    ) -> Result<()> {
        use crate::limits;
        let mut growth = 1.0;
        for name in self.integer_params() {
            let v = params.get(name).copied().unwrap_or(0.0);
            if name == "seed" || name.ends_with("_seed") {
                if v > limits::MAX_SEED as f64 {
                    return Err(Error::input(format!(
                        "{name} = {v} is above the largest seed, 2^53 = {}",
                        limits::MAX_SEED
                    )));
                }
                continue;
            }
            let documented = self.params.default[name]
                .max(self.params.test[name])
                .max(1.0);
            let cap = limits::CHECK_SCALE_FACTOR * documented;
            if v > cap {
                return Err(Error::input(format!(
                    "{name} = {v} is above its cap {cap} ({}× the documented value {documented}; \
                     a run may grow each parameter at most that much)",
                    limits::CHECK_SCALE_FACTOR
                )));
            }
            growth *= (v / documented).max(1.0);
        }
        if growth > limits::CHECK_WORK_FACTOR {
            return Err(Error::input(format!(
                "the parameters together are {growth:.3e}× the documented run (the product of each \
                 integer parameter's growth), above the cap of {:.0e}; grow fewer of them at once",
                limits::CHECK_WORK_FACTOR
            )));
        }
        let bytes = crate::formula::eval(&self.resources.memory, params)?;
        budget.check(
            &format!("check {} with these parameters", self.id),
            bytes,
            "lower the sizes, or raise --max-memory",
        )
    }

    /// The measurement contract is well formed: unique keys, every stat with its alternative
    /// and power, symbolic bounds only on stats and their controls.
    fn validate_contract(&self) -> std::result::Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        if self.measured.is_empty() {
            return Err("declares no measurement".into());
        }
        for m in &self.measured {
            if !seen.insert(m.key.as_str()) {
                return Err(format!("measurement key `{}` is declared twice", m.key));
            }
            if m.key.is_empty() || m.key.contains(char::is_whitespace) {
                return Err(format!(
                    "measurement key `{}` must be a non-empty word",
                    m.key
                ));
            }
            if m.min_samples == 0 {
                return Err(format!("`{}`: min_samples must be ≥ 1", m.key));
            }
            if m.kind == Kind::Stat && (m.alternative.is_none() || m.power.is_none()) {
                return Err(format!(
                    "stat `{}` must state its `alternative` and `power`",
                    m.key
                ));
            }
            match &m.bound {
                Bound::Number(b) if !b.is_finite() => {
                    return Err(format!("`{}`: bound must be finite", m.key))
                }
                Bound::Formula(f) if f.trim().is_empty() => {
                    return Err(format!("`{}`: empty bound formula", m.key))
                }
                Bound::Formula(f)
                    if (f == "alpha" || f == "z(alpha)")
                        && !matches!(m.kind, Kind::Stat | Kind::Control) =>
                {
                    return Err(format!(
                        "`{}`: `{f}` is a statistical threshold; only stats and controls use it",
                        m.key
                    ))
                }
                _ => {}
            }
            if m.scope != Scope::All && m.kind != Kind::Precondition {
                return Err(format!("`{}`: only a precondition has a scope", m.key));
            }
            if !m.constants.values().all(|c| c.is_finite()) {
                return Err(format!("`{}`: constants must be finite", m.key));
            }
        }
        if !self.measured.iter().any(|m| m.kind == Kind::Control) {
            return Err("declares no negative control".into());
        }
        let probes = self.measured.iter().any(|m| m.kind == Kind::Probe);
        match &self.claim {
            None if probes => {
                return Err("declares probes but no [claim] review (claim, power)".into())
            }
            Some(_) if !probes => return Err("has a [claim] review but declares no probe".into()),
            Some(c) if c.finding.is_some() && c.evidence.trim().is_empty() => {
                return Err("[claim]: a finding needs its evidence".into())
            }
            Some(c)
                if c.variant
                    .as_deref()
                    .is_some_and(|v| !v.starts_with(&format!("dimple check {} ", self.id))) =>
            {
                return Err(format!(
                    "[claim]: the variant must be a command `dimple check {} …`",
                    self.id
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// The declared measurement of `key`.
    pub fn declared(&self, key: &str) -> Option<&Declared> {
        self.measured.iter().find(|m| m.key == key)
    }

    /// The share α_i = α/k of the check's level for each of its k stat measurements (α when it
    /// has none, for controls that run a test).
    pub fn alpha_each(&self) -> f64 {
        let k = self
            .measured
            .iter()
            .filter(|m| m.kind == Kind::Stat)
            .count();
        ALPHA / k.max(1) as f64
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
