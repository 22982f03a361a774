//! Numbers the README states, recomputed by the commands written beside them (those that take
//! seconds). Each test recomputes a number and then requires the README to say it in the words
//! it uses (`says`), so a number that stops reproducing, or a README edited away from what the
//! command prints, fails here and not in a reader's terminal. Slow figures are pinned elsewhere:
//! the claim checks' values by `dimple docs --check` (docs/claims.md), the attack report by
//! `tests/attack_report.rs`, timings by the benches (they vary and are not tested).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the binary; (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dimple"))
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

fn dimple(args: &[&str]) -> String {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, Some(0), "{args:?}: {stderr}");
    stdout
}

/// README.md as written.
fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

/// Requires the README to contain `fragment`, comparing with runs of white space (line
/// wrapping) collapsed to one space.
fn says(fragment: &str) {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        squash(&readme()).contains(&squash(fragment)),
        "README.md does not say {fragment:?} (the command prints it)"
    );
}

/// The value of a measurement of a `--json` check record.
fn measured(v: &Value, key: &str) -> f64 {
    v["measurements"]
        .as_array()
        .expect("measurements")
        .iter()
        .find(|m| m["key"] == key)
        .unwrap_or_else(|| panic!("measurement {key}"))["measured"]
        .as_f64()
        .expect("a number")
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
    says("244 420 forward-backward passes, robust accuracy 0.482 (clean 0.956)");
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
    says(&format!(
        "leaves {:.2} % robust with the reference's offsets and {:.2} % with `full`",
        100.0 * 217.0 / 360.0,
        100.0 * 181.0 / 360.0
    ));
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
    says(&format!(
        "minimum {:.4} at c = 1, {:.3} at c = 0, {:.3} at c = 2",
        at(1.0),
        at(0.0),
        at(2.0)
    ));
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
    says("# t_exact 1.41 → 10.2");
    says("# 1.41 → 1.51 (short runs: s_T ≥ 0.93)");
    says("# ‖g⊥‖ ≈ 0.7 for every ℓ = d − 2");
}

/// "Reading the output": the table shown is the program's output for the command beside it
/// (every row shown, in order; the README elides rows with `...`), and the run is
/// INCONCLUSIVE (exit 4).
#[test]
fn the_reading_the_output_example_is_what_the_command_prints() {
    let text = readme();
    let block = text
        .split("## Reading the output")
        .nth(1)
        .and_then(|s| s.split("```").nth(1))
        .expect("the example block");
    says("(`dimple check kkt.smoothed_margin --scale test --set steps=10`");
    let (code, out, _) = run(&[
        "check",
        "kkt.smoothed_margin",
        "--scale",
        "test",
        "--set",
        "steps=10",
    ]);
    assert_eq!(code, Some(4), "INCONCLUSIVE exits 4");
    let printed: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut at = 0;
    for line in block.lines().map(str::trim_end) {
        if line.is_empty() || line.trim() == "..." {
            continue;
        }
        let found = printed[at..]
            .iter()
            .position(|p| *p == line)
            .unwrap_or_else(|| panic!("README line not printed (in order): {line:?}\n{out}"));
        at += found + 1;
    }
}

/// "Command line": the refusals the README quotes are the program's messages, with exit 2.
#[test]
fn the_quoted_refusals_are_the_programs_messages() {
    for (set, message) in [
        (
            "m=7",
            "outside the assumptions: even width: m = 7 must be even",
        ),
        ("n=1e12", "n = 1000000000000 is above its cap 2000"),
    ] {
        let (code, _, err) = run(&["check", "kkt.euler", "--set", set]);
        assert_eq!(code, Some(2), "{set}: {err}");
        assert!(err.contains(message), "{set}: {err}");
        says(&format!(
            "`dimple check kkt.euler --set {set}` → `{message}`"
        ));
    }
}

/// "Reading the output", the sensitivity controls: the margins the README quotes are the
/// controls' values (the scale each figure was taken at is the one named here).
#[test]
fn the_sensitivity_control_margins_reproduce() {
    let check = |id: &str, scale: &str| json(&["check", id, "--scale", scale, "--json"]);
    let v = check("kkt.certificate.fixture", "test");
    let margin = measured(&v, "control.linear.perturbed") / 1e-9;
    says(&format!("(`kkt.certificate.fixture`, margin {margin:.0})"));
    let v = check("subspace.c5_scale", "test");
    says(&format!(
        "(`subspace.c5_scale`, ν {:.2} ≤ 0.7)",
        measured(&v, "control.off_scaled")
    ));
    let v = check("dimpled.baseline.beta", "default");
    says(&format!(
        "(`dimpled.baseline.beta`, z {:.1})",
        measured(&v, "control.shifted_mean")
    ));
    let v = check("explain.invariance", "test");
    says(&format!(
        "(`explain.invariance`, {:.1}× the gate)",
        measured(&v, "control.rescaled") / 1e-12
    ));
}

/// "Attacks": the AutoAttack and MALT figures on the committed digits MLP (60 points).
#[test]
fn the_attack_paragraph_numbers_reproduce() {
    let model = fixture();
    let attack = |method: &str| {
        json(&[
            "attack", "--model", &model, "--data", "digits", "--norm", "linf", "--eps", "0.1",
            "--method", method, "--n", "60", "--json",
        ])
    };
    let aa = attack("autoattack");
    let stage = |i: usize| &aa["stages"][i];
    let pct = |robust: &Value| 100.0 * robust.as_f64().expect("count") / 60.0;
    says(&format!(
        "clean accuracy {:.2} %, robust accuracy {:.2} % after APGD-CE ({} broken), {:.2} % after \
         APGD-T ({} more)",
        100.0 * aa["clean_accuracy"].as_f64().expect("clean"),
        pct(&stage(0)["robust_after"]),
        stage(0)["broken"],
        pct(&stage(1)["robust_after"]),
        stage(1)["broken"],
    ));
    let malt = attack("malt");
    assert_eq!(malt["robust_accuracy"], aa["robust_accuracy"]);
    let thousands = |v: &Value| {
        let n = v.as_u64().expect("count");
        format!("{},{:03}", n / 1000, n % 1000)
    };
    says(&format!(
        "reaches the same {:.2} % with {} forward-backward passes against AutoAttack's {}",
        100.0 * malt["robust_accuracy"].as_f64().expect("robust"),
        thousands(&malt["cost"]["gradients"]),
        thousands(&aa["cost"]["gradients"]),
    ));
}
