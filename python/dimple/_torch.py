"""Mapping PyTorch modules to dimple's dict form, without importing torch at import time."""

from __future__ import annotations

from typing import Any, Dict, List


def _array(t: Any) -> Any:
    import numpy as np

    return np.asarray(t.detach().cpu().double().numpy())


def from_torch(module: Any) -> Dict[str, Any]:
    """A ``torch.nn.Sequential`` of ``Linear`` and ``ReLU`` (or ``LeakyReLU``) layers as the dict
    form of a multi-class MLP (``layers.{l}.weight`` [out, in], ``layers.{l}.bias`` [out]).

    A two-layer scalar net — ``Linear(d, m)``, an activation, ``Linear(m, 1, bias=False)`` — maps
    to the two-layer form (``W`` [m, d], ``b`` [m] if the first layer has a bias, ``v`` [m], with
    ``train_output = "true"``), which ``certify`` and ``unlearn`` take.
    """
    linears: List[Any] = []
    activation = "relu"
    for layer in module.children() if hasattr(module, "children") else []:
        name = type(layer).__name__
        if name == "Linear":
            linears.append(layer)
        elif name == "ReLU":
            activation = "relu"
        elif name == "LeakyReLU":
            activation = f"leaky_relu:{float(layer.negative_slope)}"
        elif name in ("Identity", "Flatten"):
            continue
        else:
            raise ValueError(
                f"from_torch maps Linear/ReLU/LeakyReLU layers only; found {name}"
            )
    if not linears:
        raise ValueError("from_torch needs a torch.nn.Sequential with at least one Linear layer")
    last = linears[-1]
    if len(linears) == 2 and last.out_features == 1 and last.bias is None:
        first = linears[0]
        out: Dict[str, Any] = {
            "dimple.kind": "two_layer",
            "activation": activation,
            "train_output": "true",
            "W": _array(first.weight),
            "v": _array(last.weight).reshape(-1),
        }
        if first.bias is not None:
            out["b"] = _array(first.bias)
        return out
    out = {"dimple.kind": "mlp", "activation": activation}
    for l, lin in enumerate(linears):
        out[f"layers.{l}.weight"] = _array(lin.weight)
        if lin.bias is None:
            import numpy as np

            out[f"layers.{l}.bias"] = np.zeros(lin.out_features)
        else:
            out[f"layers.{l}.bias"] = _array(lin.bias)
    return out
