"""The Python module against the command line, on the same files: the same numbers, the same
errors; array layouts and dtypes that must not matter; bad input as InputError."""

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import dimple

ROOT = Path(__file__).resolve().parents[2]


def cli_binary():
    env = os.environ.get("DIMPLE_BIN")
    if env:
        return env
    for p in (ROOT / "target" / "debug" / "dimple", ROOT / "target" / "release" / "dimple"):
        if p.exists():
            return str(p)
    found = shutil.which("dimple")
    if found:
        return found
    pytest.skip("the dimple binary is not built (cargo build, or set DIMPLE_BIN)")


def cli(*args):
    out = subprocess.run([cli_binary(), *map(str, args)], capture_output=True, text=True)
    return out.returncode, out.stdout, out.stderr


def separable(n=20, d=60, seed=0):
    """A linear model and data it separates (any separable model has a certificate)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = np.sign(X @ w)
    return {"w": w}, X, y


def mlp(sizes, seed):
    rng = np.random.default_rng(seed)
    model = {"dimple.kind": "mlp"}
    for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        model[f"layers.{l}.weight"] = rng.standard_normal((b, a)) / np.sqrt(a)
        model[f"layers.{l}.bias"] = 0.1 * rng.standard_normal(b)
    return model


def logits(model, X):
    h = X
    l = 0
    while f"layers.{l}.weight" in model:
        h = h @ model[f"layers.{l}.weight"].T + model[f"layers.{l}.bias"]
        if f"layers.{l + 1}.weight" in model:
            h = np.maximum(h, 0.0)
        l += 1
    return h


def save_safetensors(path, model):
    from safetensors.numpy import save_file

    tensors = {k: np.ascontiguousarray(v) for k, v in model.items() if not isinstance(v, str)}
    meta = {k: v for k, v in model.items() if isinstance(v, str)}
    save_file(tensors, str(path), metadata=meta or None)


def test_certify_equals_the_command_line(tmp_path):
    model, X, y = separable()
    save_safetensors(tmp_path / "m.safetensors", model)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y)
    code, out, err = cli(
        "certify", "--model", tmp_path / "m.safetensors", "--data", tmp_path / "x.npy",
        "--labels", tmp_path / "y.npy", "--json",
    )
    assert code == 0, err
    want = json.loads(out)
    got = dimple.certify(model, X, y)
    for key in ("eps", "eps_rel", "delta", "tau", "support", "status", "scale", "lambda_sum"):
        assert got[key] == want[key], key
    assert np.array_equal(got.lambda_, np.asarray(want["lambda"]))
    assert got.n == want["n"] == 20
    assert got.margins.shape == (20,)
    assert set(got.to_dict()) >= {"eps", "delta", "tau", "lambda", "support", "status"}


def test_routes_bracket_and_agree_with_the_command_line(tmp_path):
    model, X, y = separable()
    # A non-KKT point (w perturbed), so that ε* > 0 and the relative gap can close.
    w = model["w"] + 0.3 * np.random.default_rng(1).standard_normal(model["w"].shape)
    keep = np.sign(X @ w) == y
    X, y, noisy = X[keep], y[keep], {"w": w}
    dense = dimple.certify(noisy, X, y, route="dense")
    mf = dimple.certify(noisy, X, y, route="matrix-free", gap=1e-6, max_iters=100000)
    assert dense["route"] == "dense" and mf["route"] == "matrix-free"
    assert mf["converged"]
    assert mf["eps_lower"] <= dense["eps"] * (1 + 1e-9) and dense["eps"] <= mf["eps"] * (1 + 1e-9)
    assert mf["eps"] - mf["eps_lower"] <= 1e-6 * mf["eps"]
    save_safetensors(tmp_path / "m.safetensors", noisy)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y)
    code, out, err = cli(
        "certify", "--model", tmp_path / "m.safetensors", "--data", tmp_path / "x.npy",
        "--labels", tmp_path / "y.npy", "--json", "--route", "matrix-free", "--gap", "1e-6",
        "--max-iters", "100000",
    )
    assert code == 0, err
    want = json.loads(out)
    for key in ("eps", "eps_lower", "iterations", "converged", "delta"):
        assert mf[key] == want[key], key
    for bad in (dict(route="sparse"), dict(route="matrix-free", gap=0.0), dict(max_iters=-1),
                dict(max_memory=-2.0), dict(route="dense", max_memory=1e-12)):
        with pytest.raises(ValueError):
            dimple.certify(noisy, X, y, **bad)


def test_layouts_and_dtypes_do_not_change_the_result():
    model, X, y = separable()
    base = dimple.certify(model, X, y)
    fortran = dimple.certify(model, np.asfortranarray(X), y)
    f32 = dimple.certify({"w": model["w"].astype(np.float32)}, X.astype(np.float32), y.astype(np.float32))
    ref32 = dimple.certify({"w": model["w"].astype(np.float32).astype(np.float64)},
                           X.astype(np.float32).astype(np.float64), y)
    assert fortran.eps == base.eps and np.array_equal(fortran.lambda_, base.lambda_)
    # float32 input is widened exactly: the same as widening by hand.
    assert f32.eps == ref32.eps and np.array_equal(f32.lambda_, ref32.lambda_)
    # Anything with __array__ (CPU torch tensors, memoryviews of numpy) is taken as an array.

    class Wrapped:
        def __init__(self, a):
            self.a = a

        def __array__(self, dtype=None, copy=None):
            return self.a

    wrapped = dimple.certify(model, Wrapped(X), Wrapped(y))
    assert wrapped.eps == base.eps


def test_model_tensors_in_any_layout_and_dtype_give_the_same_model():
    # Dict tensors are read in place when they are C-contiguous float64 and converted otherwise
    # (Fortran order, a strided slice, float32): the model must be the same.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 12))
    W = rng.standard_normal((8, 12)).astype(np.float32).astype(np.float64)
    v = np.where(np.arange(8) % 2 == 0, 1.0, -1.0)
    out = np.maximum(X @ W.T, 0.0) @ v
    X, y = X[np.abs(out) > 1e-6], np.sign(out[np.abs(out) > 1e-6])
    base = dimple.certify({"W": W, "v": v}, X, y)
    wide = np.zeros((8, 24))
    wide[:, ::2] = W
    for W_other in (np.asfortranarray(W), wide[:, ::2], W.astype(np.float32)):
        other = dimple.certify({"W": W_other, "v": v}, X, y)
        assert other.eps == base.eps and np.array_equal(other.lambda_, base.lambda_)


def test_a_safetensors_file_from_the_numpy_api_round_trips(tmp_path):
    model, X, y = separable(seed=3)
    path = tmp_path / "linear.safetensors"
    save_safetensors(path, {**model, "dimple.kind": "linear"})
    assert dimple.certify(path, X, y).eps == dimple.certify(str(path), X, y).eps == dimple.certify(model, X, y).eps
    net = mlp([8, 6, 4], seed=1)
    save_safetensors(tmp_path / "mlp.safetensors", net)
    Xc = np.random.default_rng(2).random((12, 8))
    yc = logits(net, Xc).argmax(axis=1)
    a = dimple.attack(tmp_path / "mlp.safetensors", Xc, yc, eps=0.05, iters=10)
    b = dimple.attack(net, Xc, yc, eps=0.05, iters=10)
    assert a.robust_accuracy == b.robust_accuracy
    assert np.array_equal(a.x_adv, b.x_adv)


def test_bad_input_raises_input_error_with_the_place():
    model, X, y = separable()
    bad = X.copy()
    bad[3, 7] = np.nan
    with pytest.raises(dimple.InputError, match="row 3, column 7"):
        dimple.certify(model, bad, y)
    with pytest.raises(dimple.InputError, match="2-D"):
        dimple.certify(model, X[0], y)
    with pytest.raises(dimple.InputError, match="label 0"):
        dimple.certify(model, X, np.full(len(y), 2.0))
    with pytest.raises(dimple.InputError, match="rows"):
        dimple.certify(model, X, y[:-1])
    with pytest.raises(dimple.InputError, match="box_delta"):
        dimple.certify(model, X, y, box_delta=-1.0)
    with pytest.raises(dimple.InputError, match="no tensor `W`|cannot tell"):
        dimple.certify({"v": np.ones(3)}, X, y)
    with pytest.raises(dimple.InputError, match="path or a dict"):
        dimple.certify(42, X, y)
    with pytest.raises(dimple.InputError, match="unknown check"):
        dimple.check("kkt.nope")
    with pytest.raises(dimple.InputError, match="even width"):
        dimple.check("kkt.euler", m=7)
    with pytest.raises(dimple.InputError, match="forget index 99"):
        dimple.unlearn(model, X, y, forget=[99])
    assert issubclass(dimple.InputError, ValueError)
    assert issubclass(dimple.CouldNotRun, RuntimeError)


def test_unlearn_equals_the_command_line(tmp_path):
    model, X, y = separable(n=12, d=200, seed=5)
    save_safetensors(tmp_path / "m.safetensors", model)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y)
    code, out, err = cli(
        "unlearn", "--model", tmp_path / "m.safetensors", "--data", tmp_path / "x.npy",
        "--labels", tmp_path / "y.npy", "--forget", "1", "--json",
    )
    assert code == 0, err
    want = json.loads(out)
    got = dimple.unlearn(model, X, y, forget=[1])
    assert got.report["with_nnls"] == want["report"]["with_nnls"]
    assert got.report["before"]["eps"] == want["report"]["before"]["eps"]
    assert got.retraining["baseline"] == "hard-margin SVM of S_r"
    assert got.retraining["cos_unlearned_retrained"] == want["retraining"]["cos_unlearned_retrained"]
    assert got.model["w"].shape == (200,) and got.model["dimple.kind"] == "linear"
    # The unlearned model is a model: it certifies on the retained set.
    keep = [i for i in range(12) if i != 1]
    assert dimple.certify(got.model, X[keep], y[keep]).eps >= 0.0


def test_attack_equals_the_command_line(tmp_path):
    net = mlp([16, 12, 4], seed=7)
    X = np.random.default_rng(8).random((30, 16))
    y = logits(net, X).argmax(axis=1)
    save_safetensors(tmp_path / "m.safetensors", net)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y.astype(np.float64))
    for method in ("malt", "apgd-t"):
        code, out, err = cli(
            "attack", "--model", tmp_path / "m.safetensors", "--data", tmp_path / "x.npy",
            "--labels", tmp_path / "y.npy", "--norm", "linf", "--eps", "0.1", "--method", method,
            "--k", "3", "--iters", "20", "--json",
        )
        assert code == 0, err
        want = json.loads(out)
        got = dimple.attack(net, X, y, norm="linf", eps=0.1, method=method, k=3, iters=20)
        assert got.robust_accuracy == want["robust_accuracy"]
        assert got.cost == want["cost"]
        assert got.sanity == want["sanity"] and got.warnings == want["warnings"]
        assert [s["robust_after"] for s in got.stages] == [s["robust_after"] for s in want["stages"]]
        assert got.x_adv.shape == X.shape
        assert np.all(np.abs(got.x_adv - X).max(axis=1) <= 0.1 + 1e-12)
    with pytest.raises(dimple.InputError, match="ε must be positive"):
        dimple.attack(net, X, y, eps=-1.0)
    with pytest.raises(dimple.InputError, match="label 9"):
        dimple.attack(net, X, np.full(30, 9))
    with pytest.raises(dimple.InputError, match="method"):
        dimple.attack(net, X, y, method="pgd")


def test_explain_scores_and_its_preconditions():
    rng = np.random.default_rng(11)
    f0 = mlp([64, 16, 3], seed=20)
    surrogates = []
    for s in range(4):
        m = {k: (v + 1e-3 * rng.standard_normal(v.shape) if not isinstance(v, str) else v) for k, v in f0.items()}
        surrogates.append(m)
    X = rng.random((5, 64))
    y = logits(f0, X).argmax(axis=1)
    r = dimple.explain(f0, surrogates, X, y, patch=4)
    assert r.ip.shape == (5, 4) and r.norm.shape == (5, 4) and r.s.shape == (5, 4)
    assert r.passed.all()
    assert np.all((r.ip >= 0) & (r.ip <= 1))
    wrong = dimple.explain(f0, surrogates, X, (y + 1) % 3, patch=4)
    assert not wrong.passed.any() and np.isnan(wrong.ip).all()
    assert all(isinstance(m, str) for m in wrong.reasons)
    with pytest.raises(dimple.InputError, match="repeats"):
        dimple.explain(f0, [surrogates[0]] * 3, X, y)
    with pytest.raises(dimple.InputError, match="at least 3"):
        dimple.explain(f0, surrogates[:2], X, y)


def test_check_equals_the_command_line_record():
    code, out, err = cli("check", "kkt.svm.dual_primal", "--scale", "test", "--json")
    assert code == 0, err
    assert dimple.check("kkt.svm.dual_primal") == json.loads(out)
    record = dimple.check("kkt.smoothed_margin", steps=10)
    assert record["verdict"] == "Inconclusive"
    assert any("v2.observed" in r for r in record["reasons"])
    ids = [c["id"] for c in dimple.list_checks()]
    assert len(ids) == 46 and "malt.score.unit" in ids


def test_calls_release_the_gil_and_stay_deterministic():
    model, X, y = separable(n=40, d=500, seed=9)
    results = [None] * 4

    def work(i):
        results[i] = dimple.certify(model, X, y)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.eps == results[0].eps for r in results)
    assert all(np.array_equal(r.lambda_, results[0].lambda_) for r in results)


def test_from_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    d = dimple.from_torch(net)
    assert d["dimple.kind"] == "mlp" and d["layers.0.weight"].shape == (5, 8)
    X = np.random.default_rng(0).random((6, 8))
    with torch.no_grad():
        want = net(torch.tensor(X)).numpy()
    assert np.allclose(logits(d, X), want)
    two = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1, bias=False))
    t = dimple.from_torch(two)
    assert t["dimple.kind"] == "two_layer" and t["W"].shape == (4, 8) and t["v"].shape == (4,)


def test_from_torch_without_torch_is_a_clear_error():
    class Fake:
        def children(self):
            return [type("Conv2d", (), {})()]

    with pytest.raises(ValueError, match="Linear"):
        dimple.from_torch(Fake())


def test_the_readme_example_is_the_example_file_and_runs():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / "python" / "examples" / "readme.py").read_text()
    assert "```python\n" + example + "```" in readme
    import sys

    subprocess.run([sys.executable, str(ROOT / "python" / "examples" / "readme.py")], check=True, capture_output=True)
