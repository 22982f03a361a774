//! The bookkeeping every attack pipeline shares, written once: a campaign over an attacked batch
//! runs attacks on subsets of its points (the points still attacked), keeps the adversarial
//! point of every success, counts a success as *broken* only for a clean-correct point (the
//! others were never robust), and closes stages with their successes, passes and times. The
//! pipelines ([`mod@super::autoattack`], [`mod@super::malt`]) decide only which points each
//! stage attacks and how; robust accuracy is the pointwise worst case over the stages.

use super::apgd::Norm;
use super::incumbent::{scatter_rows, Live};
use super::objective::Cost;
use super::report::{zero_gradient_points, PipelineReport, Sanity, StageReport};
use crate::error::{Error, Result};
use crate::model::Classifier;
use nalgebra::DMatrix;
use std::time::Instant;

/// An attack of the rows it is given (the points of the batch selected for it): the
/// adversarial rows, whether each row succeeded, and the passes spent. (A pipeline that picks
/// its attack at run time boxes it; [`Campaign::attack`] takes any closure.)
pub type Attack<'a> = dyn FnOnce(&DMatrix<f64>) -> Result<(DMatrix<f64>, Vec<bool>, Cost)> + 'a;

/// What one attack of a campaign did.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The points (indices into the batch) the attack succeeded on.
    pub succeeded: Vec<usize>,
    /// How many of them were clean-correct (now broken).
    pub broken: usize,
    /// Passes spent.
    pub cost: Cost,
}

/// A pipeline's run over one attacked batch, building its [`PipelineReport`].
pub struct Campaign<'a> {
    x: &'a DMatrix<f64>,
    clean_correct: Vec<bool>,
    broken: Vec<bool>,
    x_adv: DMatrix<f64>,
    stages: Vec<StageReport>,
    cost: Cost,
    warnings: Vec<String>,
    start: Instant,
}

impl<'a> Campaign<'a> {
    /// A campaign over the points `x` begun at `start`, with the clean predictions
    /// `clean_correct` and the passes already spent (`cost`: the clean forward pass, say).
    pub fn new(x: &'a DMatrix<f64>, clean_correct: Vec<bool>, cost: Cost, start: Instant) -> Self {
        Self {
            x,
            broken: vec![false; x.nrows()],
            clean_correct,
            x_adv: x.clone(),
            stages: Vec::new(),
            cost,
            warnings: Vec::new(),
            start,
        }
    }

    /// The points that are clean-correct and not yet broken, in order.
    pub fn robust_points(&self) -> Live {
        Live::filter(self.broken.len(), |&i| {
            self.clean_correct[i] && !self.broken[i]
        })
    }

    /// How many points are still robust.
    pub fn robust(&self) -> usize {
        self.robust_points().len()
    }

    /// Runs `attack` on the points `live` (indices into the batch, each at most once): every
    /// success replaces the point's adversarial example, and a clean-correct success is broken.
    /// Refuses an attack whose answer does not have one row and one flag per point given.
    pub fn attack(
        &mut self,
        live: &[usize],
        attack: impl FnOnce(&DMatrix<f64>) -> Result<(DMatrix<f64>, Vec<bool>, Cost)>,
    ) -> Result<Outcome> {
        let (x_adv, success, cost) = attack(&self.x.select_rows(live))?;
        if x_adv.shape() != (live.len(), self.x.ncols()) || success.len() != live.len() {
            return Err(Error::shape(format!(
                "an attack of {} points returned {} × {} points and {} flags",
                live.len(),
                x_adv.nrows(),
                x_adv.ncols(),
                success.len()
            )));
        }
        let mut outcome = Outcome {
            succeeded: Vec::new(),
            broken: 0,
            cost,
        };
        scatter_rows(&mut self.x_adv, live, &x_adv, &success);
        for (row, &i) in live.iter().enumerate() {
            if success[row] {
                outcome.succeeded.push(i);
                if self.clean_correct[i] {
                    self.broken[i] = true;
                    outcome.broken += 1;
                }
            }
        }
        Ok(outcome)
    }

    /// Closes a stage begun at `t0` that broke `broken` points with `cost` passes (added to
    /// the campaign's total).
    pub fn close_stage(&mut self, name: String, broken: usize, cost: Cost, t0: Instant) {
        self.cost = self.cost + cost;
        let robust_after = self.robust();
        self.stages.push(StageReport {
            name,
            broken,
            robust_after,
            cost,
            seconds: t0.elapsed().as_secs_f64(),
            seconds_total: self.start.elapsed().as_secs_f64(),
        });
    }

    /// Adds a warning for the user.
    pub fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// The report: total time, the sanity checks of the adversarial points against the threat
    /// model, and the warnings every pipeline gives after its own (clean-correct points with a
    /// zero gradient at the start, a failed sanity check).
    pub fn finish(
        mut self,
        model: &dyn Classifier,
        y: &[usize],
        norm: Norm,
        eps: f64,
    ) -> Result<PipelineReport> {
        let sanity = Sanity::of(self.x, &self.x_adv, norm, eps);
        let zero = zero_gradient_points(model, self.x, y, &self.clean_correct)?;
        if zero > 0 {
            self.warn(format!(
                "{zero} clean-correct point(s) have a zero gradient at the clean point (dead ReLU \
                 units or a saturated softmax): gradient attacks cannot move them"
            ));
        }
        if !sanity.ok() {
            self.warn(format!(
                "sanity check failed: max ‖δ‖ = {:e} against ε = {:e}, {} non-finite entries, \
                 range [{}, {}]",
                sanity.max_perturbation, sanity.eps, sanity.non_finite, sanity.min, sanity.max
            ));
        }
        Ok(PipelineReport {
            clean_correct: self.clean_correct,
            broken: self.broken,
            x_adv: self.x_adv,
            stages: self.stages,
            cost: self.cost,
            seconds: self.start.elapsed().as_secs_f64(),
            sanity,
            warnings: self.warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activation, Mlp};
    use crate::rng;

    fn campaign(x: &DMatrix<f64>) -> Campaign<'_> {
        let correct = vec![true, false, true, true];
        let cost = Cost {
            gradients: 0,
            forwards: 4,
        };
        Campaign::new(x, correct, cost, Instant::now())
    }

    /// An attack that moves every row it gets by `shift` and succeeds on the rows of `ok`.
    fn shifting(shift: f64, ok: Vec<bool>) -> Box<Attack<'static>> {
        Box::new(move |xs: &DMatrix<f64>| {
            let cost = Cost {
                gradients: 3 * xs.nrows(),
                forwards: xs.nrows(),
            };
            Ok((xs.map(|v| v + shift), ok, cost))
        })
    }

    #[test]
    fn successes_are_kept_and_only_clean_correct_ones_break() {
        let x = DMatrix::from_fn(4, 2, |i, j| 0.1 + 0.1 * (i + j) as f64);
        let mut c = campaign(&x);
        assert_eq!(c.robust_points().rows(), &[0, 2, 3]);
        // Points 1 (misclassified), 2 and 3; successes on 1 and 3.
        let out = c
            .attack(&[1, 2, 3], shifting(0.05, vec![true, false, true]))
            .expect("shapes agree");
        assert_eq!(out.succeeded, vec![1, 3]);
        assert_eq!(out.broken, 1);
        assert_eq!(out.cost.gradients, 9);
        assert_eq!(c.robust_points().rows(), &[0, 2]);
        c.close_stage("one".into(), out.broken, out.cost, Instant::now());
        c.warn("a warning".into());
        // A second stage on the robust points breaks point 0.
        let out = c
            .attack(&[0, 2], shifting(-0.05, vec![true, false]))
            .expect("shapes agree");
        c.close_stage("two".into(), out.broken, out.cost, Instant::now());
        assert_eq!(c.robust(), 1);
        let mut r = rng::seeded(1, 0);
        let model = Mlp::init(&mut r, vec![2, 3, 2], Activation::Relu, 1.0).expect("sizes");
        let report = c
            .finish(&model, &[0, 0, 1, 1], Norm::Linf, 0.1)
            .expect("runs");
        // The adversarial points: moved where an attack succeeded, the clean point elsewhere.
        let moved = [-0.05, 0.05, 0.0, 0.05];
        for (i, m) in moved.iter().enumerate() {
            for j in 0..2 {
                assert!(
                    (report.x_adv[(i, j)] - x[(i, j)] - m).abs() < 1e-15,
                    "({i}, {j})"
                );
            }
        }
        assert_eq!(report.broken, vec![true, false, false, true]);
        let robust: Vec<usize> = report.stages.iter().map(|s| s.robust_after).collect();
        assert_eq!(robust, vec![2, 1]);
        // The total: the clean pass, then both stages.
        assert_eq!(
            report.cost,
            Cost {
                gradients: 9 + 6,
                forwards: 4 + 3 + 2
            }
        );
        assert_eq!(
            report.warnings.first().map(String::as_str),
            Some("a warning")
        );
        assert!(report.sanity.ok());
    }

    #[test]
    fn an_answer_of_the_wrong_shape_is_refused() {
        let x = DMatrix::from_element(4, 2, 0.5);
        let mut c = campaign(&x);
        let flags = c.attack(&[0, 2], shifting(0.0, vec![true]));
        assert!(matches!(flags, Err(Error::Shape(_))));
        let rows: Box<Attack<'_>> = Box::new(|xs: &DMatrix<f64>| {
            Ok((xs.rows(0, 1).into_owned(), vec![true; 2], Cost::default()))
        });
        assert!(matches!(c.attack(&[0, 2], rows), Err(Error::Shape(_))));
        // Nothing was recorded.
        assert_eq!(c.robust_points().rows(), &[0, 2, 3]);
    }
}
