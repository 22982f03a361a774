//! Criterion benches of the hot kernels (see README, "Performance").
//!
//! - one full-batch GD step of the two-layer net (n = 100, d = 1000, m = 1000) beside one plain
//!   matrix product of the same shapes;
//! - the KKT certificate for n = 100 points and p = 50,000 parameters (two-layer, m = 50, d = 1000,
//!   structured Gram; and linear, d = 50,000, Gram by the symmetric block product);
//! - the exact bias-free hard-margin SVM, n = 200, d = 1000;
//! - input gradients of a two-layer net for n = 500 MNIST-sized points (d = 784, m = 1000) beside
//!   one plain product of the same shape;
//! - the minimal-perturbation search (DeepFool, L2, all classes) for 500 MNIST points on a
//!   784-1000-10 net trained briefly by full-batch GD;
//! - APGD-T (9 targets × 100 iterations, L∞ ε = 0.1) on a 64-32-10 MLP over 500 points of the
//!   8×8 digits;
//! - explanations of 100 MNIST images from 6 MLPs 784-256-10 (4 × 4 patches).

use criterion::{criterion_group, criterion_main, Criterion};
use dimple::data::near_orthogonal::{self, Sampling};
use dimple::data::Binary;
use dimple::linalg::{mul, Op};
use dimple::loss::MarginLoss;
use dimple::margin::certificate::{certify, CertifyOptions};
use dimple::margin::svm;
use dimple::model::{Activation, Linear, Model, TwoLayer};
use dimple::rng;
use nalgebra::DVector;
use std::hint::black_box;

fn gd_step(c: &mut Criterion) {
    let (n, d, m) = (100, 1000, 1000);
    let (data, _) =
        near_orthogonal::generate(&mut rng::seeded(0, 1), n, d, Sampling::Gaussian).expect("data");
    let mut net = TwoLayer::init(
        &mut rng::seeded(0, 2),
        d,
        m,
        Activation::Relu,
        false,
        false,
        1.0 / (d as f64).sqrt(),
    );
    // One step of `train::train` on the mean logistic loss: the fused forward pass + update.
    let y = data.y().clone();
    let loss = MarginLoss::Logistic;
    let mut g = c.benchmark_group("gd_step");
    g.sample_size(30);
    g.bench_function("two_layer_step_n100_d1000_m1000", |b| {
        b.iter(|| {
            net.descend(
                data.x(),
                &mut |out| {
                    Some(DVector::from_fn(n, |i, _| {
                        loss.deriv(out[i] * y[i]) * y[i] / n as f64
                    }))
                },
                0.1,
                0.0,
            )
        })
    });
    let wt = rng::gaussian_matrix(&mut rng::seeded(0, 3), d, m, 1.0);
    g.bench_function("matmul_100x1000_by_1000x1000", |b| {
        b.iter(|| black_box(mul(data.x(), Op::N, &wt, Op::N)))
    });
    g.finish();
}

fn labelled_by_sign(model: &dyn Model, n: usize, d: usize) -> Binary {
    let x = rng::gaussian_matrix(&mut rng::seeded(1, 1), n, d, 1.0 / (d as f64).sqrt());
    let out = model.forward(&x);
    Binary::new(x, out.map(|v| if v >= 0.0 { 1.0 } else { -1.0 })).expect("data")
}

fn certificate(c: &mut Criterion) {
    let mut g = c.benchmark_group("certificate");
    g.sample_size(20);
    let net = TwoLayer::init(
        &mut rng::seeded(1, 2),
        1000,
        50,
        Activation::Relu,
        false,
        false,
        1.0,
    );
    let data = labelled_by_sign(&net, 100, 1000);
    g.bench_function("two_layer_n100_p50000", |b| {
        b.iter(|| certify(&net, &data, &CertifyOptions::default()).expect("certified"))
    });
    let lin = Linear::new(rng::gaussian_vector(&mut rng::seeded(1, 3), 50_000, 1.0));
    let data = labelled_by_sign(&lin, 100, 50_000);
    g.bench_function("linear_n100_p50000", |b| {
        b.iter(|| certify(&lin, &data, &CertifyOptions::default()).expect("certified"))
    });
    g.finish();
}

fn hard_margin_svm(c: &mut Criterion) {
    let (data, _) =
        near_orthogonal::generate(&mut rng::seeded(2, 1), 200, 1000, Sampling::Gaussian)
            .expect("data");
    let mut g = c.benchmark_group("svm");
    g.sample_size(20);
    g.bench_function("hard_margin_n200_d1000", |b| {
        b.iter(|| svm::hard_margin(&data).expect("separable"))
    });
    g.finish();
}

fn unlearn_one_point(c: &mut Criterion) {
    // A two-layer net (n = 100, d = 1000, m = 1000) with labels it fits, trained 20 more steps.
    let (n, d, m) = (100, 1000, 1000);
    let mut net = TwoLayer::init(
        &mut rng::seeded(3, 2),
        d,
        m,
        Activation::Relu,
        false,
        false,
        1.0,
    );
    let data = labelled_by_sign(&net, n, d);
    let cfg = dimple::train::TrainConfig::new(0.05, 20, MarginLoss::Logistic);
    dimple::train::train(
        &mut net,
        &data,
        &cfg,
        &mut dimple::train::observer::NoObserver,
    )
    .expect("trained");
    let mut g = c.benchmark_group("unlearn");
    g.sample_size(10);
    g.bench_function("one_point_two_layer_n100_d1000_m1000", |b| {
        b.iter(|| dimple::unlearn::unlearn(&net, &data, &[7], 1.0, None).expect("unlearned"))
    });
    g.finish();
}

fn perturbations(c: &mut Criterion) {
    use dimple::attack::deepfool::{deepfool, DeepFoolConfig};
    use dimple::data::real::{load, Shipped};
    use dimple::geometry::Constraint;
    use dimple::train::classifier::{train_relu_mlp, ClassifierGd};
    let mnist = load(Shipped::Mnist5k).expect("shipped MNIST subset");
    // Every fifth image trains, 500 of the others are attacked (the file is not shuffled).
    let train = mnist.subset(&(0..1000).map(|i| 5 * i).collect::<Vec<_>>());
    let pts = mnist.subset(&(0..500).map(|i| 10 * i + 1).collect::<Vec<_>>());
    let (n, d, m) = (500, 784, 1000);
    let net = TwoLayer::init(
        &mut rng::seeded(0, 2),
        d,
        m,
        Activation::Relu,
        true,
        false,
        1.0 / (d as f64).sqrt(),
    );
    let mut g = c.benchmark_group("perturbations");
    g.sample_size(10);
    g.bench_function("input_grad_two_layer_n500_d784_m1000", |b| {
        b.iter(|| black_box(net.input_grad(black_box(pts.x()))))
    });
    let a = rng::gaussian_matrix(&mut rng::seeded(1, 0), n, m, 1.0);
    let w = rng::gaussian_matrix(&mut rng::seeded(2, 0), m, d, 1.0);
    g.bench_function("plain_product_500x1000x784", |b| {
        b.iter(|| black_box(mul(&a, Op::N, &w, Op::N)))
    });
    let (mlp, rep) = train_relu_mlp(
        &mut rng::seeded(0, 2),
        vec![d, m, 10],
        &train,
        &ClassifierGd {
            lr: 0.1,
            steps: 50,
            weight_decay: 0.0,
        },
    )
    .expect("training");
    eprintln!(
        "bench MLP training accuracy after 50 steps: {:.3}",
        rep.accuracy
    );
    let cfg = DeepFoolConfig::default();
    let r = deepfool(&mlp, pts.x(), pts.y(), &cfg, &Constraint::Free).expect("deepfool");
    eprintln!(
        "DeepFool: {} of {n} points broken ({} misclassified at x), max iterations {}",
        r.success.iter().filter(|s| **s).count(),
        r.iterations.iter().filter(|i| **i == 0).count(),
        r.iterations.iter().max().unwrap_or(&0)
    );
    g.bench_function("deepfool_mnist500_784_1000_10", |b| {
        b.iter(|| {
            black_box(deepfool(&mlp, pts.x(), pts.y(), &cfg, &Constraint::Free).expect("deepfool"))
        })
    });
    g.finish();
}

fn attacks(c: &mut Criterion) {
    use dimple::attack::{autoattack, AutoAttackConfig, Norm, Stage};
    use dimple::data::real::{load, split, Shipped};
    use dimple::train::classifier::{train_relu_mlp, ClassifierGd};
    let (train, test) = split(&load(Shipped::Digits).expect("digits"), 0, 0.6).expect("split");
    let pts = test.subset(&(0..500).collect::<Vec<_>>());
    let (mlp, _) = train_relu_mlp(
        &mut rng::seeded(0, 2),
        vec![64, 32, 10],
        &train,
        &ClassifierGd {
            lr: 0.5,
            steps: 500,
            weight_decay: 0.0,
        },
    )
    .expect("training");
    // APGD-T alone: 9 targets × 100 iterations on every point (the stage attacks the correctly
    // classified points still robust, as AutoAttack does).
    let cfg = AutoAttackConfig {
        stages: vec![Stage::ApgdT],
        ..AutoAttackConfig::standard(Norm::Linf, 0.1)
    };
    let r = autoattack(&mlp, pts.x(), pts.y(), &cfg).expect("apgd-t");
    eprintln!(
        "APGD-T on 500 digits: clean {:.3}, robust {:.3}, {} fwd+bwd passes",
        r.clean_accuracy(),
        r.robust_accuracy(),
        r.cost.gradients
    );
    let mut g = c.benchmark_group("attacks");
    g.sample_size(10);
    g.bench_function("apgd_t_9x100_digits500_64_32_10", |b| {
        b.iter(|| black_box(autoattack(&mlp, pts.x(), pts.y(), &cfg).expect("apgd-t")))
    });
    g.finish();
}

fn explanations(c: &mut Criterion) {
    use dimple::data::real::{load, Shipped};
    use dimple::explain::images::{explain_images, Patches};
    use dimple::model::{Classifier, Mlp};
    use dimple::train::classifier::{train_relu_mlp, ClassifierGd};
    let mnist = load(Shipped::Mnist5k).expect("shipped MNIST subset");
    let train = mnist.subset(&(0..500).map(|i| 5 * i).collect::<Vec<_>>());
    let imgs = mnist.subset(&(0..100).map(|i| 10 * i + 1).collect::<Vec<_>>());
    let models: Vec<Mlp> = (0..6)
        .map(|s| {
            train_relu_mlp(
                &mut rng::seeded(s, 2),
                vec![784, 256, 10],
                &train,
                &ClassifierGd {
                    lr: 0.1,
                    steps: 20,
                    weight_decay: 0.0,
                },
            )
            .expect("training")
            .0
        })
        .collect();
    let refs: Vec<&dyn Classifier> = models.iter().map(|m| m as &dyn Classifier).collect();
    let patches = Patches::new(784, 4).expect("patches");
    let ok = explain_images(&refs, imgs.x(), imgs.y(), patches)
        .expect("explain")
        .iter()
        .filter(|r| r.is_ok())
        .count();
    eprintln!("explained {ok} of 100 images (the rest fail the preconditions)");
    let mut g = c.benchmark_group("explanations");
    g.sample_size(10);
    g.bench_function("explain_mnist100_6_mlps_784_256_10", |b| {
        b.iter(|| black_box(explain_images(&refs, imgs.x(), imgs.y(), patches).expect("explain")))
    });
    g.finish();
}

criterion_group!(
    benches,
    explanations,
    attacks,
    perturbations,
    gd_step,
    certificate,
    hard_margin_svm,
    unlearn_one_point
);
criterion_main!(benches);
