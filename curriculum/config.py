"""CurriculumConfig: every knob of the core, validated once at construction.

Fields carry their help as attribute docstrings (cleanrl style). Mode strings are checked here, at
config time, never in the hot loop.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

POLICIES = ("uniform", "static", "adaptive", "band")
FLUKE_MODES = ("none", "posterior", "cap")
"""Advantage shaping of lone successes the TRL drop-in offers (rl/shaping.py); kept here, with the policies, so
every config reads one definition without importing torch."""
PRIOR_TYPES = ("auto", "label", "pass_rate")


@dataclass(frozen=True)
class CurriculumConfig:
    policy: str = "adaptive"
    """Which prompts to draw: "uniform" (epoch-wise shuffle, plain GRPO), "static" (a band fixed once from the prior
    or a calibration pass), "adaptive" (an epoch-wise walk that keeps each prompt with the probability that its
    group is informative now, with floors) or "band" (the medium band re-evaluated every step; see policies.py)."""

    target: float = 0.5
    """Adaptive: pass rates above it count as heading to mastery (`retention`). Band: the pass rate it aims for (the
    learning signal of a prompt scales with p(1-p))."""
    band_low: float = 0.2
    """Band: lower edge of the medium band (pass rate)."""
    band_high: float = 0.8
    """Band: upper edge of the medium band (pass rate)."""

    success_threshold: float = 0.5
    """A rollout whose reward is >= this counts as a success (rewards may be fractional)."""

    exclude_below: float = 0.08
    """A prompt is excluded once it is confidently below this pass rate (posterior bound, see `confidence`); the band
    stops drawing it, the adaptive walk only reports it. The walk counts a prompt predicted below it as beyond reach
    (drawn only within `reprobe_share`)."""
    retire_above: float = 0.95
    """A prompt is retired once it is confidently above this pass rate."""
    confidence: float = 0.8
    """Posterior probability needed to exclude or retire (one all-fail group is never enough)."""

    explore_frac: float = 0.06
    """Band: share of every batch reserved for unseen prompts while any remain (more when the band runs dry)."""
    candidate_mult: int = 4
    """Candidates scored per slot: propose(k) scores about candidate_mult * k prompts (O(k), not O(N)); the adaptive
    walk scans at most four rounds of that when it skips many."""
    band_cache: int = 2048
    """Band: observed prompts predicted inside the band are kept (most recent first, up to this many) and
    re-scored as candidates next step, so a sparse band in a large pool is not lost to random sampling."""
    reprobe_scan: int = 128
    """Band: excluded and retired prompts re-checked per step at today's ability (at most 4k for k prompts a step;
    every 4th step checks four steps' worth at once); those no longer confidently out of reach (or mastered)
    return to the active pool."""
    revisit_cooldown: int = 0
    """Band: a prompt observed fewer than this many steps ago is not proposed again (spreads training over more
    prompts; the adaptive walk spaces revisits by a whole epoch anyway)."""
    reprobe_share: float = 0.05
    """Adaptive: share of every batch re-probing prompts predicted beyond reach (predicted pass rate below
    `exclude_below`): a budget, not a per-prompt floor, so a pool mostly out of reach cannot flood the batch, yet
    every such prompt keeps coming back now and then (the walk offers them in turn)."""
    revisit_gap: int = 0
    """Adaptive: a prompt observed fewer than this many steps ago is skipped when it comes up (spacing; the walk
    draws a prompt at most once an epoch anyway, and an epoch is shorter when much of the pool is skipped)."""
    retention: float = 0.2
    """Adaptive: least probability of keeping a prompt predicted mastered when it comes up, so solved skills keep
    being practised."""
    keep_power: float = 1.0
    """Adaptive: a prompt that comes up is kept with probability informativeness ** keep_power (above the floors);
    1 keeps every prompt likely to give an informative group, larger values favour pass rates near 0.5."""
    thompson_scale: float = 0.5
    """Scale of the posterior noise used to rank candidates (0: greedy on the mean; 1: Thompson sampling)."""

    prior_type: str = "auto"
    """How to read `prior`: "label" (difficulty level / source id, mapping learned online), "pass_rate"
    (initial pass-rate estimates in [0, 1]) or "auto" (integers -> label, floats in [0, 1] -> pass_rate)."""
    prompt_prior_sd: float = 2.0
    """Prior sd (logits) of a prompt around its label's difficulty (or of the whole pool without labels)."""
    pass_rate_prior_sd: float = 1.0
    """Prior sd (logits) around an initial pass-rate estimate given as prior."""

    ability_drift: float = 0.005
    """Process noise (logit variance per step) of the global ability: how fast it may move."""
    revisit_noise: float = 0.5
    """Variance (logits^2) of a revisited prompt's own change beyond the global ability (it was trained on):
    each revisit's evidence about the ability is down-weighted by 1 / (1 + information * revisit_noise), so
    a few heavily trained prompts cannot drag the ability along."""
    revisit_min_gap: int = 8
    """Revisits sooner than this many steps after the last one do not move the ability: right after being
    trained on, a prompt's own change (memorisation) swamps the global one."""
    label_drift: float = 0.002
    """Process noise per step of each label's difficulty offset (skills improving at different speeds)."""
    prompt_drift: float = 0.002
    """Process noise per step of a prompt's own difficulty; lets stale verdicts expire (the re-probe clock)."""

    feature_ridge: float = 10.0
    """Features: the regression of difficulty on them is shrunk as if by this many prompts at 0 (on standardised
    features); it fades as observed prompts come in."""
    feature_half_life: float = 0.0
    """Features: half-life in steps of the regression's statistics; 0 keeps them forever (fixed features: a revisit
    replaces its prompt's old contribution). Features that drift (the policy's hidden state) need one, e.g. 50."""
    feature_warmup: float = 16.0
    """Features: first visits (weighted by how much each says) scored before the features may predict unseen
    prompts; they then do only while they predict first visits better than the label alone."""

    max_rollouts_per_prompt: int = 65536
    """observe refuses more rollouts of one prompt in one step than this (a trainer passing cumulative counts, or a
    prompt id repeated by a bug); GRPO groups are 4 to a few hundred rollouts."""

    tracker_half_life: float = 50.0
    """Half-life, in steps, of the rolling per-prompt success/attempt counts."""

    calibration_size: int = 1024
    """Static policy without a pass-rate prior: prompts observed once (uniformly) before the band is fixed."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # types first: the ranges below compare numbers
            object.__setattr__(self, f.name, _typed(f.name, f.type, getattr(self, f.name)))
        check_choice("policy", self.policy, POLICIES)
        check_choice("prior_type", self.prior_type, PRIOR_TYPES)
        for name, (low, high, closed) in _RANGES.items():
            _check_range(name, getattr(self, name), low, high, closed)
        if not 0.0 < self.band_low < self.target < self.band_high < 1.0:
            raise ValueError(
                f"need 0 < band_low < target < band_high < 1, got band_low={self.band_low}, "
                f"target={self.target}, band_high={self.band_high}"
            )
        if not self.exclude_below <= self.band_low:
            raise ValueError(f"need 0 < exclude_below <= band_low, got exclude_below={self.exclude_below}")
        if not self.band_high <= self.retire_above:
            raise ValueError(f"need band_high <= retire_above < 1, got retire_above={self.retire_above}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CurriculumConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown CurriculumConfig fields {unknown}; valid fields: {sorted(known)}")
        return cls(**d)

    def replace(self, **changes: Any) -> CurriculumConfig:
        return dataclasses.replace(self, **changes)


def check_choice(key: str, value: Any, choices: tuple[str, ...]) -> None:
    """The one check of a setting that takes one of `choices` (policy, prior_type, fluke damping), its error naming
    the key as the caller spells it."""
    if value not in choices:
        raise ValueError(f"{key}={value!r}: choose one of {', '.join(choices)}")


_INT_MAX = 2**31 - 1  # step clocks and counts are int32; no count setting needs more
_SD_MAX = 100.0  # logits: a prior sd beyond this is flat on any pass rate that can be told apart from 0 or 1
_RATE_MAX = 100.0  # logit variance per step (drifts, revisit noise): the defaults are 0.002 to 0.5
_RANGES: dict[str, tuple[float, float, str]] = {
    # field: (low, high, which ends are closed: "[]", "[)", "(]" or "()"); NaN and inf fail every range
    "target": (0.0, 1.0, "()"),
    "band_low": (0.0, 1.0, "()"),
    "band_high": (0.0, 1.0, "()"),
    "success_threshold": (0.0, 1.0, "(]"),
    "exclude_below": (0.0, 1.0, "()"),
    "retire_above": (0.0, 1.0, "()"),
    "confidence": (0.5, 1.0, "[)"),
    "explore_frac": (0.0, 1.0, "[]"),
    "candidate_mult": (1, _INT_MAX, "[]"),
    "band_cache": (0, _INT_MAX, "[]"),
    "reprobe_scan": (0, _INT_MAX, "[]"),
    "revisit_cooldown": (0, _INT_MAX, "[]"),
    "reprobe_share": (0.0, 1.0, "[]"),
    "revisit_gap": (0, _INT_MAX, "[]"),
    "retention": (0.0, 1.0, "(]"),
    "keep_power": (0.0, math.inf, "()"),
    "thompson_scale": (0.0, math.inf, "[)"),
    "prompt_prior_sd": (0.0, _SD_MAX, "(]"),
    "pass_rate_prior_sd": (0.0, _SD_MAX, "(]"),
    "ability_drift": (0.0, _RATE_MAX, "[]"),
    "revisit_noise": (0.0, _RATE_MAX, "[]"),
    "revisit_min_gap": (0, _INT_MAX, "[]"),
    "label_drift": (0.0, _RATE_MAX, "[]"),
    "prompt_drift": (0.0, _RATE_MAX, "[]"),
    "tracker_half_life": (0.01, math.inf, "[)"),
    "max_rollouts_per_prompt": (1, 2**24, "[]"),
    "feature_ridge": (0.0, 1e9, "(]"),
    "feature_half_life": (0.0, math.inf, "[)"),
    "feature_warmup": (0.0, 1e9, "[]"),
    "calibration_size": (1, _INT_MAX, "[]"),
}
"""The valid range of every numeric field."""


def _typed(name: str, kind: str, value: Any) -> Any:
    """`value` as a plain Python value of a field annotated `kind` ("str", "int" or "float"; a float field takes ints
    too, kept as ints); numpy scalars become Python ones (they would not serialise to JSON)."""
    if kind == "str":
        return value
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


def attribute_docs(cls: type) -> dict[str, str]:
    """{field: its attribute docstring, on one line} of a dataclass, for CLIs and TRL config fields."""
    import ast
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    out: dict[str, str] = {}
    for node, nxt in zip(body, body[1:], strict=False):
        if isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
            out[node.target.id] = " ".join(str(nxt.value.value).split())  # type: ignore[union-attr]
    return out


def field_help() -> dict[str, str]:
    """Attribute docstrings of CurriculumConfig."""
    return attribute_docs(CurriculumConfig)
