//! The V1 "class-aligned" exact KKT fixture (kkt.md §3).
//!
//! Data x_i = y_i μ + ξ_i with ξ_i ~ N(0, I_d), both classes present, and ‖μ‖² large enough
//! that every opposite-class inner product is negative (checked on the sample). With
//! v_j = ±1/√m and the activation pattern A_ij = 1[sign(v_j) = y_i], solve the feature-space SVM
//! dual with H_ik = y_i y_k⟨x_i, x_k⟩·Σ_j v_j² A_ij A_kj (block-diagonal by class, ρ = ½ inside a
//! class) and set w_j = v_j Σ_i λ_i y_i A_ij x_i. The draw is accepted iff λ > 0 and the
//! realised pattern equals A (A_ij = 1 ⇒ ⟨w_j, x_i⟩ > 0, A_ij = 0 ⇒ ⟨w_j, x_i⟩ ≤ 0); an
//! accepted fixture is an exact KKT point of min ½‖W‖² s.t. q_i ≥ 1 with every margin equal to 1.

use super::multipliers::nnls_qp;
use crate::data::Binary;
use crate::error::Result;
use crate::linalg::gram_rows;
use crate::model::two_layer::alternating_signs;
use crate::model::{Activation, OutputLayer, TwoLayer};
use crate::rng::{self, Rng};
use nalgebra::{DMatrix, DVector};

/// An accepted fixture.
#[derive(Clone, Debug)]
pub struct ClassAligned {
    /// The data.
    pub data: Binary,
    /// The network at the KKT point.
    pub net: TwoLayer,
    /// Its multipliers.
    pub lambda: DVector<f64>,
    /// The feature Gram matrix H.
    pub h: DMatrix<f64>,
}

/// The outcome of one draw.
#[derive(Clone, Debug)]
pub enum Draw {
    /// The draw satisfies every acceptance test.
    Accepted(Box<ClassAligned>),
    /// The draw was rejected, with the reason.
    Rejected(String),
}

/// Draws one fixture with n points (labels alternate, so both classes appear), width m (even).
pub fn class_aligned(rng: &mut Rng, n: usize, d: usize, m: usize, mu_norm2: f64) -> Result<Draw> {
    let mu = rng::unit_sphere(rng, d) * mu_norm2.sqrt();
    let y = DVector::from_fn(n, |i, _| if i % 2 == 0 { 1.0 } else { -1.0 });
    let mut x = rng::gaussian_matrix(rng, n, d, 1.0);
    for i in 0..n {
        let mut r = x.row_mut(i);
        r += (&mu * y[i]).transpose();
    }
    let data = Binary::new(x, y.clone())?;
    let g = gram_rows(data.x());
    for i in 0..n {
        for k in 0..n {
            if y[i] != y[k] && g[(i, k)] >= 0.0 {
                return Ok(Draw::Rejected(format!(
                    "opposite-class inner product ⟨x_{i}, x_{k}⟩ = {:.3} ≥ 0",
                    g[(i, k)]
                )));
            }
        }
    }
    let v = alternating_signs(m);
    let a = DMatrix::from_fn(n, m, |i, j| {
        if (v[j] > 0.0) == (y[i] > 0.0) {
            1.0
        } else {
            0.0
        }
    });
    let mut av = a.clone();
    for (j, mut c) in av.column_iter_mut().enumerate() {
        c *= v[j];
    }
    let rho = gram_rows(&av);
    let h = DMatrix::from_fn(n, n, |i, k| y[i] * y[k] * g[(i, k)] * rho[(i, k)]);
    let mult = nnls_qp(&h, &DVector::from_element(n, 1.0))?;
    let lambda = mult.lambda;
    if let Some(i) = lambda.iter().position(|&l| !(l > 0.0)) {
        return Ok(Draw::Rejected(format!(
            "multiplier λ_{i} = {:.3e} is not positive",
            lambda[i]
        )));
    }
    // w_j = v_j Σ_i λ_i y_i A_ij x_i, i.e. W = diag(v)·Aᵀ·diag(λ∘y)·X.
    let mut coef = a.transpose();
    for i in 0..n {
        coef.column_mut(i).scale_mut(lambda[i] * y[i]);
    }
    for j in 0..m {
        coef.row_mut(j).scale_mut(v[j]);
    }
    let w = &coef * data.x();
    let pre = data.x() * w.transpose();
    for i in 0..n {
        for j in 0..m {
            let active = pre[(i, j)] > 0.0;
            if active != (a[(i, j)] == 1.0) {
                return Ok(Draw::Rejected(format!(
                    "pattern mismatch at point {i}, unit {j}: ⟨w_j, x_i⟩ = {:.3e}",
                    pre[(i, j)]
                )));
            }
        }
    }
    let theta = DVector::from_row_slice(w.transpose().as_slice());
    let net = TwoLayer::new(d, m, Activation::Relu, false, OutputLayer::Fixed(v), theta)?;
    Ok(Draw::Accepted(Box::new(ClassAligned {
        data,
        net,
        lambda,
        h,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    #[test]
    fn an_accepted_draw_is_an_exact_kkt_point_and_a_bad_draw_is_rejected_with_its_reason() {
        let (n, d, m) = (6, 1000, 8);
        let (seed, f) = (0..20)
            .find_map(|seed| {
                match class_aligned(&mut rng::seeded(seed, 0), n, d, m, 300.0).unwrap() {
                    Draw::Accepted(f) => Some((seed, f)),
                    Draw::Rejected(_) => None,
                }
            })
            .expect("a separated draw is accepted");
        let (x, y) = (f.data.x(), f.data.y());
        // Every margin is 1 …
        let q = f.net.forward(x).component_mul(y);
        assert!(q.iter().all(|&qi| (qi - 1.0).abs() < 1e-10), "q = {q}");
        // … and θ = Σ λ_i y_i ∇_θ N(x_i) with λ > 0: stationarity of min ½‖θ‖² s.t. q ≥ 1.
        let grad = f.net.vjp(x, &f.lambda.component_mul(y));
        assert!((&grad - f.net.params()).amax() < 1e-10 * f.net.params().amax());
        assert!(f.lambda.iter().all(|&l| l > 0.0));
        // H is block-diagonal by class with ρ = ½ inside a class: H_ii = ‖x_i‖²/2.
        for i in 0..n {
            assert!((f.h[(i, i)] - x.row(i).norm_squared() / 2.0).abs() < 1e-9);
            for k in 0..n {
                if y[i] != y[k] {
                    assert_eq!(f.h[(i, k)], 0.0);
                }
            }
        }
        // The data are x_i = y_i μ + ξ_i with labels alternating from +1: the same stream drawn
        // here (μ first, then ξ) rebuilds them.
        let mut r = rng::seeded(seed, 0);
        let mu = rng::unit_sphere(&mut r, d) * 300f64.sqrt();
        let xi = rng::gaussian_matrix(&mut r, n, d, 1.0);
        for i in 0..n {
            assert_eq!(y[i], if i % 2 == 0 { 1.0 } else { -1.0 });
            let want = xi.row(i) + mu.transpose() * y[i];
            assert!((x.row(i) - want).amax() < 1e-12, "point {i}");
        }
        // Without a class mean, opposite-class inner products are positive for some pair.
        match class_aligned(&mut rng::seeded(0, 0), n, d, m, 0.0).unwrap() {
            Draw::Rejected(why) => assert!(why.contains("opposite-class"), "{why}"),
            Draw::Accepted(_) => panic!("a draw without class means was accepted"),
        }
    }
}
