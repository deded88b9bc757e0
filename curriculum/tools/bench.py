"""`curriculum bench`: the core's per-step cost and memory, flat in the pool size, against an O(N) reference.

    curriculum bench                         # N = 1e5 and 1e7, propose 512 + observe 512 x 16, one core
    curriculum bench --sizes 1e5 1e6 --steps 100

One step = `propose(512)` + `observe(512 x 16 rollouts)` on a synthetic drifting pool. The reference is
what published samplers do: Thompson sampling over every prompt's Beta posterior each step (O(N)),
timed on the same steps. Memory is the bytes of every array the curriculum holds, divided by N.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

import numpy as np

from curriculum.beliefs import sigmoid
from curriculum.config import CurriculumConfig
from curriculum.core import Curriculum


@dataclass
class BenchResult:
    num_prompts: int
    step_ms: float  # median propose + observe
    propose_ms: float
    observe_ms: float
    bytes_per_prompt: float
    reference_step_ms: float  # full-pool Thompson sampling, median

    @property
    def reference_ratio(self) -> float:
        return self.reference_step_ms / self.step_ms


def array_bytes(obj: object, seen: set[int] | None = None, depth: int = 0) -> int:
    """Bytes of every numpy array reachable from `obj`'s attributes (each array counted once)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 6:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes if obj.base is None else 0  # views share their base's memory
    if isinstance(obj, dict):
        return sum(array_bytes(v, seen, depth + 1) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(array_bytes(v, seen, depth + 1) for v in obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return sum(array_bytes(v, seen, depth + 1) for v in vars(obj).values())
    return 0


def _pool(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-5.0, 8.0, n).astype(np.float32)  # [N] true difficulty


def _rollouts(d: np.ndarray, ids: np.ndarray, t: int, group: int, rng: np.random.Generator) -> np.ndarray:
    p = sigmoid(t / 50.0 - d[ids].astype(np.float64))  # (k,) true pass rates, rising ability
    return (rng.random((ids.size, group)) < p[:, None]).astype(np.float32).ravel()  # (k*G,)


def _features(d: np.ndarray, dim: int) -> np.ndarray:
    """(N, dim) float32: the difficulty plus noise in the first column, distractors in the rest."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((d.size, dim), dtype=np.float32)
    x[:, 0] += d
    return x


def bench_curriculum(
    n: int, k: int = 512, group: int = 16, steps: int = 60, warmup: int = 40, features: int = 0
) -> BenchResult:
    """`features` > 0: the curriculum gets an (N, features) float32 table (`Curriculum(features=...)`)."""
    d, rng = _pool(n, 0), np.random.default_rng(1)
    table = _features(d, features) if features else None
    cur = Curriculum(n, CurriculumConfig(policy="adaptive"), seed=0, features=table)
    prop, obs = [], []
    for t in range(warmup + steps):
        gc.disable()
        a = time.perf_counter()
        ids = cur.propose(k)
        b = time.perf_counter()
        rewards = _rollouts(d, ids, t, group, rng)
        c = time.perf_counter()
        cur.observe(np.repeat(ids, group), rewards)
        e = time.perf_counter()
        gc.enable()
        if t >= warmup:
            prop.append(b - a)
            obs.append(e - c)
    total = np.add(prop, obs)
    return BenchResult(
        n,
        1e3 * float(np.median(total)),
        1e3 * float(np.median(prop)),
        1e3 * float(np.median(obs)),
        (array_bytes(cur) - (table.nbytes if table is not None else 0)) / n,
        bench_reference(n, k, group),
    )


def bench_reference(n: int, k: int = 512, group: int = 16, steps: int = 3) -> float:
    """Full-pool Thompson sampling (O(N) per step): sample every Beta posterior, take the k nearest the target."""
    d, rng = _pool(n, 0), np.random.default_rng(2)
    succ, tries = np.zeros(n, np.float32), np.zeros(n, np.float32)
    times = []
    for t in range(steps):
        a = time.perf_counter()
        draw = rng.beta(succ + 1.0, tries - succ + 1.0)  # [N]
        ids = np.argpartition(np.abs(draw - 0.5), k)[:k].astype(np.int64)
        rewards = _rollouts(d, ids, t, group, rng).reshape(k, group)
        np.add.at(succ, ids, rewards.sum(axis=1))
        np.add.at(tries, ids, group)
        times.append(time.perf_counter() - a)
    return 1e3 * float(np.median(times))


def format_bench(results: list[BenchResult]) -> str:
    lines = [
        "| N prompts | step ms (propose + observe) | propose ms | observe ms | bytes / prompt | "
        "full-pool Thompson ms | reference / ours |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.num_prompts:.0e} | {r.step_ms:.2f} | {r.propose_ms:.2f} | {r.observe_ms:.2f} | "
            f"{r.bytes_per_prompt:.1f} | {r.reference_step_ms:.1f} | {r.reference_ratio:.0f}x |"
        )
    if len(results) >= 2:
        lo, hi = results[0], results[-1]
        lines.append(f"\nstep time at N={hi.num_prompts:.0e} / N={lo.num_prompts:.0e}: {hi.step_ms / lo.step_ms:.2f}x")
    return "\n".join(lines)
