//! `dimple certify`: the KKT certificate of a user's homogeneous model on their data.

use super::{delayed_spinner, emit, Failure};
use dimple::api::{CertifyRequest, Route};
use dimple::data;
use dimple::error::Error;
use dimple::model::io::{self, Loaded};
use dimple::report;
use std::path::PathBuf;

/// The certificate's route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RouteArg {
    /// Dense when its estimate fits, else matrix-free.
    Auto,
    /// Exact, from the n × n Gram matrix.
    Dense,
    /// Jacobian-vector products only; ε bracketed.
    MatrixFree,
}

impl From<RouteArg> for Route {
    fn from(r: RouteArg) -> Self {
        match r {
            RouteArg::Auto => Route::Auto,
            RouteArg::Dense => Route::Dense,
            RouteArg::MatrixFree => Route::MatrixFree,
        }
    }
}

/// Arguments of `dimple certify`.
#[derive(clap::Args, Debug)]
pub struct CertifyArgs {
    /// Model file (.safetensors; see the README for tensor names).
    #[arg(long)]
    pub model: PathBuf,
    /// Data file (n × d).
    #[arg(long)]
    pub data: PathBuf,
    /// Labels file (n values, each −1 or +1).
    #[arg(long)]
    pub labels: PathBuf,
    /// Also report ε*(δ₀) from the box QP for this δ₀ ≥ 0 (dense route).
    #[arg(long, allow_negative_numbers = true)]
    pub box_delta: Option<f64>,
    /// `dense`: exact, from the n × n Gram matrix; `matrix-free`: Jacobian-vector products
    /// only, ε bracketed between an upper and a lower bound; `auto`: dense when its estimate
    /// (about 5·10¹¹ flops at most, ≈ 10–20 s) and memory fit, else matrix-free.
    #[arg(long, value_enum, default_value_t = RouteArg::Auto)]
    pub route: RouteArg,
    /// Matrix-free: most iterations (each is two passes over the data).
    #[arg(long, default_value_t = 2000, allow_negative_numbers = true)]
    pub max_iters: i64,
    /// Matrix-free: stop when (ε_upper − ε_lower)/ε_upper ≤ this.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    pub gap: f64,
    /// Memory budget in GiB (default: half the physical memory); runs estimated above it
    /// are refused before they allocate.
    #[arg(long, allow_negative_numbers = true)]
    pub max_memory: Option<f64>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl CertifyArgs {
    /// The library request, validated.
    pub fn request(&self) -> Result<CertifyRequest, Error> {
        Ok(CertifyRequest {
            box_delta: self.box_delta,
            route: self.route.into(),
            matrix_free: dimple::margin::matrix_free::Options {
                max_iters: dimple::limits::count(
                    "max_iters (--max-iters)",
                    self.max_iters,
                    1,
                    dimple::margin::matrix_free::MAX_ITERS_CAP,
                )?,
                gap: self.gap,
                ..Default::default()
            },
            budget: dimple::budget::Budget::from_gib(self.max_memory)?,
        })
    }
}

/// Prints the certificate.
pub fn run(a: &CertifyArgs) -> Result<(), Failure> {
    let req = a.request()?;
    let req = &req;
    let json = a.json;
    let model = match io::load(&a.model)? {
        Loaded::Binary(m) => m,
        Loaded::Classifier(_) => return Err(Error::input("certify needs a scalar-output model (linear or two-layer); this file holds a multi-class MLP").into()),
    };
    let data = data::load::binary(&a.data, &a.labels)?;
    let bar = delayed_spinner(format!(
        "certifying {} on {} points",
        model.name(),
        data.n()
    ));
    let outcome = dimple::api::certify_with(model.as_ref(), &data, req, &mut |it, up, lo| {
        bar.set_message(format!(
            "matrix-free certificate: iteration {it}, ε ∈ [{}, {}]",
            report::fmt_num(lo),
            report::fmt_num(up)
        ))
    });
    bar.finish_and_clear();
    let report = match outcome? {
        dimple::api::CertifyOutcome::Dense(r) => r,
        dimple::api::CertifyOutcome::MatrixFree(r) => {
            print_matrix_free(&r, data.n(), json)?;
            return Ok(());
        }
    };
    let (cert, loss_eps) = (&report.certificate, report.loss_implied_eps);
    if json {
        let mut v = serde_json::to_value(&report).map_err(|e| Error::input(e.to_string()))?;
        v["route"] = serde_json::json!("dense");
        v["lambda"] = serde_json::json!(cert.lambda.as_slice());
        emit(&v.to_string());
    } else {
        emit(&format!(
            "KKT certificate of {} on {} points (d = {})",
            model.name(),
            data.n(),
            data.d()
        ));
        let f = report::fmt_num;
        emit(&format!("  homogeneity L            {}", cert.homogeneity));
        emit(&format!("  min margin (raw)         {}", f(cert.q_min_raw)));
        emit(&format!(
            "  normalised by            q_min^(1/L) = {}",
            f(cert.scale)
        ));
        emit(&format!(
            "  ‖θ̃‖                      {}",
            f(cert.theta_norm)
        ));
        emit(&format!(
            "  ε (stationarity)         {}   (ε/‖θ̃‖ = {})",
            f(cert.eps),
            f(cert.eps_rel)
        ));
        emit(&format!(
            "  δ = max λ(q − 1)         {}   (max λ|q − 1| = {})",
            f(cert.delta),
            f(cert.delta_abs)
        ));
        emit(&format!("  τ (feasibility slack)    {}", f(cert.tau)));
        emit(&format!(
            "  Σλ vs ‖θ̃‖²/L             {} vs {}",
            f(cert.lambda_sum),
            f(cert.theta_norm.powi(2) / cert.homogeneity as f64)
        ));
        emit(&format!(
            "  support                  {} of {}",
            cert.support,
            data.n()
        ));
        emit(&format!(
            "  Jacobian rank            {} of {}: λ {}",
            cert.rank,
            data.n(),
            if cert.unique {
                "unique"
            } else if cert.reselected {
                "not unique; reported: the residual minimiser of smallest δ"
            } else {
                "not unique; the solver's minimiser already had the smallest δ found"
            }
        ));
        emit(&format!(
            "  route                    dense (exact; {})",
            match cert.method {
                dimple::margin::multipliers::Method::ActiveSet => "active set",
                dimple::margin::multipliers::Method::TallLawsonHanson =>
                    "Lawson–Hanson on the tall Jacobian",
                dimple::margin::multipliers::Method::InteriorPoint => "interior point",
            }
        ));
        emit(&format!(
            "  solver                   {:?}{}",
            cert.status,
            if cert.polished {
                ", polished"
            } else {
                ", raw interior point"
            }
        ));
        emit(&format!("  Euler consistency        {}", f(cert.euler_gap)));
        if let Some(b) = cert.box_eps {
            emit(&format!("  box QP ε*(δ₀)            {}", f(b)));
        }
        if let Some(e) = loss_eps {
            emit(&format!(
                "  ε of loss-implied λ      {}   (λ_i ∝ |ℓ'(q_i)|, logistic)",
                f(e)
            ));
        }
    }
    Ok(())
}

fn print_matrix_free(
    r: &dimple::api::MatrixFreeReport,
    n: usize,
    json: bool,
) -> Result<(), Failure> {
    let c = &r.certificate;
    if json {
        let mut v = serde_json::to_value(dimple::api::CertifyOutcome::MatrixFree(r.clone()))
            .map_err(|e| Error::input(e.to_string()))?;
        v["lambda"] = serde_json::json!(c.lambda.as_slice());
        emit(&v.to_string());
        return Ok(());
    }
    let f = report::fmt_num;
    emit(&format!(
        "KKT certificate of {} on {n} points (matrix-free: Jacobian-vector products, no Gram matrix)",
        r.model
    ));
    emit(&format!("  homogeneity L            {}", c.homogeneity));
    emit(&format!("  min margin (raw)         {}", f(c.q_min_raw)));
    emit(&format!(
        "  normalised by            q_min^(1/L) = {}",
        f(c.scale)
    ));
    emit(&format!("  ‖θ̃‖                      {}", f(c.theta_norm)));
    emit(&format!(
        "  ε* bracket               [{}, {}]   (upper = ε of the λ reported; ε/‖θ̃‖ = {})",
        f(c.eps_lower),
        f(c.eps),
        f(c.eps_rel)
    ));
    emit(&format!(
        "  relative gap             {}   ({} after {} iterations, {} passes)",
        f(c.gap_rel),
        if c.converged {
            "reached"
        } else {
            "NOT reached"
        },
        c.iterations,
        c.passes
    ));
    emit(&format!(
        "  δ = max λ(q − 1)         {}   (max λ|q − 1| = {})",
        f(c.delta),
        f(c.delta_abs)
    ));
    emit(&format!("  τ (feasibility slack)    {}", f(c.tau)));
    emit(&format!("  support                  {} of {n}", c.support));
    Ok(())
}
