//! `subspace.c5_scale`: the flip distance scales as |N|/(β s_T ‖g⊥‖-law): the median over points
//! of ν = t_exact·β·s_T·√(S(x)ℓ/d)/|N(x)| lies in [0.7, 1.3] for every initialisation scale β and
//! weight decay κ that reached γ_stop, and t_exact·β·s_T/|N| agrees across the grid within a
//! factor 1.5 (subspace.md §3 "Init scale and weight decay", §5 check 5).

use crate::check::{over_seeds, Check, Ctx, Evidence, Extremes};
use crate::error::Result;
use crate::stats::median;
use crate::subspace::{analyse, train};
use crate::theory::Kind;
use crate::train::optim::Method;

pub struct Scale;

struct Config {
    beta: f64,
    kappa: f64,
    reached: bool,
    nu: f64,
    nu_without_beta: f64,
    scaled: f64,
    t_median: f64,
    shrink: f64,
}

impl Check for Scale {
    fn id(&self) -> &'static str {
        "subspace.c5_scale"
    }
    fn run(&self, ctx: &Ctx<'_>) -> Result<Evidence> {
        let p = &ctx.params;
        let base = super::setting(p)?;
        let (seed, n_test) = (p.n("seed")? as u64, p.n("n_test")?);
        let kappa = p.f("kappa")?;
        let grid: Vec<(f64, f64)> = [1.0, 0.3, 0.1]
            .iter()
            .flat_map(|&b| [(b, 0.0), (b, kappa)])
            .collect();
        let configs = over_seeds(grid.len(), |i| {
            let (beta, kappa) = grid[i as usize];
            let s = crate::subspace::Setting {
                beta,
                weight_decay: kappa,
                ..base.clone()
            };
            let inst = train(seed, &s, Method::Gd)?;
            let x = inst.test_points(seed, n_test)?;
            let pts = analyse(&inst.net, &inst.sub, x.x());
            let st = inst.fit.shrink;
            let ell_d = s.ell() as f64 / s.d as f64;
            let flips: Vec<_> = pts
                .iter()
                .filter_map(|g| g.line.t.map(|t| (g, t)))
                .collect();
            let nu: Vec<f64> = flips
                .iter()
                .map(|(g, t)| t * beta * st * (g.active_mass * ell_d).sqrt() / g.n_x.abs())
                .collect();
            Ok(Config {
                beta,
                kappa,
                reached: inst.fit.reached_margin,
                nu: median(&nu),
                nu_without_beta: median(&nu) / beta,
                scaled: median(
                    &flips
                        .iter()
                        .map(|(g, t)| t * beta * st / g.n_x.abs())
                        .collect::<Vec<_>>(),
                ),
                t_median: median(&flips.iter().map(|(_, t)| *t).collect::<Vec<_>>()),
                shrink: st,
            })
        })?;
        let gated: Vec<&Config> = configs.iter().filter(|c| c.reached).collect();
        let mut ev = ctx.evidence();
        ev.ge(
            "configurations that reached γ_stop",
            Kind::Gate,
            gated.len() as f64,
            2.0,
        )
        .ge(
            "min median ν",
            Kind::Gate,
            gated.iter().map(|c| c.nu).min_f(),
            0.7,
        )
        .le(
            "max median ν",
            Kind::Gate,
            gated.iter().map(|c| c.nu).max_f(),
            1.3,
        )
        .le(
            "max/min over the grid of median t_exact·β·s_T/|N|",
            Kind::Gate,
            gated.iter().map(|c| c.scaled).max_f() / gated.iter().map(|c| c.scaled).min_f(),
            1.5,
        )
        .ge(
            "control: median ν with β left out, at β = 0.1",
            Kind::Control,
            gated
                .iter()
                .filter(|c| c.beta == 0.1)
                .map(|c| c.nu_without_beta)
                .min_f(),
            1.3,
        );
        for c in &configs {
            let tag = format!("β = {}, κ = {}", c.beta, c.kappa);
            ev.stat(format!("{tag}: median t_exact"), c.t_median)
                .stat(format!("{tag}: median ν"), c.nu)
                .stat(format!("{tag}: s_T"), c.shrink);
            if !c.reached {
                ev.note(format!("{tag} stopped at T_max: reported, not gated"));
            }
        }
        Ok(ev)
    }
}
