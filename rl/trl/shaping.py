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

    shaper = make_shaper("posterior", cap=1.0, floor=0.1)
    new_adv = shaper(adv, success, group_successes, pre_pass_rate, group_size)   # adv: (N,) numpy, global order

    # in two phases, as the trainer does: plan while the success labels are fresh (numpy), apply later
    factor = shaper.plan(success, group_successes, pre_pass_rate, group_size)    # (N,) or None
    new_adv = shaper.apply(adv, factor)       # numpy arrays or torch tensors (factor of the same kind)

`lone_success_share(adv, group_successes, G)`: the share of the batch's total |advantage| carried by
groups with exactly one success (logged before and after shaping); numpy or torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch

from curriculum.config import check_choice
from rl.trl.modes import FLUKE_MODES


def lone_success_weight(group_successes: np.ndarray, pre_pass_rate: np.ndarray, group_size: int, floor: float) -> np.ndarray:
    """(B,) factor for the success of each group: clip(G * p, floor, 1) where the group has exactly one
    success, 1 elsewhere."""
    expected = group_size * np.asarray(pre_pass_rate, dtype=np.float64)  # (B,) successes the history expected
    weight = np.clip(expected, floor, 1.0)
    return np.where(np.asarray(group_successes) == 1, weight, 1.0)


def positive_factor(
    success: np.ndarray, group_successes: np.ndarray, pre_pass_rate: np.ndarray, group_size: int, floor: float
) -> np.ndarray:
    """(N,) factor on each rollout's advantage where it is positive: `lone_success_weight` on the success
    of a lone-success group, 1 elsewhere."""
    weight = lone_success_weight(group_successes, pre_pass_rate, group_size, floor)  # (B,)
    return np.where(np.asarray(success, dtype=bool), np.repeat(weight, group_size), 1.0)  # (N,)


def scale_positive(advantages: Any, factor: Any) -> Any:
    """advantages * factor where the advantage is positive, unchanged elsewhere; numpy arrays or torch tensors
    (factor of the same kind, broadcastable; None: all ones)."""
    if factor is None:
        return advantages
    if isinstance(advantages, torch.Tensor):
        return torch.where(advantages > 0, advantages * factor, advantages)
    return np.where(advantages > 0, advantages * factor, advantages).astype(advantages.dtype)


def cap_advantages(advantages: Any, cap: float) -> Any:
    """Plain clip to [-cap, cap] (numpy or torch)."""
    return advantages.clip(-cap, cap)


class Shaper(NamedTuple):
    """One mode's damping in two phases: `plan(success, group_successes, pre_pass_rate, group_size)` -> (N,)
    factor or None (numpy, from the step's success labels; pre_pass_rate is only read, and only computed by the
    trainer, in "posterior" mode), then `apply(advantages, factor)` (numpy or torch, factor of the same kind).
    Calling it does both at once on numpy arrays."""

    plan: Callable[[np.ndarray, np.ndarray, np.ndarray | None, int], np.ndarray | None]
    apply: Callable[[Any, Any], Any]

    def __call__(
        self,
        advantages: np.ndarray,
        success: np.ndarray,
        group_successes: np.ndarray,
        pre_pass_rate: np.ndarray | None,
        group_size: int,
    ) -> np.ndarray:
        return self.apply(advantages, self.plan(success, group_successes, pre_pass_rate, group_size))


def make_shaper(mode: str, cap: float, floor: float) -> Shaper:
    """The `Shaper` of `mode`, chosen once (the mode string is never checked in the hot loop)."""
    check_choice("fluke damping mode", mode, FLUKE_MODES)
    no_plan = lambda success, group_successes, pre, g: None
    if mode == "none":
        return Shaper(plan=no_plan, apply=lambda adv, factor: adv)
    if mode == "cap":
        return Shaper(plan=no_plan, apply=lambda adv, factor: cap_advantages(adv, cap))

    def plan(success: Any, group_successes: Any, pre: Any, g: int) -> np.ndarray | None:
        if 1 not in list(group_successes):  # plain Python on the few groups of a step
            return None  # no lone success: every factor would be 1
        return positive_factor(success, group_successes, pre, g, floor)

    return Shaper(plan=plan, apply=scale_positive)


def lone_success_share(advantages: Any, group_successes: Any, group_size: int) -> Any:
    """Share of total |advantage| carried by groups with exactly one success (NaN when all are zero).

    advantages (N,) -> a float; (R, N), e.g. before and after shaping stacked -> (R,), one pass for all rows.
    numpy arrays (or anything np.asarray takes) or torch tensors (group_successes (B,) of the same kind)."""
    if not isinstance(advantages, torch.Tensor):
        advantages, group_successes = np.asarray(advantages, dtype=np.float64), np.asarray(group_successes)
    magnitude = abs(advantages).reshape(*advantages.shape[:-1], -1, group_size).sum(-1)  # (..., B)
    lone = magnitude[..., group_successes == 1].sum(-1)  # (...,)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = lone / magnitude.sum(-1)  # 0 / 0 -> NaN
    return float(share) if advantages.ndim == 1 else share
