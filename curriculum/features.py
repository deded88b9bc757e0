"""Prompts never seen, predicted from what they look like: an online regression of difficulty on features.

    cur = Curriculum(N, config, features=F)    # F: an (N, d) float array, or ids (U,) int64 -> (U, d) floats

The ability model knows an unseen prompt only by its label: every unseen prompt of a label is predicted alike,
and without labels every unseen prompt is predicted at the pool's mean. Features (hashed n-grams of the text, an
embedding, the policy's hidden state) tell unseen prompts apart. This module learns, online, how they predict a
prompt's difficulty:

- **Target.** Each observed prompt's difficulty belief b_i (its posterior mean relative to its label's centre, on
  the ability model's scale: theta - offset - b is the pass-rate logit). The ability carries the model's progress,
  so the target stays put while the model learns; b_i is solved under the label's population prior, never under
  the features' prediction, so the regression cannot confirm itself.
- **Regression.** Weighted ridge regression of b on [x, one-hot label] (a constant per label: the features
  explain differences *within* a label, which is what the label leaves unknown) from sufficient statistics: the Gram
  matrix G = sum w z z^T and the moment c = sum w b z, O(observed prompts * (d + L)^2) a step, one solve when next
  needed. The weight of a prompt is 1 / (1 + its belief's variance): an all-fail group says little about how hard
  a prompt is. The ridge is `feature_ridge` pseudo-observations on standardised (centred) features (scale-free, and it fades
  as data comes in). With fixed features (`feature_half_life` 0) a revisited prompt's old contribution is swapped
  for its new one, so revisits never count twice. With drifting features (the policy's hidden state) the statistics
  decay with that half-life instead, and a revisit adds anew.
- **Gate.** Before a first visit is absorbed, its prediction from the features is scored against its label's
  centre (0), prequentially: the share `err(features) / err(label)` of squared error, over first visits only
  (fading with a half-life of 25 steps, or the features' own if shorter). Unseen prompts take their prior from the
  features only while that share is below `_GATE` after `feature_warmup` first visits: N(x^T w, share * population
  variance). Otherwise they keep the label's population, exactly as without features: features that carry no
  information cannot hurt.
- **Calibration.** The regression's targets are posterior means under the label's population, shrunk towards it
  (one all-fail group says little), so its predictions are shrunk too: on a real model the hardest unseen prompts
  came out too easy and the easiest too hard. With `feature_calibration` "online" the prediction an unseen prompt
  takes is a + s * (x^T w), with the intercept a and the slope s fitted online, prequentially, to every first visit's
  successes (logistic regression on the pass-rate logit theta - offset - a - s x^T w, the belief's variance folded in
  as in every prediction): one Newton step a step from a = 0, s = 1, each move at most 1 and within `_CAL_LIMITS`;
  the information fades with a half-life of `_CAL_HALF_LIFE` steps towards `_CAL_PRIOR` (about four groups of 8 at a
  pass rate of 0.5), its floor, so a few groups cannot swing it. The gate still scores the raw regression against
  the label's centre.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .config import CurriculumConfig
from .statecheck import read_array, read_int

FeatureSource = np.ndarray | Callable[[np.ndarray], Any]
MAX_DIM = 4096  # features per prompt: the Gram matrix is (d + 1)^2 float64 and one solve a step is O(d^3)
_GATE = 0.9  # features are used while their prequential squared error is below this share of the label's
_NOISE = 1.0  # a prompt's weight is 1 / (_NOISE + variance of its difficulty belief)
_GATE_HALF_LIFE = 25.0  # steps: the gate's prequential errors fade (early guesses do not hold features back)
_JITTER = 1e-9  # added to the ridge's diagonal: a feature that is 0 on every observed prompt stays solvable
_CAL_PRIOR = 8.0  # the calibration's starting information, and its floor as it fades (a group of 8 at p = 0.5 gives 2)
_CAL_HALF_LIFE = 10.0  # steps: the calibration's information fades (towards its prior's)
_CAL_LIMITS = ((-5.0, 5.0), (0.25, 4.0))  # intercept (logits) and slope stay within these
ADDED_KEYS = ("feature_calibration", "feature_calibration_info")
"""State entries added after states were first saved: a state has both or neither (then the calibration starts afresh)."""


def check_feature_block(x: Any, rows: int, dim: int | None, what: str) -> np.ndarray:
    """`x` as a (rows, dim) float array of finite numbers (float32 stays float32: a large table is not copied), or
    ValueError naming the fix."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be numbers (an (N, d) float array), got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] != rows or (dim is not None and arr.shape[1] != dim):
        want = f"({rows}, {dim})" if dim is not None else f"({rows}, d)"
        raise ValueError(f"{what} must have shape {want} (one row of features per prompt), got {arr.shape}")
    if not 1 <= arr.shape[1] <= MAX_DIM:
        raise ValueError(f"{what} needs 1 to {MAX_DIM} features per prompt, got {arr.shape[1]}; project them down first")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))[:5].tolist()
        raise ValueError(f"{what} has NaN/inf entries (rows {bad}); fill them (e.g. with 0) before passing them")
    return arr


class FeatureModel:
    """Online ridge regression of each observed prompt's difficulty on its features (see the module docstring)."""

    def __init__(
        self,
        num_prompts: int,
        source: FeatureSource,
        config: CurriculumConfig,
        labels: np.ndarray | None = None,
        num_labels: int = 1,
    ) -> None:
        self.num_prompts = num_prompts
        self.labels = labels  # [N] label index, or None (one label)
        self.num_labels = max(int(num_labels), 1)
        if callable(source):
            self._call = source
            self._table = None
            self.dim = check_feature_block(source(np.zeros(1, dtype=np.int64)), 1, None, "features(ids)").shape[1]
        else:
            self._table = check_feature_block(source, num_prompts, None, "features")
            self._call = None
            self.dim = self._table.shape[1]
        self.ridge = float(config.feature_ridge)
        self.warmup = float(config.feature_warmup)
        half_life = float(config.feature_half_life)
        self.decay = 0.5 ** (1.0 / half_life) if half_life > 0 else 1.0  # per step
        gate = min(half_life, _GATE_HALF_LIFE) if half_life > 0 else _GATE_HALF_LIFE
        self.gate_decay = 0.5 ** (1.0 / gate)  # the gate judges the features as they predict now
        self.swap = half_life == 0  # fixed features: a revisit replaces its old contribution
        self.calibrated = config.feature_calibration == "online"
        self.cal = np.array([0.0, 1.0])  # [2] intercept and slope: the prediction is cal[0] + cal[1] * x^T w
        self.cal_info = np.eye(2) * _CAL_PRIOR  # [2, 2] their information (fading towards the prior's)
        size = self.dim + self.num_labels
        self.gram = np.zeros((size, size))  # [D, D] sum w z z^T, z = [x, one-hot label]
        self.moment = np.zeros(size)  # [D] sum w b z
        self.errors = np.zeros(3)  # prequential first visits: [sum w (b - pred)^2, sum w b^2, sum w]
        self.target = np.zeros(num_prompts if self.swap else 0, dtype=np.float32)  # [N] b each prompt contributed
        self.weight = np.zeros(num_prompts if self.swap else 0, dtype=np.float32)  # [N] and its weight (0: none)
        self.last_step = 0
        self._coef: np.ndarray | None = None  # [D] solved when needed, dropped whenever the statistics change

    # ---- predictions -------------------------------------------------------------------------------
    def raw(self, ids: np.ndarray) -> np.ndarray:
        """(U, d) the prompts' features."""
        if self._table is not None:
            return self._table[ids]
        assert self._call is not None
        return check_feature_block(self._call(ids), ids.size, self.dim, "features(ids)")

    def design(self, ids: np.ndarray) -> np.ndarray:
        """(U, d + L): the prompts' features and their label, one-hot."""
        x = self.raw(ids)
        z = np.zeros((ids.size, self.dim + self.num_labels))
        z[:, : self.dim] = x  # float64
        lab = 0 if self.labels is None else self.labels[ids].astype(np.intp)
        z[np.arange(ids.size), self.dim + lab] = 1.0
        return z

    def coef(self) -> np.ndarray:
        """[d + L] ridge solution on standardised features (the labels' constants are barely shrunk)."""
        if self._coef is None:
            d, total = self.dim, float(np.trace(self.gram[self.dim :, self.dim :]))  # sum of weights
            mean = self.gram[:d, d:].sum(axis=1) / max(total, 1e-12)  # [d] weighted mean of each feature
            var = np.maximum(np.diag(self.gram)[:d] / max(total, 1e-12) - mean**2, 0.0)  # [d] and its variance
            penalty = np.zeros(d + self.num_labels)
            penalty[:d] = self.ridge * var
            penalty[self.dim :] = 1e-6 * max(total, 1.0)  # the labels' constants
            a = self.gram + np.diag(penalty + _JITTER * (1.0 + np.diag(self.gram)))
            self._coef = np.linalg.solve(a, self.moment)
        return self._coef

    def share(self) -> float:
        """Prequential squared error of the features' first-visit predictions relative to the label's centre's (1
        during the warm-up: no evidence yet that the features help)."""
        err_feat, err_label, weight = self.errors
        if weight < self.warmup or err_label <= 0.0:
            return 1.0
        return float(min(err_feat / err_label, 1.0))

    def active(self) -> bool:
        """Whether unseen prompts take their prior from the features now."""
        return self.share() < _GATE

    def predict(self, ids: np.ndarray) -> np.ndarray:
        """(U,) predicted difficulty relative to the label's centre (calibrated, see the module docstring)."""
        raw = self.regression(ids)
        return self.cal[0] + self.cal[1] * raw if self.calibrated else raw

    def regression(self, ids: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """(U,) the regression's prediction of the prompts' difficulty, before calibration (`x`: their features,
        if already at hand)."""
        coef = self.coef()
        constant = coef[self.dim] if self.labels is None else coef[self.dim + self.labels[ids].astype(np.intp)]
        x = self.raw(ids) if x is None else x
        return x.astype(np.float64, copy=False) @ coef[: self.dim] + constant

    # ---- learning ----------------------------------------------------------------------------------
    def learn(
        self,
        ids: np.ndarray,
        first: np.ndarray,
        mean: np.ndarray,
        var: np.ndarray,
        step: int,
        outcome: tuple[np.ndarray, ...] | None = None,
    ) -> None:
        """Absorb one step's observed prompts (U,): their new difficulty beliefs N(mean, var) (relative to the label's
        centre), `first` where it was their first visit (scored before they are absorbed). `outcome`: the first
        visits' (level, variance, rollouts, successes) as `calibrate` takes them, the level read before this step."""
        x = self.design(ids)  # (U, D)
        w = 1.0 / (_NOISE + var)
        if first.any():
            pred = x[first] @ self.coef()
            wf, bf = w[first], mean[first]
            self._decay(step)
            self.errors += (float((wf * (bf - pred) ** 2).sum()), float((wf * bf**2).sum()), float(wf.sum()))
            if outcome is not None:  # the regression's own prediction, as unseen prompts take it
                self.calibrate(self.regression(ids[first], np.ascontiguousarray(x[first, : self.dim])), *outcome)
        else:
            self._decay(step)
        if self.swap:
            old_w = self.weight[ids].astype(np.float64)  # 0 where the prompt contributed nothing yet
            if old_w.any():
                xo = x * old_w[:, None]
                self.gram -= xo.T @ x
                self.moment -= xo.T @ self.target[ids].astype(np.float64)
            self.target[ids], self.weight[ids] = mean, w
            w = self.weight[ids].astype(np.float64)  # what is stored is what a later swap removes
            mean = self.target[ids].astype(np.float64)
        xw = x * w[:, None]
        self.gram += xw.T @ x
        self.moment += xw.T @ mean
        self._coef = None

    def refresh(self, ids: np.ndarray, mean: np.ndarray, var: np.ndarray, step: int) -> None:
        """Observed prompts' beliefs solved again (`AbilityModel.refresh`): swapped in for their old contributions where
        the features are a fixed table. Not for a callable (it would be asked for features the step does not need: a
        model forward for the policy's hidden state) nor for drifting features (a revisit adds anew there)."""
        if self.swap and self._table is not None:
            self.learn(ids, np.zeros(ids.size, dtype=bool), mean, var, step)

    def calibrate(self, raw: np.ndarray, level: np.ndarray, var: np.ndarray, n: np.ndarray, s: np.ndarray) -> None:
        """One Newton step of the calibration on first visits (U,), before anything learns from them: `raw` the
        regression's predictions of their difficulty, `level` the pass-rate logit at their label's centre
        (theta - offset), `var` the variance their prediction carries, (n, s) their rollouts and successes."""
        if not self.calibrated or raw.size == 0:
            return
        kappa = 1.0 / np.sqrt(1.0 + math.pi * var / 8.0)  # the probit approximation's squeeze
        p = 1.0 / (1.0 + np.exp(-kappa * (level - self.cal[0] - self.cal[1] * raw)))
        z = np.stack([np.ones(raw.size), raw], axis=1)  # (U, 2) d(difficulty) / d(intercept, slope)
        grad = -(kappa * (s - n * p)) @ z  # d log-likelihood / d(intercept, slope)
        self.cal_info = self.cal_info + (z * (n * p * (1.0 - p) * kappa**2)[:, None]).T @ z
        move = np.linalg.solve(self.cal_info, grad)
        for j, (lo, hi) in enumerate(_CAL_LIMITS):
            self.cal[j] = min(max(self.cal[j] + max(-1.0, min(1.0, float(move[j]))), lo), hi)

    def _decay(self, step: int) -> None:
        if step > self.last_step:
            if self.decay < 1.0:
                f = self.decay ** (step - self.last_step)
                self.gram *= f
                self.moment *= f
            self.errors *= self.gate_decay ** (step - self.last_step)
            g = 0.5 ** ((step - self.last_step) / _CAL_HALF_LIFE)
            self.cal_info = g * self.cal_info + (1.0 - g) * np.eye(2) * _CAL_PRIOR
        self.last_step = step

    # ---- checkpoint --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "feature_gram": self.gram,
            "feature_moment": self.moment,
            "feature_errors": self.errors,
            "feature_target": self.target,
            "feature_weight": self.weight,
            "feature_last_step": self.last_step,
            "feature_calibration": self.cal,
            "feature_calibration_info": self.cal_info,
        }

    def check_state(self, sd: Mapping[str, Any], step: int) -> None:
        size, lim = self.dim + self.num_labels, 1e300
        gram = read_array(sd, "feature_gram", np.float64, (size, size), -lim, lim)
        if not np.allclose(gram, gram.T, rtol=1e-9, atol=1e-12 * max(1.0, float(np.abs(gram).max(initial=0.0)))):
            raise ValueError("curriculum state entry 'feature_gram' is not symmetric")
        read_array(sd, "feature_moment", np.float64, (size,), -lim, lim)
        read_array(sd, "feature_errors", np.float64, (3,), 0.0, lim)
        stored = (self.num_prompts if self.swap else 0,)
        read_array(sd, "feature_target", np.float32, stored, -1e10, 1e10)
        read_array(sd, "feature_weight", np.float32, stored, 0.0, 1.0 / _NOISE)
        read_int(sd, "feature_last_step", 0, step)
        present = [key in sd for key in ADDED_KEYS]
        if any(present) and not all(present):
            raise ValueError(f"curriculum state has one of {' and '.join(map(repr, ADDED_KEYS))} only")
        if all(present):  # states from before the calibration have neither
            cal = read_array(sd, "feature_calibration", np.float64, (2,))
            for value, (lo, hi), what in zip(cal, _CAL_LIMITS, ("intercept", "slope"), strict=True):
                if not lo <= value <= hi:
                    raise ValueError(f"curriculum state entry 'feature_calibration': {what} {value} outside [{lo}, {hi}]")
            info = read_array(sd, "feature_calibration_info", np.float64, (2, 2), -1e300, 1e300)
            if not (np.allclose(info, info.T) and np.all(np.linalg.eigvalsh((info + info.T) / 2) > 0)):
                raise ValueError("curriculum state entry 'feature_calibration_info' is not positive definite")

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        self.gram = np.array(sd["feature_gram"], dtype=np.float64)
        self.moment = np.array(sd["feature_moment"], dtype=np.float64)
        self.errors = np.array(sd["feature_errors"], dtype=np.float64)
        self.target = np.array(sd["feature_target"], dtype=np.float32)
        self.weight = np.array(sd["feature_weight"], dtype=np.float32)
        self.last_step = int(sd["feature_last_step"])
        self.cal = np.array(sd.get("feature_calibration", [0.0, 1.0]), dtype=np.float64)
        self.cal_info = np.array(sd.get("feature_calibration_info", np.eye(2) * _CAL_PRIOR), dtype=np.float64)
        self._coef = None


def feature_digest(source: FeatureSource | None) -> str:
    """What a state records of the features: the array's digest, "callable" or "" (none)."""
    if source is None:
        return ""
    if callable(source):
        return "callable"
    import hashlib

    arr = np.ascontiguousarray(source)  # as given: a float32 table is not copied to float64 to be hashed
    return hashlib.sha256(arr.tobytes() + f"{arr.dtype.str}{arr.shape}".encode()).hexdigest()[:16]


def gate_share(model: FeatureModel | None) -> float:
    """The features' prequential error share (NaN without features)."""
    return math.nan if model is None else model.share()


def calibration_now(model: FeatureModel | None) -> tuple[float, float]:
    """The features' calibration now, (intercept, slope) of the difficulty predicted from them (NaN without features
    or with `feature_calibration` "none")."""
    if model is None or not model.calibrated:
        return math.nan, math.nan
    return float(model.cal[0]), float(model.cal[1])
