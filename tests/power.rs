//! Every stat measurement states its power against a named alternative, and the default scale
//! is sized so that it is at least 0.8. This test recomputes each declared power from the
//! theory file's default parameters and the check's share α_i of the level, and requires it to
//! equal the declared value (to 0.005) and to reach 0.8.

use dimple::explain::null_mean_abs_cos;
use dimple::stats::{power, z_one_sided, z_two_sided};
use dimple::theory::{self, Kind, Theory};
use statrs::distribution::{Beta, ChiSquared, ContinuousCDF};

fn param(t: &Theory, name: &str) -> f64 {
    t.params.default[name]
}

fn beta_cdf(a: f64, b: f64) -> impl Fn(f64) -> f64 {
    let law = Beta::new(a, b).expect("valid Beta");
    move |x| law.cdf(x)
}

/// The power of one stat at the default scale against the alternative its theory file names.
fn computed(t: &Theory, key: &str) -> f64 {
    let a = t.alpha_each();
    match (t.id.as_str(), key) {
        ("dimpled.baseline.beta", "ks") => {
            // Alternative: ρ² of a subspace of twice the dimension, Beta(k, (d − 2k)/2).
            let (d, k, n) = (param(t, "d"), param(t, "k"), param(t, "directions"));
            let dsup = power::sup_distance(
                beta_cdf(k / 2.0, (d - k) / 2.0),
                beta_cdf(k, (d - 2.0 * k) / 2.0),
                0.0,
                1.0,
            );
            power::ks_lower_bound(n as usize, dsup, a)
        }
        ("dimpled.baseline.beta", "mean") => {
            // Alternative: E ρ² = 1.05·k/d.
            let (d, k, n) = (param(t, "d"), param(t, "k"), param(t, "directions"));
            let (x, y) = (k / 2.0, (d - k) / 2.0);
            let sd = (x * y / ((x + y).powi(2) * (x + y + 1.0))).sqrt();
            power::z_two_sided(0.05 * k / d / (sd / n.sqrt()), z_two_sided(a))
        }
        ("dimpled.real.pca", "baseline.mean") => {
            // Alternative: E ρ² = 1.2·k/d, at the k = 21 of 64 that 90 % of the variance gives.
            let (d, k, n): (f64, f64, f64) = (64.0, 21.0, param(t, "points"));
            let (x, y) = (k / 2.0, (d - k) / 2.0);
            let sd = (x * y / ((x + y).powi(2) * (x + y + 1.0))).sqrt();
            power::z_two_sided(0.2 * k / d / (sd / n.sqrt()), z_two_sided(a))
        }
        ("explain.baseline.cos", "ks") => {
            // Alternative: cos² of dimension 2D at every D; the smallest p-value is multiplied
            // by the 4 dimensions, so each test runs at α_i/4. The best single test bounds it.
            let n = param(t, "pairs") as usize;
            [16.0f64, 48.0, 64.0, 96.0]
                .iter()
                .map(|&d| {
                    let dsup = power::sup_distance(
                        beta_cdf(0.5, (d - 1.0) / 2.0),
                        beta_cdf(0.5, (2.0 * d - 1.0) / 2.0),
                        0.0,
                        1.0,
                    );
                    power::ks_lower_bound(n, dsup, a / 4.0)
                })
                .fold(0.0, f64::max)
        }
        ("explain.baseline.cos", "mean") => {
            // Alternative: E IP of dimension 80 instead of 64 (a 20 % error in D).
            let g = param(t, "groups");
            let m1 = null_mean_abs_cos(64);
            let sd = ((1.0 / 64.0 - m1 * m1) / 15.0).sqrt();
            let shift = (m1 - null_mean_abs_cos(80)) / (sd / g.sqrt());
            power::z_two_sided(shift, z_two_sided(a))
        }
        ("explain.baseline.cos", "var") => {
            // Alternative: var IP 1.2× the independent-pairs value; SE(var) ≈ var·√(2/G) (IP
            // is a mean of 15 |cos| values, close to normal).
            let g = param(t, "groups");
            power::z_two_sided(0.2 / (2.0 / g).sqrt(), z_two_sided(a))
        }
        ("subspace.c2_chi2", "ks") => {
            // Alternative: Q ~ 1.1·χ²_ℓ (a 10 % mis-normalisation).
            let (ell, n) = (param(t, "d") - param(t, "k"), param(t, "seeds"));
            let law = ChiSquared::new(ell).expect("χ²");
            let dsup = power::sup_distance(|x| law.cdf(x), |x| law.cdf(x / 1.1), 0.0, 3.0 * ell);
            power::ks_lower_bound(n as usize, dsup, a)
        }
        ("subspace.c2_chi2", "mean") => {
            // Alternative: E Q = 1.05·ℓ.
            let (ell, s) = (param(t, "d") - param(t, "k"), param(t, "seeds"));
            power::z_two_sided(0.05 * ell / (2.0 * ell / s).sqrt(), z_two_sided(a))
        }
        ("subspace.c2_chi2", "var") => {
            // Alternative: var Q = 1.5·2ℓ (over-dispersion).
            let (l, s) = (param(t, "d") - param(t, "k"), param(t, "seeds"));
            let se = ((12.0 * l * (l + 4.0) - 4.0 * l * l) / s).sqrt();
            power::z_two_sided(l / se, z_two_sided(a))
        }
        ("subspace.c3_lower_tail", "tail.cp_lower") => {
            // Alternative: P(Q < ℓ/2) = 0.015.
            let (ell, n) = (param(t, "d") - param(t, "k"), param(t, "seeds"));
            power::cp_lower_exceeds(n as usize, 0.015, (-ell / 16.0).exp(), a)
        }
        ("subspace.c3_lower_tail", "tail.binomial") => {
            // Alternative: P(Q < ℓ/2) = 0.01 against the exact χ²_ℓ CDF at ℓ/2.
            let (ell, n) = (param(t, "d") - param(t, "k"), param(t, "seeds"));
            let p0 = ChiSquared::new(ell).expect("χ²").cdf(ell / 2.0);
            power::binomial_rejects(n as usize, p0, 0.01, a)
        }
        ("unlearn.criterion.seeds", "a.frequency") => {
            // Alternative: the event's failure probability is 2p.
            let p = param(t, "p");
            power::cp_lower_exceeds(param(t, "datasets") as usize, 2.0 * p, p, a)
        }
        ("unlearn.criterion.seeds", "b.p_fail") => {
            // Alternative: p_fail = 2p.
            let p = param(t, "p");
            power::cp_lower_exceeds(param(t, "seeds") as usize, 2.0 * p, p, a)
        }
        ("unlearn.gmm.linear", "mc.error") => {
            // Alternative: one (model, seed) empirical error 5 SE off the exact formula, among
            // K = 3·seeds comparisons (Bonferroni).
            let k = 3.0 * param(t, "seeds");
            power::z_two_sided(5.0, z_two_sided(a / k))
        }
        ("unlearn.gmm.twolayer", "acc.drop") | ("unlearn.gmm.twolayer", "acc.vs_retrain") => {
            // Alternative: in one seed the difference exceeds the margin by 4.75 SE.
            power::z_one_sided(4.75, z_one_sided(a / param(t, "seeds")))
        }
        ("unlearn.twolayer.retrain", "cos.improved") => {
            // Alternative: the step improves the cosine with probability ½ (chance).
            power::cp_lower_stays_below(param(t, "seeds") as usize, 0.5, 0.5, a)
        }
        ("malt.linear.optimal", "apgd.success") => {
            // Alternative: targeted APGD at 1.1·d* succeeds in only 90 % of the runs.
            power::cp_lower_stays_below(2 * param(t, "points") as usize, 0.9, 0.9, a)
        }
        (id, key) => panic!("no power computation for the stat `{key}` of {id}"),
    }
}

#[test]
fn every_stat_states_its_power_and_it_reaches_0_8() {
    let mut rows = Vec::new();
    for t in theory::all().expect("theory files") {
        for m in t.measured.iter().filter(|m| m.kind == Kind::Stat) {
            let p = computed(&t, &m.key);
            let declared = m.power.expect("a stat declares its power");
            rows.push(format!(
                "{} `{}`: computed {p:.4}, declared {declared} — {}",
                t.id,
                m.key,
                m.alternative.as_deref().unwrap_or("?")
            ));
            assert!(
                std::env::var("POWER_TABLE").is_ok() || (p - declared).abs() <= 0.005,
                "{}\n{}",
                rows.last().map(String::as_str).unwrap_or(""),
                rows.join("\n")
            );
            assert!(
                std::env::var("POWER_TABLE").is_ok() || p >= 0.8,
                "{}",
                rows.last().map(String::as_str).unwrap_or("")
            );
        }
    }
    if std::env::var("POWER_TABLE").is_ok() {
        println!("{}", rows.join("\n"));
    }
    assert!(rows.len() >= 15, "{}", rows.join("\n"));
}
