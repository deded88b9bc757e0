"""`CurriculumView`: the read-only `PolicyView` (curriculum/policies/base.py) the core hands its policy.

It reads the core's public state (`Core`: its counters, prior and parts) and answers in the policy's terms: today's
predictions and verdicts, the pools, the counters. Per-prompt arrays come back as read-only views, so a policy can
neither write the tracker's counts nor the pools behind the core's back. The helpers that need scratch space
(`is_member`) own it here.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from .ability import AbilityModel, verdict_rows
from .beliefs import UnseenTable
from .config import CurriculumConfig
from .pools import StatusPools
from .rng import SavedRNG
from .tracker import PassRateTracker


class Core(Protocol):
    """What the view reads of the core (`Curriculum`), all public."""

    num_prompts: int
    seed: int
    config: CurriculumConfig
    step: int
    pending: np.ndarray
    counters: dict[str, int]
    tracker: PassRateTracker
    ability: AbilityModel
    pools: StatusPools
    prior_type: str
    prior_pass_rate: np.ndarray | None
    labels: np.ndarray | None
    num_labels: int
    prior_groups: np.ndarray | None
    num_prior_groups: int
    prior_group_logit: np.ndarray | None


def read_only(arr: Any) -> Any:
    """A view of `arr` that raises on writes (None stays None)."""
    if arr is None:
        return None
    out = arr.view()
    out.flags.writeable = False
    return out


class CurriculumView:
    """The `PolicyView` over one curriculum (see curriculum/policies/base.py for what each name means)."""

    def __init__(self, core: Core, observe_rng: SavedRNG) -> None:
        self._core = core
        self._observe_rng = observe_rng
        self._scratch = np.zeros(core.num_prompts, dtype=bool)  # [N] all False between calls

    # ---- identity, counters, prior ------------------------------------------------------------------
    @property
    def num_prompts(self) -> int:
        return self._core.num_prompts

    @property
    def seed(self) -> int:
        return self._core.seed

    @property
    def config(self) -> CurriculumConfig:
        return self._core.config

    @property
    def step(self) -> int:
        return self._core.step

    @property
    def pending(self) -> np.ndarray:
        return read_only(self._core.pending)

    @property
    def attempts(self) -> np.ndarray:
        return read_only(self._core.tracker.attempts)

    @property
    def last_step(self) -> np.ndarray:
        return read_only(self._core.tracker.last_step)

    @property
    def status(self) -> np.ndarray:
        return read_only(self._core.pools.status)

    @property
    def prior_type(self) -> str:
        return self._core.prior_type

    @property
    def prior_pass_rate(self) -> np.ndarray | None:
        return read_only(self._core.prior_pass_rate)

    @property
    def labels(self) -> np.ndarray | None:
        return read_only(self._core.labels)

    @property
    def num_labels(self) -> int:
        return self._core.num_labels

    @property
    def prior_groups(self) -> np.ndarray | None:
        return read_only(self._core.prior_groups)

    @property
    def num_prior_groups(self) -> int:
        return self._core.num_prior_groups

    @property
    def prior_group_logit(self) -> np.ndarray | None:
        return read_only(self._core.prior_group_logit)

    @property
    def logit_low(self) -> float:
        return self._core.ability.logit_low

    def group_size(self) -> float:
        """Mean rollouts per observed group so far (8 before the first observation)."""
        c = self._core.counters
        return c["rollouts"] / c["groups"] if c["groups"] else 8.0

    def seen_prompts(self) -> int:
        """Prompts observed at least once."""
        return self._core.counters["prompts_seen"]

    # ---- predictions and verdicts -------------------------------------------------------------------
    def posterior(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        core = self._core
        return core.ability.posterior(ids, core.tracker.attempts[ids], core.tracker.last_step[ids], core.step)

    def predict(self, ids: np.ndarray) -> np.ndarray:
        core = self._core
        return core.ability.predict(ids, core.tracker.attempts[ids], core.tracker.last_step[ids], core.step)

    def rate(self, ids: np.ndarray) -> np.ndarray:
        return self._core.tracker.rate(ids, self._core.step)

    def verdicts(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(confidently below exclude_below, confidently above retire_above) for each prompt now.

        The posterior probability that the pass rate now is below `exclude_below` (above `retire_above`)
        must reach `confidence`; it comes from the population prior and the discounted counts, taken at
        the ability the prompt was observed at, shifted to today's ability and made conservative by the
        uncertainty of that shift (ability noise and the prompt's own drift since)."""
        core = self._core
        s, n = core.tracker.counts(ids, core.step)  # float64
        excluded, retired = np.zeros(ids.size, dtype=bool), np.zeros(ids.size, dtype=bool)
        rows = verdict_rows(s, n).nonzero()[0]  # a verdict is possible only here
        if rows.size == 0:
            return excluded, retired
        since = (core.step - core.tracker.last_step[ids[rows]]).astype(np.float64)  # (R,) steps since last seen
        low, high = core.ability.verdict_masses(ids[rows], s[rows], n[rows], since)
        excluded[rows] = low >= core.config.confidence
        retired[rows] = high >= core.config.confidence
        return excluded, retired

    def label_of(self, ids: np.ndarray) -> np.ndarray:
        return self._core.ability.label_of(ids)

    def label_posterior(self) -> tuple[np.ndarray, np.ndarray]:
        return self._core.ability.label_posterior(self._core.step)

    def unseen_table(self, group_size: float) -> UnseenTable:
        return self._core.ability.unseen_table(self._core.step, group_size)

    def features_active(self) -> bool:
        return self._core.ability.features_active()

    def difficulty_band(self) -> tuple[float, float]:
        """The difficulty range (logits, same scale as `ability`) whose pass rate is inside the band now."""
        logit = lambda q: math.log(q / (1.0 - q))  # noqa: E731
        theta = self._core.ability.theta
        return theta - logit(self._core.config.band_high), theta - logit(self._core.config.band_low)

    # ---- pools, helpers, randomness -----------------------------------------------------------------
    def pool_size(self, code: int) -> int:
        return self._core.pools.size(code)

    def sample(self, code: int, count: int, rng: np.random.Generator) -> np.ndarray:
        return self._core.pools.sample(code, count, rng)

    def is_member(self, ids: np.ndarray, members: np.ndarray) -> np.ndarray:
        """(len(ids),) whether each id is in `members`; O(len) with the scratch flags, no sort."""
        self._scratch[members] = True
        out = self._scratch[ids]
        self._scratch[members] = False
        return out

    def any_other(self, count: int, chosen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """`count` ids not in `chosen`, uniformly (last resort; O(N) only when the pool is nearly drawn)."""
        n = self._core.num_prompts
        found = np.zeros(0, dtype=np.int64)
        for _ in range(16):
            draw = rng.integers(0, n, size=4 * count + 16)
            found = np.unique(np.concatenate([found, draw[~np.isin(draw, chosen)]]))
            if found.size >= count:
                return rng.permutation(found)[:count]
        rest = np.setdiff1d(np.arange(n), chosen)
        return rng.permutation(rest)[:count]

    def observe_rng(self) -> np.random.Generator:
        """The random generator of the policies' draws after an observe (its state is part of the state dict)."""
        return self._observe_rng.generator
