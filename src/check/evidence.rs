//! Evidence: what a check measured, against which declared bound, with which outcome.
//!
//! The theory file is the contract. Each `[[measured]]` entry declares a `key`, a kind, a
//! relation and a bound; a check records a value for each key ([`Evidence::record`]) and never
//! types a bound itself. When the run ends, [`Evidence::finish`] enforces the contract: every
//! declared key recorded exactly once, nothing undeclared.
//!
//! ## Outcomes
//! A measurement is INCONCLUSIVE when its aggregate has fewer instances than its declared
//! `min_samples` (an aggregate over nothing among them) or is NaN; otherwise it passes or fails
//! its relation. A check is
//! - INCONCLUSIVE when a `precondition` is not met (the run did not reach the regime the claim
//!   is about), whatever else it measured;
//! - else FAIL when a gate, stat or control measurement fails;
//! - else INCONCLUSIVE when a gate, stat or control measurement is inconclusive;
//! - else PASS.
//!
//! Probes (a paper's empirical claim) give the claim's status the same way — held, not held,
//! or inconclusive — and never fail the run.

use super::agg::Agg;
use super::{Params, Scale};
use crate::error::{Error, Result};
use crate::stats::z_two_sided;
use crate::theory::{Bound, Declared, Kind, Scope, Theory};
use serde::Serialize;
use std::collections::BTreeMap;

pub use crate::theory::Relation;

/// The outcome of a measurement, a check, or a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub enum Outcome {
    /// The bound held on a non-empty, finite set of instances that met the preconditions.
    Pass,
    /// The bound was violated.
    Fail,
    /// No verdict: no instances, a NaN, too few samples, or an unmet precondition.
    Inconclusive,
}

impl Outcome {
    /// `PASS`, `FAIL`, `INCONCLUSIVE`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Inconclusive => "INCONCLUSIVE",
        }
    }
    /// A claim's status in words: `held`, `not held`, `inconclusive`.
    pub fn claim_label(self) -> &'static str {
        match self {
            Outcome::Pass => "held",
            Outcome::Fail => "not held",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

/// One measured quantity against its declared bound.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measurement {
    /// The declared key.
    pub key: String,
    /// What was measured.
    pub name: String,
    /// Gate, stat, probe, control or precondition.
    pub kind: Kind,
    /// The relation.
    pub relation: Relation,
    /// The bound (evaluated, for a formula).
    pub bound: f64,
    /// The declared formula of a data-dependent or statistical bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// The measured value.
    pub measured: f64,
    /// How many instances the value aggregates.
    pub samples: usize,
    /// The declared minimum of instances.
    pub min_samples: usize,
    /// For a precondition: the whole check or only the claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// PASS, FAIL or INCONCLUSIVE.
    pub outcome: Outcome,
    /// Whether `measured relation bound` holds; `null` when inconclusive.
    pub passed: Option<bool>,
    /// Why the measurement is inconclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Measurement {
    fn new(d: &Declared, agg: Agg, bound: f64) -> Self {
        let reason = if agg.samples < d.min_samples {
            Some(if agg.samples == 0 {
                "no instances".to_string()
            } else {
                format!(
                    "{} instances, fewer than the {} declared",
                    agg.samples, d.min_samples
                )
            })
        } else if agg.value.is_nan() {
            Some(format!("NaN over {} instances", agg.samples))
        } else if bound.is_nan() {
            Some("the bound evaluated to NaN".to_string())
        } else {
            None
        };
        let passed = reason.is_none().then(|| d.relation.holds(agg.value, bound));
        let outcome = match passed {
            None => Outcome::Inconclusive,
            Some(true) => Outcome::Pass,
            Some(false) => Outcome::Fail,
        };
        Self {
            key: d.key.clone(),
            name: d.name.clone(),
            kind: d.kind,
            relation: d.relation,
            bound,
            formula: match &d.bound {
                Bound::Formula(f) => Some(f.clone()),
                Bound::Number(_) => None,
            },
            measured: agg.value,
            samples: agg.samples,
            min_samples: d.min_samples,
            scope: (d.kind == Kind::Precondition).then_some(d.scope),
            outcome,
            passed,
            reason,
        }
    }
    /// measured / bound (how tight the bound is).
    pub fn ratio(&self) -> f64 {
        self.measured / self.bound
    }
    /// One line saying why this measurement is not a pass.
    pub fn explain(&self) -> String {
        match &self.reason {
            Some(r) => format!("{} `{}`: {r}", self.kind.tag(), self.key),
            None => format!(
                "{} `{}`: {} {} {} does not hold",
                self.kind.tag(),
                self.key,
                crate::report::fmt_num(self.measured),
                self.relation.symbol(),
                crate::report::fmt_num(self.bound)
            ),
        }
    }
}

/// The record of one check run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    /// Check id.
    pub id: String,
    /// Family.
    pub family: String,
    /// The check's kind.
    pub kind: Kind,
    /// Scale run.
    pub scale: Scale,
    /// Parameters used.
    pub params: BTreeMap<String, f64>,
    /// The measurements, in the order declared.
    pub measurements: Vec<Measurement>,
    /// Reported statistics (not asserted).
    pub stats: BTreeMap<String, f64>,
    /// Remarks (warnings, acceptance counts, solver statuses).
    pub notes: Vec<String>,
    #[serde(skip)]
    contract: Vec<Declared>,
    #[serde(skip)]
    alpha_each: f64,
    #[serde(skip)]
    defects: Vec<String>,
}

impl Evidence {
    /// An empty record bound to `theory`'s contract.
    pub fn new(theory: &Theory, scale: Scale, params: &Params) -> Self {
        Self {
            id: theory.id.clone(),
            family: theory.family.clone(),
            kind: theory.kind,
            scale,
            params: params.values().clone(),
            measurements: Vec::new(),
            stats: BTreeMap::new(),
            notes: Vec::new(),
            contract: theory.measured.clone(),
            alpha_each: theory.alpha_each(),
            defects: Vec::new(),
        }
    }

    fn declared(&mut self, key: &str) -> Option<Declared> {
        let d = self.contract.iter().find(|d| d.key == key).cloned();
        if d.is_none() {
            self.defects.push(format!(
                "records `{key}`, which its theory file does not declare"
            ));
        }
        d
    }

    fn push(&mut self, m: Measurement) {
        if self.measurements.iter().any(|x| x.key == m.key) {
            self.defects.push(format!("records `{}` twice", m.key));
        }
        self.measurements.push(m);
    }

    /// The level α_i of each of this check's stat measurements (α split over them).
    pub fn alpha(&self) -> f64 {
        self.alpha_each
    }

    /// Records `key` against its declared constant or statistical bound.
    pub fn record(&mut self, key: &str, agg: Agg) -> &mut Self {
        let Some(d) = self.declared(key) else {
            return self;
        };
        let bound = match &d.bound {
            Bound::Number(b) => *b,
            Bound::Formula(f) if f == "alpha" => self.alpha_each,
            Bound::Formula(f) if f == "z(alpha)" => z_two_sided(self.alpha_each),
            Bound::Formula(f) => {
                self.defects.push(format!(
                    "records `{key}` without evaluating its formula bound `{f}`"
                ));
                f64::NAN
            }
        };
        let m = Measurement::new(&d, agg, bound);
        self.push(m);
        self
    }

    /// Records `key` against its declared formula bound, evaluated by the check as `bound`
    /// (with the constants it read through [`Evidence::constant`]).
    pub fn record_bounded(&mut self, key: &str, agg: Agg, bound: f64) -> &mut Self {
        let Some(d) = self.declared(key) else {
            return self;
        };
        if let Bound::Number(b) = d.bound {
            self.defects.push(format!(
                "evaluates a bound for `{key}`, whose declared bound is the constant {b}"
            ));
        }
        let m = Measurement::new(&d, agg, bound);
        self.push(m);
        self
    }

    /// A named constant of `key`'s formula bound, from the theory file.
    pub fn constant(&mut self, key: &str, name: &str) -> f64 {
        let found = self
            .contract
            .iter()
            .find(|d| d.key == key)
            .and_then(|d| d.constants.get(name).copied());
        found.unwrap_or_else(|| {
            self.defects.push(format!(
                "reads constant `{name}` of `{key}`, which its theory file does not declare"
            ));
            f64::NAN
        })
    }

    /// Records a reported statistic.
    pub fn stat(&mut self, name: impl Into<String>, value: f64) -> &mut Self {
        self.stats.insert(name.into(), value);
        self
    }

    /// Adds a note.
    pub fn note(&mut self, text: impl Into<String>) -> &mut Self {
        self.notes.push(text.into());
        self
    }

    /// Enforces the contract: every declared key recorded exactly once, nothing undeclared,
    /// constants and formulas read as declared. Measurements are put in declaration order.
    pub fn finish(mut self) -> Result<Evidence> {
        for d in &self.contract {
            if !self.measurements.iter().any(|m| m.key == d.key) {
                self.defects
                    .push(format!("does not record the declared `{}`", d.key));
            }
        }
        if !self.defects.is_empty() {
            return Err(Error::Contract(format!(
                "check {} breaks its theory file's contract: {}",
                self.id,
                self.defects.join("; ")
            )));
        }
        let order = |k: &str| self.contract.iter().position(|d| d.key == k);
        let mut ms = std::mem::take(&mut self.measurements);
        ms.sort_by_key(|m| order(&m.key));
        self.measurements = ms;
        Ok(self)
    }

    fn of_kinds<'a>(&'a self, kinds: &'a [Kind]) -> impl Iterator<Item = &'a Measurement> + 'a {
        self.measurements
            .iter()
            .filter(move |m| kinds.contains(&m.kind))
    }

    fn preconditions_met(&self, claim: bool) -> bool {
        self.of_kinds(&[Kind::Precondition])
            .filter(|m| claim || m.scope != Some(Scope::Probes))
            .all(|m| m.outcome == Outcome::Pass)
    }

    /// The check's outcome (see the module documentation).
    pub fn outcome(&self) -> Outcome {
        if !self.preconditions_met(false) {
            return Outcome::Inconclusive;
        }
        combine(self.of_kinds(&[Kind::Gate, Kind::Stat, Kind::Control]))
    }

    /// The status of the paper claim the probes measure, if there are probes.
    pub fn claim(&self) -> Option<Outcome> {
        self.measurements
            .iter()
            .any(|m| m.kind == Kind::Probe)
            .then(|| {
                if self.preconditions_met(true) {
                    combine(self.of_kinds(&[Kind::Probe]))
                } else {
                    Outcome::Inconclusive
                }
            })
    }

    /// Why the check or its claim is not a pass: unmet preconditions first, then the failed
    /// and inconclusive measurements.
    pub fn reasons(&self) -> Vec<String> {
        let unmet = |m: &&Measurement| m.outcome != Outcome::Pass;
        let pre: Vec<String> = self
            .of_kinds(&[Kind::Precondition])
            .filter(unmet)
            .map(|m| match m.scope {
                Some(Scope::Probes) => format!("unmet (for the claim) {}", m.explain()),
                _ => format!("unmet {}", m.explain()),
            })
            .collect();
        let rest = self
            .measurements
            .iter()
            .filter(|m| m.kind != Kind::Precondition)
            .filter(unmet)
            .map(Measurement::explain);
        pre.into_iter().chain(rest).collect()
    }
}

/// FAIL if any fails, else INCONCLUSIVE if any is inconclusive, else PASS (PASS when empty).
fn combine<'a>(ms: impl Iterator<Item = &'a Measurement>) -> Outcome {
    let mut out = Outcome::Pass;
    for m in ms {
        match m.outcome {
            Outcome::Fail => return Outcome::Fail,
            Outcome::Inconclusive => out = Outcome::Inconclusive,
            Outcome::Pass => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory;

    fn evidence(id: &str) -> Evidence {
        let t = theory::get(id).unwrap();
        let params = Params::new(id.to_string(), BTreeMap::new());
        Evidence::new(&t, Scale::Test, &params)
    }

    #[test]
    fn labels() {
        assert_eq!(Outcome::Pass.label(), "PASS");
        assert_eq!(Outcome::Fail.label(), "FAIL");
        assert_eq!(Outcome::Inconclusive.label(), "INCONCLUSIVE");
        assert_eq!(Outcome::Pass.claim_label(), "held");
        assert_eq!(Outcome::Fail.claim_label(), "not held");
        assert_eq!(Outcome::Inconclusive.claim_label(), "inconclusive");
    }

    /// The level is split evenly over a check's stat measurements, and a `z(alpha)` bound is
    /// the two-sided z at that level.
    #[test]
    fn alpha_is_split_over_the_stats() {
        let t = theory::get("dimpled.baseline.beta").unwrap();
        let stats = t.measured.iter().filter(|m| m.kind == Kind::Stat).count();
        assert_eq!(stats, 2);
        let mut ev = evidence("dimpled.baseline.beta");
        assert!((ev.alpha() - 1e-3 / 2.0).abs() < 1e-18, "{}", ev.alpha());
        ev.record("mean", Agg::of(1.0, 10));
        let m = &ev.measurements[0];
        assert!((m.bound - z_two_sided(5e-4)).abs() < 1e-12);
        assert!(m.bound > 3.4 && m.bound < 3.5, "{}", m.bound);
    }

    #[test]
    fn constants_are_read_from_the_file_and_ratio_is_measured_over_bound() {
        let mut ev = evidence("explain.invariance");
        assert_eq!(ev.constant("control.rescaled", "eta"), 1e-10);
        assert!(ev.defects.is_empty());
        assert!(ev.constant("control.rescaled", "missing").is_nan());
        assert_eq!(ev.defects.len(), 1);
        let mut ev = evidence("explain.invariance");
        ev.record("control.rescaled", Agg::of(8e-12, 2));
        let m = &ev.measurements[0];
        assert!((m.ratio() - 8.0).abs() < 1e-12, "{}", m.ratio());
        assert_eq!(m.outcome, Outcome::Pass);
    }

    /// A breach is explained as "measured relation bound does not hold", with the kind's tag
    /// and the key; a measurement without evidence gives its reason instead.
    #[test]
    fn explain_names_the_key_and_the_breach_or_the_reason() {
        let mut ev = evidence("explain.invariance");
        // The control must move the scores by at least 1e−12: 1e−13 is a breach.
        ev.record("control.rescaled", Agg::of(1e-13, 2));
        let m = &ev.measurements[0];
        assert_eq!(m.outcome, Outcome::Fail);
        let line = m.explain();
        let want = format!(
            "{} `control.rescaled`: {} {} {} does not hold",
            m.kind.tag(),
            crate::report::fmt_num(1e-13),
            m.relation.symbol(),
            crate::report::fmt_num(m.bound)
        );
        assert_eq!(line, want);
        let mut ev = evidence("explain.invariance");
        ev.record("control.rescaled", Agg::of(f64::NAN, 2));
        let m = &ev.measurements[0];
        let reason = m.reason.clone().expect("a NaN aggregate has a reason");
        assert_eq!(
            m.explain(),
            format!("{} `control.rescaled`: {reason}", m.kind.tag())
        );
    }

    /// The reasons for a non-pass: unmet preconditions first (one that bears only on the
    /// claim says so), then the other measurements that did not pass, in recording order;
    /// passes give none.
    #[test]
    fn reasons_list_unmet_preconditions_first() {
        let mut ev = evidence("dimpled.curved.tangent");
        ev.record("jacobian.fd", Agg::of(1e-3, 4)); // gate ≤ 1e−6: fails
        ev.record("angle.local", Agg::of(0.1, 4)); // gate ≤ 0.15: passes
        ev.record("trained", Agg::of(0.0, 1)); // precondition ≥ 1, scope probes: unmet
        let explain = |key: &str| {
            ev.measurements
                .iter()
                .find(|m| m.key == key)
                .unwrap()
                .explain()
        };
        assert_eq!(
            ev.reasons(),
            vec![
                format!("unmet (for the claim) {}", explain("trained")),
                explain("jacobian.fd"),
            ]
        );
    }

    /// `finish` lists the measurements in the theory file's order, whatever the order in which
    /// the check recorded them.
    #[test]
    fn finish_orders_the_measurements_as_declared() {
        let id = "explain.invariance";
        let keys: Vec<String> = theory::get(id)
            .unwrap()
            .measured
            .iter()
            .map(|m| m.key.clone())
            .collect();
        assert!(keys.len() >= 3, "{keys:?}");
        let mut ev = evidence(id);
        for k in keys.iter().rev() {
            ev.record(k, Agg::of(0.0, 2));
        }
        let recorded: Vec<String> = ev.measurements.iter().map(|m| m.key.clone()).collect();
        assert_ne!(recorded, keys);
        let done = ev.finish().unwrap();
        let got: Vec<String> = done.measurements.iter().map(|m| m.key.clone()).collect();
        assert_eq!(got, keys);
        // A declared key left unrecorded breaks the contract, named.
        let mut ev = evidence(id);
        for k in &keys[1..] {
            ev.record(k, Agg::of(0.0, 2));
        }
        let e = ev.finish().unwrap_err().to_string();
        assert!(
            e.contains(&format!("does not record the declared `{}`", keys[0])),
            "{e}"
        );
    }
}
