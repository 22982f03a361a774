//! `kkt.smoothed_margin`: along GD on a homogeneous net, once Σℓ < log 2, the smoothed margin
//! γ̃ never decreases and stays within the sandwich of kkt.md §4 (Lyu & Li 2020).

use crate::check::{over_seeds, Agg, Check, Ctx, Evidence, Extremes};
use crate::checks::common::{init_two_layer, sphere_data, train_two_layer, two_layer_lr};
use crate::error::Result;
use crate::loss::MarginLoss;
use crate::model::Model;
use crate::train::{self, StepState, TrainConfig};

pub struct SmoothedMargin;

/// The parameters of `theory/kkt.smoothed_margin.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    m: usize,
    steps: usize,
    init: f64,
    seeds: usize,
    control_shrink: f64,
    /// A relative drop of γ̃ larger than this counts as a decrease.
    decrease_tol: f64,
}

/// What one trajectory showed.
#[derive(Clone, Copy, Debug, Default)]
pub struct MarginPath {
    /// Steps with Σℓ < log 2.
    pub observed: usize,
    /// Steps where γ̃ decreased by more than `decrease_tol` relative.
    pub decreases: usize,
    /// Largest relative decrease.
    pub worst_decrease: f64,
    /// Largest relative violation of the sandwich.
    pub sandwich: f64,
}

/// Trains and watches γ̃ (logistic loss) at every step. With `shrink = Some(c)` (the negative
/// control) θ is multiplied by c after each quarter of the run, an intervention that is not a GD
/// step and lowers γ̃ of a homogeneous model.
#[allow(clippy::too_many_arguments)]
pub fn watch(
    seed: u64,
    n: usize,
    d: usize,
    m: usize,
    init: f64,
    trained: bool,
    lr_scale: f64,
    steps: usize,
    shrink: Option<f64>,
    decrease_tol: f64,
) -> Result<MarginPath> {
    let loss = MarginLoss::Logistic;
    let mut path = MarginPath {
        worst_decrease: f64::NEG_INFINITY,
        ..MarginPath::default()
    };
    let mut prev: Option<f64> = None;
    let nf = n as f64;
    let mut obs = |model: &dyn Model, st: &StepState<'_>| -> Result<bool> {
        if st.loss >= std::f64::consts::LN_2 {
            prev = None;
            return Ok(true);
        }
        let l = model.homogeneity().unwrap_or(1) as i32;
        let nl = model.params().norm().powi(l);
        let g = loss.smoothed_margin(st.loss, nl);
        let q_min = st.margins.min();
        let upper = q_min / nl;
        let lower = (q_min - nf.ln() - nf * (-q_min).exp()) / nl;
        let viol = ((g - upper) / upper.abs())
            .max((lower - g) / g.abs())
            .max(0.0);
        path.sandwich = crate::check::nan_max(path.sandwich, viol);
        if let Some(p) = prev {
            let rel = (p - g) / p.abs();
            if rel > decrease_tol {
                path.decreases += 1;
            }
            path.worst_decrease = path.worst_decrease.max(rel);
        }
        prev = Some(g);
        path.observed += 1;
        Ok(true)
    };
    match shrink {
        None => {
            train_two_layer(seed, n, d, m, init, trained, lr_scale, steps, &mut obs)?;
        }
        Some(c) => {
            let data = sphere_data(seed, n, d)?;
            let mut net = init_two_layer(seed, d, m, init, trained);
            let cfg = TrainConfig::new(
                two_layer_lr(&data) * lr_scale,
                steps / 4,
                MarginLoss::Logistic,
            );
            for _ in 0..4 {
                train::train(&mut net, &data, &cfg, &mut obs)?;
                *net.params_mut() *= c;
            }
        }
    }
    Ok(path)
}

impl Check for SmoothedMargin {
    fn id(&self) -> &'static str {
        "kkt.smoothed_margin"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let (n, d, m, steps, init) = (p.n, p.d, p.m, p.steps, p.init);
        let tol = p.decrease_tol;
        let v1 = over_seeds(p.seeds, |s| {
            watch(s, n, d, m, init, false, 1.0, steps, None, tol)
        })?;
        let v2 = over_seeds(p.seeds, |s| {
            watch(s, n, d, m, init, true, 0.1, steps, None, tol)
        })?;
        let control = over_seeds(p.seeds, |s| {
            watch(
                s,
                n,
                d,
                m,
                init,
                false,
                1.0,
                steps,
                Some(p.control_shrink),
                tol,
            )
        })?;
        let mut ev = ctx.evidence();
        // Decreases are counted over the observed steps; the sandwich over the runs that observed
        // any step: a run that never got below log 2 is no evidence either way.
        let observed = |v: &[MarginPath]| v.iter().map(|p| p.observed).sum::<usize>();
        let decreases =
            |v: &[MarginPath]| Agg::count(v.iter().map(|p| p.decreases).sum(), observed(v));
        let worst =
            |v: &[MarginPath]| Agg::max(v.iter().filter(|p| p.observed > 0).map(|p| p.sandwich));
        let fewest = |v: &[MarginPath]| Agg::min(v.iter().map(|p| p.observed as f64));
        ev.record("v1.observed", fewest(&v1))
            .record("v1.decreases", decreases(&v1))
            .record("v1.sandwich", worst(&v1))
            .record("v2.observed", fewest(&v2))
            .record("v2.decreases", decreases(&v2))
            .record("v2.sandwich", worst(&v2))
            .record("control.observed", fewest(&control))
            .record("control.shrink", decreases(&control));
        ev.stat(
            "V1 largest relative decrease",
            v1.iter().map(|p| p.worst_decrease).max_f(),
        );
        ev.stat(
            "V2 largest relative decrease",
            v2.iter().map(|p| p.worst_decrease).max_f(),
        );
        ev.stat("V1 observed steps (total)", observed(&v1) as f64);
        Ok(ev)
    }
}
