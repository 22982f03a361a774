//! `malt.dlr.variants`: the two targeted DLR losses (malt.md §4) against their formulas, their
//! agreement exactly when z_y = max_{j≠t} z_j (up to the denominators' constants 1e−12 vs
//! 1e−8), adv_lib's sign rule, and K < 4 refused.

use crate::attack::losses::{argmax, argmax_except, sorted_desc, DlrForm, Loss};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::rng::{self, stream};

pub struct DlrVariants;

/// The parameters of `theory/malt.dlr.variants.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    cases: usize,
    seed: u64,
}

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
        let p: P = ctx.params()?;
        let cases = p.cases;
        let mut r = rng::seeded(p.seed, stream::DATA);
        let (mut formula_dev, mut tie_dev, mut generic_dev) = (Vec::new(), Vec::new(), Vec::new());
        let (mut sign_bad, mut sign_cases) = (0, 0);
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
            formula_dev.push((aa - want_aa).abs() / (1.0 + want_aa.abs()));
            formula_dev.push((adv - want_adv).abs() / (1.0 + want_adv.abs()));
            // adv_lib's form is > 0 iff t is the arg-max (ties excluded).
            let top = argmax(&z);
            let tie = z.iter().filter(|&&v| v == z[top]).count() > 1;
            if !tie {
                sign_cases += 1;
                sign_bad += usize::from((adv > 0.0) != (top == t));
            }
            if z[y] != z[argmax_except(&z, t)] {
                generic_dev.push((constant_ratio(&z, y, t) - 1.0).abs());
            }
            // Make z_y = max_{j≠t} z_j: the numerators agree.
            let m = z[argmax_except(&z, t)];
            z[y] = m.max(z[y]);
            if z[y] == z[argmax_except(&z, t)] {
                tie_dev.push((constant_ratio(&z, y, t) - 1.0).abs());
            }
        }
        let k3_refused = Loss::DlrTargeted(DlrForm::AutoAttack)
            .check_classes(3)
            .is_err()
            && Loss::DlrTargeted(DlrForm::AdvLib).check_classes(3).is_err();
        let mut ev = ctx.evidence();
        ev.record("formulas", Agg::max(formula_dev))
            .record("agreement.explained", Agg::max(tie_dev))
            .record("adv_lib.sign", Agg::count(sign_bad, sign_cases))
            .record("k3.refused", Agg::count(usize::from(k3_refused), 1))
            .record("control.generic_z", Agg::min(generic_dev));
        ev.stat("cases", cases as f64);
        Ok(ev)
    }
}
