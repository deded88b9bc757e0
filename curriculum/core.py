"""`Curriculum`: the public face of the core. Validates input, owns the state, delegates the rest.

    from curriculum import Curriculum, CurriculumConfig
    cur = Curriculum(num_prompts=N, config=CurriculumConfig(policy="adaptive"), seed=0, prior=None)
    ids = cur.propose(64)              # 64 distinct prompt ids, np.int64
    report = cur.observe(prompt_ids, rewards)   # flat arrays, one entry per rollout, rewards in [0, 1]
    report.calibration()               # the predictions made before these groups were seen, scored
    cur.observe_counts(ids, n, s)      # or counted per prompt: distinct ids, rollouts, successes
    cur.predict(ids)                   # pass rate now, also for prompts not seen for a while
    Curriculum(N, config, features=F)  # F (N, d) or ids -> (U, d): unseen prompts predicted from their features
    cur.stats()                        # dict[str, float] for logging
    cur.replace(slots, prior=p)        # a window over a stream: new prompts take these ids (rl/trl/stream.py)
    sd = cur.state_dict(); cur.load_state_dict(sd)   # a bad state: ValueError naming the entry, nothing changed

Randomness comes from generators seeded by `seed` whose state is part of the state dict (curriculum/rng.py),
so two instances fed the same observations propose the same ids (every rank agrees), and a reloaded
state proposes exactly what the original would have. No call does O(num_prompts) work after construction.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from .ability import AbilityModel, AbilityUpdate
from .config import CurriculumConfig
from .features import ADDED_KEYS as FEATURE_ADDED_KEYS
from .features import FeatureModel, FeatureSource, calibration_now, feature_digest, gate_share
from .policies.registry import POLICY_CLASSES
from .pools import ACTIVE, EXCLUDED, RETIRED, UNSEEN, StatusPools
from .rng import SavedRNG, shuffled
from .statecheck import INT32_MAX, INT64_MAX, check_keys, read_ids, read_int, read_json
from .tracker import PassRateTracker, aggregate
from .view import CurriculumView

FORMAT_VERSION = 6
"""2: generator states; 3: the adaptive walk's cursor; 4: the ability from every group; 5: features; 6: each
policy's settings nested in the config."""
_PRIOR_BINS = 16
_PENDING_CAP = 1 << 20  # proposals awaiting feedback that are remembered (trainers lag one or two chunks; loader
# workers prefetch a few more)
_MAX_ROLLOUTS = 2**24  # rollouts of one prompt in one observe_counts call: float32 counts are exact up to here
_IDENTITY_KEYS = ("format_version", "num_prompts", "config", "seed", "prior_type", "prior_digest", "features_digest")
_ADDED_FIELDS = ("feature_calibration", "population_refresh")
"""CurriculumConfig fields added since states were first saved: a saved config without one resumes with today's."""
_ADDED_KEYS = FEATURE_ADDED_KEYS
"""State entries added since states were first saved: a state without them loads (their parts start afresh)."""

_CORE_KEYS = (
    *_IDENTITY_KEYS,
    "step",
    "proposals",
    "pending",
    "rng_propose",
    "rng_observe",
    "counters",
    "last",
)  # and the parts' entries (tracker, ability, ...)
CALIBRATION_KEYS = (
    "calibration_bias",
    "brier",
    "calibration_bias_first",
    "brier_first",
    "calibration_bias_revisit",
    "brier_revisit",
)
"""The calibration figures of the last step in `stats()` (see `StepReport.calibration`)."""
_LAST_KEYS = ("informative_ratio", "pred_abs_error", "groups", "first_visits", *CALIBRATION_KEYS)


def _resolve_prior(prior: Any, num_prompts: int, prior_type: str) -> tuple[str, np.ndarray | None]:
    if prior is None:
        return "none", None
    arr = np.asarray(prior)
    if arr.shape != (num_prompts,):
        raise ValueError(f"prior must have shape ({num_prompts},) (one entry per prompt), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_:
        raise ValueError(f"prior must be numeric (map source names to ints first), got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"prior has {int((~np.isfinite(arr)).sum())} NaN/inf entries; fill them first")
    integral = bool(np.all(arr == np.round(arr)))
    if prior_type == "auto":
        prior_type = "label" if integral else "pass_rate"
    if prior_type == "pass_rate" and not ((arr >= 0) & (arr <= 1)).all():
        raise ValueError("a pass-rate prior must lie in [0, 1]; for difficulty levels pass prior_type='label'")
    if prior_type == "label" and not integral:
        raise ValueError("label priors must be integers (levels, source ids); pass prior_type='pass_rate' for rates")
    return prior_type, arr


def _int_at_least(value: Any, low: int, name: str) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {type(value).__name__} {value!r}")
    return int(value)


class StepReport(NamedTuple):
    """What one observe learned, per distinct prompt observed (U,), sorted by id: the pass rate predicted *before*
    the group was seen, the group's observed pass rate, and whether it was the prompt's first visit. The one
    honest test of the predictions (`calibration`), and what a trainer logs and records."""

    ids: np.ndarray  # (U,) int64
    predicted: np.ndarray  # (U,) float64
    observed: np.ndarray  # (U,) float64, successes / rollouts
    first_visit: np.ndarray  # (U,) bool

    @classmethod
    def empty(cls) -> StepReport:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, bool))

    def calibration(self) -> dict[str, float]:
        """Bias (mean predicted - observed) and Brier score (mean squared difference) over all groups, first
        visits and revisits (NaN where there were none)."""
        out: dict[str, float] = {}
        for suffix, rows in (("", slice(None)), ("_first", self.first_visit), ("_revisit", ~self.first_visit)):
            diff = (self.predicted - self.observed)[rows]
            out[f"calibration_bias{suffix}"] = float(diff.mean()) if diff.size else math.nan
            out[f"brier{suffix}"] = float((diff**2).mean()) if diff.size else math.nan
        return out


class Curriculum:
    def __init__(
        self,
        num_prompts: int,
        config: CurriculumConfig | None = None,
        seed: int = 0,
        prior: Any = None,
        features: FeatureSource | None = None,
    ) -> None:
        """`prior`: difficulty labels (ints) or pass-rate estimates in [0, 1], one per prompt, or None. `features`: an
        (N, d) float array, or a callable mapping int64 ids (U,) to their (U, d) features (called once on id 0 here to
        learn d), or None; unseen prompts are then predicted from them (curriculum/features.py)."""
        self.num_prompts = _int_at_least(num_prompts, 1, "num_prompts")
        self.config = config if config is not None else CurriculumConfig()
        self.seed = _int_at_least(seed, 0, "seed")
        self.prior_type, prior_arr = _resolve_prior(prior, self.num_prompts, self.config.prior_type)
        if features is not None and self.prior_type == "pass_rate":
            raise ValueError(
                "features and a pass-rate prior both predict each prompt's pass rate; pass one of them (labels, "
                "prior_type='label', combine with features)"
            )
        self._prior_digest = hashlib.sha256(prior_arr.tobytes()).hexdigest()[:16] if prior_arr is not None else ""
        self.labels: np.ndarray | None = None  # [N] label index, only for label priors
        self.label_values = np.zeros(1)
        self.num_labels = 1
        self.prior_pass_rate: np.ndarray | None = None
        groups, prior_logit = None, None
        if self.prior_type == "label":
            self.label_values, inverse = np.unique(prior_arr, return_inverse=True)
            self.num_labels = self.label_values.size
            self.labels = inverse.astype(np.int16 if self.num_labels < 2**15 else np.int32)
            groups = self.labels
        elif self.prior_type == "pass_rate":
            self.prior_pass_rate = prior_arr.astype(np.float32)
            clipped = np.clip(prior_arr, 0.01, 0.99)
            prior_logit = np.log(clipped / (1 - clipped))
            groups = np.minimum((prior_arr * _PRIOR_BINS).astype(np.int64), _PRIOR_BINS - 1)
        self.tracker = PassRateTracker(self.num_prompts, self.config.tracker_half_life)
        self.ability = AbilityModel(self.num_prompts, self.config, self.labels, self.num_labels, prior_logit)
        if features is not None:
            self.ability.features = FeatureModel(self.num_prompts, features, self.config, self.labels, self.num_labels)
        self._features_digest = feature_digest(features)
        self.pools = StatusPools(self.num_prompts)
        # the prompts grouped by their prior (labels, or pass-rate bins; one group without a prior): the band policy
        # draws unseen prompts group by group
        self.prior_groups: np.ndarray | None = groups  # [N] group of each prompt (None: one group)
        self.num_prior_groups = _PRIOR_BINS if self.prior_type == "pass_rate" else self.num_labels
        self.prior_group_logit = (  # [G] prior logit of an unseen prompt of each pass-rate bin (None: by label)
            np.log((np.arange(_PRIOR_BINS) + 0.5) / (_PRIOR_BINS - np.arange(_PRIOR_BINS) - 0.5))
            if self.prior_type == "pass_rate"
            else None
        )
        self.step = 0  # observe() calls with data: the clock of drift and decay
        self.proposals = 0  # propose() calls: the counter of the random draws
        self.counters = {"rollouts": 0, "successes": 0, "groups": 0, "informative_groups": 0, "prompts_seen": 0}
        self.last: dict[str, Any] = {k: math.nan for k in _LAST_KEYS} | {"groups": 0, "first_visits": 0}
        self.last_report = StepReport.empty()  # what the last observe learned (also returned by it)
        self.pending = np.zeros(0, dtype=np.int64)  # (<= _PENDING_CAP,) proposed, not yet observed
        self._propose_rng = SavedRNG(self.seed, 0x9E)  # proposals' draws, in order (state in state_dict)
        self._observe_rng = SavedRNG(self.seed, 0x9F)  # the policies' draws after an observe (re-probes)
        self.view = CurriculumView(self, self._observe_rng)  # all the policy sees (curriculum/policies/base.py)
        kind = POLICY_CLASSES[self.config.policy]
        self.policy = kind(self.view, getattr(self.config, kind.name) if kind.Settings is not None else None)

    # ---- the public API --------------------------------------------------------------------------
    def propose(self, k: int) -> np.ndarray:
        """k distinct prompt ids to generate for next (np.int64)."""
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise ValueError(f"propose(k) needs an int, got {type(k).__name__}")
        if not 0 <= k <= self.num_prompts:
            raise ValueError(f"propose({k}): k must be in [0, num_prompts={self.num_prompts}]")
        rng = self._propose_rng.generator
        self.proposals += 1
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        ids = self.policy.propose(self.view, int(k), rng).astype(np.int64)
        self.pools.move(ids[self.pools.status[ids] == UNSEEN], ACTIVE)
        ids = shuffled(ids, rng)
        self.pending = np.concatenate([self.pending, ids])[-_PENDING_CAP:]  # proposals in order, as returned
        return ids

    def observe(self, prompt_ids: Any, rewards: Any) -> StepReport:
        """Fold one step of results in: one entry per rollout (a group of G rollouts = G entries). Returns what the
        step learned (`StepReport`: the prediction made before each group was seen, and its outcome)."""
        ids, rew = self._check_observation(prompt_ids, rewards)
        if ids.size:
            uniq, n, s = aggregate(ids, rew >= self.config.success_threshold)
            self._check_rollout_cap(uniq, n)
            return self._observe_step(uniq, n, s)
        return StepReport.empty()

    def observe_counts(self, prompt_ids: Any, rollouts: Any, successes: Any) -> StepReport:
        """Fold in one step counted per prompt: distinct ids, with the rollouts and the successes of each (ints,
        0 <= successes <= rollouts; prompts with 0 rollouts are skipped). The same as `observe` with every rollout
        spelled out (a success: reward >= success_threshold), without re-counting what a trainer counted already."""
        uniq, n, s = self._check_counts(prompt_ids, rollouts, successes)
        if uniq.size:
            self._check_rollout_cap(uniq, n)
            return self._observe_step(uniq, n, s)
        return StepReport.empty()

    def observe_counts_unchecked(self, uniq: np.ndarray, n: np.ndarray, s: np.ndarray) -> StepReport:
        """`observe_counts` for a caller that built the counts itself (the trainer): (U,) int64 each, ids sorted,
        distinct and in range, 1 <= n, 0 <= s <= n; nothing is checked (a dozen numpy routines fewer per step)."""
        if uniq.size:
            return self._observe_step(uniq, n, s)
        return StepReport.empty()

    def release(self, prompt_ids: Any) -> None:
        """Proposed prompts that will not be observed (none of their rollouts could be scored) leave `pending`, so
        the policies may propose them again; nothing is learned of them. A no-op for ids not pending."""
        self._unpend(self._check_ids(prompt_ids, "prompt_ids"))

    def _unpend(self, ids: np.ndarray) -> None:
        """`ids` (in range) leave `pending`: observed, released, or replaced. An id pending twice (proposed again
        before the feedback on it came back: the uniform walk across an epoch's end) leaves once, its oldest copy."""
        if self.pending.size and ids.size:
            values, first = np.unique(self.pending, return_index=True)  # (V,) each pending id and its oldest place
            keep = np.ones(self.pending.size, dtype=bool)
            keep[first[self.view.is_member(values, ids)]] = False
            self.pending = self.pending[keep]

    def _observe_step(self, uniq: np.ndarray, n: np.ndarray, s: np.ndarray) -> StepReport:
        """One step of per-prompt counts: (U,) sorted distinct ids, rollouts >= 1, successes (int64 each)."""
        self.step += 1
        self._unpend(uniq)
        attempts, last_seen = self.tracker.attempts[uniq], self.tracker.last_step[uniq]
        past = self.tracker.counts(uniq, self.step)  # discounted counts before this step
        update = self.ability.update(uniq, n, s, past, attempts, last_seen, self.step)
        self.tracker.update(uniq, n, s, self.step, past, attempts)
        self.pools.assign(*self.policy.after_observe(self.view, uniq, update))  # where the policy judges they go
        if self.config.population_refresh:
            self._refresh(uniq)
        return self._count(uniq, n, s, attempts, update)

    def _refresh(self, uniq: np.ndarray) -> None:
        """`population_refresh` observed prompts' beliefs solved again: the pool's slice for this step (a clock-driven
        cycle through the ids, so no state), less the prompts this step observed."""
        size = min(self.config.population_refresh, self.num_prompts)
        ids = (self.step * size + np.arange(size, dtype=np.int64)) % self.num_prompts
        ids = ids[self.tracker.tries[ids] > 0]
        if uniq.size and ids.size:
            ids = ids[~np.isin(ids, uniq, assume_unique=True)]
        if ids.size:
            self.ability.refresh(
                ids, self.tracker.succ[ids].astype(np.float64), self.tracker.tries[ids].astype(np.float64), self.step
            )

    def _count(
        self, uniq: np.ndarray, n: np.ndarray, s: np.ndarray, attempts: np.ndarray, update: AbilityUpdate
    ) -> StepReport:
        rate = s / n  # (U,) observed pass rate
        informative = int(np.count_nonzero((rate > 0.0) & (rate < 1.0)))
        first = attempts == 0
        first_visits = int(np.count_nonzero(first))
        self.counters["prompts_seen"] += first_visits
        self.counters["rollouts"] += int(n.sum())
        self.counters["successes"] += int(s.sum())
        self.counters["groups"] += int(uniq.size)
        self.counters["informative_groups"] += informative
        report = StepReport(ids=uniq, predicted=update.before, observed=rate, first_visit=first)
        self.last_report = report
        self.last = {
            "informative_ratio": informative / uniq.size,
            "pred_abs_error": float(np.abs(update.before - rate).sum() / uniq.size),
            "groups": int(uniq.size),
            "first_visits": first_visits,
            **report.calibration(),
        }
        return report

    def predict(self, ids: Any) -> np.ndarray:
        """Estimated pass rate now (float64), for any prompts, seen or not."""
        return self.view.predict(self._check_ids(ids, "ids"))

    def posterior(self, ids: Any) -> tuple[np.ndarray, np.ndarray]:
        """(mean, variance) of each prompt's pass-rate logit now."""
        return self.view.posterior(self._check_ids(ids, "ids"))

    def stats(self) -> dict[str, float]:
        c, n = self.counters, self.num_prompts
        low, high = self.policy.band(self.view)
        intercept, slope = calibration_now(self.ability.features)
        return {
            "ability": self.ability.theta,
            "ability_sd": math.sqrt(self.ability.theta_var),
            "band_low": low,
            "band_high": high,
            "target": self.config.target,
            "unseen_frac": self.pools.size(UNSEEN) / n,
            "active_frac": self.pools.size(ACTIVE) / n,
            "excluded_frac": self.pools.size(EXCLUDED) / n,
            "retired_frac": self.pools.size(RETIRED) / n,
            "observed_rollouts": float(c["rollouts"]),
            "observed_pass_rate": c["successes"] / c["rollouts"] if c["rollouts"] else math.nan,
            "informative_ratio": self.last["informative_ratio"],
            "informative_ratio_total": c["informative_groups"] / c["groups"] if c["groups"] else math.nan,
            "pred_abs_error": self.last["pred_abs_error"],
            **{k: self.last[k] for k in CALIBRATION_KEYS},
            "feature_share": gate_share(self.ability.features),
            "feature_intercept": intercept,
            "feature_slope": slope,
            "step": float(self.step),
        }

    def never_solved_share(self) -> float:
        """Share of the rollouts observed so far that went to prompts never solved (no success in any of them)."""
        tried = self.tracker.attempts.astype(np.float64)
        return float(tried[self.tracker.succ <= 0].sum() / max(tried.sum(), 1.0))

    # ---- a window of prompts (a stream) ---------------------------------------------------------------
    def replace(self, slots: Any, prior: Any = None) -> None:
        """New prompts take the ids `slots` (distinct): each slot's own state is forgotten (tracker counts, beliefs,
        pool: never observed) and its prior set to `prior` (one value per slot, as the constructor's; required with a
        prior, refused without one); the ability, the label offsets, the populations, the counters and the walk's
        order stay. This is how a window of W ids runs over a stream of any length (rl/trl/stream.py): a slot is
        replaced once its prompt was trained on or judged out of reach. O(len(slots)).

        The caller replaces only slots whose proposals are done with (observed, or never handed out): a replaced
        slot leaves `pending`. The prior is not in `state_dict` (it is input, like the constructor's): after
        `load_state_dict`, the window restores it with `set_prior`."""
        ids = self._check_slots(slots)
        if not self.policy.streamable:
            names = " or ".join(name for name, kind in POLICY_CLASSES.items() if kind.streamable)
            raise ValueError(
                f"replace needs the {names} policy (the {self.config.policy} policy keeps per-prompt "
                "lists built at construction); set policy='adaptive'"
            )
        if self.ability.features is not None:
            raise ValueError("replace does not support features (a slot's features would change); pass features=None")
        self.set_prior(ids, prior)
        self._unpend(ids)
        self.tracker.forget(ids)
        self.ability.forget(ids)
        self.pools.forget(ids)

    def set_prior(self, slots: Any, prior: Any) -> None:
        """Set the prior of the prompts at `slots` (distinct ids): a label among the constructor's (`label_values`)
        or a pass rate in [0, 1], one per slot; None where the curriculum has no prior. O(len(slots))."""
        ids = self._check_slots(slots)
        if self.prior_type == "none":
            if prior is not None:
                raise ValueError("this curriculum was built without a prior; pass prior=None (or build it with one)")
            return
        if prior is None:
            raise ValueError(f"this curriculum has a {self.prior_type} prior: pass prior=, one value per slot")
        values = np.asarray(prior, dtype=np.float64)
        if values.shape != ids.shape or not np.isfinite(values).all():
            raise ValueError(f"prior must hold {ids.size} finite numbers (one per slot), got shape {values.shape}")
        if self.prior_type == "label":
            assert self.labels is not None
            index = np.searchsorted(self.label_values, values).clip(0, self.num_labels - 1)
            unknown = self.label_values[index] != values
            if unknown.any():
                raise ValueError(
                    f"labels {sorted(set(values[unknown].tolist()))[:5]} are not among the labels this curriculum was "
                    f"built with ({self.label_values.tolist()[:10]}); its label offsets are fixed at construction"
                )
            self.labels[ids] = index
            return
        if ((values < 0) | (values > 1)).any():
            raise ValueError("a pass-rate prior must lie in [0, 1]")
        assert self.prior_pass_rate is not None and self.prior_groups is not None
        clipped = np.clip(values, 0.01, 0.99)
        self.prior_pass_rate[ids] = values
        self.ability.prior_mean[ids] = -np.log(clipped / (1 - clipped))  # type: ignore[index]
        self.prior_groups[ids] = np.minimum((values * _PRIOR_BINS).astype(np.int64), _PRIOR_BINS - 1)

    def judged_out_of_reach(self) -> np.ndarray:
        """(J,) ids the last `propose` passed over as beyond reach (adaptive walk), judged on their own evidence: an
        observed prompt, or an unseen one whose prior (a label among several, a pass rate) or features tell it apart
        from the pool. Without those every unseen prompt is predicted alike, and passing over it says nothing of it.
        A window drops these (`replace`); the map-style walk meets them again next epoch."""
        passed = self.policy.passed_beyond
        if passed.size == 0:
            return np.zeros(0, dtype=np.int64)
        if self.prior_type == "pass_rate" or self.num_labels > 1 or self.ability.features_active():
            return passed.copy()
        return passed[self.tracker.attempts[passed] > 0]

    def _check_slots(self, slots: Any) -> np.ndarray:
        ids = self._check_ids(slots, "slots")
        if ids.size and np.unique(ids).size != ids.size:
            raise ValueError("slots must be distinct ids")
        return ids

    # ---- validation ------------------------------------------------------------------------------
    def _check_ids(self, ids: Any, what: str) -> np.ndarray:
        arr = np.asarray(ids)
        if arr.ndim != 1:
            raise ValueError(f"{what} must be a flat 1-D array, got shape {arr.shape}")
        if arr.size and arr.dtype.kind not in "iu":  # np.issubdtype(dtype, np.integer), without its cost
            raise ValueError(f"{what} must be integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
        if arr.size and (arr.min() < 0 or arr.max() >= self.num_prompts):
            bad = arr[(arr < 0) | (arr >= self.num_prompts)][:5].tolist()
            raise ValueError(f"{what} out of range [0, {self.num_prompts}): {bad}")
        return arr

    def _check_observation(self, prompt_ids: Any, rewards: Any) -> tuple[np.ndarray, np.ndarray]:
        ids = self._check_ids(prompt_ids, "prompt_ids")
        rew = np.asarray(rewards)
        if rew.dtype.kind not in "biuf":  # strings would parse silently, objects hide anything
            raise ValueError(
                f"rewards must be numbers (floats in [0, 1] or 0/1 successes), got dtype {rew.dtype}; convert them "
                "first, e.g. np.asarray(rewards, dtype=float)"
            )
        rew = rew.astype(np.float64, copy=False)
        if rew.shape != ids.shape:
            raise ValueError(
                f"prompt_ids and rewards must have the same length (one entry per rollout), got {ids.shape} and {rew.shape}"
            )
        if rew.size and not (rew.min() >= 0.0 and rew.max() <= 1.0):  # False for NaN too
            if not np.isfinite(rew).all():
                raise ValueError(f"rewards contain {int((~np.isfinite(rew)).sum())} NaN/inf values")
            raise ValueError(
                f"rewards must lie in [0, 1], got min {rew.min():.4g}, max {rew.max():.4g}; rescale them or "
                "pass 0/1 successes (success_threshold decides what counts as solved)"
            )
        return ids, rew

    def _check_counts(self, prompt_ids: Any, rollouts: Any, successes: Any) -> tuple[np.ndarray, ...]:
        ids = self._check_ids(prompt_ids, "prompt_ids")
        n, s = np.asarray(rollouts), np.asarray(successes)
        if n.shape != ids.shape or s.shape != ids.shape:
            raise ValueError(
                f"prompt_ids, rollouts and successes must have the same length (one entry per prompt), got "
                f"{ids.shape}, {n.shape} and {s.shape}"
            )
        if ids.size == 0:
            return ids, ids, ids
        if n.dtype.kind not in "iu" or s.dtype.kind not in "iu":
            raise ValueError(f"rollouts and successes must be integer counts, got dtypes {n.dtype} and {s.dtype}")
        if n.max() > _MAX_ROLLOUTS:  # before any cast: uint64 counts beyond int64 would wrap to negative ones
            raise ValueError(
                f"rollouts must be at most {_MAX_ROLLOUTS} per prompt in one call (the tracker's float32 counts are "
                f"exact up to there), got {n.max()}; pass one step's rollouts per prompt (a negative count cast to "
                "unsigned wraps to a huge one)"
            )
        if not ((s >= 0) & (s <= n)).all():
            raise ValueError("counts must satisfy 0 <= successes <= rollouts for every prompt")
        observed = n > 0
        if not observed.all():  # nothing observed for some prompts: skip them
            ids, n, s = ids[observed], n[observed], s[observed]
        if not (ids[1:] > ids[:-1]).all():  # not sorted already (a trainer may sort its few groups itself)
            order = np.argsort(ids, kind="stable")
            ids, n, s = ids[order], n[order], s[order]
            if not (ids[1:] != ids[:-1]).all():
                raise ValueError(
                    "observe_counts needs distinct prompt ids (one row of counts per prompt); sum the counts of a "
                    "repeated prompt first, or pass one entry per rollout to observe()"
                )
        return ids, n.astype(np.int64, copy=False), s.astype(np.int64, copy=False)

    def _check_rollout_cap(self, uniq: np.ndarray, n: np.ndarray) -> None:
        cap = self.config.max_rollouts_per_prompt
        if n.max() > cap:
            worst = int(np.argmax(n))
            raise ValueError(
                f"prompt {int(uniq[worst])} has {int(n[worst])} rollouts in one step, more than max_rollouts_per_prompt"
                f"={cap}: pass each step's own rollouts (not cumulative counts), or raise max_rollouts_per_prompt "
                "if your groups really are that large"
            )

    # ---- checkpoint ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain numpy arrays and Python scalars/strings: safe to write as npz + JSON, no pickle."""
        sd: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "num_prompts": self.num_prompts,
            "seed": self.seed,
            "config": json.dumps(self.config.to_dict(), sort_keys=True),
            "prior_type": self.prior_type,
            "prior_digest": self._prior_digest,
            "features_digest": self._features_digest,
            "step": self.step,
            "proposals": self.proposals,
            "pending": self.pending,
            "rng_propose": self._propose_rng.state_array(),
            "rng_observe": self._observe_rng.state_array(),
            "counters": json.dumps(self.counters, sort_keys=True),
            "last": json.dumps(self.last, sort_keys=True),
        }
        for part in (self.tracker.state_dict(), self.ability.state_dict(), self.pools.state_dict()):
            sd.update(part)
        sd.update(self.policy.state_dict())
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in sd.items()}

    def state_dict_like(self, saved: Mapping[str, Any]) -> dict[str, Any]:
        """`state_dict()` in the layout of `saved`, a state this curriculum loaded: the entries and config fields added
        since (`_ADDED_KEYS`, `_ADDED_FIELDS`) left out where `saved` has none, so a state saved before them and
        loaded round-trips to the same hash."""
        sd = self.state_dict()
        saved_config = json.loads(str(saved["config"]))
        config = {k: v for k, v in json.loads(sd["config"]).items() if k in saved_config or k not in _ADDED_FIELDS}
        sd["config"] = json.dumps(config, sort_keys=True)
        return {k: v for k, v in sd.items() if k in saved or k not in _ADDED_KEYS}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore a `state_dict()`. The whole state is checked first (`check_state`): a refused one raises
        ValueError naming the entry and leaves this curriculum exactly as it was."""
        self.check_state(sd)
        self.tracker.load_state_dict(sd)
        self.ability.load_state_dict(sd)
        self.pools.load_state_dict(sd)
        self.policy.load_state_dict(sd)
        self.pending = np.asarray(sd["pending"], dtype=np.int64).copy()
        self._propose_rng.load_state_array(sd["rng_propose"])
        self._observe_rng.load_state_array(sd["rng_observe"])
        self.step, self.proposals = int(sd["step"]), int(sd["proposals"])
        self.counters = json.loads(str(sd["counters"]))
        self.last = json.loads(str(sd["last"]))

    def check_state(self, sd: dict[str, Any]) -> None:
        """Raise ValueError naming the entry and the problem unless `sd` is a state this curriculum can load: made
        for this pool, config, seed and prior, with every entry present, of its shape and dtype, finite and in
        range (ids inside the pool, counts >= 0). Assigns nothing; O(num_prompts)."""
        check_keys(sd, set(_IDENTITY_KEYS), exact=False)
        self._check_identity(sd)
        parts = (self.tracker.state_dict(), self.ability.state_dict(), self.pools.state_dict(), self.policy.state_dict())
        expected = {*_CORE_KEYS, *(key for part in parts for key in part)}
        check_keys(sd, expected - {key for key in _ADDED_KEYS if key not in sd})
        step = read_int(sd, "step", high=INT32_MAX - 1)  # the tracker stores steps as int32
        read_int(sd, "proposals")
        read_ids(sd, "pending", self.num_prompts, max_len=_PENDING_CAP)
        SavedRNG.check_state_array(sd, "rng_propose")
        SavedRNG.check_state_array(sd, "rng_observe")
        self._check_counters(read_json(sd, "counters", dict))
        _check_last(read_json(sd, "last", dict))
        self.tracker.check_state(sd, step)
        self.ability.check_state(sd, step)
        self.pools.check_state(sd)
        self.policy.check_state(sd)

    def _check_identity(self, sd: dict[str, Any]) -> None:
        """The state was made by this version for this pool, config, seed and prior."""
        version = read_int(sd, "format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"curriculum state has format_version {version}, expected {FORMAT_VERSION}")
        num = read_int(sd, "num_prompts")
        if num != self.num_prompts:
            raise ValueError(
                f"curriculum state is for {num} prompts but this curriculum has {self.num_prompts}: "
                "the dataset changed since the checkpoint; resume with the same dataset or start a fresh run"
            )
        saved, mine = read_json(sd, "config", dict), self.config.to_dict()
        saved = {**{k: mine[k] for k in _ADDED_FIELDS if k not in saved}, **saved}  # states from before they existed
        differ = sorted(k for k in set(saved) | set(mine) if saved.get(k) != mine.get(k))
        if differ:
            detail = ", ".join(f"{k}: saved {saved.get(k)!r} vs now {mine.get(k)!r}" for k in differ)
            raise ValueError(f"curriculum state was made with a different config ({detail})")
        identity = (
            ("seed", self.seed, "the seed"),
            ("prior_type", self.prior_type, "labels or pass-rate estimates alike"),
            ("prior_digest", self._prior_digest, "the same difficulty labels"),
            ("features_digest", self._features_digest, 'the same features (none, if it had none: features="none")'),
        )
        for key, value, fix in identity:
            if str(sd[key]) != str(value):
                raise ValueError(
                    f"curriculum state has {key}={sd[key]!r} but this curriculum has {value!r}: build it as the saved "
                    f"one was, with {fix}"
                )

    def _check_counters(self, counters: dict[str, Any]) -> None:
        if sorted(counters) != sorted(self.counters):
            raise ValueError(f"curriculum state entry 'counters' must hold {sorted(self.counters)}, got {sorted(counters)}")
        for key, value in counters.items():
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
                raise ValueError(f"curriculum state entry 'counters' has {key}={value!r}, expected an int >= 0")
        c = counters
        if not (
            c["successes"] <= c["rollouts"]
            and c["informative_groups"] <= c["groups"] <= c["rollouts"]
            and c["prompts_seen"] <= c["groups"]  # not <= num_prompts: a window's slots take many prompts in turn
        ):
            raise ValueError(
                f"curriculum state entry 'counters' is inconsistent: {c} (need successes <= rollouts, "
                "informative_groups <= groups <= rollouts, prompts_seen <= groups)"
            )


def _check_last(last: dict[str, Any]) -> None:
    """The last step's statistics: ratios in [0, 1], biases in [-1, 1] (NaN where nothing was measured), counts."""
    if sorted(last) != sorted(_LAST_KEYS):
        raise ValueError(f"curriculum state entry 'last' must hold {sorted(_LAST_KEYS)}, got {sorted(last)}")
    for key in ("informative_ratio", "pred_abs_error", *CALIBRATION_KEYS):
        value, low = last[key], -1.0 if key.startswith("calibration_bias") else 0.0
        if isinstance(value, bool) or not isinstance(value, int | float) or not (math.isnan(value) or low <= value <= 1):
            raise ValueError(f"curriculum state entry 'last' has {key}={value!r}, expected a number in [{low:g}, 1] or NaN")
    for key in ("groups", "first_visits"):
        count = last[key]
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= INT64_MAX:
            raise ValueError(f"curriculum state entry 'last' has {key}={count!r}, expected an int >= 0")


def state_hash(sd: dict[str, Any]) -> str:
    """A stable digest of a state dict (arrays by dtype, shape and bytes), e.g. to compare ranks."""
    h = hashlib.sha256()
    for key in sorted(sd):
        value = sd[key]
        h.update(key.encode())
        if isinstance(value, np.ndarray):
            arr = np.ascontiguousarray(value)
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(arr.tobytes())
        else:
            h.update(repr(value).encode())
    return h.hexdigest()
