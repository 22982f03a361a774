//! `kkt.certificate.fixture`: exact KKT points built by construction certify with ε ≈ 0.

use crate::check::{over_seeds, Check, Ctx, Evidence};
use crate::check::{Agg, Extremes};
use crate::data::near_orthogonal::{self, Sampling};
use crate::error::Result;
use crate::margin::certificate::{certify, Certificate, CertifyOptions};
use crate::margin::fixture::{class_aligned, Draw};
use crate::margin::svm;
use crate::model::{Linear, Model};
use crate::rng::{self, stream};
use nalgebra::DVector;

pub struct CertificateFixture;

/// The parameters of `theory/kkt.certificate.fixture.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n_linear: usize,
    d: usize,
    n: usize,
    m: usize,
    mu_norm2: f64,
    draws: usize,
    /// The stationarity residual ε/‖θ̃‖ the control injects (10× the gate's tolerance).
    control_eps: f64,
    /// The exact SVM with more points than dimensions (λ not unique).
    n_wide: usize,
    d_wide: usize,
}

/// The certificate of an exact hard-margin SVM with n > d: (ε_rel, δ/max λ, rank < n).
fn wide_svm(seed: u64, n: usize, d: usize) -> Result<(f64, f64, bool)> {
    let (data, _) =
        crate::data::planted::generate(&mut rng::sub(seed, stream::DATA, 2), n, d, 0.2)?;
    let s = svm::hard_margin(&data)?;
    let c = certify(&Linear::new(s.w), &data, &CertifyOptions::default())?;
    Ok((c.eps_rel, c.delta.max(0.0) / c.lambda.amax(), c.rank < n))
}

struct Certified {
    cert: Certificate,
    lambda_gap: f64,
    /// ε/‖θ̃‖ of the control instance (θ moved off the span of the margin gradients).
    control_eps_rel: f64,
}

/// θ moved by a step orthogonal to every margin gradient ∇_θ q_i, sized so that the exact
/// stationarity residual of the moved point is `eps_rel`·‖θ′‖: the margins do not change (to first
/// order for a nonlinear model, exactly for a linear one), the best combination Σλ_i∇q_i stays
/// where it was, and the residual is the step itself. A known, small violation of the ε gate.
fn off_span(
    model: &dyn Model,
    x: &nalgebra::DMatrix<f64>,
    seed: u64,
    eps_rel: f64,
) -> Result<DVector<f64>> {
    let theta = model.params();
    let jt = model.jacobian(x).transpose();
    let q = jt.qr().q();
    let u = rng::gaussian_vector(&mut rng::seeded(seed, stream::DIRECTIONS), theta.len(), 1.0);
    let off = &u - &q * (q.transpose() * &u);
    let off_norm = off.norm();
    if !(off_norm > crate::tol::OFF_SPAN_TOL * u.norm()) {
        return Err(crate::error::Error::Assumption {
            assumption: "near-orthogonality".into(),
            detail: "the margin gradients span the whole parameter space: the control has no step off their span".into(),
        });
    }
    // ‖step‖/‖θ + step‖ = eps_rel with step ⊥ θ's span component: ‖step‖ = t‖θ‖/√(1 − t²).
    let step = eps_rel * theta.norm() / (1.0 - eps_rel * eps_rel).sqrt();
    Ok(theta + off * (step / off_norm))
}

fn certify_fixture(
    model: &dyn Model,
    data: &crate::data::Binary,
    lambda: &nalgebra::DVector<f64>,
    seed: u64,
    control_eps: f64,
) -> Result<Certified> {
    let cert = certify(
        model,
        data,
        &CertifyOptions {
            box_delta: Some(0.0),
        },
    )?;
    let want = lambda / cert.scale.powi(2 - cert.homogeneity as i32);
    let lambda_gap = (&cert.lambda - &want).amax() / want.amax();
    // Sensitivity control: the exact KKT point moved off the gradients' span by a known ε_rel.
    let mut noisy = model.boxed_clone();
    noisy.set_params(&off_span(model, data.x(), seed, control_eps)?)?;
    let control_eps_rel = certify(noisy.as_ref(), data, &CertifyOptions::default())?.eps_rel;
    Ok(Certified {
        cert,
        lambda_gap,
        control_eps_rel,
    })
}

impl Check for CertificateFixture {
    fn id(&self) -> &'static str {
        "kkt.certificate.fixture"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let (n_lin, d, n, m, mu2) = (p.n_linear, p.d, p.n, p.m, p.mu_norm2);
        let res = over_seeds(p.draws, |seed| {
            let (data, _) = near_orthogonal::generate(
                &mut rng::seeded(seed, stream::DATA),
                n_lin,
                d,
                Sampling::Gaussian,
            )?;
            let s = svm::hard_margin(&data)?;
            let lin = certify_fixture(
                &Linear::new(s.w.clone()),
                &data,
                s.lambda(),
                seed,
                p.control_eps,
            )?;
            let v1 = match class_aligned(&mut rng::sub(seed, stream::DATA, 1), n, d, m, mu2)? {
                Draw::Accepted(f) => Ok(certify_fixture(
                    &f.net,
                    &f.data,
                    &f.lambda,
                    seed,
                    p.control_eps,
                )?),
                Draw::Rejected(why) => Err(why),
            };
            Ok((lin, v1, wide_svm(seed, p.n_wide, p.d_wide)?))
        })?;
        let mut ev = ctx.evidence();
        let mut certs: Vec<(&str, &Certified)> = Vec::new();
        let mut rejected = Vec::new();
        for (lin, v1, _) in &res {
            certs.push(("linear SVM", lin));
            match v1 {
                Ok(c) => certs.push(("V1 class-aligned", c)),
                Err(why) => rejected.push(why.clone()),
            }
        }
        let accepted = res.len() - rejected.len();
        for (name, prefix) in [("linear SVM", "linear"), ("V1 class-aligned", "v1")] {
            let cs: Vec<&Certified> = certs
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, c)| *c)
                .collect();
            let worst = |f: &dyn Fn(&Certified) -> f64| Agg::max(cs.iter().map(|c| f(c)));
            let key = |k: &str| format!("{prefix}.{k}");
            ev.record(&key("eps"), worst(&|c| c.cert.eps_rel))
                .record(
                    &key("delta"),
                    worst(&|c| c.cert.delta.max(0.0) / c.cert.lambda.amax()),
                )
                .record(&key("tau"), worst(&|c| c.cert.tau))
                .record(
                    &key("box_eps"),
                    worst(&|c| c.cert.box_eps.unwrap_or(f64::NAN) / c.cert.theta_norm),
                )
                .record(&key("lambda"), worst(&|c| c.lambda_gap))
                .record(
                    &format!("control.{prefix}.perturbed"),
                    Agg::min(cs.iter().map(|c| c.control_eps_rel)),
                );
            ev.stat(
                format!("{name}: control, measured ε/‖θ̃‖ over the injected (min over draws)"),
                cs.iter().map(|c| c.control_eps_rel / p.control_eps).min_f(),
            );
        }
        ev.record("v1.accepted", Agg::count(accepted, res.len()));
        let wide = |f: fn(&(f64, f64, bool)) -> f64| Agg::max(res.iter().map(|r| f(&r.2)));
        ev.record(
            "wide.rank_deficient",
            Agg::count(res.iter().filter(|r| r.2 .2).count(), res.len()),
        )
        .record("wide.eps", wide(|w| w.0))
        .record("wide.delta", wide(|w| w.1));
        ev.stat("V1 acceptance rate", accepted as f64 / res.len() as f64);
        for why in rejected {
            ev.note(format!("rejected V1 draw: {why}"));
        }
        Ok(ev)
    }
}
