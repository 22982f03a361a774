//! Statistical tests used by `stat` checks (theory-notes README: level α = 1e−3).
//!
//! - Clopper–Pearson bounds for a binomial frequency (via the Beta quantile);
//! - the one-sample Kolmogorov–Smirnov statistic and its asymptotic p-value
//!   P(K > √n·D) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²nD²} (with Stephens' small-sample correction);
//! - means with standard errors, and empirical quantiles;
//! - normal quantiles, and the power of each test against a stated alternative ([`power`]).

use statrs::distribution::{Beta, ContinuousCDF};

/// The statistical level of every check: the probability that a check whose claim is true
/// fails on its fixed seeds. A check splits it evenly (Bonferroni) over its stat measurements.
pub const ALPHA: f64 = 1e-3;

/// One-sided upper Clopper–Pearson bound at confidence 1 − α for k successes in n trials.
pub fn clopper_pearson_upper(k: usize, n: usize, alpha: f64) -> f64 {
    if n == 0 || k >= n {
        return 1.0;
    }
    Beta::new(k as f64 + 1.0, (n - k) as f64)
        .map(|b| b.inverse_cdf(1.0 - alpha))
        .unwrap_or(1.0)
}

/// One-sided lower Clopper–Pearson bound at confidence 1 − α.
pub fn clopper_pearson_lower(k: usize, n: usize, alpha: f64) -> f64 {
    if k == 0 || n == 0 {
        return 0.0;
    }
    Beta::new(k as f64, (n - k + 1) as f64)
        .map(|b| b.inverse_cdf(alpha))
        .unwrap_or(0.0)
}

/// The KS statistic D = sup |F_n − F| of a sample against a continuous CDF.
pub fn ks_statistic(sample: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut s: Vec<f64> = sample.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    s.iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).max((i as f64 + 1.0) / n - f)
        })
        .fold(0.0, f64::max)
}

/// Asymptotic p-value of the KS statistic D for sample size n.
pub fn ks_pvalue(d: f64, n: usize) -> f64 {
    let sn = (n as f64).sqrt();
    let t = (sn + 0.12 + 0.11 / sn) * d;
    if t < 1e-3 {
        return 1.0;
    }
    let mut p = 0.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = (-2.0 * kf * kf * t * t).exp();
        p += if k % 2 == 1 { 2.0 * term } else { -2.0 * term };
        if term < 1e-16 {
            break;
        }
    }
    p.clamp(0.0, 1.0)
}

/// Mean and standard error of the mean.
pub fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (m, f64::NAN);
    }
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

/// The empirical q-quantile (linear interpolation between order statistics; an infinite order
/// statistic makes the quantile infinite rather than NaN).
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    if s[lo] == s[hi] || pos == lo as f64 {
        // Also keeps ±∞ order statistics (∞ − ∞ would give NaN).
        return s[lo];
    }
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// The median.
pub fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

/// Φ⁻¹(1 − a): the one-sided standard normal quantile at level a.
pub fn z_one_sided(a: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(1.0 - a)
}

/// Φ⁻¹(1 − a/2): the two-sided standard normal quantile at level a.
pub fn z_two_sided(a: f64) -> f64 {
    z_one_sided(a / 2.0)
}

/// Two-sided exact binomial test of H₀: K ~ Bin(n, p) at the observed k: the total probability
/// of outcomes no more likely than k (with a relative tolerance of 1e−7 on ties).
pub fn binomial_two_sided(k: usize, n: usize, p: f64) -> f64 {
    use statrs::distribution::{Binomial, Discrete};
    let Ok(b) = Binomial::new(p.clamp(0.0, 1.0), n as u64) else {
        return f64::NAN;
    };
    let pk = b.pmf(k as u64);
    (0..=n as u64)
        .map(|j| b.pmf(j))
        .filter(|&q| q <= pk * (1.0 + crate::tol::PMF_TIE_TOL))
        .sum::<f64>()
        .min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clopper_pearson_brackets_the_frequency() {
        let u = clopper_pearson_upper(5, 100, 1e-3);
        let l = clopper_pearson_lower(5, 100, 1e-3);
        assert!(l < 0.05 && 0.05 < u && u < 0.2);
        assert_eq!(clopper_pearson_upper(0, 0, 1e-3), 1.0);
    }

    #[test]
    fn ks_accepts_uniform_grid_and_rejects_shift() {
        let s: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
        let d = ks_statistic(&s, |x| x.clamp(0.0, 1.0));
        assert!(ks_pvalue(d, 1000) > 0.5);
        let shifted: Vec<f64> = s.iter().map(|x| x * 0.8).collect();
        let d2 = ks_statistic(&shifted, |x| x.clamp(0.0, 1.0));
        assert!(ks_pvalue(d2, 1000) < 1e-6);
    }
}

/// Power of the tests above against stated alternatives, for the theory files' `power` entries.
///
/// Each function returns the probability that the test rejects (the check FAILs) when the
/// alternative is true; where only a bound is available it is a lower bound, and says so.
pub mod power {
    use super::{clopper_pearson_lower, ks_pvalue};
    use statrs::distribution::{Binomial, ContinuousCDF, Discrete, Normal};

    fn phi(x: f64) -> f64 {
        Normal::standard().cdf(x)
    }

    /// P(|Z + shift| > crit), Z standard normal: a two-sided z test whose statistic is off by
    /// `shift` standard errors.
    pub fn z_two_sided(shift: f64, crit: f64) -> f64 {
        phi(shift - crit) + phi(-shift - crit)
    }

    /// P(Z + shift > crit): a one-sided z test.
    pub fn z_one_sided(shift: f64, crit: f64) -> f64 {
        phi(shift - crit)
    }

    /// The critical KS distance: the D at which [`ks_pvalue`]`(D, n)` falls to `alpha`.
    pub fn ks_critical(n: usize, alpha: f64) -> f64 {
        let (mut lo, mut hi) = (0.0, 1.0);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if ks_pvalue(mid, n) > alpha {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    }

    /// A lower bound on the power of the KS test at level `alpha` with n draws from a law G
    /// whose CDF is `dsup` = sup|G − F| away from the null F: the test rejects when
    /// sup|G_n − G| < dsup − c, so by the Dvoretzky–Kiefer–Wolfowitz inequality (Massart's
    /// constant) the power is at least 1 − 2·exp(−2n(dsup − c)²).
    pub fn ks_lower_bound(n: usize, dsup: f64, alpha: f64) -> f64 {
        let gap = dsup - ks_critical(n, alpha);
        if gap <= 0.0 {
            return 0.0;
        }
        (1.0 - 2.0 * (-2.0 * n as f64 * gap * gap).exp()).max(0.0)
    }

    /// sup over a grid of |F(t) − G(t)| for two CDFs on [lo, hi].
    pub fn sup_distance(f: impl Fn(f64) -> f64, g: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
        (0..=20_000)
            .map(|i| lo + (hi - lo) * i as f64 / 20_000.0)
            .map(|t| (f(t) - g(t)).abs())
            .fold(0.0, f64::max)
    }

    fn binomial_sum(n: usize, p: f64, keep: impl Fn(usize) -> bool) -> f64 {
        let Ok(b) = Binomial::new(p.clamp(0.0, 1.0), n as u64) else {
            return f64::NAN;
        };
        (0..=n).filter(|&k| keep(k)).map(|k| b.pmf(k as u64)).sum()
    }

    /// P(the one-sided Clopper–Pearson lower bound at `alpha` exceeds `bound`) when the true
    /// frequency is `p`: the power of "lower bound ≤ bound" against p.
    pub fn cp_lower_exceeds(n: usize, p: f64, bound: f64, alpha: f64) -> f64 {
        binomial_sum(n, p, |k| clopper_pearson_lower(k, n, alpha) > bound)
    }

    /// P(the Clopper–Pearson lower bound stays ≤ `bound`) when the true frequency is `p`: the
    /// power of "lower bound > bound" (a claim needing evidence) against p.
    pub fn cp_lower_stays_below(n: usize, p: f64, bound: f64, alpha: f64) -> f64 {
        binomial_sum(n, p, |k| clopper_pearson_lower(k, n, alpha) <= bound)
    }

    /// P(the two-sided binomial p-value against p0 falls below `alpha`) when the true
    /// frequency is `p`.
    pub fn binomial_rejects(n: usize, p0: f64, p: f64, alpha: f64) -> f64 {
        binomial_sum(n, p, |k| super::binomial_two_sided(k, n, p0) < alpha)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn z_power_is_the_level_at_no_shift_and_grows() {
            let c = crate::stats::z_two_sided(0.05);
            assert!((z_two_sided(0.0, c) - 0.05).abs() < 1e-9);
            assert!(z_two_sided(2.0, c) < z_two_sided(3.0, c));
            assert!((z_one_sided(c + 0.841_621_233_572_914, c) - 0.8).abs() < 1e-9);
        }

        #[test]
        fn ks_bound_is_a_bound_and_vanishes_below_the_critical_distance() {
            let c = ks_critical(1000, 1e-3);
            assert!((ks_pvalue(c, 1000) - 1e-3).abs() < 1e-6);
            assert_eq!(ks_lower_bound(1000, 0.5 * c, 1e-3), 0.0);
            assert!(ks_lower_bound(1000, 2.0 * c, 1e-3) > 0.99);
        }

        #[test]
        fn binomial_powers() {
            // At p = bound the lower bound exceeds it with probability at most α.
            assert!(cp_lower_exceeds(200, 0.1, 0.1, 1e-3) <= 1e-3);
            assert!(cp_lower_exceeds(200, 0.3, 0.1, 1e-3) > 0.99);
            assert!(cp_lower_stays_below(20, 0.5, 0.5, 1e-3) >= 1.0 - 1e-3);
            assert!(binomial_rejects(200, 0.5, 0.5, 1e-3) <= 1e-3);
        }
    }
}
