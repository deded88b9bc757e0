"""`curriculum train`: the main job. GRPO with the curriculum on a mixed-difficulty pool, evaluated
per difficulty level before and after, with metrics, checkpoints and plots in the output folder.

    curriculum train                                    # configs/default.yaml: the tiny model, ~1.5 min on 2 cores
    curriculum train --config configs/smoke.yaml        # the same pipeline in under a minute
    curriculum train dataset=data/my.jsonl model=path/to/hf-model policy=static max_steps=200

Output folder: `run_config.yaml`, `metrics.jsonl` (every logged step, curriculum/* and advantage/*
included), `calibration.npz` (predicted vs observed pass rate of every group, its prompt and step, and whether it
was the prompt's first visit; saved with
every checkpoint), `eval_start.json` (the held-out evaluation before training), `eval.md` / `eval.json`
(accuracy per level before and after), `checkpoint-*` (model + curriculum state), `*.png` plots.
A new run refuses a folder that already holds files (resume=true continues the run there, overwrite=true
deletes it); a resume continues metrics.jsonl and calibration.npz from the checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from curriculum.statefile import write_atomic

from .build import build_data, build_model, grpo_args, reward_functions, select_band, select_levels
from .evaluate import LevelReport, eval_table, evaluate_run, metric_name, probe_pool
from .run_config import Probes, RunConfig, load_run_config
from .run_dir import prepare_output_dir
from .stats import coverage, draws_by_level


class TrainRecipe:
    """One `curriculum train` run, top to bottom: `check` every setting, `setup` (the output folder, the data, the
    model, the start's evaluation, the trainer and its callbacks), `train`, `evaluate`, `save` (eval.json, eval.md,
    plots) and `report`. Each step only calls the library (rl, curriculum, tasks) and the recipe's modules:
    build (data, model, settings), evaluate (every evaluation), callbacks (what a run records), run_dir (the
    output folder)."""

    def __init__(self, cfg: RunConfig, probes: Probes | None = None) -> None:
        self.cfg = cfg
        self.probes = probes or Probes()  # what a study measures besides (curriculum ablate's)
        self.out = Path(cfg.output_dir)
        self.t0 = math.nan  # the run's clock, started once TRL is imported (as eval.json's wall_s always counted)
        # check
        self.args: Any = None  # CurriculumGRPOConfig
        self.resume: str | None = None  # the checkpoint resumed from
        # setup
        self.eval_examples: Any = None
        self.tokenizer: Any = None
        self.before: LevelReport | None = None  # the warm model's held-out evaluation
        self.band: dict[str, Any] | None = None  # pool_band's selection
        self.pool_start: dict[str, Any] | None = None  # probe_pool's figures
        self.trainer: Any = None
        self.recorder: Any = None  # callbacks.RunRecorder
        self.drift: Any = None  # callbacks.DriftProbe, when probes.drift_every
        # train, evaluate, save
        self.train_s = math.nan
        self.after: LevelReport | None = None
        self.plots: list[Path] = []
        self.table = ""  # the before/after table (eval.md)

    def run(self) -> dict[str, Any]:
        self.check()
        self.setup()
        self.train()
        result = self.evaluate()
        self.save(result)
        self.report(result)
        return result

    def check(self) -> None:
        """A TRL that cannot train on this machine, and every GRPO and curriculum setting, before any data or model
        loads; then the output folder (a resume finds its checkpoint)."""
        from rl.trl.trainer import check_trl

        self.t0 = time.perf_counter()
        check_trl()
        self.args = grpo_args(self.cfg, self.out)
        self.resume = prepare_output_dir(self.cfg, self.out)
        if self.resume is None:
            write_atomic(self.out / "run_config.yaml", yaml.safe_dump(dataclasses.asdict(self.cfg), sort_keys=False))

    def setup(self) -> None:
        cfg = self.cfg
        train_ds, self.eval_examples = build_data(cfg)
        if "curriculum_prior_column" not in cfg.grpo:  # the labels, if the data has them, are named "difficulty"
            self.args.curriculum_prior_column = "difficulty" if "difficulty" in train_ds.column_names else None
        texts = list(train_ds["prompt"]) + [str(a) for a in train_ds["answer"]]  # load_prompts renames the columns
        model, self.tokenizer, info = build_model(cfg, texts)
        print(f"model: {info.get('description', cfg.model)}; {len(train_ds)} training prompts", flush=True)
        self.before = self.start_evaluation(model)
        if cfg.pool_levels:
            train_ds = select_levels(train_ds, cfg.pool_levels)
        if cfg.pool_band:
            train_ds, self.band = select_band(model, self.tokenizer, train_ds, cfg)
        self.pool_start = probe_pool(model, self.tokenizer, train_ds, cfg) if self.probes.pool else None
        self.trainer = self.build_trainer(model, train_ds)

    def start_evaluation(self, model: Any) -> LevelReport:
        """The held-out evaluation of the warm model (eval_start.json); a resume reads the run's, not the
        checkpoint's."""
        start_file = self.out / "eval_start.json"
        if self.resume is not None and start_file.exists():
            return LevelReport.from_json(json.loads(start_file.read_text()))
        before = evaluate_run(model, self.tokenizer, self.eval_examples, self.cfg)
        write_atomic(start_file, json.dumps(before.to_json()))
        return before

    def build_trainer(self, model: Any, train_ds: Any) -> Any:
        """The trainer (with dynamic sampling or the oracle when the config asks) and the callbacks that watch it."""
        from rl.trl.trainer import CurriculumGRPOTrainer

        from .callbacks import DriftProbe, RolloutBudget, RunRecorder

        cfg, trainer_cls = self.cfg, CurriculumGRPOTrainer
        if cfg.dynamic_sampling:
            from .dynamic_sampling import DynamicSamplingTrainer as trainer_cls
        order = np.random.default_rng(cfg.seed).permutation(len(train_ds)) if cfg.stream else None
        trainer = trainer_cls(
            model=model,
            reward_funcs=reward_functions(cfg.rewards),
            args=self.args,
            train_dataset=train_ds if order is None else train_ds.select(order).to_iterable_dataset(),
            processing_class=self.tokenizer,
        )
        labels = np.asarray(train_ds["difficulty"]) if "difficulty" in train_ds.column_names else None
        to_pool = None
        if order is not None:  # a slot's row is the stream's row at its position: the pool's prompt order[position]

            def to_pool(slots: np.ndarray) -> np.ndarray:
                return order[trainer.curriculum_window.positions[slots] % len(order)]

        self.recorder = RunRecorder(trainer, cfg, self.out, self.eval_examples, labels, len(train_ds), to_pool)
        trainer.add_callback(self.recorder)
        if cfg.budget_rollouts is not None:
            trainer.add_callback(RolloutBudget(trainer, cfg.budget_rollouts))
        every, prompts = self.probes.drift_every, self.probes.drift_prompts
        if every and cfg.stream:
            raise ValueError("drift probes read the whole pool by index: study a streamed pool without them")
        self.drift = DriftProbe(trainer, cfg, self.out, every, prompts) if every else None
        if self.drift is not None:
            trainer.add_callback(self.drift)
        if cfg.oracle:
            from .oracle import install_oracle

            install_oracle(trainer, cfg.max_completion_length, cfg.temperature)
        self.quiet_progress(trainer)
        return trainer

    def quiet_progress(self, trainer: Any) -> None:
        """The Trainer's progress bar, which prints every log as a dict, gives way to one bar with a short postfix."""
        from transformers.trainer_callback import PrinterCallback, ProgressCallback

        from .callbacks import CompactProgress

        trainer.remove_callback(ProgressCallback)
        trainer.remove_callback(PrinterCallback)
        cfg = self.cfg
        per_step = cfg.prompts_per_step * cfg.num_generations
        total = cfg.max_steps if cfg.budget_rollouts is None else min(cfg.max_steps, -(-cfg.budget_rollouts // per_step))
        trainer.add_callback(CompactProgress(total, f"GRPO ({cfg.policy})"))

    def train(self) -> None:
        if self.resume is None:
            self.recorder.write_eval(0, self.before)
        else:
            print(f"resuming from {self.resume}", flush=True)
        start = time.perf_counter()
        self.trainer.train(resume_from_checkpoint=self.resume)
        self.train_s = time.perf_counter() - start

    def evaluate(self) -> dict[str, Any]:
        """The trained model's held-out evaluation, recorded, and the run's result (what eval.json holds)."""
        trainer = self.trainer
        self.after = evaluate_run(trainer.model, self.tokenizer, self.eval_examples, self.cfg)
        self.recorder.write_eval(trainer.state.global_step, self.after)
        self.recorder.save_calibration()
        return self.result()

    def result(self) -> dict[str, Any]:
        """What eval.json holds: the evaluations before and after (per level, per family, the shortcut measures), the
        curriculum's figures, what the run generated and drew, and its costs."""
        from .callbacks import generated_rollouts

        before, after, trainer = self.before, self.after, self.trainer
        stats = trainer.curriculum.stats()
        return {
            "before": before.accuracy,
            "after": after.accuracy,
            "before_half_width": before.half_width,
            "after_half_width": after.half_width,
            "eval_prompts": after.prompts,
            "before_by_family": before.by_family,
            "after_by_family": after.by_family,
            "eval_metric": metric_name(self.cfg),
            "curriculum": stats,
            "wall_s": time.perf_counter() - self.t0,
            "train_s": self.train_s,
            "feature_cost": feature_cost(trainer),
            "rollouts": stats["observed_rollouts"],
            "generated_rollouts": generated_rollouts(trainer),
            "never_solved_share": (
                trainer.curriculum.never_solved_share() if not self.cfg.stream else self.recorder.never_solved_share()
            ),
            "coverage": coverage(self.recorder.record.draws),
            "draws_by_level": draws_by_level(self.recorder.record.draws, self.recorder.labels),
            "pool_start": self.pool_start,
            "pool_band": self.band,
            "mode_share": {"before": before.mode_share, "after": after.mode_share, "reference": after.reference_mode_share},
            "shortcut": {
                when: {"mode_share": rep.mode_share_by_level, "chance": rep.chance_by_level, "accuracy": rep.by_family}
                for when, rep in (("before", before), ("after", after))
            },
            "drift": self.drift.summary() if self.drift is not None else None,
        }

    def save(self, result: dict[str, Any]) -> None:
        write_atomic(self.out / "eval.json", json.dumps(result, indent=2, default=float))
        from tasks.gym import is_gym, level_names

        names = level_names(self.cfg.gym_spec()) if is_gym(self.cfg.dataset) else None
        self.table = eval_table(self.before, self.after, metric_name(self.cfg), names)
        write_atomic(self.out / "eval.md", self.table + "\n")
        from .plots import plot_run

        self.plots = plot_run(self.out) if self.cfg.plots else []

    def report(self, result: dict[str, Any]) -> None:
        """The before/after table, the curriculum's figures and its calibration, and where the outputs are."""
        from .plots import calibration_summary

        stats = result["curriculum"]
        print("\n" + self.table)
        print(
            f"\ncurriculum: ability {stats['ability']:.2f}, excluded {stats['excluded_frac']:.1%}, "
            f"retired {stats['retired_frac']:.1%}, informative groups {stats['informative_ratio_total']:.1%}"
        )
        calibration = calibration_summary(self.out / "calibration.npz")
        if calibration:
            print(calibration)
        if stats.get("observed_pass_rate", 0.0) == 0.0:
            print(
                "nothing is learnable yet: no rollout succeeded on any prompt. The curriculum keeps re-probing "
                "excluded prompts as training goes on; warm the model up (SFT) or add easier prompts."
            )
        print(f"outputs in {self.out}/: " + ", ".join(["metrics.jsonl", "eval.md", *(p.name for p in self.plots)]))


def run(cfg: RunConfig, probes: Probes | None = None) -> dict[str, Any]:
    """Train with `cfg` (measuring `probes` besides) and return the run's result (also written to eval.json)."""
    return TrainRecipe(cfg, probes).run()


def feature_cost(trainer: Any) -> dict[str, float]:
    """Seconds the curriculum's features took (a table built once, or the policy's forward passes) and over how many
    prompts."""
    source = getattr(trainer, "curriculum_features", None)
    return {
        "build_s": float(getattr(trainer, "curriculum_features_build_s", 0.0)) if source is not None else 0.0,
        "forward_s": float(getattr(source, "seconds", 0.0)),
        "forward_prompts": float(getattr(source, "prompts", 0)),
    }


def quiet_libraries() -> None:
    """No output of the libraries' own: no FutureWarnings, and no progress bars of checkpoint saves and loads (the GRPO
    bar and the tables are what a user reads). Offline mode is set when recipes is imported."""
    import warnings

    from transformers.utils import logging as hf_logging

    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    hf_logging.disable_progress_bar()


def main(config: str | None, overrides: list[str]) -> int:
    quiet_libraries()
    run(load_run_config(config, overrides))
    return 0
