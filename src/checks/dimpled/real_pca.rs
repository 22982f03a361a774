//! `dimpled.real.pca` (probe): the shipped 8×8 digits with a PCA manifold (global PCA at 90 %
//! variance and local PCA over k_nn neighbours), an MLP trained with cross-entropy, and minimal L2
//! perturbations inside the box [0, 1] at correctly classified test points (dimpled.md §5, §7
//! check 5). The autoencoder of the paper is replaced by PCA — a suite substitution.

use crate::check::{Agg, Check, Ctx, Evidence};
use crate::data::real::{self, Shipped};
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
}

impl Check for RealPca {
    fn id(&self) -> &'static str {
        "dimpled.real.pca"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let seed = p.seed;
        let all = real::load(if p.mnist == 1 {
            Shipped::Mnist5k
        } else {
            Shipped::Digits
        })?;
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
        let search = Search {
            n_iter: p.n_iter,
            bisection: p.bisection,
            eps_max: vec![(d as f64).sqrt(); pts.n()],
            bounds: Some((0.0, 1.0)),
            constrained: true,
        };
        let rg = measure(
            &model,
            pts.x(),
            pts.y(),
            Tangents::Shared(&global),
            &search,
            seed,
        )?;
        let rl = measure(
            &model,
            pts.x(),
            pts.y(),
            Tangents::PerPoint(&local),
            &search,
            seed,
        )?;
        // Random baseline: ρ² ~ Beta(k/2, (d − k)/2), mean k/d.
        let r2: Vec<f64> = rg.rho_rand.iter().map(|r| r * r).collect();
        let (mean, _) = mean_se(&r2);
        let (a, b) = (k as f64 / 2.0, (d - k) as f64 / 2.0);
        let se = (a * b / ((a + b).powi(2) * (a + b + 1.0)) / r2.len() as f64).sqrt();
        let kd = k as f64 / d as f64;
        let mut ev = ctx.evidence();
        ev.record("baseline.mean", Agg::of((mean - kd).abs() / se, r2.len()))
            .record("on_std", Agg::median(finite(&rg.on_ratio())))
            .record("off_std", Agg::median(finite(&rg.off_ratio())))
            .record(
                "control.twice_k",
                Agg::of((mean - 2.0 * kd).abs() / se, r2.len()),
            );
        ev.stat("k (90 % variance)", k as f64)
            .stat("explained variance of k components", pca.explained(k))
            .stat("random baseline k/d", kd)
            .stat("points attacked", pts.n() as f64)
            .stat("MLP training accuracy", rep.accuracy);
        for (tag, r) in [("global PCA", &rg), ("local PCA", &rl)] {
            let m = median(&finite(&r.rho_std));
            ev.stat(format!("{tag}: median ρ(δ_std)"), m)
                .stat(
                    format!("{tag}: median enrichment ρ(δ_std)²/(k/d)"),
                    m * m / kd,
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
