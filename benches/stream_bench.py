"""`curriculum bench --stream`: the per-step curriculum cost of a streamed pool's window against a map-style pool.

    curriculum bench --stream --sizes 1e6                       # windows 1024, 4096, 16384 and the map-style pool
    curriculum bench --stream --sizes 1e6 --windows 4096 --k 64 --group 8

One step, as the trainer runs it: `propose(k)` (and, for a window, the prompts the walk judged out of reach
refilled from the stream), then `observe(k x group)` (and the k prompts just trained on refilled). The stream is an
`IterableDataset.from_generator` of N rows carrying each prompt's true difficulty (the bench's synthetic drifting
pool, curriculum/tools/bench.py); the map-style pool is a `Curriculum(N)` over the same difficulties. A window's
refill reads the next rows from the stream, keys each prompt (the trainer's row check) and calls
`Curriculum.replace`: all of it counts. Medians over `steps` steps after `warmup`.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import numpy as np

from curriculum import Curriculum, CurriculumConfig
from curriculum.tools.bench import _pool, _rollouts, array_bytes
from rl.trl.stream import StreamWindow


def _stream(n: int) -> Any:
    """The bench's pool of `n` prompts as a stream, one shard (a list in gen_kwargs would be one shard per entry)."""
    from datasets import IterableDataset

    def rows(n: int, seed: int) -> Any:
        for i, x in enumerate(_pool(n, seed).tolist()):
            yield {"prompt": f"prompt {i}", "difficulty": x}

    return IterableDataset.from_generator(rows, gen_kwargs={"n": n, "seed": 0})


def _time_steps(
    cur: Curriculum, difficulty_of: Any, window: StreamWindow | None, k: int, group: int, steps: int, warmup: int
) -> dict[str, float]:
    rng = np.random.default_rng(1)
    prop, obs = [], []
    for t in range(warmup + steps):
        gc.disable()
        a = time.perf_counter()
        ids = cur.propose(k)
        if window is not None:
            window.refill(cur.judged_out_of_reach())
        b = time.perf_counter()
        rewards = _rollouts(difficulty_of(ids), np.arange(ids.size), t, group, rng)
        c = time.perf_counter()
        cur.observe(np.repeat(ids, group), rewards)
        if window is not None:
            window.refill(ids)
        e = time.perf_counter()
        gc.enable()
        if t >= warmup:
            prop.append(b - a)
            obs.append(e - c)
    return {
        "step_ms": 1e3 * float(np.median(np.add(prop, obs))),
        "propose_ms": 1e3 * float(np.median(prop)),
        "observe_ms": 1e3 * float(np.median(obs)),
    }


def bench_stream(
    n: int, windows: list[int], k: int = 512, group: int = 16, steps: int = 60, warmup: int = 40
) -> list[dict[str, Any]]:
    """One row for the map-style pool of `n` prompts, then one per window size over a stream of the same `n`."""
    d = _pool(n, 0)  # [N] true difficulty
    config = CurriculumConfig(policy="adaptive")
    cur = Curriculum(n, config, seed=0)
    out = [{"pool": "map-style", "slots": n, **_time_steps(cur, lambda ids: d[ids], None, k, group, steps, warmup)}]
    out[0]["core_mb"] = array_bytes(cur) / 1e6
    stream = _stream(n)
    for size in windows:
        built = time.perf_counter()
        window = StreamWindow(stream, size)
        cur = Curriculum(window.size, config, seed=0)
        window.attach(cur)
        fill_s = time.perf_counter() - built
        difficulty = lambda ids, w=window: np.array([w.rows[i]["difficulty"] for i in ids.tolist()])  # noqa: E731
        row = {"pool": "stream", "slots": window.size, **_time_steps(cur, difficulty, window, k, group, steps, warmup)}
        row |= {"core_mb": array_bytes(cur) / 1e6, "fill_s": fill_s, "streamed": window.consumed}
        out.append(row)
    return out


def format_stream_bench(n: int, rows: list[dict[str, Any]]) -> str:
    base = rows[0]["step_ms"]
    lines = [
        f"| pool of {n:.0e} | slots | step ms | propose ms | observe ms | / map-style | core MB | rows streamed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['pool']} | {r['slots']} | {r['step_ms']:.2f} | {r['propose_ms']:.2f} | {r['observe_ms']:.2f} | "
            f"{r['step_ms'] / base:.2f}x | {r['core_mb']:.2f} | {r.get('streamed', '-')} |"
        )
    return "\n".join(lines)
