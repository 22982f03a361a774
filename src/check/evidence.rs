//! Evidence: what a check measured, against which bound, with which verdict.

use super::{Params, Scale};
use crate::theory::{Kind, Theory};
use serde::Serialize;
use std::collections::BTreeMap;

/// The relation a measurement must satisfy with its bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Relation {
    /// measured ≤ bound.
    #[serde(rename = "<=")]
    Le,
    /// measured ≥ bound.
    #[serde(rename = ">=")]
    Ge,
}

/// Pass or fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Every gating measurement holds.
    Pass,
    /// Some gating measurement does not hold.
    Fail,
}

/// One measured quantity against its bound.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measurement {
    /// What was measured.
    pub name: String,
    /// Gate, stat, probe or control.
    pub kind: Kind,
    /// The measured value (NaN never passes).
    pub measured: f64,
    /// The relation.
    pub relation: Relation,
    /// The bound.
    pub bound: f64,
    /// Whether measured `relation` bound holds.
    pub passed: bool,
}

impl Measurement {
    /// A measurement that must satisfy `measured relation bound`.
    pub fn new(
        name: impl Into<String>,
        kind: Kind,
        measured: f64,
        relation: Relation,
        bound: f64,
    ) -> Self {
        let passed = match relation {
            Relation::Le => measured <= bound,
            Relation::Ge => measured >= bound,
        };
        Self {
            name: name.into(),
            kind,
            measured,
            relation,
            bound,
            passed,
        }
    }
    /// measured / bound (how tight the bound is).
    pub fn ratio(&self) -> f64 {
        self.measured / self.bound
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
    /// The measurements.
    pub measurements: Vec<Measurement>,
    /// Reported statistics (not asserted).
    pub stats: BTreeMap<String, f64>,
    /// Remarks (warnings, acceptance counts, solver statuses).
    pub notes: Vec<String>,
}

impl Evidence {
    /// An empty record.
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
        }
    }
    /// Adds `measured ≤ bound`.
    pub fn le(
        &mut self,
        name: impl Into<String>,
        kind: Kind,
        measured: f64,
        bound: f64,
    ) -> &mut Self {
        self.measurements
            .push(Measurement::new(name, kind, measured, Relation::Le, bound));
        self
    }
    /// Adds `measured ≥ bound`.
    pub fn ge(
        &mut self,
        name: impl Into<String>,
        kind: Kind,
        measured: f64,
        bound: f64,
    ) -> &mut Self {
        self.measurements
            .push(Measurement::new(name, kind, measured, Relation::Ge, bound));
        self
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
    /// Pass iff every gate, stat and control measurement holds.
    pub fn verdict(&self) -> Verdict {
        if self
            .measurements
            .iter()
            .filter(|m| m.kind.gating())
            .all(|m| m.passed)
        {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }
    /// The verdict of the probe measurements, if there are any.
    pub fn probe_verdict(&self) -> Option<Verdict> {
        let mut probes = self
            .measurements
            .iter()
            .filter(|m| m.kind == Kind::Probe)
            .peekable();
        probes.peek()?;
        Some(if probes.all(|m| m.passed) {
            Verdict::Pass
        } else {
            Verdict::Fail
        })
    }
}
