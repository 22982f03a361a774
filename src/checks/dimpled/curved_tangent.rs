//! `dimpled.curved.tangent`: on a curved k-manifold in R^d (dimpled.md §5), the analytic tangent
//! map agrees with central differences, local PCA recovers the tangent space, and the
//! perpendicularity measurements of checks 2–3 are repeated with the exact and the local-PCA
//! tangent spaces (dimpled.md §7 check 4).

use crate::attack::BinaryClassifier;
use crate::check::{Agg, Check, Ctx, Evidence, Extremes};
use crate::data::manifold::CurvedManifold;
use crate::dimpled::{finite, measure, Search};
use crate::error::Result;
use crate::geometry::{largest_principal_angle, local_pca, Projector, Tangents};
use crate::loss::MarginLoss;
use crate::model::Model;
use crate::rng::{self, stream};
use crate::stats::median;
use crate::subspace::init_net;
use crate::train::observer::NoObserver;
use crate::train::{self, TrainConfig};
use nalgebra::DVector;

pub struct CurvedTangent;

/// The parameters of `theory/dimpled.curved.tangent.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    d: usize,
    k: usize,
    frequencies: usize,
    omega0: f64,
    samples: usize,
    k_nn: usize,
    points: usize,
    m: usize,
    n_train: usize,
    max_steps: usize,
    /// GD step η = lr_scale/ρ_x².
    lr_scale: f64,
    /// Training stops at this normalised margin (subspace.md training).
    stop_margin: f64,
    n_iter: usize,
    bisection: usize,
    /// Central-difference step of the tangent check.
    fd_step: f64,
    seed: u64,
}

impl Check for CurvedTangent {
    fn id(&self) -> &'static str {
        "dimpled.curved.tangent"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let seed = p.seed;
        let (d, k, f) = (p.d, p.k, p.frequencies);
        let rho = (d as f64).sqrt();
        let mut rd = rng::seeded(seed, stream::DATA);
        let man = CurvedManifold::new(&mut rd, d, k, f, p.omega0, rho)?;
        let (samples, _) = man.sample(&mut rd, p.samples)?;
        let (train_data, _) = man.sample(&mut rd, p.n_train)?;
        let (points, t) = man.sample(&mut rng::seeded(seed, stream::TEST), p.points)?;
        let n = points.n();
        // Gate 1: analytic J against central differences with step h.
        let h = p.fd_step;
        let mut fd_err = Vec::with_capacity(n * k);
        let mut exact = Vec::with_capacity(n);
        for i in 0..n {
            let ti = t.row(i).transpose();
            let j = man.tangent(&ti);
            for c in 0..k {
                let mut e = DVector::zeros(k);
                e[c] = h;
                let fd = (man.point(&(&ti + &e)) - man.point(&(&ti - &e))) / (2.0 * h);
                fd_err.push((fd - j.column(c)).norm() / j.column(c).norm());
            }
            exact.push(Projector::spanning(&j)?);
        }
        // Gate 2: local PCA against the exact tangent spaces; control: random k-subspaces.
        let local = local_pca(points.x(), samples.x(), p.k_nn, k)?;
        let angles: Vec<f64> = (0..n)
            .map(|i| largest_principal_angle(&local[i], &exact[i]))
            .collect();
        let mut rr = rng::seeded(seed, stream::DIRECTIONS);
        let random: Vec<f64> = (0..n)
            .map(|i| {
                Ok(largest_principal_angle(
                    &Projector::new(rng::orthonormal_basis(&mut rr, d, k))?,
                    &exact[i],
                ))
            })
            .collect::<Result<_>>()?;
        // Probe: a two-layer net trained on the manifold (subspace.md training), attacked at the points.
        let mut net = init_net(seed, d, p.m, 1.0);
        let cfg = TrainConfig {
            stop_margin: Some(p.stop_margin),
            ..TrainConfig::new(p.lr_scale / (rho * rho), p.max_steps, MarginLoss::Logistic)
        };
        let report = train::train(&mut net, &train_data, &cfg, &mut NoObserver)?;
        let model = BinaryClassifier::new(&net);
        let y: Vec<usize> = net
            .forward(points.x())
            .iter()
            .map(|v| usize::from(*v > 0.0))
            .collect();
        let search = Search {
            n_iter: p.n_iter,
            bisection: p.bisection,
            eps_max: vec![4.0 * rho; n],
            bounds: None,
            constrained: true,
        };
        let r = measure(
            &model,
            points.x(),
            &y,
            Tangents::PerPoint(&exact),
            &search,
            seed,
        )?;
        let rl = measure(
            &model,
            points.x(),
            &y,
            Tangents::PerPoint(&local),
            &Search {
                constrained: false,
                ..search.clone()
            },
            seed,
        )?;
        let mut ev = ctx.evidence();
        ev.record("jacobian.fd", Agg::max(fd_err))
            .record("angle.local", Agg::median(angles.iter().copied()))
            .record(
                "trained",
                Agg::count(usize::from(report.reached_margin()), 1),
            )
            .record("rho.std", Agg::median(finite(&r.rho_std)))
            .record("on_std", Agg::median(finite(&r.on_ratio())))
            .record("off_std", Agg::median(finite(&r.off_ratio())))
            .record(
                "control.random_subspace",
                Agg::median(random.iter().copied()),
            );
        ev.stat(
            "90th percentile principal angle, local PCA",
            crate::stats::quantile(&angles, 0.9),
        )
        .stat(
            "max principal angle, local PCA",
            angles.iter().copied().max_f(),
        )
        .stat(
            "median ρ(δ_std), local-PCA tangent",
            median(&finite(&rl.rho_std)),
        )
        .stat("median ρ(∇N), exact tangent", median(&r.rho_grad))
        .stat("median ρ(random), exact tangent", median(&r.rho_rand))
        .stat("random baseline √(k/d)", (k as f64 / d as f64).sqrt())
        .stat("training steps", report.steps as f64)
        .stat(
            "training reached the stop margin",
            f64::from(u8::from(report.reached_margin())),
        );
        Ok(ev)
    }
}
