//! The closing summary of a multi-check run: checks passed / failed / inconclusive / could not
//! run, and paper claims held / not held / inconclusive, each non-pass id listed.

use crate::check::{Evidence, Outcome};
use serde_json::{json, Value};

/// Counts and ids of one run of several checks.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Checks that passed.
    pub passed: Vec<String>,
    /// Checks that failed.
    pub failed: Vec<String>,
    /// Checks that were inconclusive.
    pub inconclusive: Vec<String>,
    /// Checks that could not run.
    pub could_not_run: Vec<String>,
    /// Claims (probes) held.
    pub held: Vec<String>,
    /// Claims not held.
    pub not_held: Vec<String>,
    /// Claims inconclusive.
    pub claims_inconclusive: Vec<String>,
}

impl Summary {
    /// Adds one check's result (`None`: it could not run).
    pub fn add(&mut self, id: &str, ev: Option<&Evidence>) {
        let id = id.to_string();
        let Some(ev) = ev else {
            self.could_not_run.push(id);
            return;
        };
        match ev.outcome() {
            Outcome::Pass => self.passed.push(id.clone()),
            Outcome::Fail => self.failed.push(id.clone()),
            Outcome::Inconclusive => self.inconclusive.push(id.clone()),
        }
        match ev.claim() {
            Some(Outcome::Pass) => self.held.push(id),
            Some(Outcome::Fail) => self.not_held.push(id),
            Some(Outcome::Inconclusive) => self.claims_inconclusive.push(id),
            None => {}
        }
    }

    /// FAIL if any check failed, else INCONCLUSIVE if any was, else PASS (could-not-run is
    /// reported by the caller as an error of its own).
    pub fn outcome(&self) -> Outcome {
        if !self.failed.is_empty() {
            Outcome::Fail
        } else if !self.inconclusive.is_empty() {
            Outcome::Inconclusive
        } else {
            Outcome::Pass
        }
    }

    /// The text lines.
    pub fn render(&self) -> String {
        let list = |v: &[String]| {
            if v.is_empty() {
                String::new()
            } else {
                format!(" ({})", v.join(", "))
            }
        };
        let mut s = format!(
            "checks: {} passed, {} failed{}, {} inconclusive{}",
            self.passed.len(),
            self.failed.len(),
            list(&self.failed),
            self.inconclusive.len(),
            list(&self.inconclusive)
        );
        if !self.could_not_run.is_empty() {
            s.push_str(&format!(
                ", {} could not run{}",
                self.could_not_run.len(),
                list(&self.could_not_run)
            ));
        }
        s.push_str(&format!(
            "\nclaims: {} held, {} not held{}, {} inconclusive{}",
            self.held.len(),
            self.not_held.len(),
            list(&self.not_held),
            self.claims_inconclusive.len(),
            list(&self.claims_inconclusive)
        ));
        s
    }

    /// The JSON Lines record (`"status": "summary"`).
    pub fn to_json(&self) -> Value {
        json!({
            "status": "summary",
            "checks": {
                "passed": self.passed.len(),
                "failed": self.failed,
                "inconclusive": self.inconclusive,
                "could_not_run": self.could_not_run,
            },
            "claims": {
                "held": self.held.len(),
                "not_held": self.not_held,
                "inconclusive": self.claims_inconclusive,
            },
        })
    }
}
