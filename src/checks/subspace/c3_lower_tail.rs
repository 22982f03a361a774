//! `subspace.c3_lower_tail`: P(Q < ℓ/2) ≤ e^{−ℓ/16} (Laurent–Massart with t = ℓ/16), and the
//! observed frequency agrees with the exact χ²_ℓ CDF at ℓ/2 (subspace.md §5 check 3).

use crate::check::{Check, Ctx, Evidence};
use crate::error::Result;
use crate::stats::{binomial_two_sided, clopper_pearson_lower, ALPHA};
use crate::theory::Kind;
use statrs::distribution::{ChiSquared, ContinuousCDF};

pub struct LowerTail;

impl Check for LowerTail {
    fn id(&self) -> &'static str {
        "subspace.c3_lower_tail"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let (ell, v) = super::c2_chi2::samples(&ctx.params)?;
        let l = ell as f64;
        let n = v.len();
        let below = v.iter().filter(|s| s.q < l / 2.0).count();
        let below_ctrl = v.iter().filter(|s| s.q_control < l / 2.0).count();
        let bound = (-l / 16.0).exp();
        let exact = ChiSquared::new(l)
            .map_err(|e| crate::error::Error::input(format!("χ²_{ell}: {e}")))?
            .cdf(l / 2.0);
        let mut ev = ctx.evidence();
        ev.le(
            "Clopper–Pearson lower bound of P(Q < ℓ/2) vs e^{−ℓ/16}",
            Kind::Stat,
            clopper_pearson_lower(below, n, ALPHA),
            bound,
        )
        .ge(
            "two-sided binomial p-value against the χ²_ℓ CDF at ℓ/2",
            Kind::Stat,
            binomial_two_sided(below, n, exact),
            ALPHA,
        )
        .ge(
            "control: Clopper–Pearson lower bound of P(Q·S < ℓ/2) vs e^{−ℓ/16}",
            Kind::Control,
            clopper_pearson_lower(below_ctrl, n, ALPHA),
            bound,
        );
        ev.stat("frequency of Q < ℓ/2", below as f64 / n as f64)
            .stat("χ²_ℓ CDF at ℓ/2", exact)
            .stat("e^{−ℓ/16}", bound);
        Ok(ev)
    }
}
