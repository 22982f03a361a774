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
use super::objective::Cost;
use super::row_norms;
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

/// The dual norm of every row: ‖·‖₁ for L∞, ‖·‖₂ for L2.
pub fn dual_norms(norm: Norm, g: &DMatrix<f64>) -> Vec<f64> {
    match norm {
        Norm::L2 => row_norms(g),
        Norm::Linf => {
            let mut s = vec![0.0; g.nrows()];
            for col in g.column_iter() {
                for (a, v) in s.iter_mut().zip(col.iter()) {
                    *a += v.abs();
                }
            }
            s
        }
    }
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
    let z = model.logits(x);
    let rows: Vec<Vec<f64>> = (0..n).map(|i| z.row(i).iter().copied().collect()).collect();
    let cands: Vec<Vec<usize>> = (0..n).map(|i| by_logit(&rows[i], y[i])).collect();
    let mut norms = vec![vec![0.0; kk]; n];
    for r in 0..testk {
        let (_, g, _) = model.forward_backward(x, false, &mut |zz| {
            DMatrix::from_fn(zz.nrows(), kk, |i, c| {
                f64::from(u8::from(c == cands[i][r])) - f64::from(u8::from(c == y[i]))
            })
        });
        for (i, v) in dual_norms(norm, &g).into_iter().enumerate() {
            norms[i][cands[i][r]] = v;
        }
    }
    let out = (0..n)
        .map(|i| rank(&rows[i], y[i], |c| norms[i][c], k, testk))
        .collect::<Result<Vec<_>>>()?;
    Ok((
        out,
        Cost {
            gradients: n * testk,
            forwards: n,
        },
    ))
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
    }
}
