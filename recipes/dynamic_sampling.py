"""DAPO-style dynamic sampling, the peer baseline of the ablations: over-generate, drop the groups whose
rewards are all equal (all correct or all wrong: zero advantage), fill the batch with informative groups.

    args = CurriculumGRPOConfig(..., curriculum_policy="uniform", curriculum_fluke_damping="none")
    trainer = DynamicSamplingTrainer(model=..., reward_funcs=[...], args=args, train_dataset=ds)

Each generation step first generates the sampler's batch (B prompts x G). While fewer than B groups are
informative, it draws B more prompts uniformly (a seeded generator: `(seed, step)`) and generates them
too, up to `max_rounds` extra rounds; the batch is then the first B informative groups (topped up with
the batch's own uninformative ones if the rounds run out). Every extra completion is counted in
`discarded_rollouts`, so an equal-budget comparison charges this arm for its over-generation. Only the
sampler's own batch feeds the curriculum. One process only (the extra rounds are not synchronised).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from trl import GRPOTrainer

from rl.trl.trainer import CurriculumGRPOTrainer

_RIGHT_PADDED = (
    "completion_ids",
    "completion_mask",
    "old_per_token_logps",
    "sampling_per_token_logps",
    "ref_per_token_logps",
    "tool_mask",
)
_LEFT_PADDED = ("prompt_ids", "prompt_mask")


class DynamicSamplingTrainer(CurriculumGRPOTrainer):
    def __init__(self, *args: Any, max_rounds: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.accelerator.num_processes > 1:
            raise ValueError("DynamicSamplingTrainer runs on one process only; launch without --num_processes")
        self.max_rounds = int(max_rounds)
        self.discarded_rollouts = 0
        self._extra_round = False
        self._dyn_step = 0

    def curriculum_extra_state(self) -> dict[str, Any]:
        """The discarded rollouts and the extra rounds' step counter go into every checkpoint: a resumed run charges
        its budget, and draws its extra prompts, as the uninterrupted one does."""
        return super().curriculum_extra_state() | {"discarded_rollouts": self.discarded_rollouts, "dyn_step": self._dyn_step}

    def restore_extra_state(self, meta: dict[str, Any]) -> None:
        super().restore_extra_state(meta)
        self.discarded_rollouts = int(meta.get("discarded_rollouts", 0))
        self._dyn_step = int(meta.get("dyn_step", 0))

    def _calculate_rewards(
        self, inputs: list[dict[str, Any]], prompts: list, completions: list, completion_ids_list: list
    ) -> torch.Tensor:
        if self._extra_round:  # extra generations are not the sampler's: they do not feed the curriculum
            return GRPOTrainer._calculate_rewards(self, inputs, prompts, completions, completion_ids_list)
        return super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        out = super()._generate_and_score_completions(inputs)
        if not self.model.training:
            return out
        g = self.num_generations
        b = len(inputs) // g
        pieces = [(out, informative_groups(out["advantages"], g))]
        rng = np.random.default_rng([self.args.seed, self._dyn_step, 0xDA])
        self._dyn_step += 1
        rounds = 0
        self._extra_round = True
        try:
            while sum(int(m.sum()) for _, m in pieces) < b and rounds < self.max_rounds:
                rows = rng.choice(len(self.train_dataset), size=b, replace=False)
                extra = [self.train_dataset[int(i)] for i in rows for _ in range(g)]  # RepeatSampler layout
                o = super()._generate_and_score_completions(extra)
                pieces.append((o, informative_groups(o["advantages"], g)))
                rounds += 1
        finally:
            self._extra_round = False
        self.discarded_rollouts += rounds * b * g
        self._metrics["train"]["dynamic_sampling/extra_rounds"].append(float(rounds))
        kept = sum(int(m.sum()) for _, m in pieces)
        self._metrics["train"]["dynamic_sampling/informative_groups_kept"].append(float(min(kept, b)) / b)
        if rounds == 0:
            return out
        return merge_groups(pieces, b, g, self.processing_class.pad_token_id)


def informative_groups(advantages: torch.Tensor, group_size: int) -> np.ndarray:
    """(B,) whether each group's advantages are not all zero (its rewards were not all equal)."""
    adv = advantages.detach().float().cpu().numpy().reshape(-1, group_size)
    return np.abs(adv).max(axis=1) > 1e-6


def merge_groups(pieces: list[tuple[dict, np.ndarray]], b: int, g: int, pad_id: int) -> dict[str, Any]:
    """The first `b` informative groups across `pieces` (outputs of `_generate_and_score_completions`),
    topped up with the first piece's uninformative groups; tensors re-padded to a common width."""
    chosen: list[tuple[int, int]] = [(p, i) for p, (_, m) in enumerate(pieces) for i in np.flatnonzero(m)][:b]
    if len(chosen) < b:
        chosen += [(0, int(i)) for i in np.flatnonzero(~pieces[0][1])][: b - len(chosen)]
    chosen.sort()
    merged: dict[str, Any] = {}
    for key, first in pieces[0][0].items():
        if key == "num_items_in_batch":
            continue
        if not torch.is_tensor(first) or first.dim() == 0:
            raise ValueError(f"dynamic sampling cannot merge the output field {key!r}")
        parts = []
        for p, i in chosen:
            t = pieces[p][0][key]
            parts.append(t[i * g : (i + 1) * g])
        merged[key] = _cat_padded(parts, key, pad_id)
    merged["num_items_in_batch"] = merged["completion_mask"].sum()
    return merged


def _cat_padded(parts: list[torch.Tensor], key: str, pad_id: int) -> torch.Tensor:
    if parts[0].dim() == 1:
        return torch.cat(parts)
    if key not in _LEFT_PADDED and key not in _RIGHT_PADDED:
        raise ValueError(f"dynamic sampling does not know how {key!r} is padded; it cannot merge it")
    width = max(t.shape[1] for t in parts)
    value = pad_id if key.endswith("_ids") else 0
    padded = []
    for t in parts:
        extra = width - t.shape[1]
        if extra:
            fill = torch.full((t.shape[0], extra, *t.shape[2:]), value, dtype=t.dtype, device=t.device)
            t = torch.cat([fill, t] if key in _LEFT_PADDED else [t, fill], dim=1)
        padded.append(t)
    return torch.cat(padded)
