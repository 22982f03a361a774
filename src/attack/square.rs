//! The Square attack (Andriushchenko et al. 2020, arXiv:1912.00049), untargeted, with
//! AutoAttack's defaults (5000 queries, p_init = 0.8, margin loss), for inputs that are images
//! of h × w pixels (h = w = √d when d is a square, else 1 × d).
//!
//! L∞ (as in the reference): start from vertical stripes x + ε·(±1 per column); at each query
//! pick a random s × s window, s = max(round(√(p·d)), 1) with p from the schedule p_init/2^j
//! (thresholds 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 scaled by N/10 000), set it to
//! ±2ε in the candidate, clip to the ε-ball and the box, and keep the candidate if the margin
//! z_y − max_{j≠y} z_j decreases.
//!
//! Window offsets ([`Offsets`]): the reference clamps s to h − 1 and draws the top-left corner
//! from `torch.randint(0, h − s)`, i.e. [0, h − s − 1], so after the initial stripes its last
//! row and column are never perturbed; [`Offsets::Reference`] (the default, what "AutoAttack"
//! means here) does the same. [`Offsets::Full`] draws from [0, h − s] with s ≤ h, which reaches
//! every pixel and is a markedly stronger attack (Square alone at L∞ ε = 0.1 on the committed
//! digits MLP of tests/fixtures: 50.3 % robust against 60.3 % with the reference's offsets).
//!
//! L2 is the suite's own version, not a port of the reference's meta-pattern updates: the
//! window receives a random Gaussian pattern and the whole perturbation is rescaled to norm ε
//! before clipping to the box; the acceptance rule and query budget are the same. One forward
//! pass per query and still-robust point.

use super::apgd::Norm;
use super::incumbent::{Incumbent, Keep, Live};
use super::objective::{Cost, Counted};
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
fn margins(model: &Counted<'_>, x: &DMatrix<f64>, y: &[usize]) -> Vec<f64> {
    let z = model.logits(x);
    (0..x.nrows())
        .map(|i| {
            let r: Vec<f64> = z.row(i).iter().copied().collect();
            r[y[i]] - r[super::losses::argmax_except(&r, y[i])]
        })
        .collect()
}

/// Where a window's top-left corner may fall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Offsets {
    /// As fra31/auto-attack: s ≤ h − 1, corner in [0, h − s − 1] (last row and column unreached).
    #[default]
    Reference,
    /// s ≤ h, corner in [0, h − s]: every pixel reachable.
    Full,
}

impl Offsets {
    /// Window side and number of admissible corners along an axis of `len` pixels.
    fn window(self, s: usize, len: usize) -> (usize, usize) {
        if len == 1 {
            return (1, 1);
        }
        match self {
            Offsets::Reference => {
                let s = s.clamp(1, len - 1);
                (s, len - s)
            }
            Offsets::Full => {
                let s = s.clamp(1, len);
                (s, len - s + 1)
            }
        }
    }
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
#[allow(clippy::too_many_arguments)]
pub fn square(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    norm: Norm,
    eps: f64,
    queries: usize,
    offsets: Offsets,
    rng: &mut Rng,
) -> SquareResult {
    let (n, d) = x.shape();
    let side = (d as f64).sqrt().round() as usize;
    let (h, w) = if side * side == d {
        (side, side)
    } else {
        (1, d)
    };
    let counted = Counted::new(model);
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
    let margin = margins(&counted, &best, y);
    // The query of smallest margin per point; a point leaves once its margin is ≤ 0.
    let mut best = Incumbent::new(best, margin, Keep::Smaller);
    for it in 1..queries {
        let live = Live::filter(n, |&i| best.score()[i] > 0.0);
        if live.is_empty() {
            break;
        }
        let p = p_schedule(it, queries, 0.8);
        let s = (p * (h * w) as f64).sqrt().round() as usize;
        let ((sh, ch), (sw, cw)) = (offsets.window(s, h), offsets.window(s, w));
        let mut cand = live.select(best.x());
        for (r, &i) in live.rows().iter().enumerate() {
            let vh = rng::index(rng, ch);
            let vw = rng::index(rng, cw);
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
                            cand[(r, j)] += eps * rng::normal(rng) / sh.max(sw) as f64;
                        }
                    }
                    let delta: Vec<f64> = (0..d).map(|j| cand[(r, j)] - x[(i, j)]).collect();
                    let nd = Norm::L2.of(&delta);
                    let f = if nd > 0.0 { eps / nd } else { 0.0 };
                    for j in 0..d {
                        cand[(r, j)] = (x[(i, j)] + delta[j] * f).clamp(0.0, 1.0);
                    }
                }
            }
        }
        let m = margins(&counted, &cand, &live.gather(y));
        best.offer(live.rows(), &cand, &m);
    }
    let (x_adv, margin) = best.into_parts();
    SquareResult {
        x_adv,
        success: margin.iter().map(|&m| m < 0.0).collect(),
        cost: counted.cost(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::row_argmax;
    use crate::model::{Activation, Mlp};

    #[test]
    fn square_stays_in_the_ball_and_box_and_reports_true_successes() {
        let mut r = rng::seeded(3, 0);
        let net = Mlp::init(&mut r, vec![16, 12, 4], Activation::Relu, 1.0).unwrap();
        let x = DMatrix::from_fn(20, 16, |_, _| rng::uniform(&mut r));
        let z = net.logits(&x);
        let y = row_argmax(&z);
        for (norm, eps) in [(Norm::Linf, 0.3), (Norm::L2, 1.0)] {
            let out = square(&net, &x, &y, norm, eps, 300, Offsets::Reference, &mut r);
            let predicted = row_argmax(&net.logits(&out.x_adv));
            for i in 0..20 {
                let d: Vec<f64> = (0..16).map(|j| out.x_adv[(i, j)] - x[(i, j)]).collect();
                let n = match norm {
                    Norm::Linf => d.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                    Norm::L2 => d.iter().map(|v| v * v).sum::<f64>().sqrt(),
                };
                assert!(n <= eps * (1.0 + 1e-12), "{norm:?}: ‖δ‖ = {n}");
                assert!(out.x_adv.row(i).iter().all(|v| (0.0..=1.0).contains(v)));
                let broken = predicted[i] != y[i];
                assert_eq!(out.success[i], broken, "{norm:?} point {i}");
            }
            assert!(out.cost.forwards <= 20 * 300);
        }
    }

    #[test]
    fn reference_windows_never_reach_the_last_pixel_and_full_windows_do() {
        for len in [2usize, 4, 8, 28] {
            for s in 0..=len + 2 {
                let (side, corners) = Offsets::Reference.window(s, len);
                assert!((1..len).contains(&side), "len {len}, s {s}: side {side}");
                // The furthest window ends one pixel short of the edge.
                assert_eq!(corners - 1 + side, len - 1, "len {len}, s {s}");
                let (side, corners) = Offsets::Full.window(s, len);
                assert!((1..=len).contains(&side));
                assert_eq!(corners - 1 + side, len, "len {len}, s {s}");
            }
        }
        assert_eq!(Offsets::Reference.window(5, 1), (1, 1));
    }
}
