//! The cost model of `malt.pipeline.vs_apgdt` against wall time: MALT and the standard
//! AutoAttack on the same model and points, each pipeline's counted passes turned into a
//! predicted time, beside the measured one.
//!
//! The cost model (`Cost::forward_units`) counts a run's model work in forward-pass units,
//! F + (1 + ρ)·G, with ρ = 1 by the multiply-add count of dense layers, and so predicts the
//! speed-up work(AutoAttack) / work(MALT). It ignores the attacks' own work per point and step
//! (APGD's projection and momentum, FAB's hyperplane projection, Square's window), which is O(d)
//! while a pass costs O(Σ layer products), and the batch-size dependence of a pass's time. The
//! bench measures both regimes:
//!
//! - the 64-32-10 digits MLP of the check (200 points, ε = 0.1): a pass is a few thousand
//!   multiply-adds, as cheap as the attacks' own work, so wall time is not predicted by passes;
//! - a 64-2048-2048-10 MLP with He initialisation on 40 digits labelled by the net itself: a
//!   pass costs ~4.3 M multiply-adds and passes dominate, as on the paper's CIFAR and ImageNet
//!   networks.
//!
//! For each it prints the passes, the predicted speed-up with ρ = 1 and with ρ measured on the
//! model (time of a forward-backward pass over a forward pass, minus one), the time predicted
//! from the measured per-pass times, and the wall times. `cargo bench --bench attack_cost`
//! (about one minute here).

use dimple::attack::objective::BACKWARD_OVER_FORWARD;
use dimple::attack::{autoattack, malt, AutoAttackConfig, Cost, MaltConfig, Norm};
use dimple::data::real::{self, Shipped};
use dimple::data::MultiClass;
use dimple::linalg::row_argmax;
use dimple::model::{Activation, Classifier, Mlp};
use dimple::rng::{self, stream};
use dimple::train::classifier::{train_relu_mlp, ClassifierGd};
use nalgebra::DMatrix;
use std::time::Instant;

/// Seconds per sample of a forward pass and of a forward-backward pass, from repeated full-batch
/// passes over `x` (the best of five repetitions of `reps` passes each).
fn per_pass_seconds(model: &dyn Classifier, x: &DMatrix<f64>, reps: usize) -> (f64, f64) {
    let k = model.classes();
    let best = |f: &mut dyn FnMut()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..reps {
                    f();
                }
                t.elapsed().as_secs_f64() / (reps * x.nrows()) as f64
            })
            .fold(f64::INFINITY, f64::min)
    };
    let fwd = best(&mut || {
        std::hint::black_box(model.logits(x));
    });
    let grad = best(&mut || {
        std::hint::black_box(model.forward_backward(x, false, &mut |z| {
            DMatrix::from_fn(z.nrows(), k, |_, c| if c == 0 { 1.0 } else { -1.0 })
        }));
    });
    (fwd, grad)
}

fn compare(label: &str, model: &dyn Classifier, pts: &MultiClass, eps: f64, reps: usize) {
    let norm = Norm::Linf;
    let mut mc = MaltConfig::new(norm, eps, model.classes());
    mc.seed = 0;
    let t = Instant::now();
    let m = malt(model, pts.x(), pts.y(), &mc).expect("MALT runs");
    let malt_s = t.elapsed().as_secs_f64();
    let ac = AutoAttackConfig::standard(norm, eps);
    let t = Instant::now();
    let a = autoattack(model, pts.x(), pts.y(), &ac).expect("AutoAttack runs");
    let aa_s = t.elapsed().as_secs_f64();
    let (tf, tg) = per_pass_seconds(model, pts.x(), reps);
    let rho = tg / tf - 1.0;
    let predict = |c: &Cost| c.forwards as f64 * tf + c.gradients as f64 * tg;
    let (mcost, acost) = (m.pipeline.cost, a.cost);
    println!("\n## {label}: {} points, L∞ ε = {eps}", pts.n());
    println!(
        "robust accuracy: AutoAttack {:.2} %, MALT {:.2} %; per sample: forward {:.3e} s, \
         forward-backward {:.3e} s (ρ = {rho:.2})",
        100.0 * a.robust_accuracy(),
        100.0 * m.pipeline.robust_accuracy(),
        tf,
        tg
    );
    println!("| pipeline | fwd+bwd passes | fwd passes | predicted from passes | wall time |");
    println!("|---|---|---|---|---|");
    for (name, c, wall) in [("AutoAttack", acost, aa_s), ("MALT", mcost, malt_s)] {
        println!(
            "| {name} | {} | {} | {:.2} s | {wall:.2} s |",
            c.gradients,
            c.forwards,
            predict(&c)
        );
    }
    println!(
        "speed-up AutoAttack / MALT: cost model (ρ = 1) {:.2}, cost model (ρ = {rho:.2}) {:.2}, \
         predicted time {:.2}, wall time {:.2}",
        acost.forward_units(BACKWARD_OVER_FORWARD) / mcost.forward_units(BACKWARD_OVER_FORWARD),
        acost.forward_units(rho) / mcost.forward_units(rho),
        predict(&acost) / predict(&mcost),
        aa_s / malt_s
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read.
    let digits = real::load(Shipped::Digits).expect("shipped digits");
    let (train, test) = real::split(&digits, 0, 0.8).expect("split");
    let (small, _) = train_relu_mlp(
        &mut rng::seeded(0, stream::INIT),
        vec![digits.d(), 32, 10],
        &train,
        &ClassifierGd {
            lr: 0.5,
            steps: 500,
            weight_decay: 0.0,
        },
    )
    .expect("training");
    let pts = test.subset(&(0..200).collect::<Vec<_>>());
    compare("digits MLP 64-32-10 (the check's)", &small, &pts, 0.1, 200);

    let wide = Mlp::init(
        &mut rng::seeded(1, stream::INIT),
        vec![digits.d(), 2048, 2048, 10],
        Activation::Relu,
        1.0,
    )
    .expect("MLP");
    let x = test.x().rows(0, 40).into_owned();
    let own = row_argmax(&wide.logits(&x));
    let labelled = MultiClass::new(x, own, 10).expect("data");
    compare(
        "wide MLP 64-2048-2048-10 (He init, its own labels)",
        &wide,
        &labelled,
        0.05,
        5,
    );
}
