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
    let sum = |neg: bool| {
        let mut z = DVector::zeros(c.ncols());
        for (i, &ui) in u.iter().enumerate() {
            if (ui < 0.0) == neg {
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
    (sum(true), sum(false))
}
