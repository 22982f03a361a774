//! `unlearn.gmm.twolayer` (stat): on a Gaussian mixture, GA unlearning of a GD-trained V1 net
//! keeps its test accuracy and matches the retrained net (unlearn.md §8–§9).

use super::instances::two_layer_step;
use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::checks::common::{init_two_layer, two_layer_lr};
use crate::data::mixture::Mixture;
use crate::data::Binary;
use crate::error::Result;
use crate::loss::MarginLoss;
use crate::margin::certificate::{certify, CertifyOptions};
use crate::model::{Model, TwoLayer};
use crate::rng::{self, stream};
use crate::stats::z_one_sided;
use crate::train::{self, observer::NoObserver, TrainConfig};

pub struct GmmTwolayer;

/// The parameters of `theory/unlearn.gmm.twolayer.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    m: usize,
    steps: usize,
    mu_norm2: f64,
    n_test: usize,
    seeds: usize,
}

struct Seed {
    /// (difference of accuracies, its paired SE) for W → W', W' → W_ret, untrained → W_ret.
    keep: (f64, f64),
    retrain: (f64, f64),
    control: (f64, f64),
    acc: [f64; 3],
    margin: [f64; 3],
}

fn correct(net: &TwoLayer, test: &Binary) -> Vec<f64> {
    net.forward(test.x())
        .component_mul(test.y())
        .iter()
        .map(|&q| if q > 0.0 { 1.0 } else { 0.0 })
        .collect()
}

/// Paired comparison: (mean(a) − mean(b), SE of the paired difference).
fn paired(a: &[f64], b: &[f64]) -> (f64, f64) {
    let diff: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let (m, se) = crate::stats::mean_se(&diff);
    (m, if se.is_nan() { 0.0 } else { se })
}

fn run_seed(
    seed: u64,
    n: usize,
    d: usize,
    m: usize,
    steps: usize,
    mu2: f64,
    n_test: usize,
) -> Result<Seed> {
    let sigma = 1.0 / (d as f64).sqrt();
    let mut rd = rng::seeded(seed, stream::DATA);
    let mix = Mixture::random(&mut rd, d, mu2, sigma, 0.0)?;
    let data = mix.sample(&mut rd, n)?;
    let test = mix.sample(&mut rng::seeded(seed, stream::TEST), n_test)?;
    let init = init_two_layer(seed, d, m, 1e-4, false);
    let cfg = TrainConfig::new(two_layer_lr(&data), steps, MarginLoss::Logistic);
    let mut net = init.clone();
    train::train(&mut net, &data, &cfg, &mut NoObserver)?;
    let cert = certify(&net, &data, &CertifyOptions::default())?;
    net.set_params(&(net.params() / cert.scale))?;
    let r = rng::index(&mut rng::seeded(seed, stream::CHOICE), n);
    let unl = two_layer_step(&net, &data, &cert.lambda, &[r], 1.0)?;
    let keep = crate::unlearn::retained(n, &[r]);
    let mut ret = init.clone();
    train::train(&mut ret, &data.subset(&keep), &cfg, &mut NoObserver)?;
    let (c0, c1, c2, ci) = (
        correct(&net, &test),
        correct(&unl, &test),
        correct(&ret, &test),
        correct(&init, &test),
    );
    let (d_keep, se_keep) = paired(&c0, &c1);
    let (d_ret, se_ret) = paired(&c1, &c2);
    let (d_ctl, se_ctl) = paired(&ci, &c2);
    let margin_of = |w: &TwoLayer| {
        let q = w.forward(data.x()).component_mul(data.y());
        q[r] / keep.iter().map(|&i| q[i]).min_f()
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    Ok(Seed {
        keep: (d_keep, se_keep),
        retrain: (d_ret.abs(), se_ret),
        control: (d_ctl.abs(), se_ctl),
        acc: [mean(&c0), mean(&c1), mean(&c2)],
        margin: [margin_of(&net), margin_of(&unl), margin_of(&ret)],
    })
}

impl Check for GmmTwolayer {
    fn id(&self) -> &'static str {
        "unlearn.gmm.twolayer"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let all = over_seeds(p.seeds, |s| {
            run_seed(s, p.n, p.d, p.m, p.steps, p.mu_norm2, p.n_test)
        })?;
        let mut ev = ctx.evidence();
        // H₀ per seed: the difference is at most the claim's margin; z = (diff − margin)/SE,
        // one-sided, Bonferroni over the seeds: the max over seeds against Φ⁻¹(1 − α_i/seeds).
        let z = |f: fn(&Seed) -> (f64, f64), margin: f64| {
            all.iter().map(move |s| {
                let (d, se) = f(s);
                (d - margin) / se
            })
        };
        let crit = z_one_sided(ev.alpha() / all.len() as f64);
        let (m_drop, m_ret) = (
            ev.constant("acc.drop", "margin"),
            ev.constant("acc.vs_retrain", "margin"),
        );
        let m_ctl = ev.constant("control.untrained", "margin");
        ev.record_bounded("acc.drop", Agg::max(z(|s| s.keep, m_drop)), crit)
            .record_bounded("acc.vs_retrain", Agg::max(z(|s| s.retrain, m_ret)), crit)
            .record_bounded("control.untrained", Agg::min(z(|s| s.control, m_ctl)), crit);
        for (k, name) in ["original", "unlearned", "retrained"].iter().enumerate() {
            ev.stat(
                format!("mean test accuracy, {name}"),
                all.iter().map(|s| s.acc[k]).sum::<f64>() / all.len() as f64,
            );
            ev.stat(
                format!("median forgotten margin q_r/q_min, {name}"),
                crate::stats::median(&all.iter().map(|s| s.margin[k]).collect::<Vec<_>>()),
            );
        }
        Ok(ev)
    }
}
