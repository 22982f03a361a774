//! `dimpled.mislabeled` (probe; the wrong-label claim of the v1 abstract): a fresh network
//! trained only on targeted adversarial examples with their (wrong) target labels still
//! classifies clean test points well above chance (dimpled.md §2 item 7, §7 check 6; protocol in
//! the style of Ilyas et al., arXiv:1905.02175).

use crate::attack::losses::Loss;
use crate::attack::minimal::minimal_radius;
use crate::attack::{apgd, ApgdConfig, ClassObjective, Goal, Norm, Variant};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::data::subspace::{Orientation, Subspace};
use crate::data::MultiClass;
use crate::error::Result;
use crate::geometry::{Constraint, Projector};
use crate::rng::{self, stream, Rng};
use crate::stats::median;
use crate::train::classifier::{accuracy, train_relu_mlp, ClassifierGd};
use nalgebra::DMatrix;

pub struct Mislabeled;

/// The parameters of `theory/dimpled.mislabeled.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    d: usize,
    k: usize,
    n_train: usize,
    n_test: usize,
    m: usize,
    lr: f64,
    steps: usize,
    n_iter: usize,
    bisection: usize,
    /// Targeted attacks run at this multiple of each point's minimal targeted radius.
    radius_factor: f64,
    seed: u64,
}

/// n points of the 2-D subspace at radius ρ, class = quadrant of (u₁, u₂).
fn quadrants(sub: &Subspace, rng: &mut Rng, n: usize, rho: f64) -> Result<MultiClass> {
    let d = sub.ambient();
    let mut x = DMatrix::zeros(n, d);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let u = rng::unit_sphere(rng, sub.dim());
        let a = u[1].atan2(u[0]).rem_euclid(2.0 * std::f64::consts::PI);
        y.push(((a / std::f64::consts::FRAC_PI_2) as usize).min(3));
        x.row_mut(i).copy_from(&(&sub.basis * u * rho).transpose());
    }
    MultiClass::new(x, y, 4)
}

struct Outcome {
    acc: f64,
    acc_control: f64,
    acc_n1: f64,
    used: usize,
    rho_delta: f64,
    radius: f64,
}

/// Runs the protocol at data radius `rho` (step size lr/ρ_x²).
fn outcome(p: &P, seed: u64, rho: f64) -> Result<Outcome> {
    let (d, k) = (p.d, p.k);
    let mut rd = rng::seeded(seed, stream::DATA);
    let sub = Subspace::new(&mut rd, d, k, Orientation::Random)?;
    let train = quadrants(&sub, &mut rd, p.n_train, rho)?;
    let test = quadrants(&sub, &mut rng::seeded(seed, stream::TEST), p.n_test, rho)?;
    let sizes = vec![d, p.m, 4];
    let gd = ClassifierGd {
        lr: p.lr / (rho * rho),
        steps: p.steps,
        weight_decay: 0.0,
    };
    let (n1, _) = train_relu_mlp(
        &mut rng::seeded(seed, stream::INIT),
        sizes.clone(),
        &train,
        &gd,
    )?;
    // Targeted attacks toward a random wrong class at radius_factor × each point's minimal
    // targeted radius.
    let mut rc = rng::seeded(seed, stream::CHOICE);
    let targets: Vec<usize> = train
        .y()
        .iter()
        .map(|&c| (c + 1 + rng::index(&mut rc, 3)) % 4)
        .collect();
    let obj = ClassObjective::new(
        &n1,
        train.y(),
        Loss::Margin,
        Goal::Targeted(targets.clone()),
    )?;
    let cfg = ApgdConfig {
        bounds: None,
        n_iter: p.n_iter,
        ..ApgdConfig::new(Norm::L2, Variant::AdvLib)
    };
    let n = train.n();
    let mut ra = rng::seeded(seed, stream::ATTACK);
    let min = minimal_radius(
        &obj,
        train.x(),
        &vec![4.0 * rho; n],
        p.bisection,
        &cfg,
        &Constraint::Free,
        &mut ra,
    )?;
    let kept: Vec<usize> = (0..n).filter(|&i| min.radius[i].is_some()).collect();
    let eps: Vec<f64> = kept
        .iter()
        .map(|&i| p.radius_factor * min.radius[i].unwrap_or(0.0))
        .collect();
    let xs = train.x().select_rows(&kept);
    let adv = apgd(
        &obj,
        &xs,
        &kept,
        &eps,
        &cfg,
        &Constraint::Free,
        &mut ra,
        None,
    )?;
    let ok: Vec<usize> = (0..kept.len()).filter(|&r| adv.success[r]).collect();
    let x_adv = adv.x_adv.select_rows(&ok);
    let t_adv: Vec<usize> = ok.iter().map(|&r| targets[kept[r]]).collect();
    let q = Projector::new(sub.basis.clone())?;
    let delta = &x_adv
        - train
            .x()
            .select_rows(&ok.iter().map(|&r| kept[r]).collect::<Vec<_>>());
    let rho_delta = median(&q.fractions(&delta));
    // N2 from a fresh initialisation on (x_adv, target); control: on (x, target).
    let fresh = |data: &MultiClass| {
        train_relu_mlp(
            &mut rng::sub(seed, stream::INIT, 1),
            sizes.clone(),
            data,
            &gd,
        )
    };
    let (n2, _) = fresh(&MultiClass::new(x_adv, t_adv.clone(), 4)?)?;
    let clean_idx: Vec<usize> = ok.iter().map(|&r| kept[r]).collect();
    let (n2c, _) = fresh(&MultiClass::new(
        train.x().select_rows(&clean_idx),
        t_adv,
        4,
    )?)?;
    Ok(Outcome {
        acc: accuracy(&n2, &test),
        acc_control: accuracy(&n2c, &test),
        acc_n1: accuracy(&n1, &test),
        used: ok.len(),
        rho_delta,
        radius: median(&min.radius.iter().flatten().copied().collect::<Vec<_>>()),
    })
}

impl Check for Mislabeled {
    fn id(&self) -> &'static str {
        "dimpled.mislabeled"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let (seed, d, k) = (p.seed, p.d, p.k);
        let big = outcome(&p, seed, (d as f64).sqrt())?;
        let unit = outcome(&p, seed, 1.0)?;
        let mut ev = ctx.evidence();
        ev.record("examples", Agg::count(big.used, p.n_train))
            .record("accuracy", Agg::of(big.acc, p.n_test))
            .record(
                "control.clean",
                Agg::of(
                    crate::check::nan_max(big.acc_control, unit.acc_control),
                    p.n_test,
                ),
            );
        for (tag, o) in [("ρ_x = √d", &big), ("ρ_x = 1", &unit)] {
            ev.stat(format!("{tag}: N2 clean test accuracy"), o.acc)
                .stat(format!("{tag}: N1 clean test accuracy"), o.acc_n1)
                .stat(format!("{tag}: adversarial examples used"), o.used as f64)
                .stat(format!("{tag}: median ρ(x_adv − x)"), o.rho_delta)
                .stat(format!("{tag}: median minimal targeted radius"), o.radius);
        }
        ev.stat("chance", 0.25)
            .stat("random baseline √(k/d)", (k as f64 / d as f64).sqrt());
        Ok(ev)
    }
}
