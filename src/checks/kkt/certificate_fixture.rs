//! `kkt.certificate.fixture`: exact KKT points built by construction certify with ε ≈ 0.

use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::data::near_orthogonal::{self, Sampling};
use crate::error::Result;
use crate::margin::certificate::{certify, Certificate, CertifyOptions};
use crate::margin::fixture::{class_aligned, Draw};
use crate::margin::svm;
use crate::model::{Linear, Model};
use crate::rng::{self, stream};
use crate::theory::Kind;

pub struct CertificateFixture;

struct Certified {
    cert: Certificate,
    lambda_gap: f64,
    control_eps_rel: f64,
}

fn certify_fixture(
    model: &dyn Model,
    data: &crate::data::Binary,
    lambda: &nalgebra::DVector<f64>,
    seed: u64,
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
    // Negative control: a relative perturbation of 1e−3 in a random direction is not a KKT point.
    let mut noisy = model.boxed_clone();
    let noise = rng::gaussian_vector(
        &mut rng::seeded(seed, stream::DIRECTIONS),
        model.n_params(),
        1.0,
    );
    let theta =
        model.params() + noise * (1e-3 * model.params().norm() / (model.n_params() as f64).sqrt());
    noisy.set_params(&theta)?;
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
        let p = &ctx.params;
        let (n_lin, d, n, m, mu2, draws) = (
            p.n("n_linear")?,
            p.n("d")?,
            p.n("n")?,
            p.n("m")?,
            p.f("mu_norm2")?,
            p.n("draws")?,
        );
        let res = over_seeds(draws, |seed| {
            let (data, _) = near_orthogonal::generate(
                &mut rng::seeded(seed, stream::DATA),
                n_lin,
                d,
                Sampling::Gaussian,
            )?;
            let s = svm::hard_margin(&data)?;
            let lin = certify_fixture(&Linear::new(s.w.clone()), &data, s.lambda(), seed)?;
            let v1 = match class_aligned(&mut rng::seeded(seed, stream::DATA + 100), n, d, m, mu2)?
            {
                Draw::Accepted(f) => Ok(certify_fixture(&f.net, &f.data, &f.lambda, seed)?),
                Draw::Rejected(why) => Err(why),
            };
            Ok((lin, v1))
        })?;
        let mut ev = ctx.evidence();
        let mut certs: Vec<(&str, &Certified)> = Vec::new();
        let mut rejected = Vec::new();
        for (lin, v1) in &res {
            certs.push(("linear SVM", lin));
            match v1 {
                Ok(c) => certs.push(("V1 class-aligned", c)),
                Err(why) => rejected.push(why.clone()),
            }
        }
        let accepted = res.len() - rejected.len();
        for name in ["linear SVM", "V1 class-aligned"] {
            let cs: Vec<&Certified> = certs
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, c)| *c)
                .collect();
            if cs.is_empty() {
                continue;
            }
            let worst = |f: &dyn Fn(&Certified) -> f64| cs.iter().map(|c| f(c)).fold(0.0, f64::max);
            ev.le(
                format!("{name}: ε/‖θ̃‖"),
                Kind::Gate,
                worst(&|c| c.cert.eps_rel),
                1e-9,
            )
            .le(
                format!("{name}: δ/max λ"),
                Kind::Gate,
                worst(&|c| c.cert.delta.max(0.0) / c.cert.lambda.amax()),
                1e-9,
            )
            .le(
                format!("{name}: τ"),
                Kind::Gate,
                worst(&|c| c.cert.tau),
                1e-12,
            )
            .le(
                format!("{name}: box QP ε*(0)/‖θ̃‖"),
                Kind::Gate,
                worst(&|c| c.cert.box_eps.unwrap_or(f64::NAN) / c.cert.theta_norm),
                1e-6,
            )
            .le(
                format!("{name}: certificate λ vs construction λ (·max λ)"),
                Kind::Gate,
                worst(&|c| c.lambda_gap),
                1e-8,
            )
            .ge(
                format!("control: {name} perturbed by 1e−3·‖θ‖, ε/‖θ̃‖"),
                Kind::Control,
                cs.iter().map(|c| c.control_eps_rel).min_f(),
                1e-6,
            );
        }
        ev.ge(
            "V1 fixture draws accepted",
            Kind::Gate,
            accepted as f64,
            1.0,
        );
        ev.stat("V1 acceptance rate", accepted as f64 / res.len() as f64);
        for why in rejected {
            ev.note(format!("rejected V1 draw: {why}"));
        }
        Ok(ev)
    }
}
