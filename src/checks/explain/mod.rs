//! The explain family (explain.md; arXiv:2311.13454): explanations from gradient agreement
//! across independently trained models, checked against the null law of the off-subspace
//! gradients, for invariances and the reference code's two bugs, and for recovery of planted
//! signal words.

mod baseline_cos;
mod bugs;
mod invariance;
mod offsubspace_null;
mod planted_recovery;

use crate::check::{Check, Params};
use crate::error::Result;
use crate::explain::pooled::{Documents, Planted, SumPooled};
use crate::explain::{param_hash, scores, select_models, Scores};
use crate::loss::MarginLoss;
use crate::model::{Activation, Model, TwoLayer};
use crate::rng::{self, stream};
use crate::train::observer::NoObserver;
use crate::train::{self, GdConfig};

/// The explain checks.
pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(baseline_cos::BaselineCos),
        Box::new(offsubspace_null::OffsubspaceNull),
        Box::new(invariance::Invariance),
        Box::new(bugs::Bugs),
        Box::new(planted_recovery::PlantedRecovery),
    ]
}

/// The planted design with M trained models (model 0 is f₀).
pub(crate) struct PlantedRun {
    pub planted: Planted,
    pub test: Documents,
    pub models: Vec<SumPooled>,
    pub steps: Vec<usize>,
}

/// V = 200, D = 64, k_e = 16, T = 20 (explain.md §5); m, β, documents and M from the arguments.
pub(crate) fn planted_run(p: &Params, seed: u64, beta: f64, models: usize) -> Result<PlantedRun> {
    let (d, t) = (p.n("dim")?, p.n("positions")?);
    let mut rd = rng::seeded(seed, stream::DATA);
    let planted = Planted::new(&mut rd, p.n("vocab")?, d, p.n("k_e")?, t)?;
    let train_docs = planted.documents(&mut rd, p.n("n_train")?)?;
    let test = planted.documents(&mut rng::seeded(seed, stream::TEST), p.n("n_test")?)?;
    let m = p.n("m")?;
    let mut out = Vec::with_capacity(models);
    let mut steps = Vec::with_capacity(models);
    for a in 0..models {
        let inner = TwoLayer::init(
            &mut rng::seeded(seed * 1000 + a as u64, stream::INIT),
            d,
            m,
            Activation::Relu,
            true,
            false,
            beta / (d as f64).sqrt(),
        );
        let mut net = SumPooled::new(inner, t)?;
        let cfg = GdConfig {
            stop_margin: Some(0.3),
            ..GdConfig::new(p.f("lr")?, p.n("max_steps")?, MarginLoss::Logistic)
        };
        let rep = train::train(&mut net, &train_docs.data, &cfg, &mut NoObserver)?;
        steps.push(rep.steps);
        out.push(net);
    }
    Ok(PlantedRun {
        planted,
        test,
        models: out,
        steps,
    })
}

impl PlantedRun {
    /// The scores of test document i through the preconditions (None if they fail).
    pub fn explain(&self, i: usize) -> Option<Scores> {
        let doc = self.test.data.x().rows(i, 1).into_owned();
        let y = self.test.data.y()[i];
        let correct: Vec<bool> = self
            .models
            .iter()
            .map(|m| m.forward(&doc)[0] * y > 0.0)
            .collect();
        let hashes: Vec<u64> = self.models.iter().map(|m| param_hash(m.params())).collect();
        let used = select_models(&correct, &hashes).ok()?;
        let grads: Vec<_> = used
            .iter()
            .map(|&a| self.models[a].position_grads(&doc))
            .collect();
        scores(&grads).ok()
    }
}
