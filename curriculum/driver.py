"""CurriculumDriver: the curriculum for any training loop, framework-free (numpy only).

What every trainer integration needs besides the core, once: prompts handed out and awaiting feedback (the core's
`pending`), rewards turned into success labels (`curriculum/feedback.py`: the same rule as the TRL drop-in), groups
folded in one step at a time (a step is what the core's half-lives count), and one state for checkpoints.

    driver = CurriculumDriver(Curriculum(N, config, prior=labels), group_size=8)
    driver = CurriculumDriver.for_pool(N, group_size=8, step_groups=16, labels=labels)  # or: as the adapters build it
    ids = driver.propose(16)                # 16 distinct prompt ids to generate for
    ...                                     # 8 completions each, scored by your verifier
    report = driver.feedback(ids, rewards)  # rewards (16 * 8,) or (16 * 8, F), grouped by prompt in ids' order;
                                            # None/NaN: a rollout that could not be scored
    sd = driver.state_dict()                # numpy arrays and plain values: np.savez, torch.save, pickle
    driver.load_state_dict(sd)
    driver.save(folder); driver.load(folder)  # or as files: driver_state.npz + .json, no pickle, hash-checked
    mark_complete(folder)                   # crash-safe checkpoint-* folders: curriculum/checkpoints.py

`CurriculumDriver(..., pool=pool_fingerprint(prompts, canonical=True))` keeps the pool's identity in the state: a
state made on other prompts, or on the same ones reordered, is refused naming the fix.

A loop that gets its groups back one at a time, in any order (an asynchronous orchestrator), calls
`observe_group(prompt_id, rewards)`: the groups are folded in as one step each time `step_groups` of them have
arrived (`flush()` folds in what is there). `rl/prime_rl.py` is prime-rl's `TaskSampler` over this driver;
`examples/plain_loop.py` a hand-written GRPO loop.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoints import check_pool
from .config import CurriculumConfig
from .core import Curriculum, StepReport, state_hash
from .feedback import Observation, label_ids, rollout_ids, success_labels
from .statefile import read_state, write_state
from .text_features import adapter_features

STATE_NPZ, STATE_JSON = "driver_state.npz", "driver_state.json"
FORMAT, FORMAT_VERSION = "rlvr-curriculum-driver", 1


class CurriculumDriver:
    def __init__(
        self,
        curriculum: Curriculum,
        group_size: int,
        success_threshold: float | None = None,
        reward_weights: Sequence[float] | None = None,
        success_reward: int | None = None,
        step_groups: int | None = None,
        pool: Mapping[str, Any] | None = None,
    ) -> None:
        """`group_size`: rollouts per prompt. A rollout succeeds where its reward (the weighted sum of its F rewards,
        or reward `success_reward` alone) is >= `success_threshold` (None: the curriculum config's). `step_groups`:
        for `observe_group`, how many groups make one step of the core (None: as many as the last `propose` asked
        for). `pool`: the pool's identity (`curriculum.checkpoints.pool_fingerprint(prompts, canonical=True)`), saved
        with the state and checked when one is loaded (None: not checked, and a loaded state's is kept)."""
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
            raise ValueError(f"group_size must be an int >= 1, got {group_size!r}")
        if step_groups is not None and (not isinstance(step_groups, int) or step_groups < 1):
            raise ValueError(f"step_groups must be an int >= 1 or None, got {step_groups!r}")
        self.curriculum = curriculum
        self.group_size = group_size
        threshold = curriculum.config.success_threshold if success_threshold is None else success_threshold
        self.success_threshold = float(threshold)
        self.reward_weights = None if reward_weights is None else [float(w) for w in reward_weights]
        self.success_reward = success_reward
        self.step_groups = step_groups
        self._last_k = 0
        self._buffer: list[tuple[int, int, int]] = []  # (prompt id, scorable rollouts, successes) awaiting a step
        self.groups_observed = 0
        self.pool = None if pool is None else dict(pool)

    @classmethod
    def for_pool(
        cls,
        num_prompts: int,
        group_size: int,
        step_groups: int,
        *,
        labels: Sequence[Any] | None = None,
        features: Any = "auto",
        prompts: Callable[[], Sequence[Any]] | None = None,
        config: CurriculumConfig | None = None,
        seed: int = 0,
        success_threshold: float | None = None,
        pool: Mapping[str, Any] | None = None,
    ) -> CurriculumDriver:
        """A driver over a new curriculum of `num_prompts` prompts, as every integration builds one: `labels` a
        difficulty label per prompt (ints or names: `label_ids`), or None; `features` by the integrations' rule
        (`adapter_features`: "auto" is text features of `prompts()` where there are no labels); the adaptive policy
        unless `config` says otherwise."""
        prior = label_ids(labels)
        table = adapter_features(features, prior is not None, prompts)
        config = config or CurriculumConfig(policy="adaptive")
        curriculum = Curriculum(num_prompts, config, seed=seed, prior=prior, features=table)
        return cls(curriculum, group_size, success_threshold, step_groups=step_groups, pool=pool)

    # ---- handing prompts out ------------------------------------------------------------------------
    def propose(self, k: int) -> np.ndarray:
        """(k,) int64: distinct prompt ids to generate for next; each awaits its feedback (`pending`)."""
        ids = self.curriculum.propose(k)
        self._last_k = int(k)
        return ids

    @property
    def pending(self) -> np.ndarray:
        """The prompt ids handed out and not fed back yet, oldest first (the core's list: there is one)."""
        return self.curriculum.pending

    def let_go(self, not_handed_out: Sequence[int] = (), keep: int = 0) -> None:
        """Of the prompts handed out and awaiting feedback (`pending`, less `not_handed_out`: proposals an adapter
        still holds), oldest first, all but the newest `keep` leave `pending`: their feedback will not come (a resumed
        run, an orchestrator that dropped them), and the walk never draws a pending prompt. Feedback that still comes
        is folded in."""
        pending = self.curriculum.pending
        out = pending[~np.isin(pending, np.asarray(list(not_handed_out), dtype=np.int64))]
        if out.size > keep:
            self.curriculum.release(out[: out.size - keep])

    # ---- feedback -----------------------------------------------------------------------------------
    def successes(self, rewards: Any) -> tuple[list[bool], list[bool]]:
        """(success, valid) per rollout from rewards (N,) or (N, F); None/NaN: unscorable (valid False)."""
        rows = _rows(rewards)
        width = len(rows[0]) if rows else 1
        weights = self.reward_weights if self.reward_weights is not None else [1.0] * width
        if len(weights) != width:
            raise ValueError(f"{len(weights)} reward_weights for rewards with {width} columns")
        names = [str(j) for j in range(width)]
        chosen = None if self.success_reward is None else names[self.success_reward]
        return success_labels(rows, names, weights, self.success_threshold, chosen)

    def feedback(self, prompt_ids: Sequence[int], rewards: Any) -> StepReport:
        """One step: the groups of `prompt_ids` (distinct, each `group_size` rollouts in a row, in that order) with
        their rewards. Groups with no scorable rollout leave `pending` unlearned (proposed again later); the rest
        are folded in as one step. Returns what the step learned (the prediction made before each group)."""
        ids = [int(i) for i in np.asarray(prompt_ids).reshape(-1)]
        rows = _rows(rewards)
        if len(rows) != len(ids) * self.group_size:
            raise ValueError(
                f"{len(rows)} rewards for {len(ids)} prompts of {self.group_size} rollouts each; pass one reward (or "
                "one row of rewards) per rollout, grouped by prompt in the order of prompt_ids"
            )
        success, valid = self.successes(rows)
        obs = Observation(ids=rollout_ids(ids, self.group_size), success=success, valid=valid, group_size=self.group_size)
        report = self.curriculum.observe_counts(*obs.sorted_counts())
        unscored = [i for i, n in zip(ids, obs.group_rollouts(), strict=True) if n == 0]
        self.curriculum.release(np.asarray(unscored, dtype=np.int64))  # proposed again later
        self.groups_observed += len(ids)
        return report

    def observe_group(self, prompt_id: int, rewards: Sequence[Any]) -> StepReport | None:
        """One group's rewards (group_size of them, or rows of F), in any order relative to the others; folded in as
        one step once `step_groups` groups are here (then the step's report is returned, else None)."""
        if len(rewards) != self.group_size:
            raise ValueError(f"a group holds {self.group_size} rollouts, got {len(rewards)} rewards")
        success, valid = self.successes(rewards)
        scored = sum(valid)
        self._buffer.append((int(prompt_id), scored, sum(s and v for s, v in zip(success, valid, strict=True))))
        if len(self._buffer) >= (self.step_groups or self._last_k or 1):
            return self.flush()
        return None

    def flush(self) -> StepReport:
        """Fold the groups `observe_group` holds in as one step (a prompt given twice: its counts add up)."""
        held, self._buffer = self._buffer, []
        if not held:
            return StepReport.empty()
        counts: dict[int, list[int]] = {}
        for pid, n, s in held:
            c = counts.setdefault(pid, [0, 0])
            c[0] += n
            c[1] += s
        ids = sorted(counts)
        n = np.array([counts[i][0] for i in ids], dtype=np.int64)
        s = np.array([counts[i][1] for i in ids], dtype=np.int64)
        keep = n > 0
        report = self.curriculum.observe_counts(np.array(ids, dtype=np.int64)[keep], n[keep], s[keep])
        self.curriculum.release(np.array(ids, dtype=np.int64)[~keep])  # no scored rollout: proposed again later
        self.groups_observed += len(held)
        return report

    # ---- what a trainer logs and saves --------------------------------------------------------------
    def metrics(self) -> dict[str, float]:
        """The curriculum's figures for a logger (`curriculum/<name>`), the undefined (NaN) ones left out."""
        stats = self.curriculum.stats()
        stats["pending"] = float(self.curriculum.pending.size)
        stats["groups_waiting"] = float(len(self._buffer))
        return {f"curriculum/{k}": float(v) for k, v in stats.items() if not math.isnan(float(v))}

    def state_dict(self) -> dict[str, Any]:
        held = np.array(self._buffer, dtype=np.int64).reshape(-1, 3)
        sd = {
            "curriculum": self.curriculum.state_dict(),
            "groups_waiting": held,  # [H, 3] prompt id, scorable rollouts, successes
            "groups_observed": self.groups_observed,
            "last_k": self._last_k,
            "group_size": self.group_size,
        }
        return sd if self.pool is None else {**sd, "pool": dict(self.pool)}

    def load_state_dict(self, sd: dict[str, Any], source: str = "the curriculum state") -> None:
        """Restore; refused (nothing assigned) where the state is not one of this driver's: another pool (where both
        the state and this driver know theirs), config, seed or group size. `source`: the state, in the error."""
        missing = sorted({"curriculum", "groups_waiting", "groups_observed", "last_k", "group_size"} - set(sd))
        if missing:
            raise ValueError(f"driver state lacks {missing}")
        check_pool(sd.get("pool"), self.pool, source, fresh="start afresh without loading this state")
        if int(sd["group_size"]) != self.group_size:
            raise ValueError(
                f"the state was saved with group_size={int(sd['group_size'])}, this driver has {self.group_size}"
            )
        self.curriculum.check_state(sd["curriculum"])  # another pool, config or seed: named here
        held = np.asarray(sd["groups_waiting"], dtype=np.int64).reshape(-1, 3)
        if held.size and (held[:, 0].min() < 0 or held[:, 0].max() >= self.curriculum.num_prompts):
            raise ValueError("driver state: a waiting group's prompt id is out of range")
        self.curriculum.load_state_dict(sd["curriculum"])
        self._buffer = [tuple(int(x) for x in row) for row in held]  # type: ignore[misc]
        self.groups_observed = int(sd["groups_observed"])
        self._last_k = int(sd["last_k"])
        if self.pool is None and sd.get("pool") is not None:  # saved again, the state keeps its pool's identity
            self.pool = dict(sd["pool"])

    def save(self, folder: str | os.PathLike) -> Path:
        """The state as files in `folder` (created if needed): driver_state.npz (the arrays) + driver_state.json (the
        format, the state's hash and one entry per leaf), each written whole or not at all. Returns the JSON path."""
        state = self.state_dict()
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "state_hash": _hash(state)}
        return write_state(folder, STATE_NPZ, STATE_JSON, state, meta)

    def load(self, folder: str | os.PathLike) -> None:
        """Restore what `save` wrote; refused, naming the problem and assigning nothing, where the files are not a
        driver's state, are corrupt, or were made for another pool, config, seed or group size."""
        meta, state = read_state(folder, STATE_NPZ, STATE_JSON, FORMAT, FORMAT_VERSION, "save it again")
        if _hash(state) != meta["state_hash"]:
            raise ValueError(f"{Path(folder) / STATE_NPZ} does not match the hash in {STATE_JSON}: the files are corrupt")
        self.load_state_dict(state, source=f"the curriculum state in {folder}")


def _hash(state: dict[str, Any]) -> str:
    """The driver state's digest: the core's by its arrays' bytes, the rest beside it."""
    rest = {k: v for k, v in state.items() if k != "curriculum"}
    return state_hash({**rest, "curriculum": state_hash(state["curriculum"])})


def _rows(rewards: Any) -> list[list[float]]:
    """Rewards as rows of floats, one per rollout (NaN for None)."""
    values = rewards.tolist() if hasattr(rewards, "tolist") else list(rewards)
    out = []
    for r in values:
        row = r if isinstance(r, list | tuple) else [r]
        out.append([math.nan if v is None else float(v) for v in row])
    return out
