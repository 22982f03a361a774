//! Scaling of the KKT certificate with the number of points: time and peak memory of the dense
//! route (exact) and the matrix-free route (bracketed) against n, for a linear model
//! (d = 5,000) and a two-layer ReLU net (m = 256, d = 784, p ≈ 2·10⁵), with the exact ε* checked
//! to lie in the matrix-free bracket wherever both run.
//!
//! `cargo bench --bench certify_scaling` runs every size (about five minutes here) and writes
//! docs/figures/certify-scaling.svg (log–log); `DIMPLE_BENCH_QUICK=1` runs the small sizes only.
//! Each measurement runs in a child process (this binary, re-executed), so the peak resident
//! memory (VmHWM) is that run's alone.

use dimple::api::{self, CertifyOutcome, CertifyRequest, Route};
use dimple::data::Binary;
use dimple::model::{
    two_layer::alternating_signs, Activation, Linear, Model, OutputLayer, TwoLayer,
};
use dimple::report::plot::{line_plot, Series};
use dimple::rng;
use std::process::Command;
use std::time::Instant;

const CHILD: &str = "DIMPLE_SCALING_CHILD";

fn instance(kind: &str, n: usize) -> (Box<dyn Model>, Binary) {
    let mut r = rng::seeded(n as u64, 0);
    match kind {
        "linear" => {
            let d = 5000;
            let x = rng::gaussian_matrix(&mut r, n, d, 1.0);
            let w = rng::gaussian_vector(&mut r, d, 1.0);
            let y = (&x * &w).map(f64::signum);
            (Box::new(Linear::new(w)), Binary::new(x, y).expect("data"))
        }
        _ => {
            let (d, m) = (784, 256);
            let s = 1.0 / (d as f64).sqrt();
            let x = rng::gaussian_matrix(&mut r, n, d, s);
            let theta = rng::gaussian_vector(&mut r, m * d, s);
            let net = TwoLayer::new(
                d,
                m,
                Activation::Relu,
                false,
                OutputLayer::Fixed(alternating_signs(m)),
                theta,
            )
            .expect("net");
            let y = net.forward(&x).map(f64::signum);
            (Box::new(net), Binary::new(x, y).expect("data"))
        }
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

/// One measurement (in the child): prints `seconds peak_mib eps_lower eps_upper`.
fn child(spec: &str) {
    let parts: Vec<&str> = spec.split(' ').collect();
    let (kind, route, n) = (parts[0], parts[1], parts[2].parse::<usize>().expect("n"));
    let (model, data) = instance(kind, n);
    let req = CertifyRequest {
        route: if route == "dense" {
            Route::Dense
        } else {
            Route::MatrixFree
        },
        budget: dimple::budget::Budget::from_gib(Some(16.0)).expect("budget"),
        ..Default::default()
    };
    let start = Instant::now();
    let out =
        api::certify_with(model.as_ref(), &data, &req, &mut |_, _, _| {}).expect("certificate");
    let secs = start.elapsed().as_secs_f64();
    let (lo, up) = match out {
        CertifyOutcome::Dense(r) => (r.certificate.eps, r.certificate.eps),
        CertifyOutcome::MatrixFree(r) => (r.certificate.eps_lower, r.certificate.eps),
    };
    println!("{secs} {} {lo} {up}", peak_rss_mib());
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
        return;
    }
    let quick = std::env::var_os("DIMPLE_BENCH_QUICK").is_some();
    let sizes: &[usize] = if quick {
        &[500, 1000]
    } else {
        &[500, 1000, 2000, 4000, 8000]
    };
    // The dense linear route stops at n = 4,000 (d = 5,000): above it K is singular and the
    // tall Lawson–Hanson costs ≈ n·p² (minutes); `auto` sends such sizes to matrix-free.
    let upto = |cap: usize| {
        sizes
            .iter()
            .copied()
            .filter(|&n| n <= cap)
            .collect::<Vec<_>>()
    };
    let mut large = sizes.to_vec();
    if !quick {
        large.push(20_000);
    }
    let runs: Vec<(&str, &str, Vec<usize>)> = vec![
        ("linear", "dense", upto(4000)),
        ("linear", "matrix-free", sizes.to_vec()),
        ("two-layer", "dense", upto(8000)),
        ("two-layer", "matrix-free", large),
    ];
    let exe = std::env::current_exe().expect("own path");
    let mut series = Vec::new();
    let mut exact: Vec<(String, usize, f64)> = Vec::new();
    println!("| model | route | n | time (s) | peak RSS (MiB) | ε bracket |");
    println!("|---|---|---|---|---|---|");
    for (kind, route, ns) in runs {
        let mut pts = Vec::new();
        for n in ns {
            let out = Command::new(&exe)
                .env(CHILD, format!("{kind} {route} {n}"))
                .output()
                .expect("child runs");
            let text = String::from_utf8_lossy(&out.stdout);
            let v: Vec<f64> = text
                .split_whitespace()
                .filter_map(|t| t.parse().ok())
                .collect();
            if !out.status.success() || v.len() != 4 {
                println!(
                    "| {kind} | {route} | {n} | failed: {} |",
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                );
                continue;
            }
            let (secs, mib, lo, up) = (v[0], v[1], v[2], v[3]);
            println!("| {kind} | {route} | {n} | {secs:.2} | {mib:.0} | [{lo:.6e}, {up:.6e}] |");
            pts.push(((n as f64).log10(), secs.log10()));
            if route == "dense" {
                exact.push((kind.to_string(), n, up));
            } else if let Some((_, _, e)) = exact.iter().find(|(k, m, _)| k == kind && *m == n) {
                let inside = lo <= e * (1.0 + 1e-9) && *e <= up * (1.0 + 1e-9);
                println!(
                    "|   | agreement | {n} | exact ε* = {e:.6e} {} the bracket | | |",
                    if inside { "inside" } else { "OUTSIDE" }
                );
                assert!(
                    inside,
                    "{kind} n = {n}: exact ε* = {e} outside [{lo}, {up}]"
                );
            }
        }
        series.push(Series {
            label: format!("{kind}, {route}"),
            points: pts,
        });
    }
    if !quick {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/figures/certify-scaling.svg");
        line_plot(
            &path,
            "KKT certificate: time against points (log–log)",
            "log10 n",
            "log10 seconds",
            &series,
        )
        .expect("plot");
        println!("\nwrote {}", path.display());
    }
}
