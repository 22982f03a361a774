//! `malt.apgd.schedule`: APGD's checkpoints (malt.md §4) — [21, 40, 56, 69, 79, 86, 92, 98] for
//! N = 100, non-increasing gaps with the floors for other N — and the step-halving decisions of
//! both reference variants on scripted loss sequences, including the first-check wrap.

use crate::attack::apgd::{checkpoints, scripted_halvings, Variant};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;

pub struct ApgdSchedule;

/// The decisions of a variant without the wrap (index −1 read as L(x₀)) — the control.
fn first_decision_without_wrap(loss0: f64, losses: &[f64], k: usize) -> bool {
    let at = |i: isize| if i < 0 { loss0 } else { losses[i as usize] };
    let j = (k - 1) as isize;
    let ups = (0..k as isize)
        .filter(|&c| at(j - c) > at(j - c - 1))
        .count();
    ups as f64 <= 0.75 * k as f64
}

impl Check for ApgdSchedule {
    fn id(&self) -> &'static str {
        "malt.apgd.schedule"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let reference = vec![21, 40, 56, 69, 79, 86, 92, 98];
        let mut bad = usize::from(checkpoints(100) != reference);
        let lengths = [10usize, 37, 250];
        let schedule_cases = 1 + 4 * lengths.len();
        for n in lengths {
            let c = checkpoints(n);
            let f = |x: f64| ((x * n as f64) as usize).max(1);
            let gaps: Vec<usize> = c.windows(2).map(|w| w[1] - w[0]).collect();
            bad += usize::from(c.first() != Some(&(f(0.22) - 1)));
            bad += usize::from(gaps.windows(2).any(|g| g[1] > g[0]));
            bad += usize::from(gaps.iter().any(|&g| g < f(0.06)));
            bad += usize::from(c.last().is_some_and(|&l| l >= n));
        }
        // Scripted runs with N = 10 (checkpoints after iterations 1, 2, …, 9).
        let rising_negative: Vec<f64> =
            vec![-4.0, -3.0, -2.0, -1.0, -0.5, -0.4, -0.3, -0.2, -0.1, -0.05];
        let constant = vec![1.0; 10];
        let rising: Vec<f64> = (1..=10).map(f64::from).collect();
        let below_start: Vec<f64> = (1..=10).map(f64::from).collect();
        let decisions = |l0: f64, l: &[f64], v: Variant| -> Vec<bool> {
            scripted_halvings(l0, l, v)
                .into_iter()
                .map(|d| d.1)
                .collect()
        };
        let (mut script_bad, mut script_cases) = (0, 2);
        for v in [Variant::AutoAttack, Variant::AdvLib] {
            script_cases += 3;
            // The wrap: L(0) = −4 is compared with the zero slot, so the first check sees 1 of 2
            // increases and halves; afterwards the loss rises every step and improves.
            let mut want = vec![false; 9];
            want[0] = true;
            script_bad += usize::from(decisions(-5.0, &rising_negative, v) != want);
            script_bad += usize::from(decisions(1.0, &constant, v) != vec![true; 9]);
            script_bad += usize::from(decisions(0.5, &rising, v) != vec![false; 9]);
        }
        // Losses below L(x₀) = 5 until step 5: the variants differ by their initial flag.
        let aa = decisions(5.0, &below_start, Variant::AutoAttack);
        let al = decisions(5.0, &below_start, Variant::AdvLib);
        script_bad += usize::from(aa[..2] != [false, true]);
        script_bad += usize::from(al[..2] != [true, false]);
        let mut ev = ctx.evidence();
        let no_wrap_differs = first_decision_without_wrap(-5.0, &rising_negative, 2)
            != decisions(-5.0, &rising_negative, Variant::AutoAttack)[0];
        ev.record("schedule.violations", Agg::count(bad, schedule_cases))
            .record("halving.differing", Agg::count(script_bad, script_cases))
            .record(
                "control.no_wrap",
                Agg::count(usize::from(no_wrap_differs), 1),
            );
        ev.stat("checkpoints for N = 37", checkpoints(37).len() as f64);
        Ok(ev)
    }
}
