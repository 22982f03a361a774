//! `malt.apgd.schedule`: APGD's checkpoints (malt.md §4) — [21, 40, 56, 69, 79, 86, 92, 98] for
//! N = 100, non-increasing gaps with the floors for other N — and the step-halving decisions of
//! both reference variants on scripted loss sequences, including the first-check wrap.

use crate::attack::apgd::{checkpoints, scripted_halvings_at, Variant, OSCILLATION_THRESHOLD};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;

pub struct ApgdSchedule;

/// The parameters of `theory/malt.apgd.schedule.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct P {
    /// The oscillation threshold ρ of the sensitivity control.
    control_threshold: f64,
}

/// A run of N = 100 whose first checkpoint (after iteration 21, window k = 22) sees exactly `ups`
/// increases among its 22 comparisons (the first against the still-zero wrap slot); the loss keeps
/// rising afterwards. With ρ = 0.75 the test halves iff ups ≤ 16.5: 16 and 17 sit on either side
/// of the edge, and a threshold moved by 0.05 either way flips one of them.
fn edge_script(ups: usize) -> Vec<f64> {
    let mut l = Vec::with_capacity(100);
    let mut v = 1.0; // step 0: an increase over the zero slot
    l.push(v);
    for i in 1..100 {
        v += if i < ups || i >= 22 { 1.0 } else { -0.25 };
        l.push(v);
    }
    l
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
        let P { control_threshold } = ctx.params()?;
        // Every scripted decision is made twice: with the reference ρ (the gate) and with ρ moved
        // by the control's small amount (the control: the same cases must detect it).
        let (mut script_bad, mut script_cases, mut moved_differs) = (0, 2, 0);
        let mut script = |want: &dyn Fn(&[bool]) -> bool, l0: f64, l: &[f64], v: Variant| {
            let at = |thr: f64| -> Vec<bool> {
                scripted_halvings_at(l0, l, v, thr)
                    .into_iter()
                    .map(|d| d.1)
                    .collect()
            };
            let (reference, moved) = (at(OSCILLATION_THRESHOLD), at(control_threshold));
            script_bad += usize::from(!want(&reference));
            moved_differs += usize::from(!want(&moved));
        };
        for v in [Variant::AutoAttack, Variant::AdvLib] {
            script_cases += 5;
            // The wrap: L(0) = −4 is compared with the zero slot, so the first check sees 1 of 2
            // increases and halves; afterwards the loss rises every step and improves.
            let mut wrap = vec![false; 9];
            wrap[0] = true;
            script(&|d| d == wrap, -5.0, &rising_negative, v);
            script(&|d| d == [true; 9], 1.0, &constant, v);
            script(&|d| d == [false; 9], 0.5, &rising, v);
            // The oscillation threshold's edge: 16 increases of 22 halve, 17 do not.
            script(&|d| d[0], 0.0, &edge_script(16), v);
            script(&|d| !d[0], 0.0, &edge_script(17), v);
        }
        // Losses below L(x₀) = 5 until step 5: the variants differ by their initial flag.
        script(
            &|d| d[..2] == [false, true],
            5.0,
            &below_start,
            Variant::AutoAttack,
        );
        script(
            &|d| d[..2] == [true, false],
            5.0,
            &below_start,
            Variant::AdvLib,
        );
        let mut ev = ctx.evidence();
        ev.record("schedule.violations", Agg::count(bad, schedule_cases))
            .record("halving.differing", Agg::count(script_bad, script_cases))
            .record(
                "control.moved_threshold",
                Agg::count(moved_differs, script_cases),
            );
        ev.stat("checkpoints for N = 37", checkpoints(37).len() as f64);
        Ok(ev)
    }
}
