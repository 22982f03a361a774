//! Explanations from gradient agreement across independently trained models (Melamed & Caruana
//! 2023, arXiv:2311.13454; official code `HD_explainer.py`, `utils.py`; explain.md §2).
//!
//! For models a = 0 (the explained model f₀) and the surrogates that agree with the label, G_a\[w\]
//! ∈ R^D is the input gradient at position w (a word's embedding, or a patch of pixels):
//! - angle score IP(w) = mean over ordered pairs a ≠ b of |cos(G_a\[w\], G_b\[w\])|, with
//!   cos = ⟨G_a, G_b⟩/(‖G_a‖‖G_b‖ + 1e−15);
//! - norm score NORM(w) = mean over models of ‖G_a\[w\]‖/max_{w'}‖G_a\[w'\]‖;
//! - small-norm filter: S(w) = IP(w) if NORM(w) ≤ τ = median_w NORM(w), else 0;
//! - output: the top k positions by S with S > 0; comparison rankings by IP, by NORM (largest
//!   first), by NORM among small-norm positions, and random.
//!
//! Under the off-subspace mechanism (subspace.md D1–D4) the part of G_a outside the data
//! subspace is model-specific isotropic noise, whose |cos| follows the null law
//! cos² ~ Beta(½, (D − 1)/2), E|cos| = Γ(D/2)/(√π Γ((D + 1)/2)) [derived, explain.md §3].
//! Preconditions are errors: f₀ must classify the input correctly, at least three surrogates
//! must agree with the label, no surrogate may equal f₀ (parameter hash), shapes must match.

pub mod images;
pub mod pooled;
pub mod text;

use crate::error::{Error, Result};
use crate::rng::{self, Rng};
use nalgebra::{DMatrix, DVector};
use std::hash::{Hash, Hasher};

/// Added to the product of two gradient norms before dividing by it in IP's cosine, so that a
/// zero gradient gives cosine 0 rather than NaN: part of IP's definition here, not a tolerance.
pub const COSINE_GUARD: f64 = 1e-15;

/// The scores of every position.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    /// IP(w).
    pub ip: Vec<f64>,
    /// NORM(w).
    pub norm: Vec<f64>,
    /// S(w) (IP on small-norm positions, else 0).
    pub s: Vec<f64>,
    /// τ = median NORM.
    pub tau: f64,
}

/// IP, NORM and S from per-model gradients (each L × D, one row per position; at least two
/// models).
pub fn scores(grads: &[DMatrix<f64>]) -> Result<Scores> {
    let m = grads.len();
    if m < 2 {
        return Err(Error::input(format!(
            "the scores need at least 2 models, got {m}"
        )));
    }
    let (l, d) = grads[0].shape();
    if let Some(g) = grads.iter().find(|g| g.shape() != (l, d)) {
        return Err(Error::shape(format!(
            "gradients of different shapes: {l} × {d} and {} × {}",
            g.nrows(),
            g.ncols()
        )));
    }
    for g in grads {
        crate::error::ensure_finite("gradients", g.as_slice())?;
    }
    let norms: Vec<Vec<f64>> = grads.iter().map(crate::linalg::row_norms).collect();
    let mut ip = vec![0.0; l];
    let pairs = (m * (m - 1)) as f64;
    for a in 0..m {
        for b in 0..m {
            if a == b {
                continue;
            }
            for (w, v) in ip.iter_mut().enumerate() {
                let dot: f64 = (0..d).map(|j| grads[a][(w, j)] * grads[b][(w, j)]).sum();
                *v += (dot / (norms[a][w] * norms[b][w] + COSINE_GUARD)).abs() / pairs;
            }
        }
    }
    let mut norm = vec![0.0; l];
    for na in &norms {
        let top = na.iter().copied().fold(0.0, f64::max);
        for (w, v) in norm.iter_mut().enumerate() {
            *v += if top > 0.0 { na[w] / top } else { 0.0 } / m as f64;
        }
    }
    let tau = crate::stats::median(&norm);
    let s = (0..l)
        .map(|w| if norm[w] <= tau { ip[w] } else { 0.0 })
        .collect();
    Ok(Scores { ip, norm, s, tau })
}

/// A ranking of positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ranking {
    /// By S, positive scores only.
    S,
    /// By IP.
    Ip,
    /// By NORM, largest first.
    Norm,
    /// By NORM among the small-norm positions (NORM ≤ τ), largest first.
    NormSmall,
}

/// The positions ordered by `ranking` (descending; ties by position).
pub fn order(sc: &Scores, ranking: Ranking) -> Vec<usize> {
    let l = sc.ip.len();
    let (key, keep): (&[f64], Box<dyn Fn(usize) -> bool>) = match ranking {
        Ranking::S => (&sc.s, Box::new(|w| sc.s[w] > 0.0)),
        Ranking::Ip => (&sc.ip, Box::new(|_| true)),
        Ranking::Norm => (&sc.norm, Box::new(|_| true)),
        Ranking::NormSmall => (&sc.norm, Box::new(|w| sc.norm[w] <= sc.tau)),
    };
    let mut idx: Vec<usize> = (0..l).filter(|&w| keep(w)).collect();
    idx.sort_by(|&a, &b| key[b].total_cmp(&key[a]).then(a.cmp(&b)));
    idx
}

/// A uniformly random order of `l` positions.
pub fn random_order(rng: &mut Rng, l: usize) -> Vec<usize> {
    rng::permutation(rng, l)
}

/// |top_k(order) ∩ truth| / k.
pub fn precision_at(order: &[usize], truth: &[usize], k: usize) -> f64 {
    if k == 0 {
        return f64::NAN;
    }
    order.iter().take(k).filter(|w| truth.contains(w)).count() as f64 / k as f64
}

/// A hash of a parameter vector's bit patterns (equal parameters, equal hash).
pub fn param_hash(theta: &DVector<f64>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    theta.len().hash(&mut h);
    for v in theta.iter() {
        v.to_bits().hash(&mut h);
    }
    h.finish()
}

/// Which models take part: f₀ (index 0, must be correct) and the agreeing surrogates (at least
/// three). `correct[a]` says whether model a classifies the input as labelled; `hashes[a]` is
/// its parameter hash. Returns the indices of the models used.
pub fn select_models(correct: &[bool], hashes: &[u64]) -> Result<Vec<usize>> {
    if correct.len() != hashes.len() || correct.is_empty() {
        return Err(Error::shape("one correctness flag and one hash per model"));
    }
    if !correct[0] {
        return Err(Error::input(
            "the explained model misclassifies this input; there is nothing to explain",
        ));
    }
    if let Some(a) = (1..hashes.len()).find(|&a| hashes[a] == hashes[0]) {
        return Err(Error::input(format!(
            "surrogate {a} has the same parameters as the explained model (a self-pair would inflate IP)"
        )));
    }
    let agree: Vec<usize> = (1..correct.len()).filter(|&a| correct[a]).collect();
    if agree.len() < 3 {
        return Err(Error::input(format!(
            "only {} surrogate(s) agree with the label; the method needs at least 3",
            agree.len()
        )));
    }
    Ok(std::iter::once(0).chain(agree).collect())
}

/// E|cos| for independent isotropic vectors in R^D: Γ(D/2)/(√π Γ((D + 1)/2)).
pub fn null_mean_abs_cos(d: usize) -> f64 {
    use statrs::function::gamma::ln_gamma;
    let d = d as f64;
    (ln_gamma(d / 2.0) - ln_gamma((d + 1.0) / 2.0)).exp() / std::f64::consts::PI.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_mean_matches_the_notes() {
        assert!((null_mean_abs_cos(64) - 0.1001).abs() < 5e-4);
        assert!((null_mean_abs_cos(48) - 0.1158).abs() < 5e-4);
    }

    #[test]
    fn preconditions_are_errors() {
        assert!(select_models(&[false, true, true, true], &[1, 2, 3, 4]).is_err());
        assert!(select_models(&[true, true, true, true], &[1, 1, 3, 4]).is_err());
        // A copy of f₀ anywhere among the surrogates, not only the first.
        assert!(select_models(&[true; 5], &[1, 2, 3, 4, 1]).is_err());
        // Two agreeing surrogates, and none, are too few.
        assert!(select_models(&[true, true, true], &[1, 2, 3]).is_err());
        assert!(select_models(&[true], &[1]).is_err());
        assert!(select_models(&[], &[]).is_err());
        assert!(select_models(&[true, true, false, true], &[1, 2, 3, 4]).is_err());
        assert_eq!(
            select_models(&[true, true, false, true, true], &[1, 2, 3, 4, 5]).unwrap(),
            vec![0, 1, 3, 4]
        );
        assert!(scores(&[DMatrix::zeros(3, 2)]).is_err());
        assert!(scores(&[DMatrix::zeros(3, 2), DMatrix::zeros(2, 2)]).is_err());
    }

    /// Three models, four positions in R²: rows chosen so that every cosine and norm is known
    /// in closed form.
    fn three_models() -> Vec<DMatrix<f64>> {
        let rows = |r: [[f64; 2]; 4]| DMatrix::from_fn(4, 2, |w, j| r[w][j]);
        vec![
            rows([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0], [0.0, 0.0]]),
            rows([[1.0, 1.0], [0.0, 1.0], [3.0, 4.0], [1.0, 0.0]]),
            rows([[-1.0, 0.0], [2.0, 0.0], [0.0, 5.0], [0.0, 0.0]]),
        ]
    }

    #[test]
    fn scores_match_a_hand_computation() {
        let sc = scores(&three_models()).unwrap();
        let r2 = std::f64::consts::FRAC_1_SQRT_2;
        // IP: the mean |cos| over the three pairs (each ordered pair counted twice); a zero
        // gradient has cosine 0 with everything (position 3).
        let ip = [
            (r2 + 1.0 + r2) / 3.0,
            1.0 / 3.0,
            (1.0 + 0.8 + 0.8) / 3.0,
            0.0,
        ];
        // NORM: each model's row norms over its largest (5, 5, 5), averaged over the models.
        let norm = [
            (0.2 + 2f64.sqrt() / 5.0 + 0.2) / 3.0,
            (0.4 + 0.2 + 0.4) / 3.0,
            1.0,
            0.2 / 3.0,
        ];
        for w in 0..4 {
            assert!((sc.ip[w] - ip[w]).abs() < 1e-12, "IP[{w}] = {}", sc.ip[w]);
            assert!(
                (sc.norm[w] - norm[w]).abs() < 1e-15,
                "NORM[{w}] = {}",
                sc.norm[w]
            );
        }
        // τ is the median of the four NORMs: the mean of the middle two.
        assert!((sc.tau - (norm[0] + norm[1]) / 2.0).abs() < 1e-15);
        // S keeps IP where NORM ≤ τ (positions 0 and 3) and is 0 elsewhere.
        assert_eq!(sc.s, vec![sc.ip[0], 0.0, 0.0, sc.ip[3]]);
        // The S ranking lists positive scores only; the others every position.
        assert_eq!(order(&sc, Ranking::S), vec![0]);
        assert_eq!(order(&sc, Ranking::Ip), vec![2, 0, 1, 3]);
        assert_eq!(order(&sc, Ranking::Norm), vec![2, 1, 0, 3]);
        assert_eq!(order(&sc, Ranking::NormSmall), vec![0, 3]);
    }

    #[test]
    fn precision_counts_the_true_positions_among_the_first_k() {
        let order = [3, 1, 2, 0];
        assert_eq!(precision_at(&order, &[1, 0], 2), 0.5);
        assert_eq!(precision_at(&order, &[1, 0], 4), 0.5);
        assert_eq!(precision_at(&order, &[3, 1, 2], 3), 1.0);
        assert_eq!(precision_at(&order, &[0], 3), 0.0);
        assert!(precision_at(&order, &[0], 0).is_nan());
        // Equal parameters hash equal; a changed entry or a changed length does not.
        let theta = DVector::from_vec(vec![0.5, -1.0]);
        assert_eq!(param_hash(&theta), param_hash(&theta.clone()));
        assert_ne!(
            param_hash(&theta),
            param_hash(&DVector::from_vec(vec![0.5, 1.0]))
        );
        assert_ne!(
            param_hash(&DVector::from_vec(vec![0.0])),
            param_hash(&DVector::from_vec(vec![0.0, 0.0]))
        );
        let r = random_order(&mut rng::seeded(1, 0), 6);
        let mut sorted = r.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn two_models_suffice_and_an_all_zero_model_adds_zero_norm() {
        let g = three_models();
        let zero = DMatrix::zeros(4, 2);
        let sc = scores(&[g[0].clone(), zero]).unwrap();
        // Model 0's normalised norms (over its largest, 5), halved by the all-zero model's 0s.
        let expected = [0.1, 0.2, 0.5, 0.0];
        for (w, e) in expected.iter().enumerate() {
            assert!((sc.norm[w] - e).abs() < 1e-15, "NORM[{w}] = {}", sc.norm[w]);
            assert_eq!(sc.ip[w], 0.0);
        }
        // The guard is added: parallel gradients of norm 1e−8 have |cos| = 1e−16/(1e−16 + 1e−15)
        // = 1/11, not 1 (and never above 1, as a subtracted guard would give).
        let tiny = DMatrix::from_element(1, 1, 1e-8);
        let sc = scores(&[tiny.clone(), tiny]).unwrap();
        assert!((sc.ip[0] - 1.0 / 11.0).abs() < 1e-12, "IP = {}", sc.ip[0]);
    }
}
