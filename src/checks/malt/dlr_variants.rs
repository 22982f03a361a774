//! `malt.dlr.variants`: the two targeted DLR losses (malt.md §4) against their formulas, their
//! agreement exactly when z_y = max_{j≠t} z_j (up to the denominators' constants 1e−12 vs
//! 1e−8), adv_lib's sign rule, and K < 4 refused.

use crate::attack::losses::{argmax, argmax_except, sorted_desc, DlrForm, Loss};
use crate::check::{Check, Ctx, Evidence};
use crate::error::Result;
use crate::rng::{self, stream};
use crate::theory::Kind;

pub struct DlrVariants;

/// |L_AA − L_adv| / |num·(1/den_AA − 1/den_adv)|: exactly 1 when the numerators agree.
fn constant_ratio(z: &[f64], y: usize, t: usize) -> f64 {
    let s = sorted_desc(z);
    let base = z[s[0]] - 0.5 * (z[s[2]] + z[s[3]]);
    let aa = Loss::DlrTargeted(DlrForm::AutoAttack).eval(z, y, Some(t)).0;
    let adv = Loss::DlrTargeted(DlrForm::AdvLib).eval(z, y, Some(t)).0;
    let num = z[t] - z[y];
    let explained = (num * (1.0 / (base + 1e-12) - 1.0 / (base + 1e-8))).abs();
    (aa - adv).abs() / explained
}

impl Check for DlrVariants {
    fn id(&self) -> &'static str {
        "malt.dlr.variants"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let cases = p.n("cases")?;
        let mut r = rng::seeded(p.n("seed")? as u64, stream::DATA);
        let (mut formula_dev, mut tie_dev, mut generic_dev) = (0.0f64, 0.0f64, f64::INFINITY);
        let mut sign_bad = 0;
        for case in 0..cases {
            let k = if case % 2 == 0 { 4 } else { 10 };
            let mut z: Vec<f64> = (0..k).map(|_| 2.0 * rng::normal(&mut r)).collect();
            let y = rng::index(&mut r, k);
            let t = (y + 1 + rng::index(&mut r, k - 1)) % k;
            let s = sorted_desc(&z);
            let den = z[s[0]] - 0.5 * (z[s[2]] + z[s[3]]);
            let aa = Loss::DlrTargeted(DlrForm::AutoAttack)
                .eval(&z, y, Some(t))
                .0;
            let adv = Loss::DlrTargeted(DlrForm::AdvLib).eval(&z, y, Some(t)).0;
            let want_aa = (z[t] - z[y]) / (den + 1e-12);
            let want_adv = (z[t] - z[argmax_except(&z, t)]) / (den + 1e-8);
            formula_dev = formula_dev
                .max((aa - want_aa).abs() / (1.0 + want_aa.abs()))
                .max((adv - want_adv).abs() / (1.0 + want_adv.abs()));
            // adv_lib's form is > 0 iff t is the arg-max (ties excluded).
            let top = argmax(&z);
            let tie = z.iter().filter(|&&v| v == z[top]).count() > 1;
            if !tie {
                sign_bad += usize::from((adv > 0.0) != (top == t));
            }
            if z[y] != z[argmax_except(&z, t)] {
                generic_dev = generic_dev.min((constant_ratio(&z, y, t) - 1.0).abs());
            }
            // Make z_y = max_{j≠t} z_j: the numerators agree.
            let m = z[argmax_except(&z, t)];
            z[y] = m.max(z[y]);
            if z[y] == z[argmax_except(&z, t)] {
                tie_dev = tie_dev.max((constant_ratio(&z, y, t) - 1.0).abs());
            }
        }
        let k3_refused = Loss::DlrTargeted(DlrForm::AutoAttack)
            .check_classes(3)
            .is_err()
            && Loss::DlrTargeted(DlrForm::AdvLib).check_classes(3).is_err();
        let mut ev = ctx.evidence();
        ev.le(
            "max relative deviation from the written formulas",
            Kind::Gate,
            formula_dev,
            1e-12,
        )
        .le(
            "z_y = max_{j≠t} z_j: max |difference / difference explained by the constants − 1|",
            Kind::Gate,
            tie_dev,
            1e-6,
        )
        .le(
            "adv_lib form: sign ≠ [t is the arg-max]",
            Kind::Gate,
            sign_bad as f64,
            0.0,
        )
        .ge(
            "K = 3 refused by both forms",
            Kind::Gate,
            f64::from(u8::from(k3_refused)),
            1.0,
        )
        .ge(
            "control: generic z (z_y ≠ max_{j≠t} z_j) fail the agreement test: min |ratio − 1|",
            Kind::Control,
            generic_dev,
            1e-6,
        );
        ev.stat("cases", cases as f64);
        Ok(ev)
    }
}
