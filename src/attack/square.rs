//! The Square attack (Andriushchenko et al. 2020, arXiv:1912.00049), untargeted, with
//! AutoAttack's defaults (5000 queries, p_init = 0.8, margin loss), for inputs that are images
//! of h × w pixels (h = w = √d when d is a square, else 1 × d).
//!
//! L∞ (as in the reference): start from vertical stripes x + ε·(±1 per column); at each query
//! pick a random s × s window, s = max(round(√(p·d)), 1) with p from the schedule p_init/2^j
//! (thresholds 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 scaled by N/10 000), set it to
//! ±2ε in the candidate, clip to the ε-ball and the box, and keep the candidate if the margin
//! z_y − max_{j≠y} z_j decreases. L2 (suite version, not a line-by-line port of the reference's
//! meta-pattern updates): the window receives a random Gaussian pattern and the whole
//! perturbation is rescaled to norm ε before clipping to the box; the acceptance rule and query
//! budget are the same. One forward pass per query and still-robust point.

use super::apgd::Norm;
use super::objective::Cost;
use crate::model::Classifier;
use crate::rng::{self, Rng};
use nalgebra::DMatrix;

fn p_schedule(it: usize, n_iter: usize, p_init: f64) -> f64 {
    let it = (it as f64 * 10_000.0 / n_iter as f64) as usize;
    let steps = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
    let j = steps.iter().filter(|&&s| it > s).count();
    p_init / f64::from(1u32 << j)
}

/// Margin z_y − max_{j≠y} z_j per row.
fn margins(model: &dyn Classifier, x: &DMatrix<f64>, y: &[usize]) -> Vec<f64> {
    let z = model.logits(x);
    (0..x.nrows())
        .map(|i| {
            let r: Vec<f64> = z.row(i).iter().copied().collect();
            r[y[i]] - r[super::losses::argmax_except(&r, y[i])]
        })
        .collect()
}

/// Outcome of Square.
#[derive(Clone, Debug)]
pub struct SquareResult {
    /// The best point found per row.
    pub x_adv: DMatrix<f64>,
    /// Whether it is misclassified.
    pub success: Vec<bool>,
    /// Passes per sample made.
    pub cost: Cost,
}

/// Square with `queries` queries at radius `eps` inside the box [0, 1].
pub fn square(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    norm: Norm,
    eps: f64,
    queries: usize,
    rng: &mut Rng,
) -> SquareResult {
    let (n, d) = x.shape();
    let side = (d as f64).sqrt().round() as usize;
    let (h, w) = if side * side == d {
        (side, side)
    } else {
        (1, d)
    };
    let mut cost = Cost::default();
    let mut best = x.clone();
    match norm {
        Norm::Linf => {
            for i in 0..n {
                for c in 0..w {
                    let s = eps * rng::sign(rng);
                    for r in 0..h {
                        let j = r * w + c;
                        best[(i, j)] = (x[(i, j)] + s).clamp(0.0, 1.0);
                    }
                }
            }
        }
        Norm::L2 => {
            for i in 0..n {
                let g = rng::gaussian_vector(rng, d, 1.0);
                let scale = eps / g.norm();
                let g = g * scale;
                for j in 0..d {
                    best[(i, j)] = (x[(i, j)] + g[j]).clamp(0.0, 1.0);
                }
            }
        }
    }
    let mut margin = margins(model, &best, y);
    cost.forwards += n;
    for it in 1..queries {
        let live: Vec<usize> = (0..n).filter(|&i| margin[i] > 0.0).collect();
        if live.is_empty() {
            break;
        }
        let p = p_schedule(it, queries, 0.8);
        let s = ((p * (h * w) as f64).sqrt().round() as usize).clamp(1, h.max(w));
        let (sh, sw) = (s.min(h), s.min(w));
        let mut cand = best.select_rows(&live);
        for (r, &i) in live.iter().enumerate() {
            let vh = rng::index(rng, h - sh + 1);
            let vw = rng::index(rng, w - sw + 1);
            match norm {
                Norm::Linf => {
                    let v = 2.0 * eps * rng::sign(rng);
                    for a in vh..vh + sh {
                        for b in vw..vw + sw {
                            let j = a * w + b;
                            cand[(r, j)] = (cand[(r, j)] + v)
                                .clamp(x[(i, j)] - eps, x[(i, j)] + eps)
                                .clamp(0.0, 1.0);
                        }
                    }
                }
                Norm::L2 => {
                    for a in vh..vh + sh {
                        for b in vw..vw + sw {
                            let j = a * w + b;
                            cand[(r, j)] += eps * rng::normal(rng) / s as f64;
                        }
                    }
                    let delta: Vec<f64> = (0..d).map(|j| cand[(r, j)] - x[(i, j)]).collect();
                    let nd = delta.iter().map(|v| v * v).sum::<f64>().sqrt();
                    let f = if nd > 0.0 { eps / nd } else { 0.0 };
                    for j in 0..d {
                        cand[(r, j)] = (x[(i, j)] + delta[j] * f).clamp(0.0, 1.0);
                    }
                }
            }
        }
        let ys: Vec<usize> = live.iter().map(|&i| y[i]).collect();
        let m = margins(model, &cand, &ys);
        cost.forwards += live.len();
        for (r, &i) in live.iter().enumerate() {
            if m[r] < margin[i] {
                margin[i] = m[r];
                best.row_mut(i).copy_from(&cand.row(r));
            }
        }
    }
    SquareResult {
        x_adv: best,
        success: margin.iter().map(|&m| m < 0.0).collect(),
        cost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::losses::argmax;
    use crate::model::{Activation, Mlp};

    #[test]
    fn square_stays_in_the_ball_and_box_and_reports_true_successes() {
        let mut r = rng::seeded(3, 0);
        let net = Mlp::init(&mut r, vec![16, 12, 4], Activation::Relu, 1.0).unwrap();
        let x = DMatrix::from_fn(20, 16, |_, _| rng::uniform(&mut r));
        let z = net.logits(&x);
        let y: Vec<usize> = (0..20)
            .map(|i| argmax(&z.row(i).iter().copied().collect::<Vec<_>>()))
            .collect();
        for (norm, eps) in [(Norm::Linf, 0.3), (Norm::L2, 1.0)] {
            let out = square(&net, &x, &y, norm, eps, 300, &mut r);
            let za = net.logits(&out.x_adv);
            for i in 0..20 {
                let d: Vec<f64> = (0..16).map(|j| out.x_adv[(i, j)] - x[(i, j)]).collect();
                let n = match norm {
                    Norm::Linf => d.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                    Norm::L2 => d.iter().map(|v| v * v).sum::<f64>().sqrt(),
                };
                assert!(n <= eps * (1.0 + 1e-12), "{norm:?}: ‖δ‖ = {n}");
                assert!(out.x_adv.row(i).iter().all(|v| (0.0..=1.0).contains(v)));
                let broken = argmax(&za.row(i).iter().copied().collect::<Vec<_>>()) != y[i];
                assert_eq!(out.success[i], broken, "{norm:?} point {i}");
            }
            assert!(out.cost.forwards <= 20 * 300);
        }
    }
}
