import numpy as np
import dimple

# Nearly orthogonal points in high dimension: the minimum-norm interpolator w = Xᵀ(XXᵀ)⁻¹y has
# every margin equal to 1 and w = Σ λ_i y_i x_i with λ ≥ 0 — a KKT point of margin maximisation.
rng = np.random.default_rng(0)
n, d = 10, 2000
X = rng.standard_normal((n, d)) / np.sqrt(d)
y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
w = X.T @ np.linalg.solve(X @ X.T, y)

# 1. Certify it (ε ≈ 0: a KKT point), then a perturbed copy (ε > 0).
cert = dimple.certify({"w": w}, X, y)
print(f"interpolator: eps_rel = {cert.eps_rel:.1e}, delta = {cert.delta:.1e}, support = {cert.support}")
noisy = dimple.certify({"w": w + 0.05 * rng.standard_normal(d) / np.sqrt(d)}, X, y)
print(f"perturbed:    eps_rel = {noisy.eps_rel:.1e}")

# 2. Unlearn point 3 with one gradient-ascent step: (ε, δ, τ) on the retained set, and the
#    comparison with retraining (for a linear model, the hard-margin SVM of the retained set).
out = dimple.unlearn({"w": w}, X, y, forget=[3])
after = out.report["renormalised"]
print(f"unlearned:    eps_rel = {after['eps_rel']:.1e}, delta = {after['delta']:.1e}")
print(f"cos(w', w_retrained) = {out.retraining['cos_unlearned_retrained']:.4f}")

# 3. Attack a 4-class MLP with MALT (any dict of layers.{l}.weight / layers.{l}.bias works).
mlp = {"dimple.kind": "mlp"}
for l, (a, b) in enumerate([(16, 32), (32, 4)]):
    mlp[f"layers.{l}.weight"] = rng.standard_normal((b, a)) / np.sqrt(a)
    mlp[f"layers.{l}.bias"] = np.zeros(b)
Xc = rng.random((50, 16))
logits = np.maximum(Xc @ mlp["layers.0.weight"].T, 0.0) @ mlp["layers.1.weight"].T
yc = logits.argmax(axis=1)
res = dimple.attack(mlp, Xc, yc, norm="linf", eps=0.05, method="malt")
print(f"clean accuracy {res.clean_accuracy:.0%}, robust accuracy {res.robust_accuracy:.0%}")
assert res.x_adv.shape == Xc.shape
