//! `explain.planted.recovery` (probe): on the planted design at β ∈ {1, 3, 10}, precision@k of
//! the rankings by S, IP, NORM, NORM among small-norm words and random against the planted
//! signal positions (k = their number), and the mean IP and NORM of signal and neutral positions
//! (explain.md §5, §6 check 5), and what decides claim (ii): the share of signal positions the
//! small-norm filter keeps and the P@k ceiling that share puts on S. Claims probed: (i) at β = 10 IP's precision is ≥ 2× random's;
//! (ii) S beats the gradient-norm ranking.

use super::{planted_run, PlantedParams};
use crate::check::{Agg, Check, Ctx, Evidence};
use crate::error::Result;
use crate::explain::{order, precision_at, random_order, Ranking};
use crate::rng::{self, stream};

pub struct PlantedRecovery;

#[derive(Default)]
struct Tally {
    p: [f64; 6],
    /// E[P@k] of a uniformly random order, k/L, averaged over documents.
    chance: f64,
    ip_sig: f64,
    ip_neu: f64,
    norm_sig: f64,
    norm_neu: f64,
    /// Signal positions the small-norm filter keeps (NORM ≤ τ), over all signal positions.
    sig_kept: usize,
    sig_total: usize,
    /// Σ min(k, kept signal positions)/k: the largest P@k a ranking of the kept set can reach.
    ceiling: f64,
    docs: usize,
    skipped: usize,
}

impl Check for PlantedRecovery {
    fn id(&self) -> &'static str {
        "explain.planted.recovery"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p: PlantedParams = ctx.params()?;
        let seed = p.seed;
        let need = |v: Option<f64>, name: &str| {
            v.ok_or_else(|| crate::error::Error::input(format!("missing parameter `{name}`")))
        };
        let main = need(p.beta_main, "beta_main")?;
        let betas: Vec<f64> = if need(p.all_betas, "all_betas")? > 0.0 {
            vec![need(p.beta_a, "beta_a")?, need(p.beta_b, "beta_b")?, main]
        } else {
            vec![main]
        };
        let mut ev = ctx.evidence();
        let mut at10 = Tally::default();
        for &beta in &betas {
            let run = planted_run(&p, seed, beta, p.models)?;
            let mut t = Tally::default();
            let mut rr = rng::seeded(seed, stream::CHOICE);
            let (mut ns, mut nn) = (0usize, 0usize);
            for i in 0..run.test.data.n() {
                let Some(sc) = run.explain(i) else {
                    t.skipped += 1;
                    continue;
                };
                let truth = &run.test.signal[i];
                let k = truth.len();
                let l = sc.ip.len();
                let rand = random_order(&mut rr, l);
                let shuffled: Vec<usize> = random_order(&mut rr, l).into_iter().take(k).collect();
                for (j, ord) in [
                    order(&sc, Ranking::S),
                    order(&sc, Ranking::Ip),
                    order(&sc, Ranking::Norm),
                    order(&sc, Ranking::NormSmall),
                    rand,
                ]
                .iter()
                .enumerate()
                {
                    t.p[j] += precision_at(ord, truth, k);
                }
                t.p[5] += precision_at(&order(&sc, Ranking::Ip), &shuffled, k);
                t.chance += k as f64 / l as f64;
                let kept = truth.iter().filter(|&&w| sc.norm[w] <= sc.tau).count();
                t.sig_kept += kept;
                t.sig_total += k;
                t.ceiling += kept.min(k) as f64 / k as f64;
                for w in 0..l {
                    if truth.contains(&w) {
                        t.ip_sig += sc.ip[w];
                        t.norm_sig += sc.norm[w];
                        ns += 1;
                    } else {
                        t.ip_neu += sc.ip[w];
                        t.norm_neu += sc.norm[w];
                        nn += 1;
                    }
                }
                t.docs += 1;
            }
            let nd = t.docs.max(1) as f64;
            for v in t.p.iter_mut() {
                *v /= nd;
            }
            t.chance /= nd;
            t.ceiling /= nd;
            t.ip_sig /= ns.max(1) as f64;
            t.ip_neu /= nn.max(1) as f64;
            t.norm_sig /= ns.max(1) as f64;
            t.norm_neu /= nn.max(1) as f64;
            let tag = format!("β = {beta}");
            for (j, name) in ["S", "IP", "NORM", "NORM among small-norm", "random"]
                .iter()
                .enumerate()
            {
                ev.stat(format!("{tag}: P@k {name}"), t.p[j]);
            }
            ev.stat(
                format!("{tag}: P@k expected of a random order (k/L)"),
                t.chance,
            )
            .stat(
                format!("{tag}: mean IP signal / neutral"),
                t.ip_sig / t.ip_neu,
            )
            .stat(
                format!("{tag}: mean NORM signal / neutral"),
                t.norm_sig / t.norm_neu,
            )
            .stat(
                format!("{tag}: signal positions kept by the small-norm filter (NORM ≤ τ)"),
                t.sig_kept as f64 / t.sig_total.max(1) as f64,
            )
            .stat(
                format!("{tag}: P@k ceiling of S (kept signal positions / k)"),
                t.ceiling,
            )
            .stat(format!("{tag}: P@k IP − P@k NORM"), t.p[1] - t.p[2])
            .stat(format!("{tag}: documents explained"), t.docs as f64)
            .stat(
                format!("{tag}: documents failing the preconditions"),
                t.skipped as f64,
            );
            if beta == main {
                at10 = t;
            }
        }
        let docs = at10.docs;
        ev.record("explained", Agg::count(docs, docs + at10.skipped))
            .record("ip.over_random", Agg::of(at10.p[1] / at10.chance, docs))
            .record("s_minus_norm", Agg::of(at10.p[0] - at10.p[2], docs))
            .record(
                "control.random_positions",
                Agg::of(at10.p[5] / at10.chance, docs),
            );
        Ok(ev)
    }
}
