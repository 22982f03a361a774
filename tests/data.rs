//! Generators and the shipped real data.

use dimple::data::clusters::Clusters;
use dimple::data::manifold::CurvedManifold;
use dimple::data::real::{load, Shipped};
use dimple::data::subspace::{Layout, Orientation, Subspace};
use dimple::rng;
use nalgebra::DVector;

#[test]
fn shipped_digits_and_mnist_load_scaled_to_the_unit_box() {
    for (which, n, d) in [(Shipped::Digits, 1797, 64), (Shipped::Mnist5k, 5000, 784)] {
        let data = load(which).expect("shipped data");
        assert_eq!((data.n(), data.d(), data.classes()), (n, d, 10));
        assert!(data.x().iter().all(|&v| (0.0..=1.0).contains(&v)));
        assert!(data.x().max() > 0.99, "{which:?} is not scaled to [0, 1]");
        for c in 0..10 {
            let count = data.y().iter().filter(|&&y| y == c).count();
            assert!(count > n / 20, "{which:?}: class {c} has {count} samples");
        }
    }
}

#[test]
fn curved_manifold_tangent_matches_finite_differences() {
    let m =
        CurvedManifold::new(&mut rng::seeded(0, 1), 60, 2, 10, 3.0, 60f64.sqrt()).expect("valid");
    for k in 0..20 {
        let t = DVector::from_vec(vec![(k as f64 * 0.37).fract(), (k as f64 * 0.61).fract()]);
        let j = m.tangent(&t);
        let h = 1e-6;
        for a in 0..2 {
            let mut up = t.clone();
            up[a] += h;
            let mut down = t.clone();
            down[a] -= h;
            let fd = (m.point(&up) - m.point(&down)) / (2.0 * h);
            assert!((fd - j.column(a)).norm() <= 1e-6 * j.column(a).norm().max(1.0));
        }
    }
}

#[test]
fn subspace_points_lie_in_the_subspace_and_its_complement_is_orthogonal() {
    for orientation in [Orientation::Random, Orientation::Axis] {
        let s = Subspace::new(&mut rng::seeded(1, 1), 30, 3, orientation).expect("valid");
        let data = s
            .sample(&mut rng::seeded(1, 2), 24, 30f64.sqrt(), Layout::Sectors)
            .expect("sample");
        assert!(s.project_out(data.x()).norm() <= 1e-10 * data.x().norm());
        let circle = s
            .sample(&mut rng::seeded(1, 3), 12, 1.0, Layout::Circle)
            .expect("sample");
        assert_eq!(circle.y().iter().filter(|&&y| y > 0.0).count(), 6);
        let r = rng::gaussian_matrix(&mut rng::seeded(1, 4), 5, 30, 1.0);
        let perp = s.project_out(&r);
        assert!((perp * &s.basis).norm() <= 1e-10 * r.norm());
    }
}

#[test]
fn clusters_are_balanced_and_clamped() {
    let c = Clusters::random(&mut rng::seeded(2, 1), 10, 20, 0.3, true).expect("valid");
    let data = c.sample(&mut rng::seeded(2, 2), 100).expect("sample");
    assert!(data.x().iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!((0..10).all(|k| data.y().iter().filter(|&&y| y == k).count() == 10));
}

#[test]
fn mlp_trained_by_cross_entropy_separates_clusters() {
    use dimple::model::{Activation, Mlp};
    use dimple::train::classifier::{accuracy, train_classifier, ClassifierGd};
    let c = Clusters::random(&mut rng::seeded(3, 1), 4, 10, 0.05, true).expect("valid");
    let data = c.sample(&mut rng::seeded(3, 2), 200).expect("sample");
    let mut net = Mlp::init(
        &mut rng::seeded(3, 3),
        vec![10, 32, 4],
        Activation::Relu,
        1.0,
    )
    .expect("valid");
    let before = accuracy(&net, &data);
    let report = train_classifier(
        &mut net,
        &data,
        &ClassifierGd {
            lr: 0.5,
            steps: 300,
            weight_decay: 0.0,
        },
    )
    .expect("trained");
    assert!(
        report.accuracy > 0.95 && report.accuracy > before,
        "{before} → {report:?}"
    );
    assert!(report.loss.is_finite());
    // Mismatched data are refused, not a panic.
    let wrong = Clusters::random(&mut rng::seeded(3, 4), 4, 7, 0.05, true)
        .expect("valid")
        .sample(&mut rng::seeded(3, 5), 8)
        .expect("sample");
    assert!(train_classifier(
        &mut net,
        &wrong,
        &ClassifierGd {
            lr: 0.5,
            steps: 1,
            weight_decay: 0.0
        }
    )
    .is_err());
}

#[test]
fn the_mnist_flag_names_the_shipped_set() {
    use dimple::data::real::Shipped;
    assert_eq!(Shipped::from_mnist_flag(1), Shipped::Mnist5k);
    assert_eq!(Shipped::from_mnist_flag(0), Shipped::Digits);
}
