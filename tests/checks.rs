//! Theorem validation: every registered check at test scale, with its verdict asserted and its
//! rounded statistics snapshotted.

use dimple::check::{self, Evidence, Outcome, RunConfig, Scale};
use dimple::report::snapshot::rounded;
use dimple::theory::{self, Bound, Kind};
use dimple::{checks, linalg};

fn run(id: &str) -> Evidence {
    let c = checks::select(id).expect("registered").remove(0);
    let t = theory::get(id).expect("theory file");
    let cfg = RunConfig {
        scale: Scale::Test,
        ..RunConfig::default()
    };
    check::run(c.as_ref(), &t, &cfg).unwrap_or_else(|e| panic!("{id} could not run: {e}"))
}

/// Gates, stats, controls and the check's preconditions must hold; probes must terminate with
/// finite outputs (theory-notes README: "at test scale, only termination and finite outputs
/// are asserted").
fn assert_check(id: &str) {
    let ev = run(id);
    for m in &ev.measurements {
        if m.kind == Kind::Probe {
            assert!(
                m.measured.is_finite(),
                "{id}: probe `{}` is not finite",
                m.key
            );
        } else if m.kind.gating() {
            assert_eq!(
                m.outcome,
                Outcome::Pass,
                "{id}: `{}` measured {} over {} vs bound {} ({:?})",
                m.key,
                m.measured,
                m.samples,
                m.bound,
                m.relation
            );
        }
    }
    assert_eq!(ev.outcome(), Outcome::Pass, "{id}: {:?}", ev.reasons());
    assert!(
        ev.measurements.iter().any(|m| m.kind == Kind::Control),
        "{id} has no negative control"
    );
    insta::assert_json_snapshot!(id, rounded(&ev));
}

#[test]
fn kkt_euler() {
    assert_check("kkt.euler");
}

#[test]
fn kkt_svm_dual_primal() {
    assert_check("kkt.svm.dual_primal");
}

#[test]
fn kkt_multipliers_solvers() {
    assert_check("kkt.multipliers.solvers");
}

#[test]
fn kkt_certificate_fixture() {
    assert_check("kkt.certificate.fixture");
}

#[test]
fn kkt_linear_gd_direction() {
    assert_check("kkt.linear.gd_direction");
}

#[test]
fn kkt_smoothed_margin() {
    assert_check("kkt.smoothed_margin");
}

#[test]
fn kkt_twolayer_trajectory() {
    assert_check("kkt.twolayer.trajectory");
}

#[test]
fn unlearn_linear_kkt() {
    assert_check("unlearn.linear.kkt");
}

#[test]
fn unlearn_linear_retrain() {
    assert_check("unlearn.linear.retrain");
}

#[test]
fn unlearn_linear_sweep() {
    assert_check("unlearn.linear.sweep");
}

#[test]
fn unlearn_twolayer_fixture() {
    assert_check("unlearn.twolayer.fixture");
}

#[test]
fn unlearn_twolayer_gd() {
    assert_check("unlearn.twolayer.gd");
}

#[test]
fn unlearn_twolayer_sweep() {
    assert_check("unlearn.twolayer.sweep");
}

#[test]
fn unlearn_twolayer_retrain() {
    assert_check("unlearn.twolayer.retrain");
}

#[test]
fn unlearn_forget_set() {
    assert_check("unlearn.forget_set");
}

#[test]
fn unlearn_gmm_linear() {
    assert_check("unlearn.gmm.linear");
}

#[test]
fn unlearn_gmm_twolayer() {
    assert_check("unlearn.gmm.twolayer");
}

#[test]
fn unlearn_criterion_seeds() {
    assert_check("unlearn.criterion.seeds");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    for id in [
        "kkt.multipliers.solvers",
        "subspace.c2_chi2",
        "dimpled.linear.cost_ratio",
    ] {
        same_on_one_and_two_threads(id);
    }
}

fn same_on_one_and_two_threads(id: &str) {
    let serial = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(|| {
            linalg::set_threads(1);
            run(id)
        });
    let parallel = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool")
        .install(|| {
            linalg::set_threads(2);
            run(id)
        });
    linalg::set_threads(0);
    assert_eq!(serial, parallel);
}

#[test]
fn overrides_outside_the_assumptions_are_refused_with_the_assumption_named() {
    let t = theory::get("kkt.euler").expect("theory");
    let cfg = RunConfig {
        overrides: vec![("m".into(), 7.0)],
        ..RunConfig::default()
    };
    let err = check::resolve_params(&t, &cfg)
        .expect_err("odd width must be refused")
        .to_string();
    assert!(err.contains("even width"), "{err}");
    let cfg = RunConfig {
        overrides: vec![("nonsense".into(), 1.0)],
        ..RunConfig::default()
    };
    assert!(check::resolve_params(&t, &cfg).is_err());
    let t = theory::get("kkt.linear.gd_direction").expect("theory");
    let cfg = RunConfig {
        overrides: vec![("lr_frac".into(), 1.5)],
        ..RunConfig::default()
    };
    let err = check::resolve_params(&t, &cfg)
        .expect_err("η ≥ 2/β must be refused")
        .to_string();
    assert!(err.contains("step size"), "{err}");
}

/// Runs `id` against its theory file with the bound of `key` replaced.
fn run_with_bound(id: &str, key: &str, bound: f64) -> Evidence {
    let c = checks::select(id).expect("registered").remove(0);
    let mut t = theory::get(id).expect("theory file");
    t.measured
        .iter_mut()
        .find(|m| m.key == key)
        .expect("declared key")
        .bound = Bound::Number(bound);
    check::run(c.as_ref(), &t, &RunConfig::default()).expect("runs")
}

#[test]
fn a_bound_read_from_the_theory_file_decides_the_outcome() {
    // The bound lives in the file: tighten a gate's declared bound below its measurement and
    // the same run FAILS; loosen it and it passes.
    let ev = run("kkt.euler");
    let m = ev
        .measurements
        .iter()
        .find(|m| m.key == "fd.theta")
        .expect("key");
    assert!(m.measured > 0.0);
    let tight = run_with_bound("kkt.euler", "fd.theta", m.measured / 2.0);
    assert_eq!(tight.outcome(), Outcome::Fail);
    let loose = run_with_bound("kkt.euler", "fd.theta", m.measured * 2.0);
    assert_eq!(loose.outcome(), Outcome::Pass);
}

#[test]
fn an_unmet_precondition_is_inconclusive_not_fail() {
    // kkt.smoothed_margin with 10 steps never gets below log 2: no V2 step is observed and the
    // control cannot trigger. That is no evidence about the theorem: INCONCLUSIVE, with the
    // precondition named.
    let c = checks::select("kkt.smoothed_margin")
        .expect("registered")
        .remove(0);
    let t = theory::get("kkt.smoothed_margin").expect("theory");
    let cfg = RunConfig {
        overrides: vec![("steps".into(), 10.0)],
        ..RunConfig::default()
    };
    let ev = check::run(c.as_ref(), &t, &cfg).expect("runs");
    assert_eq!(ev.outcome(), Outcome::Inconclusive);
    assert!(
        ev.reasons().iter().any(|r| r.contains("v2.observed")),
        "{:?}",
        ev.reasons()
    );
}

#[test]
fn subspace_c1_frozen() {
    assert_check("subspace.c1_frozen");
}

#[test]
fn subspace_c2_chi2() {
    assert_check("subspace.c2_chi2");
}

#[test]
fn subspace_c3_lower_tail() {
    assert_check("subspace.c3_lower_tail");
}

#[test]
fn subspace_c4_flip_sandwich() {
    assert_check("subspace.c4_flip_sandwich");
}

#[test]
fn subspace_c5_scale() {
    assert_check("subspace.c5_scale");
}

#[test]
fn subspace_c6_universal() {
    assert_check("subspace.c6_universal");
}

#[test]
fn subspace_c7_relative() {
    assert_check("subspace.c7_relative");
}

#[test]
fn subspace_toy_diagonal() {
    assert_check("subspace.toy.diagonal");
}

#[test]
fn subspace_toy_chess() {
    assert_check("subspace.toy.chess");
}

#[test]
fn dimpled_baseline_beta() {
    assert_check("dimpled.baseline.beta");
}

#[test]
fn dimpled_linear_perpendicular() {
    assert_check("dimpled.linear.perpendicular");
}

#[test]
fn dimpled_linear_cost_ratio() {
    assert_check("dimpled.linear.cost_ratio");
}

#[test]
fn dimpled_curved_tangent() {
    assert_check("dimpled.curved.tangent");
}

#[test]
fn dimpled_real_pca() {
    assert_check("dimpled.real.pca");
}

#[test]
fn dimpled_mislabeled() {
    assert_check("dimpled.mislabeled");
}

#[test]
fn malt_score_unit() {
    assert_check("malt.score.unit");
}

#[test]
fn malt_linear_optimal() {
    assert_check("malt.linear.optimal");
}

#[test]
fn malt_dlr_variants() {
    assert_check("malt.dlr.variants");
}

#[test]
fn malt_apgd_schedule() {
    assert_check("malt.apgd.schedule");
}

#[test]
fn malt_apgd_invariants() {
    assert_check("malt.apgd.invariants");
}

#[test]
fn malt_twolayer_certified() {
    assert_check("malt.twolayer.certified");
}

#[test]
fn malt_twolayer_mesoscopic() {
    assert_check("malt.twolayer.mesoscopic");
}

#[test]
fn malt_pipeline_vs_apgdt() {
    assert_check("malt.pipeline.vs_apgdt");
}

#[test]
fn explain_baseline_cos() {
    assert_check("explain.baseline.cos");
}

#[test]
fn explain_offsubspace_null() {
    assert_check("explain.offsubspace.null");
}

#[test]
fn explain_invariance() {
    assert_check("explain.invariance");
}

#[test]
fn explain_bugs() {
    assert_check("explain.bugs");
}

#[test]
fn explain_planted_recovery() {
    assert_check("explain.planted.recovery");
}
