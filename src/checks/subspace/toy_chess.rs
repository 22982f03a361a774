//! `subspace.toy.chess`: the paper's chessboard toy (Figure 3; official code `chess/`): 25
//! points of the grid {0, ¼, ½, ¾, 1}² embedded at z = ½ with chessboard labels, a 3-400-1 ReLU
//! net. For affine data D1 fails for w_{i,z}; what is frozen is the component of (w_i, b_i)
//! orthogonal to span{(x_j, 1)}: w_{i,z} − ½b_i [derived]. Gates: that invariant is constant
//! under plain SGD and shrinks by exactly the product of the per-step factors under the
//! first-layer penalty λ‖θ₁‖₂. Probe: small init and the penalty enlarge the off-plane flip
//! distance along e_z.

use super::toy::{flip_along, net, train, training_accuracy, ToyRun};
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::data::Binary;
use crate::error::Result;
use crate::loss::MarginLoss;
use crate::rng::{self, stream};
use crate::stats::median;
use crate::train::TrainConfig;
use nalgebra::{DMatrix, DVector};

pub struct Chess;

/// The parameters of `theory/subspace.toy.chess.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    m: usize,
    lr: f64,
    penalty: f64,
    small_factor: f64,
    stop_margin: f64,
    max_steps: usize,
    seeds: usize,
}

/// The 25 grid points at z = ½; label +1 iff x and y are both or neither in {¼, ¾}.
fn data() -> Result<Binary> {
    let x = DMatrix::from_fn(25, 3, |i, j| match j {
        0 => (i / 5) as f64 * 0.25,
        1 => (i % 5) as f64 * 0.25,
        _ => 0.5,
    });
    let odd = |k: usize| k % 2 == 1;
    let y = DVector::from_fn(25, |i, _| if odd(i / 5) == odd(i % 5) { 1.0 } else { -1.0 });
    Binary::new(x, y)
}

/// PyTorch's default Linear init U(±1/√fan_in) for W, b and v, all divided by `factor`.
fn init(seed: u64, m: usize, factor: f64) -> Result<crate::model::TwoLayer> {
    let mut r = rng::seeded(seed, stream::INIT);
    let mut u = |bound: f64| (2.0 * rng::uniform(&mut r) - 1.0) * bound / factor;
    let w = DMatrix::from_fn(m, 3, |_, _| u(1.0 / 3f64.sqrt()));
    let b = DVector::from_fn(m, |_, _| u(1.0 / 3f64.sqrt()));
    let v = DVector::from_fn(m, |_, _| u(1.0 / (m as f64).sqrt()));
    net(&w, &b, &v)
}

struct Outcome {
    invariant: f64,
    wz_drift: f64,
    flip_median: f64,
    reached: bool,
    accuracy: f64,
}

fn measure(run: &ToyRun, data: &Binary) -> Outcome {
    let m = run.net.width();
    let (w0, wt) = (run.init.w(), run.net.w());
    let (b0, bt) = (run.init.b().unwrap_or(&[]), run.net.b().unwrap_or(&[]));
    let path = &run.fit.path;
    let invariant = (0..m)
        .map(|i| {
            let c0 = w0[(i, 2)] - 0.5 * b0[i];
            let ct = wt[(i, 2)] - 0.5 * bt[i];
            let mass = &run.fit.mass;
            let scale = c0.abs()
                + path[3 * i + 2]
                + 0.5 * path[3 * m + i]
                + (mass[3 * i + 2] + 0.5 * mass[3 * m + i]) / 16.0;
            (ct - run.fit.shrink * c0).abs() / scale
        })
        .max_f();
    let wz_drift = (0..m)
        .map(|i| {
            (wt[(i, 2)] - run.fit.shrink * w0[(i, 2)]).abs()
                / w0[(i, 2)].abs().max(f64::MIN_POSITIVE)
        })
        .max_f();
    let ez = DVector::from_vec(vec![0.0, 0.0, 1.0]);
    let flips: Vec<f64> = (0..data.n())
        .map(|i| flip_along(&run.net, &data.row(i), &ez).min(super::toy::FLIP_CAP))
        .collect();
    Outcome {
        invariant,
        wz_drift,
        flip_median: median(&flips),
        reached: run.fit.reached_margin(),
        accuracy: training_accuracy(&run.net, data),
    }
}

impl Check for Chess {
    fn id(&self) -> &'static str {
        "subspace.toy.chess"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let data = data()?;
        let (m, steps, lr) = (p.m, p.max_steps, p.lr);
        let (factor, lambda) = (p.small_factor, p.penalty);
        let theta1 = 4 * m;
        let settings: [(f64, Option<(f64, usize)>); 3] =
            [(1.0, None), (factor, None), (1.0, Some((lambda, theta1)))];
        let runs = over_seeds(p.seeds, |seed| {
            settings
                .iter()
                .map(|&(f, pen)| {
                    let cfg = TrainConfig {
                        norm_penalty: pen,
                        stop_margin: Some(p.stop_margin),
                        ..TrainConfig::new(lr, steps, MarginLoss::Logistic)
                    };
                    Ok(measure(&train(&init(seed, m, f)?, &data, cfg)?, &data))
                })
                .collect::<Result<Vec<Outcome>>>()
        })?;
        let med = |k: usize| Agg::median(runs.iter().map(|r| r[k].flip_median));
        let mut ev = ctx.evidence();
        let reached = runs.iter().flatten().filter(|o| o.reached).count();
        ev.record(
            "trained",
            Agg::fraction(reached, runs.iter().map(Vec::len).sum()),
        )
        .record(
            "invariant.sgd",
            Agg::max(runs.iter().flat_map(|r| r[..2].iter()).map(|o| o.invariant)),
        )
        .record(
            "invariant.penalty",
            Agg::max(runs.iter().map(|r| r[2].invariant)),
        )
        .record("flip.small_init", med(1).ratio(med(0)))
        .record("flip.penalty", med(2).ratio(med(0)))
        .record(
            "control.wz_drift",
            Agg::min(runs.iter().map(|r| r[0].wz_drift)),
        );
        for (k, tag) in ["vanilla", "small init", "penalty"].iter().enumerate() {
            ev.stat(
                format!("{tag}: median off-plane flip distance"),
                median(&runs.iter().map(|r| r[k].flip_median).collect::<Vec<_>>()),
            )
            .stat(
                format!("{tag}: median training accuracy"),
                median(&runs.iter().map(|r| r[k].accuracy).collect::<Vec<_>>()),
            )
            .stat(
                format!("{tag}: runs reaching the margin"),
                runs.iter().filter(|r| r[k].reached).count() as f64,
            );
        }
        Ok(ev)
    }
}
