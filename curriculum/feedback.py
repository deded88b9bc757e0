"""Feedback from any trainer, framework-free: rewards -> success labels -> the counts the core observes.

A generation step holds N rollouts, G per prompt (a group), in groups of consecutive rows:

    ids      (N,)  the prompt id of each rollout (`rollout_ids(chunk, G)`: each id G times in a row)
    success  (N,)  `success_labels`: the weighted sum of the rewards >= threshold, or one named reward >= threshold
    valid    (N,)  False where the deciding reward is NaN/None (unscorable rollouts are not observed)

`Observation(ids, success, valid, G).sorted_counts()` gives what `Curriculum.observe_counts` takes. Plain Python
over lists: a step holds tens to a few thousand rollouts, and between a model's passes the interpreter is warm while
every distinct numpy routine costs several microseconds cold. The TRL drop-in (rl/trl/feedback.py) and the driver for
any loop (curriculum/driver.py) both use these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .core import StepReport


@dataclass(frozen=True)
class Observation:
    """One generation step's results, global and identical on every rank; lists, one entry per rollout."""

    ids: list[int]  # (N,) prompt id of each rollout
    success: list[bool]  # (N,) False where not valid
    valid: list[bool]  # (N,) False for unscorable rollouts
    group_size: int

    @property
    def group_ids(self) -> list[int]:
        return self.ids[:: self.group_size]  # (B,)

    def group_successes(self) -> list[int]:
        """(B,) successes of each group (unscorable rollouts never count)."""
        return self._per_group([s and v for s, v in zip(self.success, self.valid, strict=True)])

    def group_rollouts(self) -> list[int]:
        """(B,) scorable rollouts of each group (what the curriculum observes of it)."""
        return self._per_group(self.valid)

    def _per_group(self, flags: list[bool]) -> list[int]:
        """(B,) how many of each group's rollouts are flagged."""
        return [sum(flags[i : i + self.group_size]) for i in range(0, len(flags), self.group_size)]

    def sorted_counts(self, group_successes: list[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, rollouts, successes), (U,) int64 each, of the groups with a scorable rollout, sorted by prompt id:
        what `Curriculum.observe_counts` would make of this step (the groups' prompts are distinct)."""
        successes = self.group_successes() if group_successes is None else group_successes
        ids, rollouts = self.group_ids, self.group_rollouts()
        order = sorted((i for i in range(len(ids)) if rollouts[i]), key=ids.__getitem__)
        return (
            np.array([ids[i] for i in order], dtype=np.int64),
            np.array([rollouts[i] for i in order], dtype=np.int64),
            np.array([successes[i] for i in order], dtype=np.int64),
        )


def success_labels(
    rewards_per_func: Any,
    func_names: Sequence[str],
    weights: Sequence[float],
    threshold: float,
    success_reward: str | None,
) -> tuple[list[bool], list[bool]]:
    """(success, valid), each a list of N bools, from rewards (N, F) as TRL gathers them (nested lists or an
    array; NaN: a function gave None).

    success_reward=None: the weighted sum of the non-NaN rewards (TRL's scalar reward) >= threshold; a row
    is valid unless every function gave NaN. A named function: its reward >= threshold; valid unless NaN.
    An infinite reward is a bug in its function: ValueError naming it."""
    rows = rewards_per_func.tolist() if hasattr(rewards_per_func, "tolist") else rewards_per_func
    success: list[bool] = []
    valid: list[bool] = []
    if success_reward is None:
        weights = [float(w) for w in weights]
        for row in rows:
            total, scored = 0.0, False
            for w, r in zip(weights, row, strict=True):
                if r == r:  # r != r only for NaN
                    total += w * r
                    scored = True
            if total in (_INF, -_INF) or total != total:  # nan here: +inf and -inf met
                _refuse_infinite(row, func_names)
            valid.append(scored)
            success.append(scored and total >= threshold)
        return success, valid
    j = list(func_names).index(success_reward)
    for row in rows:
        r = row[j]
        if r in (_INF, -_INF):
            _refuse_infinite(row, func_names)
        valid.append(r == r)
        success.append(r == r and r >= threshold)
    return success, valid


_INF = float("inf")


def _refuse_infinite(row: Sequence[float], func_names: Sequence[str]) -> None:
    names = [name for name, r in zip(func_names, row, strict=True) if r in (_INF, -_INF)]
    raise ValueError(
        f"reward function(s) {names} returned an infinite reward; return a finite number (or None "
        "for a completion it cannot score)"
    )


def predicted_before(report: StepReport, group_ids: Sequence[int]) -> list[float]:
    """(B,) the pass rate the curriculum predicted for each group's prompt just before the observe that returned
    `report`; 1.0 for a group it did not observe (no scorable rollout: no success to damp)."""
    lookup = dict(zip(report.ids.tolist(), report.predicted.tolist(), strict=True))  # (U,) sorted ids -> prediction
    return [lookup.get(g, 1.0) for g in group_ids]


def rollout_ids(chunk: Sequence[int], group_size: int) -> list[int]:
    """(N,) the prompt id of each rollout of a generation step, in TRL's global order (rank 0's rows first): the
    chunk the sampler proposed, each id `group_size` times in a row (RepeatSampler's layout, which every rank's
    slice of the generation batch follows)."""
    return [int(i) for i in chunk for _ in range(group_size)]


def label_ids(labels: Sequence[Any] | None) -> np.ndarray | None:
    """Difficulty labels as the core's prior: numbers as given, names (strings) as label ids (their sorted order)."""
    if labels is None:
        return None
    values = list(labels)
    if any(v is None for v in values):
        raise ValueError("difficulty labels have missing values; fill them (e.g. a median level) or pass no labels")
    arr = np.asarray(values)
    if arr.dtype.kind in "OUS":
        _, arr = np.unique(arr.astype(str), return_inverse=True)
    return arr
