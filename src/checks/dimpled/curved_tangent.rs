//! `dimpled.curved.tangent`: on a curved k-manifold in R^d (dimpled.md §5), the analytic tangent
//! map agrees with central differences, local PCA recovers the tangent space, and the
//! perpendicularity measurements of checks 2–3 are repeated with the exact and the local-PCA
//! tangent spaces (dimpled.md §7 check 4).

use crate::attack::BinaryClassifier;
use crate::check::{Check, Ctx, Evidence, Extremes};
use crate::data::manifold::CurvedManifold;
use crate::dimpled::{finite, measure, Search};
use crate::error::Result;
use crate::geometry::{largest_principal_angle, local_pca, Projector, Tangents};
use crate::model::Model;
use crate::rng::{self, stream};
use crate::stats::median;
use crate::subspace::init_net;
use crate::theory::Kind;
use crate::train::optim::{fit, FitConfig};
use nalgebra::DVector;

pub struct CurvedTangent;

impl Check for CurvedTangent {
    fn id(&self) -> &'static str {
        "dimpled.curved.tangent"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let seed = p.n("seed")? as u64;
        let (d, k, f) = (p.n("d")?, p.n("k")?, p.n("frequencies")?);
        let rho = (d as f64).sqrt();
        let mut rd = rng::seeded(seed, stream::DATA);
        let man = CurvedManifold::new(&mut rd, d, k, f, p.f("omega0")?, rho)?;
        let (samples, _) = man.sample(&mut rd, p.n("samples")?)?;
        let (train_data, _) = man.sample(&mut rd, p.n("n_train")?)?;
        let (points, t) = man.sample(&mut rng::seeded(seed, stream::TEST), p.n("points")?)?;
        let n = points.n();
        // Gate 1: analytic J against central differences, h = 1e−5.
        let h = 1e-5;
        let mut fd_err: f64 = 0.0;
        let mut exact = Vec::with_capacity(n);
        for i in 0..n {
            let ti = t.row(i).transpose();
            let j = man.tangent(&ti);
            for c in 0..k {
                let mut e = DVector::zeros(k);
                e[c] = h;
                let fd = (man.point(&(&ti + &e)) - man.point(&(&ti - &e))) / (2.0 * h);
                fd_err = fd_err.max((fd - j.column(c)).norm() / j.column(c).norm());
            }
            exact.push(Projector::spanning(&j)?);
        }
        // Gate 2: local PCA against the exact tangent spaces; control: random k-subspaces.
        let local = local_pca(points.x(), samples.x(), p.n("k_nn")?, k)?;
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
        let mut net = init_net(seed, d, p.n("m")?, 1.0);
        let report = fit(
            &mut net,
            &train_data,
            &FitConfig::gd(2.0 / (rho * rho), p.n("max_steps")?, Some(0.3)),
        )?;
        let model = BinaryClassifier::new(&net);
        let y: Vec<usize> = net
            .forward(points.x())
            .iter()
            .map(|v| usize::from(*v > 0.0))
            .collect();
        let search = Search {
            n_iter: p.n("n_iter")?,
            bisection: p.n("bisection")?,
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
        let gate_angle = p.f("gate_angle")?;
        let m_std = median(&finite(&r.rho_std));
        let mut ev = ctx.evidence();
        ev.le(
            "max relative error of J(t) against central differences",
            Kind::Gate,
            fd_err,
            1e-6,
        )
        .le(
            "median largest principal angle, local PCA vs exact (rad)",
            Kind::Gate,
            median(&angles),
            gate_angle,
        )
        .le("median ρ(δ_std), exact tangent", Kind::Probe, m_std, 0.5)
        .ge(
            "median ‖δ_on‖/‖δ_std‖, exact tangent",
            Kind::Probe,
            median(&finite(&r.on_ratio())),
            1.5,
        )
        .le(
            "median ‖δ_off‖/‖δ_std‖, exact tangent",
            Kind::Probe,
            median(&finite(&r.off_ratio())),
            1.3,
        )
        .ge(
            "control: median largest principal angle of random k-subspaces (rad)",
            Kind::Control,
            median(&random),
            gate_angle,
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
            "training reached margin 0.3",
            f64::from(u8::from(report.reached_margin)),
        );
        Ok(ev)
    }
}
