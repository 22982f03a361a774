//! The command line: exit codes and error messages for good and bad input. Nothing panics.

use dimple::data::{load, near_orthogonal, npy};
use dimple::margin::svm;
use dimple::model::{io, Linear};
use dimple::rng;
use std::path::{Path, PathBuf};
use std::process::Command;

fn dimple(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dimple"))
        .args(args)
        .output()
        .expect("binary runs");
    let code = out.status.code().unwrap_or(-1);
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

/// A separable data set, its SVM saved as a model, and the files.
fn fixture(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let d = dir(name);
    let (data, _) = near_orthogonal::generate(
        &mut rng::seeded(7, 1),
        8,
        400,
        near_orthogonal::Sampling::Gaussian,
    )
    .expect("data");
    let s = svm::hard_margin(&data).expect("svm");
    let model = d.join("svm.safetensors");
    io::save(&model, &io::linear_bytes(&Linear::new(s.w)).expect("bytes")).expect("save");
    let x = d.join("x.npy");
    load::save_matrix(&x, data.x()).expect("save x");
    let y = d.join("y.npy");
    npy::write(&y, &[data.n()], data.y().as_slice()).expect("save y");
    (model, x, y)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn unknown_ids_and_parameters_outside_the_assumptions_exit_2() {
    let (code, _, err) = dimple(&["check", "kkt.nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown check"), "{err}");
    let (code, _, err) = dimple(&["check", "kkt.euler", "--set", "m=7"]);
    assert_eq!(code, 2);
    assert!(err.contains("even width") && err.contains("m = 7"), "{err}");
    let (code, _, err) = dimple(&["check", "kkt.euler", "--set", "m"]);
    assert_eq!(code, 2);
    assert!(err.contains("NAME=VALUE"), "{err}");
}

#[test]
fn list_and_check_json() {
    let (code, out, _) = dimple(&["list", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), dimple::checks::registry().len());
    let (code, out, _) = dimple(&["check", "kkt.svm.dual_primal", "--scale", "test", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("one line")).expect("json");
    assert_eq!(v["status"], "ran");
    assert_eq!(v["verdict"], "Pass");
}

#[test]
fn no_evidence_is_inconclusive_with_exit_4_and_the_reason() {
    // Ten steps never get the loss below log 2: no V2 step, the control cannot trigger.
    let (code, out, _) = dimple(&[
        "check",
        "kkt.smoothed_margin",
        "--scale",
        "test",
        "--set",
        "steps=10",
    ]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("INCONCLUSIVE"), "{out}");
    assert!(out.contains("unmet precondition `v2.observed`"), "{out}");
    // One seed that flips: the flip-free set T9's equality speaks of is empty.
    let (code, out, _) = dimple(&[
        "check",
        "unlearn.twolayer.gd",
        "--scale",
        "test",
        "--set",
        "seeds=1",
        "--json",
    ]);
    assert_eq!(code, 4, "{out}");
    let v: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("a line")).expect("json");
    assert_eq!(v["verdict"], "Inconclusive");
    let t9 = v["measurements"]
        .as_array()
        .expect("measurements")
        .iter()
        .find(|m| m["key"] == "t9.equality")
        .expect("t9.equality");
    assert_eq!(t9["samples"], 0);
    assert_eq!(t9["outcome"], "Inconclusive");
    assert!(t9["passed"].is_null());
}

#[test]
fn every_measurement_in_json_carries_its_contract_and_the_run_ends_with_a_summary() {
    let (code, out, _) = dimple(&["check", "kkt", "--scale", "test", "--json"]);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let (summary, ran) = lines.split_last().expect("records");
    assert_eq!(summary["status"], "summary");
    assert_eq!(summary["checks"]["passed"], 7);
    assert_eq!(ran.len(), 7);
    for r in ran {
        for m in r["measurements"].as_array().expect("measurements") {
            for field in [
                "key", "kind", "relation", "bound", "measured", "samples", "passed",
            ] {
                assert!(m.get(field).is_some(), "{}: no `{field}` in {m}", r["id"]);
            }
        }
    }
    let (code, out, _) = dimple(&["check", "kkt", "--scale", "test"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("checks: 7 passed, 0 failed, 0 inconclusive"),
        "{out}"
    );
    assert!(
        out.contains("claims: 1 held, 1 not held (kkt.twolayer.trajectory)"),
        "{out}"
    );
}

#[test]
fn certify_prints_the_certificate_of_a_kkt_point() {
    let (model, x, y) = fixture("certify_ok");
    let (code, out, err) = dimple(&[
        "certify",
        "--model",
        s(&model),
        "--data",
        s(&x),
        "--labels",
        s(&y),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(v["eps_rel"].as_f64().expect("eps") < 1e-9);
    assert_eq!(v["homogeneity"], 1);
    let (code, out, _) = dimple(&[
        "certify",
        "--model",
        s(&model),
        "--data",
        s(&x),
        "--labels",
        s(&y),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("ε (stationarity)"));
}

#[test]
fn certify_routes_agree_and_bad_route_options_exit_2() {
    let (model, x, y) = fixture("certify_routes");
    let base = [
        "certify",
        "--model",
        s(&model),
        "--data",
        s(&x),
        "--labels",
        s(&y),
        "--json",
    ];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        dimple(&args)
    };
    let (code, out, err) = run(&["--route", "dense"]);
    assert_eq!(code, 0, "{err}");
    let dense: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(dense["route"], "dense");
    let (code, out, err) = run(&["--route", "matrix-free", "--max-iters", "2000"]);
    assert_eq!(code, 0, "{err}");
    let mf: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(mf["route"], "matrix-free");
    // The exact ε* lies in the matrix-free bracket (an exact KKT point: both ≈ 0 relative).
    let eps = dense["eps"].as_f64().expect("eps");
    let (lo, up) = (
        mf["eps_lower"].as_f64().expect("lower"),
        mf["eps"].as_f64().expect("upper"),
    );
    assert!(lo <= eps + 1e-9 && eps <= up + 1e-9, "{lo} ≤ {eps} ≤ {up}");
    // At ε* = 0 no relative gap closes (the lower bound is 0): the run says so.
    assert!(!mf["converged"].as_bool().expect("converged"));
    assert!(mf["eps_rel"].as_f64().expect("eps_rel") < 1e-3);
    // Out-of-range options, the budget and an impossible combination: exit 2, named.
    for (extra, fragment) in [
        (&["--route", "matrix-free", "--gap", "0"][..], "--gap"),
        (&["--route", "matrix-free", "--gap", "-1"][..], "--gap"),
        (
            &["--route", "matrix-free", "--max-iters", "0"][..],
            "--max-iters",
        ),
        (
            &["--route", "matrix-free", "--max-iters", "-5"][..],
            "--max-iters",
        ),
        (&["--max-memory", "-1"][..], "--max-memory"),
        (
            &["--route", "dense", "--max-memory", "1e-9"][..],
            "memory budget",
        ),
        (
            &["--route", "matrix-free", "--box-delta", "0.1"][..],
            "dense route",
        ),
        (&["--box-delta", "-1"][..], "box_delta"),
    ] {
        let (code, _, err) = run(extra);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(fragment), "{extra:?}: {err}");
    }
    // auto falls back to matrix-free when the dense estimate does not fit.
    let (code, out, err) = run(&["--max-memory", "0.0000001"]);
    assert_eq!(
        code, 2,
        "even the matrix-free route needs its vectors: {out} {err}"
    );
    assert!(err.contains("matrix-free certificate"), "{err}");
}

#[test]
fn malformed_files_are_clear_errors() {
    let (model, x, y) = fixture("certify_bad");
    let d = dir("certify_bad");
    let cases: Vec<(&str, PathBuf, PathBuf, PathBuf, &str)> = {
        let garbage = d.join("garbage.npy");
        std::fs::write(&garbage, b"definitely not numpy").expect("write");
        let truncated = d.join("truncated.npy");
        let bytes = std::fs::read(&x).expect("read");
        std::fs::write(&truncated, &bytes[..bytes.len() - 3]).expect("write");
        let bad_model = d.join("truncated.safetensors");
        let mb = std::fs::read(&model).expect("read");
        std::fs::write(&bad_model, &mb[..mb.len() / 2]).expect("write");
        let nan_csv = d.join("nan.csv");
        std::fs::write(&nan_csv, "1,2,3\n4,NaN,6\n").expect("write");
        let narrow = d.join("narrow.csv");
        std::fs::write(&narrow, "1,2\n3,4\n").expect("write");
        let bad_labels = d.join("labels.csv");
        std::fs::write(
            &bad_labels,
            (0..8)
                .map(|i| if i == 3 { "2\n" } else { "1\n" })
                .collect::<String>(),
        )
        .expect("write");
        let short_labels = d.join("short.csv");
        std::fs::write(&short_labels, "1\n-1\n").expect("write");
        let ragged = d.join("ragged.csv");
        std::fs::write(&ragged, "1,2,3\n4,5\n").expect("write");
        vec![
            (
                "garbage npy",
                model.clone(),
                garbage,
                y.clone(),
                "malformed file",
            ),
            (
                "truncated npy",
                model.clone(),
                truncated,
                y.clone(),
                "payload",
            ),
            (
                "truncated model",
                bad_model,
                x.clone(),
                y.clone(),
                "not a safetensors file",
            ),
            (
                "NaN in data",
                model.clone(),
                nan_csv,
                y.clone(),
                "not finite",
            ),
            (
                "wrong width",
                model.clone(),
                narrow,
                y.clone(),
                "shape mismatch",
            ),
            (
                "label 2",
                model.clone(),
                x.clone(),
                bad_labels,
                "must be −1 or +1",
            ),
            (
                "too few labels",
                model.clone(),
                x.clone(),
                short_labels,
                "labels",
            ),
            ("ragged csv", model.clone(), ragged, y.clone(), "fields"),
            (
                "missing file",
                model.clone(),
                d.join("nope.npy"),
                y.clone(),
                "cannot access",
            ),
        ]
    };
    for (what, m, data, labels, needle) in cases {
        let (code, _, err) = dimple(&[
            "certify",
            "--model",
            s(&m),
            "--data",
            s(&data),
            "--labels",
            s(&labels),
        ]);
        assert_eq!(code, 2, "{what}: exit code, stderr: {err}");
        assert!(
            err.contains(needle),
            "{what}: expected `{needle}` in: {err}"
        );
        assert!(!err.contains("panicked"), "{what} panicked: {err}");
    }
}

#[test]
fn a_model_that_misclassifies_is_outside_the_assumptions() {
    let (_, x, y) = fixture("certify_neg");
    let d = dir("certify_neg");
    let w = nalgebra::DVector::from_fn(400, |i, _| if i % 2 == 0 { 1.0 } else { -1.0 });
    let model = d.join("random.safetensors");
    io::save(&model, &io::linear_bytes(&Linear::new(w)).expect("bytes")).expect("save");
    let (code, _, err) = dimple(&[
        "certify",
        "--model",
        s(&model),
        "--data",
        s(&x),
        "--labels",
        s(&y),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("positive margins"), "{err}");
}

#[test]
fn unlearn_refuses_bad_forget_sets() {
    for (forget, needle) in [
        ("1,1", "listed twice"),
        ("9", "out of range"),
        ("0,1,2,3,4,5", "cannot forget all"),
    ] {
        let (code, _, err) = dimple(&["unlearn", "--forget", forget, "--set", "steps=50"]);
        assert_eq!(code, 2, "{forget}: {err}");
        assert!(err.contains(needle), "{forget}: {err}");
    }
    let (code, _, err) = dimple(&["unlearn", "--set", "m=7"]);
    assert_eq!(code, 2);
    assert!(err.contains("even width"), "{err}");
}

#[test]
fn unlearn_a_user_model_and_write_the_result() {
    let (model, x, y) = fixture("unlearn_user");
    let out = dir("unlearn_user").join("unlearned.safetensors");
    let svg = dir("unlearn_user").join("sweep.svg");
    let (code, stdout, err) = dimple(&[
        "unlearn",
        "--model",
        s(&model),
        "--data",
        s(&x),
        "--labels",
        s(&y),
        "--forget",
        "2,5",
        "--out",
        s(&out),
        "--sweep",
        s(&svg),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    // The linear SVM unlearned by the theorem's step: ε = 0 with the certificate multipliers.
    assert!(
        v["report"]["with_certificate"]["eps_rel"]
            .as_f64()
            .expect("eps")
            < 1e-10
    );
    assert_eq!(v["retraining"]["baseline"], "hard-margin SVM of S_r");
    assert!(
        v["retraining"]["cos_unlearned_retrained"]
            .as_f64()
            .expect("cos")
            > v["retraining"]["cos_original_retrained"]
                .as_f64()
                .expect("cos")
    );
    assert_eq!(v["sweep"].as_array().expect("sweep").len(), 41);
    assert!(matches!(
        io::load(&out).expect("written model"),
        io::Loaded::Binary(_)
    ));
    assert!(std::fs::read_to_string(&svg)
        .expect("svg")
        .starts_with("<svg"));
}

#[test]
fn sweep_shards_merge_into_the_full_grid() {
    let d = dir("sweep");
    let (a, b, svg) = (d.join("a.jsonl"), d.join("b.jsonl"), d.join("k.svg"));
    let common = [
        "sweep",
        "dimpled.baseline.beta",
        "--scale",
        "test",
        "--grid",
        "k=2,5,8",
        "--json",
    ];
    let (code, out, _) = dimple(
        &[
            &common[..],
            &["--shard", "1/2", "--out", a.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2, "points 0 and 2 in shard 1/2");
    let (code, _, _) = dimple(
        &[
            &common[..],
            &["--shard", "2/2", "--out", b.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(code, 0);
    let (code, out, err) = dimple(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
        "--measure",
        "mean ρ²",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("[0] k = 2") && out.contains("[1] k = 5") && out.contains("[2] k = 8"));
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    // A missing shard is reported, not hidden.
    let (code, _, err) = dimple(&["merge", a.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        err.contains("1 of 3 grid point(s) missing") && err.ends_with(": 1\n"),
        "{err}"
    );
    // A shard killed at its time limit keeps the records it finished (one per line, written as
    // each point ends): its first line alone still merges, with the rest reported missing.
    let first = std::fs::read_to_string(&b).unwrap();
    let partial = d.join("partial.jsonl");
    std::fs::write(&partial, first.lines().next().unwrap().to_string() + "\n").unwrap();
    let (code, _, err) = dimple(&["merge", a.to_str().unwrap(), partial.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("missing"), "{err}");
    // The same sweep run whole gives the same records as the shards.
    let (_, whole, _) = dimple(&common);
    let (_, merged, _) = dimple(&["merge", "--json", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(whole, merged);
}

#[test]
fn bad_sweeps_are_refused_with_exit_code_2() {
    for args in [
        vec!["sweep", "dimpled.baseline.beta", "--grid", "k=2,x"],
        vec!["sweep", "dimpled.baseline.beta", "--grid", "k=0,2"],
        vec!["sweep", "dimpled.baseline.beta", "--grid", "nope=1"],
        vec!["sweep", "dimpled", "--grid", "k=2"],
        vec![
            "sweep",
            "dimpled.baseline.beta",
            "--grid",
            "k=2",
            "--shard",
            "3/2",
        ],
    ] {
        let (code, _, err) = dimple(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.starts_with("error:"), "{args:?}: {err}");
    }
    let d = dir("bad_merge");
    let f = d.join("x.jsonl");
    std::fs::write(&f, "{not json}\n").unwrap();
    let (code, _, err) = dimple(&["merge", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn train_then_attack_with_every_method() {
    let d = dir("attack");
    let model = d.join("digits.safetensors");
    let adv = d.join("adv.npy");
    let (code, out, err) = dimple(&[
        "train",
        "--data",
        "digits",
        "--hidden",
        "16",
        "--steps",
        "100",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("test accuracy"));
    for method in ["malt", "apgd-t", "autoattack"] {
        let (code, out, err) = dimple(&[
            "attack",
            "--model",
            model.to_str().unwrap(),
            "--data",
            "digits",
            "--norm",
            "linf",
            "--eps",
            "0.1",
            "--method",
            method,
            "--n",
            "10",
            "--iters",
            "10",
            "--json",
            "--adv-out",
            adv.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{method}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON record");
        let (clean, robust) = (
            v["clean_accuracy"].as_f64().unwrap(),
            v["robust_accuracy"].as_f64().unwrap(),
        );
        assert!(robust <= clean, "{method}");
        assert!(v["cost"]["gradients"].as_u64().unwrap() > 0);
    }
    let a = npy::read(&adv).expect("adversarial examples");
    assert_eq!(a.shape, vec![10, 64]);
}

#[test]
fn bad_attacks_are_refused_with_exit_code_2() {
    let d = dir("bad_attack");
    let model = d.join("m.safetensors");
    let (code, _, _) = dimple(&[
        "train",
        "--data",
        "digits",
        "--hidden",
        "8",
        "--steps",
        "5",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let m = model.to_str().unwrap();
    let labels = d.join("y.npy");
    npy::write(&labels, &[2], &[0.0, 12.0]).unwrap();
    let data = d.join("x.npy");
    npy::write(&data, &[2, 64], &vec![0.5; 128]).unwrap();
    let wrong = d.join("x3.npy");
    npy::write(&wrong, &[2, 3], &[0.5; 6]).unwrap();
    for (args, needle) in [
        (
            vec![
                "attack", "--model", m, "--data", "digits", "--norm", "linf", "--eps", "-1",
            ],
            "ε must be positive",
        ),
        (
            vec![
                "attack", "--model", m, "--data", "digits", "--norm", "linf", "--eps", "0",
            ],
            "ε must be positive",
        ),
        (
            vec![
                "attack",
                "--model",
                m,
                "--data",
                data.to_str().unwrap(),
                "--labels",
                labels.to_str().unwrap(),
                "--norm",
                "l2",
                "--eps",
                "0.5",
            ],
            "out of range",
        ),
        (
            vec![
                "attack",
                "--model",
                m,
                "--data",
                wrong.to_str().unwrap(),
                "--labels",
                labels.to_str().unwrap(),
                "--norm",
                "l2",
                "--eps",
                "0.5",
            ],
            "features",
        ),
        (
            vec![
                "attack",
                "--model",
                m,
                "--data",
                data.to_str().unwrap(),
                "--norm",
                "l2",
                "--eps",
                "0.5",
            ],
            "--labels",
        ),
        (
            vec![
                "attack", "--model", m, "--data", "digits", "--norm", "l2", "--eps", "0.5", "--k",
                "20",
            ],
            "K − 1",
        ),
    ] {
        let (code, _, err) = dimple(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn explain_names_patches_and_refuses_bad_input() {
    let d = dir("explain");
    let mut paths = Vec::new();
    for s in 0..4 {
        let p = d.join(format!("m{s}.safetensors"));
        let (code, _, err) = dimple(&[
            "train",
            "--data",
            "digits",
            "--hidden",
            "16",
            "--steps",
            "150",
            "--seed",
            &s.to_string(),
            "--out",
            p.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        paths.push(p.to_str().unwrap().to_string());
    }
    let sur = paths[1..].join(",");
    let map = d.join("map.svg");
    // The first test image every model classifies correctly.
    let mut found = false;
    for i in 0..20 {
        let (code, out, _) = dimple(&[
            "explain",
            "--model",
            &paths[0],
            "--surrogates",
            &sur,
            "--data",
            "digits",
            "--index",
            &i.to_string(),
            "--patch",
            "2",
            "--top",
            "3",
            "--json",
            "--map",
            map.to_str().unwrap(),
        ]);
        if code == 0 {
            let v: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
            assert_eq!(v["top"].as_array().unwrap().len(), 3);
            assert!(std::fs::read_to_string(&map).unwrap().starts_with("<svg"));
            found = true;
            break;
        }
    }
    assert!(found, "no test image passed the preconditions");
    let (code, out, _) = dimple(&[
        "explain",
        "--model",
        &paths[0],
        "--surrogates",
        &sur,
        "--data",
        "digits",
        "--images",
        "20",
        "--patch",
        "4",
        "--top",
        "2",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("precision@2"));
    let self_sur = format!("{},{}", paths[0], sur);
    for (args, needle) in [
        (
            vec![
                "explain",
                "--model",
                &paths[0],
                "--surrogates",
                &self_sur,
                "--data",
                "digits",
                "--patch",
                "2",
                "--images",
                "2",
            ],
            "",
        ),
        (
            vec![
                "explain",
                "--model",
                &paths[0],
                "--surrogates",
                &paths[1],
                "--data",
                "digits",
                "--patch",
                "2",
                "--images",
                "2",
            ],
            "",
        ),
        (
            vec![
                "explain",
                "--model",
                &paths[0],
                "--surrogates",
                &sur,
                "--data",
                "digits",
                "--patch",
                "3",
            ],
            "patch side",
        ),
        (
            vec![
                "explain",
                "--model",
                &paths[0],
                "--surrogates",
                &sur,
                "--data",
                "digits",
                "--patch",
                "2",
                "--index",
                "100000",
            ],
            "out of range",
        ),
    ] {
        let (code, _, err) = dimple(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn seeds_over_a_family_apply_where_there_are_seeds_and_name_the_rest() {
    let (code, _, err) = dimple(&["check", "malt", "--scale", "test", "--seeds", "2"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("--seeds 2 applies to 0 of 8 checks") && err.contains("malt.dlr.variants"),
        "{err}"
    );
    // One check without seeds: still refused by name.
    let (code, _, err) = dimple(&[
        "check",
        "malt.dlr.variants",
        "--scale",
        "test",
        "--seeds",
        "2",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("has no parameter `seeds`"), "{err}");
}

#[test]
fn attack_writes_the_attacked_points_and_their_labels() {
    let d = dir("points_out");
    let model =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/digits-mlp-16.safetensors");
    let pts = d.join("pts.npy");
    let (code, out, err) = dimple(&[
        "attack",
        "--model",
        s(&model),
        "--data",
        "digits",
        "--norm",
        "linf",
        "--eps",
        "0.05",
        "--n",
        "7",
        "--points-out",
        s(&pts),
    ]);
    assert_eq!(code, 0, "{err}");
    // Accuracies as percentages, as AutoAttack prints them.
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("clean accuracy: ") && l.ends_with('%')),
        "{out}"
    );
    assert!(out.contains("sanity: max ‖δ‖"), "{out}");
    let x = npy::read(&pts).expect("points");
    assert_eq!(x.shape, vec![7, 64]);
    let y = npy::read(&d.join("pts.labels.npy")).expect("labels");
    assert_eq!(y.shape, vec![7]);
    assert!(y
        .data
        .iter()
        .all(|v| v.fract() == 0.0 && (0.0..10.0).contains(v)));
    // The same points from the file give the same report.
    let (code, again, err) = dimple(&[
        "attack",
        "--model",
        s(&model),
        "--data",
        s(&pts),
        "--labels",
        s(&d.join("pts.labels.npy")),
        "--norm",
        "linf",
        "--eps",
        "0.05",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, first, _) = dimple(&[
        "attack",
        "--model",
        s(&model),
        "--data",
        "digits",
        "--norm",
        "linf",
        "--eps",
        "0.05",
        "--n",
        "7",
        "--json",
    ]);
    let v1: serde_json::Value = serde_json::from_str(&first).unwrap();
    let v2: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(v1["robust_accuracy"], v2["robust_accuracy"]);
    assert_eq!(v1["stages"][1]["broken"], v2["stages"][1]["broken"]);
    // --attacks belongs to autoattack.
    let (code, _, err) = dimple(&[
        "attack",
        "--model",
        s(&model),
        "--data",
        "digits",
        "--norm",
        "linf",
        "--eps",
        "0.05",
        "--attacks",
        "square",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--attacks chooses the stages of --method autoattack"),
        "{err}"
    );
    let (code, _, err) = dimple(&[
        "attack",
        "--model",
        s(&model),
        "--data",
        "digits",
        "--norm",
        "linf",
        "--eps",
        "0.05",
        "--method",
        "autoattack",
        "--attacks",
        "pgd",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown attack `pgd`"), "{err}");
}
