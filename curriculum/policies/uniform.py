"""`UniformPolicy`: an epoch-wise shuffle of the whole pool, what plain GRPO does. O(k) per call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from curriculum.permutation import derive_key
from curriculum.statecheck import POSITION_MAX, read_int
from curriculum.streams import Stream

from .base import ACTIVE, UNSEEN, AbilityUpdate, Assignment, BasePolicy, PolicyView


class UniformPolicy(BasePolicy):
    name = "uniform"
    streamable: ClassVar[bool] = True

    def __init__(self, view: PolicyView, settings: Any = None) -> None:
        super().__init__(view, settings)
        self.stream = Stream(view.num_prompts, derive_key(view.seed, 0x0F))

    def propose(self, view: PolicyView, k: int, rng: np.random.Generator) -> np.ndarray:
        return self.stream.take(k)

    def after_observe(self, view: PolicyView, uniq: np.ndarray, update: AbilityUpdate) -> Assignment:
        """Nothing to judge: every prompt stays in the draw (prompts observed without a proposal join it)."""
        joining = uniq[view.status[uniq] == UNSEEN]
        return joining, np.full(joining.size, ACTIVE)

    def state_dict(self) -> dict[str, Any]:
        return {"policy_cursor": self.stream.cursor}

    def check_state(self, sd: Mapping[str, Any]) -> None:
        read_int(sd, "policy_cursor", high=POSITION_MAX)

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        self.stream.cursor = int(sd["policy_cursor"])
