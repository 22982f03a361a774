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
