//! `kkt.linear.gd_direction`: on separable data, GD on the logistic loss converges in direction
//! to the hard-margin SVM, w(t) = ŵ log t + ρ(t) with ρ bounded (Soudry et al. 2018).

use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence};
use crate::data::planted;
use crate::error::{Error, Result};
use crate::linalg::{cosine, gram_rows, lambda_max_sym};
use crate::loss::MarginLoss;
use crate::margin::svm;
use crate::model::{Linear, Model};
use crate::rng::{self, stream};
use crate::train::{self, StepState, TrainConfig};
use nalgebra::DVector;

pub struct LinearGdDirection;

/// The parameters of `theory/kkt.linear.gd_direction.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    gap: f64,
    k_max: u32,
    lr_frac: f64,
    seeds: usize,
    /// The control's relative error in the SVM: the target ŵ shrunk to (1 − η)ŵ.
    control_shrink: f64,
}

struct Path {
    angle: Vec<f64>,
    r: Vec<f64>,
    /// Δ_k = ‖ρ(T_{k+1}) − ρ(T_k)‖ with ρ(T) = w(T) − ŵ log T.
    step: Vec<f64>,
    gap: Vec<f64>,
    w_hat_norm: f64,
}

fn run_seed(seed: u64, p: &P) -> Result<Path> {
    let (n, d, gap, k_max, lr_frac) = (p.n, p.d, p.gap, p.k_max, p.lr_frac);
    let (data, _) = planted::generate(&mut rng::seeded(seed, stream::DATA), n, d, gap)?;
    let s = svm::hard_margin(&data)?;
    let w_hat = s.w.clone();
    let gamma_star = 1.0 / w_hat.norm();
    // β = λ_max(XᵀX)/(4n) is the smoothness of the mean logistic loss; η = lr_frac·2/β.
    let beta = lambda_max_sym(&gram_rows(data.x())) / (4.0 * n as f64);
    let lr = lr_frac * 2.0 / beta;
    let checkpoints: Vec<usize> = (2..=k_max).map(|k| 10usize.pow(k)).collect();
    let mut snaps: Vec<DVector<f64>> = Vec::new();
    let mut model = Linear::new(DVector::zeros(d));
    let mut obs = |m: &dyn Model, st: &StepState<'_>| -> Result<bool> {
        if checkpoints.contains(&st.step) {
            snaps.push(m.params().clone());
        }
        Ok(true)
    };
    train::train(
        &mut model,
        &data,
        &TrainConfig::new(
            lr,
            *checkpoints.last().unwrap_or(&100),
            MarginLoss::Logistic,
        ),
        &mut obs,
    )?;
    if snaps.len() != checkpoints.len() {
        return Err(Error::solver(format!(
            "gradient descent stopped early: {} of {} checkpoints",
            snaps.len(),
            checkpoints.len()
        )));
    }
    let mut path = Path {
        angle: vec![],
        r: vec![],
        step: vec![],
        gap: vec![],
        w_hat_norm: w_hat.norm(),
    };
    let rho: Vec<DVector<f64>> = snaps
        .iter()
        .zip(&checkpoints)
        .map(|(w, &t)| w - &w_hat * (t as f64).ln())
        .collect();
    path.step = rho.windows(2).map(|p| (&p[1] - &p[0]).norm()).collect();
    for (w, &t) in snaps.iter().zip(&checkpoints) {
        path.angle.push(cosine(w, &w_hat).acos());
        path.r.push((w - &w_hat * (t as f64).ln()).norm());
        let q = Linear::new(w.clone())
            .forward(data.x())
            .component_mul(data.y());
        path.gap.push(gamma_star - q.min() / w.norm());
    }
    Ok(path)
}

impl Check for LinearGdDirection {
    fn id(&self) -> &'static str {
        "kkt.linear.gd_direction"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let paths = over_seeds(p.seeds, |seed| run_seed(seed, &p))?;
        let mut ev = ctx.evidence();
        // ρ(t) converging: the steps Δ_k = ‖ρ(T_{k+1}) − ρ(T_k)‖ do not grow.
        let growth = Agg::max(paths.iter().flat_map(|pth| {
            pth.step
                .windows(2)
                .map(move |w| (w[1] - w[0]) / pth.w_hat_norm)
        }));
        let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
        ev.record("steps.growth", growth)
            .record(
                "gap.ratio",
                Agg::max(paths.iter().map(|p| last(&p.gap) / p.gap[1])),
            )
            .record(
                "angle.ratio",
                Agg::max(paths.iter().map(|p| last(&p.angle) / p.angle[0])),
            );
        ev.record(
            "control.shrunk_target",
            Agg::min(paths.iter().map(|path| {
                // Against (1 − η)ŵ the target margin is γ*/(1 − η): every gap grows by
                // γ*·η/(1 − η), a margin no trajectory reaches.
                let shift = p.control_shrink / (1.0 - p.control_shrink) / path.w_hat_norm;
                (last(&path.gap) + shift) / (path.gap[1] + shift)
            })),
        );
        for (k, _) in paths[0].angle.iter().enumerate() {
            let t = 10f64.powi(k as i32 + 2);
            let v: Vec<f64> = paths.iter().map(|p| p.angle[k] * t.ln()).collect();
            ev.stat(
                format!("max a_k·log T_k at T = 1e{}", k + 2),
                v.iter().cloned().fold(0.0, f64::max),
            );
            ev.stat(
                format!("max r_k/‖ŵ‖ at T = 1e{}", k + 2),
                paths
                    .iter()
                    .map(|p| p.r[k] / p.w_hat_norm)
                    .fold(0.0, f64::max),
            );
        }
        for k in 0..paths[0].step.len() {
            ev.stat(
                format!("max Δ_k/‖ŵ‖ from 1e{} to 1e{}", k + 2, k + 3),
                paths
                    .iter()
                    .map(|p| p.step[k] / p.w_hat_norm)
                    .fold(0.0, f64::max),
            );
        }
        Ok(ev)
    }
}
