//! The explain family (explain.md; arXiv:2311.13454): explanations from gradient agreement
//! across independently trained models, checked against the null law of the off-subspace
//! gradients, for invariances and the reference code's two bugs, and for recovery of planted
//! signal words.

mod baseline_cos;
mod bugs;
mod invariance;
mod offsubspace_null;
mod planted_recovery;

use crate::check::Check;
use crate::error::Result;
use crate::explain::pooled::{Documents, Planted, SumPooled};
use crate::explain::{param_hash, scores, select_models, Scores};
use crate::loss::MarginLoss;
use crate::model::{Activation, Model, TwoLayer};
use crate::rng::{self, stream};
use crate::train::observer::NoObserver;
use crate::train::{self, TrainConfig};
use rayon::prelude::*;

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

/// The parameters of the planted-design theory files (`explain.offsubspace.null`,
/// `explain.invariance`, `explain.planted.recovery`): the design, training, and the init scale β
/// (`beta`) or the choice of the β grid (`all_betas`), whichever the file sets.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlantedParams {
    pub vocab: usize,
    pub dim: usize,
    pub k_e: usize,
    pub positions: usize,
    pub n_train: usize,
    pub n_test: usize,
    pub m: usize,
    pub lr: f64,
    pub max_steps: usize,
    /// Training stops once the normalised margin reaches this.
    pub stop_margin: f64,
    pub models: usize,
    pub seed: u64,
    #[serde(default)]
    pub beta: Option<f64>,
    /// 1: run the whole β grid (beta_a, beta_b, beta_main); 0: beta_main alone.
    #[serde(default)]
    pub all_betas: Option<f64>,
    /// The β grid of the recovery probe; its claim is read at `beta_main`.
    #[serde(default)]
    pub beta_a: Option<f64>,
    #[serde(default)]
    pub beta_b: Option<f64>,
    #[serde(default)]
    pub beta_main: Option<f64>,
}

impl PlantedParams {
    /// β of a theory file that sets it.
    pub fn beta(&self) -> Result<f64> {
        self.beta
            .ok_or_else(|| crate::error::Error::input("this check needs the parameter `beta`"))
    }
}

/// V = 200, D = 64, k_e = 16, T = 20 (explain.md §5); m, β, documents and M from the arguments.
/// Model a is initialised from the a-th sub-stream of the seed.
pub(crate) fn planted_run(
    p: &PlantedParams,
    seed: u64,
    beta: f64,
    models: usize,
) -> Result<PlantedRun> {
    let (d, t) = (p.dim, p.positions);
    let mut rd = rng::seeded(seed, stream::DATA);
    let planted = Planted::new(&mut rd, p.vocab, d, p.k_e, t)?;
    let train_docs = planted.documents(&mut rd, p.n_train)?;
    let test = planted.documents(&mut rng::seeded(seed, stream::TEST), p.n_test)?;
    let m = p.m;
    // The models are independent (model a draws from its own sub-stream) and each trains
    // deterministically, so training them in parallel gives the serial numbers bit for bit.
    let trained: Vec<(SumPooled, usize)> = (0..models)
        .into_par_iter()
        .map(|a| {
            let inner = TwoLayer::init(
                &mut rng::sub(seed, stream::INIT, a as u64),
                d,
                m,
                Activation::Relu,
                true,
                false,
                beta / (d as f64).sqrt(),
            );
            let mut net = SumPooled::new(inner, t)?;
            let cfg = TrainConfig {
                stop_margin: Some(p.stop_margin),
                ..TrainConfig::new(p.lr, p.max_steps, MarginLoss::Logistic)
            };
            let rep = train::train(&mut net, &train_docs.data, &cfg, &mut NoObserver)?;
            Ok((net, rep.steps))
        })
        .collect::<Result<_>>()?;
    let (out, steps) = trained.into_iter().unzip();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> PlantedParams {
        PlantedParams {
            vocab: 30,
            dim: 8,
            k_e: 3,
            positions: 5,
            n_train: 20,
            n_test: 4,
            m: 6,
            lr: 5.0,
            max_steps: 40,
            stop_margin: 0.3,
            models: 4,
            seed: 3,
            beta: Some(1.0),
            all_betas: None,
            beta_a: None,
            beta_b: None,
            beta_main: None,
        }
    }

    #[test]
    fn models_trained_in_parallel_equal_the_serial_ones_bit_for_bit() {
        let p = small();
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| planted_run(&p, p.seed, 1.0, p.models))
                .expect("trains")
        };
        let (serial, parallel) = (on(1), on(3));
        assert_eq!(serial.steps, parallel.steps);
        assert!(serial.steps.iter().all(|&s| s > 0), "{:?}", serial.steps);
        for (a, b) in serial.models.iter().zip(&parallel.models) {
            let bits = |m: &SumPooled| m.params().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(a), bits(b));
        }
        // The models differ from one another (each has its own initialisation stream).
        assert_ne!(serial.models[0].params(), serial.models[1].params());
    }
}
