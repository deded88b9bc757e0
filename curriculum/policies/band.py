"""`BandPolicy`: the medium band at today's ability, re-evaluated every step (the adaptive policy before the walk;
kept for comparison). Scores ~candidate_mult*k active prompts by a posterior draw of their pass rate now, keeps those
inside [band_low, band_high] closest to `target`, spends `explore_frac` on unseen prompts, excludes and retires by
verdict, re-probes. O(k) per call."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from curriculum.beliefs import probit, sigmoid
from curriculum.permutation import derive_key
from curriculum.settings import INT_MAX, check_fields
from curriculum.statecheck import POSITION_MAX, read_array, read_ids, read_int
from curriculum.streams import GroupedStreams

from .base import (
    ACTIVE,
    EXCLUDED,
    RETIRED,
    UNSEEN,
    AbilityUpdate,
    Assignment,
    BasePolicy,
    PolicyView,
    distinct_sorted,
    informativeness,
)

log = logging.getLogger("curriculum")
_REPROBE_EVERY = 4  # observe steps between re-probes (each re-checks this many steps' worth of prompts at once)


@dataclass(frozen=True)
class BandSettings:
    """`CurriculumConfig.band`: the band policy's knobs; the band's edges, `band_low` / `band_high`, are the static
    policy's too."""

    explore_frac: float = 0.06
    """Share of every batch reserved for unseen prompts while any remain (more when the band runs dry)."""
    cache: int = 2048
    """Observed prompts predicted inside the band are kept (most recent first, up to this many) and re-scored as
    candidates next step, so a sparse band in a large pool is not lost to random sampling."""
    reprobe_scan: int = 128
    """Excluded and retired prompts re-checked per step at today's ability (at most 4k for k prompts a step; every
    4th step checks four steps' worth at once); those no longer confidently out of reach (or mastered) return to
    the active pool."""
    revisit_cooldown: int = 0
    """A prompt observed fewer than this many steps ago is not proposed again (spreads training over more prompts)."""

    def __post_init__(self) -> None:
        check_fields(self, "band.", _RANGES)


_RANGES = {
    "explore_frac": (0.0, 1.0, "[]"),
    "cache": (0, INT_MAX, "[]"),
    "reprobe_scan": (0, INT_MAX, "[]"),
    "revisit_cooldown": (0, INT_MAX, "[]"),
}


class BandPolicy(BasePolicy):
    """The medium band at today's ability (the adaptive policy before the walk; kept for comparison): score
    ~candidate_mult*k active prompts, keep those inside [band_low, band_high] nearest the target, exclude prompts
    confidently out of reach and retire mastered ones (re-probing both). It picks the most informative groups,
    but on a small model it keeps coming back to the same few prompts and learns less than uniform sampling
    (docs/ablation.md)."""

    name = "band"
    Settings = BandSettings

    def __init__(self, view: PolicyView, settings: BandSettings) -> None:
        super().__init__(view, settings)
        self.settings: BandSettings = settings
        self.fallback_steps = 0  # proposals that could not be filled from the band and unseen prompts
        self.cache = np.zeros(0, dtype=np.int64)  # (<= band.cache,) observed prompts predicted in band, newest first
        self._num_prompts, self._max_cache = view.num_prompts, self.settings.cache  # what a saved cache may hold
        # unseen prompts drawn group by group (labels or prior bins), each group in its own seeded order
        key = derive_key(view.seed, 0xA5)
        self.streams = GroupedStreams(view.prior_groups, view.num_prompts, key, view.num_prior_groups)

    def propose(self, view: PolicyView, k: int, rng: np.random.Generator) -> np.ndarray:
        cfg = view.config
        m = cfg.candidate_mult * k  # O(k) candidates: the most recent band prompts plus a random active sample
        cand = distinct_sorted(np.sort(np.concatenate([self._cached(view, 2 * m), view.sample(ACTIVE, m, rng)])))
        if view.pending.size:  # a trainer proposes the next chunk before the last one's feedback: no repeats
            cand = cand[~view.is_member(cand, view.pending)]
        if self.settings.revisit_cooldown > 0:
            cand = cand[view.step - view.last_step[cand] >= self.settings.revisit_cooldown]
        m, v = view.posterior(cand)  # verdicts were passed when the prompts were observed
        p = sigmoid(m + cfg.thompson_scale * np.sqrt(v) * rng.standard_normal(cand.size))
        in_band = (p >= cfg.band_low) & (p <= cfg.band_high)
        order = np.lexsort((np.abs(p - cfg.target), ~in_band))  # in-band first, then nearest the target

        unseen_left = view.pool_size(UNSEEN)
        k_explore = min(unseen_left, max(math.ceil(self.settings.explore_frac * k), k - int(in_band.sum())))
        fresh = self._take_unseen(view, k_explore, rng)
        chosen = np.concatenate([fresh, cand[order[: min(k - fresh.size, cand.size)]]])
        if chosen.size < k:
            chosen = np.concatenate([chosen, self._fallback(view, k - chosen.size, chosen, rng)])
        return chosen

    def after_observe(self, view: PolicyView, uniq: np.ndarray, update: AbilityUpdate) -> Assignment:
        """Send each prompt just observed (`uniq`, distinct) where its verdict says: confidently out of reach ->
        excluded, mastered -> retired, else active; every `_REPROBE_EVERY` steps a sample of excluded/retired
        prompts is judged too, and doubtful verdicts are lifted (re-probing as the ability grows). Observed
        prompts that stay and are predicted inside the band go to the band cache."""
        conf = view.config.confidence
        ids, excluded, retired = uniq, update.low >= conf, update.high >= conf  # (U,) each
        probe = self._reprobe_sample(view, uniq.size) if view.step % _REPROBE_EVERY == 0 else uniq[:0]
        probe = probe[~view.is_member(probe, uniq)] if probe.size else probe
        if probe.size:
            probe_excluded, probe_retired = view.verdicts(probe)
            ids = np.concatenate([uniq, probe])
            excluded = np.concatenate([excluded, probe_excluded])
            retired = np.concatenate([retired, probe_retired])
        stays = ~excluded & ~retired
        if self.settings.cache:
            kept = stays[: uniq.size]
            p = update.after[kept]
            self._remember(view, uniq[kept][(p >= view.config.band_low) & (p <= view.config.band_high)])
        return ids, np.where(retired, RETIRED, np.where(excluded, EXCLUDED, ACTIVE))

    def _remember(self, view: PolicyView, fresh: np.ndarray) -> None:
        """Put distinct observed prompts predicted inside the band at the front of the cache (most recent first, up
        to band.cache prompts): the next proposals re-score them as candidates."""
        old = self.cache[~view.is_member(self.cache, fresh)]
        self.cache = np.concatenate([fresh, old])[: self.settings.cache]

    def _cached(self, view: PolicyView, limit: int) -> np.ndarray:
        """The most recent `limit` cached band prompts that are still in the active pool."""
        cache = self.cache[:limit]
        return cache[view.status[cache] == ACTIVE]

    def _take_unseen(self, view: PolicyView, count: int, rng: np.random.Generator) -> np.ndarray:
        """Up to `count` unseen prompts, favouring groups (labels, prior bins) predicted inside the band."""
        out: list[np.ndarray] = []
        for _ in range(8):  # streams can hold prompts already observed directly; skip those
            need = count - sum(x.size for x in out)
            left = self.streams.remaining
            if need <= 0 or left.sum() == 0:
                break
            counts = self._split_by_group(view, need, left, rng)
            ids = self.streams.take(counts)
            out.append(ids[view.status[ids] == UNSEEN])
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def _split_by_group(self, view: PolicyView, need: int, left: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if left.size == 1:  # one group takes it all (and a one-category multinomial draws no randomness)
            return np.minimum(left, need)
        p = probit(*self._unseen_group_posterior(view))
        weight = (informativeness(p) + 0.05) * left  # favour in-band groups; never starve one entirely
        counts = np.minimum(rng.multinomial(min(need, int(left.sum())), weight / weight.sum()), left)
        short = min(need, int(left.sum())) - int(counts.sum())
        for g in np.argsort(-weight, kind="stable"):  # hand what a full group could not take to the next best
            if short <= 0:
                break
            extra = min(short, int(left[g] - counts[g]))
            counts[g] += extra
            short -= extra
        return counts

    @staticmethod
    def _unseen_group_posterior(view: PolicyView) -> tuple[np.ndarray, np.ndarray]:
        """[G] (mean, variance) of an unseen prompt's pass-rate logit in each prior group."""
        m, v = view.label_posterior()  # [L]: one label without label priors
        if view.prior_group_logit is not None:  # pass-rate bins: the bin's prior shifts the pool's
            return m[0] + view.prior_group_logit, np.full(view.prior_group_logit.size, v[0])
        return m, v

    def _reprobe_sample(self, view: PolicyView, k: int) -> np.ndarray:
        """Up to _REPROBE_EVERY * min(reprobe_scan, 4k) excluded and retired prompts, in proportion to the pools."""
        n_ex, n_re = view.pool_size(EXCLUDED), view.pool_size(RETIRED)
        if n_ex + n_re == 0 or self.settings.reprobe_scan == 0:
            return np.zeros(0, dtype=np.int64)
        scan = _REPROBE_EVERY * min(self.settings.reprobe_scan, 4 * k)
        n_scan_ex = round(scan * n_ex / (n_ex + n_re))
        rng = view.observe_rng()
        return np.concatenate([view.sample(EXCLUDED, n_scan_ex, rng), view.sample(RETIRED, scan - n_scan_ex, rng)])

    def _fallback(self, view: PolicyView, count: int, chosen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The band and the unseen prompts cannot fill the batch: best excluded/retired, then anything."""
        self.fallback_steps += 1
        if self.fallback_steps == 1 or self.fallback_steps % 100 == 0:
            log.warning(
                "curriculum: only %d of %d prompts could be drawn from the band; the rest of the pool is "
                "excluded (out of reach) or retired (mastered), so the best remaining candidates are used "
                "(seen %d times so far)",
                chosen.size,
                chosen.size + count,
                self.fallback_steps,
            )
        mult = view.config.candidate_mult * count
        pool = np.concatenate([view.sample(EXCLUDED, mult, rng), view.sample(RETIRED, mult, rng)])
        pool = pool[~np.isin(pool, chosen)]
        best = pool[np.argsort(np.abs(view.predict(pool) - view.config.target), kind="stable")[:count]]
        if best.size < count:
            best = np.concatenate([best, view.any_other(count - best.size, np.concatenate([chosen, best]), rng)])
        return best

    def state_dict(self) -> dict[str, Any]:
        return {
            "fallback_steps": self.fallback_steps,
            "band_cache": self.cache,
            "stream_cursor": self.streams.cursor,
            "stream_taken": self.streams.taken,
        }

    def check_state(self, sd: Mapping[str, Any]) -> None:
        read_int(sd, "fallback_steps")
        read_ids(sd, "band_cache", self._num_prompts, max_len=self._max_cache, distinct=True)
        groups = self.streams.sizes.shape
        read_array(sd, "stream_cursor", np.int64, groups, low=0, high=POSITION_MAX)
        if (read_array(sd, "stream_taken", np.int64, groups, low=0) > self.streams.sizes).any():
            raise ValueError("curriculum state entry 'stream_taken' takes more prompts from a group than it holds")

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        self.fallback_steps = int(sd["fallback_steps"])
        self.cache = np.asarray(sd["band_cache"], dtype=np.int64).copy()
        self.streams.cursor[...] = sd["stream_cursor"]
        self.streams.taken[...] = sd["stream_taken"]
