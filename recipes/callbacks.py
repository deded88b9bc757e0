"""The callbacks `curriculum train` adds to the trainer, each built with the trainer it watches:

- `RunRecorder`: metrics.jsonl (every log, and every held-out evaluation), the curriculum's step reports
  (`calibration.npz`: each group's pass rate predicted before it was seen, and observed) and the draws per prompt;
- `RolloutBudget`: stops the run once it has generated `budget_rollouts` completions;
- `DriftProbe`: the pass rates of a fixed sample of the pool every few steps (`drift.npz`, the drift study);
- `CompactProgress`: one progress bar with a short postfix, in place of the Trainer's dict per log;
- `StepTimer`: the wall clock of the steps after a warm-up, and the curriculum's own seconds (`curriculum bench`).

    trainer.add_callback(RunRecorder(trainer, cfg, out, held_out, labels))
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from transformers import TrainerCallback

from curriculum.statefile import write_atomic

from .evaluate import LevelReport, as_example, evaluate_run, pass_counts
from .run_config import RunConfig
from .stats import DRIFT_SAMPLES, band_drift


def generated_rollouts(trainer: Any) -> float:
    """Every completion generated so far: those of each generation chunk the trainer scored (a chunk whose rewards
    were all None included: the curriculum observed none of it), plus any discarded by dynamic sampling."""
    sampler = trainer.curriculum_sampler
    chunk = sampler.batch_size * sampler.mini_repeat_count  # prompts a chunk x completions a prompt, all ranks
    return float(sampler.chunks_observed * chunk + getattr(trainer, "discarded_rollouts", 0))


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))


class CalibrationRecord:
    """Every group the curriculum observed: its prompt, step, pass rate predicted before it was seen, observed pass
    rate and whether it was the prompt's first visit (the step reports, in order); saved as calibration.npz."""

    COLUMNS = {"predicted": np.float32, "observed": np.float32, "prompt_id": np.int64, "step": np.int64, "first_visit": bool}

    def __init__(self, num_prompts: int) -> None:
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in self.COLUMNS}
        self.draws = np.zeros(num_prompts, dtype=np.int64)
        """(N,) times each prompt was drawn and observed."""

    def add(self, report: Any, step: int) -> None:
        """One `Curriculum.observe`'s StepReport, made at curriculum step `step`."""
        ids = np.asarray(report.ids, dtype=np.int64)
        np.add.at(self.draws, ids, 1)
        values = {
            "predicted": report.predicted,
            "observed": report.observed,
            "prompt_id": ids,
            "step": np.full(len(ids), step),
            "first_visit": report.first_visit,
        }
        for key, value in values.items():
            self.parts[key].append(np.asarray(value).astype(self.COLUMNS[key]))

    def column(self, key: str) -> np.ndarray:
        parts = self.parts[key]
        return np.concatenate(parts).astype(self.COLUMNS[key]) if parts else np.zeros(0, self.COLUMNS[key])

    def save(self, path: Path) -> None:
        write_atomic(path, lambda f: np.savez(f, **{k: self.column(k) for k in self.COLUMNS}))

    def load(self, path: Path, up_to_step: int) -> None:
        """The groups of a saved record up to `up_to_step` (later ones were trained by an interrupted run only)."""
        with np.load(path) as data:
            keep = data["step"] <= up_to_step
            self.parts = {k: [data[k][keep]] for k in self.COLUMNS}
        self.draws = np.bincount(self.parts["prompt_id"][0], minlength=len(self.draws)).astype(np.int64)


class RunRecorder(TrainerCallback):
    """metrics.jsonl (every log; the held-out evaluations, every `eval_every` steps or `eval_every_rollouts`
    completions), the calibration record (every curriculum step) and the mean level drawn."""

    def __init__(
        self,
        trainer: Any,
        cfg: RunConfig,
        out: Path,
        eval_examples: Any,
        labels: np.ndarray | None,
        pool_size: int | None = None,
        to_pool: Any = None,
    ) -> None:
        """`to_pool`: a streamed pool's ids (window slots) -> pool prompts, at the report (None: they are the pool's);
        `pool_size`: the prompts of the pool (None: the curriculum's)."""
        self.trainer, self.cfg, self.out = trainer, cfg, out
        self.eval_examples, self.labels, self.to_pool = eval_examples, labels, to_pool
        self.record = CalibrationRecord(trainer.curriculum.num_prompts if pool_size is None else pool_size)
        self.mean_level: float | None = None  # mean difficulty label drawn at the last curriculum step
        self.evals_done = 0  # multiples of eval_every_rollouts passed so far

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
        """On a resume (the curriculum is restored by now): the history up to the checkpoint continues."""
        cur = self.trainer.curriculum
        if cur.step == 0:
            return
        if self.cfg.eval_every_rollouts:
            self.evals_done = int(generated_rollouts(self.trainer) // self.cfg.eval_every_rollouts)
        if (self.out / "calibration.npz").exists():
            self.record.load(self.out / "calibration.npz", cur.step)

    def on_curriculum_report(self, report: Any, step: int) -> None:
        """Every observe's StepReport, as the trainer makes it (rl.trl.trainer: `on_curriculum_report`)."""
        if self.to_pool is not None:
            report = report._replace(ids=self.to_pool(report.ids))
        self.record.add(report, step)
        if self.labels is not None and report.ids.size:
            self.mean_level = float(self.labels[report.ids].mean())

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if self.due(state.global_step) and state.is_world_process_zero:
            model, tokenizer = self.trainer.model, self.trainer.processing_class
            self.write_eval(state.global_step, evaluate_run(model, tokenizer, self.eval_examples, self.cfg))

    def due(self, step: int) -> bool:
        """Every eval_every steps, or each time the completions generated pass a multiple of eval_every_rollouts."""
        if self.cfg.eval_every_rollouts:
            done = int(generated_rollouts(self.trainer) // self.cfg.eval_every_rollouts)
            if done > self.evals_done:
                self.evals_done = done
                return True
            return False
        return bool(self.cfg.eval_every) and step % self.cfg.eval_every == 0

    def write_eval(self, step: int, report: LevelReport) -> None:
        self.write(
            {"step": step, "rollouts": generated_rollouts(self.trainer), "eval/accuracy": report.mean}
            | {f"eval/accuracy_level_{k}": v for k, v in report.accuracy.items()}
            | {f"eval/{fam}/accuracy_level_{k}": v for fam, acc in report.by_family.items() for k, v in acc.items()}
        )

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
        if not state.is_world_process_zero or not logs:
            return
        row = {"step": state.global_step, **{k: v for k, v in logs.items() if is_number(v)}}
        if self.mean_level is not None:
            row["curriculum/mean_level"] = self.mean_level
        self.write(row)

    def write(self, row: dict) -> None:
        with open(self.out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")

    def on_save(self, args, state, control, **kwargs):  # noqa: ANN001
        if state.is_world_process_zero:
            self.save_calibration()  # with every checkpoint, so a crash loses none of it

    def save_calibration(self) -> None:
        self.record.save(self.out / "calibration.npz")

    def never_solved_share(self) -> float:
        """Share of the observed groups (rollouts, groups being of one size) that went to pool prompts with no
        success in any of their groups: `Curriculum.never_solved_share` by pool prompt, for a stream's window."""
        ids, observed = self.record.column("prompt_id"), self.record.column("observed")
        if not ids.size:
            return float("nan")
        solved = np.zeros(len(self.record.draws), dtype=bool)
        solved[ids[observed > 0]] = True
        return float((~solved[ids]).mean())


class RolloutBudget(TrainerCallback):
    """Stops training once the run has generated `budget` completions (every rollout counted)."""

    def __init__(self, trainer: Any, budget: int) -> None:
        self.trainer, self.budget = trainer, budget

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if generated_rollouts(self.trainer) >= self.budget:
            control.should_training_stop = True


class DriftProbe(TrainerCallback):
    """Pass rates (DRIFT_SAMPLES completions a prompt) of a fixed sample of `prompts` pool prompts every `every`
    steps; twice at step 0 (the noise floor). Saved as drift.npz after every probe."""

    def __init__(self, trainer: Any, cfg: RunConfig, out: Path, every: int, prompts: int) -> None:
        self.trainer, self.cfg, self.out, self.every = trainer, cfg, out, every
        ds = trainer.train_dataset
        pick = np.random.default_rng(cfg.seed).permutation(len(ds))[:prompts]
        self.rows = [as_example(ds[int(i)]) for i in sorted(pick)]
        self.probes: list[tuple[int, np.ndarray]] = []

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
        """The start's probes (twice: the noise floor); on a resume, the probes up to the checkpoint instead."""
        if not state.is_world_process_zero:
            return
        path = self.out / "drift.npz"
        if self.trainer.curriculum.step > 0 and path.exists():
            with np.load(path) as data:
                keep = data["step"] <= state.global_step  # later probes were made by the interrupted run only
                self.probes = [(int(s), r) for s, r in zip(data["step"][keep], data["rate"][keep], strict=True)]
        elif self.trainer.curriculum.step == 0 and state.global_step == 0:
            self.probe(0)

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if state.global_step % self.every == 0 and state.is_world_process_zero:
            self.probe(state.global_step)

    def probe(self, step: int) -> None:
        model, tokenizer, seed = self.trainer.model, self.trainer.processing_class, self.cfg.seed
        for repeat in range(2 if step == 0 else 1):
            counts = pass_counts(model, tokenizer, self.rows, self.cfg, DRIFT_SAMPLES, seed=seed + 1000 * step + repeat)
            self.probes.append((step, counts / float(DRIFT_SAMPLES)))
        steps, rates = np.array([s for s, _ in self.probes]), np.stack([r for _, r in self.probes])
        write_atomic(self.out / "drift.npz", lambda f: np.savez(f, step=steps, rate=rates))

    def summary(self) -> dict[str, Any] | None:
        if not self.probes:
            return None
        return band_drift([s for s, _ in self.probes], [r for _, r in self.probes], self.every)


class CompactProgress(TrainerCallback):
    """One tqdm bar over `total` steps, its postfix the reward, the informative share and the ability."""

    POSTFIX = {"reward": "reward", "curriculum/informative_ratio": "informative", "curriculum/ability": "ability"}

    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc = total, desc
        self.bar: Any = None

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
        if state.is_world_process_zero:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc=self.desc, unit="step", dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
        if self.bar is not None and logs:
            postfix = {name: f"{logs[k]:.2f}" for k, name in self.POSTFIX.items() if is_number(logs.get(k))}
            self.bar.set_postfix(postfix, refresh=False)

    def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if self.bar is not None:
            self.bar.close()


class StepTimer(TrainerCallback):
    """Wall-clock time of the steps after `warmup_steps` (past compilation and allocator warm-up), the trainer's
    curriculum clock reset at the same point, and the chunks proposed ahead of the feedback at each later step."""

    def __init__(self, trainer: Any, warmup_steps: int) -> None:
        self.trainer, self.warmup_steps = trainer, warmup_steps
        self.start = self.end = math.nan
        self.lags: list[int] = []

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if state.global_step == self.warmup_steps:
            self.trainer.curriculum_clock.reset()
            self.start = time.perf_counter()
        elif state.global_step > self.warmup_steps:
            self.end = time.perf_counter()
            self.lags.append(self.trainer.curriculum_last_lag)
