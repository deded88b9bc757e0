"""The sampling policies behind `Curriculum.propose`, sharing one interface.

- `UniformPolicy`  epoch-wise shuffle of the whole pool: what plain GRPO does.
- `StaticPolicy`   a band fixed once (from a pass-rate prior, or from a calibration pass whose
                   rollouts count), then an epoch-wise shuffle of its members forever.
- `AdaptivePolicy` an epoch-wise walk over the whole pool that keeps each prompt as it comes up with the
                   probability that its next group is informative at today's predicted pass rate (a posterior
                   draw), never below a floor: prompts beyond reach and mastered ones keep coming back, a few
                   at a time, and every prompt is drawn at most once an epoch. O(k) per call.
- `BandPolicy`     the medium band at today's ability: score ~candidate_mult*k active prompts by a posterior
                   draw of their pass rate now, keep those inside [band_low, band_high] closest to `target`,
                   spend `explore_frac` on unseen prompts, exclude and retire by verdict, re-probe. O(k) per call.

Each policy's `propose(cur, k, rng)` returns k distinct ids and `after_observe(cur, uniq, update)` judges a
step's observed prompts (`update`: what the ability model learned about them; its randomness comes from
`cur.observe_rng()`), returning the pool each goes to (`Assignment`: the core moves them); its state is a few
ints and arrays (`check_state(sd)` validates them, assigning nothing; `load_state_dict(sd)` assigns a state that passed).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from .ability import AbilityUpdate, probit, sigmoid
from .permutation import derive_key, domain_size, walk
from .pools import ACTIVE, EXCLUDED, RETIRED, UNSEEN, distinct_sorted
from .statecheck import POSITION_MAX, read_array, read_ids, read_int
from .streams import GroupedStreams, Stream

if TYPE_CHECKING:
    from .core import Curriculum

log = logging.getLogger("curriculum")
_WALK_ROUNDS = 4  # the walk scans at most this many rounds of candidate_mult * k prompts per call
_REPROBE_EVERY = 4  # observe steps between re-probes (each re-checks this many steps' worth of prompts at once)


Assignment = tuple[np.ndarray, np.ndarray]
"""(distinct ids, the pool code each goes to: ACTIVE, EXCLUDED or RETIRED)."""


def informativeness(p: np.ndarray, group_size: int = 8) -> np.ndarray:
    """Probability that a group of `group_size` rollouts is neither all-correct nor all-wrong."""
    return 1.0 - p**group_size - (1.0 - p) ** group_size


class UniformPolicy:
    name = "uniform"

    def __init__(self, cur: Curriculum) -> None:
        self.stream = Stream(cur.num_prompts, derive_key(cur.seed, 0x0F))

    def propose(self, cur: Curriculum, k: int, rng: np.random.Generator) -> np.ndarray:
        return self.stream.take(k)

    def after_observe(self, cur: Curriculum, uniq: np.ndarray, update: AbilityUpdate) -> Assignment:
        """Nothing to judge: every prompt stays in the draw (prompts observed without a proposal join it)."""
        joining = uniq[cur.pools.status[uniq] == UNSEEN]
        return joining, np.full(joining.size, ACTIVE)

    def band(self, cur: Curriculum) -> tuple[float, float]:
        return cur.difficulty_band()

    def state_dict(self) -> dict:
        return {"policy_cursor": self.stream.cursor}

    def check_state(self, sd: Mapping[str, Any]) -> None:
        read_int(sd, "policy_cursor", high=POSITION_MAX)

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        self.stream.cursor = int(sd["policy_cursor"])


class StaticPolicy(UniformPolicy):
    """Fix the band once; never move it (the ablation's control arm)."""

    name = "static"

    def __init__(self, cur: Curriculum) -> None:
        super().__init__(cur)  # the calibration pass walks the uniform stream
        self.members: np.ndarray | None = None  # [M] prompt ids of the fixed band, once fixed
        self.member_stream: Stream | None = None
        self.fixed_band = (math.nan, math.nan)
        self._key = derive_key(cur.seed, 0x5A)
        if cur.prior_type == "pass_rate":
            rate = cur.prior_pass_rate
            self._fix(cur, np.flatnonzero((rate >= cur.config.band_low) & (rate <= cur.config.band_high)))

    def _fix(self, cur: Curriculum, members: np.ndarray) -> None:
        if members.size == 0:
            log.warning("static band: no prompt falls inside [band_low, band_high]; sampling the whole pool")
            members = np.arange(cur.num_prompts)
        self.members = members.astype(np.int64)
        self.member_stream = Stream(members.size, self._key)
        self.fixed_band = cur.difficulty_band()

    def _calibrated_members(self, cur: Curriculum) -> np.ndarray:
        seen = np.flatnonzero(cur.tracker.attempts > 0)  # O(N), once, when the band is fixed
        rate = cur.tracker.rate(seen, cur.step)
        in_band = (rate >= cur.config.band_low) & (rate <= cur.config.band_high)
        if cur.labels is None:
            return seen[in_band]
        # labels: a label is in the band if its calibrated prompts are, on average
        lab = cur.labels[seen]
        mean = np.bincount(lab, weights=rate, minlength=cur.num_labels) / np.maximum(
            np.bincount(lab, minlength=cur.num_labels), 1
        )
        band_labels = np.flatnonzero((mean >= cur.config.band_low) & (mean <= cur.config.band_high))
        return np.flatnonzero(np.isin(cur.labels, band_labels))

    def propose(self, cur: Curriculum, k: int, rng: np.random.Generator) -> np.ndarray:
        if self.members is None:
            if cur.seen_prompts() < min(cur.config.static.calibration_size, cur.num_prompts):
                return self.stream.take(k)  # calibration pass: uniform draws whose rollouts count
            self._fix(cur, self._calibrated_members(cur))
        assert self.member_stream is not None and self.members is not None
        if k > self.members.size:  # a band smaller than a batch: top up from the uniform stream
            extra = self.stream.take(min(cur.num_prompts, k + self.members.size))
            extra = extra[~np.isin(extra, self.members)][: k - self.members.size]
            return np.concatenate([self.members, extra])
        return self.members[self.member_stream.take(k)]

    def band(self, cur: Curriculum) -> tuple[float, float]:
        return self.fixed_band if self.members is not None else cur.difficulty_band()

    def state_dict(self) -> dict:
        sd = super().state_dict()
        fixed = self.members is not None
        sd["static_fixed"] = int(fixed)
        sd["static_members"] = self.members if fixed else np.zeros(0, dtype=np.int64)
        sd["static_cursor"] = self.member_stream.cursor if self.member_stream is not None else 0
        sd["static_band"] = np.asarray(self.fixed_band, dtype=np.float64)
        return sd

    def check_state(self, sd: Mapping[str, Any]) -> None:
        super().check_state(sd)
        fixed = read_int(sd, "static_fixed", 0, 1)
        members = read_ids(sd, "static_members", self.stream.n, distinct=True)
        if fixed and members.size == 0:
            raise ValueError("curriculum state entry 'static_members' is empty although 'static_fixed' is 1")
        read_int(sd, "static_cursor", high=POSITION_MAX)
        read_array(sd, "static_band", np.float64, (2,), finite=bool(fixed))  # (nan, nan) until fixed

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        super().load_state_dict(sd)
        self.members, self.member_stream, self.fixed_band = None, None, (math.nan, math.nan)
        if int(sd["static_fixed"]):
            members = np.asarray(sd["static_members"], dtype=np.int64).copy()
            self.members = members
            self.member_stream = Stream(members.size, self._key)
            self.member_stream.cursor = int(sd["static_cursor"])
            self.fixed_band = tuple(float(x) for x in sd["static_band"])  # type: ignore[assignment]


class BandPolicy:
    """The medium band at today's ability (the adaptive policy before the walk; kept for comparison): score
    ~candidate_mult*k active prompts, keep those inside [band_low, band_high] nearest the target, exclude prompts
    confidently out of reach and retire mastered ones (re-probing both). It picks the most informative groups,
    but on a small model it keeps coming back to the same few prompts and learns less than uniform sampling
    (docs/ablation.md)."""

    name = "band"

    def __init__(self, cur: Curriculum) -> None:
        self.fallback_steps = 0  # proposals that could not be filled from the band and unseen prompts
        self.cache = np.zeros(0, dtype=np.int64)  # (<= band.cache,) observed prompts predicted in band, newest first
        self._num_prompts, self._max_cache = cur.num_prompts, cur.config.band.cache  # what a saved cache may hold
        # unseen prompts drawn group by group (labels or prior bins), each group in its own seeded order
        key = derive_key(cur.seed, 0xA5)
        self.streams = GroupedStreams(cur.prior_groups, cur.num_prompts, key, cur.num_prior_groups)

    def propose(self, cur: Curriculum, k: int, rng: np.random.Generator) -> np.ndarray:
        cfg = cur.config
        m = cfg.candidate_mult * k  # O(k) candidates: the most recent band prompts plus a random active sample
        cand = distinct_sorted(np.sort(np.concatenate([self._cached(cur, 2 * m), cur.pools.sample(ACTIVE, m, rng)])))
        if cur.pending.size:  # a trainer proposes the next chunk before the last one's feedback: no repeats
            cand = cand[~cur.is_member(cand, cur.pending)]
        if cfg.band.revisit_cooldown > 0:
            cand = cand[cur.step - cur.tracker.last_step[cand] >= cfg.band.revisit_cooldown]
        m, v = cur.posterior_unchecked(cand)  # verdicts were passed when the prompts were observed
        p = sigmoid(m + cfg.thompson_scale * np.sqrt(v) * rng.standard_normal(cand.size))
        in_band = (p >= cfg.band_low) & (p <= cfg.band_high)
        order = np.lexsort((np.abs(p - cfg.target), ~in_band))  # in-band first, then nearest the target

        unseen_left = cur.pools.size(UNSEEN)
        k_explore = min(unseen_left, max(math.ceil(cfg.band.explore_frac * k), k - int(in_band.sum())))
        fresh = self._take_unseen(cur, k_explore, rng)
        chosen = np.concatenate([fresh, cand[order[: min(k - fresh.size, cand.size)]]])
        if chosen.size < k:
            chosen = np.concatenate([chosen, self._fallback(cur, k - chosen.size, chosen, rng)])
        return chosen

    def after_observe(self, cur: Curriculum, uniq: np.ndarray, update: AbilityUpdate) -> Assignment:
        """Send each prompt just observed (`uniq`, distinct) where its verdict says: confidently out of reach ->
        excluded, mastered -> retired, else active; every `_REPROBE_EVERY` steps a sample of excluded/retired
        prompts is judged too, and doubtful verdicts are lifted (re-probing as the ability grows). Observed
        prompts that stay and are predicted inside the band go to the band cache."""
        conf = cur.config.confidence
        ids, excluded, retired = uniq, update.low >= conf, update.high >= conf  # (U,) each
        probe = self._reprobe_sample(cur, uniq.size) if cur.step % _REPROBE_EVERY == 0 else uniq[:0]
        probe = probe[~cur.is_member(probe, uniq)] if probe.size else probe
        if probe.size:
            probe_excluded, probe_retired = cur.verdicts(probe)
            ids = np.concatenate([uniq, probe])
            excluded = np.concatenate([excluded, probe_excluded])
            retired = np.concatenate([retired, probe_retired])
        stays = ~excluded & ~retired
        if cur.config.band.cache:
            kept = stays[: uniq.size]
            p = update.after[kept]
            self._remember(cur, uniq[kept][(p >= cur.config.band_low) & (p <= cur.config.band_high)])
        return ids, np.where(retired, RETIRED, np.where(excluded, EXCLUDED, ACTIVE))

    def _remember(self, cur: Curriculum, fresh: np.ndarray) -> None:
        """Put distinct observed prompts predicted inside the band at the front of the cache (most recent first, up
        to band.cache prompts): the next proposals re-score them as candidates."""
        old = self.cache[~cur.is_member(self.cache, fresh)]
        self.cache = np.concatenate([fresh, old])[: cur.config.band.cache]

    def _cached(self, cur: Curriculum, limit: int) -> np.ndarray:
        """The most recent `limit` cached band prompts that are still in the active pool."""
        cache = self.cache[:limit]
        return cache[cur.pools.status[cache] == ACTIVE]

    def _take_unseen(self, cur: Curriculum, count: int, rng: np.random.Generator) -> np.ndarray:
        """Up to `count` unseen prompts, favouring groups (labels, prior bins) predicted inside the band."""
        out: list[np.ndarray] = []
        for _ in range(8):  # streams can hold prompts already observed directly; skip those
            need = count - sum(x.size for x in out)
            left = self.streams.remaining
            if need <= 0 or left.sum() == 0:
                break
            counts = self._split_by_group(cur, need, left, rng)
            ids = self.streams.take(counts)
            out.append(ids[cur.pools.status[ids] == UNSEEN])
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def _split_by_group(self, cur: Curriculum, need: int, left: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if left.size == 1:  # one group takes it all (and a one-category multinomial draws no randomness)
            return np.minimum(left, need)
        p = probit(*self._unseen_group_posterior(cur))
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
    def _unseen_group_posterior(cur: Curriculum) -> tuple[np.ndarray, np.ndarray]:
        """[G] (mean, variance) of an unseen prompt's pass-rate logit in each prior group."""
        m, v = cur.ability.label_posterior(cur.step)  # [L]: one label without label priors
        if cur.prior_group_logit is not None:  # pass-rate bins: the bin's prior shifts the pool's
            return m[0] + cur.prior_group_logit, np.full(cur.prior_group_logit.size, v[0])
        return m, v

    def _reprobe_sample(self, cur: Curriculum, k: int) -> np.ndarray:
        """Up to _REPROBE_EVERY * min(reprobe_scan, 4k) excluded and retired prompts, in proportion to the pools."""
        n_ex, n_re = cur.pools.size(EXCLUDED), cur.pools.size(RETIRED)
        if n_ex + n_re == 0 or cur.config.band.reprobe_scan == 0:
            return np.zeros(0, dtype=np.int64)
        scan = _REPROBE_EVERY * min(cur.config.band.reprobe_scan, 4 * k)
        n_scan_ex = round(scan * n_ex / (n_ex + n_re))
        rng = cur.observe_rng()
        return np.concatenate([cur.pools.sample(EXCLUDED, n_scan_ex, rng), cur.pools.sample(RETIRED, scan - n_scan_ex, rng)])

    def _fallback(self, cur: Curriculum, count: int, chosen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
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
        mult = cur.config.candidate_mult * count
        pool = np.concatenate([cur.pools.sample(EXCLUDED, mult, rng), cur.pools.sample(RETIRED, mult, rng)])
        pool = pool[~np.isin(pool, chosen)]
        best = pool[np.argsort(np.abs(cur.predict_unchecked(pool) - cur.config.target), kind="stable")[:count]]
        if best.size < count:
            best = np.concatenate([best, cur.any_other(count - best.size, np.concatenate([chosen, best]), rng)])
        return best

    def band(self, cur: Curriculum) -> tuple[float, float]:
        return cur.difficulty_band()

    def state_dict(self) -> dict:
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


class AdaptivePolicy(UniformPolicy):
    """Walk the pool epoch by epoch (each prompt comes up once an epoch, in a fresh shuffled order) and keep each
    prompt that comes up with the probability that its next group is informative at today's predicted pass rate:
    a posterior draw for an observed prompt, the mean over its label's population for an unseen one. Prompts
    predicted mastered are kept at least at `retention`, so solved skills keep being practised. Prompts predicted
    beyond reach (below `exclude_below`) are not kept by that rule: a budget of `reprobe_share` of every batch
    re-probes them, the first skipped ones in walk order, so a pool mostly out of reach cannot flood the batch and
    every prompt stays reachable. A prompt is drawn at most once an epoch, and an epoch is as short as the skipping
    makes it: where much of the pool is skipped, the learnable prompts come back sooner (`revisit_gap` bounds how
    soon). O(k) per call: at most `_WALK_ROUNDS * candidate_mult * k` prompts are scanned; if fewer than k are taken,
    the most informative of the scanned fill up. The epoch order and its cursor (the whole state) are uniform's: it
    walks the same stream, skipping."""

    name = "adaptive"

    def __init__(self, cur: Curriculum) -> None:
        super().__init__(cur)
        self.passed_beyond = np.zeros(0, dtype=np.int64)  # (J,) the last call's, not state: read right after it

    def propose(self, cur: Curriculum, k: int, rng: np.random.Generator) -> np.ndarray:
        cfg, n, key = cur.config, cur.num_prompts, self.stream.key
        start = self.stream.cursor
        scan = min(n, _WALK_ROUNDS * cfg.candidate_mult * k)
        cand, end = walk(start, scan, n, key)  # (C,) the next prompts to come up
        m = domain_size(n)  # a scan across an epoch boundary can meet an id twice; within one epoch it cannot
        usable = first_occurrence(cand) if start // m != (end - 1) // m else np.ones(cand.size, dtype=bool)
        if cur.pending.size:  # a trainer proposes the next chunk before the last one's feedback: no repeats
            usable &= ~cur.is_member(cand, cur.pending)
        if cfg.adaptive.revisit_gap:
            seen = cur.tracker.attempts[cand] > 0
            usable &= ~seen | (cur.step - cur.tracker.last_step[cand] >= cfg.adaptive.revisit_gap)
        quota = int(cfg.adaptive.reprobe_share * k + rng.random())  # stochastic rounding: the share holds on average
        weight = np.zeros(cand.size)  # (C,) probability of keeping, filled round by round
        keep, beyond = np.zeros(cand.size, dtype=bool), np.zeros(cand.size, dtype=bool)
        step = cfg.candidate_mult * k
        for lo in range(0, cand.size, step):  # score only as far as needed: most calls stop after one round
            part = slice(lo, lo + step)
            weight[part], beyond[part] = keep_weights(cur, cand[part], rng)
            keep[part] = usable[part] & (rng.random(weight[part].size) < weight[part])
            taken = take_in_order(keep, usable & beyond, quota)
            if np.count_nonzero(taken) >= k:
                break
        order = np.flatnonzero(taken)
        passed = usable & beyond & ~taken  # (C,) passed over as beyond reach (`Curriculum.judged_out_of_reach`)
        if order.size >= k:  # stop right after the k-th taken prompt: the rest comes up next call
            self.stream.cursor = walk(start, int(order[k - 1]) + 1, n, key)[1]
            self.passed_beyond = cand[: int(order[k - 1])][passed[: int(order[k - 1])]]
            return cand[order[:k]]
        self.stream.cursor = end
        rest = np.flatnonzero(usable & ~taken)  # scanned and skipped: the most informative of them fill up
        fill = rest[np.argsort(-weight[rest], kind="stable")[: k - order.size]]
        passed[fill] = False
        self.passed_beyond = cand[passed]
        chosen = cand[np.concatenate([order, fill])]
        if chosen.size < k:
            chosen = np.concatenate([chosen, cur.any_other(k - chosen.size, chosen, rng)])
        return chosen

    def after_observe(self, cur: Curriculum, uniq: np.ndarray, update: AbilityUpdate) -> Assignment:
        """Observed prompts go where their verdict says (for the statistics: the walk keeps every pool in reach)."""
        conf = cur.config.confidence
        return uniq, np.where(update.high >= conf, RETIRED, np.where(update.low >= conf, EXCLUDED, ACTIVE))


def keep_weights(cur: Curriculum, ids: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(U,) the walk's probability of keeping each prompt as it comes up, and whether it is predicted beyond reach
    (those get weight 0: only the re-probe budget draws them)."""
    cfg, group = cur.config, cur.group_size()
    if cur.oracle is not None:  # the ablations' ceiling: the same rule at the true pass rates
        p = np.asarray(cur.oracle(ids), dtype=np.float64)
        info, beyond = informativeness(p, group), p < cfg.exclude_below
    else:
        m, v = cur.posterior_unchecked(ids)
        p = sigmoid(m + cfg.thompson_scale * np.sqrt(v) * rng.standard_normal(ids.size))  # (U,) a posterior draw
        info = informativeness(p, group)
        z = NormalDist().inv_cdf(cfg.adaptive.beyond_mass)
        beyond = m + z * np.sqrt(v) < cur.ability.logit_low  # (U,) posterior mass below exclude_below >= beyond_mass
        unseen = cur.tracker.attempts[ids] == 0
        if cur.prior_type != "pass_rate" and unseen.any() and not cur.ability.features_active():
            # an unseen prompt without features that predict: its label's population decides
            lab = cur.ability.label_of(ids[unseen])
            table = cur.ability.unseen_table(cur.step, group)
            info[unseen], p[unseen] = table.informativeness[lab], table.pass_rate[lab]
            share = cfg.adaptive.unseen_beyond_share
            beyond[unseen] = table.beyond_share[lab] >= (cfg.adaptive.beyond_mass if share is None else share)
    keep = info**cfg.adaptive.keep_power
    weight = np.where(p >= cfg.target, np.maximum(keep, cfg.adaptive.retention), keep)
    return np.where(beyond, 0.0, weight), beyond


def take_in_order(keep: np.ndarray, reprobe: np.ndarray, quota: int) -> np.ndarray:
    """(C,) the prompts taken, in walk order: every kept one, and the first `quota` re-probe candidates."""
    if quota <= 0:
        return keep.copy()
    return keep | (reprobe & (np.cumsum(reprobe) <= quota))


def first_occurrence(ids: np.ndarray) -> np.ndarray:
    """(len(ids),) True where an id appears for the first time in `ids`."""
    _, first = np.unique(ids, return_index=True)
    out = np.zeros(ids.size, dtype=bool)
    out[first] = True
    return out


POLICY_CLASSES = {cls.name: cls for cls in (UniformPolicy, StaticPolicy, AdaptivePolicy, BandPolicy)}
