//! Unlearning by one gradient-ascent step (unlearn.md; arXiv:2510.14844).
//!
//! The step on a forget set F is A_GA(θ) = θ + Σ_{r∈F} β_r ∇_θ ℓ(y_r N(x_r; θ)). Since
//! ∇_θ ℓ(q_r) = ℓ'(q_r)·g_r with g_r = y_r∇_θ N(x_r) and ℓ' < 0, the step size
//! β*_r = λ_r/|ℓ'(q_r)| gives θ − λ_r g_r, which removes exactly the r-th term of the stationarity
//! sum θ = Σ λ_i g_i \[derived\]. The step is implemented as θ' = θ − c·Σ_{r∈F} λ_r g_r (c = 1 is the
//! theorem's step, c the Figure-1 fraction) and β* itself is never formed: |ℓ'(q_r)| underflows at
//! large margins. The step commutes with rescaling, so the pipeline is: train; rescale to the KKT
//! scale θ ← θ/q_min^{1/L}; multipliers λ by NNLS on S; GA; measure on S_r = S ∖ F.
//!
//! The (ε, δ, τ) criterion on S_r as this suite formalises it \[derived; the paper's exact
//! definition is not confirmed]: for multipliers μ ≥ 0 on S_r,
//! ε = ‖θ' − Σ_{i∈S_r} μ_i∇_θ q_i(θ')‖, δ = max_{i∈S_r} μ_i(q_i(θ') − 1) and
//! τ = max(0, 1 − min_{i∈S_r} q_i(θ')).

pub mod flips;

use crate::data::Binary;
use crate::error::{Error, Result};
use crate::loss::MarginLoss;
use crate::margin::certificate::{certify, evaluate, Certificate, CertifyOptions, Solved};
use crate::model::Model;
use nalgebra::DVector;
use serde::Serialize;

/// The indices of the retained set S_r = S ∖ F among `n` points, in order.
pub fn retained(n: usize, forget: &[usize]) -> Vec<usize> {
    (0..n).filter(|i| !forget.contains(i)).collect()
}

/// Checks that `forget` is a non-empty set of distinct valid indices that leaves a point.
pub fn validate_forget(forget: &[usize], n: usize) -> Result<()> {
    if forget.is_empty() {
        return Err(Error::input("the forget set is empty"));
    }
    if let Some(&i) = forget.iter().find(|&&i| i >= n) {
        return Err(Error::input(format!(
            "forget index {i} is out of range: the data set has {n} points (0..{n})"
        )));
    }
    let mut sorted = forget.to_vec();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::input(format!(
            "forget index {} is listed twice",
            w[0]
        )));
    }
    if sorted.len() >= n {
        return Err(Error::input(format!(
            "cannot forget all {n} points: the retained set would be empty"
        )));
    }
    Ok(())
}

/// θ' = θ − c·Σ_{r∈F} λ_r y_r ∇_θ N(x_r; θ) as a new model.
pub fn ga_step(
    model: &dyn Model,
    data: &Binary,
    lambda: &DVector<f64>,
    forget: &[usize],
    c: f64,
) -> Result<Box<dyn Model>> {
    validate_forget(forget, data.n())?;
    if lambda.len() != data.n() {
        return Err(Error::shape(format!(
            "{} multipliers for {} points",
            lambda.len(),
            data.n()
        )));
    }
    let sub = data.subset(forget);
    let coef = DVector::from_iterator(
        forget.len(),
        forget.iter().map(|&r| lambda[r] * data.y()[r]),
    );
    let step = model.vjp(sub.x(), &coef);
    crate::error::ensure_finite("gradient-ascent step", step.as_slice())?;
    let mut out = model.boxed_clone();
    out.params_mut().axpy(-c, &step, 1.0);
    Ok(out)
}

/// The explicit form θ' = θ + β·∇_θ ℓ(y_r N(x_r; θ)) for one point and a given β.
pub fn ga_step_beta(
    model: &dyn Model,
    data: &Binary,
    r: usize,
    beta: f64,
    loss: MarginLoss,
) -> Result<Box<dyn Model>> {
    validate_forget(&[r], data.n())?;
    let sub = data.subset(&[r]);
    let q = model.forward(sub.x())[0] * data.y()[r];
    let coef = DVector::from_element(1, loss.deriv(q) * data.y()[r]);
    let mut out = model.boxed_clone();
    out.set_params(&(model.params() + model.vjp(sub.x(), &coef) * beta))?;
    Ok(out)
}

/// β*_r = λ_r/|ℓ'(q_r)| (reported only; infinite when ℓ'(q_r) underflows).
pub fn beta_star(lambda_r: f64, q_r: f64, loss: MarginLoss) -> f64 {
    lambda_r / loss.deriv(q_r).abs()
}

/// The (ε, δ, τ) triple with its companions.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Triple {
    /// Stationarity residual.
    pub eps: f64,
    /// max μ_i(q_i − 1).
    pub delta: f64,
    /// max μ_i|q_i − 1|.
    pub delta_abs: f64,
    /// max(0, 1 − min q_i).
    pub tau: f64,
    /// ε/‖θ‖.
    pub eps_rel: f64,
}

/// The triple of `model` on `data` for given multipliers μ, at the model's scale.
pub fn triple(model: &dyn Model, data: &Binary, mu: &DVector<f64>) -> Triple {
    let (eps, delta, delta_abs, tau) = evaluate(model, data, mu);
    Triple {
        eps,
        delta,
        delta_abs,
        tau,
        eps_rel: eps / model.params().norm().max(f64::MIN_POSITIVE),
    }
}

/// Everything measured about one unlearning.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The forget set.
    pub forget: Vec<usize>,
    /// The step fraction c.
    pub fraction: f64,
    /// Certificate of the original model on S (normalised).
    pub before: Certificate,
    /// Triple on S_r with the original multipliers restricted to S_r, at the KKT scale.
    pub with_certificate: Triple,
    /// Triple on S_r with fresh NNLS multipliers, at the KKT scale.
    pub with_nnls: Triple,
    /// Certificate on S_r after renormalising by q_min(θ', S_r)^{1/L} (τ = 0).
    pub renormalised: Certificate,
    /// β*_r for each forgotten point (λ_r/|ℓ'(q_r)|, logistic loss, at the KKT scale).
    pub beta_star: Vec<f64>,
}

/// An unlearned model with its report.
pub struct Unlearned {
    /// The original model at the KKT scale.
    pub original: Box<dyn Model>,
    /// The unlearned model θ' (at the KKT scale).
    pub model: Box<dyn Model>,
    /// The retained data S_r.
    pub retained: Binary,
    /// The measurements.
    pub report: Report,
}

/// The whole pipeline on a trained model: rescale to the KKT scale, certify on S, step, and
/// measure on S_r. `lambda` overrides the certificate's multipliers (e.g. a fixture's).
pub fn unlearn(
    model: &dyn Model,
    data: &Binary,
    forget: &[usize],
    fraction: f64,
    lambda: Option<&DVector<f64>>,
) -> Result<Unlearned> {
    validate_forget(forget, data.n())?;
    let before = certify(model, data, &CertifyOptions::default())?;
    let mut original = model.boxed_clone();
    original.set_params(&(model.params() / before.scale))?;
    let lam = lambda.cloned().unwrap_or_else(|| before.lambda.clone());
    let unlearned = ga_step(original.as_ref(), data, &lam, forget, fraction)?;
    let keep = retained(data.n(), forget);
    let retained = data.subset(&keep);
    let mu = DVector::from_iterator(keep.len(), keep.iter().map(|&i| lam[i]));
    // The two measurements on S_r are independent: run them side by side.
    let (with_certificate, nnls) = rayon::join(
        || triple(unlearned.as_ref(), &retained, &mu),
        || Solved::new(unlearned.as_ref(), &retained),
    );
    let solved = nnls?;
    let nnls = solved.as_given(&CertifyOptions::default())?;
    let with_nnls = Triple {
        eps: nnls.eps,
        delta: nnls.delta,
        delta_abs: nnls.delta_abs,
        tau: nnls.tau,
        eps_rel: nnls.eps_rel,
    };
    let (worst, q_worst) = (nnls.margins.imin(), nnls.margins.min());
    if !(q_worst > 0.0) {
        return Err(Error::assumption(
            "positive margins",
            format!(
                "after the step (c = {fraction}) the unlearned model misclassifies retained point \
                 {} of the data (margin y·N(x) = {q_worst:.6e} ≤ 0), so its (ε, δ, τ) cannot be \
                 renormalised to q_min = 1 on S_r; a smaller step fraction keeps it separating",
                keep[worst]
            ),
        ));
    }
    let renormalised = solved.normalised(&CertifyOptions::default())?;
    let beta_star = forget
        .iter()
        .map(|&r| beta_star(lam[r], before.margins[r], MarginLoss::Logistic))
        .collect();
    Ok(Unlearned {
        original,
        model: unlearned,
        retained,
        report: Report {
            forget: forget.to_vec(),
            fraction,
            before,
            with_certificate,
            with_nnls,
            renormalised,
            beta_star,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Linear;
    use nalgebra::DMatrix;

    /// Points as rows, labels ±1.
    fn data(rows: &[&[f64]], y: &[f64]) -> Binary {
        let d = rows[0].len();
        let flat: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Binary::new(
            DMatrix::from_row_slice(rows.len(), d, &flat),
            DVector::from_column_slice(y),
        )
        .expect("labels ±1")
    }

    #[test]
    fn the_step_removes_the_forgotten_terms_of_the_stationarity_sum() {
        // Linear N(x) = ⟨w, x⟩, so g_r = y_r x_r and θ' = θ − c Σ_{r∈F} λ_r y_r x_r.
        let s = data(&[&[1.0, 0.0], &[0.0, 2.0], &[1.0, 1.0]], &[1.0, -1.0, 1.0]);
        let w = Linear::new(DVector::from_vec(vec![3.0, -1.0]));
        let lambda = DVector::from_vec(vec![0.5, 2.0, 7.0]);
        let stepped = ga_step(&w, &s, &lambda, &[0, 1], 0.25).expect("valid");
        // 0.25·(0.5·(1, 0) − 2·(0, 2)) = (0.125, −1).
        let want = [3.0 - 0.125, -1.0 + 1.0];
        for (got, want) in stepped.params().iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
        assert!(ga_step(&w, &s, &DVector::zeros(2), &[0], 1.0).is_err());
        assert!(ga_step(&w, &s, &lambda, &[3], 1.0).is_err());
    }

    #[test]
    fn the_explicit_step_at_beta_star_is_the_multiplier_step() {
        let s = data(&[&[1.0, 0.5], &[-0.5, 2.0]], &[1.0, -1.0]);
        let w = Linear::new(DVector::from_vec(vec![0.8, -0.6]));
        let loss = MarginLoss::Logistic;
        let r = 1;
        let q_r = s.y()[r] * w.forward(s.subset(&[r]).x())[0];
        let lambda_r = 0.3;
        let beta = beta_star(lambda_r, q_r, loss);
        assert!((beta - lambda_r / loss.deriv(q_r).abs()).abs() < 1e-15);
        // θ + β ℓ'(q_r) y_r x_r, written out.
        let explicit = ga_step_beta(&w, &s, r, beta, loss).expect("valid");
        let by_hand: Vec<f64> = (0..2)
            .map(|k| w.params()[k] + beta * loss.deriv(q_r) * s.y()[r] * s.x()[(r, k)])
            .collect();
        let lambda = DVector::from_vec(vec![0.0, lambda_r]);
        let multiplier = ga_step(&w, &s, &lambda, &[r], 1.0).expect("valid");
        for (k, want) in by_hand.iter().enumerate() {
            assert!((explicit.params()[k] - want).abs() < 1e-15);
            assert!((explicit.params()[k] - multiplier.params()[k]).abs() < 1e-14);
        }
    }

    #[test]
    fn the_triple_reads_residual_slackness_and_infeasibility() {
        // w = (2, 0), one point x = (1, 0), y = 1: q = 2. With μ = 1 the residual is
        // w − μ y x = (1, 0): ε = 1, ε_rel = 1/2, δ = μ(q − 1) = 1, τ = 0.
        let s = data(&[&[1.0, 0.0]], &[1.0]);
        let w = Linear::new(DVector::from_vec(vec![2.0, 0.0]));
        let t = triple(&w, &s, &DVector::from_vec(vec![1.0]));
        assert!((t.eps - 1.0).abs() < 1e-15 && (t.eps_rel - 0.5).abs() < 1e-15);
        assert!((t.delta - 1.0).abs() < 1e-15 && t.tau == 0.0);
    }

    #[test]
    fn the_pipeline_works_at_the_kkt_scale_and_refuses_a_zero_margin() {
        // w = (2, 0): margins 2 and 2, so the KKT scale is w/2 = (1, 0).
        let s = data(&[&[1.0, 0.0], &[1.0, 1.0]], &[1.0, 1.0]);
        let w = Linear::new(DVector::from_vec(vec![2.0, 0.0]));
        let u = unlearn(&w, &s, &[0], 0.5, Some(&DVector::from_vec(vec![0.5, 0.5])))
            .expect("still separating");
        assert!(
            (u.original.params()[0] - 1.0).abs() < 1e-12,
            "{:?}",
            u.original.params()
        );
        // θ' = (1, 0) − 0.5·0.5·(1, 0) = (0.75, 0); retained point (1, 1) has margin 0.75.
        assert!((u.model.params()[0] - 0.75).abs() < 1e-12);
        assert_eq!(u.retained.n(), 1);
        // λ_0 = 1 at c = 1: θ' = 0, the retained margin is exactly 0 — refused, with the reason.
        let e = unlearn(&w, &s, &[0], 1.0, Some(&DVector::from_vec(vec![1.0, 0.0])))
            .err()
            .expect("zero margin");
        assert!(e.to_string().contains("after the step"), "{e}");
    }

    #[test]
    fn retained_indices_drop_the_forget_set_and_keep_the_order() {
        assert_eq!(retained(6, &[4, 1]), vec![0, 2, 3, 5]);
        assert_eq!(retained(3, &[]), vec![0, 1, 2]);
        assert_eq!(retained(2, &[0, 1]), Vec::<usize>::new());
        assert!(validate_forget(&[], 3).is_err() && validate_forget(&[0, 0], 3).is_err());
        assert!(validate_forget(&[0, 1, 2], 3).is_err() && validate_forget(&[3], 3).is_err());
        assert!(validate_forget(&[2, 0], 3).is_ok());
    }
}
