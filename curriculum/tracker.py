"""Rolling per-prompt pass-rate tracker: discounted Beta-Bernoulli counts, updated lazily.

Every prompt holds discounted success and attempt counts; a count observed `dt` steps ago weighs
`0.5 ** (dt / half_life)`. Decay is applied lazily, only to the prompts touched in a step, so an
update costs O(rollouts) however large the pool is. `attempts` is the plain, undiscounted number of
rollouts ever observed: a prompt with attempts == 0 was never seen (no sentinel values).

    tracker.update(uniq, n, s, step)     # one step's aggregated rollouts
    tracker.rate(ids, step)              # posterior mean (s + 1) / (n + 2), in (0, 1)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .statecheck import read_array

_INT32_MAX = int(np.iinfo(np.int32).max)


def aggregate(prompt_ids: np.ndarray, successes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-prompt counts of one step, independent of the order of the rollouts.

    (B*G,) ids, (B*G,) 0/1 successes -> (U,) sorted unique ids, (U,) rollouts, (U,) successes.
    Repeated ids (one group, or the same prompt twice in a step) are summed, never overwritten.
    """
    if prompt_ids.size == 0:
        return prompt_ids.astype(np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(prompt_ids, kind="stable")
    ids = prompt_ids[order]  # (B*G,) sorted: each prompt's rollouts in one run
    starts = np.concatenate(([True], ids[1:] != ids[:-1])).nonzero()[0]  # (U,) first row of each run
    n = np.diff(np.append(starts, ids.size))  # (U,)
    s = np.add.reduceat(successes[order], starts, dtype=np.int64)  # (U,)
    return ids[starts].astype(np.int64), n.astype(np.int64), s


class PassRateTracker:
    """Discounted success/attempt counts for `num_prompts` prompts (16 bytes a prompt)."""

    def __init__(self, num_prompts: int, half_life: float) -> None:
        self.half_life = float(half_life)
        self._log_keep = -math.log(2.0) / self.half_life  # log of the weight a count keeps per step
        self.succ = np.zeros(num_prompts, dtype=np.float32)  # [N] discounted successes
        self.tries = np.zeros(num_prompts, dtype=np.float32)  # [N] discounted rollouts
        self.attempts = np.zeros(num_prompts, dtype=np.int32)  # [N] rollouts ever observed
        self.last_step = np.zeros(num_prompts, dtype=np.int32)  # [N] step of the last observation

    def _decay(self, ids: np.ndarray, step: int) -> np.ndarray:
        dt = (step - self.last_step[ids]).astype(np.float64)  # (U,) float64: the routines the step runs anyway
        return np.exp(dt * self._log_keep)

    def update(
        self,
        uniq: np.ndarray,
        n: np.ndarray,
        s: np.ndarray,
        step: int,
        past: tuple[np.ndarray, np.ndarray] | None = None,
        attempts: np.ndarray | None = None,
    ) -> None:
        """Fold one step's counts (from `aggregate`) into the rolling posterior. `past` = `counts(uniq, step)` and
        `attempts` = `self.attempts[uniq]`, where the caller holds them already."""
        s_past, n_past = self.counts(uniq, step) if past is None else past
        attempts = self.attempts[uniq] if attempts is None else attempts
        self.succ[uniq] = s_past + s
        self.tries[uniq] = n_past + n
        self.attempts[uniq] = np.minimum(attempts.astype(np.int64) + n, _INT32_MAX)
        self.last_step[uniq] = step

    def counts(self, ids: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Discounted (successes, rollouts) as of `step` (float64)."""
        keep = self._decay(ids, step)
        return self.succ[ids] * keep, self.tries[ids] * keep

    def rate(self, ids: np.ndarray, step: int) -> np.ndarray:
        """Posterior mean pass rate under a Beta(1, 1) prior, as of `step`."""
        s, n = self.counts(ids, step)
        return (s + 1.0) / (n + 2.0)

    def forget(self, ids: np.ndarray) -> None:
        """Make `ids` never observed (a new prompt takes their place): O(len(ids))."""
        for arr in (self.succ, self.tries, self.attempts, self.last_step):
            arr[ids] = 0

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"succ": self.succ, "tries": self.tries, "attempts": self.attempts, "last_step": self.last_step}

    def check_state(self, sd: Mapping[str, Any], step: int) -> None:
        """Raise ValueError naming the entry unless `sd` holds counts this tracker can load at clock `step`."""
        shape = (self.succ.size,)
        succ = read_array(sd, "succ", np.float32, shape, low=0.0)
        tries = read_array(sd, "tries", np.float32, shape, low=0.0)
        if (succ > tries).any():
            raise ValueError("curriculum state entry 'succ' holds more successes than 'tries' for some prompts")
        read_array(sd, "attempts", np.int32, shape, low=0)
        read_array(sd, "last_step", np.int32, shape, low=0, high=step)

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Assign a state `check_state` passed."""
        for name, arr in self.state_dict().items():
            arr[...] = sd[name]
