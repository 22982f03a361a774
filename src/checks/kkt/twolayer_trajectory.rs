//! `kkt.twolayer.trajectory` (probe): along GD on V1, the normalised parameters are
//! (ε_t, δ_t)-approximate KKT points with ε_t → 0 (Lyu & Li 2020); measured at three checkpoints.

use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::checks::common::{init_two_layer, sphere_data, two_layer_lr};
use crate::error::Result;
use crate::loss::MarginLoss;
use crate::margin::certificate::{certify, CertifyOptions};
use crate::model::Model;
use crate::rng::{self, stream};
use crate::theory::Kind;
use crate::train::{self, GdConfig, StepState};

pub struct TwolayerTrajectory;

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
        let p = &ctx.params;
        let (n, d, m, init) = (p.n("n")?, p.n("d")?, p.n("m")?, p.f("init")?);
        let ts = [p.n("t1")?, p.n("t2")?, p.n("t3")?];
        let paths = over_seeds(p.n("seeds")?, |seed| {
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
                        euler = euler.max(c.euler_gap);
                        if st.step == ts[2] {
                            // Negative control: θ plus a random vector of norm ½‖θ‖.
                            let mut noisy = model.boxed_clone();
                            let noise = rng::unit_sphere(
                                &mut rng::seeded(seed, stream::DIRECTIONS),
                                model.n_params(),
                            ) * (0.5 * model.params().norm());
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
            let cfg = GdConfig::new(two_layer_lr(&data), ts[2], MarginLoss::Logistic);
            train::train(&mut net, &data, &cfg, &mut obs)?;
            Ok(SeedPath {
                eps_rel,
                delta,
                euler,
                control_eps_rel: control,
            })
        })?;
        let mut ev = ctx.evidence();
        let ratio = paths
            .iter()
            .map(|s| s.eps_rel[2] / s.eps_rel[0])
            .fold(0.0, f64::max);
        ev.le(
            "max over seeds of ε_rel(T3)/ε_rel(T1) (claim: ε_rel decreases)",
            Kind::Probe,
            ratio,
            1.0,
        )
        .le(
            "Euler consistency of the certificates",
            Kind::Gate,
            paths.iter().map(|s| s.euler).fold(0.0, f64::max),
            1e-12,
        )
        .ge(
            "control: θ + random ½‖θ‖ perturbation, ε_rel",
            Kind::Control,
            paths.iter().map(|s| s.control_eps_rel).min_f(),
            0.3,
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
