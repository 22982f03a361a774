//! `subspace.c1_frozen`: the off-subspace weights c_i = Πw_i satisfy c_i(T) = s_T·c_i(0) under
//! GD, minibatch SGD and weight decay (D1), to rounding; Adam breaks it for a random subspace
//! and keeps it exactly for an axis-aligned one (subspace.md §3, §5 check 1).

use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::data::subspace::Orientation;
use crate::error::Result;
use crate::subspace::train;
use crate::train::optim::Method;

pub struct Frozen;

/// The parameters of `theory/subspace.c1_frozen.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    beta: f64,
    max_steps: usize,
    kappa: f64,
    batch: usize,
    adam_lr: f64,
    seeds: usize,
}

const ADAM: Method = Method::Adam {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
};

struct Seed {
    /// max_i ‖c_i(T) − s_T c_i(0)‖/(‖c_i(0)‖ + path_i) for GD, SGD, GD with decay.
    rel: [f64; 3],
    /// Adam, random P: max_i ‖c_i(T) − c_i(0)‖/‖c_i(0)‖.
    adam_random: f64,
    /// Adam, axis-aligned P: max_i ‖c_i(T) − c_i(0)‖.
    adam_axis: f64,
}

impl Check for Frozen {
    fn id(&self) -> &'static str {
        "subspace.c1_frozen"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let base = super::setting(p.d, p.k, p.n, p.m, p.beta, p.max_steps);
        let (kappa, batch, adam_lr) = (p.kappa, p.batch, p.adam_lr);
        let seeds = over_seeds(p.seeds, |seed| {
            let rel_of = |s: &crate::subspace::Setting, m: Method| -> Result<f64> {
                let inst = train(seed, s, m)?;
                let (drift, scale) = inst.frozen_drift();
                Ok(drift.iter().zip(&scale).map(|(a, b)| a / b).max_f())
            };
            let decayed = crate::subspace::Setting {
                weight_decay: kappa,
                ..base.clone()
            };
            let rel = [
                rel_of(&base, Method::Gd)?,
                rel_of(&base, Method::Sgd { batch, seed })?,
                rel_of(&decayed, Method::Gd)?,
            ];
            let adam = |orientation| -> Result<(f64, f64)> {
                let s = crate::subspace::Setting {
                    orientation,
                    // Adam's step is scale-free: the suite sets its own η (theory file).
                    lr: Some(adam_lr),
                    ..base.clone()
                };
                let inst = train(seed, &s, ADAM)?;
                let (drift, _) = inst.frozen_drift();
                let c0 = crate::linalg::row_norms(&inst.sub.project_out(&inst.init.w()));
                Ok((
                    drift.iter().zip(&c0).map(|(a, b)| a / b).max_f(),
                    drift.iter().copied().max_f(),
                ))
            };
            Ok(Seed {
                rel,
                adam_random: adam(Orientation::Random)?.0,
                adam_axis: adam(Orientation::Axis)?.1,
            })
        })?;
        let mut ev = ctx.evidence();
        for (k, key) in ["gd", "sgd", "gd_decay"].iter().enumerate() {
            ev.record(key, Agg::max(seeds.iter().map(|s| s.rel[k])));
        }
        ev.record("adam_axis", Agg::max(seeds.iter().map(|s| s.adam_axis)))
            .record(
                "control.adam_random",
                Agg::min(seeds.iter().map(|s| s.adam_random)),
            );
        Ok(ev)
    }
}
