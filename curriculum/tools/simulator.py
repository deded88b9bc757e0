"""A learner-free simulator: prompts whose true pass rates drift as a simulated ability rises.

True pass rate of prompt i at step t: sigmoid(A_{skill(i)}(t) - d_i). The ability A rises on its own
schedule (the simulator does not learn from what is sampled), so every policy faces the same drifting
pool and the comparison isolates *what each policy draws*. Each step: propose k prompts, roll G
Bernoulli outcomes per prompt, observe them.

    curriculum simulate                       # every scenario x policy, 3 seeds, table + JSON
    curriculum simulate --scenario mixed --seeds 1

Metrics (per policy, averaged over seeds):
- informative: share of groups with 0 < successes < G (GRPO's useful groups)
- impossible / repeat_impossible: share of draws on prompts with true p < 0.05; the latter only those
  already drawn while near-impossible before (what a tracker could have known)
- mastered: share of draws on prompts with true p > 0.95
- stale_err_model / stale_err_last / stale_err_rolling: mean |estimate - true p| for draws of prompts
  last drawn >= `stale_gap` steps earlier: the ability model's prediction vs the last observed group
  pass rate vs the rolling tracker's rate
- first_* / revisit_*: squared error and bias of the prediction made before each group was rolled out, against
  the true pass rate, on first visits and on revisits, beside the same for a reference anyone would write (each
  label's mean pass rate over the last 10 steps' groups; `RecentLabelMean`); ability_*_third: the curriculum's
  ability averaged over the first and the last third of the steps (the true one rises by `ability_gain`)
- policy "oracle": the adaptive walk told the true pass rates, the bar for what any prediction could reach
- policy "bayes": the adaptive walk on each prompt's exact posterior over its skill and difficulty given the groups it
  observed, the pool's true distribution of them (per label), each skill's true ability and the features' true noise
  (`ExactPosterior`): the bar for what any estimator could reach from the same observations with the walk's rules,
  without being told the pass rates
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from curriculum.beliefs import sigmoid, softplus
from curriculum.config import POLICIES, CurriculumConfig
from curriculum.core import Curriculum
from curriculum.policies.adaptive import AdaptivePolicy

IMPOSSIBLE, MASTERED = 0.05, 0.95
ORACLE = "oracle"
"""A policy of the simulator only: the adaptive walk told the true pass rates (`AdaptivePolicy.use_pass_rates`)."""
BAYES = "bayes"
"""A policy of the simulator only: the adaptive walk on exact posteriors (`ExactPosterior`)."""
SIM_POLICIES = (*POLICIES, ORACLE, BAYES)
TOLD = (ORACLE, BAYES)
"""The arms that walk on rates the simulator hands them: their rows have no predictions of the curriculum's to judge."""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    num_prompts: int
    steps: int
    batch: int = 64
    group: int = 8
    make_pool: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]] = field(repr=False, default=None)  # type: ignore[assignment]
    """rng, N -> (difficulty [N], skill [N])"""
    ability_start: tuple[float, ...] = (0.0,)
    ability_gain: tuple[float, ...] = (3.0,)
    """per skill: A(t) = start + gain * t / steps"""
    labels: str = "none"
    """"none", "level" (5 noisy difficulty levels) or "skill" (the skill id)"""
    features: str = "none"
    """"none", "signal" (the difficulty plus unit noise in one column, among 15 distractor columns) or "noise" (16
    distractor columns): what `Curriculum(features=...)` is given"""
    stale_gap: int = 40


def _mixed(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(-5.0, 8.0, n), np.zeros(n, dtype=np.int64)


def _mostly_hard(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    hard = rng.random(n) < 0.8
    return np.where(hard, rng.uniform(7.0, 14.0, n), rng.uniform(-4.0, 5.0, n)), np.zeros(n, dtype=np.int64)


def _skills(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(-4.0, 7.0, n), rng.integers(0, 3, n)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario("mixed", "mixed pool, revisited ~5 epochs, no labels", 2000, 160, make_pool=_mixed),
        Scenario(
            "mixed_labels", "mixed pool, ~5 epochs, 5 noisy difficulty levels", 2000, 160, make_pool=_mixed, labels="level"
        ),
        Scenario(
            "labels_once", "large mixed pool seen about once, 5 noisy levels", 20000, 300, make_pool=_mixed, labels="level"
        ),
        Scenario(
            "single_pass",
            "one pass over 24,000 prompts, ability rising, 5 noisy levels",
            24000,
            375,
            make_pool=_mixed,
            labels="level",
        ),
        Scenario(
            "features",
            "one pass over 24,000 prompts, no labels, features: difficulty + noise among 15 distractors",
            24000,
            375,
            make_pool=_mixed,
            features="signal",
        ),
        Scenario(
            "features_noise",
            "the same with 16 distractor features only (must not hurt)",
            24000,
            375,
            make_pool=_mixed,
            features="noise",
        ),
        Scenario(
            "mostly_hard", "80% of prompts beyond reach, ~5 epochs", 2000, 160, make_pool=_mostly_hard, ability_gain=(4.0,)
        ),
        Scenario(
            "mixed_features",
            "mixed, with features: difficulty + noise among 15 distractors (a pool without labels gets text features)",
            2000,
            160,
            make_pool=_mixed,
            features="signal",
        ),
        Scenario(
            "mostly_hard_features",
            "mostly_hard, with the same features",
            2000,
            160,
            make_pool=_mostly_hard,
            ability_gain=(4.0,),
            features="signal",
        ),
        Scenario(
            "skills",
            "3 skills improving at different speeds, no labels",
            3000,
            240,
            make_pool=_skills,
            ability_start=(0.0, 0.0, 0.0),
            ability_gain=(5.0, 2.0, 0.0),
        ),
        Scenario(
            "skills_labels",
            "3 skills at different speeds, skill id as label",
            3000,
            240,
            make_pool=_skills,
            ability_start=(0.0, 0.0, 0.0),
            ability_gain=(5.0, 2.0, 0.0),
            labels="skill",
        ),
    ]
}


def _labels(sc: Scenario, rng: np.random.Generator, d: np.ndarray, skill: np.ndarray) -> np.ndarray | None:
    if sc.labels == "none":
        return None
    if sc.labels == "skill":
        return skill
    noisy = d + rng.normal(0.0, 1.0, d.size)  # levels as datasets ship them: coarse and noisy
    return 1 + np.digitize(noisy, np.quantile(noisy, [0.2, 0.4, 0.6, 0.8]))


FEATURE_COLUMNS = 16


def _features(sc: Scenario, rng: np.random.Generator, d: np.ndarray) -> np.ndarray | None:
    """(N, 16) features of the prompts: distractors, the first column the difficulty plus unit noise for "signal"."""
    if sc.features == "none":
        return None
    x = rng.normal(0.0, 1.0, (d.size, FEATURE_COLUMNS))
    if sc.features == "signal":
        x[:, 0] = d + rng.normal(0.0, 1.0, d.size)
    return x


_EXACT_GRID = np.arange(-20.0, 24.01, 0.25)  # (K,) difficulty nodes of the exact posterior
_EXACT_SAMPLE = 200_000  # draws of a scenario's pool behind its true difficulty distribution


class ExactPosterior:
    """The most the groups a walk observed can say about each prompt: its posterior over its skill and difficulty on
    a fine grid, under the pool's true joint distribution of the two given its label (a histogram of 200,000 draws of
    the scenario's pool, labelled by the same rule, with that sample's own level cut-offs), the true ability of each
    skill at every observation and, with "signal" features, the feature's true noise. A prompt's skill is known only
    where the label is the skill; elsewhere its groups tell it, as they would tell any estimator.

    The "bayes" arm walks on it (`rates`), with the adaptive walk's own rules: a posterior draw for the keep weight
    (at `thompson_scale`), the posterior mass beyond reach against `beyond_mass` for the verdict (against
    `unseen_beyond_share` for an unseen prompt known by its label alone, as the walk judges it). One difference: the
    walk keeps an unseen prompt known by its label alone by its label's mean informativeness, this arm by one draw's,
    as for any other prompt. It is the walk at its best estimates, not the least waste any rule could reach: where
    the walk's rule trades waste for coverage, so does it."""

    def __init__(
        self, sc: Scenario, labels: np.ndarray | None, features: np.ndarray | None, cfg: CurriculumConfig, seed: int
    ) -> None:
        rng = np.random.default_rng([12345, sc.num_prompts])
        d, skill = sc.make_pool(rng, _EXACT_SAMPLE)
        sample_labels = _labels(sc, rng, d, skill)
        values = np.zeros(1, dtype=np.int64) if sample_labels is None else np.unique(sample_labels)
        if labels is None:
            self.label = np.zeros(sc.num_prompts, dtype=np.intp)
        else:
            self.label = np.searchsorted(values, labels).astype(np.intp)
            if not np.array_equal(values[np.minimum(self.label, values.size - 1)], labels):
                raise ValueError(f"the pool has labels its {_EXACT_SAMPLE} draws lack: raise _EXACT_SAMPLE")
        self.skills = len(sc.ability_start)
        edges = np.concatenate([_EXACT_GRID - 0.125, [_EXACT_GRID[-1] + 0.125]])
        counts = np.zeros((values.size, self.skills, _EXACT_GRID.size))  # (L, S, K)
        for j, v in enumerate(values):
            rows = slice(None) if sample_labels is None else sample_labels == v
            for k in range(self.skills):
                counts[j, k] = np.histogram(d[rows][skill[rows] == k], bins=edges)[0]
        self.log_prior = np.log(np.maximum(counts / counts.sum(axis=(1, 2), keepdims=True), 1e-12)).reshape(values.size, -1)
        self.loglik = np.zeros((sc.num_prompts, self.skills * _EXACT_GRID.size))  # (N, S * K)
        if features is not None and sc.features == "signal":
            self.loglik -= np.tile(0.5 * (features[:, :1] - _EXACT_GRID[None, :]) ** 2, self.skills)
        self.scale, self.mass = cfg.thompson_scale, cfg.adaptive.beyond_mass
        share = cfg.adaptive.unseen_beyond_share
        # the walk's verdict on an unseen prompt judged by its label alone (labels, no features) takes its own share
        self.unseen_mass = share if labels is not None and features is None and share is not None else self.mass
        self.observed = np.zeros(sc.num_prompts, dtype=bool)
        self.logit_low = math.log(cfg.exclude_below / (1.0 - cfg.exclude_below))
        self.rng = np.random.default_rng([12345, seed])

    def _logits(self, ability: np.ndarray) -> np.ndarray:
        """(S * K,) the pass-rate logit at each (skill, difficulty) node, from each skill's ability (S,)."""
        return (np.asarray(ability, dtype=np.float64)[:, None] - _EXACT_GRID[None, :]).ravel()

    def observe(self, ids: np.ndarray, successes: np.ndarray, rollouts: int, ability: np.ndarray) -> None:
        """Absorb groups: ids (U,), their successes (U,) of `rollouts`, each skill's true ability (S,) when rolled."""
        z = self._logits(ability)[None, :]
        self.observed[ids] = True
        self.loglik[ids] -= successes[:, None] * softplus(-z) + (rollouts - successes)[:, None] * softplus(z)

    def rates(self, ids: np.ndarray, ability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(U,) a posterior draw of each prompt's pass rate at each skill's ability (S,) now, and whether its posterior
        mass beyond reach is at least `beyond_mass` (`unseen_beyond_share` where the walk judges it by that)."""
        logit = self._logits(ability)
        lw = self.log_prior[self.label[ids]] + self.loglik[ids]  # (U, S * K)
        w = np.exp(lw - lw.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        mass = np.where(self.observed[ids], self.mass, self.unseen_mass)
        beyond = (w * (logit < self.logit_low)[None, :]).sum(axis=1) >= mass
        q = 0.5 + 0.5 * np.vectorize(math.erf)(self.scale * self.rng.standard_normal(ids.size) / math.sqrt(2.0))
        order = np.argsort(-logit, kind="stable")  # nodes by pass rate, so a quantile of the draw is one of the rate
        node = order[np.minimum((np.cumsum(w[:, order], axis=1) < q[:, None]).sum(axis=1), logit.size - 1)]
        return sigmoid(logit[node]), beyond


class RecentLabelMean:
    """The reference a newcomer would write: each label's pass rate predicted as the mean observed pass rate of its
    groups in the last `window` steps (the pool's, for a label with none; 0.5 before any)."""

    def __init__(self, num_labels: int, window: int = 10) -> None:
        self.num_labels, self.window = num_labels, window
        self.steps: list[tuple[np.ndarray, np.ndarray]] = []  # per step: (L,) successes, (L,) rollouts

    def predict(self, labels: np.ndarray) -> np.ndarray:
        if not self.steps:
            return np.full(labels.size, 0.5)
        s = sum(x for x, _ in self.steps)
        n = sum(y for _, y in self.steps)
        pool = s.sum() / n.sum()
        rate = np.where(n > 0, s / np.maximum(n, 1), pool)
        return rate[labels]

    def observe(self, labels: np.ndarray, successes: np.ndarray, rollouts: int) -> None:
        s = np.bincount(labels, weights=successes, minlength=self.num_labels)
        n = np.bincount(labels, minlength=self.num_labels) * float(rollouts)
        self.steps = [*self.steps, (s, n)][-self.window :]


_ACC_KEYS = (
    "informative", "impossible", "repeat_impossible", "mastered", "draws", "err_all",
    "stale", "err_model", "err_last", "err_rolling",
    "pool_stale", "pool_model", "pool_last", "pool_model_sq", "pool_last_sq",
    "first", "first_sq_model", "first_sq_ref", "first_bias_model", "first_bias_ref",
    "revisit", "revisit_sq_model", "revisit_sq_ref", "revisit_sq_last", "revisit_bias_model",
)  # fmt: skip


def run_one(sc: Scenario, policy: str, seed: int, config: CurriculumConfig | None = None) -> dict[str, float]:
    rng = np.random.default_rng([seed, 7])
    d, skill = sc.make_pool(rng, sc.num_prompts)
    prior = _labels(sc, rng, d, skill)
    features = _features(sc, rng, d)
    cfg = (config or CurriculumConfig()).replace(policy="adaptive" if policy in TOLD else policy)
    cur = Curriculum(sc.num_prompts, cfg, seed=seed, prior=prior, features=features)
    start, gain = np.asarray(sc.ability_start), np.asarray(sc.ability_gain)
    clock = [0]  # the step the oracle answers for
    if policy == ORACLE:  # the walk at the true pass rates: what no prediction can beat
        assert isinstance(cur.policy, AdaptivePolicy)
        cur.policy.use_pass_rates(lambda ids: sigmoid((start + gain * clock[0] / sc.steps)[skill[ids]] - d[ids]))
    exact = ExactPosterior(sc, prior, features, cfg, seed) if policy == BAYES else None
    if exact is not None:  # the walk on what the observed groups say at best
        assert isinstance(cur.policy, AdaptivePolicy)
        cur.policy.use_pass_rates(lambda ids: exact.rates(ids, start + gain * clock[0] / sc.steps))
    ref_labels = np.unique(prior, return_inverse=True)[1] if prior is not None else np.zeros(sc.num_prompts, np.int64)
    reference = RecentLabelMean(int(ref_labels.max()) + 1)
    last_step = np.full(sc.num_prompts, -1, dtype=np.int64)  # simulator bookkeeping, not the curriculum's
    last_rate = np.zeros(sc.num_prompts)
    flagged = np.zeros(sc.num_prompts, dtype=bool)  # drawn before while near-impossible
    acc = dict.fromkeys(_ACC_KEYS, 0.0)
    ability = []  # (steps,) the curriculum's ability after each step
    per_step = np.zeros((sc.steps, 5))  # draws, near-impossible first visits, repeats, first visits, their bias
    t0 = time.perf_counter()
    for t in range(sc.steps):
        clock[0] = t
        ids = cur.propose(sc.batch)
        p = sigmoid((start + gain * t / sc.steps)[skill[ids]] - d[ids])  # (k,) true pass rates now
        succ = rng.binomial(sc.group, p)  # (k,)
        pred, ref = cur.predict(ids), reference.predict(ref_labels[ids])  # both before the outcome is seen
        first = last_step[ids] < 0
        for name, rows in (("first", first), ("revisit", ~first)):
            acc[name] += int(rows.sum())
            acc[f"{name}_sq_model"] += float(((pred - p)[rows] ** 2).sum())
            acc[f"{name}_sq_ref"] += float(((ref - p)[rows] ** 2).sum())
            acc[f"{name}_bias_model"] += float((pred - p)[rows].sum())
        acc["first_bias_ref"] += float((ref - p)[first].sum())
        acc["revisit_sq_last"] += float(((last_rate[ids] - p)[~first] ** 2).sum())
        stale = (last_step[ids] >= 0) & (t - last_step[ids] >= sc.stale_gap)
        acc["err_all"] += float(np.abs(pred - p).sum())
        acc["stale"] += int(stale.sum())
        acc["err_model"] += float(np.abs(pred - p)[stale].sum())
        acc["err_last"] += float(np.abs(last_rate[ids] - p)[stale].sum())
        acc["err_rolling"] += float(np.abs(cur.tracker.rate(ids, cur.step) - p)[stale].sum())
        impossible = p < IMPOSSIBLE
        acc["informative"] += int(((succ > 0) & (succ < sc.group)).sum())
        acc["impossible"] += int(impossible.sum())
        repeats = int((impossible & flagged[ids]).sum())
        acc["repeat_impossible"] += repeats
        acc["mastered"] += int((p > MASTERED).sum())
        acc["draws"] += ids.size
        per_step[t] = (
            ids.size,
            (impossible & first).sum(),
            repeats,
            first.sum(),
            (pred - p)[first].sum(),
        )
        flagged[ids[impossible]] = True
        last_step[ids], last_rate[ids] = t, succ / sc.group
        if t % 10 == 9:  # the whole pool's stale prompts, free of the sampler's selection bias
            _pool_stale(acc, cur, t, sc, last_step, last_rate, start, gain, skill, d)
        rewards = (np.arange(sc.group)[None, :] < succ[:, None]).astype(np.float64)  # (k, G)
        cur.observe(np.repeat(ids, sc.group), rewards.ravel())
        if exact is not None:
            exact.observe(ids, succ, sc.group, start + gain * t / sc.steps)
        reference.observe(ref_labels[ids], succ, sc.group)
        ability.append(cur.stats()["ability"])
    return _metrics(acc, ability, sc) | _phases(per_step) | {"seconds": time.perf_counter() - t0}


PHASES = (0.0, 1 / 32, 1 / 8, 1 / 4, 1 / 2, 3 / 4, 1.0)
"""Phases of a run as fractions of its steps, the first step apart (nothing is known of the pool before it)."""


def phase_edges(steps: int) -> list[int]:
    """Step boundaries of the phases: [0, 1, then `PHASES` of `steps`]."""
    return sorted({0, 1, *(max(1, round(f * steps)) for f in PHASES[1:])})


def _phases(per_step: np.ndarray) -> dict[str, float]:
    """Per phase j: near-impossible first visits and repeats as shares of its draws, and its first visits' bias."""
    out: dict[str, float] = {}
    edges = phase_edges(per_step.shape[0])
    for j, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False)):
        draws, imp_first, repeats, first, bias = per_step[lo:hi].sum(axis=0)
        out[f"phase{j}_impossible_first"] = imp_first / draws
        out[f"phase{j}_repeat_impossible"] = repeats / draws
        out[f"phase{j}_first_bias"] = bias / first if first else math.nan
    return out


def format_phases(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """Per scenario and policy, what it drew and how it predicted first visits, phase by phase of the run."""
    lines = []
    for s, per_policy in results.items():
        edges = phase_edges(SCENARIOS[s].steps)
        spans = [f"{lo}-{hi - 1}" if hi - lo > 1 else f"{lo}" for lo, hi in zip(edges, edges[1:], strict=False)]
        lines += [f"\n{s}: steps " + ", ".join(spans), "", "| policy | what | " + " | ".join(spans) + " |"]
        lines.append("|" + "---|" * (len(spans) + 2))
        for p, m in per_policy.items():
            for key, what in (
                ("impossible_first", "near-impossible first visits"),
                ("repeat_impossible", "repeats"),
                *([] if p in TOLD else [("first_bias", "first-visit bias")]),  # told: no predictions of their own
            ):
                cells = [m.get(f"phase{j}_{key}", math.nan) for j in range(len(spans))]
                text = [("-" if math.isnan(c) else f"{c:+.3f}" if "bias" in key else f"{c:.3f}") for c in cells]
                lines.append(f"| {p} | {what} | " + " | ".join(text) + " |")
    return "\n".join(lines)


def _pool_stale(acc, cur, t, sc, last_step, last_rate, start, gain, skill, d) -> None:  # noqa: ANN001
    old = np.flatnonzero((last_step >= 0) & (t - last_step >= sc.stale_gap))
    p_old = sigmoid((start + gain * t / sc.steps)[skill[old]] - d[old])
    acc["pool_stale"] += old.size
    err_model, err_last = cur.predict(old) - p_old, last_rate[old] - p_old
    acc["pool_model"] += float(np.abs(err_model).sum())
    acc["pool_last"] += float(np.abs(err_last).sum())
    acc["pool_model_sq"] += float((err_model**2).sum())
    acc["pool_last_sq"] += float((err_last**2).sum())


def _metrics(acc: dict[str, float], ability: list[float], sc: Scenario) -> dict[str, float]:
    def ratio(num: str, den: str, root: bool = False) -> float:
        if not acc[den]:
            return math.nan
        value = acc[num] / acc[den]
        return math.sqrt(value) if root else value

    third = max(len(ability) // 3, 1)
    return {
        "informative": ratio("informative", "draws"),
        "impossible": ratio("impossible", "draws"),
        "repeat_impossible": ratio("repeat_impossible", "draws"),
        "mastered": ratio("mastered", "draws"),
        "pred_err": ratio("err_all", "draws"),
        "stale_share": ratio("stale", "draws"),
        "stale_err_model": ratio("err_model", "stale"),
        "stale_err_last": ratio("err_last", "stale"),
        "stale_err_rolling": ratio("err_rolling", "stale"),
        "pool_stale_err_model": ratio("pool_model", "pool_stale"),
        "pool_stale_err_last": ratio("pool_last", "pool_stale"),
        "pool_stale_rmse_model": ratio("pool_model_sq", "pool_stale", root=True),
        "pool_stale_rmse_last": ratio("pool_last_sq", "pool_stale", root=True),
        "first_share": ratio("first", "draws"),
        "first_mse_model": ratio("first_sq_model", "first"),
        "first_mse_ref": ratio("first_sq_ref", "first"),
        "first_mse_ratio": acc["first_sq_model"] / acc["first_sq_ref"] if acc["first_sq_ref"] else math.nan,
        "first_bias_model": ratio("first_bias_model", "first"),
        "first_bias_ref": ratio("first_bias_ref", "first"),
        "revisit_mse_model": ratio("revisit_sq_model", "revisit"),
        "revisit_mse_ref": ratio("revisit_sq_ref", "revisit"),
        "revisit_mse_last": ratio("revisit_sq_last", "revisit"),
        "revisit_bias_model": ratio("revisit_bias_model", "revisit"),
        "ability_first_third": float(np.mean(ability[:third])),
        "ability_last_third": float(np.mean(ability[-third:])),
        "true_ability_gain": float(np.mean(sc.ability_gain)),
    }


def simulate(
    scenarios: list[str] | None = None,
    policies: tuple[str, ...] = SIM_POLICIES,
    seeds: int = 3,
    config: CurriculumConfig | None = None,
    progress: bool = True,
) -> dict[str, dict[str, dict[str, float]]]:
    """scenario -> policy -> metric -> mean over seeds (plus `<metric>_std`)."""
    names = scenarios or list(SCENARIOS)
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; choose from {sorted(SCENARIOS)}")
    unknown = sorted(set(policies) - set(SIM_POLICIES))
    if unknown:
        raise ValueError(f"unknown policy(ies) {unknown}; choose from {list(SIM_POLICIES)}")
    jobs = [(s, p, seed) for s in names for p in policies for seed in range(seeds)]
    bar = _progress(len(jobs), progress)
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for s, p, seed in jobs:
        runs.setdefault((s, p), []).append(run_one(SCENARIOS[s], p, seed, config))
        bar.update(1)
    bar.close()
    out: dict[str, dict[str, dict[str, float]]] = {}
    for (s, p), rs in runs.items():
        metrics = {k: float(np.mean([r[k] for r in rs])) for k in rs[0]}
        metrics.update({f"{k}_std": float(np.std([r[k] for r in rs])) for k in rs[0]})
        out.setdefault(s, {})[p] = metrics
    return out


class _NoBar:
    def update(self, n: int) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, enabled: bool):
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:  # the core runs on numpy alone
        return _NoBar()
    return tqdm(total=total, desc="simulate", unit="run", leave=False)


COLUMNS = [
    ("informative", "informative"),
    ("impossible", "impossible"),
    ("repeat_impossible", "repeat imposs."),
    ("mastered", "mastered"),
    ("first_share", "first visits"),
    ("pool_stale_rmse_model", "pool stale rmse (model)"),
    ("pool_stale_rmse_last", "pool stale rmse (last obs)"),
]
"""What each policy draws."""

PREDICTION_COLUMNS = [
    ("first_mse_model", "first visits: MSE"),
    ("first_mse_ref", "MSE of the recent label mean"),
    ("first_mse_ratio", "ratio"),
    ("first_bias_model", "bias"),
    ("first_bias_ref", "bias of the recent label mean"),
    ("revisit_mse_model", "revisits: MSE"),
    ("revisit_mse_ref", "MSE of the recent label mean"),
    ("revisit_mse_last", "MSE of the last observed rate"),
    ("revisit_bias_model", "bias"),
    ("ability_first_third", "ability: first third"),
    ("ability_last_third", "last third"),
]
"""How well the curriculum predicts the true pass rate of each group before it is rolled out, against a per-label
mean of the last 10 steps' groups (the pool's mean without labels)."""


def format_table(results: dict[str, dict[str, dict[str, float]]], columns: list[tuple[str, str]] | None = None) -> str:
    columns = COLUMNS if columns is None else columns
    head = "| scenario | policy | " + " | ".join(c[1] for c in columns) + " |"
    lines = [head, "|" + "---|" * (len(columns) + 2)]
    for s, per_policy in results.items():
        for p, m in per_policy.items():
            cells = [f"{m[k]:+.3f}" if "bias" in k else f"{m[k]:.3f}" if not math.isnan(m[k]) else "-" for k, _ in columns]
            cells = [c if c not in ("+nan", "nan") else "-" for c in cells]
            lines.append(f"| {s} | {p} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_json(results: dict, path: str | Path, seeds: int, config: CurriculumConfig | None) -> None:
    payload = {
        "seeds": seeds,
        "config": (config or CurriculumConfig()).to_dict(),
        "scenarios": {s: dataclasses.asdict(SCENARIOS[s]) | {"make_pool": None} for s in results},
        "results": results,
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(payload, indent=2, default=str))
