//! Numbers the README states, recomputed by the commands written beside them (those that take
//! seconds). A README number that stops reproducing fails here, not in a reader's terminal.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn dimple(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dimple"))
        .args(args)
        .output()
        .expect("binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&dimple(args)).expect("one JSON record")
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("readme");
    std::fs::create_dir_all(&d).expect("tmp dir");
    d.join(name)
}

fn fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/digits-mlp-16.safetensors")
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

/// Performance table: "APGD-T … 500 points of the 8×8 digits … 244 420 forward-backward
/// passes, robust accuracy 0.482 (clean 0.956)", by `dimple train … --train-fraction 0.6` and
/// `dimple attack … --method apgd-t`.
#[test]
fn the_apgd_t_benchmark_numbers_reproduce_from_the_command_line() {
    let m = tmp("m32.safetensors");
    let m = m.to_str().expect("utf-8 path");
    dimple(&[
        "train",
        "--data",
        "digits",
        "--train-fraction",
        "0.6",
        "--hidden",
        "32",
        "--steps",
        "500",
        "--out",
        m,
    ]);
    let v = json(&[
        "attack",
        "--model",
        m,
        "--data",
        "digits",
        "--train-fraction",
        "0.6",
        "--n",
        "500",
        "--norm",
        "linf",
        "--eps",
        "0.1",
        "--method",
        "apgd-t",
        "--json",
    ]);
    assert_eq!(v["clean_accuracy"], 0.956);
    assert_eq!(v["robust_accuracy"], 0.482);
    assert_eq!(v["cost"]["gradients"], 244_420);
}

/// Attacks section: Square alone on all 360 test points leaves 60.28 % robust with the
/// reference's offsets and 50.28 % with `full`.
#[test]
fn the_square_offsets_numbers_reproduce() {
    let model = fixture();
    for (offsets, robust) in [("reference", 217), ("full", 181)] {
        let v = json(&[
            "attack",
            "--model",
            &model,
            "--data",
            "digits",
            "--norm",
            "linf",
            "--eps",
            "0.1",
            "--method",
            "autoattack",
            "--attacks",
            "square",
            "--square-offsets",
            offsets,
            "--json",
        ]);
        assert_eq!(v["points"], 360);
        let r = v["robust_accuracy"].as_f64().expect("robust accuracy");
        assert!((r - robust as f64 / 360.0).abs() < 1e-12, "{offsets}: {r}");
    }
}

/// Unlearning section: the Figure-1 sweep of `dimple unlearn --forget 1 --set d=2000 --set m=16
/// --set steps=3000` has its minimum 0.3225 at c = 1, 0.467 at c = 0 and 0.491 at c = 2.
#[test]
fn the_unlearning_sweep_numbers_reproduce() {
    let svg = tmp("sweep.svg");
    let v = json(&[
        "unlearn",
        "--forget",
        "1",
        "--set",
        "d=2000",
        "--set",
        "m=16",
        "--set",
        "steps=3000",
        "--sweep",
        svg.to_str().expect("utf-8 path"),
        "--json",
    ]);
    let rows: Vec<(f64, f64)> = v["sweep"]
        .as_array()
        .expect("sweep")
        .iter()
        .map(|r| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap()))
        .collect();
    let at = |c: f64| {
        rows.iter()
            .find(|r| (r.0 - c).abs() < 1e-12)
            .expect("c in the sweep")
            .1
    };
    let round4 = |x: f64| (x * 1e4).round() / 1e4;
    assert_eq!(round4(at(1.0)), 0.3225);
    assert_eq!((at(0.0) * 1e3).round() / 1e3, 0.467);
    assert_eq!((at(2.0) * 1e3).round() / 1e3, 0.491);
    let min = rows.iter().cloned().fold(
        (f64::NAN, f64::INFINITY),
        |a, r| if r.1 < a.1 { r } else { a },
    );
    assert_eq!(min.0, 1.0, "the minimum is at the theorem's step");
}

/// Sweeps section: the figures' captions, "t_exact 1.41 → 10.2" over β = 1 … 0.1 and
/// "1.41 → 1.51" over κ = 0 … 0.004 (`subspace.c4_flip_sandwich`, m = 50), and "‖g⊥‖ ≈ 0.7 for
/// every ℓ" (`subspace.c2_chi2`, d = 20 … 320), at the test scale the README's commands use.
#[test]
fn the_sweep_figure_captions_reproduce() {
    let stat = |grid: &str, name: &str| -> Vec<f64> {
        dimple(&[
            "sweep",
            if name.contains("t_exact") {
                "subspace.c4_flip_sandwich"
            } else {
                "subspace.c2_chi2"
            },
            "--scale",
            "test",
            "--grid",
            grid,
            "--json",
        ])
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("record");
            v["evidence"]["stats"][name]
                .as_f64()
                .expect("the statistic")
        })
        .collect()
    };
    let t = stat("beta=1,0.1", "m = 50: median t_exact");
    assert_eq!(
        ((t[0] * 100.0).round(), (t[1] * 10.0).round()),
        (141.0, 102.0)
    );
    let t = stat("kappa=0,0.004", "m = 50: median t_exact");
    assert_eq!(
        ((t[0] * 100.0).round(), (t[1] * 100.0).round()),
        (141.0, 151.0)
    );
    for g in stat("d=20,320", "mean ‖g⊥(x)‖") {
        assert!((g - 0.7).abs() < 0.05, "‖g⊥‖ = {g}");
    }
}
