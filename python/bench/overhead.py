"""What a Python call adds to the computation.

For each case, the median wall time of `dimple.certify` from Python against the median time of the
library's certify on the same, already converted inputs (`dimple._native.time_certify`, which runs
inside Rust with the GIL released), and the time of the conversion alone
(`dimple._native.time_conversion`). Run: python python/bench/overhead.py
"""

import time

import numpy as np

import dimple
from dimple import _native


def two_layer(n, d, m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    W = rng.standard_normal((m, d))
    v = np.where(np.arange(m) % 2 == 0, 1.0, -1.0) / np.sqrt(m)
    out = np.maximum(X @ W.T, 0.0) @ v
    y = np.where(out >= 0, 1.0, -1.0)
    return {"dimple.kind": "two_layer", "W": W, "v": v}, X, y


def linear(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    return {"w": w}, X, np.sign(X @ w)


def main():
    cases = [
        ("linear, n = 4, d = 3", linear(4, 3), 2000),
        ("two-layer, n = 100, d = 1000, m = 50 (p = 50 000)", two_layer(100, 1000, 50), 300),
    ]
    print(
        f"{'case':<52} {'python call':>12} {'library':>10} {'overhead':>10} {'share':>7}"
        f" {'conversion':>11}"
    )
    for name, (model, X, y), reps in cases:
        dimple.certify(model, X, y)  # warm-up
        py, lib = [], []
        # Interleaved, so that both see the same machine state; medians over the repetitions.
        for _ in range(reps):
            t = time.perf_counter()
            dimple.certify(model, X, y)
            py.append(time.perf_counter() - t)
            lib.append(_native.time_certify(model, X, y, 1))
        p, l = float(np.median(py)), float(np.median(lib))
        # The copying part of the overhead: the inputs converted to the library's types.
        conv = _native.time_conversion(model, X, y, reps)
        print(
            f"{name:<52} {p * 1e3:>9.3f} ms {l * 1e3:>7.3f} ms {(p - l) * 1e3:>7.3f} ms"
            f" {100 * (p - l) / l:>6.1f}% {conv * 1e3:>8.3f} ms"
        )


if __name__ == "__main__":
    main()
