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

The framework-free part (`Observation`, `success_labels`, `predicted_before`, `rollout_ids`) is in
curriculum/feedback.py, shared with any other loop; here is what is TRL's or accelerate's: the HF dataset's columns,
the per-rank row check, and `gather_checks`, which wraps accelerate's `gather_object` (skipped on one process).
Success is a 0/1 label; the core receives each prompt's counts of scorable rollouts and successes
(`Curriculum.observe_counts`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from curriculum import Curriculum
from curriculum.checkpoints import prompt_key
from curriculum.feedback import Observation, label_ids, predicted_before, rollout_ids, success_labels

__all__ = [  # the framework-free part lives in curriculum/feedback.py; the trainer imports it from here too
    "Observation",
    "check_ranks_agree",
    "check_rows",
    "fingerprint",
    "gather_checks",
    "predicted_before",
    "prepare_train_dataset",
    "read_prior",
    "rollout_ids",
    "success_labels",
]


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
    return label_ids(values)


# ---- one generation step: framework-free, in curriculum/feedback.py ----------------------------------------
def fingerprint(cur: Curriculum, sampler_lag: int) -> str:
    """A cheap digest of the curriculum clock (no O(num_prompts) work) to compare ranks every step."""
    stats = cur.stats()
    text = f"{cur.step}:{cur.proposals}:{stats['ability']!r}:{stats['ability_sd']!r}:{sampler_lag}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def check_rows(local_prompts: Sequence[Any], ids: Sequence[int], rank: int, keys: np.ndarray) -> str | None:
    """Why this rank's rows are not the prompts the sampler put at their places (rows `rank * n` to
    `(rank + 1) * n` of the step, n = len(local_prompts)), or None; `keys`: every prompt's key (`prompt_key`).
    Returned, not raised: the ranks exchange it, so all of them stop together."""
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
