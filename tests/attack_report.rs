//! `dimple attack` on a small committed model (tests/fixtures/digits-mlp-16.safetensors: a
//! 64-16-10 MLP trained by `dimple train --data digits --hidden 16 --steps 300`): the per-stage
//! numbers (points broken, robust accuracy after each stage, passes) are snapshots, the sanity
//! line holds, and the settings describe the run. Wall times are left out (they vary).

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn attack(extra: &[&str]) -> Value {
    let model =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/digits-mlp-16.safetensors");
    let mut args = vec![
        "attack",
        "--model",
        model.to_str().expect("utf-8 path"),
        "--data",
        "digits",
        "--n",
        "60",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_dimple"))
        .args(&args)
        .output()
        .expect("binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON record")
}

/// The deterministic part of a report: per stage (name, broken, robust after, passes), the
/// accuracies, the sanity checks and the warnings.
fn stable(v: &Value) -> Value {
    let stages: Vec<Value> = v["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s["name"], "broken": s["broken"], "robust_after": s["robust_after"],
                "fwd+bwd": s["cost"]["gradients"], "fwd": s["cost"]["forwards"],
            })
        })
        .collect();
    // The sanity numbers to 9 digits (a perturbation at ε may differ from it by rounding).
    let round = |x: &Value| (x.as_f64().expect("number") * 1e9).round() / 1e9;
    let sanity = &v["sanity"];
    serde_json::json!({
        "clean_accuracy": v["clean_accuracy"], "robust_accuracy": v["robust_accuracy"],
        "stages": stages, "warnings": v["warnings"],
        "sanity": {
            "max_perturbation": round(&sanity["max_perturbation"]), "eps": sanity["eps"],
            "non_finite": sanity["non_finite"], "min": round(&sanity["min"]),
            "max": round(&sanity["max"]),
        },
    })
}

#[test]
fn autoattack_reports_each_stage_as_the_reference_logs_it() {
    let v = attack(&["--norm", "linf", "--eps", "0.1", "--method", "autoattack"]);
    let s = &v["settings"];
    assert_eq!(
        s["stages"],
        serde_json::json!(["apgd-ce", "apgd-t", "fab-t", "square"])
    );
    assert_eq!(s["square_offsets"], "reference");
    assert_eq!(s["points"], 60);
    // Robust accuracy never rises from stage to stage, and ends at the reported value.
    let stages = v["stages"].as_array().expect("stages");
    let after: Vec<u64> = stages
        .iter()
        .map(|s| s["robust_after"].as_u64().unwrap())
        .collect();
    assert!(after.windows(2).all(|w| w[1] <= w[0]), "{after:?}");
    let robust = v["robust_accuracy"].as_f64().unwrap();
    assert!((robust - *after.last().unwrap() as f64 / 60.0).abs() < 1e-12);
    assert!(v["sanity"]["max_perturbation"].as_f64().unwrap() <= 0.1 * (1.0 + 1e-9));
    insta::assert_json_snapshot!("autoattack_linf", stable(&v));
}

#[test]
fn malt_counts_only_clean_correct_points_as_broken_and_reports_per_target() {
    let v = attack(&["--norm", "linf", "--eps", "0.1", "--method", "malt"]);
    let clean = v["clean_accuracy"].as_f64().unwrap();
    let robust = v["robust_accuracy"].as_f64().unwrap();
    let broken = v["broken"].as_u64().unwrap() as f64;
    assert!(
        (clean - robust - broken / 60.0).abs() < 1e-12,
        "{clean} {robust} {broken}"
    );
    let names: Vec<&str> = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "targeting");
    assert_eq!(names[1], "target 1");
    insta::assert_json_snapshot!("malt_linf", stable(&v));
}

#[test]
fn custom_stage_lists_and_square_alone() {
    let v = attack(&[
        "--norm",
        "linf",
        "--eps",
        "0.1",
        "--method",
        "autoattack",
        "--attacks",
        "square",
        "--square-queries",
        "300",
    ]);
    let stages = v["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 1);
    assert_eq!(stages[0]["name"], "square");
    // Square alone is not compared with gradient attacks: no masking warning.
    assert!(!v["warnings"].to_string().contains("gradient masking"));
    let l2 = attack(&[
        "--norm",
        "l2",
        "--eps",
        "0.5",
        "--method",
        "autoattack",
        "--attacks",
        "apgd-ce,square",
        "--square-queries",
        "300",
    ]);
    assert_eq!(l2["stages"][1]["name"], "square-l2 (dimple's own)");
    assert_eq!(l2["sanity"]["non_finite"], 0, "{}", l2["sanity"]);
    assert!(l2["sanity"]["max_perturbation"].as_f64().unwrap() <= 0.5 * (1.0 + 1e-9));
    insta::assert_json_snapshot!("square_alone_linf", stable(&v));
}
