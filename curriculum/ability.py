"""Online ability model: p_i(t) = sigmoid(theta(t) - offset[label_i] - b_i).

A Rasch (1-parameter IRT) model learned online, with Gaussian beliefs in logit space. Three parts, kept apart
by how each is anchored:

- `theta`          one global ability, the pool-wide level: what the model can do now. It moves every step
                   (process noise `ability_drift`) and learns from **every** group:
                   - a first visit of a prompt carries evidence about theta - offset[label] through the
                     likelihood of its successes with the prompt's difficulty integrated over its label's
                     population (the random-item Rasch model; Glicko's correction for an opponent's
                     uncertainty is the same idea). The evidence depends on a group only through
                     (label, rollouts, successes), so a step costs O(observed prompts) plus a table of at
                     most labels x (G + 1) rows;
                   - a revisit at least `revisit_min_gap` steps after the last carries its conditional
                     evidence (free of the prompt's difficulty; down-weighted by `revisit_noise`, since a
                     prompt just trained on improves on its own).
- `offset[g]`      the difficulty of label g (a level, a source) relative to the others. theta and the offsets
                   are one filter: each step's evidence is about eta_g = theta - offset[g] per label, and
                   Newton steps on the joint posterior (an arrow-shaped system, solved in O(labels)) split
                   it. Whatever common move the offsets then made, weighted by the information behind it,
                   goes into theta: `theta` carries the common improvement, the offsets only the differences
                   between labels, and a label the step said nothing about (all-pass, all-fail) neither
                   drags theta nor stops following it.
- `b_i`            each prompt's own difficulty, relative to its label. Its belief is re-solved from scratch
                   whenever the prompt is observed: the exact mode and curvature of
                       N(b; population prior of its label) x Binomial(s_i; n_i, sigmoid(anchor_i - b))
                   (its moments on a grid when the counts are one-sided: 0/n is a truncated prior,
                   not a bump) where (s_i, n_i) are the tracker's discounted counts and anchor_i the (equally
                   discounted) mean of theta - offset at the times it was observed. Re-solving from
                   sufficient statistics avoids the over-confidence of sequential Laplace updates, so
                   0/32 really reads as "near-impossible".
- population       each label's distribution of b_i (empirical Bayes): a histogram over B_GRID, the
                   sum of the observed prompts' beliefs plus a pseudo-count of the configured prior,
                   mixed with a flat share so never-solved prompts may sit far beyond any seen so far.
                   Its *shape* is learned; its *location* is pinned at 0 (the histogram is used centred on
                   its mean). That pin is what tells the ability from the population: a shift of theta and
                   of every b_i are the same model, and without it the population would absorb the model's
                   progress as if the prompts had got easier. It is the prior of every unseen prompt of that
                   label; an unseen prompt's predicted pass rate is the mean over the histogram.

Between observations a prompt's variance grows by `prompt_drift` per step, so old verdicts expire
and get re-checked. A prompt last seen 200 steps ago is predicted at today's theta, not at its
stale pass rate. Every update is O(observed prompts); predictions integrate over the belief with
the probit approximation p = sigmoid(m / sqrt(1 + pi v / 8)).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any, NamedTuple

import numpy as np

from .beliefs import AbilityUpdate, UnseenTable, probit, sigmoid, softplus
from .config import CurriculumConfig
from .features import FeatureModel
from .statecheck import read_array, read_float, read_int

_NEWTON_ITERS = 3
_B_LIMIT = 30.0  # |logit| bound on difficulties: pass rates of 1e-13 are as good as zero
_POP_PSEUDO = 20.0  # the population histogram starts as this many prompts' worth of the configured prior
_FLAT_SHARE = 0.1  # share of the grid prior spread flat: all-fail prompts may be far beyond any seen so far


_HISTORY_CAP = 256  # discounted history counts are rescaled to at most this many rollouts
_LOGIT_LIMIT = 1e10  # |logits| a state may hold: the ability moves at most one a step, and steps are int32


def verdict_rows(s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """(U,) where a confident verdict is possible at all: observed, with a pass rate below 1/4 or above 3/4."""
    return (n > 0) & ((s < 0.25 * n) | (s > 0.75 * n))


def tail_masses(
    w: np.ndarray, now: np.ndarray, slack: np.ndarray | float, logit_low: float, logit_high: float
) -> tuple[np.ndarray, np.ndarray]:
    """(U,) posterior mass of a pass-rate logit now below `logit_low` and above `logit_high`, from weights w and
    the logit `now` at each node (U, K); each node moved `slack` (U,) against the verdict (conservative)."""
    slack = np.asarray(slack)[..., None] if np.ndim(slack) else slack
    return np.where(now + slack < logit_low, w, 0.0).sum(axis=1), np.where(now - slack > logit_high, w, 0.0).sum(axis=1)


def _clip(x: np.ndarray, low: float | np.ndarray, high: float | np.ndarray) -> np.ndarray:
    """np.clip for the hot path: two ufunc calls, without np.clip's dispatch (several times its cost on tiny arrays)."""
    return np.minimum(np.maximum(x, low), high)


GRID_Z = np.linspace(-5.0, 5.0, 33)  # (K,) standard-normal nodes spanning a prior
_GRID_LOGW = -0.5 * GRID_Z**2  # (K,) prior log-weights at the nodes


_BIN = 1.0
B_GRID = np.arange(-16.0, 20.01, _BIN)  # (K,) absolute difficulty nodes of the population histogram
_B_GRID_SQ = B_GRID**2


def grid_posterior(s: np.ndarray, n: np.ndarray, nodes: np.ndarray, log_prior: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Posterior weights (U, K) over difficulty `nodes` ((U, K) or (1, K)) with prior log-weights `log_prior`
    (same shape), given s successes in n rollouts at pass-rate logit `anchor - b`.

    Used where a Gaussian (Laplace) belief is poor: one-sided counts (0/n, n/n) whose posterior is a
    truncated prior, not a bump, and the tails that decide exclusion and retirement."""
    logit = anchor[:, None] - nodes  # (U, K)
    minus_log_p = softplus(-logit)  # (U, K) -log sigmoid(logit)
    # log-likelihood: -(s softplus(-x) + (n - s) softplus(x)), with softplus(x) = softplus(-x) + x
    log_w = log_prior - (n[:, None] * minus_log_p + (n - s)[:, None] * logit)
    w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def _log_factorial(size: int) -> np.ndarray:
    """[>= size] log(k!) for k = 0, 1, ...: one cached table per power of two, so varying sizes reuse it."""
    return _log_factorial_table(1 << max(10, (int(size) - 1).bit_length()))


@functools.lru_cache(maxsize=8)
def _log_factorial_table(size: int) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, size, dtype=np.float64)))])  # [size]


def conditional_table(
    s: np.ndarray, n: np.ndarray, s_hist: np.ndarray, n_hist: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Rasch conditional likelihood of a revisit, for delta = ability now minus at its history: s successes
    in n now after s_hist in n_hist before, *conditional on the total* S = s + s_hist. Given S, the split
    follows a Fisher noncentral hypergeometric law with odds exp(delta), free of the prompt's difficulty:
    no prior on difficulty can bias it, and a prompt saturated on both occasions (S = 0 or S = n + n_hist)
    carries exactly zero information.

    This is its delta-free part: (1, X) candidate successes now, (R, X) log base weights (-inf where
    impossible), (R,) successes now; computed once per step and reused by `conditional_moments`."""
    scale = np.minimum(1.0, _HISTORY_CAP / np.maximum(n_hist, 1e-9))
    nh = np.rint(n_hist * scale).astype(np.int64)
    sh = _clip(np.rint(s_hist * scale).astype(np.int64), 0, nh)
    n_i, s_i = n.astype(np.int64), s.astype(np.int64)
    total = sh + s_i
    x = np.arange(int(n_i.max(initial=0)) + 1)[None, :]  # (1, X) candidate successes now
    lo, hi = np.maximum(0, total - nh)[:, None], np.minimum(n_i, total)[:, None]
    valid = (x >= lo) & (x <= hi)  # (R, X)
    lf = _log_factorial(int(max(nh.max(initial=0), n_i.max(initial=0))) + 2)
    xs = np.where(valid, x, lo)  # keep indices in range where invalid
    logw = -lf[total[:, None] - xs] - lf[nh[:, None] - total[:, None] + xs] - lf[xs] - lf[n_i[:, None] - xs]
    return x, np.where(valid, logw, -np.inf), s_i


def conditional_moments(
    table: tuple[np.ndarray, np.ndarray, np.ndarray], delta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(score, information) of each row at ability change `delta` (R,), from `conditional_table`."""
    x, base, s_i = table
    logw = base + x * delta[:, None]
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    wx = w * x
    mean = wx.sum(axis=1)
    var = np.maximum((wx * x).sum(axis=1) - mean**2, 0.0)
    return s_i - mean, var


_LEVEL_ITERS = 8  # at most this many Newton steps a step on theta and the offsets (each clipped to one logit)
_LEVEL_TOL = 0.01  # ... stopping once no move exceeds this (logits): two or three steps once the levels are known
_MIN_INFO = 1e-9  # the observed information of a first visit may come out negative (flat likelihood): floored


class _FirstVisits(NamedTuple):
    """First visits as grid rows: (R,) label, rollouts, successes and how many groups share them; (R, K) the nodes
    of the difficulty prior and their log-weights. The evidence about eta = theta - offset[label] is the marginal
    likelihood of the successes with the difficulty integrated over that prior."""

    lab: np.ndarray
    n: np.ndarray
    s: np.ndarray
    count: np.ndarray
    nodes: np.ndarray
    log_prior: np.ndarray

    def moments(self, level: np.ndarray, num_labels: int) -> tuple[np.ndarray, np.ndarray]:
        """[L] score and observed information of the marginal log-likelihood in eta_g, at `level` [L]."""
        x = level[self.lab][:, None] - self.nodes  # (R, K) pass-rate logit at each node
        p = sigmoid(x)
        log_w = self.log_prior - (self.n[:, None] * softplus(-x) + (self.n - self.s)[:, None] * x)
        w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)  # (R, K) posterior over the node, given the group
        g = self.s[:, None] - self.n[:, None] * p  # (R, K) d/d eta of log p(s | node)
        score = (w * g).sum(axis=1)
        # Louis: observed information = E[n p (1 - p)] - Var[g] under the node's posterior
        info = (w * (self.n[:, None] * p * (1.0 - p) - g**2)).sum(axis=1) + score**2
        info = np.maximum(info, _MIN_INFO)
        return (
            np.bincount(self.lab, weights=self.count * score, minlength=num_labels),
            np.bincount(self.lab, weights=self.count * info, minlength=num_labels),
        )


class _Revisits(NamedTuple):
    """Revisits as rows of `conditional_table`: (R,) label and the anchor their history was taken at."""

    lab: np.ndarray
    anchor: np.ndarray
    table: tuple[np.ndarray, np.ndarray, np.ndarray]
    noise: float

    def moments(self, level: np.ndarray, num_labels: int) -> tuple[np.ndarray, np.ndarray]:
        """[L] score and information about eta_g from the revisits' change since their anchor, each shrunk by the
        prompt's own change (a random effect of variance `noise`)."""
        score, info = conditional_moments(self.table, level[self.lab] - self.anchor)
        keep = 1.0 / (1.0 + info * self.noise)
        return (
            np.bincount(self.lab, weights=score * keep, minlength=num_labels),
            np.bincount(self.lab, weights=info * keep, minlength=num_labels),
        )


_Evidence = _FirstVisits | _Revisits


class AbilityModel:
    def __init__(
        self,
        num_prompts: int,
        config: CurriculumConfig,
        labels: np.ndarray | None,
        num_labels: int,
        prior_logit: np.ndarray | None,
    ) -> None:
        self.cfg = config
        self.labels = labels  # [N] small ints, or None (one label)
        self.num_labels = max(int(num_labels), 1)
        self.theta, self.theta_var = 0.0, 1.0
        self.offset = np.zeros(self.num_labels, dtype=np.float64)  # [L] label difficulty relative to the others
        self.offset_var = np.full(self.num_labels, config.prompt_prior_sd**2 if labels is not None else 0.0)  # [L]
        self.last_step = 0  # step at which theta/offsets last absorbed process noise
        # pass-rate priors give each prompt its own prior mean; otherwise the label population is the prior
        self.prior_mean = None if prior_logit is None else (-prior_logit).astype(np.float32)  # [N] or None
        self.prior_var = float(config.prompt_prior_sd**2 if prior_logit is None else config.pass_rate_prior_sd**2)
        self.mu = np.zeros(num_prompts, dtype=np.float32)  # [N] b_i mean (meaningful once observed)
        self.var = np.zeros(num_prompts, dtype=np.float32)  # [N] b_i variance at the last observation
        self.anchor = np.zeros(num_prompts, dtype=np.float32)  # [N] discounted mean of theta - offset when observed
        # [L, K] population histogram of b over B_GRID: a pseudo-count of the configured prior, plus the
        # posterior of every observed prompt (one-pass EM); bimodal pools stay bimodal. Used centred on its mean.
        start = np.exp(-0.5 * B_GRID**2 / self.prior_var)
        self.hist = np.tile(_POP_PSEUDO * start / start.sum(), (self.num_labels, 1))
        self._pop_cache: tuple[np.ndarray, ...] | None = None  # dropped whenever hist changes
        self._unseen_cache: tuple | None = None  # the unseen prompts' grid, keyed on the clock and the state it reads
        self.features: FeatureModel | None = None  # set by the curriculum: unseen prompts predicted from features
        self.logit_low = math.log(config.exclude_below / (1.0 - config.exclude_below))
        self.logit_high = math.log(config.retire_above / (1.0 - config.retire_above))

    # ---- beliefs ---------------------------------------------------------------------------------
    def label_of(self, ids: np.ndarray) -> np.ndarray:
        """(U,) label index of each prompt (0 for every prompt without labels)."""
        if self.labels is None:
            return np.zeros(ids.shape, dtype=np.intp)
        return self.labels[ids].astype(np.intp)

    def level(self) -> np.ndarray:
        """[L] eta_g = theta - offset[g]: the pass-rate logit of a prompt of label g at the centre of its population."""
        return self.theta - self.offset

    def population(self) -> tuple[np.ndarray, np.ndarray]:
        """Per label, (mean, variance) of b over the population: the mean is pinned at 0 (see the module docstring)."""
        return np.zeros(self.num_labels), self._population()[1]

    def log_population(self, flat: bool = False) -> np.ndarray:
        """[L, K] log-weights of the population histogram over its nodes (`population_nodes`); `flat` mixes in a
        flat share (the verdicts' tails: a never-solved prompt may sit far beyond any seen so far)."""
        return self._population()[4 if flat else 2]

    def population_nodes(self) -> np.ndarray:
        """[L, K] difficulty nodes of each label's histogram, centred: B_GRID minus the histogram's mean."""
        return self._population()[3]

    def _population(self) -> tuple[np.ndarray, ...]:
        if self._pop_cache is None:  # read several times a step; every write to self.hist drops it
            p = self.hist / self.hist.sum(axis=1, keepdims=True)  # [L, K]
            mean = (p * B_GRID).sum(axis=1)  # [L] sums rather than `p @ B_GRID`: no BLAS call for a few dozen numbers
            if self.prior_mean is not None:
                var = np.full(self.num_labels, self.prior_var)
            else:
                var = np.maximum((p * _B_GRID_SQ).sum(axis=1) - mean**2, 1e-6)
            tail = (1.0 - _FLAT_SHARE) * p + _FLAT_SHARE / B_GRID.size  # a flat share keeps far tails possible
            log_p = np.log(np.maximum(p, 1e-300))
            self._pop_cache = (mean, var, log_p, B_GRID[None, :] - mean[:, None], np.log(tail), p / tail)
        return self._pop_cache

    def _unflat(self, lab: np.ndarray) -> np.ndarray | float:
        """(U, K) or (1, K): the factor turning a posterior under the population with its flat share into one under
        the population alone (at most 1 / (1 - _FLAT_SHARE): no node blows up); 1 for pass-rate priors."""
        if self.prior_mean is not None:
            return 1.0
        ratio = self._population()[5]
        return ratio if self.num_labels == 1 else ratio[lab]

    def prior_grid(self, ids: np.ndarray, lab: np.ndarray, flat: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Prior of b_i as grid nodes and log-weights, each (U, K) or (1, K) where shared by every prompt: the
        label's population histogram (centred; `flat`: with its flat share), or a Gaussian around a per-prompt
        pass-rate prior."""
        if self.prior_mean is not None:
            nodes = self.prior_mean[ids].astype(np.float64)[:, None] + math.sqrt(self.prior_var) * GRID_Z[None, :]
            return nodes, _GRID_LOGW[None, :]
        if self.num_labels == 1:
            return self.population_nodes(), self.log_population(flat)
        return self.population_nodes()[lab], self.log_population(flat)[lab]

    def prior(self, ids: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Prior (mean, variance) of b_i before any observation."""
        if self.prior_mean is not None:
            return self.prior_mean[ids].astype(np.float64), np.full(ids.size, self.prior_var)
        return np.zeros(ids.size), self._population()[1][lab]

    def _belief(
        self,
        p_mean: np.ndarray,
        p_var: np.ndarray,
        mu: np.ndarray,
        var: np.ndarray,
        attempts: np.ndarray,
        last_seen: np.ndarray,
        step: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(mean, variance) of b_i now, each (U,), from the prompts' prior (p_mean, p_var) and stored solve (mu, var):
        the prior if never observed; else the last solve, its variance grown by prompt_drift per step since,
        capped at the prior variance."""
        seen = attempts > 0
        grown = var + self.cfg.prompt_drift * (step - last_seen)
        return np.where(seen, mu, p_mean), np.where(seen, np.minimum(grown, p_var), p_var)

    def posterior(
        self, ids: np.ndarray, attempts: np.ndarray, last_seen: np.ndarray, step: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(mean, variance) of each prompt's pass-rate logit now."""
        lab = self.label_of(ids)
        b_mean, b_var = self._belief(*self.prior(ids, lab), self.mu[ids], self.var[ids], attempts, last_seen, step)
        unseen = attempts == 0
        if self.features_active() and unseen.any():  # unseen prompts: their features' prediction
            assert self.features is not None
            b_mean[unseen] = self.features.predict(ids[unseen])
            b_var[unseen] = self.features.share() * self._population()[1][lab[unseen]]
        return self._logit(lab, b_mean, b_var, step)

    def features_active(self) -> bool:
        """Whether unseen prompts are predicted from their features now (else from their label's population)."""
        return self.features is not None and self.features.active()

    def predict(self, ids: np.ndarray, attempts: np.ndarray, last_seen: np.ndarray, step: int) -> np.ndarray:
        """(U,) pass rate now: an observed prompt's from its belief; an unseen one's from its features' prediction
        where they predict (`features_active`), else its label's mean over the population histogram (a wide or
        bimodal population is not one Gaussian)."""
        p = probit(*self.posterior(ids, attempts, last_seen, step))
        unseen = attempts == 0
        if self.prior_mean is None and unseen.any() and not self.features_active():
            p[unseen] = self.unseen_pass_rate(step)[self.label_of(ids[unseen])]
        return p

    def unseen_pass_rate(self, step: int) -> np.ndarray:
        """[L] predicted pass rate of a prompt of each label never observed: the mean over its population."""
        return self.unseen_table(step).pass_rate

    def unseen_table(self, step: int, group_size: float = 8.0) -> UnseenTable:
        """Per label, what the walk and the predictions need of a prompt never observed, averaged over the label's
        population: its pass rate now, the chance that a group of `group_size` is informative, and the share of the
        population below exclude_below. The (L, K) grid behind it is computed once per step and state."""
        key = (step, self.last_step, self.theta)
        if self._unseen_cache is None or self._unseen_cache[0] != key:
            logit = self.level()[:, None] - self.population_nodes()  # (L, K)
            p = probit(logit, (self._theta_var(step) + self._offset_var(step))[:, None])
            w = np.exp(self.log_population())  # (L, K) sums to 1 per label
            self._unseen_cache = (key, p, w, (w * (logit < self.logit_low)).sum(axis=1))
        _, p, w, beyond_share = self._unseen_cache
        info = 1.0 - p**group_size - (1.0 - p) ** group_size
        return UnseenTable((w * p).sum(axis=1), (w * info).sum(axis=1), beyond_share)

    def _logit(self, lab: np.ndarray, b_mean: np.ndarray, b_var: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Pass-rate logit (mean, variance) of prompts of labels `lab` with difficulty beliefs N(b_mean, b_var)."""
        return self.theta - self.offset[lab] - b_mean, self._theta_var(step) + self._offset_var(step)[lab] + b_var

    def label_posterior(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean, variance) of the pass-rate logit of an unseen prompt of each label."""
        return self.level(), self._theta_var(step) + self._offset_var(step) + self._population()[1]

    def _theta_var(self, step: int) -> float:
        return self.theta_var + self.cfg.ability_drift * (step - self.last_step)

    def _offset_var(self, step: int) -> np.ndarray:
        if self.labels is None:
            return self.offset_var
        return self.offset_var + self.cfg.label_drift * (step - self.last_step)

    # ---- learning --------------------------------------------------------------------------------
    def verdict_masses(self, ids: np.ndarray, s: np.ndarray, n: np.ndarray, since: np.ndarray) -> tuple[np.ndarray, ...]:
        """(U,) posterior mass of each prompt's pass rate now below exclude_below and above retire_above, from its
        discounted counts (s, n: float64) taken at the ability it was observed at, `since` steps ago: shifted to
        today's ability and made conservative by the uncertainty of that shift (each node moved against the verdict
        by z(confidence) sd of it: the ability's process noise accumulated since, at most its whole variance, plus
        the prompt's own drift)."""
        lab = self.label_of(ids)
        nodes, log_prior = self.prior_grid(ids, lab, flat=True)  # (U or 1, K)
        shift_var = np.minimum(self.theta_var, self.cfg.ability_drift * since) + self.cfg.prompt_drift * since
        w = grid_posterior(s, n, nodes, log_prior, self.anchor[ids].astype(np.float64))  # (U, K)
        now = self.level()[lab][:, None] - nodes  # (U, K) pass-rate logit now
        z = NormalDist().inv_cdf(self.cfg.confidence)
        return tail_masses(w, now, z * np.sqrt(shift_var), self.logit_low, self.logit_high)

    def update(
        self,
        uniq: np.ndarray,
        n: np.ndarray,
        s: np.ndarray,
        past: tuple[np.ndarray, np.ndarray],
        attempts: np.ndarray,
        last_seen: np.ndarray,
        step: int,
    ) -> AbilityUpdate:
        """Absorb one step: (U,) distinct ids, rollouts n, successes s; `past` = the tracker's discounted
        (successes, rollouts) of these prompts before this step. Returns their predictions before and after,
        and the posterior tail masses that decide exclusion and retirement (a prompt just observed has drifted
        nowhere since, so these need no slack)."""
        lab = self.label_of(uniq)
        seen = attempts > 0
        mu0, v0 = self.prior(uniq, lab)  # (U,) prior of b (the population moves only after the solve)
        mu_old, var_old = self.mu[uniq], self.var[uniq]  # (U,) beliefs before this step
        before = self.predict(uniq, attempts, last_seen, step)
        outcome = None
        if self.features is not None:  # first visits against the level before this step: the features' calibration
            first = ~seen
            b_var = self.features.share() * self._population()[1][lab[first]]
            outcome = (*self._logit(lab[first], np.zeros(b_var.size), b_var, step), n[first], s[first])
        self.theta_var, self.offset_var = self._theta_var(step), self._offset_var(step)
        self.last_step = step
        n, s = n.astype(np.float64), s.astype(np.float64)
        self._learn_levels(self._evidence(uniq, lab, n, s, past, seen, last_seen, step))
        mu, var, low, high = self._solve_prompts(uniq, lab, n, s, past, mu0, v0)
        if self.prior_mean is None:  # the population swaps the revisited prompts' old beliefs for the new ones
            self._population_move(lab[seen], mu_old[seen], var_old[seen], lab, mu, var)
        if self.features is not None:  # how the features predict these prompts' difficulty (scored first)
            self.features.learn(uniq, ~seen, mu, var, step, outcome)
        after = probit(*self._logit(lab, mu, np.minimum(var, v0), step))
        return AbilityUpdate(before=before, after=after, low=low, high=high)

    def refresh(self, ids: np.ndarray, s: np.ndarray, n: np.ndarray, step: int) -> None:
        """Solve the beliefs of observed prompts `ids` (U,) again under today's population, from the discounted counts
        (s, n: float64, n > 0) they were last solved from (at their last observation: the anchor is theirs), and swap
        them in the population and, for a fixed table of features, in their regression (the second pass of the
        population's one-pass EM). The ability and the prompts' clocks stay."""
        if self.prior_mean is not None or ids.size == 0:  # pass-rate priors: no population to refresh under
            return
        lab = self.label_of(ids)
        mu_old, var_old = self.mu[ids].astype(np.float64), self.var[ids].astype(np.float64)
        mu0, v0 = self.prior(ids, lab)
        zero = np.zeros(ids.size)
        mu, var, _, _ = self._solve_prompts(ids, lab, zero, zero, (s, n), mu0, v0)
        self._population_move(lab, mu_old, var_old, lab, mu, var)
        if self.features is not None:
            self.features.refresh(ids, mu, var, step)

    def _evidence(
        self,
        uniq: np.ndarray,
        lab: np.ndarray,
        n: np.ndarray,
        s: np.ndarray,
        past: tuple[np.ndarray, np.ndarray],
        seen: np.ndarray,
        last_seen: np.ndarray,
        step: int,
    ) -> list[_Evidence]:
        """This step's evidence about each label's level eta_g: first visits through the population, revisits
        through their conditional likelihood."""
        parts: list[_Evidence] = []
        first = ~seen
        if first.any():
            parts.append(self._first_visits(uniq[first], lab[first], n[first], s[first]))
        # revisits that are not saturated on both occasions (those carry exactly zero conditional information)
        total = s + past[0]
        r = seen & (total > 0.5) & (total < n + past[1] - 0.5) & (step - last_seen >= self.cfg.revisit_min_gap)
        if r.any():
            table = conditional_table(s[r], n[r], past[0][r], past[1][r])
            parts.append(_Revisits(lab[r], self.anchor[uniq[r]].astype(np.float64), table, self.cfg.revisit_noise))
        return parts

    def _first_visits(self, ids: np.ndarray, lab: np.ndarray, n: np.ndarray, s: np.ndarray) -> _FirstVisits:
        if self.prior_mean is not None:  # each prompt its own Gaussian prior: one grid row per prompt
            nodes, log_prior = self.prior_grid(ids, lab)
            return _FirstVisits(lab, n, s, np.ones(ids.size), nodes, np.broadcast_to(log_prior, nodes.shape))
        # the evidence depends on a group only through (label, n, s): one grid row per distinct triple
        width = int(n.max()) + 1
        key = (lab * width + n.astype(np.int64)) * width + s.astype(np.int64)
        _, first, count = np.unique(key, return_index=True, return_counts=True)
        lab_u = lab[first]
        return _FirstVisits(
            lab_u, n[first], s[first], count.astype(np.float64), self.population_nodes()[lab_u], self.log_population()[lab_u]
        )

    def _learn_levels(self, parts: list[_Evidence]) -> None:
        """Newton steps on the joint posterior of theta and the offsets given this step's evidence; then the offsets'
        common move, weighted by the information behind it, goes into theta (the offsets carry only differences
        between labels)."""
        if not parts:
            return
        theta0, offset0 = self.theta, self.offset.copy()
        labelled = self.labels is not None
        for _ in range(_LEVEL_ITERS):
            score, info = np.zeros(self.num_labels), np.zeros(self.num_labels)  # [L] d/d eta_g, -d2/d eta_g2
            for part in parts:
                sc, inf = part.moments(self.level(), self.num_labels)
                score += sc
                info += inf
            # gradient and (negative) Hessian of the log posterior in (theta, offsets): an arrow matrix
            r0 = score.sum() - (self.theta - theta0) / self.theta_var
            a = 1.0 / self.theta_var + info.sum()
            if labelled:
                r = -score - (self.offset - offset0) / self.offset_var
                d = 1.0 / self.offset_var + info  # [L]
                schur = a - float((info**2 / d).sum())
                step0 = (r0 + float((info * r / d).sum())) / schur  # the theta row after eliminating the offsets
                move = _clip((r + info * step0) / d, -1.0, 1.0)
                self.offset = self.offset + move
            else:
                schur = a
                step0 = r0 / schur
                move = np.zeros(1)
            self.theta += max(-1.0, min(1.0, float(step0)))
            if max(abs(step0), float(np.abs(move).max())) < _LEVEL_TOL:
                break
        self.theta_var = 1.0 / float(schur)
        if labelled:
            self.offset_var = 1.0 / d + (info / d) ** 2 * self.theta_var
            # the offsets' common move this step, weighted by the information behind it, belongs to theta: labels the
            # step said nothing about (all-pass or all-fail) neither drag theta nor follow it less
            common = float((info * (self.offset - offset0)).sum() / info.sum()) if info.sum() > 0 else 0.0
            self.offset = self.offset - common
            self.theta -= common

    def _solve_prompts(
        self,
        uniq: np.ndarray,
        lab: np.ndarray,
        n: np.ndarray,
        s: np.ndarray,
        past: tuple[np.ndarray, np.ndarray],
        mu0: np.ndarray,
        v0: np.ndarray,
    ) -> tuple[np.ndarray, ...]:
        """b_i <- mode and curvature of prior x Binomial(all discounted counts; n, sigmoid(anchor - b)), stored.

        The one-sided prompts' moments come from a grid posterior over the population, and so do the verdict-row
        prompts' tail masses, there with its flat share. (mu0, v0): the prompts' prior. Returns (U,) each: the new
        mean and variance (float64, as stored in float32) and the tail masses below exclude_below / above
        retire_above (0 outside the verdict rows)."""
        s_old, n_old = past  # float64
        n_tot, s_tot = n_old + n, s_old + s
        now = self.theta - self.offset[lab]
        anchor = (self.anchor[uniq] * n_old + now * n) / n_tot
        emp = np.log((s_tot + 0.5) / (n_tot - s_tot + 0.5))  # (U,) empirical logit: a start near the mode
        b = (anchor - emp) * (n_tot / (n_tot + 1.0 / v0)) + mu0 * ((1.0 / v0) / (n_tot + 1.0 / v0))
        for _ in range(_NEWTON_ITERS):
            p = sigmoid(anchor - b)
            grad = (n_tot * p - s_tot) - (b - mu0) / v0  # d/db log posterior
            hess = n_tot * p * (1.0 - p) + 1.0 / v0  # -d2/db2
            b = _clip(b + _clip(grad / hess, -2.0, 2.0), -_B_LIMIT, _B_LIMIT)  # damped Newton
        p = sigmoid(anchor - b)
        var = 1.0 / (n_tot * p * (1.0 - p) + 1.0 / v0)
        one_sided = (s_tot < 0.5) | (s_tot > n_tot - 0.5)  # (U,) all-fail / all-pass: moments on a grid
        verdict = verdict_rows(s_tot, n_tot)  # (U,) where the tails can decide a verdict
        low, high = np.zeros(uniq.size), np.zeros(uniq.size)
        rows = (one_sided | verdict).nonzero()[0]  # (R,) one grid serves both
        if rows.size:
            # the posterior under the population with its flat share decides the verdicts' tails; the one-sided
            # prompts' beliefs use the population alone (EM-consistent), the same grid reweighted node by node
            nodes, log_prior = self.prior_grid(uniq[rows], lab[rows], flat=True)  # (R or 1, K)
            w = grid_posterior(s_tot[rows], n_tot[rows], nodes, log_prior, anchor[rows])  # (R, K)
            tails = tail_masses(w, now[rows, None] - nodes, 0.0, self.logit_low, self.logit_high)
            low[rows], high[rows] = tails[0] * verdict[rows], tails[1] * verdict[rows]
            one = rows[one_sided[rows]]
            if one.size:
                w = w[one_sided[rows]] * self._unflat(lab[one])  # (O, K)
                w /= w.sum(axis=1, keepdims=True)
                nodes = nodes if nodes.shape[0] == 1 else nodes[one_sided[rows]]
                b[one] = (w * nodes).sum(axis=1)
                var[one] = (w * (nodes - b[one, None]) ** 2).sum(axis=1)
        self.mu[uniq] = b
        self.var[uniq] = var
        self.anchor[uniq] = anchor
        return b, var, low, high

    def _population_move(
        self,
        lab_out: np.ndarray,
        mu_out: np.ndarray,
        var_out: np.ndarray,
        lab_in: np.ndarray,
        mu_in: np.ndarray,
        var_in: np.ndarray,
    ) -> None:
        """Remove the beliefs N(mu, var) `*_out` and add `*_in`, discretised on B_GRID, in their labels'
        histograms: the population is the sum of the prompts' current beliefs (empirical Bayes)."""
        lab = np.concatenate([lab_out, lab_in])
        mu = np.concatenate([mu_out, mu_in])
        var = np.concatenate([var_out, var_in]) + _BIN**2 / 4  # float64: the routines the step runs anyway
        sign = np.where(np.arange(lab.size) < lab_out.size, -1.0, 1.0)
        w = np.exp(-0.5 * (B_GRID[None, :] - mu[:, None]) ** 2 / var[:, None])  # (R, K)
        w *= (sign / np.maximum(w.sum(axis=1), 1e-30))[:, None]
        if self.num_labels == 1:
            self.hist[0] += w.sum(axis=0)
        else:  # (L, R) one-hot @ (R, K): a per-label sum without np.add.at (slow)
            onehot = np.zeros((self.num_labels, lab.size))
            onehot[lab, np.arange(lab.size)] = 1.0
            self.hist += onehot @ w
        np.maximum(self.hist, 0.0, out=self.hist)  # float round-off of add-then-remove
        self._pop_cache = self._unseen_cache = None

    def forget(self, ids: np.ndarray) -> None:
        """Drop the beliefs about `ids` (new prompts take their place); theta, the offsets and the populations, which
        the departed prompts informed, stay. O(len(ids))."""
        for arr in (self.mu, self.var, self.anchor):
            arr[ids] = 0.0

    # ---- checkpoint ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray | float | int]:
        features = self.features.state_dict() if self.features is not None else {}
        return features | {
            "theta": self.theta,
            "theta_var": self.theta_var,
            "offset": self.offset,
            "offset_var": self.offset_var,
            "ability_last_step": self.last_step,
            "mu": self.mu,
            "var": self.var,
            "anchor": self.anchor,
            "population_hist": self.hist,
        }

    def check_state(self, sd: Mapping[str, Any], step: int) -> None:
        """Raise ValueError naming the entry unless `sd` holds beliefs this model can load at clock `step`."""
        lim, labels, prompts = _LOGIT_LIMIT, (self.num_labels,), (self.mu.size,)
        read_float(sd, "theta", -lim, lim)
        read_float(sd, "theta_var", 0.0, low_open=True)
        read_array(sd, "offset", np.float64, labels, -lim, lim)
        read_array(sd, "offset_var", np.float64, labels, low=0.0)
        read_int(sd, "ability_last_step", 0, step)
        read_array(sd, "mu", np.float32, prompts, -lim, lim)
        read_array(sd, "var", np.float32, prompts, low=0.0)
        read_array(sd, "anchor", np.float32, prompts, -lim, lim)
        if self.features is not None:
            self.features.check_state(sd, step)
        hist = read_array(sd, "population_hist", np.float64, (self.num_labels, B_GRID.size), low=0.0)
        total = hist.sum(axis=1)
        if not (np.isfinite(total) & (total > 0)).all():
            raise ValueError("curriculum state entry 'population_hist' has a label whose weights sum to 0 or overflow")

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Assign a state `check_state` passed."""
        self.theta, self.theta_var = float(sd["theta"]), float(sd["theta_var"])
        self.last_step = int(sd["ability_last_step"])
        self.hist = np.array(sd["population_hist"], dtype=np.float64)
        self._pop_cache = self._unseen_cache = None
        for name in ("offset", "offset_var", "mu", "var", "anchor"):
            getattr(self, name)[...] = sd[name]
        if self.features is not None:
            self.features.load_state_dict(sd)
