"""The curriculum as prime-rl's `TaskSampler` (`__next__`, `observe`, `state_dict`, `load_state_dict`, `metrics`), over
the framework-free `CurriculumDriver` (curriculum/driver.py). Numpy only; neither prime-rl nor verifiers is imported
(tests/test_prime_rl.py checks it against fakes of their tasks and episodes).

prime-rl (the orchestrator's curricula, 2026-08; `prime_rl/orchestrator/curriculum/`) hands a sampler the env's tasks
(`verifiers.v1.Task`, each with a unique `key`), takes the next task from `next(sampler)`, and calls
`sampler.observe(group)` with each finalized group: a list of episodes, each with its task and its traces (a reward
each; errors and traces of agents not trained are left out, as prime-rl's own samplers do).

    sampler = CurriculumTaskSampler(tasks, group_size=8, batch_size=64, labels=levels)  # levels: one per task
    task = next(sampler)                          # one of the tasks, as given
    ...                                           # the orchestrator rolls it out, maybe much later
    sampler.observe(group)                        # list[vf.Episode] of that task; any order, one group at a time
    sampler.metrics()                             # {"ability": ..., "pending": ...}: prime-rl adds its namespace
    state = sampler.state_dict(); sampler.load_state_dict(state)

prime-rl's config names its own two samplers only (`standard`, `difficulty_pool`), and its orchestrator builds its
`TrainSource` and loads the checkpoint back to back. `use_curriculum(train_source, batch_size=...)` replaces every
env's sampler of a `TrainSource` with this one over the same tasks (`batch_size`: tasks a step, prime-rl's
`batch_size // group_size`); call it at the end of a `TrainSource` subclass's `__init__` (docs/architecture.md,
"prime-rl").

Any other loop can use the same sampler with plain rows: `tasks` mappings, `next(sampler)` the row with its id under
`id_key`, and `observe({"task_id": id, "rewards": [...]})`.

Tasks are handed out a batch at a time: each `batch_size` tasks are one proposal of the curriculum, and each
`batch_size` groups observed are one step of it. An asynchronous orchestrator that draws ahead gets the proposals
made before the feedback arrives, as the TRL drop-in's loader does (the feedback each proposal goes without shows in
`pending`). A task handed out and never fed back (prime-rl drops stale and overloaded groups without a word) would stay
pending, and the walk never draws a pending task: beyond `max_in_flight` tasks handed out and awaiting feedback, the
oldest are let go (feedback that still comes is folded in). A group that lost rollouts counts those it has. prime-rl
keeps no rollout in flight across a resume, so a loaded state lets the tasks handed out and not fed back go.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from curriculum import CurriculumConfig
from curriculum.checkpoints import pool_fingerprint
from curriculum.driver import CurriculumDriver


class CurriculumTaskSampler:
    def __init__(
        self,
        tasks: Sequence[Any],
        group_size: int,
        batch_size: int,
        labels: Sequence[Any] | None = None,
        config: CurriculumConfig | None = None,
        seed: int = 0,
        success_threshold: float | None = None,
        id_key: str = "task_id",
        features: Any = "auto",
        prompt_key: str = "prompt",
        max_in_flight: int | None = None,
    ) -> None:
        """`tasks`: the pool, prime-rl's tasks (objects with a unique `key`) or one mapping per task; `labels`: a
        difficulty label per task (ints, or names), or None. A rollout succeeds where its reward >= `success_threshold`
        (None: the config's success_threshold). `features`: "auto" (text features of each task's `prompt_key`, read
        from a task's `data` or the mapping, where there are no labels), "text", "none", or an (N, d) array
        (curriculum/text_features.py `adapter_features`). `max_in_flight`: tasks handed out and awaiting feedback kept
        pending at most (None: 8 batches)."""
        if not isinstance(tasks, Sequence):
            raise ValueError("CurriculumTaskSampler needs a finite taskset (a sequence of tasks), as any curriculum")
        if not 1 <= batch_size <= len(tasks):
            raise ValueError(f"batch_size must be in [1, {len(tasks)}] (the tasks), got {batch_size}")
        self.tasks, self.batch_size, self.id_key = tasks, int(batch_size), id_key
        self.max_in_flight = 8 * self.batch_size if max_in_flight is None else int(max_in_flight)
        self._ids = _task_ids(tasks)  # prime-rl's task key -> id; None for mappings
        text = [_prompt_of(t, prompt_key) for t in tasks]
        has_prompts = all(p is not None for p in text)
        identity = (t.get(prompt_key, t) if self._ids is None else t.key for t in tasks)  # other tasks: refused
        self.driver = CurriculumDriver.for_pool(
            len(tasks), group_size, self.batch_size, labels=labels, features=features,
            prompts=(lambda: text) if has_prompts else None, config=config, seed=seed,
            success_threshold=success_threshold,
            pool=pool_fingerprint(identity, canonical=True),
        )  # fmt: skip
        self._queue: deque[int] = deque()  # proposed and not handed out yet

    def __iter__(self) -> CurriculumTaskSampler:
        return self

    def __next__(self) -> Any:
        if not self._queue:
            self.driver.let_go(self._queue, keep=self.max_in_flight)
            self._queue.extend(self.driver.propose(self.batch_size).tolist())
        task_id = self._queue.popleft()
        if self._ids is not None:
            return self.tasks[task_id]
        return {**self.tasks[task_id], self.id_key: task_id}

    def observe(self, group: Any) -> None:
        """One rolled-out group: prime-rl's (a list of episodes of one task), or a mapping (or object) with the task's
        id under `id_key` and its `rewards`."""
        if isinstance(group, Mapping) or (not isinstance(group, Sequence) and hasattr(group, self.id_key)):
            get = group.get if isinstance(group, Mapping) else lambda k: getattr(group, k)
            self.driver.observe_group(int(get(self.id_key)), list(get("rewards")))
            return
        episodes = list(group)
        keys = {episode.task.key for episode in episodes}
        if len(keys) != 1 or self._ids is None or next(iter(keys)) not in self._ids:
            raise ValueError(
                f"a group must hold episodes of one task this sampler handed out; got task keys {sorted(map(str, keys))}"
            )
        rewards = [_episode_reward(e) for e in episodes]
        if len(rewards) > self.driver.group_size:
            raise ValueError(
                f"a group of {len(rewards)} episodes; this sampler was built with group_size={self.driver.group_size}"
            )
        rewards += [None] * (self.driver.group_size - len(rewards))  # rollouts the orchestrator dropped: unscored
        self.driver.observe_group(self._ids[keys.pop()], rewards)

    def metrics(self) -> dict[str, float]:
        """The curriculum's figures, named relative to the sampler (prime-rl puts them under its own namespace)."""
        return {k.removeprefix("curriculum/"): v for k, v in self.driver.metrics().items()}

    def state_dict(self) -> dict[str, Any]:
        return {"driver": self.driver.state_dict(), "queue": np.array(list(self._queue), dtype=np.int64)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.driver.load_state_dict(state["driver"])
        self._queue = deque(int(i) for i in np.asarray(state["queue"]).tolist())
        self.driver.let_go(self._queue)  # handed out before the save, never fed back now: free to be drawn again


def use_curriculum(train_source: Any, batch_size: int, label_of: Any = None, **settings: Any) -> None:
    """Replace the sampler of every env of prime-rl's `TrainSource` with a `CurriculumTaskSampler` over the same tasks:
    `batch_size` tasks a step (prime-rl's `batch_size // group_size`), each env's own `group_size`, `label_of(task)` a
    task's difficulty label (None: no labels), `settings` the sampler's other keywords. Call it before a checkpoint is
    loaded (a `TrainSource` subclass's `__init__`)."""
    for env in train_source.envs:
        tasks = getattr(train_source.curricula[env.name].sampler, "tasks", None)
        if tasks is None:
            raise ValueError(f"env {env.name!r} streams its tasks; a curriculum needs a finite taskset")
        tasks = tuple(tasks)
        labels = None if label_of is None else [label_of(t) for t in tasks]
        train_source.curricula[env.name].sampler = CurriculumTaskSampler(
            tasks, group_size=int(env.config.group_size), batch_size=min(int(batch_size), len(tasks)), labels=labels,
            **settings,
        )  # fmt: skip


def _task_ids(tasks: Sequence[Any]) -> dict[Any, int] | None:
    """prime-rl's tasks by their key (unique, as prime-rl requires); None where the tasks are mappings."""
    if all(isinstance(t, Mapping) for t in tasks):
        return None
    if not all(getattr(t, "key", None) is not None for t in tasks):
        raise ValueError("each task must be a mapping, or an object with a `key` (prime-rl's Task)")
    keys = [t.key for t in tasks]
    twice = sorted(str(k) for k, n in Counter(keys).items() if n > 1)
    if twice:
        raise ValueError(f"task keys must be unique within a taskset: {twice[:5]}")
    return {k: i for i, k in enumerate(keys)}


def _prompt_of(task: Any, prompt_key: str) -> Any:
    """The task's prompt: the mapping's `prompt_key`, else that field of the task's `data` (prime-rl's), else None."""
    if isinstance(task, Mapping):
        return task.get(prompt_key)
    data = getattr(task, "data", None)
    value = data.get(prompt_key) if isinstance(data, Mapping) else getattr(data, prompt_key, None)
    return value if value is not None else getattr(task, prompt_key, None)


def _episode_reward(episode: Any) -> float | None:
    """One rollout's reward: the mean over the episode's trainable traces without an error (prime-rl's episodes), or
    the rollout's own reward (a rollout with `reward`); None where nothing could be scored."""
    traces = getattr(episode, "traces", None)
    parts = [episode] if traces is None else list(traces)
    rewards = [
        float(p.reward)
        for p in parts
        if not getattr(p, "has_error", False) and getattr(getattr(p, "agent", None), "trainable", True)
        and p.reward is not None and not math.isnan(float(p.reward))
    ]  # fmt: skip
    return sum(rewards) / len(rewards) if rewards else None
