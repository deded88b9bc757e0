"""What the curriculum costs a GRPO step: a stopwatch around its own work, and `measure_overhead`.

`CurriculumGRPOTrainer` times the curriculum's own work with a `Stopwatch` in named sections:
`propose` (the sampler), `gather` (prompt ids from every rank), `observe` (success labels, the
pre-update predictions, `Curriculum.observe_counts`, metrics), `shaping` (fluke damping of the advantages,
including their gather; only with damping or curriculum_advantage_metrics) and `sync_check`.
`measure_overhead` trains a small model for a few steps with `curriculum_policy="adaptive"` and compares that
time with the whole step:

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 python -m benches.overhead          # prints {"step_s": ..., "share": ...}

`measure_cold_routines` shows why the cost is higher inside training than in a loop (numpy routines run
cold after each model step). Target: share < 1%.

The default model is a random-init character-level Llama (2 layers, hidden 128) on
`a+b=` prompts, self-contained (no download, no warm-up); `benches._dist_check` uses the same fixture. Pass
`model`, `tokenizer`, `train_dataset` and `reward_funcs` to time a real set-up instead; `default_setup()`
gives those of `curriculum train`'s embedded default (`curriculum bench --trainer --trainer-setup default`).
This module imports nothing heavy at import time (the CLI may import it).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from typing import Any

from recipes.toy import answer_reward, toy_args, toy_dataset, toy_model, toy_tokenizer


# ---- the measurement ---------------------------------------------------------------------------------
def measure_overhead(
    steps: int = 100,
    *,
    warmup_steps: int = 10,
    num_prompts: int = 2048,
    model: Any = None,
    tokenizer: Any = None,
    train_dataset: Any = None,
    reward_funcs: Any = None,
    output_dir: str | None = None,
    **config_overrides: Any,
) -> dict[str, float]:
    """Train `warmup_steps + steps` steps (curriculum_policy="adaptive" unless overridden); time the last `steps`
    (by default steps 11-110: past the start-up, into revisits and re-probes, as most of a run is).

    Defaults: the toy model at the shape of configs/default.yaml (hidden 128, 8 prompts x 8 generations,
    completions of 8 tokens); `config_overrides` go to CurriculumGRPOConfig. Returns step_s (mean
    wall-clock seconds per optimiser step), curriculum_s (the curriculum's own work per step: propose +
    gather + observe + shaping), share (curriculum_s / step_s), lag (mean chunks proposed ahead of the
    feedback, at each observe) and the per-section seconds per step (`<section>_s`)."""
    import torch

    from recipes.callbacks import StepTimer
    from rl.trl.trainer import CurriculumGRPOTrainer

    if steps < 1 or warmup_steps < 1:
        raise ValueError(f"measure_overhead needs steps >= 1 and warmup_steps >= 1, got {steps}, {warmup_steps}")
    tokenizer = tokenizer if tokenizer is not None else toy_tokenizer()
    model = model if model is not None else toy_model(tokenizer, hidden=128)
    shape = {"per_device_train_batch_size": 64, "num_generations": 8, "max_completion_length": 8}
    config_overrides = shape | config_overrides
    train_dataset = train_dataset if train_dataset is not None else toy_dataset(num_prompts)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = CurriculumGRPOTrainer(
            model=model,
            reward_funcs=reward_funcs if reward_funcs is not None else [answer_reward],
            args=toy_args(output_dir or tmp, warmup_steps + steps, **config_overrides),
            train_dataset=train_dataset,
            processing_class=tokenizer,
        )
        timer = StepTimer(trainer, warmup_steps)
        trainer.add_callback(timer)
        trainer.train()
    step_s = (timer.end - timer.start) / steps
    sections = {f"{k}_s": v / steps for k, v in sorted(trainer.curriculum_clock.seconds.items())}
    curriculum_s = trainer.curriculum_clock.total() / steps
    lag = sum(timer.lags) / len(timer.lags) if timer.lags else math.nan
    return {
        "step_s": step_s,
        "curriculum_s": curriculum_s,
        "share": curriculum_s / step_s,
        "lag": lag,
        "steps": float(steps),
        "num_prompts": float(len(train_dataset)),
        "torch_threads": float(torch.get_num_threads()),
        **sections,
    }


def measure_cold_routines(repeats: int = 25) -> dict[str, dict[str, float]]:
    """Why the curriculum costs more inside training than in a loop: seconds of small numpy routines (8
    numbers) run right after a model step (an MLP's forward and backward, which evicts the CPU caches) and
    again at once.

    Per repeat: a model step, one `np.add` (its time: "first call", numpy's shared machinery re-warming),
    then the routine twice ("cold", "warm"). Returns {"first call": {"cold": s}, routine: {"cold": s, "warm":
    s}}, medians over `repeats`. `curriculum bench --cold` prints it."""
    import statistics

    import numpy as np
    import torch

    with torch.random.fork_rng(devices=[]):  # seeded, and the caller's global RNG is left as it was
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(128, 512), torch.nn.GELU(), torch.nn.Linear(512, 128))
        x = torch.randn(512, 128)
    opt = torch.optim.AdamW(net.parameters())

    def model_step() -> None:
        for _ in range(3):
            loss = net(x).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    a, b, ids = np.arange(8.0), np.ones(8), np.arange(8)
    rng = np.random.default_rng(0)
    routines: dict[str, Any] = {
        "multiply": lambda: a * b,
        "exp": lambda: np.exp(a),
        "take": lambda: a[ids],
        "boolean index": lambda: a[a > 3.0],
        "concatenate": lambda: np.concatenate([a, b]),
        "sort": lambda: np.sort(ids),
        "argsort": lambda: np.argsort(a),
        "Generator.random": lambda: rng.random(8),
    }
    first: list[float] = []
    times: dict[str, dict[str, list[float]]] = {name: {"cold": [], "warm": []} for name in routines}
    for name, fn in routines.items():
        for _ in range(repeats):
            model_step()
            start = time.perf_counter()
            np.add(a, b)
            first.append(time.perf_counter() - start)
            for phase in ("cold", "warm"):
                start = time.perf_counter()
                fn()
                times[name][phase].append(time.perf_counter() - start)
    out = {"first call": {"cold": statistics.median(first)}}
    out.update({name: {k: statistics.median(v) for k, v in t.items()} for name, t in times.items()})
    return out


def default_setup() -> dict[str, Any]:
    """`measure_overhead` keyword arguments for the embedded default of `curriculum train` (configs/default.yaml):
    the warmed-up tiny model (built and cached on first use, about a minute), its pool of digit-sum and sorting
    prompts with level labels, its reward functions and its GRPO shape."""
    from pathlib import Path

    from recipes.build import build_data, build_model, grpo_args, reward_functions
    from recipes.run_config import load_run_config

    cfg = load_run_config(None, [])
    train_dataset, _ = build_data(cfg)
    texts = list(train_dataset["prompt"]) + [str(a) for a in train_dataset["answer"]]
    model, tokenizer, _ = build_model(cfg, texts)
    args = grpo_args(cfg, Path(tempfile.gettempdir()))  # the run's GRPO and curriculum settings
    args.curriculum_prior_column = "difficulty"  # as `curriculum train` sets it for a pool with level labels
    shape = (
        "per_device_train_batch_size",
        "num_generations",
        "max_completion_length",
        "learning_rate",
        "temperature",
        "beta",
        "curriculum_policy",
        "curriculum_fluke_damping",
        "curriculum_prior_column",
    )
    return dict(
        model=model,
        tokenizer=tokenizer,
        train_dataset=train_dataset,
        reward_funcs=reward_functions(cfg.rewards),
        **{name: getattr(args, name) for name in shape},
    )


def _main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(json.dumps(measure_overhead(), indent=1))


if __name__ == "__main__":
    _main()
