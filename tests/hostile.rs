//! Hostile input, one row per case: every command ends in a run or in exit 2 with a message
//! that names the problem (argument, file, row, column), within seconds — never a panic, an
//! allocation abort, a hang or a silent default. Each row runs the binary under a wall-clock
//! limit; the cases are those of the hostile-input audit (panics, allocation aborts, hangs,
//! garbage accepted, misleading messages).

use dimple::data::npy;
use dimple::model::{io, Activation, OutputLayer, TwoLayer};
use nalgebra::DVector;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every row must finish within this (the slowest legitimate refusal reads 512 MiB of gzip).
const LIMIT: Duration = Duration::from_secs(20);

fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile")
        .join(name);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

/// Runs the binary with a time limit; returns (exit code, stderr).
fn run(args: &[String]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dimple"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut err)
                .expect("stderr is text");
            // A signal (abort, segfault) has no code: −1 fails every row.
            return (status.code().unwrap_or(-1), err);
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("{args:?} still running after {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

struct Fixtures {
    mlp: String,
    mlp2: String,
    gap_mlp: String,
    two_layer_6: String,
    two_layer_4: String,
    x: String,
    y: String,
    x0: String,
    y0: String,
    nan: String,
    bom: String,
    typo: String,
    bomb: String,
    empty: String,
    shard: String,
    dir: PathBuf,
}

fn s(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

fn fixtures(name: &str) -> Fixtures {
    let d = dir(name);
    let mlp = d.join("mlp.safetensors");
    let (code, err) = run(&[
        "train".into(),
        "--data".into(),
        "digits".into(),
        "--hidden".into(),
        "8".into(),
        "--steps".into(),
        "5".into(),
        "--out".into(),
        s(&mlp),
    ]);
    assert_eq!(code, 0, "{err}");
    let mlp2 = d.join("mlp2.safetensors");
    let (code, err) = run(&[
        "train".into(),
        "--data".into(),
        "digits".into(),
        "--hidden".into(),
        "8".into(),
        "--steps".into(),
        "5".into(),
        "--seed".into(),
        "1".into(),
        "--out".into(),
        s(&mlp2),
    ]);
    assert_eq!(code, 0, "{err}");
    // A two-layer net labelling its own data (so it separates it), and a narrower one.
    let (n, dim) = (20, 5);
    let mut r = dimple::rng::seeded(3, 0);
    let x = dimple::rng::gaussian_matrix(&mut r, n, dim, 1.0);
    let net = |m: usize, r: &mut dimple::rng::Rng| {
        let v = DVector::from_fn(m, |j, _| if j % 2 == 0 { 1.0 } else { -1.0 });
        let theta = dimple::rng::gaussian_vector(r, m * dim, 1.0);
        TwoLayer::new(
            dim,
            m,
            Activation::Relu,
            false,
            OutputLayer::Fixed(v),
            theta,
        )
        .expect("net")
    };
    let n6 = net(6, &mut r);
    let n4 = net(4, &mut r);
    use dimple::model::Model;
    let y: Vec<f64> = n6
        .forward(&x)
        .iter()
        .map(|v| if *v >= 0.0 { 1.0 } else { -1.0 })
        .collect();
    let two_layer_6 = d.join("m6.safetensors");
    io::save(&two_layer_6, &io::model_bytes(&n6).expect("bytes")).expect("save");
    let two_layer_4 = d.join("m4.safetensors");
    io::save(&two_layer_4, &io::model_bytes(&n4).expect("bytes")).expect("save");
    let xp = d.join("x.npy");
    dimple::data::load::save_matrix(&xp, &x).expect("x");
    let yp = d.join("y.npy");
    npy::write(&yp, &[n], &y).expect("y");
    let x0 = d.join("x0.npy");
    npy::write(&x0, &[0, 64], &[]).expect("x0");
    let y0 = d.join("y0.npy");
    npy::write(&y0, &[0], &[]).expect("y0");
    let mut xn = x.clone();
    xn[(3, 2)] = f64::NAN;
    let nan = d.join("nan.npy");
    dimple::data::load::save_matrix(&nan, &xn).expect("nan");
    // An MLP with layers 0 and 2 but no layer 1.
    let gap_mlp = d.join("gap.safetensors");
    let mut r2 = dimple::rng::seeded(4, 0);
    let w0 = dimple::rng::gaussian_vector(&mut r2, 32 * 64, 1.0);
    let w2 = dimple::rng::gaussian_vector(&mut r2, 10 * 32, 1.0);
    let bytes = io::tensors_bytes((
        vec![
            (
                "layers.0.weight".into(),
                vec![32, 64],
                w0.as_slice().to_vec(),
            ),
            ("layers.0.bias".into(), vec![32], vec![0.0; 32]),
            (
                "layers.2.weight".into(),
                vec![10, 32],
                w2.as_slice().to_vec(),
            ),
            ("layers.2.bias".into(), vec![10], vec![0.0; 10]),
        ],
        std::collections::HashMap::from([("dimple.kind".to_string(), "mlp".to_string())]),
    ))
    .expect("bytes");
    io::save(&gap_mlp, &bytes).expect("save");
    // The data as CSV behind a byte-order mark.
    let bom = d.join("bom.csv");
    let rows: String = (0..n)
        .map(|i| {
            let r: Vec<String> = (0..dim).map(|j| format!("{:?}", x[(i, j)])).collect();
            r.join(",") + "\n"
        })
        .collect();
    std::fs::write(&bom, format!("\u{feff}{rows}")).expect("bom");
    let typo = d.join("typo.csv");
    std::fs::write(
        &typo,
        "1,2x,3,4,5\n".to_string() + &"1,2,3,4,5\n".repeat(19),
    )
    .expect("typo");
    // 2 MB of gzip that inflates to 2 GiB.
    let bomb = d.join("bomb.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&bomb).expect("bomb"),
        flate2::Compression::best(),
    );
    let chunk = "0,".repeat(1 << 19);
    for _ in 0..2048 {
        enc.write_all(chunk.as_bytes()).expect("gzip");
    }
    enc.finish().expect("gzip");
    let empty = d.join("empty.jsonl");
    std::fs::write(&empty, "").expect("empty");
    let shard = d.join("shard1.jsonl");
    let (code, err) = run(&[
        "sweep".into(),
        "kkt.euler".into(),
        "--scale".into(),
        "test".into(),
        "--grid".into(),
        "seeds=2,3".into(),
        "--shard".into(),
        "1/2".into(),
        "--out".into(),
        s(&shard),
    ]);
    assert_eq!(code, 0, "{err}");
    Fixtures {
        mlp: s(&mlp),
        mlp2: s(&mlp2),
        gap_mlp: s(&gap_mlp),
        two_layer_6: s(&two_layer_6),
        two_layer_4: s(&two_layer_4),
        x: s(&xp),
        y: s(&yp),
        x0: s(&x0),
        y0: s(&y0),
        nan: s(&nan),
        bom: s(&bom),
        typo: s(&typo),
        bomb: s(&bomb),
        empty: s(&empty),
        shard: s(&shard),
        dir: d,
    }
}

/// A shard record with `edit` applied, written to its own file.
fn tampered(f: &Fixtures, name: &str, edit: impl Fn(&mut Value)) -> String {
    let text = std::fs::read_to_string(&f.shard).expect("shard");
    let mut v: Value = serde_json::from_str(text.lines().next().expect("a record")).expect("json");
    edit(&mut v);
    let p = f.dir.join(name);
    std::fs::write(&p, format!("{v}\n")).expect("write");
    s(&p)
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| a.to_string()).collect()
}

#[test]
fn every_hostile_case_ends_in_exit_2_with_a_message_that_names_it() {
    let f = fixtures("table");
    let grid_1000 = format!(
        "seeds={}",
        (1..=1000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let grid_1000_n = format!(
        "n={}",
        (1..=1000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let axis = |name: &str| {
        format!(
            "{name}={}",
            (1..=256)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let mut overflow = args(&["sweep", "kkt.euler", "--scale", "test"]);
    for name in ["n", "d", "m", "seeds", "kink", "fd_step", "a", "b"] {
        overflow.push("--grid".into());
        overflow.push(axis(name));
    }
    let other_grid = tampered(&f, "other_grid.jsonl", |v| {
        v["sweep"]["axes"] = serde_json::json!([["seeds", [2.0, 4.0]]]);
    });
    let huge_total = tampered(&f, "huge_total.jsonl", |v| {
        v["total"] = serde_json::json!(u64::MAX);
        v["sweep"]["total"] = serde_json::json!(u64::MAX);
    });
    let total_1e8 = tampered(&f, "total_1e8.jsonl", |v| {
        v["total"] = serde_json::json!(100_000_000u64);
    });
    let point_7 = tampered(&f, "point7.jsonl", |v| v["point"] = serde_json::json!(7));
    let wrong_values = tampered(&f, "wrong_values.jsonl", |v| {
        v["grid"]["seeds"] = serde_json::json!(3.0);
    });
    let extreme = tampered(&f, "extreme.jsonl", |v| {
        v["evidence"]["measurements"][0]["measured"] = serde_json::json!(1.7e308);
        v["evidence"]["measurements"][0]["bound"] = serde_json::json!(-1.7e308);
    });
    let plot = s(&f.dir.join("p.svg"));
    let out = s(&f.dir.join("o.safetensors"));
    let missing_dir = s(&f.dir.join("no/such/dir/o.safetensors"));
    let (mlp, m6, m4, x, y) = (&f.mlp, &f.two_layer_6, &f.two_layer_4, &f.x, &f.y);
    let linf = ["--norm", "linf", "--eps", "0.1"];
    let attack = |extra: &[&str]| {
        let mut a = args(&["attack", "--model", mlp, "--data", "digits"]);
        a.extend(args(&linf));
        a.extend(args(extra));
        a
    };
    let rows: Vec<(&str, Vec<String>, &str)> = vec![
        // Panics.
        (
            "init of another shape",
            args(&[
                "unlearn", "--model", m6, "--data", x, "--labels", y, "--forget", "1", "--init", m4,
            ]),
            "the initialisation (two-layer(m = 4",
        ),
        (
            "hidden width that wraps the parameter count",
            args(&[
                "train",
                "--data",
                "digits",
                "--hidden",
                "4611686018427387904",
                "--out",
                &out,
            ]),
            "hidden widths (--hidden) must lie in 1..=",
        ),
        (
            "10^4 threads",
            args(&["--threads", "10000", "list"]),
            "threads (--threads) must be at most",
        ),
        (
            "10^5 threads",
            args(&["--threads", "100000", "list"]),
            "threads (--threads) must be at most",
        ),
        // Allocation aborts.
        (
            "euler n = 1e12",
            args(&["check", "kkt.euler", "--set", "n=1e12"]),
            "n = 1000000000000 is above its cap",
        ),
        (
            "euler d = 1e12",
            args(&["check", "kkt.euler", "--set", "d=1e12"]),
            "d = 1000000000000 is above its cap",
        ),
        (
            "linear kkt d = 1e12",
            args(&["check", "unlearn.linear.kkt", "--set", "d=1e12"]),
            "above its cap",
        ),
        (
            "trajectory n = 1e12",
            args(&["check", "kkt.twolayer.trajectory", "--set", "n=1e12"]),
            "n = 1000000000000 is above its cap",
        ),
        (
            "directions = 1e12",
            args(&["check", "dimpled.baseline.beta", "--set", "directions=1e12"]),
            "directions = 1000000000000 is above its cap",
        ),
        (
            "all sizes near their caps at once",
            args(&[
                "check",
                "kkt.euler",
                "--set",
                "n=2000",
                "--set",
                "d=5000",
                "--set",
                "m=32",
            ]),
            "above the cap of 1e4",
        ),
        (
            "memory above --max-memory",
            args(&[
                "check",
                "kkt.euler",
                "--set",
                "n=1000",
                "--set",
                "m=8",
                "--max-memory",
                "0.001",
            ]),
            "above the memory budget",
        ),
        (
            "unlearn n = 1e12",
            args(&["unlearn", "--set", "n=1e12"]),
            "--set n = 1000000000000 must be an integer in 0..=",
        ),
        (
            "unlearn d = 1e9",
            args(&["unlearn", "--set", "d=1e9"]),
            "above the memory budget",
        ),
        (
            "attack iters 1e9",
            attack(&["--iters", "1000000000", "--n", "5"]),
            "iters (--iters) must lie in 1..=1000000",
        ),
        (
            "train hidden 1e8",
            args(&[
                "train",
                "--data",
                "digits",
                "--hidden",
                "100000000",
                "--out",
                &out,
            ]),
            "hidden widths (--hidden) must lie in 1..=",
        ),
        (
            "gzip bomb",
            args(&["certify", "--model", m6, "--data", &f.bomb, "--labels", y]),
            "after decompression",
        ),
        (
            "merge total 2^64 − 1",
            args(&["merge", &huge_total]),
            "lacks a valid `sweep` identity",
        ),
        // Hangs.
        (
            "seeds 1e8",
            args(&["check", "kkt.euler", "--seeds", "100000000"]),
            "seeds (--seeds) must lie in 1..=100000",
        ),
        (
            "solver steps 1e12",
            args(&["check", "kkt.multipliers.solvers", "--set", "steps=1e12"]),
            "steps = 1000000000000 is above its cap",
        ),
        (
            "dlr cases 1e12",
            args(&["check", "malt.dlr.variants", "--set", "cases=1e12"]),
            "cases = 1000000000000 is above its cap",
        ),
        (
            "unlearn steps 1e15",
            args(&["unlearn", "--set", "steps=1e15"]),
            "--set steps = 1000000000000000 must be an integer",
        ),
        (
            "train steps 1e12",
            args(&[
                "train",
                "--data",
                "digits",
                "--steps",
                "1000000000000",
                "--out",
                &out,
            ]),
            "steps (--steps) must lie in 1..=10000000",
        ),
        (
            "train work above the cap",
            args(&[
                "train", "--data", "mnist5k", "--hidden", "100000", "--steps", "1000000", "--out",
                &out,
            ]),
            "floating-point operations, above the cap",
        ),
        (
            "10^6-point sweep",
            args(&[
                "sweep",
                "kkt.euler",
                "--scale",
                "test",
                "--grid",
                &grid_1000,
                "--grid",
                &grid_1000_n,
            ]),
            "more than 100000 points",
        ),
        (
            "merge total 1e8",
            args(&["merge", &total_1e8]),
            "total 100000000 is not the grid's 2 points",
        ),
        (
            "merge --plot of ±1.7e308",
            args(&["merge", &extreme, "--plot", &plot]),
            "too wide to plot",
        ),
        (
            "/dev/zero as data",
            args(&[
                "certify",
                "--model",
                m6,
                "--data",
                "/dev/zero",
                "--labels",
                y,
            ]),
            "/dev/zero: not a regular file",
        ),
        (
            "/dev/zero as model",
            args(&[
                "certify",
                "--model",
                "/dev/zero",
                "--data",
                x,
                "--labels",
                y,
            ]),
            "/dev/zero: not a regular file",
        ),
        (
            "/dev/zero to merge",
            args(&["merge", "/dev/zero"]),
            "/dev/zero: not a regular file",
        ),
        // Exit 0 on garbage, silently wrong results.
        (
            "merge of shards of different grids",
            args(&["merge", &f.shard, &other_grid]),
            "different sweep",
        ),
        (
            "a grid product of 2^64",
            overflow,
            "more than 100000 points",
        ),
        (
            "an unknown name in another shard's points",
            args(&[
                "sweep",
                "kkt.euler",
                "--scale",
                "test",
                "--grid",
                "foo=1",
                "--shard",
                "2/2",
            ]),
            "has no parameter `foo`",
        ),
        (
            "a name both swept and set",
            args(&[
                "sweep",
                "kkt.euler",
                "--scale",
                "test",
                "--grid",
                "n=3,4",
                "--set",
                "n=5",
            ]),
            "both swept (--grid) and fixed (--set)",
        ),
        (
            "a typo in the first CSV row",
            args(&["certify", "--model", m6, "--data", &f.typo, "--labels", y]),
            "typo.csv: line 1: field 2 is not a number",
        ),
        (
            "an MLP without layers.1",
            args(&[
                "attack", "--model", &f.gap_mlp, "--data", "digits", "--norm", "linf", "--eps",
                "0.1", "--n", "5",
            ]),
            "follows a missing `layers.1.weight`",
        ),
        (
            "duplicate surrogates",
            args(&[
                "explain",
                "--model",
                mlp,
                "--surrogates",
                &format!("{0},{0},{0}", f.mlp2),
                "--data",
                "digits",
                "--top",
                "2",
            ]),
            "repeats another surrogate's parameters",
        ),
        (
            "unlearn --data without --model",
            args(&["unlearn", "--data", x, "--labels", y]),
            "--model",
        ),
        (
            "unlearn --init without --model",
            args(&["unlearn", "--init", m4]),
            "--model",
        ),
        (
            "unlearn --set with --model",
            args(&[
                "unlearn", "--model", m6, "--data", x, "--labels", y, "--set", "foo=1",
            ]),
            "cannot be used with",
        ),
        (
            "unlearn unknown --set name",
            args(&["unlearn", "--set", "foo=1"]),
            "unknown parameter `foo`",
        ),
        (
            "attack --k 0 (APGD-T)",
            attack(&["--method", "apgd-t", "--k", "0", "--n", "5"]),
            "must lie in 1..=K − 1",
        ),
        (
            "attack --k 0 (AutoAttack)",
            attack(&["--method", "autoattack", "--k", "0", "--n", "5"]),
            "must lie in 1..=K − 1",
        ),
        (
            "attack --n 0",
            attack(&["--n", "0"]),
            "n (--n) must be at least 1",
        ),
        (
            "attack a 0-row file",
            args(&[
                "attack", "--model", mlp, "--data", &f.x0, "--labels", &f.y0, "--norm", "linf",
                "--eps", "0.1",
            ]),
            "x0.npy: no data: 0 rows",
        ),
        (
            "explain 0 rows",
            args(&[
                "explain",
                "--model",
                mlp,
                "--surrogates",
                &format!("{mlp},{mlp},{mlp}"),
                "--data",
                &f.x0,
                "--labels",
                &f.y0,
                "--images",
                "5",
            ]),
            "x0.npy: no data: 0 rows",
        ),
        (
            "merge of an empty file",
            args(&["merge", &f.empty]),
            "empty.jsonl: no sweep records",
        ),
        (
            "merge of /dev/null",
            args(&["merge", "/dev/null"]),
            "/dev/null: not a regular file",
        ),
        (
            "merge of point 7 of 2",
            args(&["merge", &point_7]),
            "point 7 is not an index of the 2-point grid",
        ),
        (
            "merge of a record whose grid values are not its point's",
            args(&["merge", &wrong_values]),
            "the grid says",
        ),
        // Misleading messages.
        (
            "NaN in .npy",
            args(&["certify", "--model", m6, "--data", &f.nan, "--labels", y]),
            "nan.npy: row 4, column 3 is NaN",
        ),
        (
            "seed 2^64 of a check",
            args(&[
                "check",
                "malt.dlr.variants",
                "--set",
                "seed=18446744073709551616",
            ]),
            "above the largest seed, 2^53",
        ),
        (
            "seed 2^64 of the generated instance",
            args(&["unlearn", "--set", "seed=18446744073709551616"]),
            "--set seed = 18446744073709552000 must be an integer in 0..=9007199254740992",
        ),
        (
            "train on 0 rows",
            args(&["train", "--data", &f.x0, "--labels", &f.y0, "--out", &out]),
            "x0.npy: no data: 0 rows",
        ),
        (
            "trajectory init = 0",
            args(&[
                "check",
                "kkt.twolayer.trajectory",
                "--scale",
                "test",
                "--set",
                "init=0",
            ]),
            "init = 0 must be > 0",
        ),
        (
            "--fraction -1",
            args(&["unlearn", "--fraction", "-1"]),
            "fraction (--fraction) must be a finite number ≥ 0, got -1",
        ),
        (
            "--box-delta -1",
            args(&[
                "certify",
                "--model",
                m6,
                "--data",
                x,
                "--labels",
                y,
                "--box-delta",
                "-1",
            ]),
            "box_delta (--box-delta) must be a finite number ≥ 0, got -1",
        ),
        (
            "--seeds -1",
            args(&["check", "kkt.euler", "--seeds", "-1"]),
            "seeds (--seeds) must lie in 1..=100000, got -1",
        ),
        // Output paths are checked before any work.
        (
            "train --out into a missing directory",
            args(&["train", "--data", "digits", "--out", &missing_dir]),
            "does not exist",
        ),
        (
            "sweep --out into a missing directory",
            args(&[
                "sweep",
                "kkt.euler",
                "--scale",
                "test",
                "--grid",
                "n=3",
                "--out",
                &missing_dir,
            ]),
            "does not exist",
        ),
        (
            "attack --adv-out into a missing directory",
            attack(&["--n", "5", "--adv-out", &missing_dir]),
            "does not exist",
        ),
        (
            "unlearn --out is a directory",
            args(&["unlearn", "--out", &s(&f.dir)]),
            "is a directory",
        ),
    ];
    let mut failures = Vec::new();
    for (what, argv, needle) in &rows {
        let start = Instant::now();
        let (code, err) = run(argv);
        let secs = start.elapsed().as_secs_f64();
        if code != 2 || !err.contains(needle) || err.contains("panicked") {
            failures.push(format!("{what}: exit {code} in {secs:.1} s, stderr: {err}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn a_bom_is_dropped_and_a_step_past_the_data_is_named() {
    let f = fixtures("runs");
    // The CSV behind a byte-order mark has all 20 rows (none taken as a header).
    let (code, err) = run(&args(&[
        "certify",
        "--model",
        &f.two_layer_6,
        "--data",
        &f.bom,
        "--labels",
        &f.y,
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(&args(&[
        "unlearn",
        "--model",
        &f.two_layer_6,
        "--data",
        &f.x,
        "--labels",
        &f.y,
        "--forget",
        "1",
        "--fraction",
        "0.01",
    ]));
    assert_eq!(code, 0, "{err}");
    // This net is not a KKT point, so a large step moves past the retained data: the message
    // says it is the unlearned model, and names the point by its index in the data.
    let (code, err) = run(&args(&[
        "unlearn",
        "--model",
        &f.two_layer_6,
        "--data",
        &f.x,
        "--labels",
        &f.y,
        "--forget",
        "1",
        "--fraction",
        "1",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("after the step (c = 1) the unlearned model misclassifies retained point 16"),
        "{err}"
    );
}
