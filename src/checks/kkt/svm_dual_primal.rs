//! `kkt.svm.dual_primal`: the bias-free hard-margin SVM solved as dual and primal QPs.

use crate::check::{over_seeds, Check, Ctx, Evidence};
use crate::data::{near_orthogonal, planted, Binary};
use crate::error::Result;
use crate::margin::lp::{self, Geometry};
use crate::margin::svm;
use crate::model::{Linear, Model};
use crate::rng::{self, stream};
use crate::theory::Kind;

pub struct SvmDualPrimal;

#[derive(Default)]
struct Worst {
    primal_gap: f64,
    dual_gap: f64,
    margin_gap: f64,
    slackness: f64,
    identity: f64,
    lp_gap: f64,
    solver_gap: f64,
    control_min_margin: f64,
    almost: usize,
    primal_solved: usize,
}

impl Worst {
    fn merge(mut self, o: Worst) -> Worst {
        self.primal_gap = self.primal_gap.max(o.primal_gap);
        self.dual_gap = self.dual_gap.max(o.dual_gap);
        self.margin_gap = self.margin_gap.max(o.margin_gap);
        self.slackness = self.slackness.max(o.slackness);
        self.identity = self.identity.max(o.identity);
        self.lp_gap = self.lp_gap.max(o.lp_gap);
        self.solver_gap = self.solver_gap.max(o.solver_gap);
        self.control_min_margin = self.control_min_margin.max(o.control_min_margin);
        self.almost += o.almost;
        self.primal_solved += o.primal_solved;
        self
    }
}

fn measure(data: &Binary, primal_max_d: usize, with_lp: bool) -> Result<Worst> {
    let s = svm::hard_margin_with(data, svm::DualSolver::InteriorPoint)?;
    let fast = svm::hard_margin_with(data, svm::DualSolver::ActiveSet)?;
    let w2 = s.w.norm_squared();
    let q = Linear::new(s.w.clone())
        .forward(data.x())
        .component_mul(data.y());
    let lambda = s.lambda();
    let mut out = Worst {
        margin_gap: (q.min() - 1.0).abs(),
        slackness: (0..q.len())
            .map(|i| lambda[i] * (q[i] - 1.0).abs())
            .fold(0.0, f64::max),
        identity: (lambda.sum() - w2).abs() / w2,
        solver_gap: (fast.lambda() - lambda).amax() / lambda.amax(),
        control_min_margin: f64::NEG_INFINITY,
        almost: usize::from(s.multipliers.status != crate::margin::qp::QpStatus::Solved),
        ..Worst::default()
    };
    if data.d() <= primal_max_d {
        let (wp, z, status) = svm::hard_margin_primal(data)?;
        out.primal_gap = (&s.w - &wp).norm() / s.w.norm();
        out.dual_gap = (&z - lambda).amax() / lambda.amax();
        out.almost += usize::from(status != crate::margin::qp::QpStatus::Solved);
        out.primal_solved = 1;
    }
    if with_lp {
        for g in [Geometry::LInf, Geometry::L1] {
            let a = lp::margin(data, g)?;
            let b = lp::margin_clarabel(data, g)?;
            out.lp_gap = out
                .lp_gap
                .max((a.gamma - b.gamma).abs() / a.gamma.abs().max(1e-300));
        }
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
        let p = &ctx.params;
        let (na, da, gap) = (p.n("n_planted")?, p.n("d_planted")?, p.f("gap")?);
        let (nb, db) = (p.n("n_orth")?, p.n("d_orth")?);
        let primal_max_d = p.n("primal_max_d")?;
        let res = over_seeds(p.n("seeds")?, |seed| {
            let (a, _) = planted::generate(&mut rng::seeded(seed, stream::DATA), na, da, gap)?;
            let (b, _) = near_orthogonal::generate(
                &mut rng::seeded(seed, stream::DATA),
                nb,
                db,
                near_orthogonal::Sampling::Gaussian,
            )?;
            Ok(measure(&a, primal_max_d, true)?.merge(measure(&b, primal_max_d, false)?))
        })?;
        let w = res.into_iter().fold(
            Worst {
                control_min_margin: f64::NEG_INFINITY,
                ..Worst::default()
            },
            Worst::merge,
        );
        let mut ev = ctx.evidence();
        ev.le("‖w_dual − w_primal‖/‖w‖", Kind::Gate, w.primal_gap, 1e-7)
            .le("max |z_primal − λ| / max λ", Kind::Gate, w.dual_gap, 1e-7)
            .le("|min q_i − 1|", Kind::Gate, w.margin_gap, 1e-7)
            .le("max λ_i|q_i − 1|", Kind::Gate, w.slackness, 1e-7)
            .le("|Σλ − ‖w‖²|/‖w‖²", Kind::Gate, w.identity, 1e-7)
            .le(
                "active-set λ vs interior-point λ (·max λ)",
                Kind::Gate,
                w.solver_gap,
                1e-9,
            )
            .le(
                "L∞/L1 margin LP: |γ_microlp − γ_clarabel|/γ",
                Kind::Gate,
                w.lp_gap,
                1e-6,
            )
            .le(
                "control: min_i q_i on S of SVM(S∖{top support vector})",
                Kind::Control,
                w.control_min_margin,
                1.0 - 1e-7,
            );
        ev.stat("primal solves", w.primal_solved as f64);
        if w.almost > 0 {
            ev.note(format!("{} solves returned AlmostSolved", w.almost));
        }
        Ok(ev)
    }
}
