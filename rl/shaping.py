"""Fluke damping: rescale GRPO advantages so a lucky lone success cannot dominate a batch.

With binary rewards and group-std normalisation, the only success among G rollouts gets advantage
about sqrt(G - 1) (+1.5 for G=4, +3.9 for G=16), the largest of the batch, against ~1 for a success
at pass rate 0.5. On a prompt the model almost never solves, that success is most likely luck (or a
verifier false positive). Rewards cannot fix it (group normalisation is scale invariant), so these
functions act on the advantages, after TRL computed them:

- "none"       advantages untouched (plain GRPO).
- "posterior"  history-aware. For a group with exactly one success, take the curriculum's prediction
               of the prompt's pass rate *before* this group was observed, p. The group was expected
               to hold G*p successes; if that is below one, the success is scaled by
               w = clip(G * p, floor, 1): it counts as much as the history expected. Only the success's
               positive advantage shrinks; the failures keep theirs; unsurprising groups (G*p >= 1),
               unseen prompts predicted within reach, and all other groups are untouched.
- "cap"        history-blind: advantages clipped to [-cap, cap].

    w = make_shaper("posterior", cap=1.0, floor=0.1)
    new_adv = w(adv, success, group_successes, pre_pass_rate, group_size)   # adv: (N,) numpy, global order

`lone_success_share(adv, group_successes, G)`: the share of the batch's total |advantage| carried by
groups with exactly one success (logged before and after shaping).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

FLUKE_MODES = ("none", "posterior", "cap")

Shaper = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, int], np.ndarray]
"""(advantages (N,), success (N,) bool, group_successes (B,), pre_pass_rate (B,) or None, group_size) -> (N,)
pre_pass_rate is only read (and only computed by the trainer) in "posterior" mode."""


def lone_success_weight(
    group_successes: np.ndarray, pre_pass_rate: np.ndarray, group_size: int, floor: float
) -> np.ndarray:
    """(B,) factor for the success of each group: clip(G * p, floor, 1) where the group has exactly one
    success, 1 elsewhere."""
    expected = group_size * np.asarray(pre_pass_rate, dtype=np.float64)  # (B,) successes the history expected
    weight = np.clip(expected, floor, 1.0)
    return np.where(np.asarray(group_successes) == 1, weight, 1.0)


def posterior_damping(
    advantages: np.ndarray,
    success: np.ndarray,
    group_successes: np.ndarray,
    pre_pass_rate: np.ndarray,
    group_size: int,
    floor: float,
) -> np.ndarray:
    """Scale the positive advantage of each lone success by `lone_success_weight`."""
    weight = lone_success_weight(group_successes, pre_pass_rate, group_size, floor)  # (B,)
    scale = np.where(np.asarray(success, dtype=bool), np.repeat(weight, group_size), 1.0)  # (N,) success rows
    return np.where(advantages > 0, advantages * scale, advantages).astype(advantages.dtype)


def cap_advantages(advantages: np.ndarray, cap: float) -> np.ndarray:
    """Plain clip to [-cap, cap]."""
    return np.clip(advantages, -cap, cap)


def make_shaper(mode: str, cap: float, floor: float) -> Shaper:
    """The shaping function of `mode`, chosen once (the mode string is never checked in the hot loop)."""
    if mode not in FLUKE_MODES:
        raise ValueError(f"fluke damping mode {mode!r} is not one of {FLUKE_MODES}")
    if mode == "none":
        return lambda adv, success, group_successes, pre, g: adv
    if mode == "cap":
        return lambda adv, success, group_successes, pre, g: cap_advantages(adv, cap)
    return lambda adv, success, group_successes, pre, g: posterior_damping(
        adv, success, group_successes, pre, g, floor
    )


def lone_success_share(advantages: np.ndarray, group_successes: np.ndarray, group_size: int) -> float:
    """Share of total |advantage| carried by groups with exactly one success (NaN when all are zero)."""
    magnitude = np.abs(np.asarray(advantages, dtype=np.float64)).reshape(-1, group_size).sum(axis=1)  # (B,)
    total = float(magnitude.sum())
    if total == 0.0:
        return math.nan
    return float(magnitude[np.asarray(group_successes) == 1].sum() / total)
