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

from curriculum.ability import sigmoid
from curriculum.config import POLICIES, CurriculumConfig
from curriculum.core import Curriculum

IMPOSSIBLE, MASTERED = 0.05, 0.95


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
            "mostly_hard", "80% of prompts beyond reach, ~5 epochs", 2000, 160, make_pool=_mostly_hard, ability_gain=(4.0,)
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


def run_one(sc: Scenario, policy: str, seed: int, config: CurriculumConfig | None = None) -> dict[str, float]:
    rng = np.random.default_rng([seed, 7])
    d, skill = sc.make_pool(rng, sc.num_prompts)
    prior = _labels(sc, rng, d, skill)
    cfg = (config or CurriculumConfig()).replace(policy=policy)
    cur = Curriculum(sc.num_prompts, cfg, seed=seed, prior=prior)
    start, gain = np.asarray(sc.ability_start), np.asarray(sc.ability_gain)
    last_step = np.full(sc.num_prompts, -1, dtype=np.int64)  # simulator bookkeeping, not the curriculum's
    last_rate = np.zeros(sc.num_prompts)
    flagged = np.zeros(sc.num_prompts, dtype=bool)  # drawn before while near-impossible
    acc = {
        k: 0.0
        for k in (
            "informative",
            "impossible",
            "repeat_impossible",
            "mastered",
            "draws",
            "stale",
            "err_model",
            "err_last",
            "err_rolling",
            "err_all",
            "pool_stale",
            "pool_model",
            "pool_last",
            "pool_model_sq",
            "pool_last_sq",
        )
    }
    t0 = time.perf_counter()
    for t in range(sc.steps):
        ids = cur.propose(sc.batch)
        p = sigmoid((start + gain * t / sc.steps)[skill[ids]] - d[ids])  # (k,) true pass rates now
        succ = rng.binomial(sc.group, p)  # (k,)
        stale = (last_step[ids] >= 0) & (t - last_step[ids] >= sc.stale_gap)
        pred = cur.predict(ids)
        acc["err_all"] += float(np.abs(pred - p).sum())
        acc["stale"] += int(stale.sum())
        acc["err_model"] += float(np.abs(pred - p)[stale].sum())
        acc["err_last"] += float(np.abs(last_rate[ids] - p)[stale].sum())
        acc["err_rolling"] += float(np.abs(cur.tracker.rate(ids, cur.step) - p)[stale].sum())
        impossible = p < IMPOSSIBLE
        acc["informative"] += int(((succ > 0) & (succ < sc.group)).sum())
        acc["impossible"] += int(impossible.sum())
        acc["repeat_impossible"] += int((impossible & flagged[ids]).sum())
        acc["mastered"] += int((p > MASTERED).sum())
        acc["draws"] += ids.size
        flagged[ids[impossible]] = True
        last_step[ids], last_rate[ids] = t, succ / sc.group
        if t % 10 == 9:  # the whole pool's stale prompts, free of the sampler's selection bias
            old = np.flatnonzero((last_step >= 0) & (t - last_step >= sc.stale_gap))
            p_old = sigmoid((start + gain * t / sc.steps)[skill[old]] - d[old])
            acc["pool_stale"] += old.size
            err_model, err_last = cur.predict(old) - p_old, last_rate[old] - p_old
            acc["pool_model"] += float(np.abs(err_model).sum())
            acc["pool_last"] += float(np.abs(err_last).sum())
            acc["pool_model_sq"] += float((err_model**2).sum())
            acc["pool_last_sq"] += float((err_last**2).sum())
        rewards = (np.arange(sc.group)[None, :] < succ[:, None]).astype(np.float64)  # (k, G)
        cur.observe(np.repeat(ids, sc.group), rewards.ravel())
    draws, stale_n = acc["draws"], max(acc["stale"], 1.0)
    return {
        "informative": acc["informative"] / draws,
        "impossible": acc["impossible"] / draws,
        "repeat_impossible": acc["repeat_impossible"] / draws,
        "mastered": acc["mastered"] / draws,
        "pred_err": acc["err_all"] / draws,
        "stale_share": acc["stale"] / draws,
        "stale_err_model": acc["err_model"] / stale_n if acc["stale"] else math.nan,
        "stale_err_last": acc["err_last"] / stale_n if acc["stale"] else math.nan,
        "stale_err_rolling": acc["err_rolling"] / stale_n if acc["stale"] else math.nan,
        "pool_stale_err_model": acc["pool_model"] / acc["pool_stale"] if acc["pool_stale"] else math.nan,
        "pool_stale_err_last": acc["pool_last"] / acc["pool_stale"] if acc["pool_stale"] else math.nan,
        "pool_stale_rmse_model": math.sqrt(acc["pool_model_sq"] / acc["pool_stale"]) if acc["pool_stale"] else math.nan,
        "pool_stale_rmse_last": math.sqrt(acc["pool_last_sq"] / acc["pool_stale"]) if acc["pool_stale"] else math.nan,
        "seconds": time.perf_counter() - t0,
    }


def simulate(
    scenarios: list[str] | None = None,
    policies: tuple[str, ...] = POLICIES,
    seeds: int = 3,
    config: CurriculumConfig | None = None,
    progress: bool = True,
) -> dict[str, dict[str, dict[str, float]]]:
    """scenario -> policy -> metric -> mean over seeds (plus `<metric>_std`)."""
    names = scenarios or list(SCENARIOS)
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; choose from {sorted(SCENARIOS)}")
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
    ("pred_err", "pred err"),
    ("stale_err_model", "stale err (model)"),
    ("stale_err_last", "stale err (last obs)"),
    ("stale_err_rolling", "stale err (rolling)"),
    ("pool_stale_err_model", "pool stale err (model)"),
    ("pool_stale_err_last", "pool stale err (last obs)"),
    ("pool_stale_rmse_model", "pool stale rmse (model)"),
    ("pool_stale_rmse_last", "pool stale rmse (last obs)"),
]


def format_table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    head = "| scenario | policy | " + " | ".join(c[1] for c in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for s, per_policy in results.items():
        for p, m in per_policy.items():
            cells = [f"{m[k]:.3f}" if not math.isnan(m[k]) else "-" for k, _ in COLUMNS]
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
