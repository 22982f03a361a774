//! `kkt.smoothed_margin`: along GD on a homogeneous net, once Σℓ < log 2, the smoothed margin
//! γ̃ never decreases and stays within the sandwich of kkt.md §4 (Lyu & Li 2020).

use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::checks::common::{init_two_layer, sphere_data, train_two_layer, two_layer_lr};
use crate::error::Result;
use crate::loss::MarginLoss;
use crate::model::Model;
use crate::theory::Kind;
use crate::train::{self, GdConfig, StepState};

pub struct SmoothedMargin;

/// What one trajectory showed.
#[derive(Clone, Copy, Debug, Default)]
pub struct MarginPath {
    /// Steps with Σℓ < log 2.
    pub observed: usize,
    /// Steps where γ̃ decreased by more than 1e−12 relative.
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
        path.sandwich = path.sandwich.max(viol);
        if let Some(p) = prev {
            let rel = (p - g) / p.abs();
            if rel > 1e-12 {
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
            let cfg = GdConfig::new(
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
        let p = &ctx.params;
        let (n, d, m, steps, init, seeds) = (
            p.n("n")?,
            p.n("d")?,
            p.n("m")?,
            p.n("steps")?,
            p.f("init")?,
            p.n("seeds")?,
        );
        let v1 = over_seeds(seeds, |s| watch(s, n, d, m, init, false, 1.0, steps, None))?;
        let v2 = over_seeds(seeds, |s| watch(s, n, d, m, init, true, 0.1, steps, None))?;
        let control = over_seeds(seeds, |s| {
            watch(
                s,
                n,
                d,
                m,
                init,
                false,
                1.0,
                steps,
                Some(p.f("control_shrink")?),
            )
        })?;
        let mut ev = ctx.evidence();
        let sum =
            |v: &[MarginPath], f: fn(&MarginPath) -> usize| v.iter().map(f).sum::<usize>() as f64;
        let worst = |v: &[MarginPath]| v.iter().map(|p| p.sandwich).fold(0.0, f64::max);
        ev.ge(
            "V1: steps observed with Σℓ < log 2 (min over seeds)",
            Kind::Gate,
            v1.iter().map(|p| p.observed).min().unwrap_or(0) as f64,
            1.0,
        )
        .le(
            "V1: decreases of γ̃ beyond 1e−12 relative",
            Kind::Gate,
            sum(&v1, |p| p.decreases),
            0.0,
        )
        .le(
            "V1: relative sandwich violation",
            Kind::Gate,
            worst(&v1),
            1e-12,
        )
        .ge(
            "V2: steps observed with Σℓ < log 2 (min over seeds)",
            Kind::Probe,
            v2.iter().map(|p| p.observed).min().unwrap_or(0) as f64,
            1.0,
        )
        .le(
            "V2: decreases of γ̃ beyond 1e−12 relative",
            Kind::Probe,
            sum(&v2, |p| p.decreases),
            0.0,
        )
        .le(
            "V2: relative sandwich violation",
            Kind::Probe,
            worst(&v2),
            1e-12,
        )
        .ge(
            "control: V1 with θ ← c·θ after each quarter, decreases of γ̃",
            Kind::Control,
            sum(&control, |p| p.decreases),
            1.0,
        );
        ev.stat(
            "V1 largest relative decrease",
            v1.iter().map(|p| p.worst_decrease).max_f(),
        );
        ev.stat(
            "V2 largest relative decrease",
            v2.iter().map(|p| p.worst_decrease).max_f(),
        );
        ev.stat("V1 observed steps (total)", sum(&v1, |p| p.observed));
        Ok(ev)
    }
}
