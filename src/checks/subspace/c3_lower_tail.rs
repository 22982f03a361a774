//! `subspace.c3_lower_tail`: P(Q < ℓ/2) ≤ e^{−ℓ/16} (Laurent–Massart with t = ℓ/16), and the
//! observed frequency agrees with the exact χ²_ℓ CDF at ℓ/2 (subspace.md §5 check 3).

use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::stats::{binomial_two_sided, clopper_pearson_lower};
use statrs::distribution::{ChiSquared, ContinuousCDF};

pub struct LowerTail;

impl Check for LowerTail {
    fn id(&self) -> &'static str {
        "subspace.c3_lower_tail"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let (ell, v) = super::c2_chi2::samples(&ctx.params()?)?;
        let l = ell as f64;
        let n = v.len();
        let below = v.iter().filter(|s| s.q < l / 2.0).count();
        let below_ctrl = v.iter().filter(|s| s.q_control < l / 2.0).count();

        let exact = ChiSquared::new(l)
            .map_err(|e| crate::error::Error::input(format!("χ²_{ell}: {e}")))?
            .cdf(l / 2.0);
        let mut ev = ctx.evidence();
        // Laurent–Massart with t = ℓ/c: P(Q < ℓ/2) ≤ e^{−ℓ/c}, c from the theory file.
        let bound = (-l / ev.constant("tail.cp_lower", "c")).exp();
        let control_bound = (-l / ev.constant("control.tail_no_mass", "c")).exp();
        let alpha = ev.alpha();
        ev.record_bounded(
            "tail.cp_lower",
            Agg::of(clopper_pearson_lower(below, n, alpha), n),
            bound,
        )
        .record(
            "tail.binomial",
            Agg::of(binomial_two_sided(below, n, exact), n),
        )
        .record_bounded(
            "control.tail_no_mass",
            Agg::of(clopper_pearson_lower(below_ctrl, n, alpha), n),
            control_bound,
        );
        ev.stat("frequency of Q < ℓ/2", below as f64 / n as f64)
            .stat("χ²_ℓ CDF at ℓ/2", exact)
            .stat("e^{−ℓ/c}", bound);
        Ok(ev)
    }
}
