"""dimple from Python: executable checks of theorems about the geometry of trained networks.

The functions take numpy arrays (float64 or float32, any memory order; anything with
``__array__``, so CPU torch tensors work) and models given as a ``.safetensors`` path or a dict of
arrays with the tensor names of the README (``w``; ``W``, ``v``, ``b``; ``layers.{l}.weight``,
``layers.{l}.bias``; metadata such as ``"dimple.kind": "mlp"`` as string values). They run the
same code as the ``dimple`` command line and release the GIL while they compute.

Bad input raises :class:`InputError` (a ``ValueError``) with the command line's message; a
computation that cannot finish raises :class:`CouldNotRun` (a ``RuntimeError``).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from . import _native
from ._native import CouldNotRun, InputError
from ._torch import from_torch

__all__ = [
    "CouldNotRun",
    "InputError",
    "Result",
    "attack",
    "certify",
    "check",
    "explain",
    "from_torch",
    "list_checks",
    "unlearn",
]

ModelLike = Union[str, "os.PathLike[str]", Mapping[str, Any]]


class Result:
    """A result: the report's fields as attributes (``r.eps``) and items (``r["eps"]``).

    ``to_dict()`` returns the fields as a plain dict (arrays stay numpy arrays). The field
    ``lambda`` is also reachable as the attribute ``lambda_``.
    """

    def __init__(self, fields: Dict[str, Any]) -> None:
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        fields = self.__dict__.get("_fields", {})
        key = "lambda" if name == "lambda_" else name
        if key in fields:
            return fields[key]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}; fields: {sorted(fields)}")

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __contains__(self, key: object) -> bool:
        return key in self._fields

    def keys(self) -> List[str]:
        """The field names."""
        return list(self._fields)

    def to_dict(self) -> Dict[str, Any]:
        """The fields as a plain dict."""
        return dict(self._fields)

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._fields.items() if not isinstance(v, (np.ndarray, dict, list))}
        return f"Result({shown})"


def certify(
    model: ModelLike,
    X: Any,
    y: Any,
    box_delta: Optional[float] = None,
    route: str = "auto",
    max_iters: int = 2000,
    gap: float = 1e-3,
    max_memory: Optional[float] = None,
) -> Result:
    """KKT certificate of a homogeneous model at the margin-normalised θ̃ = θ/q_min^{1/L}.

    Multipliers λ ≥ 0 minimise ε = ‖θ̃ − Σ λ_i y_i ∇_θ N(x_i; θ̃)‖ (units of θ; ``eps_rel`` =
    ε/‖θ̃‖ is unitless); ``delta`` = max λ_i(q_i − 1), ``tau`` = max(0, 1 − min q_i), ``lambda``
    the multipliers (array, one per point), ``margins`` q_i(θ̃). ``box_delta`` adds ε*(δ₀) of
    the box QP. X: points as rows (n × d); y: labels ±1.

    ``route``: ``"dense"`` (exact, from the n × n Gram matrix), ``"matrix-free"`` (Jacobian-
    vector products only; ``eps`` is an upper and ``eps_lower`` a lower bound on ε*, closed to
    the relative ``gap`` within ``max_iters`` iterations if ``converged``) or ``"auto"``.
    ``max_memory`` (GiB, default half the physical memory) refuses runs estimated above it.
    The result's ``route`` says which ran.
    """
    text, lam, margins = _native.certify(model, X, y, box_delta, route, max_iters, gap, max_memory)
    fields = json.loads(text)
    fields["lambda"] = lam
    fields["margins"] = margins
    return Result(fields)


def unlearn(
    model: ModelLike,
    X: Any,
    y: Any,
    forget: Sequence[int],
    fraction: float = 1.0,
    multipliers: str = "certificate",
    init: Optional[ModelLike] = None,
    steps: int = 2000,
    lr: Optional[float] = None,
) -> Result:
    """One gradient-ascent step θ' = θ̃ − c·Σ_{r∈F} λ_r y_r ∇_θ N(x_r; θ̃) (arXiv:2510.14844).

    θ̃ is the model at the KKT scale, λ the certificate's multipliers (``multipliers="loss"``:
    those implied by the logistic loss), c = ``fraction`` (1 is the theorem's step). Returns
    ``model`` (the unlearned model as a dict of arrays), ``report`` (the certificate before, the
    (ε, δ, τ) triples on the retained set after, β*), ``retraining`` (the comparison with
    retraining: GD from ``init`` for ``steps`` steps, or the hard-margin SVM of the retained set
    for a linear model; ``None`` otherwise) and ``retrained_model``.
    """
    text, unlearned, retrained = _native.unlearn(
        model, X, y, [int(i) for i in forget], float(fraction), multipliers, init, int(steps), lr
    )
    fields = json.loads(text)
    fields["model"] = unlearned
    fields["retrained_model"] = retrained
    return Result(fields)


def attack(
    model: ModelLike,
    X: Any,
    y: Any,
    norm: str = "linf",
    eps: float = 0.1,
    method: str = "malt",
    iters: int = 100,
    k: Optional[int] = None,
    testk: Optional[int] = None,
    seed: int = 0,
) -> Result:
    """Attack a multi-class MLP within the ε-ball of ``norm`` (``"linf"`` or ``"l2"``).

    ``method``: ``"malt"`` (MALT targeting, arXiv:2407.02240), ``"apgd-t"`` or ``"autoattack"``
    (the standard pipeline). Returns ``clean_accuracy`` and ``robust_accuracy`` (fractions),
    ``stages`` (per stage: points broken, ``robust_after``, passes, seconds and cumulative
    seconds), ``cost`` (forward and forward-backward passes), ``sanity`` (largest ‖δ‖ against
    ε, non-finite entries, range of x_adv), ``warnings``, ``broken_mask``, and ``x_adv`` (the
    adversarial points; the clean point where unbroken).
    ``k``: targets (default min(9, K − 1)). y: class indices 0..K−1.
    """
    text, x_adv = _native.attack(
        model, X, y, norm, float(eps), method, int(iters), None if k is None else int(k), testk, int(seed)
    )
    fields = json.loads(text)
    fields["x_adv"] = x_adv
    fields["broken_mask"] = np.asarray(fields["broken_mask"], dtype=bool)
    fields["clean_correct"] = np.asarray(fields["clean_correct"], dtype=bool)
    return Result(fields)


def explain(
    model: ModelLike, surrogates: Sequence[ModelLike], X: Any, y: Any, patch: int = 4
) -> Result:
    """Explanations from cross-model gradient agreement (arXiv:2311.13454), by p × p patches.

    For each image (row of X, a square image flattened) and patch w: ``ip`` (the mean absolute
    cosine between the models' gradients at w, unitless), ``norm`` (their mean norm) and ``s``
    (IP on the small-norm patches, else 0), as n × L arrays; rows of images that fail the
    method's preconditions (f₀ must classify correctly, at least 3 surrogates must agree) are NaN
    with the reason in ``reasons``; ``passed`` marks the others.
    """
    ip, norm, s, reasons = _native.explain(model, list(surrogates), X, y, int(patch))
    return Result(
        {
            "ip": ip,
            "norm": norm,
            "s": s,
            "passed": np.asarray([r is None for r in reasons], dtype=bool),
            "reasons": reasons,
        }
    )


def check(id: str, scale: str = "test", seeds: Optional[int] = None, **overrides: float) -> Dict[str, Any]:
    """Run one check: the record of ``dimple check <id> --json`` as a dict.

    ``scale`` is ``"test"`` (seconds) or ``"default"`` (the documented run); keyword arguments
    override the check's parameters (refused with the assumption named when outside it).
    """
    pairs = [(str(k), float(v)) for k, v in overrides.items()]
    return json.loads(_native.run_check(id, scale, seeds, pairs))


def list_checks() -> List[Dict[str, Any]]:
    """The registered checks (id, family, kind, provenance, title)."""
    return [json.loads(line) for line in _native.list_checks()]
