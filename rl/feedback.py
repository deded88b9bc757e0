"""Feedback: from TRL's gathered rewards to one `Curriculum.observe` call per generation step.

The prompt id reaches the trainer as a hidden dataset column: `prepare_train_dataset` adds
"__curriculum_id" (the row index) to the train dataset; GRPOConfig keeps unused columns, so every
input row of `_calculate_rewards` carries it (reward functions see it as one more keyword argument).
It also rejects what the curriculum cannot sample (no 'prompt' column, an IterableDataset) and reads
the optional prior column (numbers, or names mapped to label ids).

`CurriculumGRPOTrainer._calculate_rewards` gets the rewards of every rank (`[N_global, F]`, rank order)
from TRL and gathers the matching prompt ids itself; then, on every rank, in the same order:

    ids      (N,)  hidden "__curriculum_id" column of each rollout, rank 0's rows first
    success  (N,)  sum of the weighted rewards >= threshold, or one named verifier reward >= threshold
    valid    (N,)  False where the deciding reward is NaN/None (unscorable rollouts are not observed)
    groups   (B,)  ids[::G]; `pre_pass_rate` (B,) the curriculum's prediction *before* this observation
                   (`predicted_before`: read from the core's calibration record after the observe)

The per-step functions are numpy only, except `gather_ids`, which wraps accelerate's `gather_object`
(a no-op on one process). Success is a 0/1 label; the core receives 0/1 rewards, so
its own `success_threshold` (0.5) only reads those labels.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from curriculum import Curriculum

ID_COLUMN = "__curriculum_id"
"""Hidden dataset column holding each row's index: how a rollout's prompt id reaches the trainer."""


# ---- the dataset -------------------------------------------------------------------------------------
def prepare_train_dataset(dataset: Any, prior_column: str | None) -> tuple[Any, np.ndarray | None]:
    """Check the dataset, add the hidden id column, read the prior column: (dataset, prior or None)."""
    import datasets
    import torch

    if dataset is None:
        raise ValueError(
            "CurriculumGRPOTrainer needs a train_dataset (a datasets.Dataset with a 'prompt' column)"
        )
    if isinstance(dataset, datasets.IterableDataset | torch.utils.data.IterableDataset):
        raise TypeError(
            "train_dataset is an IterableDataset: the curriculum must pick any prompt by index. Load it "
            "without streaming=True, or materialise it with datasets.Dataset.from_generator(...) / "
            "Dataset.from_list(...)"
        )
    if not isinstance(dataset, datasets.Dataset):
        raise TypeError(f"train_dataset must be a datasets.Dataset, got {type(dataset).__name__}")
    if "prompt" not in dataset.column_names:
        raise ValueError(
            f"train_dataset has no 'prompt' column (columns: {dataset.column_names}); rename yours with "
            "dataset.rename_column('question', 'prompt')"
        )
    if ID_COLUMN in dataset.column_names:
        if not np.array_equal(np.asarray(dataset[ID_COLUMN]), np.arange(len(dataset))):
            raise ValueError(f"train_dataset column {ID_COLUMN!r} is reserved for row indices; drop it")
    else:
        dataset = dataset.add_column(ID_COLUMN, np.arange(len(dataset), dtype=np.int64))
    return dataset, read_prior(dataset, prior_column)


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
        raise ValueError(
            f"curriculum_prior_column {column!r} has missing values; fill them (e.g. a median level)"
        )
    arr = np.asarray(values)
    if arr.dtype.kind in "OUS":
        _, arr = np.unique(arr.astype(str), return_inverse=True)  # names -> label ids
    return arr


# ---- one generation step -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Observation:
    """One generation step's results, global and identical on every rank."""

    ids: np.ndarray  # (N,) int64 prompt id of each rollout
    success: np.ndarray  # (N,) bool, False where not valid
    valid: np.ndarray  # (N,) bool, False for unscorable rollouts
    group_size: int

    @property
    def group_ids(self) -> np.ndarray:
        return self.ids[:: self.group_size]  # (B,)

    def group_successes(self) -> np.ndarray:
        return (self.success & self.valid).reshape(-1, self.group_size).sum(axis=1)  # (B,)


def success_labels(
    rewards_per_func: np.ndarray,
    func_names: Sequence[str],
    weights: np.ndarray,
    threshold: float,
    success_reward: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(success, valid), each (N,) bool, from rewards (N, F) as TRL gathers them (NaN: a function gave None).

    success_reward=None: the weighted sum of the non-NaN rewards (TRL's scalar reward) >= threshold; a row
    is valid unless every function gave NaN. A named function: its reward >= threshold; valid unless NaN."""
    rewards = np.asarray(rewards_per_func, dtype=np.float64)  # (N, F)
    if success_reward is None:
        missing = np.isnan(rewards)  # (N, F)
        valid = ~missing.all(axis=1)
        total = np.where(missing, 0.0, rewards) @ np.asarray(weights, dtype=np.float64)  # (N,) nansum, cheaper
        return (total >= threshold) & valid, valid
    column = rewards[:, list(func_names).index(success_reward)]  # (N,)
    valid = ~np.isnan(column)
    return (np.nan_to_num(column, nan=-math.inf) >= threshold) & valid, valid


def predicted_before(cur: Curriculum, group_ids: np.ndarray) -> np.ndarray:
    """(B,) the pass rate the curriculum predicted for each group's prompt just before its last `observe` (the
    core's calibration record, computed there anyway); 1.0 for a group it did not observe (no scorable
    rollout: no success to damp)."""
    uniq, before, _ = cur.last_calibration  # (U,) sorted ids, (U,) predictions
    if uniq.size == 0:
        return np.ones(group_ids.size)
    pos = np.minimum(np.searchsorted(uniq, group_ids), uniq.size - 1)  # (B,)
    return np.where(uniq[pos] == group_ids, before[pos], 1.0)


def check_scorable(
    valid: np.ndarray, func_names: Sequence[str], success_reward: str | None, step: int
) -> None:
    """Raise when no rollout of a generation step could be scored: a broken verifier, nothing to learn."""
    if valid.size and not valid.any():
        source = (
            f"reward function {success_reward!r}"
            if success_reward
            else f"every reward function {list(func_names)}"
        )
        raise ValueError(
            f"{source} returned None/NaN for all {valid.size} completions of generation step {step}; the "
            "curriculum cannot tell success from failure. Make the verifier return a number (0.0 for a wrong "
            "answer), or set curriculum_success_reward to a reward function that always scores"
        )


def check_groups(ids: np.ndarray, group_size: int) -> None:
    """Each run of `group_size` rollouts must share one prompt id (TRL's layout)."""
    if ids.size % group_size:
        raise RuntimeError(f"{ids.size} rollouts do not split into groups of num_generations={group_size}")
    grouped = ids.reshape(-1, group_size)  # (B, G)
    if not (grouped == grouped[:, :1]).all():
        raise RuntimeError(
            "rollouts of one group carry different prompt ids; the sampler layout was not TRL's"
        )


def fingerprint(cur: Curriculum, sampler_lag: int) -> str:
    """A cheap digest of the curriculum clock (no O(num_prompts) work) to compare ranks every step."""
    stats = cur.stats()
    text = f"{cur.step}:{cur.proposals}:{stats['ability']!r}:{stats['ability_sd']!r}:{sampler_lag}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def gather_ids(local_ids: Sequence[int], local_fingerprint: str) -> tuple[np.ndarray, list[str]]:
    """Every rank's prompt ids, in rank order, plus every rank's fingerprint (one collective)."""
    from accelerate.utils import gather_object

    gathered: list[Any] = gather_object([(list(map(int, local_ids)), local_fingerprint)])
    ids = np.array([i for part, _ in gathered for i in part], dtype=np.int64)
    return ids, [fp for _, fp in gathered]


def check_ranks_agree(values: Sequence[str], what: str, step: int) -> None:
    """Raise if the ranks hold different `what` (state fingerprints or hashes) at `step`."""
    if len(set(values)) > 1:
        raise RuntimeError(
            f"curriculum {what} differs across ranks at generation step {step}: {list(values)}; every rank "
            "must see the same observations in the same order (same seed, same dataset, no rank-local "
            "filtering)"
        )
