//! `unlearn.gmm.linear`: on a Gaussian mixture, the unlearned SVM keeps its test error: the exact
//! error formula, the unlearned-vs-retrained bound and the a-priori bound (unlearn.md §8).

use crate::check::Agg;
use crate::check::{over_seeds, Check, Ctx, Evidence};
use crate::data::mixture::Mixture;
use crate::data::spread::Spread;
use crate::error::Result;
use crate::margin::svm;
use crate::model::{Linear, Model};
use crate::rng::{self, stream};
use crate::stats::z_two_sided;
use statrs::distribution::{ContinuousCDF, Normal};

pub struct GmmLinear;

/// The parameters of `theory/unlearn.gmm.linear.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n: usize,
    d: usize,
    mu_norm2: f64,
    n_test: usize,
    seeds: usize,
}

struct Seed {
    a3: bool,
    mc_z: Vec<f64>,
    retrain_ratio: f64,
    apriori_unl: Option<f64>,
    apriori_orig: Option<f64>,
    control_z: Vec<f64>,
    errs: [f64; 3],
}

fn tail(s: f64) -> f64 {
    1.0 - Normal::standard().cdf(s)
}

fn run_seed(seed: u64, n: usize, d: usize, mu2: f64, n_test: usize) -> Result<Seed> {
    let mut rd = rng::seeded(seed, stream::DATA);
    let mix = Mixture::random(&mut rd, d, mu2, 1.0, 0.0)?;
    let data = mix.sample(&mut rd, n)?;
    let spread = Spread::of_rows(data.x(), d as f64);
    let s = svm::hard_margin(&data)?;
    let lam = s.lambda();
    let r = rng::index(&mut rng::seeded(seed, stream::CHOICE), n);
    let keep = crate::unlearn::retained(n, &[r]);
    let wp = &s.w - data.row(r) * (lam[r] * data.y()[r]);
    let wstar = svm::hard_margin(&data.subset(&keep))?.w;
    // Monte Carlo against the exact formula err(w) = Φ̄(⟨w, μ⟩/(σ‖w‖)); test points are drawn in
    // chunks so that memory stays at chunk × d whatever n_test is.
    let models = [&s.w, &wp, &wstar];
    let mut wrong_count = [0usize; 3];
    let mut rt = rng::seeded(seed, stream::TEST);
    let mut left = n_test;
    while left > 0 {
        let chunk = left.min(256);
        let test = mix.sample(&mut rt, chunk)?;
        for (k, w) in models.iter().enumerate() {
            let q = Linear::new((*w).clone())
                .forward(test.x())
                .component_mul(test.y());
            wrong_count[k] += q.iter().filter(|&&v| v <= 0.0).count();
        }
        left -= chunk;
    }
    let nt = n_test as f64;
    let mut mc_z = Vec::new();
    let mut control_z = Vec::new();
    let wrong = Mixture {
        sigma: 2.0 * mix.sigma,
        ..mix.clone()
    };
    let mut errs = [0.0; 3];
    for (k, w) in models.into_iter().enumerate() {
        let emp = wrong_count[k] as f64 / nt;
        let z = |p: f64| {
            let se = (p * (1.0 - p) / nt).sqrt();
            if se > 0.0 {
                (emp - p).abs() / se
            } else if emp == p {
                0.0
            } else {
                f64::INFINITY
            }
        };
        let p = mix.linear_error(w);
        errs[k] = p;
        mc_z.push(z(p));
        control_z.push(z(wrong.linear_error(w)));
    }
    let rho = (&wp - &wstar).norm() / wstar.norm();
    let mu_norm = mix.mu.norm();
    let retrain_bound = mu_norm * 2.0 * rho / (2.0 * std::f64::consts::PI).sqrt();
    // A-priori bound s_lo(k) = √k(λ_min‖μ‖² − Λ‖μ‖t_μ)/(σ√(Λ(1 + Λφ))).
    let (lmin, big_l, phi) = (lam.min(), lam.max(), spread.phi);
    let t_mu = (0..n)
        .map(|i| (data.row(i) - &mix.mu * data.y()[i]).dot(&mix.mu).abs() / mu_norm)
        .fold(0.0, f64::max);
    let s_lo = |k: f64| {
        k.sqrt() * (lmin * mu2 - big_l * mu_norm * t_mu)
            / (mix.sigma * (big_l * (1.0 + big_l * phi)).sqrt())
    };
    let (su, so) = (s_lo(n as f64 - 1.0), s_lo(n as f64));
    Ok(Seed {
        a3: spread.a3_holds(n),
        mc_z,
        retrain_ratio: (errs[1] - errs[2]).abs() / retrain_bound,
        apriori_unl: (su > 0.0).then(|| errs[1] / tail(su)),
        apriori_orig: (so > 0.0).then(|| errs[0] / tail(so)),
        control_z,
        errs,
    })
}

impl Check for GmmLinear {
    fn id(&self) -> &'static str {
        "unlearn.gmm.linear"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let all = over_seeds(p.seeds, |s| run_seed(s, p.n, p.d, p.mu_norm2, p.n_test))?;
        let ok: Vec<&Seed> = all.iter().filter(|s| s.a3).collect();
        let mut ev = ctx.evidence();
        // Two-sided z of each (model, seed) Monte Carlo error, Bonferroni over all of them.
        let z_all: Vec<f64> = ok.iter().flat_map(|s| s.mc_z.iter().copied()).collect();
        let ctl_all: Vec<f64> = ok
            .iter()
            .flat_map(|s| s.control_z.iter().copied())
            .collect();
        let crit = z_two_sided(ev.alpha() / z_all.len().max(1) as f64);
        let unl: Vec<f64> = ok.iter().filter_map(|s| s.apriori_unl).collect();
        let orig: Vec<f64> = ok.iter().filter_map(|s| s.apriori_orig).collect();
        ev.record("a3.draws", Agg::count(ok.len(), all.len()))
            .record_bounded("mc.error", Agg::max(z_all.iter().copied()), crit)
            .record("err.shift", Agg::max(ok.iter().map(|s| s.retrain_ratio)))
            .record("err.unlearned", Agg::max(unl.iter().cloned()))
            .record("err.original", Agg::max(orig.iter().cloned()))
            .record_bounded(
                "control.sigma_doubled",
                Agg::min(ctl_all.iter().copied()),
                crit,
            );
        ev.stat("draws with s_lo(n − 1) > 0", unl.len() as f64);
        for (k, name) in ["original w", "unlearned w'", "retrained w*"]
            .iter()
            .enumerate()
        {
            ev.stat(
                format!("median test error, {name}"),
                crate::stats::median(&ok.iter().map(|s| s.errs[k]).collect::<Vec<_>>()),
            );
        }
        Ok(ev)
    }
}
