"""The checks every frozen settings dataclass runs at construction: the core's `CurriculumConfig` and each policy's
own settings (curriculum/policies/). Numbers are typed, then range-checked once, never in the hot loop.

    @dataclass(frozen=True)
    class MySettings:
        share: float = 0.1
        def __post_init__(self) -> None:
            check_fields(self, "mine.", {"share": (0.0, 1.0, "[]")})
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

INT_MAX = 2**31 - 1  # step clocks and counts are int32; no count setting needs more
Range = tuple[float, float, str]
"""(low, high, which ends are closed: "[]", "[)", "(]" or "()"); NaN and inf fail every range."""


def check_fields(obj: Any, prefix: str, ranges: Mapping[str, Range], nested: Collection[str] = ()) -> None:
    """Each plain field of a frozen settings dataclass typed ("str", "int" or "float"), then in its range (`ranges`,
    by field name); `nested` names fields holding settings of their own (checked there). Errors name the field as
    `prefix + name` ("adaptive.retention")."""
    for f in dataclasses.fields(obj):  # types first: the ranges compare numbers
        if f.name not in nested:
            object.__setattr__(obj, f.name, _typed(prefix + f.name, f.type, getattr(obj, f.name)))
    for f in dataclasses.fields(obj):
        if f.name in ranges and getattr(obj, f.name) is not None:
            _check_range(prefix + f.name, getattr(obj, f.name), *ranges[f.name])


def check_choice(key: str, value: Any, choices: Collection[str]) -> None:
    """The one check of a setting that takes one of `choices` (policy, prior_type; the trainer's fluke damping), its
    error naming the key as the caller spells it."""
    if value not in choices:
        raise ValueError(f"{key}={value!r}: choose one of {', '.join(choices)}")


def _typed(name: str, kind: str, value: Any) -> Any:
    """`value` as a plain Python value of a field annotated `kind` ("str", "int", "float" or "float | None"; a float
    field takes ints too, kept as ints); numpy scalars become Python ones (they would not serialise to JSON)."""
    if kind == "str" or (value is None and kind.endswith(" | None")):
        return value
    kind = kind.removesuffix(" | None")
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        expected = "an int" if kind == "int" else "a number"
        raise ValueError(f"{name} must be {expected}, got {type(value).__name__} {value!r}")
    if kind == "int":
        if not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an int, got {type(value).__name__} {value!r}")
        return int(value)
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _check_range(name: str, value: float, low: float, high: float, closed: str) -> None:
    above = value >= low if closed[0] == "[" else value > low
    below = value <= high if closed[1] == "]" else value < high
    if not (above and below):  # False for NaN
        raise ValueError(f"{name} must be in {closed[0]}{_fmt(low)}, {_fmt(high)}{closed[1]}, got {value!r}")


def _fmt(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"
