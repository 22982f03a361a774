//! The off-subspace gradient mechanism of two-layer ReLU nets trained on data in a linear
//! subspace (subspace.md §2–§3; Melamed, Yehudai & Vardi 2023, arXiv:2303.00783).
//!
//! Network N(x) = Σ_i u_i σ(⟨w_i, x⟩ + b_i), u_i = ±1/√m fixed, (w_i, b_i) trained from
//! w_i(0), b_i(0) ~ N(0, β²/d). Data lie in P = span(Q_P) ⊂ R^d, ℓ = d − k, Π the projector onto
//! P⊥, c_i = Πw_i, C = ΠW (m × d). Derived facts [derived; exact under this model]:
//! - D1: the gradient of the loss w.r.t. w_i is a combination of data points, so
//!   c_i(T) = s_T·c_i(0) for GD/SGD/momentum with any multiplicative decay s_T;
//! - D3: g⊥(x) := Π∇_x N(x) = Σ_{i∈A(x)} u_i c_i for x ∈ P, A(x) the active units;
//! - D4: Q(x) = ‖g⊥(x)‖²·d/(s_T²β²S(x)) ~ χ²_ℓ exactly, S(x) = Σ_{A(x)} u_i²;
//! - D5: for z ∈ P⊥, |N(x + z) − N(x)| ≤ ‖u‖₂‖C‖_op‖z‖, so the flip radius in P⊥ is at least
//!   L⊥(x) = |N(x)|/(‖u‖₂‖C‖_op);
//! - D6: along ẑ = −sign(N)g⊥/‖g⊥‖ the first-order flip distance is t₁ = |N|/‖g⊥‖ and the exact
//!   one comes from a breakpoint scan ([`crate::attack::line`]);
//! - D7: ẑ₊ ∝ Σ_{u_i<0} c_i lowers N at every x ∈ P, ẑ₋ ∝ Σ_{u_i>0} c_i raises it.

use crate::attack::line::{first_root, LineRoot};
use crate::data::subspace::{Layout, Orientation, Subspace};
use crate::data::Binary;
use crate::error::Result;
use crate::linalg::row_norms;
use crate::linalg::{gram_rows, lambda_max_sym};
use crate::loss::MarginLoss;
use crate::model::{Activation, Model, TwoLayer};
use crate::rng::{self, stream};
use crate::train::observer::NoObserver;
use crate::train::optim::Method;
use crate::train::{train as descend, TrainConfig, TrainReport};
use nalgebra::{DMatrix, DVector};

/// One training setting of subspace.md §2.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// Ambient dimension d.
    pub d: usize,
    /// Subspace dimension k.
    pub k: usize,
    /// Training points.
    pub n: usize,
    /// Width m.
    pub m: usize,
    /// Initialisation scale β.
    pub beta: f64,
    /// Data radius ρ_x.
    pub rho_x: f64,
    /// Weight decay κ per step.
    pub weight_decay: f64,
    /// Step budget T_max.
    pub max_steps: usize,
    /// Stop at min_j y_j N(x_j) ≥ γ_stop.
    pub gamma_stop: f64,
    /// Orientation of P.
    pub orientation: Orientation,
    /// Step size; `None` means η = 2/ρ_x².
    pub lr: Option<f64>,
}

impl Setting {
    /// The defaults of subspace.md §2: ρ_x = √d, β = 1, no decay, T_max = 5·10⁴, γ_stop = 0.3.
    pub fn new(d: usize, k: usize, n: usize, m: usize) -> Self {
        Self {
            d,
            k,
            n,
            m,
            beta: 1.0,
            rho_x: (d as f64).sqrt(),
            weight_decay: 0.0,
            max_steps: 50_000,
            gamma_stop: 0.3,
            orientation: Orientation::Random,
            lr: None,
        }
    }
    /// The step size: η = 2/ρ_x² unless set.
    pub fn lr(&self) -> f64 {
        self.lr.unwrap_or(2.0 / (self.rho_x * self.rho_x))
    }
    /// ℓ = d − k.
    pub fn ell(&self) -> usize {
        self.d - self.k
    }
}

/// A trained instance: the subspace, the data, the initial and trained nets.
#[derive(Clone, Debug)]
pub struct Instance {
    /// The setting.
    pub setting: Setting,
    /// P.
    pub sub: Subspace,
    /// Training data (evenly spaced circle, blocks of 3).
    pub data: Binary,
    /// The net at initialisation.
    pub init: TwoLayer,
    /// The trained net.
    pub net: TwoLayer,
    /// The training run (s_T, path lengths).
    pub fit: TrainReport,
}

/// The initialisation of `seed`: w_i, b_i ~ N(0, β²/d), u = ±1/√m fixed.
pub fn init_net(seed: u64, d: usize, m: usize, beta: f64) -> TwoLayer {
    TwoLayer::init(
        &mut rng::seeded(seed, stream::INIT),
        d,
        m,
        Activation::Relu,
        true,
        false,
        beta / (d as f64).sqrt(),
    )
}

/// Draws P, the data and the initialisation of `seed` and trains with `method`.
pub fn train(seed: u64, s: &Setting, method: Method) -> Result<Instance> {
    let mut rd = rng::seeded(seed, stream::DATA);
    let sub = Subspace::new(&mut rd, s.d, s.k, s.orientation)?;
    let data = sub.sample(&mut rd, s.n, s.rho_x, Layout::Circle)?;
    let init = init_net(seed, s.d, s.m, s.beta);
    let mut net = init.clone();
    let cfg = TrainConfig {
        method,
        weight_decay: s.weight_decay,
        path_blocks: Some((s.d, s.m)),
        stop_margin: Some(s.gamma_stop),
        ..TrainConfig::new(s.lr(), s.max_steps, MarginLoss::Logistic)
    };
    let fit = descend(&mut net, &data, &cfg, &mut NoObserver)?;
    Ok(Instance {
        setting: s.clone(),
        sub,
        data,
        init,
        net,
        fit,
    })
}

impl Instance {
    /// D1: per unit, ‖c_i(T) − s_T c_i(0)‖ and its rounding scale
    /// ‖c_i(0)‖ + path_i + mass_i/16 (path_i = Σ_t ‖Δw_i‖, mass_i = Σ_t ‖w_i(t)‖), so that
    /// 64ε·scale = 64ε(‖c_i(0)‖ + path_i) + 4ε·mass_i.
    pub fn frozen_drift(&self) -> (Vec<f64>, Vec<f64>) {
        let c0 = self.sub.project_out(&self.init.w());
        let ct = self.sub.project_out(&self.net.w());
        let diff = ct - c0.clone() * self.fit.shrink;
        let scale = row_norms(&c0)
            .iter()
            .zip(self.fit.path.iter().zip(&self.fit.mass))
            .map(|(a, (p, m))| a + p + m / 16.0)
            .collect();
        (row_norms(&diff), scale)
    }
    /// `count` test points of P at radius ρ_x (uniform directions, sector labels).
    pub fn test_points(&self, seed: u64, count: usize) -> Result<Binary> {
        self.sub.sample(
            &mut rng::seeded(seed, stream::TEST),
            count,
            self.setting.rho_x,
            Layout::Sectors,
        )
    }
}

/// The mechanism's quantities at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointGeometry {
    /// N(x).
    pub n_x: f64,
    /// ‖g⊥(x)‖.
    pub g_off: f64,
    /// ‖Π_P ∇N(x)‖ (the on-subspace part).
    pub g_on: f64,
    /// S(x) = Σ_{A(x)} u_i².
    pub active_mass: f64,
    /// L⊥(x) = |N(x)|/(‖u‖₂‖C‖_op).
    pub certified: f64,
    /// The exact line search along ẑ = −sign(N)g⊥/‖g⊥‖.
    pub line: LineRoot,
}

/// ‖C‖_op for C = ΠW.
pub fn off_operator_norm(net: &TwoLayer, sub: &Subspace) -> f64 {
    let c = sub.project_out(&net.w());
    lambda_max_sym(&gram_rows(&c)).max(0.0).sqrt()
}

/// D3–D6 at every row of `x` (points of P): one forward product, one input-gradient product and
/// one line search per point.
pub fn analyse(net: &TwoLayer, sub: &Subspace, x: &DMatrix<f64>) -> Vec<PointGeometry> {
    let out = net.forward(x);
    let grad = net.input_grad(x);
    let g_off = sub.project_out(&grad);
    let g_on = &grad - &g_off;
    let (off_n, on_n) = (row_norms(&g_off), row_norms(&g_on));
    let p = net.preact(x);
    let u = net.v();
    let u_norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
    let c_op = off_operator_norm(net, sub);
    (0..x.nrows())
        .map(|i| {
            let mass = (0..net.width())
                .filter(|&j| p[(i, j)] > 0.0)
                .map(|j| u[j] * u[j])
                .sum();
            let xi = x.row(i).transpose();
            let dir: DVector<f64> = if off_n[i] > 0.0 {
                g_off.row(i).transpose() * (-out[i].signum() / off_n[i])
            } else {
                DVector::zeros(x.ncols())
            };
            PointGeometry {
                n_x: out[i],
                g_off: off_n[i],
                g_on: on_n[i],
                active_mass: mass,
                certified: out[i].abs() / (u_norm * c_op),
                line: first_root(net, &xi, &dir),
            }
        })
        .collect()
}

/// D4: Q(x) = ‖g⊥‖²·d/(s_T²β²S(x)).
pub fn chi2_statistic(g: &PointGeometry, d: usize, shrink: f64, beta: f64) -> f64 {
    g.g_off * g.g_off * d as f64 / (shrink * shrink * beta * beta * g.active_mass)
}

/// D7: the universal directions (ẑ₊, ẑ₋), unit vectors ∝ Σ_{u_i<0} c_i and Σ_{u_i>0} c_i.
pub fn universal_directions(net: &TwoLayer, sub: &Subspace) -> (DVector<f64>, DVector<f64>) {
    let c = sub.project_out(&net.w());
    let u = net.v();
    // Units of the output sign `sign` (a unit with u_i = 0 belongs to neither sum).
    let sum = |sign: f64| {
        let mut z = DVector::zeros(c.ncols());
        for (i, &ui) in u.iter().enumerate() {
            if ui * sign > 0.0 {
                z += c.row(i).transpose();
            }
        }
        let n = z.norm();
        if n > 0.0 {
            z / n
        } else {
            z
        }
    };
    (sum(-1.0), sum(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::two_layer::OutputLayer;

    /// d = 3, P = span(e₁, e₂); m = 2 units with biases and u = (1, −1)/√2:
    /// w₁ = (1, 0, 2), b₁ = ½; w₂ = (0, 1, −1), b₂ = −¼. So C = ΠW has rows (0, 0, 2) and
    /// (0, 0, −1), and ‖C‖_op = √5.
    fn hand_net() -> (TwoLayer, Subspace) {
        let theta = DVector::from_vec(vec![1.0, 0.0, 2.0, 0.0, 1.0, -1.0, 0.5, -0.25]);
        let u = crate::model::two_layer::alternating_signs(2);
        let net = TwoLayer::new(3, 2, Activation::Relu, true, OutputLayer::Fixed(u), theta)
            .expect("valid net");
        let sub = Subspace::new(&mut rng::seeded(0, 0), 3, 2, Orientation::Axis).expect("P");
        (net, sub)
    }

    #[test]
    fn setting_defaults_follow_the_notes() {
        let s = Setting::new(40, 4, 30, 100);
        assert_eq!((s.d, s.k, s.n, s.m, s.max_steps), (40, 4, 30, 100, 50_000));
        assert_eq!((s.beta, s.weight_decay, s.gamma_stop), (1.0, 0.0, 0.3));
        assert!((s.rho_x - 40f64.sqrt()).abs() < 1e-15);
        // η = 2/ρ_x² = 2/d unless set.
        assert!((s.lr() - 2.0 / 40.0).abs() < 1e-15);
        assert_eq!(
            Setting {
                lr: Some(0.3),
                ..s.clone()
            }
            .lr(),
            0.3
        );
        assert_eq!(s.ell(), 36);
    }

    #[test]
    fn initialisation_has_standard_deviation_beta_over_root_d() {
        let (d, m, beta) = (400, 50, 2.0);
        let net = init_net(7, d, m, beta);
        let w = net.w();
        let entries: Vec<f64> = w.iter().chain(net.b().expect("biases")).copied().collect();
        let mean = entries.iter().sum::<f64>() / entries.len() as f64;
        let sd = (entries.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
            / (entries.len() - 1) as f64)
            .sqrt();
        // 20 050 draws: the sample sd is within 3 % of β/√d = 0.1 with overwhelming probability.
        assert!((sd / 0.1 - 1.0).abs() < 0.03, "sd = {sd}");
        let s = 1.0 / (m as f64).sqrt();
        assert!(net
            .v()
            .iter()
            .enumerate()
            .all(|(j, &v)| v == if j % 2 == 0 { s } else { -s }));
        assert_eq!(net, init_net(7, d, m, beta));
    }

    #[test]
    fn geometry_matches_a_hand_computation() {
        let (net, sub) = hand_net();
        let s = std::f64::consts::FRAC_1_SQRT_2;
        assert!((off_operator_norm(&net, &sub) - 5f64.sqrt()).abs() < 1e-14);
        // Points of P: both units active; none active; only unit 1; unit 2 exactly at its kink
        // (pre-activation 0 counts as inactive).
        let x = DMatrix::from_row_slice(
            4,
            3,
            &[
                1.0, 0.5, 0.0, -1.0, -1.0, 0.0, 1.0, -1.0, 0.0, 0.5, 0.25, 0.0,
            ],
        );
        let g = analyse(&net, &sub, &x);
        assert_eq!(g.len(), 4);
        // x₁: N = s(1.5 − 0.25); ∇N = s(w₁ − w₂) = s(1, −1, 3); S = s² + s² = 1.
        let n1 = 1.25 * s;
        assert!((g[0].n_x - n1).abs() < 1e-15);
        assert!((g[0].g_off - 3.0 * s).abs() < 1e-15);
        assert!((g[0].g_on - 1.0).abs() < 1e-15);
        assert!((g[0].active_mass - 1.0).abs() < 1e-15);
        assert!((g[0].certified - n1 / 5f64.sqrt()).abs() < 1e-15);
        // Along ẑ = (0, 0, −1): N(x + tẑ) = s(1.25 − 3t) until unit 1 turns off at t = ¾.
        let line = g[0].line;
        assert!((line.t.expect("a root") - 5.0 / 12.0).abs() < 1e-14);
        assert!((line.t_first_order - 5.0 / 12.0).abs() < 1e-14);
        assert!((line.first_breakpoint - 0.75).abs() < 1e-14);
        assert_eq!(line.h0, g[0].n_x);
        // x₂: nothing active, so N = 0, no gradient, no direction, no flip.
        assert_eq!((g[1].n_x, g[1].g_off, g[1].g_on), (0.0, 0.0, 0.0));
        assert_eq!((g[1].active_mass, g[1].certified), (0.0, 0.0));
        assert!(!g[1].line.t_first_order.is_nan());
        // x₃: only unit 1: N = 1.5 s, g⊥ = s(0, 0, 2), S = s² = ½.
        assert!((g[2].n_x - 1.5 * s).abs() < 1e-15);
        assert!((g[2].g_off - 2.0 * s).abs() < 1e-15);
        assert!((g[2].g_on - s).abs() < 1e-15);
        assert!((g[2].active_mass - 0.5).abs() < 1e-15);
        // x₄: unit 2 at its kink is inactive.
        assert!((g[3].active_mass - 0.5).abs() < 1e-15);
        // D4 by hand at x₃ with s_T = ½, β = 2, d = 3: ‖g⊥‖²·d/(s_T²β²S) = 2·3/(¼·4·½) = 12.
        assert!((chi2_statistic(&g[2], 3, 0.5, 2.0) - 12.0).abs() < 1e-13);
    }

    #[test]
    fn universal_directions_are_the_signed_sums_of_the_off_subspace_weights() {
        let (net, sub) = hand_net();
        let (down, up) = universal_directions(&net, &sub);
        // ẑ₊ ∝ Σ_{u_i < 0} c_i = c₂ = (0, 0, −1); ẑ₋ ∝ c₁ = (0, 0, 2).
        assert_eq!(down, DVector::from_vec(vec![0.0, 0.0, -1.0]));
        assert_eq!(up, DVector::from_vec(vec![0.0, 0.0, 1.0]));
        // D7: moving along ẑ₊ lowers N, along ẑ₋ raises it.
        let x = DMatrix::from_row_slice(1, 3, &[1.0, 0.5, 0.0]);
        let n0 = net.forward(&x)[0];
        let moved = |z: &DVector<f64>| {
            net.forward(&DMatrix::from_fn(1, 3, |_, j| x[(0, j)] + 0.1 * z[j]))[0]
        };
        assert!(moved(&down) < n0 && moved(&up) > n0);
        // A net without off-subspace weights has the zero vector for both.
        let flat = TwoLayer::new(
            3,
            2,
            Activation::Relu,
            true,
            OutputLayer::Fixed(crate::model::two_layer::alternating_signs(2)),
            DVector::from_vec(vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.5, -0.25]),
        )
        .expect("valid net");
        let (a, b) = universal_directions(&flat, &sub);
        assert_eq!((a.norm(), b.norm()), (0.0, 0.0));
        // A unit with u_i = 0 belongs to neither sum: with u = (½, 0), ẑ₋ ∝ c₁ = (0, 0, 2) alone
        // (adding c₂ = (0, 0, −3) would flip it) and ẑ₊ = 0.
        let idle = TwoLayer::new(
            3,
            2,
            Activation::Relu,
            true,
            OutputLayer::Fixed(DVector::from_vec(vec![0.5, 0.0])),
            DVector::from_vec(vec![1.0, 0.0, 2.0, 0.0, 1.0, -3.0, 0.5, -0.25]),
        )
        .expect("valid net");
        let (down, up) = universal_directions(&idle, &sub);
        assert_eq!(down.norm(), 0.0);
        assert_eq!(up, DVector::from_vec(vec![0.0, 0.0, 1.0]));
    }

    #[test]
    fn training_keeps_the_data_in_p_and_freezes_the_off_subspace_weights() {
        let s = Setting {
            weight_decay: 0.01,
            max_steps: 300,
            ..Setting::new(12, 3, 12, 16)
        };
        let inst = train(3, &s, Method::Gd).expect("trained");
        assert_eq!(inst.data.x().shape(), (12, 12));
        assert!(inst.sub.project_out(inst.data.x()).amax() < 1e-12);
        assert!(
            inst.fit.shrink < 0.9,
            "decay shrinks: s_T = {}",
            inst.fit.shrink
        );
        let (drift, scale) = inst.frozen_drift();
        // The scale by hand: ‖c_i(0)‖ + path_i + mass_i/16.
        let c0 = inst.sub.project_out(&inst.init.w());
        for i in 0..s.m {
            let by_hand = c0.row(i).norm() + inst.fit.path[i] + inst.fit.mass[i] / 16.0;
            assert!((scale[i] - by_hand).abs() <= 1e-12 * by_hand);
            // D1 holds to rounding …
            assert!(
                drift[i] <= 64.0 * f64::EPSILON * scale[i],
                "unit {i}: {}",
                drift[i]
            );
        }
        // … and is sensitive: without the decay factor the drift is (1 − s_T)‖c_i(0)‖.
        let ct = inst.sub.project_out(&inst.net.w());
        let undecayed = (&ct - &c0).row(0).norm();
        assert!((undecayed - (1.0 - inst.fit.shrink) * c0.row(0).norm()).abs() < 1e-10);
        assert!(undecayed > 1e6 * drift[0].max(f64::EPSILON));
        // Test points lie in P at radius ρ_x with labels ±1, reproducibly.
        let t = inst.test_points(5, 40).expect("points");
        assert_eq!(t.x().nrows(), 40);
        assert!(inst.sub.project_out(t.x()).amax() < 1e-12);
        for r in crate::linalg::row_norms(t.x()) {
            assert!((r - s.rho_x).abs() < 1e-12);
        }
        assert_eq!(t.x(), inst.test_points(5, 40).expect("points").x());
        assert_ne!(t.x(), inst.test_points(6, 40).expect("points").x());
    }

    #[test]
    fn training_stops_at_the_target_margin_with_the_method_asked_for() {
        let s = Setting {
            max_steps: 20_000,
            ..Setting::new(12, 3, 12, 16)
        };
        let gd = train(3, &s, Method::Gd).expect("trained");
        assert!(gd.fit.reached_margin(), "{:?}", gd.fit.stop);
        assert!(gd.fit.min_margin >= s.gamma_stop && gd.fit.steps < s.max_steps);
        // Without decay s_T = 1 and the off-subspace weights do not move.
        assert_eq!(gd.fit.shrink, 1.0);
        let sgd = train(3, &s, Method::Sgd { batch: 4, seed: 1 }).expect("trained");
        assert_eq!(
            (sgd.init.clone(), sgd.data.x()),
            (gd.init.clone(), gd.data.x())
        );
        assert_ne!(sgd.net, gd.net);
    }
}
