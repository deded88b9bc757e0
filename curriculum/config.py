"""CurriculumConfig: every knob of the core, validated once at construction.

Fields carry their help as attribute docstrings (cleanrl style). Mode strings are checked here, at
config time, never in the hot loop.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .policies.adaptive import AdaptiveSettings
from .policies.band import BandSettings
from .policies.registry import POLICIES, POLICY_CLASSES
from .policies.static import StaticSettings
from .settings import INT_MAX, Range, check_choice, check_fields

__all__ = [
    "POLICIES",
    "PRIOR_TYPES",
    "SETTINGS",
    "CurriculumConfig",
    "attribute_docs",
    "check_choice",
    "field_default",
    "field_help",
    "flatten",
    "nest",
]

PRIOR_TYPES = ("auto", "label", "pass_rate")
CALIBRATIONS = ("online", "none")  # feature_calibration

SETTINGS: dict[str, type] = {name: cls.Settings for name, cls in POLICY_CLASSES.items() if cls.Settings is not None}
"""CurriculumConfig's nested fields: one a policy (named as in the registry), holding the knobs only that policy
reads; each policy's module defines its settings class."""


@dataclass(frozen=True)
class CurriculumConfig:
    policy: str = "adaptive"
    """Which prompts to draw: "uniform" (epoch-wise shuffle, plain GRPO), "static" (a band fixed once from the prior
    or a calibration pass), "adaptive" (an epoch-wise walk that keeps each prompt with the probability that its
    group is informative now, with floors) or "band" (the medium band re-evaluated every step; see curriculum/policies/)."""

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

    candidate_mult: int = 4
    """Candidates scored per slot: propose(k) scores about candidate_mult * k prompts (O(k), not O(N)); the adaptive
    walk scans at most four rounds of that when it skips many."""
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
    population_refresh: int = 0
    """Prompt ids scanned each step, the pool's next slice in id order, whose observed prompts have their difficulty
    beliefs solved again under today's population, from the counts they were last solved from (0: never; on a pool
    mostly unobserved few of a slice are). The population is learned as the prompts come in, so a belief solved early,
    under a population still narrow, stays shrunk until its prompt is seen again: prompts that failed one group early
    come back predicted too easy as the ability rises. Off by default: it learned the same (docs/simulator.md)."""

    feature_ridge: float = 10.0
    """Features: the regression of difficulty on them is shrunk as if by this many prompts at 0 (on standardised
    features); it fades as observed prompts come in."""
    feature_half_life: float = 0.0
    """Features: half-life in steps of the regression's statistics; 0 keeps them forever (fixed features: a revisit
    replaces its prompt's old contribution). Features that drift (the policy's hidden state) need one, e.g. 50."""
    feature_warmup: float = 16.0
    """Features: first visits (weighted by how much each says) scored before the features may predict unseen
    prompts; they then do only while they predict first visits better than the label alone."""
    feature_calibration: str = "online"
    """Features: "online" fits an intercept and a slope to the features' predictions on every first visit's
    successes (the regression learns from shrunk beliefs, so its predictions come out shrunk: the hardest unseen
    prompts too easy); "none" takes the regression as it is."""

    max_rollouts_per_prompt: int = 65536
    """observe refuses more rollouts of one prompt in one step than this (a trainer passing cumulative counts, or a
    prompt id repeated by a bug); GRPO groups are 4 to a few hundred rollouts."""

    tracker_half_life: float = 50.0
    """Half-life, in steps, of the rolling per-prompt success/attempt counts."""

    adaptive: AdaptiveSettings = field(default_factory=lambda: AdaptiveSettings())
    """The adaptive walk's own settings (policy="adaptive")."""
    band: BandSettings = field(default_factory=lambda: BandSettings())
    """The band policy's own settings (policy="band")."""
    static: StaticSettings = field(default_factory=lambda: StaticSettings())
    """The static policy's own settings (policy="static")."""

    def __post_init__(self) -> None:
        for name, kind in SETTINGS.items():  # a mapping given for a policy's settings: its fields, checked there
            value = getattr(self, name)
            if isinstance(value, Mapping):
                object.__setattr__(self, name, _settings_from_dict(kind, value, f"{name}."))
            elif not isinstance(value, kind):
                raise ValueError(f"{name} must be a {kind.__name__} or a mapping of its fields, got {value!r}")
        check_fields(self, "", _RANGES, nested=SETTINGS)
        check_choice("policy", self.policy, tuple(POLICY_CLASSES))  # the registry now (a test may register one)
        check_choice("prior_type", self.prior_type, PRIOR_TYPES)
        check_choice("feature_calibration", self.feature_calibration, CALIBRATIONS)
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
    def from_dict(cls, d: Mapping[str, Any]) -> CurriculumConfig:
        """From `to_dict`'s form: the policies' settings as nested mappings (or dotted keys, "adaptive.retention")."""
        return _settings_from_dict(cls, nest(d), "")

    def replace(self, **changes: Any) -> CurriculumConfig:
        """A copy with `changes`; a mapping for a policy's settings changes only the fields it names."""
        for name in SETTINGS:
            if isinstance(changes.get(name), Mapping):
                changes[name] = dataclasses.replace(getattr(self, name), **changes[name])
        return dataclasses.replace(self, **changes)


MOVED = {
    **{k: f"adaptive.{k}" for k in ("reprobe_share", "revisit_gap", "retention", "keep_power")},
    **{k: f"band.{k}" for k in ("explore_frac", "reprobe_scan", "revisit_cooldown")},
    "band_cache": "band.cache",
    "calibration_size": "static.calibration_size",
}
"""Former top-level fields -> where they are now (named in the error a former spelling gets)."""


def nest(d: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys ("band.cache": 512) as nested mappings ({"band": {"cache": 512}}), merged with any given nested."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        head, dot, rest = key.partition(".")
        if dot:
            node = out.setdefault(head, {})
            if not isinstance(node, dict):
                raise ValueError(f"{key}: {head} is not a group of settings")
            node[rest] = value
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


def flatten(d: Mapping[str, Any]) -> dict[str, Any]:
    """Nested mappings of settings as dotted keys (the inverse of `nest` on a config's dict)."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, Mapping):
            out |= {f"{key}.{k}": v for k, v in value.items()}
        else:
            out[key] = value
    return out


def _settings_from_dict(cls: type, d: Mapping[str, Any], prefix: str) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - known)
    moved = [f"{k} is now {MOVED[k]}" for k in unknown if not prefix and k in MOVED]
    if moved:
        raise ValueError(f"{'; '.join(moved)} (a setting of one policy, nested under its name)")
    if unknown:
        where = f"{prefix.rstrip('.')} settings" if prefix else "CurriculumConfig fields"
        raise ValueError(f"unknown {where} {[prefix + k for k in unknown]}; valid: {sorted(prefix + k for k in known)}")
    return cls(**d)


_SD_MAX = 100.0  # logits: a prior sd beyond this is flat on any pass rate that can be told apart from 0 or 1
_RATE_MAX = 100.0  # logit variance per step (drifts, revisit noise): the defaults are 0.002 to 0.5
_RANGES: dict[str, Range] = {
    # field: (low, high, which ends are closed: "[]", "[)", "(]" or "()"); NaN and inf fail every range
    "target": (0.0, 1.0, "()"),
    "band_low": (0.0, 1.0, "()"),
    "band_high": (0.0, 1.0, "()"),
    "success_threshold": (0.0, 1.0, "(]"),
    "exclude_below": (0.0, 1.0, "()"),
    "retire_above": (0.0, 1.0, "()"),
    "confidence": (0.5, 1.0, "[)"),
    "candidate_mult": (1, INT_MAX, "[]"),
    "thompson_scale": (0.0, math.inf, "[)"),
    "prompt_prior_sd": (0.0, _SD_MAX, "(]"),
    "pass_rate_prior_sd": (0.0, _SD_MAX, "(]"),
    "ability_drift": (0.0, _RATE_MAX, "[]"),
    "revisit_noise": (0.0, _RATE_MAX, "[]"),
    "revisit_min_gap": (0, INT_MAX, "[]"),
    "label_drift": (0.0, _RATE_MAX, "[]"),
    "prompt_drift": (0.0, _RATE_MAX, "[]"),
    "population_refresh": (0, INT_MAX, "[]"),
    "tracker_half_life": (0.01, math.inf, "[)"),
    "max_rollouts_per_prompt": (1, 2**24, "[]"),
    "feature_ridge": (0.0, 1e9, "(]"),
    "feature_half_life": (0.0, math.inf, "[)"),
    "feature_warmup": (0.0, 1e9, "[]"),
}
"""The valid range of every numeric field of the core (each policy's module holds its settings' ranges)."""


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
    """Attribute docstrings of CurriculumConfig's fields, a policy's settings as dotted names ("adaptive.retention")."""
    out = {k: v for k, v in attribute_docs(CurriculumConfig).items() if k not in SETTINGS}
    for name, kind in SETTINGS.items():
        out |= {f"{name}.{k}": v for k, v in attribute_docs(kind).items()}
    return out


def field_default(path: str) -> Any:
    """The default of a field by its dotted name."""
    head, _, rest = path.partition(".")
    return getattr(SETTINGS[head](), rest) if rest else getattr(CurriculumConfig(), head)
