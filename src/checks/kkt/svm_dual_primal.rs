//! `kkt.svm.dual_primal`: the bias-free hard-margin SVM solved as dual and primal QPs.

use crate::check::{over_seeds, Agg, Check, Ctx, Evidence, Extremes};
use crate::data::{near_orthogonal, planted, Binary};
use crate::error::Result;
use crate::margin::lp::{self, Geometry};
use crate::margin::multipliers::Method;
use crate::margin::svm;
use crate::model::{Linear, Model};
use crate::rng::{self, stream};

pub struct SvmDualPrimal;

/// The measurements of one SVM instance; `None` where a comparison was not run on it.
struct Instance {
    primal_gap: Option<f64>,
    dual_gap: Option<f64>,
    margin_gap: f64,
    slackness: f64,
    identity: f64,
    lp_gap: Option<f64>,
    /// Active set vs interior point, where the active set really produced its λ (it falls back
    /// to the interior point when G is singular; then nothing independent is compared).
    solver_gap: Option<f64>,
    control_min_margin: f64,
    almost: usize,
}

/// The parameters of `theory/kkt.svm.dual_primal.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    n_planted: usize,
    d_planted: usize,
    gap: f64,
    n_orth: usize,
    d_orth: usize,
    primal_max_d: usize,
    seeds: usize,
}

fn measure(data: &Binary, primal_max_d: usize, with_lp: bool) -> Result<Instance> {
    let s = svm::hard_margin_with(data, svm::DualSolver::InteriorPoint)?;
    let fast = svm::hard_margin_with(data, svm::DualSolver::ActiveSet)?;
    let w2 = s.w.norm_squared();
    let q = Linear::new(s.w.clone())
        .forward(data.x())
        .component_mul(data.y());
    let lambda = s.lambda();
    let mut out = Instance {
        primal_gap: None,
        dual_gap: None,
        margin_gap: (q.min() - 1.0).abs(),
        slackness: (0..q.len()).map(|i| lambda[i] * (q[i] - 1.0).abs()).max_f(),
        identity: (lambda.sum() - w2).abs() / w2,
        lp_gap: None,
        solver_gap: (fast.multipliers.method == Method::ActiveSet
            && s.multipliers.method != Method::ActiveSet)
            .then(|| (fast.lambda() - lambda).amax() / lambda.amax()),
        control_min_margin: f64::NEG_INFINITY,
        almost: usize::from(s.multipliers.status != crate::margin::qp::QpStatus::Solved),
    };
    if data.d() <= primal_max_d {
        let (wp, z, status) = svm::hard_margin_primal(data)?;
        out.primal_gap = Some((&s.w - &wp).norm() / s.w.norm());
        out.dual_gap = Some((&z - lambda).amax() / lambda.amax());
        out.almost += usize::from(status != crate::margin::qp::QpStatus::Solved);
    }
    if with_lp {
        let mut gaps = Vec::new();
        for g in [Geometry::LInf, Geometry::L1] {
            let a = lp::margin(data, g)?;
            let b = lp::margin_clarabel(data, g)?;
            gaps.push((a.gamma - b.gamma).abs() / a.gamma.abs().max(f64::MIN_POSITIVE));
        }
        out.lp_gap = Some(gaps.into_iter().max_f());
    }
    // Negative control: the SVM of S without its largest-multiplier support vector is not
    // feasible for S.
    let r = lambda.imax();
    let reduced = svm::hard_margin(&data.without(&[r]))?;
    let qc = Linear::new(reduced.w)
        .forward(data.x())
        .component_mul(data.y());
    out.control_min_margin = qc.min();
    Ok(out)
}

impl Check for SvmDualPrimal {
    fn id(&self) -> &'static str {
        "kkt.svm.dual_primal"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: P = ctx.params()?;
        let res = over_seeds(p.seeds, |seed| {
            let (a, _) = planted::generate(
                &mut rng::seeded(seed, stream::DATA),
                p.n_planted,
                p.d_planted,
                p.gap,
            )?;
            let (b, _) = near_orthogonal::generate(
                &mut rng::seeded(seed, stream::DATA),
                p.n_orth,
                p.d_orth,
                near_orthogonal::Sampling::Gaussian,
            )?;
            Ok([
                measure(&a, p.primal_max_d, true)?,
                measure(&b, p.primal_max_d, false)?,
            ])
        })?;
        let all: Vec<Instance> = res.into_iter().flatten().collect();
        let worst = |f: fn(&Instance) -> f64| Agg::max(all.iter().map(f));
        let worst_of = |f: fn(&Instance) -> Option<f64>| Agg::max(all.iter().filter_map(f));
        let mut ev = ctx.evidence();
        ev.record("w.dual_vs_primal", worst_of(|w| w.primal_gap))
            .record("z_vs_lambda", worst_of(|w| w.dual_gap))
            .record("margin.min", worst(|w| w.margin_gap))
            .record("complementary", worst(|w| w.slackness))
            .record("sum_lambda", worst(|w| w.identity))
            .record("active_vs_interior", worst_of(|w| w.solver_gap))
            .record("lp.microlp_vs_clarabel", worst_of(|w| w.lp_gap))
            .record("control.drop_support", worst(|w| w.control_min_margin));
        ev.stat(
            "primal solves",
            all.iter().filter(|w| w.primal_gap.is_some()).count() as f64,
        );
        let almost: usize = all.iter().map(|w| w.almost).sum();
        if almost > 0 {
            ev.note(format!("{almost} solves returned AlmostSolved"));
        }
        Ok(ev)
    }
}
