"""Online ability model: p_i(t) = sigmoid(theta(t) - offset[label_i] - b_i).

A Rasch (1-parameter IRT) model learned online, with Gaussian beliefs in logit space:

- `theta`          one global ability; moves every step (process noise `ability_drift`), learned from
                   revisits of prompts (a prompt's first group places the prompt, not the ability) at
                   least `revisit_min_gap` steps apart, each down-weighted by `revisit_noise` (a prompt
                   just trained on improves on its own);
- `offset[g]`      the difficulty of label g (a level 1..5, a source), learned online, so a label
                   observed rarely still gets predictions that follow the global ability;
- `b_i`            each prompt's own difficulty. Its belief is re-solved from scratch whenever the prompt
                   is observed: the exact mode and curvature of
                       N(b; population prior of its label) x Binomial(s_i; n_i, sigmoid(anchor_i - b))
                   (its moments on a grid when the counts are one-sided: 0/n is a truncated prior,
                   not a bump) where (s_i, n_i) are the tracker's discounted counts and anchor_i the (equally
                   discounted) mean of theta - offset at the times it was observed. Re-solving from
                   sufficient statistics avoids the over-confidence of sequential Laplace updates, so
                   0/32 really reads as "near-impossible".
- population       each label's distribution of b_i (empirical Bayes): a histogram over B_GRID, the
                   sum of the observed prompts' beliefs plus a pseudo-count of the configured prior,
                   mixed with a flat share so never-solved prompts may sit far beyond any seen so far.
                   It is the prior of every unseen prompt of that label (its moments where a Gaussian
                   is needed, the histogram itself on grids).

Between observations a prompt's variance grows by `prompt_drift` per step, so old verdicts expire
and get re-checked. A prompt last seen 200 steps ago is predicted at today's theta, not at its
stale pass rate. Every update is O(observed prompts); predictions integrate over the belief with
the probit approximation p = sigmoid(m / sqrt(1 + pi v / 8)).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from .config import CurriculumConfig
from .statecheck import read_array, read_float, read_int

_NEWTON_ITERS = 3
_B_LIMIT = 30.0  # |logit| bound on difficulties: pass rates of 1e-13 are as good as zero
_POP_PSEUDO = 20.0  # the population histogram starts as this many prompts' worth of the configured prior
_FLAT_SHARE = 0.1  # share of the grid prior spread flat: all-fail prompts may be far beyond any seen so far


_HISTORY_CAP = 256  # discounted history counts are rescaled to at most this many rollouts
_LOGIT_LIMIT = 1e10  # |logits| a state may hold: the ability moves at most one a step, and steps are int32


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def probit(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pass rate of a logit belief N(m, v), integrated with the probit approximation sigmoid(m / sqrt(1 + pi v / 8))."""
    return sigmoid(m / np.sqrt(1.0 + (math.pi / 8.0) * v))


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


class Solved(NamedTuple):
    """What `AbilityModel.update` learned about the prompts it absorbed, each (U,) in the order given."""

    before: np.ndarray  # pass rate predicted before this step's evidence
    after: np.ndarray  # pass rate predicted now
    low: np.ndarray  # posterior probability that the pass rate now is below exclude_below (0: no verdict possible)
    high: np.ndarray  # posterior probability that it is above retire_above


def _clip(x: np.ndarray, low: float | np.ndarray, high: float | np.ndarray) -> np.ndarray:
    """np.clip for the hot path: two ufunc calls, without np.clip's dispatch (several times its cost on tiny arrays)."""
    return np.minimum(np.maximum(x, low), high)


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), stable (np.logaddexp is ~20x slower)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


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
    softplus = _softplus(-logit)  # (U, K) -log sigmoid(logit)
    # log-likelihood: -(s softplus(-x) + (n - s) softplus(x)), with softplus(x) = softplus(-x) + x
    log_w = log_prior - (n[:, None] * softplus + (n - s)[:, None] * logit)
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
        self.offset = np.zeros(self.num_labels, dtype=np.float64)  # [L] label difficulty
        self.offset_var = np.full(self.num_labels, 1.0 if labels is not None else 0.0)  # [L]
        self.last_step = 0  # step at which theta/offsets last absorbed process noise
        # pass-rate priors give each prompt its own prior mean; otherwise the label population is the prior
        self.prior_mean = None if prior_logit is None else (-prior_logit).astype(np.float32)  # [N] or None
        self.prior_var = float(config.prompt_prior_sd**2 if prior_logit is None else config.pass_rate_prior_sd**2)
        self.mu = np.zeros(num_prompts, dtype=np.float32)  # [N] b_i mean (meaningful once observed)
        self.var = np.zeros(num_prompts, dtype=np.float32)  # [N] b_i variance at the last observation
        self.anchor = np.zeros(num_prompts, dtype=np.float32)  # [N] discounted mean of theta - offset when observed
        # [L, K] population histogram of b over B_GRID: a pseudo-count of the configured prior, plus the
        # posterior of every prompt at its first observation (one-pass EM); bimodal pools stay bimodal
        start = np.exp(-0.5 * B_GRID**2 / self.prior_var)
        self.hist = np.tile(_POP_PSEUDO * start / start.sum(), (self.num_labels, 1))
        self._pop_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # dropped whenever hist changes
        self.logit_low = math.log(config.exclude_below / (1.0 - config.exclude_below))
        self.logit_high = math.log(config.retire_above / (1.0 - config.retire_above))

    # ---- beliefs ---------------------------------------------------------------------------------
    def _label(self, ids: np.ndarray) -> np.ndarray:
        if self.labels is None:
            return np.zeros(ids.shape, dtype=np.intp)
        return self.labels[ids].astype(np.intp)

    def population(self) -> tuple[np.ndarray, np.ndarray]:
        """Per label, (mean, variance) of b over the population (the histogram's moments)."""
        return self._population()[:2]

    def log_population(self) -> np.ndarray:
        """[L, K] log-weights of the population histogram over B_GRID."""
        return self._population()[2]

    def _population(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._pop_cache is None:  # read several times a step; every write to self.hist drops it
            p = self.hist / self.hist.sum(axis=1, keepdims=True)  # [L, K]
            if self.prior_mean is not None:
                moments = (np.zeros(self.num_labels), np.full(self.num_labels, self.prior_var))
            else:  # sums rather than `p @ B_GRID`: no BLAS call for a few dozen numbers
                mean = (p * B_GRID).sum(axis=1)
                moments = (mean, np.maximum((p * _B_GRID_SQ).sum(axis=1) - mean**2, 1e-6))
            tail = (1.0 - _FLAT_SHARE) * p + _FLAT_SHARE / B_GRID.size  # a flat share keeps far tails possible
            self._pop_cache = (*moments, np.log(tail))
        return self._pop_cache

    def prior_grid(self, ids: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Prior of b_i as grid nodes and log-weights, each (U, K) or (1, K) where shared by every prompt: the
        label's population histogram, or a Gaussian around a per-prompt pass-rate prior."""
        if self.prior_mean is not None:
            nodes = self.prior_mean[ids].astype(np.float64)[:, None] + math.sqrt(self.prior_var) * GRID_Z[None, :]
            return nodes, _GRID_LOGW[None, :]
        return B_GRID[None, :], self.log_population()[lab]

    def prior(self, ids: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Prior (mean, variance) of b_i before any observation."""
        if self.prior_mean is not None:
            return self.prior_mean[ids].astype(np.float64), np.full(ids.size, self.prior_var)
        pop_mean, pop_var = self.population()
        return pop_mean[lab], pop_var[lab]

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
        lab = self._label(ids)
        b_mean, b_var = self._belief(*self.prior(ids, lab), self.mu[ids], self.var[ids], attempts, last_seen, step)
        return self._logit(lab, b_mean, b_var, step)

    def _logit(self, lab: np.ndarray, b_mean: np.ndarray, b_var: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Pass-rate logit (mean, variance) of prompts of labels `lab` with difficulty beliefs N(b_mean, b_var)."""
        return self.theta - self.offset[lab] - b_mean, self._theta_var(step) + self._offset_var(step)[lab] + b_var

    def label_posterior(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean, variance) of the pass-rate logit of an unseen prompt of each label."""
        pop_mean, pop_var = self.population()
        return self.theta - self.offset - pop_mean, self._theta_var(step) + self._offset_var(step) + pop_var

    def _theta_var(self, step: int) -> float:
        return self.theta_var + self.cfg.ability_drift * (step - self.last_step)

    def _offset_var(self, step: int) -> np.ndarray:
        if self.labels is None:
            return self.offset_var
        return self.offset_var + self.cfg.label_drift * (step - self.last_step)

    # ---- learning --------------------------------------------------------------------------------
    def update(
        self,
        uniq: np.ndarray,
        n: np.ndarray,
        s: np.ndarray,
        past: tuple[np.ndarray, np.ndarray],
        attempts: np.ndarray,
        last_seen: np.ndarray,
        step: int,
    ) -> Solved:
        """Absorb one step: (U,) distinct ids, rollouts n, successes s; `past` = the tracker's discounted
        (successes, rollouts) of these prompts before this step. Returns their predictions before and after,
        and the posterior tail masses that decide exclusion and retirement (a prompt just observed has drifted
        nowhere since, so these need no slack)."""
        lab = self._label(uniq)
        mu0, v0 = self.prior(uniq, lab)  # (U,) prior of b (the population moves only after the solve)
        mu_old, var_old = self.mu[uniq], self.var[uniq]  # (U,) beliefs before this step
        before = probit(*self._logit(lab, *self._belief(mu0, v0, mu_old, var_old, attempts, last_seen, step), step))
        self.theta_var, self.offset_var = self._theta_var(step), self._offset_var(step)
        self.last_step = step
        n, s = n.astype(np.float64), s.astype(np.float64)
        seen = attempts > 0
        # (U,) revisits (a prompt's first group places the prompt, not the ability) that are not saturated
        # on both occasions (those carry exactly zero conditional information)
        total = s + past[0]
        r = seen & (total > 0.5) & (total < n + past[1] - 0.5) & (step - last_seen >= self.cfg.revisit_min_gap)
        if r.any():
            table = conditional_table(s[r], n[r], past[0][r], past[1][r])
            anchor = self.anchor[uniq[r]].astype(np.float64)  # (R,) where the revisits' history was taken
            self._update_theta(lab[r], anchor, table)
            if self.labels is not None:
                self._update_offsets(lab[r], anchor, table)
        mu, var, low, high = self._solve_prompts(uniq, lab, n, s, past, mu0, v0)
        if self.prior_mean is None:  # the population swaps the revisited prompts' old beliefs for the new ones
            self._population_move(lab[seen], mu_old[seen], var_old[seen], lab, mu, var)
        after = probit(*self._logit(lab, mu, np.minimum(var, v0), step))
        return Solved(before=before, after=after, low=low, high=high)

    def _moments(self, lab: np.ndarray, anchor: np.ndarray, table: tuple) -> tuple[np.ndarray, np.ndarray]:
        """Per revisit (score, information) for the ability, at its change since the revisit's `anchor` as the model
        stands now, shrunk by the prompt's own change (random effect)."""
        score, info = conditional_moments(table, self.theta - self.offset[lab] - anchor)
        keep = 1.0 / (1.0 + info * self.cfg.revisit_noise)
        return score * keep, info * keep

    def _update_theta(self, lab: np.ndarray, anchor: np.ndarray, table: tuple) -> None:
        score, info = self._moments(lab, anchor, table)  # one Newton step a step: the online filter's update
        post_var = 1.0 / (1.0 / self.theta_var + float(info.sum()))
        self.theta += max(-1.0, min(1.0, post_var * float(score.sum())))
        self.theta_var = post_var

    def _update_offsets(self, lab: np.ndarray, anchor: np.ndarray, table: tuple) -> None:
        score, info = self._moments(lab, anchor, table)
        post_var = 1.0 / (1.0 / self.offset_var + np.bincount(lab, weights=info, minlength=self.num_labels))
        self.offset -= _clip(post_var * np.bincount(lab, weights=score, minlength=self.num_labels), -1.0, 1.0)
        self.offset_var = post_var

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

        One grid posterior serves the one-sided prompts' moments and every verdict-row prompt's tail masses.
        (mu0, v0): the prompts' prior. Returns (U,) each: the new mean and variance (float64, as stored in
        float32) and the tail masses below exclude_below / above retire_above (0 outside the verdict rows)."""
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
        rows = (one_sided | verdict).nonzero()[0]  # (R,) the grid's rows
        if rows.size:
            nodes, log_prior = self.prior_grid(uniq[rows], lab[rows])  # (R or 1, K)
            w = grid_posterior(s_tot[rows], n_tot[rows], nodes, log_prior, anchor[rows])  # (R, K)
            mean = (w * nodes).sum(axis=1)
            one = one_sided[rows]
            b[rows] = np.where(one, mean, b[rows])
            var[rows] = np.where(one, (w * (nodes - mean[:, None]) ** 2).sum(axis=1), var[rows])
            low[rows], high[rows] = tail_masses(w, now[rows, None] - nodes, 0.0, self.logit_low, self.logit_high)
            low[rows] *= verdict[rows]
            high[rows] *= verdict[rows]
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
        self._pop_cache = None

    # ---- checkpoint ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray | float | int]:
        return {
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
        hist = read_array(sd, "population_hist", np.float64, (self.num_labels, B_GRID.size), low=0.0)
        total = hist.sum(axis=1)
        if not (np.isfinite(total) & (total > 0)).all():
            raise ValueError("curriculum state entry 'population_hist' has a label whose weights sum to 0 or overflow")

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Assign a state `check_state` passed."""
        self.theta, self.theta_var = float(sd["theta"]), float(sd["theta_var"])
        self.last_step = int(sd["ability_last_step"])
        self.hist = np.array(sd["population_hist"], dtype=np.float64)
        self._pop_cache = None
        for name in ("offset", "offset_var", "mu", "var", "anchor"):
            getattr(self, name)[...] = sd[name]
