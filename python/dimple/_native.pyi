"""Type stubs of the native half of ``dimple`` (built from python/src/lib.rs)."""

from os import PathLike
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

ModelLike = Union[str, PathLike[str], Mapping[str, Any]]
F64 = npt.NDArray[np.float64]

class InputError(ValueError):
    """Bad input: the message names the argument, the row and the column."""

class CouldNotRun(RuntimeError):
    """A solver status other than Solved, or non-finite numbers along the way."""

def certify(
    model: ModelLike,
    x: Any,
    y: Any,
    box_delta: Optional[float] = None,
    route: str = "auto",
    max_iters: int = 2000,
    gap: float = 1e-3,
    max_memory: Optional[float] = None,
) -> Tuple[str, F64, F64]: ...
def unlearn(
    model: ModelLike,
    x: Any,
    y: Any,
    forget: Sequence[int],
    fraction: float = 1.0,
    multipliers: str = "certificate",
    init: Optional[ModelLike] = None,
    steps: int = 2000,
    lr: Optional[float] = None,
) -> Tuple[str, dict, Optional[dict]]: ...
def attack(
    model: ModelLike,
    x: Any,
    y: Any,
    norm: str = "linf",
    eps: float = 0.1,
    method: str = "malt",
    iters: int = 100,
    k: Optional[int] = None,
    testk: Optional[int] = None,
    seed: int = 0,
) -> Tuple[str, F64]: ...
def explain(
    model: ModelLike, surrogates: Sequence[ModelLike], x: Any, y: Any, patch: int = 4
) -> Tuple[F64, F64, F64, List[Optional[str]]]: ...
def run_check(
    id: str, scale: str = "test", seeds: Optional[int] = None, overrides: Sequence[Tuple[str, float]] = ...
) -> str: ...
def list_checks() -> List[str]: ...
def time_certify(model: ModelLike, x: Any, y: Any, reps: int) -> float: ...
def time_conversion(model: ModelLike, x: Any, y: Any, reps: int) -> float: ...
