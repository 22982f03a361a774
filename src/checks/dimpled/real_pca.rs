//! `dimpled.real.pca` (probe): the shipped 8×8 digits (or the MNIST subset) with three estimates
//! of the data manifold — the decoder tangent spaces of an autoencoder (the paper's estimate; the
//! probe reads it), global PCA at 90 % variance and local PCA over k_nn neighbours — an MLP
//! trained with cross-entropy, and minimal L2 perturbations inside the box [0, 1] at correctly
//! classified test points (dimpled.md §2, §5, §7 check 5).

use crate::check::{Agg, Check, Ctx, Evidence};
use crate::data::real::{self, Shipped};
use crate::dimpled::autoencoder::{Autoencoder, AutoencoderConfig};
use crate::dimpled::{finite, measure, Search};
use crate::error::Result;
use crate::geometry::{local_pca, Pca, Tangents};
use crate::rng::{self, stream};
use crate::stats::{mean_se, median};
use crate::train::classifier::{correct_indices, train_relu_mlp, ClassifierGd};

pub struct RealPca;

/// The parameters of `theory/dimpled.real.pca.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n_train: usize,
    hidden: usize,
    lr: f64,
    steps: usize,
    points: usize,
    variance: f64,
    k_nn: usize,
    n_iter: usize,
    bisection: usize,
    seed: u64,
    /// 0: the 8×8 digits (d = 64); 1: the shipped MNIST subset (5,000 images, d = 784).
    mnist: usize,
    /// The autoencoder manifold: code dimension, hidden width, step size, full-batch steps.
    ae_code: usize,
    ae_hidden: usize,
    ae_lr: f64,
    ae_steps: usize,
}

impl Check for RealPca {
    fn id(&self) -> &'static str {
        "dimpled.real.pca"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let seed = p.seed;
        let all = real::load(Shipped::from_mnist_flag(p.mnist))?;
        let (train, test) = real::split_at(&all, seed, p.n_train)?;
        let d = all.d();
        let (model, rep) = train_relu_mlp(
            &mut rng::seeded(seed, stream::INIT),
            vec![d, p.hidden, 10],
            &train,
            &ClassifierGd {
                lr: p.lr,
                steps: p.steps,
                weight_decay: 0.0,
            },
        )?;
        let correct: Vec<usize> = correct_indices(&model, &test)
            .into_iter()
            .take(p.points)
            .collect();
        let pts = test.subset(&correct);
        let pca = Pca::fit(train.x())?;
        let k = pca.components_for(p.variance);
        let global = pca.subspace(k)?;
        let local = local_pca(pts.x(), train.x(), p.k_nn, k)?;
        let ae = Autoencoder::train(
            &mut rng::sub(seed, stream::INIT, 1),
            train.x(),
            &AutoencoderConfig {
                hidden: p.ae_hidden,
                code: p.ae_code,
                gd: ClassifierGd {
                    lr: p.ae_lr,
                    steps: p.ae_steps,
                    weight_decay: 0.0,
                },
            },
        )?;
        let ae_tangents = ae.tangents(pts.x())?;
        let search = Search {
            n_iter: p.n_iter,
            bisection: p.bisection,
            eps_max: vec![(d as f64).sqrt(); pts.n()],
            bounds: Some((0.0, 1.0)),
            constrained: true,
        };
        let attack = |tangents| measure(&model, pts.x(), pts.y(), tangents, &search, seed);
        let rg = attack(Tangents::Shared(&global))?;
        let rl = attack(Tangents::PerPoint(&local))?;
        let ra = attack(Tangents::PerPoint(&ae_tangents))?;
        // The dimension-matched control of the autoencoder: global PCA with k = ae_code (a
        // lower-dimensional subspace makes on-manifold attacks costlier by dimension alone).
        let matched = pca.subspace(p.ae_code)?;
        let rm = attack(Tangents::Shared(&matched))?;
        // Random baseline: ρ² ~ Beta(k/2, (d − k)/2), mean k/d.
        let r2: Vec<f64> = rg.rho_rand.iter().map(|r| r * r).collect();
        let (mean, _) = mean_se(&r2);
        let (a, b) = (k as f64 / 2.0, (d - k) as f64 / 2.0);
        let se = (a * b / ((a + b).powi(2) * (a + b + 1.0)) / r2.len() as f64).sqrt();
        let kd = k as f64 / d as f64;
        let mut ev = ctx.evidence();
        ev.record("baseline.mean", Agg::of((mean - kd).abs() / se, r2.len()))
            .record("on_std", Agg::median(finite(&ra.on_ratio())))
            .record("off_std", Agg::median(finite(&ra.off_ratio())))
            .record(
                "control.twice_k",
                Agg::of((mean - 2.0 * kd).abs() / se, r2.len()),
            );
        ev.stat("k (90 % variance)", k as f64)
            .stat("explained variance of k components", pca.explained(k))
            .stat("random baseline k/d", kd)
            .stat("points attacked", pts.n() as f64)
            .stat("MLP training accuracy", rep.accuracy);
        ev.stat(
            "autoencoder: relative reconstruction error (training set)",
            ae.relative_error(train.x()),
        )
        .stat(
            "autoencoder: relative reconstruction error (test set)",
            ae.relative_error(test.x()),
        )
        .stat(
            "global PCA at k = ae_code: relative reconstruction error (training set)",
            (1.0 - pca.explained(p.ae_code)).max(0.0).sqrt(),
        );
        let kd_ae = p.ae_code as f64 / d as f64;
        for (tag, r, base) in [
            ("global PCA", &rg, kd),
            ("local PCA", &rl, kd),
            ("autoencoder", &ra, kd_ae),
            ("global PCA at k = ae_code", &rm, kd_ae),
        ] {
            let m = median(&finite(&r.rho_std));
            ev.stat(format!("{tag}: median ρ(δ_std)"), m)
                .stat(
                    format!("{tag}: median enrichment ρ(δ_std)²/(k/d)"),
                    m * m / base,
                )
                .stat(format!("{tag}: median ρ(∇ margin)"), median(&r.rho_grad))
                .stat(
                    format!("{tag}: median ‖δ_on‖/‖δ_std‖"),
                    median(&finite(&r.on_ratio())),
                )
                .stat(
                    format!("{tag}: median ‖δ_off‖/‖δ_std‖"),
                    median(&finite(&r.off_ratio())),
                );
        }
        ev.stat("median ‖δ_std‖", median(&finite(&rg.r_std)));
        Ok(ev)
    }
}
