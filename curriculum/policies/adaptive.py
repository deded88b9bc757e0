"""`AdaptivePolicy`: an epoch-wise walk over the whole pool that keeps each prompt as it comes up with the
probability that its next group is informative at today's predicted pass rate (a posterior draw), never below a
floor: prompts beyond reach and mastered ones keep coming back, a few at a time, and every prompt is drawn at most
once an epoch. O(k) per call. docs/adaptive.md has the evidence behind each knob.

A study may hand the walk a pass-rate source in place of its predictions (`use_pass_rates`: the oracle arm of the
ablations, `curriculum simulate`'s "oracle")."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from curriculum.beliefs import sigmoid
from curriculum.permutation import domain_size, walk
from curriculum.settings import INT_MAX, check_fields

from .base import AbilityUpdate, Assignment, BasePolicy, PolicyView, informativeness
from .uniform import UniformPolicy

_WALK_ROUNDS = 4  # the walk scans at most this many rounds of candidate_mult * k prompts per call

PassRates = Callable[[np.ndarray], np.ndarray | tuple[np.ndarray, np.ndarray]]
"""ids (U,) int64 -> their pass rates now (U,) in [0, 1]; or, from a source that is itself uncertain (the simulator's
exact-posterior arm), a pair: a posterior draw of those pass rates and whether each prompt is beyond reach (U,) bool."""


@dataclass(frozen=True)
class AdaptiveSettings:
    """`CurriculumConfig.adaptive`: the adaptive walk's knobs."""

    reprobe_share: float = 0.05
    """Share of every batch re-probing prompts predicted beyond reach (predicted pass rate below `exclude_below`): a
    budget, not a per-prompt floor, so a pool mostly out of reach cannot flood the batch, yet every such prompt keeps
    coming back now and then (the walk offers them in turn)."""
    revisit_gap: int = 0
    """A prompt observed fewer than this many steps ago is skipped when it comes up (spacing; the walk draws a
    prompt at most once an epoch anyway, and an epoch is shorter when much of the pool is skipped)."""
    retention: float = 0.2
    """Least probability of keeping a prompt predicted mastered when it comes up, so solved skills keep being
    practised."""
    keep_power: float = 1.0
    """A prompt that comes up is kept with probability informativeness ** keep_power (above the floors); 1 keeps
    every prompt likely to give an informative group, larger values favour pass rates near 0.5."""
    beyond_mass: float = 0.5
    """How sure the walk must be that a prompt teaches nothing now (its pass rate below `exclude_below`) before it
    leaves the prompt to the re-probe budget: the posterior mass below exclude_below of an observed prompt, the share
    of its label's population below it for an unseen one. 0.5 is the median rule; higher values keep drawing prompts
    that may be partly learnable (a label mostly, not wholly, out of reach; one failed group)."""
    unseen_beyond_share: float | None = 0.8
    """The same verdict for an unseen prompt judged by its label's population: the share of that population below
    exclude_below at which the walk leaves the prompt to the re-probe budget (1: only where the whole label is beyond
    reach; None: `beyond_mass`). At 0.8 a label mostly, not wholly, beyond reach keeps its unseen prompts in the walk:
    on reasoning-gym the levels just above the frontier (sampled pass rates 0.02-0.13, greedy accuracy 0.2-0.5) are
    where plain GRPO gains most (docs/gym.md). Without labels the population is the whole pool and `beyond_mass`
    decides: the pool's share says nothing about one prompt, and 0.8 there doubled the draws of never-solved prompts
    on a mostly-hard pool for no gain in learning."""

    def __post_init__(self) -> None:
        check_fields(self, "adaptive.", _RANGES)


_RANGES = {
    "reprobe_share": (0.0, 1.0, "[]"),
    "revisit_gap": (0, INT_MAX, "[]"),
    "retention": (0.0, 1.0, "(]"),
    "beyond_mass": (0.0, 1.0, "()"),
    "unseen_beyond_share": (0.0, 1.0, "(]"),
    "keep_power": (0.0, math.inf, "()"),
}


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
    Settings = AdaptiveSettings

    def __init__(self, view: PolicyView, settings: AdaptiveSettings) -> None:
        super().__init__(view, settings)
        self.settings: AdaptiveSettings = settings
        self.passed_beyond = np.zeros(0, dtype=np.int64)  # (J,) the last call's, not state: read right after it
        self.pass_rates: PassRates | None = None  # see `use_pass_rates`

    def use_pass_rates(self, source: PassRates | None) -> None:
        """Keep prompts by `source` (ids (U,) -> their pass rates now, e.g. the true ones a study computes) instead
        of the predictions: the same rule at other rates. The ablations' ceiling (the oracle arm): its gain over the
        walk on its own predictions is the most any better prediction could add. Not part of the state; None
        restores the predictions."""
        self.pass_rates = source

    def propose(self, view: PolicyView, k: int, rng: np.random.Generator) -> np.ndarray:
        cfg, n, key = view.config, view.num_prompts, self.stream.key
        start = self.stream.cursor
        scan = min(n, _WALK_ROUNDS * cfg.candidate_mult * k)
        cand, end = walk(start, scan, n, key)  # (C,) the next prompts to come up
        m = domain_size(n)  # a scan across an epoch boundary can meet an id twice; within one epoch it cannot
        usable = first_occurrence(cand) if start // m != (end - 1) // m else np.ones(cand.size, dtype=bool)
        if view.pending.size:  # a trainer proposes the next chunk before the last one's feedback: no repeats
            usable &= ~view.is_member(cand, view.pending)
        if self.settings.revisit_gap:
            seen = view.attempts[cand] > 0
            usable &= ~seen | (view.step - view.last_step[cand] >= self.settings.revisit_gap)
        quota = int(self.settings.reprobe_share * k + rng.random())  # stochastic rounding: the share holds on average
        weight = np.zeros(cand.size)  # (C,) probability of keeping, filled round by round
        keep, beyond = np.zeros(cand.size, dtype=bool), np.zeros(cand.size, dtype=bool)
        step = cfg.candidate_mult * k
        for lo in range(0, cand.size, step):  # score only as far as needed: most calls stop after one round
            part = slice(lo, lo + step)
            weight[part], beyond[part] = keep_weights(view, self.settings, cand[part], rng, self.pass_rates)
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
            chosen = np.concatenate([chosen, view.any_other(k - chosen.size, chosen, rng)])
        return chosen

    def after_observe(self, view: PolicyView, uniq: np.ndarray, update: AbilityUpdate) -> Assignment:
        """Observed prompts go where their verdict says (for the statistics: the walk keeps every pool in reach)."""
        return BasePolicy.after_observe(self, view, uniq, update)


def keep_weights(
    view: PolicyView,
    settings: AdaptiveSettings,
    ids: np.ndarray,
    rng: np.random.Generator,
    pass_rates: PassRates | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(U,) the walk's probability of keeping each prompt as it comes up, and whether it is predicted beyond reach
    (those get weight 0: only the re-probe budget draws them)."""
    cfg, group = view.config, view.group_size()
    if pass_rates is not None:  # the ablations' ceiling: the same rule at the true pass rates
        rates = pass_rates(ids)
        p = np.asarray(rates[0] if isinstance(rates, tuple) else rates, dtype=np.float64)
        beyond = np.asarray(rates[1], dtype=bool) if isinstance(rates, tuple) else p < cfg.exclude_below
        if p.shape != ids.shape or beyond.shape != ids.shape:
            raise ValueError(
                f"a pass-rate source must return {ids.shape} rates (or a tuple of rates and verdicts of that shape), "
                f"got rates {p.shape} and verdicts {beyond.shape}"
            )
        info = informativeness(p, group)
    else:
        m, v = view.posterior(ids)
        p = sigmoid(m + cfg.thompson_scale * np.sqrt(v) * rng.standard_normal(ids.size))  # (U,) a posterior draw
        info = informativeness(p, group)
        z = NormalDist().inv_cdf(settings.beyond_mass)
        beyond = m + z * np.sqrt(v) < view.logit_low  # (U,) posterior mass below exclude_below >= beyond_mass
        unseen = view.attempts[ids] == 0
        if view.prior_type != "pass_rate" and unseen.any() and not view.features_active():
            # an unseen prompt without features that predict: its label's population decides
            lab = view.label_of(ids[unseen])
            table = view.unseen_table(group)
            info[unseen], p[unseen] = table.informativeness[lab], table.pass_rate[lab]
            share = settings.unseen_beyond_share if view.prior_type == "label" else None
            beyond[unseen] = table.beyond_share[lab] >= (settings.beyond_mass if share is None else share)
    keep = info**settings.keep_power
    weight = np.where(p >= cfg.target, np.maximum(keep, settings.retention), keep)
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
