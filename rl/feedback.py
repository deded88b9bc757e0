"""Feedback: from TRL's gathered rewards to one `Curriculum.observe_counts` call per generation step.

The rows reach TRL as the dataset holds them (no bookkeeping column): a generation step's rollouts are the oldest
chunk the sampler proposed, in RepeatSampler's layout, so their prompt ids are known (`rollout_ids`); each rank
checks that its rows hold the prompts the sampler put there (`check_rows`, by a 64-bit key of each prompt).
`prepare_train_dataset` checks the 'prompt' column and reads the optional prior column (numbers, or names mapped
to label ids).

`CurriculumGRPOTrainer._calculate_rewards` gets the rewards of every rank (`[N_global, F]`, rank order)
from TRL; then, on every rank, in the same order:

    ids      (N,)  the prompt id of each rollout, rank 0's rows first
    success  (N,)  sum of the weighted rewards >= threshold, or one named verifier reward >= threshold
    valid    (N,)  False where the deciding reward is NaN/None (unscorable rollouts are not observed)
    groups   (B,)  ids[::G]; `pre_pass_rate` (B,) the curriculum's prediction *before* this observation
                   (`predicted_before`: read from the StepReport the observe returned)

The per-step functions are plain Python over lists, except `gather_checks`, which wraps accelerate's
`gather_object` (skipped on one process). Success is a 0/1 label; the core receives each prompt's
counts of scorable rollouts and successes (`Curriculum.observe_counts`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from curriculum import Curriculum, StepReport


# ---- the dataset -------------------------------------------------------------------------------------
def prepare_train_dataset(dataset: Any, prior_column: str | None) -> np.ndarray | None:
    """Check the dataset has prompts; read the prior column (None without one)."""
    if "prompt" not in dataset.column_names:
        raise ValueError(
            f"train_dataset has no 'prompt' column (columns: {dataset.column_names}); rename yours with "
            "dataset.rename_column('question', 'prompt')"
        )
    return read_prior(dataset, prior_column)


def read_prior(dataset: Any, column: str | None) -> np.ndarray | None:
    """The prior column as numbers: strings (source names) become label ids."""
    if column is None:
        return None
    if column not in dataset.column_names:
        raise ValueError(
            f"curriculum_prior_column={column!r} is not a train_dataset column ({dataset.column_names}); "
            "add it or set curriculum_prior_column=None"
        )
    values = list(dataset[column])
    if any(v is None for v in values):
        raise ValueError(f"curriculum_prior_column {column!r} has missing values; fill them (e.g. a median level)")
    arr = np.asarray(values)
    if arr.dtype.kind in "OUS":
        _, arr = np.unique(arr.astype(str), return_inverse=True)  # names -> label ids
    return arr


# ---- one generation step -----------------------------------------------------------------------------
# Plain Python over lists: a step holds tens to a few thousand rollouts, and between the model's passes the
# interpreter is warm while every distinct numpy routine costs several microseconds cold (rl/recipes/overhead.py).
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


def fingerprint(cur: Curriculum, sampler_lag: int) -> str:
    """A cheap digest of the curriculum clock (no O(num_prompts) work) to compare ranks every step."""
    stats = cur.stats()
    text = f"{cur.step}:{cur.proposals}:{stats['ability']!r}:{stats['ability_sd']!r}:{sampler_lag}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def rollout_ids(chunk: Sequence[int], group_size: int) -> list[int]:
    """(N,) the prompt id of each rollout of a generation step, in TRL's global order (rank 0's rows first): the
    chunk the sampler proposed, each id `group_size` times in a row (RepeatSampler's layout, which every rank's
    slice of the generation batch follows)."""
    return [int(i) for i in chunk for _ in range(group_size)]


def check_rows(local_prompts: Sequence[Any], ids: Sequence[int], rank: int, keys: np.ndarray) -> str | None:
    """Why this rank's rows are not the prompts the sampler put at their places (rows `rank * n` to
    `(rank + 1) * n` of the step, n = len(local_prompts)), or None; `keys`: every prompt's key (rl/checkpoint.py).
    Returned, not raised: the ranks exchange it, so all of them stop together."""
    from rl.checkpoint import prompt_key

    n = len(local_prompts)
    if n == 0 or len(ids) % n or rank * n >= len(ids):
        return (
            f"rank {rank} holds {n} rollouts of a generation step of {len(ids)}; the batch is not the chunk the "
            "curriculum proposed (do not override get_train_dataloader or _get_train_sampler)"
        )
    for j, prompt in enumerate(local_prompts):
        if prompt_key(prompt) != int(keys[ids[rank * n + j]]):
            return (
                f"rollout {rank * n + j} of the generation step holds another prompt than the curriculum proposed "
                f"(prompt {ids[rank * n + j]}); batches were reordered between the sampler and the trainer (do not "
                "override get_train_dataloader or _get_train_sampler)"
            )
    return None


def gather_checks(local_fingerprint: str, local_error: str | None, num_processes: int) -> tuple[list[str], list[str]]:
    """Every rank's fingerprint, in rank order, and the rank errors (one collective; none on one process)."""
    if num_processes == 1:
        return [local_fingerprint], [local_error] if local_error else []
    from accelerate.utils import gather_object

    gathered = list(gather_object([(local_fingerprint, local_error)]))
    return [fp for fp, _ in gathered], [err for _, err in gathered if err]


def check_ranks_agree(values: Sequence[str], what: str, step: int) -> None:
    """Raise if the ranks hold different `what` (state fingerprints or hashes) at `step`."""
    if len(set(values)) > 1:
        raise RuntimeError(
            f"curriculum {what} differs across ranks at generation step {step}: {list(values)}; every rank "
            "must see the same observations in the same order (same seed, same dataset, no rank-local "
            "filtering)"
        )
