//! `dimple train`: a multi-class MLP trained by full-batch GD on the cross-entropy, saved as
//! `.safetensors` (the models the attack families use).

use super::sweep::writable;
use super::MultiClassData;
use super::{emit, Failure};
use dimple::data::MultiClass;
use dimple::error::Error;
use dimple::model::io;
use dimple::rng::{self, stream};
use dimple::train::classifier::{accuracy, train_relu_mlp_with, ClassifierGd};
use std::path::PathBuf;

/// Arguments of `dimple train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// The training points: the train part of a shipped set's split, or a file.
    #[command(flatten)]
    pub data: MultiClassData,
    /// Hidden widths, comma-separated (each 1..=1,048,576).
    #[arg(long, value_delimiter = ',', default_value = "64,32")]
    pub hidden: Vec<usize>,
    /// GD steps (1..=10,000,000).
    #[arg(long, default_value_t = 500, allow_negative_numbers = true)]
    pub steps: i64,
    /// Learning rate.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub lr: f64,
    /// Initialisation seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Memory budget in GiB (default: half the physical memory).
    #[arg(long, allow_negative_numbers = true)]
    pub max_memory: Option<f64>,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Trains and saves the model.
pub fn run(a: &TrainArgs) -> Result<(), Failure> {
    writable(&a.out, "--out")?;
    let steps = dimple::limits::count("steps (--steps)", a.steps, 1, dimple::limits::MAX_STEPS)?;
    if !(a.lr > 0.0 && a.lr.is_finite()) {
        return Err(Error::input(format!(
            "lr (--lr) must be a finite number > 0, got {}",
            a.lr
        ))
        .into());
    }
    for &w in &a.hidden {
        if w == 0 || w > dimple::limits::MAX_WIDTH {
            return Err(Error::input(format!(
                "hidden widths (--hidden) must lie in 1..={}, got {w}",
                dimple::limits::MAX_WIDTH
            ))
            .into());
        }
    }
    let train = a.data.load(true)?;
    let test: Option<MultiClass> = if a.data.labels.is_none() {
        Some(a.data.load(false)?)
    } else {
        None
    };
    let mut sizes = vec![train.d()];
    sizes.extend_from_slice(&a.hidden);
    sizes.push(train.classes());
    let params = dimple::limits::dense_params(&sizes)? as f64;
    let units: f64 = sizes.iter().map(|&s| s as f64).sum();
    let n = train.n() as f64;
    // Parameters, their gradient and the optimiser's copy; activations and their gradients.
    dimple::budget::Budget::from_gib(a.max_memory)?.check(
        &format!("training an MLP {sizes:?} on {} points", train.n()),
        8.0 * (4.0 * params + 3.0 * n * units),
        "lower --hidden, or raise --max-memory",
    )?;
    dimple::limits::check_flops(
        &format!("training an MLP {sizes:?} for {steps} steps"),
        6.0 * steps as f64 * n * params,
        "lower --steps or --hidden",
    )?;
    let bar = super::progress_bar(
        steps as u64,
        "{spinner} training [{pos}/{len} steps] {msg} ({elapsed}, eta {eta})",
        a.json,
    );
    let trained = train_relu_mlp_with(
        &mut rng::seeded(a.seed, stream::INIT),
        sizes.clone(),
        &train,
        &ClassifierGd {
            lr: a.lr,
            steps,
            weight_decay: 0.0,
        },
        &mut |step, loss| {
            if step % 10 == 0 || step == steps {
                bar.set_position(step as u64);
                bar.set_message(format!("loss {loss:.4}"));
            }
        },
    );
    bar.finish_and_clear();
    let (model, rep) = trained?;
    io::save(&a.out, &io::mlp_bytes(&model)?)?;
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
