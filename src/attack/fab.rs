//! FAB-T, the targeted fast adaptive boundary attack (Croce & Hein 2020, arXiv:1907.02044;
//! defaults of fra31/auto-attack `fab_base.py`: η = 1.05, β = 0.9, α_max = 0.1, no random start
//! in the first run).
//!
//! At x_k with g = ∇_x(z_y − z_t) and f = z_y − z_t, both x_k and the original x are projected
//! onto the linearised boundary {u : f + gᵀ(u − x_k) = 0} inside the box, in the threat norm
//! (d₁, d₂); with α = min(‖d₁‖/(‖d₁‖ + ‖d₂‖), α_max) the next iterate is
//! clamp((1 − α)(x_k + ηd₁) + α(x + ηd₂)). A misclassified iterate is recorded if it is the
//! smallest so far and is pulled back towards x by β. A point is broken if the smallest
//! perturbation found has norm ≤ ε. The box-constrained projections are computed through
//! the Lagrange multiplier (L2: d = clamp(λw)) or the radius (L∞: d = clamp(t·sign(w))), solved
//! exactly by sorting the breakpoints of a piecewise-linear equation.

use super::apgd::Norm;
use super::incumbent::{Incumbent, Keep, Live};
use super::objective::{Cost, Counted};
use crate::model::Classifier;
use nalgebra::DMatrix;

/// FAB settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FabConfig {
    /// Threat model.
    pub norm: Norm,
    /// Iterations per target.
    pub n_iter: usize,
    /// Overshoot η.
    pub eta: f64,
    /// Pull-back β.
    pub beta: f64,
    /// α_max.
    pub alpha_max: f64,
}

impl FabConfig {
    /// AutoAttack's defaults for `norm`.
    pub fn new(norm: Norm) -> Self {
        Self {
            norm,
            n_iter: 100,
            eta: 1.05,
            beta: 0.9,
            alpha_max: 0.1,
        }
    }
}

/// The smallest d (in `norm`) with wᵀ(p + d) = b and lo ≤ p + d ≤ hi (the closest reachable
/// point if the hyperplane misses the box).
///
/// Both norms reduce to one scalar equation: moving coordinate i in the direction
/// σ_i = sign(c·w_i) (c = b − wᵀp), by at most its room cap_i to the box, the reached change is
/// R(t) = Σ_i a_i·min(t, c_i) with (L∞) a_i = |w_i|, c_i = cap_i, d_i = σ_i min(t, cap_i), or
/// (L2, d_i = clamp(λw_i)) a_i = w_i², c_i = cap_i/|w_i|, d_i = σ_i min(t|w_i|, cap_i). R is
/// piecewise linear and increasing; sorting the c_i gives the exact t with R(t) = |c|.
pub fn project_to_hyperplane(
    p: &[f64],
    w: &[f64],
    b: f64,
    lo: f64,
    hi: f64,
    norm: Norm,
) -> Vec<f64> {
    let c = b - w.iter().zip(p).map(|(a, x)| a * x).sum::<f64>();
    let n = p.len();
    let mut d = vec![0.0; n];
    if c == 0.0 {
        return d;
    }
    let target = c.abs();
    // (a_i, c_i, i) for the coordinates that can move.
    let mut terms: Vec<(f64, f64, usize)> = (0..n)
        .filter(|&i| w[i] != 0.0)
        .map(|i| {
            let up = c.signum() * w[i].signum() > 0.0;
            let cap = if up { hi - p[i] } else { p[i] - lo }.max(0.0);
            match norm {
                Norm::Linf => (w[i].abs(), cap, i),
                Norm::L2 => (w[i] * w[i], cap / w[i].abs(), i),
            }
        })
        .collect();
    terms.sort_by(|x, y| x.1.total_cmp(&y.1));
    let mut slope: f64 = terms.iter().map(|t| t.0).sum();
    let (mut reached, mut t_prev) = (0.0, 0.0);
    let mut t = f64::INFINITY;
    for &(a, ci, _) in &terms {
        let next = reached + slope * (ci - t_prev);
        if next >= target && slope > 0.0 {
            t = t_prev + (target - reached) / slope;
            break;
        }
        reached = next;
        t_prev = ci;
        slope -= a;
    }
    if !t.is_finite() {
        // The hyperplane misses the box: move every coordinate as far as it can.
        t = terms.last().map_or(0.0, |x| x.1);
    }
    for &(_, _, i) in &terms {
        let up = c.signum() * w[i].signum() > 0.0;
        let cap = if up { hi - p[i] } else { p[i] - lo }.max(0.0);
        let mag = match norm {
            Norm::Linf => t.min(cap),
            Norm::L2 => (t * w[i].abs()).min(cap),
        };
        d[i] = if up { mag } else { -mag };
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn projections_reach_the_hyperplane_inside_the_box_and_are_minimal() {
        let mut r = rng::seeded(5, 0);
        for trial in 0..200 {
            let n = 6;
            let p: Vec<f64> = (0..n).map(|_| rng::uniform(&mut r)).collect();
            let w: Vec<f64> = (0..n).map(|_| rng::normal(&mut r)).collect();
            let b = w.iter().zip(&p).map(|(a, x)| a * x).sum::<f64>() + 0.3 * rng::normal(&mut r);
            for norm in [Norm::L2, Norm::Linf] {
                let d = project_to_hyperplane(&p, &w, b, 0.0, 1.0, norm);
                let reached: f64 = w
                    .iter()
                    .zip(p.iter().zip(&d))
                    .map(|(a, (x, e))| a * (x + e))
                    .sum();
                let inside = p
                    .iter()
                    .zip(&d)
                    .all(|(x, e)| (-1e-12..=1.0 + 1e-12).contains(&(x + e)));
                assert!(inside, "trial {trial}");
                if (reached - b).abs() < 1e-9 {
                    // Minimality against random feasible points on the hyperplane in the box.
                    let nd = norm.of(&d);
                    for _ in 0..50 {
                        let q: Vec<f64> = (0..n).map(|_| rng::uniform(&mut r)).collect();
                        let off = b - w.iter().zip(&q).map(|(a, x)| a * x).sum::<f64>();
                        let j = (0..n)
                            .max_by(|&a, &bb| w[a].abs().total_cmp(&w[bb].abs()))
                            .unwrap();
                        let mut q2 = q.clone();
                        q2[j] += off / w[j];
                        if (0.0..=1.0).contains(&q2[j]) {
                            let e: Vec<f64> = q2.iter().zip(&p).map(|(a, x)| a - x).collect();
                            assert!(nd <= norm.of(&e) + 1e-9, "trial {trial} {norm:?}");
                        }
                    }
                }
            }
        }
    }
}

/// Outcome of FAB-T for one target per point.
#[derive(Clone, Debug)]
pub struct FabResult {
    /// The smallest misclassified point found (x where none).
    pub x_adv: DMatrix<f64>,
    /// Norm of x_adv − x (∞ where none).
    pub radius: Vec<f64>,
    /// Passes per sample made.
    pub cost: Cost,
}

/// FAB-T toward `targets` (one per row) inside the box [0, 1].
pub fn fab_targeted(
    model: &dyn Classifier,
    x: &DMatrix<f64>,
    y: &[usize],
    targets: &[usize],
    cfg: &FabConfig,
) -> FabResult {
    let (n, d) = x.shape();
    let k = model.classes();
    let row = |m: &DMatrix<f64>, i: usize| -> Vec<f64> { m.row(i).iter().copied().collect() };
    let mut x1 = x.clone();
    // The smallest misclassified point so far (x and +∞ where none yet).
    let mut best = Incumbent::new(x.clone(), vec![f64::INFINITY; n], Keep::Smaller);
    let all = Live::all(n);
    let counted = Counted::new(model);
    for _ in 0..cfg.n_iter {
        let (z, g, _) = counted.forward_backward(&x1, false, &mut |zz| {
            DMatrix::from_fn(zz.nrows(), k, |i, c| {
                f64::from(u8::from(c == y[i])) - f64::from(u8::from(c == targets[i]))
            })
        });
        let mut next = x1.clone();
        for i in 0..n {
            let (xi, x0, w) = (row(&x1, i), row(x, i), row(&g, i));
            let f = z[(i, y[i])] - z[(i, targets[i])];
            let b = -f + w.iter().zip(&xi).map(|(a, v)| a * v).sum::<f64>();
            let d1 = project_to_hyperplane(&xi, &w, b, 0.0, 1.0, cfg.norm);
            let d2 = project_to_hyperplane(&x0, &w, b, 0.0, 1.0, cfg.norm);
            let (a1, a2) = (cfg.norm.of(&d1), cfg.norm.of(&d2));
            let alpha = if a1 + a2 > 0.0 {
                (a1 / (a1 + a2)).clamp(0.0, cfg.alpha_max)
            } else {
                0.0
            };
            for j in 0..d {
                let v =
                    (xi[j] + cfg.eta * d1[j]) * (1.0 - alpha) + (x0[j] + cfg.eta * d2[j]) * alpha;
                next[(i, j)] = v.clamp(0.0, 1.0);
            }
        }
        let z1 = counted.logits(&next);
        let misclassified: Vec<bool> = (0..n)
            .map(|i| super::losses::argmax(&row(&z1, i)) != y[i])
            .collect();
        let radius: Vec<f64> = (0..n)
            .map(|i| {
                if misclassified[i] {
                    let delta: Vec<f64> = (0..d).map(|j| next[(i, j)] - x[(i, j)]).collect();
                    cfg.norm.of(&delta)
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        best.offer(all.rows(), &next, &radius);
        // A misclassified iterate is pulled back towards x by β.
        for i in (0..n).filter(|&i| misclassified[i]) {
            for j in 0..d {
                next[(i, j)] = x[(i, j)] + (next[(i, j)] - x[(i, j)]) * cfg.beta;
            }
        }
        x1 = next;
    }
    let (x_adv, radius) = best.into_parts();
    FabResult {
        x_adv,
        radius,
        cost: counted.cost(),
    }
}

#[cfg(test)]
mod pipeline_tests {
    use super::*;
    use crate::linalg::row_argmax;
    use crate::model::{Activation, Mlp};
    use crate::rng;

    #[test]
    fn fab_returns_misclassified_points_in_the_box_with_their_norms() {
        let mut r = rng::seeded(4, 0);
        let net = Mlp::init(&mut r, vec![10, 16, 5], Activation::Relu, 1.0).unwrap();
        let x = DMatrix::from_fn(15, 10, |_, _| 0.2 + 0.6 * rng::uniform(&mut r));
        let z = net.logits(&x);
        let y = row_argmax(&z);
        let t: Vec<usize> = (0..15)
            .map(|i| {
                crate::attack::targets::autoattack_targets(
                    &z.row(i).iter().copied().collect::<Vec<_>>(),
                    1,
                )[0]
            })
            .collect();
        for norm in [Norm::Linf, Norm::L2] {
            let out = fab_targeted(
                &net,
                &x,
                &y,
                &t,
                &FabConfig {
                    n_iter: 30,
                    ..FabConfig::new(norm)
                },
            );
            let predicted = row_argmax(&net.logits(&out.x_adv));
            let mut found = 0;
            for i in 0..15 {
                assert!(out.x_adv.row(i).iter().all(|v| (0.0..=1.0).contains(v)));
                if out.radius[i].is_finite() {
                    found += 1;
                    assert_ne!(predicted[i], y[i]);
                    let d: Vec<f64> = (0..10).map(|j| out.x_adv[(i, j)] - x[(i, j)]).collect();
                    assert!((norm.of(&d) - out.radius[i]).abs() <= 1e-12);
                }
            }
            assert!(found > 0, "{norm:?}: FAB found nothing");
            assert_eq!(out.cost.gradients, 15 * 30);
        }
    }
}
