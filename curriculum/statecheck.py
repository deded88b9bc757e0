"""Reading a state dict without trusting it: every entry's presence, type, shape, dtype and range.

`Curriculum.load_state_dict` checks the whole state (each part's `check_state`, built from these readers)
before it assigns anything, so a refused state raises ValueError naming the key and the problem and leaves
the curriculum exactly as it was. The readers accept what a state dict holds after a trip through npz + JSON
(Python or numpy scalars, 0-d arrays for scalars and strings) and return plain values or arrays.

    step = read_int(sd, "step", high=INT32_MAX - 1)
    succ = read_array(sd, "succ", np.float32, (N,), low=0.0)       # finite, >= 0, safely castable to float32
    pending = read_ids(sd, "pending", N)                            # any integer dtype, every id in [0, N)
    counters = read_json(sd, "counters", dict)
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

INT32_MAX = int(np.iinfo(np.int32).max)
INT64_MAX = int(np.iinfo(np.int64).max)
POSITION_MAX = 2**62  # stream positions (cursors): room to walk on for ages without leaving int64


def fail(key: str, problem: str) -> ValueError:
    return ValueError(f"curriculum state entry {key!r} {problem}")


def _fmt(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def check_keys(sd: Any, expected: set[str], exact: bool = True) -> None:
    """`sd` is a mapping with every `expected` key (and no other, if `exact`)."""
    if not isinstance(sd, Mapping):
        raise ValueError(f"a curriculum state is a dict (from Curriculum.state_dict()), got {type(sd).__name__}")
    missing, unknown = sorted(expected - set(sd)), sorted(set(sd) - expected, key=str)
    if missing:
        raise ValueError(f"curriculum state lacks {missing}: it is incomplete or from another version")
    if exact and unknown:
        raise ValueError(f"curriculum state has unknown entries {unknown}: it is from another version or policy")


def _scalar(value: Any) -> Any:
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value


def read_int(sd: Mapping[str, Any], key: str, low: int = 0, high: int = INT64_MAX) -> int:
    value = _scalar(sd[key])
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise fail(key, f"must be an int, got {type(value).__name__} {value!r}")
    if not low <= int(value) <= high:
        raise fail(key, f"must be in [{low}, {high}], got {int(value)}")
    return int(value)


def read_float(
    sd: Mapping[str, Any], key: str, low: float = -math.inf, high: float = math.inf, low_open: bool = False
) -> float:
    """A finite number in [low, high] ((low, high] with `low_open`)."""
    value = _scalar(sd[key])
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise fail(key, f"must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not (math.isfinite(value) and (value > low if low_open else value >= low) and value <= high):
        raise fail(key, f"must be finite and in {'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}], got {value!r}")
    return value


def read_str(sd: Mapping[str, Any], key: str) -> str:
    value = _scalar(sd[key])
    if not isinstance(value, str):
        raise fail(key, f"must be a string, got {type(value).__name__}")
    return str(value)


def read_json(sd: Mapping[str, Any], key: str, kind: type) -> Any:
    """A JSON string holding a `kind` (dict, list)."""
    text = read_str(sd, key)
    try:
        value = json.loads(text)
    except ValueError as err:
        raise fail(key, f"is not valid JSON ({err})") from None
    if not isinstance(value, kind):
        raise fail(key, f"must hold a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def _as_array(sd: Mapping[str, Any], key: str) -> np.ndarray:
    value = sd[key]
    if not isinstance(value, np.ndarray):
        raise fail(key, f"must be a numpy array, got {type(value).__name__}")
    return value


def _check_shape(key: str, arr: np.ndarray, shape: tuple[int | None, ...]) -> None:
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise fail(key, f"has shape {arr.shape}, expected {want}")


def read_array(
    sd: Mapping[str, Any],
    key: str,
    dtype: type,
    shape: tuple[int | None, ...],
    low: float | None = None,
    high: float | None = None,
    finite: bool = True,
) -> np.ndarray:
    """An array of `shape` (None: any length) whose dtype casts to `dtype` without loss (same kind); floats must be
    finite (unless `finite=False`); every value in [low, high] where given. Returned as given (the caller's
    assignment casts it)."""
    arr = _as_array(sd, key)
    want = np.dtype(dtype)
    kinds = "f" if want.kind == "f" else "iu"
    if arr.dtype.kind not in kinds or not np.can_cast(arr.dtype, want, "safe"):
        raise fail(key, f"has dtype {arr.dtype}, expected {want} (or a narrower {'float' if kinds == 'f' else 'int'})")
    _check_shape(key, arr, shape)
    if arr.size:
        if kinds == "f" and finite and not np.isfinite(arr).all():
            raise fail(key, f"holds {int((~np.isfinite(arr)).sum())} NaN/inf values")
        if low is not None and arr.min().item() < low:  # .item(): compare as Python numbers, no cast of the bound
            raise fail(key, f"holds values below {_fmt(low)} (min {arr.min().item()!r})")
        if high is not None and arr.max().item() > high:
            raise fail(key, f"holds values above {_fmt(high)} (max {arr.max().item()!r})")
    return arr


def read_ids(sd: Mapping[str, Any], key: str, num: int, max_len: int | None = None, distinct: bool = False) -> np.ndarray:
    """A 1-D array of ints in [0, num) (any integer dtype: the range check makes any cast exact)."""
    arr = _as_array(sd, key)
    if arr.dtype.kind not in "iu":
        raise fail(key, f"has dtype {arr.dtype}, expected integer ids")
    _check_shape(key, arr, (None,))
    if max_len is not None and arr.size > max_len:
        raise fail(key, f"holds {arr.size} ids, more than {max_len}")
    if arr.size and (arr.min() < 0 or arr.max() >= num):
        bad = arr[(arr < 0) | (arr >= num)][:5].tolist()
        raise fail(key, f"holds ids outside [0, {num}): {bad}")
    if distinct and np.unique(arr).size != arr.size:
        raise fail(key, "holds a repeated id")
    return arr
