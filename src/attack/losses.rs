//! Attack losses on one logit row z ∈ R^K, each returned with its gradient ∂L/∂z. All are
//! maximised by the attacker (malt.md §4; Croce & Hein 2020, arXiv:2003.01690; fra31/auto-attack
//! `autopgd_base.py`; adv_lib `utils/losses.py`). z_π1 ≥ z_π2 ≥ … are the sorted logits.
//!
//! - CE: log Σ e^{z_c} − z_y;
//! - margin (untargeted): max_{j≠y} z_j − z_y; (targeted): z_t − max_{j≠t} z_j;
//! - DLR: −(z_y − max_{j≠y} z_j)/(z_π1 − z_π3 + 1e−12) (needs K ≥ 3);
//! - targeted DLR, AutoAttack: (z_t − z_y)/(z_π1 − (z_π3 + z_π4)/2 + 1e−12);
//! - targeted DLR, adv_lib: (z_t − max_{j≠t} z_j)/(z_π1 − (z_π3 + z_π4)/2 + 1e−8), positive
//!   iff t is the arg-max. The two targeted forms agree iff z_y = max_{j≠t} z_j (and the
//!   denominators' constants are equal).
//!
//! Gradients treat the sort order as fixed, as automatic differentiation does.

use crate::error::{Error, Result};

/// The constant fra31/auto-attack adds to the DLR denominators (untargeted and targeted):
/// part of the loss's definition, not a tolerance.
pub const DLR_GUARD_AUTOATTACK: f64 = 1e-12;
/// The constant adv_lib adds to the targeted DLR denominator (MALT's base attack).
pub const DLR_GUARD_ADV_LIB: f64 = 1e-8;

/// Which targeted DLR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DlrForm {
    /// fra31/auto-attack: numerator z_t − z_y, constant 1e−12.
    AutoAttack,
    /// adv_lib (used by MALT's code): numerator z_t − max_{j≠t} z_j, constant 1e−8.
    AdvLib,
}

/// An attack loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Cross-entropy of the true class.
    CrossEntropy,
    /// Logit margin (untargeted or targeted).
    Margin,
    /// Untargeted DLR.
    Dlr,
    /// Targeted DLR in the given form.
    DlrTargeted(DlrForm),
}

impl Loss {
    /// Smallest number of classes the loss is defined for.
    pub fn min_classes(self) -> usize {
        match self {
            Self::CrossEntropy | Self::Margin => 2,
            Self::Dlr => 3,
            Self::DlrTargeted(_) => 4,
        }
    }
    /// Whether the loss needs a target class.
    pub fn targeted(self) -> bool {
        matches!(self, Self::DlrTargeted(_))
    }
    /// Fails unless `k` classes suffice.
    pub fn check_classes(self, k: usize) -> Result<()> {
        if k < self.min_classes() {
            return Err(Error::input(format!(
                "the {} needs at least {} classes, the model has {k}",
                self.describe(),
                self.min_classes()
            )));
        }
        Ok(())
    }
    /// The loss in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::CrossEntropy => "cross-entropy",
            Self::Margin => "logit margin",
            Self::Dlr => "DLR loss",
            Self::DlrTargeted(DlrForm::AutoAttack) => "targeted DLR loss (AutoAttack's form)",
            Self::DlrTargeted(DlrForm::AdvLib) => {
                "targeted DLR loss (adv_lib's form, used by MALT)"
            }
        }
    }
    /// L(z) and ∂L/∂z for label `y` and optional target `t`.
    pub fn eval(self, z: &[f64], y: usize, t: Option<usize>) -> (f64, Vec<f64>) {
        let k = z.len();
        let mut g = vec![0.0; k];
        match (self, t) {
            (Self::CrossEntropy, _) => {
                let lse = crate::loss::log_sum_exp(z);
                for c in 0..k {
                    g[c] = (z[c] - lse).exp();
                }
                g[y] -= 1.0;
                (lse - z[y], g)
            }
            (Self::Margin, None) => {
                let a = argmax_except(z, y);
                g[a] = 1.0;
                g[y] = -1.0;
                (z[a] - z[y], g)
            }
            (Self::Margin, Some(t)) => {
                let a = argmax_except(z, t);
                g[t] = 1.0;
                g[a] -= 1.0;
                (z[t] - z[a], g)
            }
            (Self::Dlr, _) => {
                let s = top4(z);
                let a = argmax_except(z, y);
                let den = z[s[0]] - z[s[2]] + DLR_GUARD_AUTOATTACK;
                let num = z[y] - z[a];
                // L = −num/den.
                g[y] -= 1.0 / den;
                g[a] += 1.0 / den;
                g[s[0]] += num / (den * den);
                g[s[2]] -= num / (den * den);
                (-num / den, g)
            }
            (Self::DlrTargeted(form), t) => {
                let t = t.unwrap_or(y);
                let s = top4(z);
                let c = match form {
                    DlrForm::AutoAttack => DLR_GUARD_AUTOATTACK,
                    DlrForm::AdvLib => DLR_GUARD_ADV_LIB,
                };
                let den = z[s[0]] - 0.5 * (z[s[2]] + z[s[3]]) + c;
                let other = match form {
                    DlrForm::AutoAttack => y,
                    DlrForm::AdvLib => argmax_except(z, t),
                };
                let num = z[t] - z[other];
                // L = num/den.
                g[t] += 1.0 / den;
                g[other] -= 1.0 / den;
                g[s[0]] -= num / (den * den);
                g[s[2]] += 0.5 * num / (den * den);
                g[s[3]] += 0.5 * num / (den * den);
                (num / den, g)
            }
        }
    }
}

/// The indices of the four largest entries of z (K ≥ 4; for K = 3 the last slot repeats the
/// third), by decreasing value with ties by index — the first four of [`sorted_desc`] without
/// sorting or allocating.
pub fn top4(z: &[f64]) -> [usize; 4] {
    let mut best = [usize::MAX; 4];
    for (j, &v) in z.iter().enumerate() {
        let mut pos = 4;
        while pos > 0 && (best[pos - 1] == usize::MAX || v.total_cmp(&z[best[pos - 1]]).is_gt()) {
            pos -= 1;
        }
        if pos < 4 {
            for q in (pos + 1..4).rev() {
                best[q] = best[q - 1];
            }
            best[pos] = j;
        }
    }
    for q in 1..4 {
        if best[q] == usize::MAX {
            best[q] = best[q - 1];
        }
    }
    best
}

/// Indices of z sorted by decreasing value (ties by index).
pub fn sorted_desc(z: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..z.len()).collect();
    idx.sort_by(|&a, &b| z[b].total_cmp(&z[a]).then(a.cmp(&b)));
    idx
}

/// arg max_{j ≠ skip} z_j (lowest index on ties).
pub fn argmax_except(z: &[f64], skip: usize) -> usize {
    let mut best = usize::MAX;
    for (j, &v) in z.iter().enumerate() {
        if j != skip && (best == usize::MAX || v > z[best]) {
            best = j;
        }
    }
    best
}

/// arg max_j z_j (lowest index on ties).
pub fn argmax(z: &[f64]) -> usize {
    argmax_except(z, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_match_finite_differences() {
        let z = [0.3, -1.2, 2.1, 0.9, -0.4, 1.7];
        let cases = [
            (Loss::CrossEntropy, None),
            (Loss::Margin, None),
            (Loss::Margin, Some(4)),
            (Loss::Dlr, None),
            (Loss::DlrTargeted(DlrForm::AutoAttack), Some(4)),
            (Loss::DlrTargeted(DlrForm::AdvLib), Some(4)),
        ];
        for (loss, t) in cases {
            let (_, g) = loss.eval(&z, 1, t);
            for c in 0..z.len() {
                let h = 1e-6;
                let mut zp = z;
                zp[c] += h;
                let mut zm = z;
                zm[c] -= h;
                let fd = (loss.eval(&zp, 1, t).0 - loss.eval(&zm, 1, t).0) / (2.0 * h);
                assert!(
                    (fd - g[c]).abs() < 1e-7,
                    "{loss:?} class {c}: {fd} vs {}",
                    g[c]
                );
            }
        }
    }

    #[test]
    fn top4_matches_the_sort() {
        let mut r = crate::rng::seeded(1, 0);
        for k in [4usize, 5, 10, 30] {
            for _ in 0..200 {
                let z: Vec<f64> = (0..k)
                    .map(|_| (crate::rng::normal(&mut r) * 3.0).round())
                    .collect();
                assert_eq!(top4(&z).to_vec(), sorted_desc(&z)[..4].to_vec(), "{z:?}");
            }
        }
    }

    #[test]
    fn adv_lib_targeted_dlr_is_positive_iff_target_wins() {
        let form = Loss::DlrTargeted(DlrForm::AdvLib);
        assert!(form.eval(&[0.0, 1.0, 3.0, 0.5], 1, Some(2)).0 > 0.0);
        assert!(form.eval(&[0.0, 4.0, 3.0, 0.5], 1, Some(2)).0 < 0.0);
        assert!(Loss::DlrTargeted(DlrForm::AutoAttack)
            .check_classes(3)
            .is_err());
    }
}
