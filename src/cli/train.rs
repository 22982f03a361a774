//! `dimple train`: a multi-class MLP trained by full-batch GD on the cross-entropy, saved as
//! `.safetensors` (the models the attack families use).

use super::multiclass;
use crate::{emit, Failure};
use dimple::data::MultiClass;
use dimple::error::Error;
use dimple::model::{io, Activation, Mlp};
use dimple::rng::{self, stream};
use dimple::train::classifier::{accuracy, train_classifier, ClassifierGd};
use std::path::Path;

/// Arguments of `dimple train`.
pub struct TrainArgs<'a> {
    pub data: &'a str,
    pub labels: Option<&'a Path>,
    pub hidden: &'a [usize],
    pub steps: usize,
    pub lr: f64,
    pub seed: u64,
    pub split_seed: u64,
    pub train_fraction: f64,
    pub out: &'a Path,
    pub json: bool,
}

pub fn run(a: &TrainArgs<'_>) -> Result<(), Failure> {
    let train = multiclass(a.data, a.labels, a.split_seed, a.train_fraction, true)?;
    let test: Option<MultiClass> = if a.labels.is_none() {
        Some(multiclass(
            a.data,
            None,
            a.split_seed,
            a.train_fraction,
            false,
        )?)
    } else {
        None
    };
    if a.hidden.contains(&0) {
        return Err(Error::input("hidden widths must be ≥ 1").into());
    }
    let mut sizes = vec![train.d()];
    sizes.extend_from_slice(a.hidden);
    sizes.push(train.classes());
    let mut model = Mlp::init(
        &mut rng::seeded(a.seed, stream::INIT),
        sizes.clone(),
        Activation::Relu,
        1.0,
    )?;
    let rep = train_classifier(
        &mut model,
        &train,
        &ClassifierGd {
            lr: a.lr,
            steps: a.steps,
            weight_decay: 0.0,
        },
    )?;
    io::save(a.out, &io::mlp_bytes(&model)?)?;
    let test_acc = test.as_ref().map(|t| accuracy(&model, t));
    if a.json {
        emit(
            &serde_json::json!({"sizes": sizes, "steps": rep.steps, "loss": rep.loss,
            "train_accuracy": rep.accuracy, "test_accuracy": test_acc, "out": a.out})
            .to_string(),
        );
    } else {
        emit(&format!(
            "MLP {sizes:?}: {} steps, loss {:.4}, train accuracy {:.4}{}\nsaved {}",
            rep.steps,
            rep.loss,
            rep.accuracy,
            test_acc
                .map(|t| format!(", test accuracy {t:.4}"))
                .unwrap_or_default(),
            a.out.display()
        ));
    }
    Ok(())
}
