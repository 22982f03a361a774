//! A batched attack objective: for a set of points (rows) of an attacked batch, the loss to
//! maximise, its input gradient and whether each point is broken, from one forward and one
//! backward pass over the classifier. Passes are counted per sample (malt.md §7 cost model).

use super::losses::{argmax, Loss};
use crate::error::{Error, Result};
use crate::model::Classifier;
use nalgebra::{DMatrix, DVector};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What counts as success.
#[derive(Clone, Debug, PartialEq)]
pub enum Goal {
    /// arg max z ≠ y.
    Untargeted,
    /// arg max z = t_i for the point's target t_i.
    Targeted(Vec<usize>),
    /// A targeted loss toward t_i with success arg max z ≠ y (AutoAttack's APGD-T).
    TargetedLossMisclassify(Vec<usize>),
}

/// Loss, gradient and success at a batch of rows.
#[derive(Clone, Debug)]
pub struct Eval {
    /// Loss per row.
    pub loss: DVector<f64>,
    /// ∇_x loss per row (n × d).
    pub grad: DMatrix<f64>,
    /// Whether the row is adversarial.
    pub success: Vec<bool>,
}

/// Counted passes, per sample: `gradients` forward + backward passes and `forwards` forward-only
/// passes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cost {
    /// Forward + backward passes (one per sample per gradient evaluation).
    pub gradients: usize,
    /// Forward-only passes.
    pub forwards: usize,
}

/// ρ, the work of a backward pass to the input over that of the forward pass, for dense layers:
/// each layer's forward product x·Wᵀ is mirrored by one product δ·W of the same size, so ρ = 1
/// and a forward + backward pass is two forward passes of work (elementwise work ignored).
pub const BACKWARD_OVER_FORWARD: f64 = 1.0;

impl Cost {
    /// The cost model of a run in forward-pass units, F + (1 + ρ)·G for F forward and G
    /// forward + backward passes: the model's work, which dominates an attack's wall time when
    /// a pass costs much more than the attack's own O(d) work per point (`benches/attack_cost.rs`
    /// measures both regimes).
    pub fn forward_units(&self, backward_over_forward: f64) -> f64 {
        self.forwards as f64 + (1.0 + backward_over_forward) * self.gradients as f64
    }
}

impl std::ops::Add for Cost {
    type Output = Cost;
    fn add(self, o: Cost) -> Cost {
        Cost {
            gradients: self.gradients + o.gradients,
            forwards: self.forwards + o.forwards,
        }
    }
}

/// A batched attack objective; rows of `x` are the points `idx[r]` of the attacked set.
pub trait Objective: Sync {
    /// Input dimension.
    fn dim(&self) -> usize;
    /// Loss, gradient and success (one gradient pass per row).
    fn eval(&self, x: &DMatrix<f64>, idx: &[usize]) -> Eval;
    /// Success only (one forward pass per row).
    fn success(&self, x: &DMatrix<f64>, idx: &[usize]) -> Vec<bool>;
    /// Passes made so far.
    fn cost(&self) -> Cost;
}

/// A classifier whose passes are counted per sample: every attack makes its passes through
/// one, so the cost model (malt.md §7) is counted in one place. A forward pass of n rows counts
/// n forwards, a forward + backward pass n gradients.
pub struct Counted<'a> {
    model: &'a dyn Classifier,
    grads: AtomicUsize,
    forwards: AtomicUsize,
}

impl<'a> Counted<'a> {
    /// Counts from zero.
    pub fn new(model: &'a dyn Classifier) -> Self {
        Self {
            model,
            grads: AtomicUsize::new(0),
            forwards: AtomicUsize::new(0),
        }
    }
    /// The classifier (its passes through this are not counted).
    pub fn model(&self) -> &'a dyn Classifier {
        self.model
    }
    /// The logits of every row: one counted forward pass per row.
    pub fn logits(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        self.forwards.fetch_add(x.nrows(), Ordering::Relaxed);
        self.model.logits(x)
    }
    /// [`Classifier::forward_backward`]: one counted gradient pass per row.
    pub fn forward_backward(
        &self,
        x: &DMatrix<f64>,
        want_params: bool,
        cot: &mut dyn FnMut(&DMatrix<f64>) -> DMatrix<f64>,
    ) -> (DMatrix<f64>, DMatrix<f64>, Option<DVector<f64>>) {
        self.grads.fetch_add(x.nrows(), Ordering::Relaxed);
        self.model.forward_backward(x, want_params, cot)
    }
    /// Passes made so far.
    pub fn cost(&self) -> Cost {
        Cost {
            gradients: self.grads.load(Ordering::Relaxed),
            forwards: self.forwards.load(Ordering::Relaxed),
        }
    }
}

/// A loss on a classifier's logits with labels and an optional target per point.
pub struct ClassObjective<'a> {
    model: Counted<'a>,
    labels: &'a [usize],
    loss: Loss,
    goal: Goal,
}

impl<'a> ClassObjective<'a> {
    /// Checks that the labels (and targets) are classes of the model and that the loss is
    /// defined for K classes.
    pub fn new(
        model: &'a dyn Classifier,
        labels: &'a [usize],
        loss: Loss,
        goal: Goal,
    ) -> Result<Self> {
        let k = model.classes();
        loss.check_classes(k)?;
        if let Some(&l) = labels.iter().find(|&&l| l >= k) {
            return Err(Error::input(format!(
                "label {l} is not a class of a {k}-class model"
            )));
        }
        if let Goal::Targeted(t) | Goal::TargetedLossMisclassify(t) = &goal {
            if t.len() != labels.len() {
                return Err(Error::shape(format!(
                    "{} targets for {} points",
                    t.len(),
                    labels.len()
                )));
            }
            if let Some(i) = (0..t.len()).find(|&i| t[i] >= k || t[i] == labels[i]) {
                return Err(Error::input(format!(
                    "point {i}: target {} must be a class other than the label {}",
                    t[i], labels[i]
                )));
            }
        } else if loss.targeted() {
            return Err(Error::input(format!("{loss:?} needs a target per point")));
        }
        Ok(Self {
            model: Counted::new(model),
            labels,
            loss,
            goal,
        })
    }
    fn target(&self, i: usize) -> Option<usize> {
        match &self.goal {
            Goal::Untargeted => None,
            Goal::Targeted(t) | Goal::TargetedLossMisclassify(t) => Some(t[i]),
        }
    }
    fn is_success(&self, z: &[f64], i: usize) -> bool {
        let a = argmax(z);
        match &self.goal {
            Goal::Targeted(t) => a == t[i],
            _ => a != self.labels[i],
        }
    }
}

impl Objective for ClassObjective<'_> {
    fn dim(&self) -> usize {
        self.model.model().input_dim()
    }
    fn eval(&self, x: &DMatrix<f64>, idx: &[usize]) -> Eval {
        let n = x.nrows();
        let mut loss = DVector::zeros(n);
        let mut success = vec![false; n];
        let (_, grad, _) = self.model.forward_backward(x, false, &mut |z| {
            let mut cot = DMatrix::zeros(n, z.ncols());
            let mut row = vec![0.0; z.ncols()];
            for r in 0..n {
                for (c, v) in row.iter_mut().enumerate() {
                    *v = z[(r, c)];
                }
                let i = idx[r];
                let (l, g) = self.loss.eval(&row, self.labels[i], self.target(i));
                loss[r] = l;
                success[r] = self.is_success(&row, i);
                for (c, gc) in g.into_iter().enumerate() {
                    cot[(r, c)] = gc;
                }
            }
            cot
        });
        Eval {
            loss,
            grad,
            success,
        }
    }
    fn success(&self, x: &DMatrix<f64>, idx: &[usize]) -> Vec<bool> {
        let z = self.model.logits(x);
        (0..x.nrows())
            .map(|r| {
                let row: Vec<f64> = z.row(r).iter().copied().collect();
                self.is_success(&row, idx[r])
            })
            .collect()
    }
    fn cost(&self) -> Cost {
        self.model.cost()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pass counts its rows: forwards for logits, gradients for forward + backward, and
    /// the objective's evaluations count through the same counter.
    #[test]
    fn passes_are_counted_per_row() {
        use crate::model::{Activation, Mlp};
        let net = Mlp::init(
            &mut crate::rng::seeded(1, 0),
            vec![3, 4, 3],
            Activation::Relu,
            1.0,
        )
        .expect("sizes");
        let x = DMatrix::from_element(5, 3, 0.5);
        let counted = Counted::new(&net);
        assert_eq!(counted.logits(&x), net.logits(&x));
        counted.forward_backward(&x.rows(0, 2).into_owned(), false, &mut |z| z.clone());
        assert_eq!(
            counted.cost(),
            Cost {
                gradients: 2,
                forwards: 5
            }
        );
        let labels = [0, 1, 2, 0, 1];
        let obj = ClassObjective::new(&net, &labels, Loss::CrossEntropy, Goal::Untargeted)
            .expect("labels are classes");
        let idx: Vec<usize> = (0..5).collect();
        obj.eval(&x, &idx);
        obj.success(&x.rows(0, 3).into_owned(), &idx[..3]);
        assert_eq!(
            obj.cost(),
            Cost {
                gradients: 5,
                forwards: 3
            }
        );
    }

    /// Success per goal at a point predicted as class a: untargeted and "targeted loss,
    /// misclassify" succeed when a ≠ y; targeted succeeds only when a is the point's target.
    #[test]
    fn success_follows_the_goal() {
        use crate::model::{Activation, Mlp};
        let net = Mlp::init(
            &mut crate::rng::seeded(2, 0),
            vec![3, 5, 4],
            Activation::Relu,
            1.0,
        )
        .expect("sizes");
        let x = DMatrix::from_row_slice(1, 3, &[0.3, -0.2, 0.9]);
        let a = argmax(&net.logits(&x).row(0).iter().copied().collect::<Vec<_>>());
        let (y, other) = ([(a + 1) % 4], (a + 2) % 4);
        let success = |goal: Goal| {
            ClassObjective::new(&net, &y, Loss::CrossEntropy, goal)
                .expect("valid")
                .success(&x, &[0])[0]
        };
        assert!(success(Goal::Untargeted));
        assert!(success(Goal::Targeted(vec![a])));
        assert!(!success(Goal::Targeted(vec![other])));
        assert!(success(Goal::TargetedLossMisclassify(vec![other])));
        // Predicted as the label: no goal succeeds.
        let label = [a];
        let obj =
            ClassObjective::new(&net, &label, Loss::CrossEntropy, Goal::Untargeted).expect("valid");
        assert!(!obj.success(&x, &[0])[0]);
    }

    #[test]
    fn forward_units_weigh_a_gradient_pass_as_one_plus_rho_forwards() {
        let c = Cost {
            gradients: 3,
            forwards: 5,
        };
        assert_eq!(c.forward_units(BACKWARD_OVER_FORWARD), 11.0);
        assert_eq!(c.forward_units(2.0), 14.0);
        let sum = c + Cost {
            gradients: 1,
            forwards: 0,
        };
        assert_eq!((sum.gradients, sum.forwards), (4, 5));
    }
}
