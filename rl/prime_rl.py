"""The curriculum in prime-rl's shape: a `TaskSampler` (`__next__`, `observe`, `state_dict`, `load_state_dict`,
`metrics`) over the framework-free `CurriculumDriver` (curriculum/driver.py). Numpy only; prime-rl itself is not
imported (tests/test_prime_rl.py checks the protocol without it).

    sampler = CurriculumTaskSampler(tasks, group_size=8, batch_size=64, labels=[t["difficulty"] for t in tasks])
    task = next(sampler)                                       # the task's row, with its id under "task_id"
    ...                                                        # the orchestrator rolls it out, maybe much later
    sampler.observe({"task_id": task["task_id"], "rewards": [1.0, 0.0, ...]})   # any order, one group at a time
    sampler.metrics()                                          # {"curriculum/ability": ..., ...}
    state = sampler.state_dict(); sampler.load_state_dict(state)

Tasks are handed out a batch at a time: each `batch_size` tasks are one proposal of the curriculum, and each
`batch_size` groups observed are one step of it. An asynchronous orchestrator that draws ahead gets the proposals
made before the feedback arrives, as the TRL drop-in's loader does (the feedback each proposal goes without shows in
`curriculum/pending`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from curriculum import CurriculumConfig
from curriculum.checkpoints import pool_fingerprint
from curriculum.driver import CurriculumDriver


class CurriculumTaskSampler:
    def __init__(
        self,
        tasks: Sequence[Mapping[str, Any]],
        group_size: int,
        batch_size: int,
        labels: Sequence[Any] | None = None,
        config: CurriculumConfig | None = None,
        seed: int = 0,
        success_threshold: float | None = None,
        id_key: str = "task_id",
        features: Any = "auto",
        prompt_key: str = "prompt",
    ) -> None:
        """`tasks`: the pool, one mapping per task; `labels`: a difficulty label per task (ints, or names), or None.
        A rollout succeeds where its reward >= `success_threshold` (None: the config's success_threshold).
        `features`: "auto" (text features of each task's `prompt_key` where there are no labels), "text", "none", or
        an (N, d) array (curriculum/text_features.py `adapter_features`)."""
        if not 1 <= batch_size <= len(tasks):
            raise ValueError(f"batch_size must be in [1, {len(tasks)}] (the tasks), got {batch_size}")
        has_prompts = all(prompt_key in t for t in tasks)
        prompts = (lambda: [t[prompt_key] for t in tasks]) if has_prompts else None
        self.tasks, self.batch_size, self.id_key = tasks, int(batch_size), id_key
        self.driver = CurriculumDriver.for_pool(
            len(tasks), group_size, self.batch_size, labels=labels, features=features, prompts=prompts,
            config=config, seed=seed, success_threshold=success_threshold,
            pool=pool_fingerprint((t.get(prompt_key, t) for t in tasks), canonical=True),  # other tasks: refused
        )  # fmt: skip
        self._queue: deque[int] = deque()  # proposed and not handed out yet

    def __iter__(self) -> CurriculumTaskSampler:
        return self

    def __next__(self) -> dict[str, Any]:
        if not self._queue:
            self._queue.extend(self.driver.propose(self.batch_size).tolist())
        task_id = self._queue.popleft()
        return {**self.tasks[task_id], self.id_key: task_id}

    def observe(self, group: Any) -> None:
        """One rolled-out group: a mapping (or object) with the task's id under `id_key` and its `rewards`."""
        get = group.get if isinstance(group, Mapping) else lambda k: getattr(group, k)
        self.driver.observe_group(int(get(self.id_key)), list(get("rewards")))

    def metrics(self) -> dict[str, float]:
        return self.driver.metrics()

    def state_dict(self) -> dict[str, Any]:
        return {"driver": self.driver.state_dict(), "queue": np.array(list(self._queue), dtype=np.int64)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.driver.load_state_dict(state["driver"])
        self._queue = deque(int(i) for i in np.asarray(state["queue"]).tolist())
