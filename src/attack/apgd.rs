//! Auto-PGD (APGD; Croce & Hein 2020, arXiv:2003.01690) for L∞ and L2, as specified in malt.md §4
//! from fra31/auto-attack `autopgd_base.py` and adv_lib `attacks/auto_pgd.py`.
//!
//! One run of N iterations on a batch (all operations per sample):
//! - start x₀ = x + ε·t/‖t‖_∞, t ~ U[−1, 1]^d (L∞) or x + ε·t/‖t‖₂, t ~ N(0, I) (L2), clamped to
//!   the box; or x₀ = x without a random start;
//! - step size η = 2ε; direction s(g) = sign(g) (L∞) or g/(‖g‖₂ + 1e−12) (L2);
//! - z = P(x_i + η s(∇)), x_{i+1} = P(x_i + a(z − x_i) + (1 − a)(x_i − x_{i−1})) with a = 0.75
//!   (a = 1 at i = 0); P clips to the ε-ball (L∞) or rescales v = x' − x by min(ε, ‖v‖)/‖v‖
//!   (L2), then clamps to the box;
//! - after each step the loss and gradient at x_{i+1}; strictly better losses update
//!   (x_best, ∇_best, L_best); successful iterates update x_best_adv;
//! - checkpoints: the window k starts at ⌊0.22N⌋ and shrinks by ⌊0.03N⌋ to at least ⌊0.06N⌋
//!   (each at least 1); at a checkpoint η halves for a sample if the loss increased in at most
//!   0.75k of the last k steps (the first check compares L(0) with a still-zero slot) or if it
//!   was not halved at the previous check and L_best did not improve since; a halved sample
//!   restarts from (x_best, ∇_best), keeping its previous iterate for the momentum term.
//!
//! Variants: AutoAttack starts with "halved at the previous check" true and x_best_adv = x₀;
//! adv_lib starts it false and x_best_adv = x. A constraint (dimpled.md §3) projects every
//! gradient (and the random start) onto a tangent space or its complement; without a box the
//! iterates then stay in the chosen subspace. Each run costs N + 1 gradient evaluations per
//! sample.

use super::incumbent::{scatter_rows, Incumbent, Keep, Live};
use super::objective::Objective;
use crate::error::{ensure_finite, Error, Result};
use crate::geometry::Constraint;
use crate::linalg::scale_rows;
use crate::rng::{self, Rng};
use nalgebra::{DMatrix, DVector};

pub use super::norm::{Norm, L2_GUARD};

/// Which reference implementation's bookkeeping to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// fra31/auto-attack.
    AutoAttack,
    /// adv_lib (MALT's base attack).
    AdvLib,
}

/// APGD settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ApgdConfig {
    /// Threat model.
    pub norm: Norm,
    /// Iterations N per run.
    pub n_iter: usize,
    /// Runs with fresh random starts on the points still unbroken.
    pub restarts: usize,
    /// Reference variant.
    pub variant: Variant,
    /// Random start in the ε-ball (else start at x).
    pub random_start: bool,
    /// Input box, e.g. (0, 1).
    pub bounds: Option<(f64, f64)>,
}

impl ApgdConfig {
    /// AutoAttack's defaults: 100 iterations, 1 run, random start, box [0, 1].
    pub fn new(norm: Norm, variant: Variant) -> Self {
        Self {
            norm,
            n_iter: 100,
            restarts: 1,
            variant,
            random_start: true,
            bounds: Some((0.0, 1.0)),
        }
    }
}

/// The checkpoints of N iterations (Croce & Hein 2020, §3.1): the 0-based iteration after
/// which each falls and its window k. The first window is ⌊0.22N⌋; each later one is the
/// previous less ⌊0.03N⌋, but at least ⌊0.06N⌋ (each of the three at least 1), as in both
/// reference codes. Every loop over checkpoints walks this iterator.
#[derive(Clone, Debug)]
pub struct Checkpoints {
    n_iter: usize,
    at: usize,
    k: usize,
    decr: usize,
    min_k: usize,
}

impl Checkpoints {
    /// The checkpoints of `n_iter` iterations.
    pub fn new(n_iter: usize) -> Self {
        let f = |c: f64| ((c * n_iter as f64) as usize).max(1);
        Self {
            n_iter,
            at: 0,
            k: f(0.22),
            decr: f(0.03),
            min_k: f(0.06),
        }
    }
}

impl Iterator for Checkpoints {
    /// (iteration i after which the checkpoint falls, window k).
    type Item = (usize, usize);
    fn next(&mut self) -> Option<(usize, usize)> {
        let k = self.k;
        if self.at + k > self.n_iter {
            return None;
        }
        self.at += k;
        self.k = k.saturating_sub(self.decr).max(self.min_k);
        Some((self.at - 1, k))
    }
}

/// The 0-based iterations after which a checkpoint falls, for N iterations.
pub fn checkpoints(n_iter: usize) -> Vec<usize> {
    Checkpoints::new(n_iter).map(|(i, _)| i).collect()
}

/// The oscillation test at iteration `j` with window `k`: true if the loss increased in at most
/// `thr·k` of the last k steps. `losses[i]` is the loss after step i; index −1 wraps to the last
/// slot, which is still 0 at the first check (as in the reference code).
pub fn oscillating(losses: &[f64], j: usize, k: usize, thr: f64) -> bool {
    let n = losses.len() as isize;
    let at = |i: isize| losses[i.rem_euclid(n) as usize];
    let ups = (0..k as isize)
        .filter(|&c| at(j as isize - c) > at(j as isize - c - 1))
        .count();
    ups as f64 <= thr * k as f64
}

/// ρ of the oscillation test: halve when the loss rose in at most ρ·k of the last k steps
/// (0.75 in both reference codes).
pub const OSCILLATION_THRESHOLD: f64 = 0.75;

/// The step-size rule of one sample at the checkpoints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Halving {
    reduced_last: bool,
    loss_best_last: f64,
    threshold: f64,
}

impl Halving {
    /// The state before the first checkpoint: "halved at the previous check" is true for
    /// AutoAttack and false for adv_lib; L_best at the last check is L(x₀).
    pub fn new(variant: Variant, loss_best0: f64) -> Self {
        Self {
            reduced_last: variant == Variant::AutoAttack,
            loss_best_last: loss_best0,
            threshold: OSCILLATION_THRESHOLD,
        }
    }
    /// The same rule with the oscillation threshold ρ replaced (for sensitivity controls).
    pub fn with_threshold(self, threshold: f64) -> Self {
        Self { threshold, ..self }
    }
    /// The decision at the checkpoint after iteration `i` with window `k`: halve if the loss
    /// oscillates or if it was not halved at the previous check and L_best did not improve.
    pub fn check(&mut self, losses: &[f64], i: usize, k: usize, loss_best: f64) -> bool {
        let halve = oscillating(losses, i, k, self.threshold)
            || (!self.reduced_last && self.loss_best_last >= loss_best);
        self.reduced_last = halve;
        self.loss_best_last = loss_best;
        halve
    }
}

/// Replays the checkpoint rule on a scripted run: `loss0` = L(x₀), `losses[i]` = the loss after
/// step i (N = losses.len()); L_best is the running maximum (strict improvements). Returns the
/// (iteration, halve) decisions at the checkpoints.
pub fn scripted_halvings(loss0: f64, losses: &[f64], variant: Variant) -> Vec<(usize, bool)> {
    scripted_halvings_at(loss0, losses, variant, OSCILLATION_THRESHOLD)
}

/// [`scripted_halvings`] with the oscillation threshold ρ given.
pub fn scripted_halvings_at(
    loss0: f64,
    losses: &[f64],
    variant: Variant,
    threshold: f64,
) -> Vec<(usize, bool)> {
    let n = losses.len();
    let mut slots = vec![0.0; n];
    let mut best = loss0;
    let mut state = Halving::new(variant, loss0).with_threshold(threshold);
    let mut out = Vec::new();
    let mut checkpoints = Checkpoints::new(n).peekable();
    for i in 0..n {
        slots[i] = losses[i];
        if losses[i] > best {
            best = losses[i];
        }
        if let Some((_, k)) = checkpoints.next_if(|&(at, _)| at == i) {
            out.push((i, state.check(&slots, i, k, best)));
        }
    }
    out
}

/// Per-iteration record of a run (for invariant checks): step sizes, distances to x in the
/// threat norm, the best losses and the box violation.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// η per iteration (row) and sample (column), before the step.
    pub eta: Vec<Vec<f64>>,
    /// ‖x_i − x‖ per iterate (including x₀) and sample.
    pub dist: Vec<Vec<f64>>,
    /// L_best after each evaluation.
    pub loss_best: Vec<Vec<f64>>,
    /// Largest distance of an iterate outside the box.
    pub box_violation: f64,
    /// max |x₁ − P(x₀ + η s(∇L(x₀)))|: the first iterate against the plain projected gradient
    /// step (0 when the first step takes no momentum and the full step, a = 1).
    pub first_step_deviation: f64,
    /// Gradient evaluations per sample.
    pub evaluations: usize,
}

/// Outcome of [`apgd`].
#[derive(Clone, Debug)]
pub struct ApgdResult {
    /// The best adversarial point found (for unbroken points: the variant's fallback).
    pub x_adv: DMatrix<f64>,
    /// Whether a successful point was found.
    pub success: Vec<bool>,
    /// The best loss.
    pub loss_best: DVector<f64>,
}

struct Ctx<'a> {
    x: &'a DMatrix<f64>,
    eps: &'a [f64],
    cfg: &'a ApgdConfig,
}

/// The plain projected gradient step from the start x₀ of a run around the clean points x,
/// written out independently of [`Ctx::step`] (row by row, the textbook formulas) as the
/// reference of the trace's first-step check: L∞: clip_box(clip_{x±ε}(x₀ + η·sign g));
/// L2: clip_box(x + Π_ε(x₀ + η g/‖g‖ − x)), where Π_ε shrinks a vector longer than ε to length ε.
fn plain_projected_step(
    x0: &DMatrix<f64>,
    centre: &DMatrix<f64>,
    g: &DMatrix<f64>,
    eta: &[f64],
    eps: &[f64],
    norm: Norm,
    bounds: Option<(f64, f64)>,
) -> DMatrix<f64> {
    let (n, d) = x0.shape();
    let (lo, hi) = bounds.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
    let mut out = x0.clone();
    for r in 0..n {
        let row: Vec<f64> = (0..d).map(|j| g[(r, j)]).collect();
        // The displacement from the centre after the step, before the projection.
        let moved: Vec<f64> = match norm {
            Norm::Linf => row
                .iter()
                .enumerate()
                .map(|(j, &v)| {
                    let s = if v > 0.0 {
                        1.0
                    } else if v < 0.0 {
                        -1.0
                    } else {
                        0.0
                    };
                    x0[(r, j)] + eta[r] * s - centre[(r, j)]
                })
                .collect(),
            Norm::L2 => {
                let len = row.iter().map(|v| v * v).sum::<f64>().sqrt();
                (0..d)
                    .map(|j| x0[(r, j)] + eta[r] * row[j] / (len + L2_GUARD) - centre[(r, j)])
                    .collect()
            }
        };
        let projected: Vec<f64> = match norm {
            Norm::Linf => moved.iter().map(|v| v.clamp(-eps[r], eps[r])).collect(),
            Norm::L2 => {
                let len = moved.iter().map(|v| v * v).sum::<f64>().sqrt();
                let f = if len > eps[r] { eps[r] / len } else { 1.0 };
                moved.iter().map(|v| v * f).collect()
            }
        };
        for j in 0..d {
            out[(r, j)] = (centre[(r, j)] + projected[j]).clamp(lo, hi);
        }
    }
    out
}

impl Ctx<'_> {
    /// P: the ε-ball, then the box.
    fn project(&self, v: &mut DMatrix<f64>) {
        self.cfg.norm.project_rows(v, self.x, self.eps);
        if let Some((lo, hi)) = self.cfg.bounds {
            v.apply(|t| *t = t.clamp(lo, hi));
        }
    }
    /// One APGD update: z = P(x_i + η s(g)), x_{i+1} = P(x_i + a(z − x_i) + (1 − a)(x_i − x_{i−1})).
    /// L∞ is one fused pass over the entries (the projection is entrywise).
    fn step(
        &self,
        x: &DMatrix<f64>,
        prev: &DMatrix<f64>,
        g: &DMatrix<f64>,
        eta: &[f64],
        a: f64,
    ) -> DMatrix<f64> {
        match self.cfg.norm {
            Norm::Linf => {
                let (n, d) = x.shape();
                let (lo, hi) = self
                    .cfg
                    .bounds
                    .unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
                let mut out = DMatrix::zeros(n, d);
                let (xs, ps, gs, x0) = (
                    x.as_slice(),
                    prev.as_slice(),
                    g.as_slice(),
                    self.x.as_slice(),
                );
                for (k, o) in out.as_mut_slice().iter_mut().enumerate() {
                    let i = k % n;
                    let (c0, e) = (x0[k], self.eps[i]);
                    let clip = |v: f64| v.max(c0 - e).min(c0 + e).clamp(lo, hi);
                    let z = clip(xs[k] + eta[i] * gs[k].signum_or_zero());
                    *o = clip(xs[k] + a * (z - xs[k]) + (1.0 - a) * (xs[k] - ps[k]));
                }
                out
            }
            Norm::L2 => {
                let mut step = self.direction(g);
                scale_rows(&mut step, eta);
                let mut z = x + step;
                self.project(&mut z);
                let mut xn = x + (z - x) * a + (x - prev) * (1.0 - a);
                self.project(&mut xn);
                xn
            }
        }
    }
    fn direction(&self, g: &DMatrix<f64>) -> DMatrix<f64> {
        match self.cfg.norm {
            Norm::Linf => g.map(f64::signum_or_zero),
            Norm::L2 => {
                let mut s = g.clone();
                let f: Vec<f64> = Norm::L2
                    .row_norms(g)
                    .iter()
                    .map(|n| 1.0 / (n + L2_GUARD))
                    .collect();
                scale_rows(&mut s, &f);
                s
            }
        }
    }
}

trait SignumOrZero {
    fn signum_or_zero(self) -> f64;
}
impl SignumOrZero for f64 {
    /// sign(0) = 0, as torch.sign.
    fn signum_or_zero(self) -> f64 {
        if self > 0.0 {
            1.0
        } else if self < 0.0 {
            -1.0
        } else {
            0.0
        }
    }
}

/// Runs APGD on the points `idx` (rows of `x`) with per-point radii `eps`. `constraint` projects
/// every gradient; `trace` records the first run.
#[allow(clippy::too_many_arguments)]
pub fn apgd(
    obj: &dyn Objective,
    x: &DMatrix<f64>,
    idx: &[usize],
    eps: &[f64],
    cfg: &ApgdConfig,
    constraint: &Constraint<'_>,
    rng: &mut Rng,
    mut trace: Option<&mut Trace>,
) -> Result<ApgdResult> {
    let (n, d) = x.shape();
    if d != obj.dim() || idx.len() != n || eps.len() != n {
        return Err(Error::shape(format!(
            "APGD: {n} × {d} points, {} indices, {} radii, objective of dimension {}",
            idx.len(),
            eps.len(),
            obj.dim()
        )));
    }
    ensure_finite("attacked points", x.as_slice())?;
    if let Some(e) = eps.iter().find(|e| !(**e >= 0.0) || !e.is_finite()) {
        return Err(Error::input(format!(
            "attack radius must be finite and ≥ 0, got {e}"
        )));
    }
    if cfg.n_iter == 0 || cfg.restarts == 0 {
        return Err(Error::input(
            "APGD needs at least one iteration and one run",
        ));
    }
    if let Some((lo, hi)) = cfg.bounds {
        if x.iter().any(|v| *v < lo || *v > hi) {
            return Err(Error::input(format!(
                "attacked points lie outside the box [{lo}, {hi}]"
            )));
        }
    }
    let mut out = ApgdResult {
        x_adv: x.clone(),
        success: vec![false; n],
        loss_best: DVector::from_element(n, f64::NEG_INFINITY),
    };
    for run in 0..cfg.restarts {
        let live = Live::filter(n, |&i| !out.success[i]);
        if live.is_empty() {
            break;
        }
        let xs = live.select(x);
        let ids = live.gather(idx);
        let es = live.gather(eps);
        let ctx = Ctx {
            x: &xs,
            eps: &es,
            cfg,
        };
        let t = if run == 0 { trace.as_deref_mut() } else { None };
        let r = single_run(obj, &ctx, &ids, constraint, rng, t);
        // The first run's points stand for every row; a later run's only where it succeeded.
        let take: Vec<bool> = r.success.iter().map(|&s| s || run == 0).collect();
        scatter_rows(&mut out.x_adv, live.rows(), &r.x_adv, &take);
        for (r_i, &i) in live.rows().iter().enumerate() {
            out.success[i] = r.success[r_i];
            out.loss_best[i] = out.loss_best[i].max(r.loss_best[r_i]);
        }
    }
    Ok(out)
}

/// APGD on every row of `x` at one radius, then one forward pass to verify success (the
/// pipelines' bookkeeping): the adversarial points and the verified successes.
pub fn run_verified(
    obj: &dyn Objective,
    x: &DMatrix<f64>,
    eps: f64,
    cfg: &ApgdConfig,
    rng: &mut Rng,
) -> Result<(DMatrix<f64>, Vec<bool>)> {
    let idx: Vec<usize> = (0..x.nrows()).collect();
    let r = apgd(
        obj,
        x,
        &idx,
        &vec![eps; x.nrows()],
        cfg,
        &Constraint::Free,
        rng,
        None,
    )?;
    let ok = obj.success(&r.x_adv, &idx);
    Ok((r.x_adv, ok))
}

fn single_run(
    obj: &dyn Objective,
    c: &Ctx<'_>,
    idx: &[usize],
    constraint: &Constraint<'_>,
    rng: &mut Rng,
    mut trace: Option<&mut Trace>,
) -> ApgdResult {
    let (n, d) = c.x.shape();
    let n_iter = c.cfg.n_iter;
    let mut x_cur = c.x.clone();
    if c.cfg.random_start {
        let mut t = match c.cfg.norm {
            Norm::Linf => DMatrix::from_fn(n, d, |_, _| 2.0 * rng::uniform(rng) - 1.0),
            Norm::L2 => rng::gaussian_matrix(rng, n, d, 1.0),
        };
        constraint.project_rows(&mut t, idx);
        let norms = c.cfg.norm.row_norms(&t);
        let f: Vec<f64> = norms
            .iter()
            .zip(c.eps)
            .map(|(&nt, &e)| if nt > 0.0 { e / nt } else { 0.0 })
            .collect();
        scale_rows(&mut t, &f);
        x_cur += t;
        if let Some((lo, hi)) = c.cfg.bounds {
            x_cur.apply(|v| *v = v.clamp(lo, hi));
        }
    }
    let record = |trace: &mut Option<&mut Trace>, xc: &DMatrix<f64>, lb: &[f64]| {
        if let Some(t) = trace.as_deref_mut() {
            t.dist.push(c.cfg.norm.row_norms(&(xc - c.x)));
            t.loss_best.push(lb.to_vec());
            if let Some((lo, hi)) = c.cfg.bounds {
                let v = xc
                    .iter()
                    .map(|v| (lo - v).max(v - hi).max(0.0))
                    .fold(0.0, f64::max);
                t.box_violation = t.box_violation.max(v);
            }
            t.evaluations += 1;
        }
    };
    let e0 = obj.eval(&x_cur, idx);
    let mut g = e0.grad;
    constraint.project_rows(&mut g, idx);
    // Every row stays live through a run: (x_best, L_best) is the iterate of largest loss, with
    // its gradient ∇_best beside it; x_best_adv the last successful iterate.
    let all = Live::all(n);
    let mut best = Incumbent::new(x_cur.clone(), e0.loss.as_slice().to_vec(), Keep::Larger);
    let mut grad_best = g.clone();
    let mut success = e0.success.clone();
    let mut x_best_adv = match c.cfg.variant {
        Variant::AutoAttack => x_cur.clone(),
        Variant::AdvLib => {
            let mut xb = c.x.clone();
            scatter_rows(&mut xb, all.rows(), &x_cur, &success);
            xb
        }
    };
    record(&mut trace, &x_cur, best.score());
    let mut eta: Vec<f64> = c.eps.iter().map(|e| 2.0 * e).collect();
    let mut x_prev = x_cur.clone();
    let mut checkpoints = Checkpoints::new(n_iter).peekable();
    let mut losses = vec![vec![0.0; n]; n_iter];
    let mut rule: Vec<Halving> = best
        .score()
        .iter()
        .map(|&l| Halving::new(c.cfg.variant, l))
        .collect();
    for i in 0..n_iter {
        let a = if i == 0 { 1.0 } else { 0.75 };
        let xn = c.step(&x_cur, &x_prev, &g, &eta, a);
        if let Some(t) = trace.as_deref_mut() {
            t.eta.push(eta.clone());
            if i == 0 {
                let plain =
                    plain_projected_step(&x_cur, c.x, &g, &eta, c.eps, c.cfg.norm, c.cfg.bounds);
                t.first_step_deviation = (&xn - plain).amax();
            }
        }
        x_prev = std::mem::replace(&mut x_cur, xn);
        let e = obj.eval(&x_cur, idx);
        g = e.grad;
        constraint.project_rows(&mut g, idx);
        scatter_rows(&mut x_best_adv, all.rows(), &x_cur, &e.success);
        for r in 0..n {
            success[r] |= e.success[r];
            losses[i][r] = e.loss[r];
        }
        let improved = best.offer(all.rows(), &x_cur, e.loss.as_slice());
        scatter_rows(&mut grad_best, all.rows(), &g, &improved);
        record(&mut trace, &x_cur, best.score());
        if let Some((_, k)) = checkpoints.next_if(|&(at, _)| at == i) {
            let mut halve = vec![false; n];
            for r in 0..n {
                let col: Vec<f64> = losses.iter().map(|l| l[r]).collect();
                halve[r] = rule[r].check(&col, i, k, best.score()[r]);
                if halve[r] {
                    eta[r] /= 2.0;
                }
            }
            scatter_rows(&mut x_cur, all.rows(), best.x(), &halve);
            scatter_rows(&mut g, all.rows(), &grad_best, &halve);
        }
    }
    ApgdResult {
        x_adv: x_best_adv,
        success,
        loss_best: DVector::from_vec(best.into_parts().1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_of_100_iterations_match_the_reference() {
        assert_eq!(checkpoints(100), vec![21, 40, 56, 69, 79, 86, 92, 98]);
        // The windows: 22, 19, 16, 13, 10, then the floor 6 (100·0.03 = 3 off each time).
        let windows: Vec<usize> = Checkpoints::new(100).map(|(_, k)| k).collect();
        assert_eq!(windows, vec![22, 19, 16, 13, 10, 7, 6, 6]);
    }

    /// Each window is the distance from the previous checkpoint, for every N up to 300, every
    /// checkpoint is within the run, and a run of N ≥ 1 iterations has one.
    #[test]
    fn each_window_spans_the_iterations_since_the_previous_checkpoint() {
        for n in 0..300 {
            let mut previous: Option<usize> = None;
            for (at, k) in Checkpoints::new(n) {
                assert_eq!(at + 1, previous.map_or(0, |p| p + 1) + k, "N = {n}");
                assert!(at < n && k >= 1);
                previous = Some(at);
            }
            // At least one checkpoint from N = 1 on (the first window ⌊0.22N⌋ ≤ N).
            assert_eq!(previous.is_some(), n >= 1, "N = {n}");
        }
    }

    use crate::geometry::{Projector, Tangents};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A scripted objective: loss_r(x) = −Σ_j a_j (x_j − c_j)² + w·x (a concave bowl plus a
    /// linear term), gradient by hand, success where the loss exceeds the row's threshold.
    /// Counts the rows it evaluates.
    struct Bowl {
        w: Vec<f64>,
        a: Vec<f64>,
        c: Vec<f64>,
        threshold: Vec<f64>,
        rows: AtomicUsize,
    }

    impl Bowl {
        fn linear(w: &[f64], threshold: &[f64]) -> Self {
            Self {
                w: w.to_vec(),
                a: vec![0.0; w.len()],
                c: vec![0.0; w.len()],
                threshold: threshold.to_vec(),
                rows: AtomicUsize::new(0),
            }
        }
        fn loss(&self, x: &DMatrix<f64>, r: usize) -> f64 {
            (0..x.ncols())
                .map(|j| self.w[j] * x[(r, j)] - self.a[j] * (x[(r, j)] - self.c[j]).powi(2))
                .sum()
        }
    }

    impl Objective for Bowl {
        fn dim(&self) -> usize {
            self.w.len()
        }
        fn eval(&self, x: &DMatrix<f64>, idx: &[usize]) -> crate::attack::objective::Eval {
            self.rows.fetch_add(x.nrows(), Ordering::Relaxed);
            let loss = DVector::from_fn(x.nrows(), |r, _| self.loss(x, r));
            let grad = DMatrix::from_fn(x.nrows(), x.ncols(), |r, j| {
                self.w[j] - 2.0 * self.a[j] * (x[(r, j)] - self.c[j])
            });
            let success = (0..x.nrows())
                .map(|r| loss[r] > self.threshold[idx[r]])
                .collect();
            crate::attack::objective::Eval {
                loss,
                grad,
                success,
            }
        }
        fn success(&self, x: &DMatrix<f64>, idx: &[usize]) -> Vec<bool> {
            (0..x.nrows())
                .map(|r| self.loss(x, r) > self.threshold[idx[r]])
                .collect()
        }
        fn cost(&self) -> crate::attack::objective::Cost {
            Default::default()
        }
    }

    /// APGD on every row of `x` with the stream seeded by `seed`, unwrapped.
    fn run(
        obj: &Bowl,
        x: &DMatrix<f64>,
        eps: &[f64],
        cfg: &ApgdConfig,
        constraint: &Constraint<'_>,
        seed: u64,
        trace: Option<&mut Trace>,
    ) -> ApgdResult {
        let idx: Vec<usize> = (0..x.nrows()).collect();
        apgd(
            obj,
            x,
            &idx,
            eps,
            cfg,
            constraint,
            &mut rng::seeded(seed, 0),
            trace,
        )
        .unwrap()
    }

    fn config(norm: Norm, variant: Variant, n_iter: usize, random_start: bool) -> ApgdConfig {
        ApgdConfig {
            n_iter,
            random_start,
            ..ApgdConfig::new(norm, variant)
        }
    }

    /// L∞ on a linear loss w·x without a random start: the first (full, momentum-free) step
    /// lands on the corner x + ε·sign(w) (sign 0 leaves a coordinate alone), every later step
    /// stays there, so the loss is flat, every checkpoint sees no increase and halves η. For
    /// N = 10 the checkpoints fall after iterations 1, 2, …, 9 (windows 2, 1, …, 1).
    #[test]
    fn linf_on_a_linear_loss_reaches_the_corner_and_halves_at_every_checkpoint() {
        let obj = Bowl::linear(&[1.0, -2.0, 0.0], &[f64::INFINITY]);
        let x = DMatrix::from_row_slice(1, 3, &[0.5, 0.5, 0.5]);
        let cfg = config(Norm::Linf, Variant::AutoAttack, 10, false);
        let mut trace = Trace::default();
        let mut rng = rng::seeded(1, 0);
        let r = apgd(
            &obj,
            &x,
            &[0],
            &[0.125],
            &cfg,
            &Constraint::Free,
            &mut rng,
            Some(&mut trace),
        )
        .unwrap();
        assert_eq!(checkpoints(10), (1..10).collect::<Vec<_>>());
        let eta: Vec<f64> = trace.eta.iter().map(|e| e[0]).collect();
        let expected = [
            0.25,
            0.25,
            0.125,
            0.0625,
            0.03125,
            0.015625,
            0.0078125,
            0.00390625,
            0.001953125,
            0.0009765625,
        ];
        assert_eq!(eta, expected);
        // Unbroken (threshold ∞): AutoAttack's fallback is x₀ = x here; the best loss is at the
        // corner (0.625, 0.375, 0.5): 0.625 − 0.75 = −0.125.
        assert!(!r.success[0]);
        assert_eq!(r.x_adv, x);
        assert_eq!(r.loss_best[0], -0.125);
        assert_eq!(trace.evaluations, 11);
        assert_eq!(trace.dist.len(), 11);
        assert_eq!(trace.dist[0][0], 0.0);
        assert!(trace.dist[1..].iter().all(|d| d[0] == 0.125));
        assert_eq!(trace.loss_best[0][0], -0.5);
        assert!(trace.loss_best[1..].iter().all(|l| l[0] == -0.125));
        assert_eq!(trace.first_step_deviation, 0.0);
        assert_eq!(trace.box_violation, 0.0);
        assert_eq!(obj.rows.load(Ordering::Relaxed), 11);
    }

    /// Inside a box that binds: the corner is clamped to the box, the trace's box violation
    /// stays 0 and the distance is the clamped one.
    #[test]
    fn the_box_clamps_every_iterate() {
        let obj = Bowl::linear(&[1.0, -1.0], &[f64::INFINITY]);
        let x = DMatrix::from_row_slice(1, 2, &[0.9375, 0.0625]);
        let cfg = config(Norm::Linf, Variant::AdvLib, 5, false);
        let mut trace = Trace::default();
        let r = run(
            &obj,
            &x,
            &[0.25],
            &cfg,
            &Constraint::Free,
            1,
            Some(&mut trace),
        );
        assert_eq!(r.loss_best[0], 1.0);
        assert!(trace.dist[1..].iter().all(|d| d[0] == 0.0625));
        assert_eq!(trace.box_violation, 0.0);
        // Without the box the corner is ε away.
        let free = ApgdConfig {
            bounds: None,
            ..cfg
        };
        let r = run(&obj, &x, &[0.25], &free, &Constraint::Free, 1, None);
        assert_eq!(r.loss_best[0], 0.875 + 0.5);
    }

    /// A concave bowl around c = 0.53 in one dimension: sign steps of η = 2ε overshoot, the
    /// loss oscillates, η halves and the run restarts from its best point, so APGD's best point
    /// ends within its last step size of the maximiser.
    #[test]
    fn halving_and_restarts_converge_on_a_bowl() {
        let obj = Bowl {
            w: vec![0.0],
            a: vec![1.0],
            c: vec![0.53],
            threshold: vec![f64::INFINITY],
            rows: AtomicUsize::new(0),
        };
        let x = DMatrix::from_row_slice(1, 1, &[0.5]);
        let cfg = config(Norm::Linf, Variant::AutoAttack, 100, false);
        let mut trace = Trace::default();
        let r = run(
            &obj,
            &x,
            &[0.1],
            &cfg,
            &Constraint::Free,
            1,
            Some(&mut trace),
        );
        let last_eta = trace.eta.last().unwrap()[0];
        assert!(last_eta < 0.2 / 16.0, "η only reached {last_eta}");
        // The best loss −(x_best − 0.53)²: within the final step of the maximiser.
        assert!(
            -r.loss_best[0] <= (2.0 * last_eta).powi(2),
            "{}",
            r.loss_best[0]
        );
        assert!(-r.loss_best[0] < 1e-4);
        // The best loss never decreases along the trace.
        assert!(trace.loss_best.windows(2).all(|w| w[1][0] >= w[0][0]));
    }

    /// The momentum update by hand: L∞, x = 0.5, x_prev = 0.4, g > 0, η = 0.05, ε = 0.2 around
    /// 0.5: z = 0.55 and x' = 0.5 + 0.75·0.05 + 0.25·0.1 = 0.5625; L2 the same along e₁ of a
    /// 2-d point (up to the direction's guard 1e−12); a step past the ball is projected.
    #[test]
    fn one_step_by_hand() {
        let centre = DMatrix::from_row_slice(1, 2, &[0.5, 0.5]);
        let x = centre.clone();
        let prev = DMatrix::from_row_slice(1, 2, &[0.4, 0.5]);
        let g = DMatrix::from_row_slice(1, 2, &[3.0, 0.0]);
        for norm in [Norm::Linf, Norm::L2] {
            let cfg = config(norm, Variant::AutoAttack, 1, false);
            let ctx = Ctx {
                x: &centre,
                eps: &[0.2],
                cfg: &cfg,
            };
            // L2's guard 1e−12 (in the direction g/(‖g‖ + 1e−12) and in the projection's factor
            // min(‖v‖, ε)/(‖v‖ + 1e−12)) moves it by about 1e−12/‖v‖ relative.
            let tol = match norm {
                Norm::Linf => 1e-15,
                Norm::L2 => 1e-10,
            };
            let out = ctx.step(&x, &prev, &g, &[0.05], 0.75);
            assert!((out[(0, 0)] - 0.5625).abs() < tol, "{norm:?}: {out}");
            assert_eq!(out[(0, 1)], 0.5, "{norm:?}");
            // A full step of 0.5 from the centre is cut to the radius 0.2.
            let out = ctx.step(&x, &x, &g, &[0.5], 1.0);
            assert!((out[(0, 0)] - 0.7).abs() < tol, "{norm:?}: {out}");
        }
        // L2 at (3, 4)/5 direction, η = 1, ε = 0.5, no box: (0.3, 0.4) from the origin (up to
        // the guards, as above).
        let cfg = ApgdConfig {
            bounds: None,
            ..config(Norm::L2, Variant::AutoAttack, 1, false)
        };
        let zero = DMatrix::zeros(1, 2);
        let ctx = Ctx {
            x: &zero,
            eps: &[0.5],
            cfg: &cfg,
        };
        let g = DMatrix::from_row_slice(1, 2, &[3.0, 4.0]);
        let out = ctx.step(&zero, &zero, &g, &[1.0], 1.0);
        assert!(
            (out[(0, 0)] - 0.3).abs() < 1e-10 && (out[(0, 1)] - 0.4).abs() < 1e-10,
            "{out}"
        );
        // Inside the ball nothing is cut: η = 0.25 gives (0.15, 0.2).
        let out = ctx.step(&zero, &zero, &g, &[0.25], 1.0);
        assert!(
            (out[(0, 0)] - 0.15).abs() < 1e-10 && (out[(0, 1)] - 0.2).abs() < 1e-10,
            "{out}"
        );
        // The L∞ direction is sign(g) with sign(0) = 0; the L2 one g/‖g‖.
        let ctx_inf = Ctx {
            x: &zero,
            eps: &[0.5],
            cfg: &config(Norm::Linf, Variant::AutoAttack, 1, false),
        };
        let g = DMatrix::from_row_slice(1, 3, &[-2.0, 0.0, 0.5]);
        assert_eq!(
            ctx_inf.direction(&g),
            DMatrix::from_row_slice(1, 3, &[-1.0, 0.0, 1.0])
        );
    }

    /// The reference step of the trace agrees with `step` at a = 1 on random data, for both
    /// norms, with and without a box; and it is not a copy of it (a hand value).
    #[test]
    fn the_plain_projected_step_is_the_first_step() {
        let mut rng = rng::seeded(7, 0);
        let (n, d) = (4, 5);
        for norm in [Norm::Linf, Norm::L2] {
            for bounds in [None, Some((0.0, 1.0))] {
                let centre = DMatrix::from_fn(n, d, |_, _| rng::uniform(&mut rng));
                let x0 = centre.map(|v| (v + 0.05).min(1.0));
                let mut g = rng::gaussian_matrix(&mut rng, n, d, 1.0);
                g[(0, 0)] = 0.0;
                let eta = [0.1, 0.2, 0.3, 0.05];
                let eps = [0.1, 0.1, 0.2, 0.3];
                let cfg = ApgdConfig {
                    bounds,
                    ..config(norm, Variant::AutoAttack, 1, false)
                };
                let ctx = Ctx {
                    x: &centre,
                    eps: &eps,
                    cfg: &cfg,
                };
                let a = ctx.step(&x0, &x0, &g, &eta, 1.0);
                let b = plain_projected_step(&x0, &centre, &g, &eta, &eps, norm, bounds);
                // L2's guard (see `one_step_by_hand`) in `step` and not in the reference.
                let tol = match norm {
                    Norm::Linf => 1e-15,
                    Norm::L2 => 1e-10,
                };
                assert!(
                    (&a - &b).amax() < tol,
                    "{norm:?} {bounds:?}: {}",
                    (a - b).amax()
                );
            }
        }
        let z = DMatrix::from_row_slice(1, 2, &[0.0, 0.0]);
        let g = DMatrix::from_row_slice(1, 2, &[-1.0, 2.0]);
        let s = plain_projected_step(&z, &z, &g, &[0.5], &[0.25], Norm::Linf, Some((-0.1, 1.0)));
        assert_eq!(s, DMatrix::from_row_slice(1, 2, &[-0.1, 0.25]));
        let s = plain_projected_step(&z, &z, &g, &[0.5], &[0.25], Norm::L2, None);
        let l = 5f64.sqrt();
        assert!(
            (s[(0, 0)] + 0.25 / l).abs() < 1e-12 && (s[(0, 1)] - 0.5 / l).abs() < 1e-12,
            "{s}"
        );
        let s = plain_projected_step(&z, &z, &g, &[0.1], &[0.25], Norm::L2, None);
        assert!(
            (s[(0, 0)] + 0.1 / l).abs() < 1e-12 && (s[(0, 1)] - 0.2 / l).abs() < 1e-12,
            "{s}"
        );
        // A gradient of norm 1e−12, the size of the guard: the direction g/(‖g‖ + 1e−12) is
        // half a unit vector in the reference as in `step` (η = 1, ε = 1, no box).
        let tiny = DMatrix::from_row_slice(1, 2, &[1e-12, 0.0]);
        let s = plain_projected_step(&z, &z, &tiny, &[1.0], &[1.0], Norm::L2, None);
        assert!((s[(0, 0)] - 0.5).abs() < 1e-15 && s[(0, 1)] == 0.0, "{s}");
        let cfg = ApgdConfig {
            bounds: None,
            ..config(Norm::L2, Variant::AutoAttack, 1, false)
        };
        let ctx = Ctx {
            x: &z,
            eps: &[1.0],
            cfg: &cfg,
        };
        let t = ctx.step(&z, &z, &tiny, &[1.0], 1.0);
        assert!((t[(0, 0)] - 0.5).abs() < 1e-10, "{t}");
    }

    /// Restarts attack only the points still unbroken: a point broken in the first run keeps
    /// its first point, the other is attacked again (2·(N + 1) + (N + 1) rows evaluated); the
    /// best loss is the larger of the runs'.
    #[test]
    fn restarts_attack_only_the_unbroken_points() {
        // Row 0 breaks at once (threshold −∞), row 1 never (threshold ∞).
        let obj = Bowl::linear(&[1.0, 1.0], &[f64::NEG_INFINITY, f64::INFINITY]);
        let x = DMatrix::from_row_slice(2, 2, &[0.5, 0.5, 0.25, 0.25]);
        let cfg = ApgdConfig {
            restarts: 3,
            ..config(Norm::Linf, Variant::AutoAttack, 4, true)
        };
        let r = run(&obj, &x, &[0.125, 0.125], &cfg, &Constraint::Free, 3, None);
        assert_eq!(r.success, vec![true, false]);
        assert_eq!(obj.rows.load(Ordering::Relaxed), 2 * 5 + 5 + 5);
        assert_eq!(r.loss_best[1], 0.75);
        assert_eq!(r.loss_best[0], 1.25);
        // Row 0's point is the last successful iterate of the first run: the corner.
        assert_eq!(
            r.x_adv.row(0).iter().copied().collect::<Vec<_>>(),
            vec![0.625, 0.625]
        );
        // Row 1 unbroken: AutoAttack keeps the first run's random start x₀ (ε away in L∞).
        let d1 = (r.x_adv.row(1) - x.row(1)).amax();
        assert_eq!(d1, 0.125);
    }

    /// The fallback for an unbroken point: AutoAttack keeps the random start x₀, adv_lib the
    /// clean point x; adv_lib takes x₀ when x₀ is already adversarial.
    #[test]
    fn the_variants_fall_back_differently() {
        let x = DMatrix::from_row_slice(1, 2, &[0.5, 0.5]);
        let never = Bowl::linear(&[1.0, 0.0], &[f64::INFINITY]);
        let variant = |obj: &Bowl, v: Variant| {
            let cfg = config(Norm::L2, v, 1, true);
            run(obj, &x, &[0.25], &cfg, &Constraint::Free, 5, None)
        };
        let aa = variant(&never, Variant::AutoAttack);
        assert!((Norm::L2.row_norms(&(&aa.x_adv - &x))[0] - 0.25).abs() < 1e-12);
        let al = variant(&never, Variant::AdvLib);
        assert_eq!(al.x_adv, x);
        let always = Bowl::linear(&[1.0, 0.0], &[f64::NEG_INFINITY]);
        let al = variant(&always, Variant::AdvLib);
        assert!(al.success[0]);
        assert_ne!(al.x_adv, x);
        // One step only: x_adv is x₁ (the last successful iterate), a step past x₀.
        let mut t = Trace::default();
        let cfg = config(Norm::L2, Variant::AdvLib, 1, true);
        run(
            &always,
            &x,
            &[0.25],
            &cfg,
            &Constraint::Free,
            5,
            Some(&mut t),
        );
        assert_eq!(t.evaluations, 2);
    }

    /// With a constraint every gradient (and the random start) is projected: without a box the
    /// iterates stay in the chosen subspace (here span e₁, on; or its complement, off).
    #[test]
    fn a_constraint_keeps_the_iterates_in_its_subspace() {
        let q = Projector::new(DMatrix::from_row_slice(3, 1, &[1.0, 0.0, 0.0])).unwrap();
        let obj = Bowl::linear(&[1.0, 2.0, -1.0], &[f64::INFINITY]);
        let x = DMatrix::from_row_slice(1, 3, &[0.5, 0.5, 0.5]);
        let cfg = ApgdConfig {
            bounds: None,
            ..config(Norm::L2, Variant::AutoAttack, 6, true)
        };
        let on = run(
            &obj,
            &x,
            &[0.5],
            &cfg,
            &Constraint::On(Tangents::Shared(&q)),
            2,
            None,
        );
        let moved = &on.x_adv - &x;
        assert!(moved[(0, 1)] == 0.0 && moved[(0, 2)] == 0.0, "{moved}");
        assert!(
            (on.loss_best[0] - (0.5 + 0.5 + 1.0 - 0.5)).abs() < 1e-9,
            "{}",
            on.loss_best[0]
        );
        let off = run(
            &obj,
            &x,
            &[0.5],
            &cfg,
            &Constraint::Off(Tangents::Shared(&q)),
            2,
            None,
        );
        assert_eq!((&off.x_adv - &x)[(0, 0)], 0.0);
        // Off span e₁ the best direction is (0, 2, −1)/√5: loss 1 + 0.5·√5, reached by the
        // first step from x (without a random start).
        let cfg = ApgdConfig {
            random_start: false,
            ..cfg
        };
        let off = run(
            &obj,
            &x,
            &[0.5],
            &cfg,
            &Constraint::Off(Tangents::Shared(&q)),
            2,
            None,
        );
        assert!(
            (off.loss_best[0] - (1.0 + 0.5 * 5f64.sqrt())).abs() < 1e-9,
            "{}",
            off.loss_best[0]
        );
    }

    /// The random start is x₀ = x + ε·t/‖t‖ with t ~ U[−1, 1]^d (L∞) or N(0, I) (L2), drawn
    /// column by column from the run's stream: rebuilt here from the same seed. An unbroken
    /// point under AutoAttack's bookkeeping returns x₀ after one step.
    #[test]
    fn the_random_start_is_drawn_as_documented() {
        let (n, d) = (3, 2);
        let x = DMatrix::from_row_slice(n, d, &[0.5, 0.5, 0.25, 0.75, 0.0, 1.0]);
        let obj = Bowl::linear(&[1.0, 1.0], &[f64::INFINITY; 3]);
        for norm in [Norm::Linf, Norm::L2] {
            let cfg = ApgdConfig {
                bounds: None,
                ..config(norm, Variant::AutoAttack, 1, true)
            };
            let eps = [0.125, 0.25, 0.5];
            let r = run(&obj, &x, &eps, &cfg, &Constraint::Free, 9, None);
            let mut stream = rng::seeded(9, 0);
            let t = match norm {
                Norm::Linf => DMatrix::from_fn(n, d, |_, _| 2.0 * rng::uniform(&mut stream) - 1.0),
                Norm::L2 => rng::gaussian_matrix(&mut stream, n, d, 1.0),
            };
            let norms = norm.row_norms(&t);
            for i in 0..n {
                for j in 0..d {
                    let want = x[(i, j)] + t[(i, j)] * (eps[i] / norms[i]);
                    assert!(
                        (r.x_adv[(i, j)] - want).abs() < 1e-15,
                        "{norm:?} ({i}, {j})"
                    );
                }
            }
        }
        // Over many rows t has both signs in every coordinate in about equal shares.
        let rows = 400;
        let x = DMatrix::from_element(rows, 2, 0.5);
        let obj = Bowl::linear(&[1.0, 1.0], &vec![f64::INFINITY; rows]);
        let cfg = config(Norm::Linf, Variant::AutoAttack, 1, true);
        let r = run(
            &obj,
            &x,
            &vec![0.25; rows],
            &cfg,
            &Constraint::Free,
            4,
            None,
        );
        for j in 0..2 {
            let up = (0..rows).filter(|&i| r.x_adv[(i, j)] > 0.5).count();
            assert!(
                (120..=280).contains(&up),
                "coordinate {j}: {up} of {rows} above x"
            );
        }
    }

    /// A constraint that removes every direction (off the span of the whole space): the random
    /// start has norm 0 and stays at x (not 0/0), and no step moves the point.
    #[test]
    fn a_constraint_that_removes_everything_leaves_the_point() {
        let q = Projector::new(DMatrix::identity(2, 2)).unwrap();
        let obj = Bowl::linear(&[1.0, -1.0], &[f64::INFINITY]);
        let x = DMatrix::from_row_slice(1, 2, &[0.5, 0.5]);
        let cfg = config(Norm::L2, Variant::AutoAttack, 3, true);
        let r = run(
            &obj,
            &x,
            &[0.25],
            &cfg,
            &Constraint::Off(Tangents::Shared(&q)),
            1,
            None,
        );
        assert_eq!(r.x_adv, x);
        assert_eq!(r.loss_best[0], 0.0);
    }

    /// A box with a negative lower end: iterates inside it (here at −0.5) have no violation.
    #[test]
    fn iterates_inside_a_box_below_zero_have_no_violation() {
        let obj = Bowl::linear(&[1.0, -1.0], &[f64::INFINITY]);
        let x = DMatrix::from_row_slice(1, 2, &[-0.5, -0.25]);
        let cfg = ApgdConfig {
            bounds: Some((-1.0, 1.0)),
            ..config(Norm::Linf, Variant::AutoAttack, 4, true)
        };
        let mut trace = Trace::default();
        run(
            &obj,
            &x,
            &[0.125],
            &cfg,
            &Constraint::Free,
            1,
            Some(&mut trace),
        );
        assert_eq!(trace.box_violation, 0.0);
        assert_eq!(trace.evaluations, 5);
    }

    /// Each malformed input is refused alone; a zero radius is allowed (the points come back).
    #[test]
    fn malformed_inputs_are_refused() {
        let obj = Bowl::linear(&[1.0, 1.0], &[f64::INFINITY, f64::INFINITY]);
        let x = DMatrix::from_row_slice(2, 2, &[0.5, 0.5, 0.25, 0.25]);
        let cfg = config(Norm::Linf, Variant::AutoAttack, 3, true);
        let go = |x: &DMatrix<f64>, idx: &[usize], eps: &[f64], cfg: &ApgdConfig| {
            apgd(
                &obj,
                x,
                idx,
                eps,
                cfg,
                &Constraint::Free,
                &mut rng::seeded(1, 0),
                None,
            )
        };
        assert!(go(&x, &[0, 1], &[0.1, 0.1], &cfg).is_ok());
        let r = go(&x, &[0, 1], &[0.0, 0.0], &cfg).unwrap();
        assert_eq!(r.x_adv, x);
        assert!(matches!(
            go(&x, &[0], &[0.1, 0.1], &cfg),
            Err(Error::Shape(_))
        ));
        assert!(matches!(
            go(&x, &[0, 1], &[0.1], &cfg),
            Err(Error::Shape(_))
        ));
        let wide = DMatrix::from_element(2, 3, 0.5);
        assert!(matches!(
            go(&wide, &[0, 1], &[0.1, 0.1], &cfg),
            Err(Error::Shape(_))
        ));
        let mut bad = x.clone();
        bad[(1, 0)] = f64::NAN;
        assert!(go(&bad, &[0, 1], &[0.1, 0.1], &cfg).is_err());
        for e in [-0.1, f64::NAN, f64::INFINITY] {
            assert!(
                matches!(go(&x, &[0, 1], &[0.1, e], &cfg), Err(Error::Input(_))),
                "{e}"
            );
        }
        let none = ApgdConfig {
            n_iter: 0,
            ..cfg.clone()
        };
        assert!(matches!(
            go(&x, &[0, 1], &[0.1, 0.1], &none),
            Err(Error::Input(_))
        ));
        let none = ApgdConfig {
            restarts: 0,
            ..cfg.clone()
        };
        assert!(matches!(
            go(&x, &[0, 1], &[0.1, 0.1], &none),
            Err(Error::Input(_))
        ));
        for v in [-0.5, 1.5] {
            let mut out = x.clone();
            out[(0, 1)] = v;
            assert!(
                matches!(go(&out, &[0, 1], &[0.1, 0.1], &cfg), Err(Error::Input(_))),
                "{v}"
            );
        }
        // On the box's edge is inside.
        let mut edge = x.clone();
        edge[(0, 0)] = 1.0;
        edge[(1, 1)] = 0.0;
        assert!(go(&edge, &[0, 1], &[0.1, 0.1], &cfg).is_ok());
    }

    /// `run_verified` reports the objective's own success at the points it returns.
    #[test]
    fn run_verified_checks_success_at_the_returned_points() {
        // Breaks where w·x > 1.1: reachable from (0.5, 0.5) at ε = 0.1 (max 1.2), not at 0.04.
        let obj = Bowl::linear(&[1.0, 1.0], &[1.1]);
        let x = DMatrix::from_row_slice(1, 2, &[0.5, 0.5]);
        let cfg = config(Norm::Linf, Variant::AutoAttack, 5, true);
        let (xa, ok) = run_verified(&obj, &x, 0.1, &cfg, &mut rng::seeded(1, 0)).unwrap();
        assert_eq!(ok, vec![true]);
        assert!(xa.sum() > 1.1);
        let (_, ok) = run_verified(&obj, &x, 0.04, &cfg, &mut rng::seeded(1, 0)).unwrap();
        assert_eq!(ok, vec![false]);
    }

    /// The checkpoint rule by hand. AutoAttack starts "halved at the previous check", so its
    /// first check halves only on oscillation; adv_lib also halves when L_best did not improve.
    #[test]
    fn the_halving_rule_by_hand() {
        // Rising losses 1, 2, … (N = 10; checkpoints after 1, 2, …, 9): never oscillating, L_best
        // always improving: no halving in either variant.
        let rising: Vec<f64> = (1..=10).map(f64::from).collect();
        for v in [Variant::AutoAttack, Variant::AdvLib] {
            assert!(
                scripted_halvings(0.0, &rising, v).iter().all(|&(_, h)| !h),
                "{v:?}"
            );
        }
        // Rising but below L(x₀) = 100: not oscillating, L_best stuck at 100. AutoAttack (halved
        // "last time") keeps η at the first check, then halves, then not (it just halved), …;
        // adv_lib halves at once and alternates from there.
        let aa = scripted_halvings(100.0, &rising, Variant::AutoAttack);
        let al = scripted_halvings(100.0, &rising, Variant::AdvLib);
        let flags = |v: &[(usize, bool)]| v.iter().map(|&(_, h)| h).collect::<Vec<_>>();
        assert_eq!(
            aa.iter().map(|&(i, _)| i).collect::<Vec<_>>(),
            (1..10).collect::<Vec<_>>()
        );
        assert_eq!(
            flags(&aa),
            [false, true, false, true, false, true, false, true, false]
        );
        assert_eq!(
            flags(&al),
            [true, false, true, false, true, false, true, false, true]
        );
        // A flat loss oscillates (no increase in the window) whatever the variant.
        let flat = vec![1.0; 10];
        assert!(scripted_halvings(1.0, &flat, Variant::AutoAttack)
            .iter()
            .all(|&(_, h)| h));
        // The threshold: at the window k = 2 after step 1 with one increase, 1 ≤ 0.75·2 halves
        // but 1 > 0.25·2 does not.
        let one_up = [2.0, -1.0, 0.0, 0.0];
        assert!(oscillating(&one_up, 1, 2, 0.75));
        assert!(!oscillating(&one_up, 1, 2, 0.25));
        assert!(oscillating(&one_up, 1, 2, 0.5));
        let mut h = Halving::new(Variant::AutoAttack, 0.0).with_threshold(0.25);
        assert!(!h.check(&one_up, 1, 2, 5.0));
        // Not halved now, and L_best 5 → 5 did not improve: the next check halves.
        assert!(h.check(&[2.0, 3.0, 4.0, 5.0], 3, 2, 5.0));
        // An improvement since the last check prevents it.
        let mut h = Halving::new(Variant::AdvLib, 1.0);
        assert!(!h.check(&[2.0, 3.0, 0.0], 1, 2, 3.0));
        assert!(h.check(&[2.0, 3.0, 0.0], 1, 2, 3.0));
    }

    #[test]
    fn first_check_compares_with_the_zero_slot() {
        // Negative, increasing losses: the wrap compares L(0) = −5 with the zero slot, so only
        // 2 of 3 steps count as increases and 2 ≤ 0.75·3 flags an oscillation.
        let l = vec![-5.0, -4.0, -3.0, 0.0, 0.0];
        assert!(oscillating(&l, 2, 3, 0.75));
        let l = vec![1.0, 2.0, 3.0, 0.0, 0.0];
        assert!(!oscillating(&l, 2, 3, 0.75));
    }
}
