//! `kkt.twolayer.trajectory` (probe): along GD on V1, the normalised parameters are
//! (ε_t, δ_t)-approximate KKT points with ε_t → 0 (Lyu & Li 2020); measured at three checkpoints.

use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::checks::common::{init_two_layer, sphere_data, two_layer_lr};
use crate::error::Result;
use crate::loss::MarginLoss;
use crate::margin::certificate::{certify, CertifyOptions};
use crate::model::Model;
use crate::rng::{self, stream};
use crate::train::{self, StepState, TrainConfig};

pub struct TwolayerTrajectory;

/// The parameters of `theory/kkt.twolayer.trajectory.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    m: usize,
    init: f64,
    t1: usize,
    t2: usize,
    t3: usize,
    seeds: usize,
    /// Norm of the control's random perturbation, relative to ‖θ‖.
    control_radius: f64,
}

struct SeedPath {
    eps_rel: Vec<f64>,
    delta: Vec<f64>,
    euler: f64,
    control_eps_rel: f64,
}

impl Check for TwolayerTrajectory {
    fn id(&self) -> &'static str {
        "kkt.twolayer.trajectory"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let (n, d, m, init) = (p.n, p.d, p.m, p.init);
        let ts = [p.t1, p.t2, p.t3];
        let paths = over_seeds(p.seeds, |seed| {
            let mut eps_rel = Vec::new();
            let mut delta = Vec::new();
            let mut euler: f64 = 0.0;
            let mut control = f64::NAN;
            let data = sphere_data(seed, n, d)?;
            let mut obs = |model: &dyn Model, st: &StepState<'_>| -> Result<bool> {
                if ts.contains(&st.step) {
                    if st.margins.min() > 0.0 {
                        let c = certify(model, &data, &CertifyOptions::default())?;
                        eps_rel.push(c.eps_rel);
                        delta.push(c.delta);
                        euler = crate::check::nan_max(euler, c.euler_gap);
                        if st.step == ts[2] {
                            // Negative control: θ plus a random vector of norm control_radius·‖θ‖.
                            let mut noisy = model.boxed_clone();
                            let noise = rng::unit_sphere(
                                &mut rng::seeded(seed, stream::DIRECTIONS),
                                model.n_params(),
                            ) * (p.control_radius * model.params().norm());
                            noisy.set_params(&(model.params() + noise))?;
                            control = certify(noisy.as_ref(), &data, &CertifyOptions::default())
                                .map(|c| c.eps_rel)
                                .unwrap_or(f64::INFINITY);
                        }
                    } else {
                        eps_rel.push(f64::NAN);
                        delta.push(f64::NAN);
                    }
                }
                Ok(true)
            };
            let mut net = init_two_layer(seed, d, m, init, false);
            let cfg = TrainConfig::new(two_layer_lr(&data), ts[2], MarginLoss::Logistic);
            train::train(&mut net, &data, &cfg, &mut obs)?;
            Ok(SeedPath {
                eps_rel,
                delta,
                euler,
                control_eps_rel: control,
            })
        })?;
        let mut ev = ctx.evidence();
        // The claim speaks of a separating trajectory: every checkpoint certifies (positive
        // margin) or the run says nothing about it.
        let separating: Vec<&SeedPath> = paths
            .iter()
            .filter(|s| s.eps_rel.iter().all(|e| e.is_finite()))
            .collect();
        ev.record("separating", Agg::fraction(separating.len(), paths.len()))
            .record(
                "eps_rel.ratio",
                Agg::max(separating.iter().map(|s| s.eps_rel[2] / s.eps_rel[0])),
            )
            .record(
                "euler.certificate",
                Agg::max(separating.iter().map(|s| s.euler)),
            )
            .record(
                "control.perturbed",
                Agg::min(separating.iter().map(|s| s.control_eps_rel)),
            );
        for (k, t) in ts.iter().enumerate() {
            let e: Vec<f64> = paths.iter().map(|s| s.eps_rel[k]).collect();
            let dl: Vec<f64> = paths.iter().map(|s| s.delta[k]).collect();
            ev.stat(format!("median ε_rel at T = {t}"), crate::stats::median(&e));
            ev.stat(format!("max δ at T = {t}"), dl.iter().cloned().max_f());
        }
        let monotone = paths
            .iter()
            .filter(|s| s.eps_rel.windows(2).all(|w| w[1] <= w[0]))
            .count();
        ev.stat(
            "seeds with ε_rel monotone over the checkpoints",
            monotone as f64,
        );
        Ok(ev)
    }
}
