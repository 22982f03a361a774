//! `dimpled.mislabeled` (probe; the wrong-label claim of the v1 abstract): a fresh network
//! trained only on targeted adversarial examples with their (wrong) target labels still
//! classifies clean test points well above chance (dimpled.md §2 item 7, §7 check 6; protocol in
//! the style of Ilyas et al., arXiv:1905.02175).
//!
//! One protocol ([`outcome`]) runs on two data settings: real images in the pixel box (the
//! paper's setting: the shipped MNIST subset, or the 8×8 digits at test scale) and the suite's
//! synthetic quadrants of a 2-D subspace at two radii, where the on-manifold fraction of the
//! perturbations is known.

use crate::attack::losses::Loss;
use crate::attack::minimal::minimal_radius;
use crate::attack::{apgd, ApgdConfig, ClassObjective, Goal, Norm, Variant};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::data::real::{self, Shipped};
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
    /// The real-data arm: 0 the 8×8 digits (d = 64), 1 the shipped MNIST subset (d = 784).
    mnist: usize,
    /// Training and test images of the real-data arm.
    real_train: usize,
    real_test: usize,
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
    /// Clean test points the accuracies are measured on.
    tested: usize,
    /// Median on-manifold fraction of the perturbations (NaN on real data: no known manifold).
    rho_delta: f64,
    radius: f64,
}

/// One data setting of the protocol.
struct Setting<'a> {
    train: MultiClass,
    test: MultiClass,
    gd: ClassifierGd,
    /// Upper end of the bisection of the minimal targeted radius.
    radius_cap: f64,
    /// The pixel box of real images; `None` for the synthetic data.
    bounds: Option<(f64, f64)>,
    /// The data subspace's basis, where there is one.
    basis: Option<&'a DMatrix<f64>>,
}

/// The synthetic setting at data radius `rho` (step size lr/ρ_x²): the subspace, the training
/// and the test points.
fn synthetic(
    p: &P,
    seed: u64,
    rho: f64,
) -> Result<(Subspace, MultiClass, MultiClass, ClassifierGd)> {
    let mut rd = rng::seeded(seed, stream::DATA);
    let sub = Subspace::new(&mut rd, p.d, p.k, Orientation::Random)?;
    let train = quadrants(&sub, &mut rd, p.n_train, rho)?;
    let test = quadrants(&sub, &mut rng::seeded(seed, stream::TEST), p.n_test, rho)?;
    let gd = ClassifierGd {
        lr: p.lr / (rho * rho),
        steps: p.steps,
        weight_decay: 0.0,
    };
    Ok((sub, train, test, gd))
}

/// The protocol at data radius `rho` of the synthetic setting (bisection up to 4ρ_x, no box).
fn synthetic_outcome(p: &P, seed: u64, rho: f64) -> Result<Outcome> {
    let (sub, train, test, gd) = synthetic(p, seed, rho)?;
    outcome(
        p,
        seed,
        Setting {
            train,
            test,
            gd,
            radius_cap: 4.0 * rho,
            bounds: None,
            basis: Some(&sub.basis),
        },
    )
}

/// The protocol on shipped real images (the paper's data setting): real_train training and
/// real_test test images, pixels in the box [0, 1]; the bisection runs up to the box's diameter
/// √d; GD with the unscaled lr.
fn real_outcome(p: &P, seed: u64) -> Result<Outcome> {
    let all = real::load(Shipped::from_mnist_flag(p.mnist))?;
    let (train, rest) = real::split_at(&all, seed, p.real_train)?;
    let test = rest.subset(&(0..p.real_test.min(rest.n())).collect::<Vec<_>>());
    let d = train.d();
    outcome(
        p,
        seed,
        Setting {
            train,
            test,
            gd: ClassifierGd {
                lr: p.lr,
                steps: p.steps,
                weight_decay: 0.0,
            },
            radius_cap: (d as f64).sqrt(),
            bounds: Some((0.0, 1.0)),
            basis: None,
        },
    )
}

/// The protocol on one setting: N1, targeted attacks toward a random wrong class at
/// radius_factor × each point's minimal targeted radius, N2 on (x_adv, target), and the control
/// on (x, target).
fn outcome(p: &P, seed: u64, s: Setting<'_>) -> Result<Outcome> {
    let Setting {
        train,
        test,
        gd,
        radius_cap,
        bounds,
        basis,
    } = s;
    let classes = train.classes();
    let sizes = vec![train.d(), p.m, classes];
    let (n1, _) = train_relu_mlp(
        &mut rng::seeded(seed, stream::INIT),
        sizes.clone(),
        &train,
        &gd,
    )?;
    let mut rc = rng::seeded(seed, stream::CHOICE);
    let targets: Vec<usize> = train
        .y()
        .iter()
        .map(|&c| (c + 1 + rng::index(&mut rc, classes - 1)) % classes)
        .collect();
    let obj = ClassObjective::new(
        &n1,
        train.y(),
        Loss::Margin,
        Goal::Targeted(targets.clone()),
    )?;
    let cfg = ApgdConfig {
        bounds,
        n_iter: p.n_iter,
        ..ApgdConfig::new(Norm::L2, Variant::AdvLib)
    };
    let n = train.n();
    let mut ra = rng::seeded(seed, stream::ATTACK);
    let min = minimal_radius(
        &obj,
        train.x(),
        &vec![radius_cap; n],
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
    let clean_idx: Vec<usize> = ok.iter().map(|&r| kept[r]).collect();
    let rho_delta = match basis {
        Some(b) => {
            let delta = &x_adv - train.x().select_rows(&clean_idx);
            median(&Projector::new(b.clone())?.fractions(&delta))
        }
        None => f64::NAN,
    };
    // N2 from a fresh initialisation on (x_adv, target); control: on (x, target).
    let fresh = |data: &MultiClass| {
        train_relu_mlp(
            &mut rng::sub(seed, stream::INIT, 1),
            sizes.clone(),
            data,
            &gd,
        )
    };
    let (n2, _) = fresh(&MultiClass::new(x_adv, t_adv.clone(), classes)?)?;
    let (n2c, _) = fresh(&MultiClass::new(
        train.x().select_rows(&clean_idx),
        t_adv,
        classes,
    )?)?;
    Ok(Outcome {
        acc: accuracy(&n2, &test),
        acc_control: accuracy(&n2c, &test),
        acc_n1: accuracy(&n1, &test),
        used: ok.len(),
        tested: test.n(),
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
        let big = synthetic_outcome(&p, seed, (d as f64).sqrt())?;
        let unit = synthetic_outcome(&p, seed, 1.0)?;
        let real = real_outcome(&p, seed)?;
        let mut ev = ctx.evidence();
        ev.record("examples", Agg::count(big.used, p.n_train))
            .record("accuracy", Agg::of(big.acc, big.tested))
            .record(
                "control.clean",
                Agg::of(
                    crate::check::nan_max(big.acc_control, unit.acc_control),
                    big.tested,
                ),
            );
        ev.record("real.examples", Agg::count(real.used, p.real_train))
            .record("real.accuracy", Agg::of(real.acc, real.tested))
            .record("real.control", Agg::of(real.acc_control, real.tested));
        let real_tag = if p.mnist == 1 { "MNIST" } else { "8×8 digits" };
        for (tag, o) in [("ρ_x = √d", &big), ("ρ_x = 1", &unit), (real_tag, &real)] {
            ev.stat(format!("{tag}: N2 clean test accuracy"), o.acc)
                .stat(format!("{tag}: N1 clean test accuracy"), o.acc_n1)
                .stat(format!("{tag}: adversarial examples used"), o.used as f64)
                .stat(format!("{tag}: median minimal targeted radius"), o.radius);
            if o.rho_delta.is_finite() {
                ev.stat(format!("{tag}: median ρ(x_adv − x)"), o.rho_delta);
            }
        }
        ev.stat("chance", 0.25)
            .stat(format!("{real_tag}: chance"), 0.1)
            .stat("random baseline √(k/d)", (k as f64 / d as f64).sqrt());
        Ok(ev)
    }
}
