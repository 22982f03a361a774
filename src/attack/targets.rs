//! Target selection: MALT's score (malt.md §2; official code `targeting.py`) and AutoAttack's
//! logit ranking.
//!
//! MALT: logits z, label y, ŷ = arg max z. Candidates C = the `testk` largest logits other than
//! z_y; for c ∈ C, g_c = ∇_x(f_c − f_y) and s_c = (z_ŷ − z_c)/‖g_c‖_q with q the dual norm of the
//! threat model (‖·‖₁ for L∞, ‖·‖₂ for L2). The targets are the k smallest scores, ascending.
//! s_c is the linearised minimal distance to the f_c = f_y boundary. Suite decisions: a zero
//! gradient difference gets s_c = +∞ and is recorded (the official code keeps 0, ranking it
//! first); 1 ≤ k ≤ testk ≤ K − 1 is required.
//!
//! AutoAttack's APGD-T attacks the 2nd … (k+1)-th largest clean logits.

use super::apgd::Norm;
use super::objective::{Cost, Counted};
use crate::error::{Error, Result};
use crate::model::Classifier;
use nalgebra::DMatrix;

/// MALT's ranking at one point.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranking {
    /// The candidate classes, by decreasing logit.
    pub candidates: Vec<usize>,
    /// s_c for each candidate (+∞ for a zero gradient difference).
    pub scores: Vec<f64>,
    /// The k targets, by increasing score.
    pub targets: Vec<usize>,
    /// Candidates whose gradient difference was exactly zero.
    pub zero_gradient: Vec<usize>,
}

/// Checks 1 ≤ k ≤ testk ≤ K − 1.
pub fn check_sizes(k: usize, testk: usize, classes: usize) -> Result<()> {
    if k == 0 || k > testk || testk + 1 > classes {
        return Err(Error::input(format!(
            "MALT needs 1 ≤ k ≤ testk ≤ K − 1; got k = {k}, testk = {testk}, K = {classes}"
        )));
    }
    Ok(())
}

/// Classes other than `y` by decreasing logit (ties by index).
pub fn by_logit(z: &[f64], y: usize) -> Vec<usize> {
    super::losses::sorted_desc(z)
        .into_iter()
        .filter(|&c| c != y)
        .collect()
}

/// MALT's ranking from the logits and the dual norms ‖g_c‖_q of the gradient differences
/// (`dual_norm(c)`).
pub fn rank(
    z: &[f64],
    y: usize,
    dual_norm: impl Fn(usize) -> f64,
    k: usize,
    testk: usize,
) -> Result<Ranking> {
    check_sizes(k, testk, z.len())?;
    if y >= z.len() {
        return Err(Error::input(format!(
            "label {y} is not one of {} classes",
            z.len()
        )));
    }
    let top = z[super::losses::argmax(z)];
    let candidates: Vec<usize> = by_logit(z, y).into_iter().take(testk).collect();
    let mut zero_gradient = Vec::new();
    let scores: Vec<f64> = candidates
        .iter()
        .map(|&c| {
            let n = dual_norm(c);
            if n > 0.0 {
                (top - z[c]) / n
            } else {
                zero_gradient.push(c);
                f64::INFINITY
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
    let targets = order.iter().take(k).map(|&i| candidates[i]).collect();
    Ok(Ranking {
        candidates,
        scores,
        targets,
        zero_gradient,
    })
}

/// MALT's rankings for every row of `x`: one forward pass, then one forward-backward pass per
/// candidate rank with cotangent e_c − e_y (as the official code does). Returns the rankings and
/// the passes per sample (1 forward + testk gradients).
pub fn malt_rankings(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    norm: Norm,
    k: usize,
    testk: usize,
) -> Result<(Vec<Ranking>, Cost)> {
    let kk = model.classes();
    check_sizes(k, testk, kk)?;
    let n = x.nrows();
    let counted = Counted::new(model);
    let z = counted.logits(x);
    let rows: Vec<Vec<f64>> = (0..n).map(|i| z.row(i).iter().copied().collect()).collect();
    let cands: Vec<Vec<usize>> = (0..n).map(|i| by_logit(&rows[i], y[i])).collect();
    let mut norms = vec![vec![0.0; kk]; n];
    for r in 0..testk {
        let (_, g, _) = counted.forward_backward(x, false, &mut |zz| {
            DMatrix::from_fn(zz.nrows(), kk, |i, c| {
                f64::from(u8::from(c == cands[i][r])) - f64::from(u8::from(c == y[i]))
            })
        });
        for (i, v) in norm.dual_row_norms(&g).into_iter().enumerate() {
            norms[i][cands[i][r]] = v;
        }
    }
    let out = (0..n)
        .map(|i| rank(&rows[i], y[i], |c| norms[i][c], k, testk))
        .collect::<Result<Vec<_>>>()?;
    Ok((out, counted.cost()))
}

/// AutoAttack's APGD-T targets: the 2nd … (k+1)-th largest logits.
pub fn autoattack_targets(z: &[f64], k: usize) -> Vec<usize> {
    super::losses::sorted_desc(z)
        .into_iter()
        .skip(1)
        .take(k)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_follows_the_score_and_records_zero_gradients() {
        let z = [1.0, 3.0, 2.5, 0.0];
        let norms = [1.0, 0.0, 0.1, 2.0];
        let r = rank(&z, 1, |c| norms[c], 2, 3).unwrap();
        assert_eq!(r.candidates, vec![2, 0, 3]);
        // s₂ = 0.5/0.1 = 5, s₀ = 2/1 = 2, s₃ = 3/2 = 1.5.
        assert_eq!(r.targets, vec![3, 0]);
        let norms = [1.0, 1.0, 0.0, 1.0];
        let r = rank(&z, 1, |c| norms[c], 3, 3).unwrap();
        assert_eq!(r.zero_gradient, vec![2]);
        assert_eq!(*r.targets.last().unwrap(), 2);
        assert!(rank(&z, 1, |_| 1.0, 3, 4).is_err());
        assert!(rank(&z, 1, |_| 1.0, 3, 2).is_err());
        assert!(
            rank(&z, 4, |_| 1.0, 1, 3).is_err(),
            "label outside the classes"
        );
    }

    #[test]
    fn sizes_are_checked_at_their_edges() {
        assert!(check_sizes(1, 1, 2).is_ok());
        assert!(check_sizes(3, 3, 4).is_ok(), "testk = K − 1");
        assert!(check_sizes(0, 3, 4).is_err(), "k = 0");
        assert!(check_sizes(3, 2, 4).is_err(), "k > testk");
        assert!(check_sizes(2, 4, 4).is_err(), "testk = K");
    }

    #[test]
    fn logit_orders_break_ties_by_index() {
        let z = [0.5, 2.0, 0.5, 3.0, -1.0];
        assert_eq!(by_logit(&z, 1), vec![3, 0, 2, 4]);
        assert_eq!(autoattack_targets(&z, 2), vec![1, 0]);
        assert_eq!(autoattack_targets(&z, 4), vec![1, 0, 2, 4]);
    }

    /// On a linear classifier z = Wx + b the gradient of f_c − f_y is w_c − w_y, so MALT's
    /// scores are (z_ŷ − z_c)/‖w_c − w_y‖_q, computed here from W directly.
    #[test]
    fn rankings_of_a_linear_classifier_use_its_weight_differences() {
        use crate::model::{Activation, Mlp};
        let (d, k) = (4, 5);
        let mut r = crate::rng::seeded(5, 0);
        let theta = crate::rng::gaussian_vector(&mut r, d * k + k, 1.0);
        let model = Mlp::new(vec![d, k], Activation::Relu, theta.clone()).unwrap();
        let w = DMatrix::from_row_slice(k, d, &theta.as_slice()[..d * k]);
        let x = DMatrix::from_iterator(
            3,
            d,
            crate::rng::gaussian_vector(&mut r, 3 * d, 1.0)
                .iter()
                .copied(),
        );
        let y = [0, 2, 4];
        let z = model.logits(&x);
        for norm in [Norm::Linf, Norm::L2] {
            let (got, cost) = malt_rankings(&model, &x, &y, norm, 2, 3).unwrap();
            assert_eq!((cost.gradients, cost.forwards), (9, 3));
            for (i, ranking) in got.iter().enumerate() {
                let zi: Vec<f64> = z.row(i).iter().copied().collect();
                let diff = |c: usize| DMatrix::from_fn(1, d, |_, j| w[(c, j)] - w[(y[i], j)]);
                let want = rank(&zi, y[i], |c| norm.dual_row_norms(&diff(c))[0], 2, 3).unwrap();
                assert_eq!(ranking.candidates, want.candidates);
                assert_eq!(ranking.targets, want.targets);
                for (a, b) in ranking.scores.iter().zip(&want.scores) {
                    assert!((a - b).abs() <= 1e-12 * b.abs(), "{norm:?}: {a} vs {b}");
                }
            }
        }
        assert!(malt_rankings(&model, &x, &y, Norm::L2, 2, 5).is_err());
    }
}
