//! Statistical tests used by `stat` checks (theory-notes README: level α = 1e−3).
//!
//! - Clopper–Pearson bounds for a binomial frequency (via the Beta quantile);
//! - the one-sample Kolmogorov–Smirnov statistic and its asymptotic p-value
//!   P(K > √n·D) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²nD²} (with Stephens' small-sample correction);
//! - means with standard errors, and empirical quantiles.

use statrs::distribution::{Beta, ContinuousCDF};

/// Level used by every stat check.
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
        .filter(|&q| q <= pk * (1.0 + 1e-7))
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
