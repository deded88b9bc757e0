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
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .run_config import RunConfig, load_run_config
from .stats import coverage


# ---- data and model -----------------------------------------------------------------------------------
def build_data(cfg: RunConfig) -> tuple[Any, list[Any]]:
    """(train dataset with prompt/answer/difficulty columns, held-out eval examples)."""
    from tasks import build_eval, build_pool

    if cfg.dataset is None:
        if cfg.level_counts:
            from datasets import concatenate_datasets

            train = concatenate_datasets(
                [
                    build_pool(cfg.families, [int(lv)], int(n), seed=cfg.seed)
                    for lv, n in sorted(cfg.level_counts.items())
                    if int(n) > 0
                ]
            )
        else:
            train = build_pool(cfg.families, cfg.levels, cfg.per_level, seed=cfg.seed)
        evals = build_eval(cfg.families, cfg.levels, cfg.eval_per_level, seed=cfg.seed, exclude=train)
        return train, evals
    from tasks.data import load_prompts

    optional = cfg.difficulty_column in (None, "difficulty")  # the default: used if present
    ds = load_prompts(
        cfg.dataset,
        prompt_column=cfg.prompt_column,
        answer_column=cfg.answer_column,
        difficulty_column=None if optional else cfg.difficulty_column,
    )
    split = ds.train_test_split(test_size=min(0.1, 200 / max(len(ds), 1)), seed=cfg.seed)
    return split["train"], split["test"]


def build_model(cfg: RunConfig, texts: list[str]) -> tuple[Any, Any, dict]:
    if cfg.model == "tiny":
        from .tiny import load_or_build_tiny

        seed = (cfg.tiny.get("warmup") or {}).get("seed", cfg.seed)
        return load_or_build_tiny(
            cache_dir=cfg.tiny_cache_dir,
            config=cfg.tiny or None,
            warmup_steps=cfg.tiny_warmup_steps,
            extra_texts=texts,
            seed=seed,
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(cfg.model)
    if not (path / "config.json").exists():
        raise FileNotFoundError(
            f"model={cfg.model!r}: not 'tiny' and no local Hugging Face model folder "
            "(config.json) there; downloads are off (HF_HUB_OFFLINE=1)"
        )
    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return AutoModelForCausalLM.from_pretrained(path), tok, {"model": str(path), "cached": True}


def evaluate(model: Any, tokenizer: Any, examples: Any, cfg: RunConfig) -> Any:
    """Held-out accuracy per level (`rl.recipes.evaluate.LevelReport`): greedy, or sampled pass@1 (`eval_samples`)."""
    from .evaluate import evaluate_levels

    temperature = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
    return evaluate_levels(
        model,
        tokenizer,
        examples,
        samples=cfg.eval_samples,
        temperature=temperature,
        max_new_tokens=cfg.max_completion_length,
        seed=cfg.seed,
    )


# ---- callbacks ----------------------------------------------------------------------------------------
def make_callbacks(cfg: RunConfig, out: Path, eval_examples: Any, labels: np.ndarray | None) -> list[Any]:
    from transformers import TrainerCallback

    class RunRecorder(TrainerCallback):
        """metrics.jsonl (every log), calibration pairs and the level drawn (every curriculum step),
        and the periodic held-out evaluation."""

        def __init__(self) -> None:
            self.trainer: Any = None
            self.seen_step = -1
            self.pred: list[np.ndarray] = []
            self.obs: list[np.ndarray] = []
            self.ids: list[np.ndarray] = []
            self.steps: list[np.ndarray] = []
            self.first: list[np.ndarray] = []
            self.levels: list[float] = []
            self.draws: np.ndarray | None = None  # [N] times each prompt was drawn and observed
            self.evals_done = 0  # multiples of eval_every_rollouts passed so far
            self.drift_rows: list[Any] | None = None
            self.drift: list[tuple[int, np.ndarray]] = []

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            cur = self.trainer.curriculum
            if cur.step != self.seen_step:
                self.seen_step = cur.step
                report = cur.last_report
                ids, pred, obs = report.ids, report.predicted, report.observed
                if self.draws is None:
                    self.draws = np.zeros(cur.num_prompts, dtype=np.int64)
                np.add.at(self.draws, ids, 1)
                self.pred.append(pred.astype(np.float32))
                self.obs.append(obs.astype(np.float32))
                self.ids.append(np.asarray(ids, dtype=np.int64))
                self.steps.append(np.full(len(ids), cur.step, dtype=np.int64))
                self.first.append(report.first_visit.copy())
                if labels is not None and ids.size:
                    self.levels.append(float(labels[ids].mean()))
            if cfg.budget_rollouts is not None and generated_rollouts(self.trainer) >= cfg.budget_rollouts:
                control.should_training_stop = True
            if cfg.drift_probe_every and state.global_step % cfg.drift_probe_every == 0 and state.is_world_process_zero:
                self.probe_drift(state.global_step)
            if self.due(state.global_step) and state.is_world_process_zero:
                self.write_eval(
                    state.global_step, evaluate(self.trainer.model, self.trainer.processing_class, eval_examples, cfg)
                )

        def probe_drift(self, step: int) -> None:
            """Pass rates (16 samples) of a fixed sample of the pool at this step; twice at step 0 (noise floor)."""
            from .evaluate import as_example

            if self.drift_rows is None:
                ds = self.trainer.train_dataset
                pick = np.random.default_rng(cfg.seed).permutation(len(ds))[: cfg.drift_probe_prompts]
                self.drift_rows = [as_example(ds[int(i)]) for i in sorted(pick)]
            model, tok = self.trainer.model, self.trainer.processing_class
            for repeat in range(2 if step == 0 else 1):
                counts = pass_counts(model, tok, self.drift_rows, cfg, 16, seed=cfg.seed + 1000 * step + repeat)
                self.drift.append((step, counts / 16.0))
            np.savez(out / "drift.npz", step=np.array([s for s, _ in self.drift]), rate=np.stack([r for _, r in self.drift]))

        def drift_summary(self) -> dict[str, Any] | None:
            if not self.drift:
                return None
            from .stats import band_drift

            return band_drift([s for s, _ in self.drift], [r for _, r in self.drift], cfg.drift_probe_every)

        def due(self, step: int) -> bool:
            """Every eval_every steps, or each time the completions generated pass a multiple of eval_every_rollouts."""
            if cfg.eval_every_rollouts:
                done = int(generated_rollouts(self.trainer) // cfg.eval_every_rollouts)
                if done > self.evals_done:
                    self.evals_done = done
                    return True
                return False
            return bool(cfg.eval_every) and step % cfg.eval_every == 0

        def write_eval(self, step: int, report: Any) -> None:
            self.write(
                {"step": step, "rollouts": generated_rollouts(self.trainer), "eval/accuracy": report.mean}
                | {f"eval/accuracy_level_{k}": v for k, v in report.accuracy.items()}
                | {f"eval/{fam}/accuracy_level_{k}": v for fam, acc in report.by_family.items() for k, v in acc.items()}
            )

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if not state.is_world_process_zero or not logs:
                return
            row = {"step": state.global_step, **{k: v for k, v in logs.items() if _is_number(v)}}
            if self.levels:
                row["curriculum/mean_level"] = self.levels[-1]
            self.write(row)

        def write(self, row: dict) -> None:
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")

        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            """On a resume (the curriculum is restored by now): the history up to the checkpoint continues."""
            cur = self.trainer.curriculum
            if cur.step == 0:
                if cfg.drift_probe_every and state.global_step == 0 and state.is_world_process_zero:  # the start
                    self.probe_drift(0)
                return
            self.seen_step = cur.step
            if cfg.eval_every_rollouts:
                self.evals_done = int(generated_rollouts(self.trainer) // cfg.eval_every_rollouts)
            path = out / "calibration.npz"
            if path.exists():
                with np.load(path) as data:
                    keep = data["step"] <= cur.step  # later groups were trained by the interrupted run only
                    self.pred, self.obs = [data["predicted"][keep]], [data["observed"][keep]]
                    self.ids, self.steps = [data["prompt_id"][keep]], [data["step"][keep]]
                    self.first = [data["first_visit"][keep]]
                self.draws = np.bincount(self.ids[0], minlength=cur.num_prompts).astype(np.int64)

        def on_save(self, args, state, control, **kwargs):  # noqa: ANN001
            if state.is_world_process_zero:
                self.save_calibration()  # with every checkpoint, so a crash loses none of it

        def save_calibration(self) -> None:
            def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
                return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

            tmp = out / ".calibration.npz.tmp"
            with open(tmp, "wb") as f:
                np.savez(
                    f,
                    predicted=cat(self.pred, np.float32),
                    observed=cat(self.obs, np.float32),
                    prompt_id=cat(self.ids, np.int64),
                    step=cat(self.steps, np.int64),
                    first_visit=cat(self.first, bool),
                )
            os.replace(tmp, out / "calibration.npz")

    return [RunRecorder()]


def quiet_progress(trainer: Any, cfg: RunConfig) -> None:
    """Replace the Trainer's progress bar, which prints every log as a dict, with one bar and a short postfix."""
    from tqdm.auto import tqdm
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    per_step = cfg.prompts_per_step * cfg.num_generations
    total = cfg.max_steps if cfg.budget_rollouts is None else min(cfg.max_steps, -(-cfg.budget_rollouts // per_step))

    class CompactProgress(TrainerCallback):
        bar: Any = None

        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            if state.is_world_process_zero:
                self.bar = tqdm(total=total, desc=f"GRPO ({cfg.policy})", unit="step", dynamic_ncols=True)

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if self.bar is not None and logs:
                keys = {"reward": "reward", "curriculum/informative_ratio": "informative", "curriculum/ability": "ability"}
                self.bar.set_postfix(
                    {v: f"{logs[k]:.2f}" for k, v in keys.items() if _is_number(logs.get(k))}, refresh=False
                )

        def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
            if self.bar is not None:
                self.bar.close()

    trainer.add_callback(CompactProgress())


def generated_rollouts(trainer: Any) -> float:
    """Every completion generated so far: observed ones plus any discarded by dynamic sampling."""
    return float(trainer.curriculum.stats()["observed_rollouts"] + getattr(trainer, "discarded_rollouts", 0))


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))


# ---- the run ------------------------------------------------------------------------------------------
def grpo_args(cfg: RunConfig, out: Path) -> Any:
    from rl.trainer import CurriculumGRPOConfig

    kwargs: dict[str, Any] = dict(
        output_dir=str(out),
        seed=cfg.seed,
        max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler_type,
        per_device_train_batch_size=cfg.prompts_per_step * cfg.num_generations,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        temperature=cfg.temperature,
        beta=cfg.beta,
        logging_steps=cfg.logging_steps,
        save_steps=cfg.save_steps,
        save_strategy="steps",
        report_to=[],
        use_cpu=not _has_gpu(),
        # TRL defaults to bf16 autocast; on a CPU without bf16 units (AVX2) its matmuls run ~50x slower than fp32
        bf16=_has_gpu(),
        curriculum_policy=cfg.policy,
        curriculum_fluke_damping=cfg.fluke_damping,
        curriculum_features=cfg.features,
        curriculum_success_reward=cfg.success_reward,
        curriculum_prior_column=None,  # set once the data is loaded: its labels are named "difficulty", if any
        disable_tqdm=False,
    )
    if cfg.curriculum:
        kwargs["curriculum_extra"] = dict(cfg.curriculum)
    import dataclasses as dc

    unknown = sorted(set(cfg.grpo) - {f.name for f in dc.fields(CurriculumGRPOConfig)})
    if unknown:
        raise ValueError(
            f"grpo.{unknown[0]}: not a CurriculumGRPOConfig (GRPOConfig) field; check the spelling "
            "against TRL's GRPOConfig documentation"
        )
    kwargs.update(cfg.grpo)
    return CurriculumGRPOConfig(**kwargs)


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def run(cfg: RunConfig) -> dict[str, Any]:
    from rl.trainer import CurriculumGRPOTrainer, check_trl

    check_trl()  # a TRL that cannot train on this machine stops the run before any data or model loads
    t0 = time.perf_counter()
    out = Path(cfg.output_dir)
    args = grpo_args(cfg, out)  # every GRPO and curriculum setting is checked before any data or model loads
    resume = prepare_output_dir(cfg, out)
    if resume is None:
        (out / "run_config.yaml").write_text(yaml.safe_dump(dataclasses.asdict(cfg), sort_keys=False))
    train_ds, eval_examples = build_data(cfg)
    if "curriculum_prior_column" not in cfg.grpo:
        args.curriculum_prior_column = "difficulty" if "difficulty" in train_ds.column_names else None
    texts = list(train_ds["prompt"]) + [str(a) for a in train_ds["answer"]]  # load_prompts renames the columns
    model, tokenizer, info = build_model(cfg, texts)
    print(f"model: {info.get('description', cfg.model)}; {len(train_ds)} training prompts", flush=True)
    from .evaluate import LevelReport

    start_file = out / "eval_start.json"
    if resume is not None and start_file.exists():  # the run's start, not the checkpoint's
        before = LevelReport.from_json(json.loads(start_file.read_text()))
    else:
        before = evaluate(model, tokenizer, eval_examples, cfg)
        start_file.write_text(json.dumps(before.to_json()))
    band = None
    if cfg.pool_levels:
        train_ds = select_levels(train_ds, cfg.pool_levels)
    if cfg.pool_band:
        train_ds, band = select_band(model, tokenizer, train_ds, cfg)
    pool_start = probe_pool(model, tokenizer, train_ds, cfg) if cfg.probe_pool else None
    labels = np.asarray(train_ds["difficulty"]) if "difficulty" in train_ds.column_names else None
    callbacks = make_callbacks(cfg, out, eval_examples, labels)
    trainer_cls = CurriculumGRPOTrainer
    if cfg.dynamic_sampling:
        from .dynamic_sampling import DynamicSamplingTrainer as trainer_cls
    trainer = trainer_cls(
        model=model,
        reward_funcs=reward_functions(cfg.rewards),
        args=args,
        train_dataset=train_ds,
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    callbacks[0].trainer = trainer
    if cfg.oracle:
        from .oracle import install_oracle

        install_oracle(trainer, cfg.max_completion_length, cfg.temperature)
    quiet_progress(trainer, cfg)
    if resume is None:
        callbacks[0].write_eval(0, before)
    else:
        print(f"resuming from {resume}", flush=True)
    train_start = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume)
    train_s = time.perf_counter() - train_start
    after = evaluate(trainer.model, tokenizer, eval_examples, cfg)
    callbacks[0].write_eval(trainer.state.global_step, after)
    callbacks[0].save_calibration()
    stats = trainer.curriculum.stats()
    cur = trainer.curriculum
    tried = cur.tracker.attempts.astype(np.float64)  # [N] rollouts per prompt over the run
    never = float(tried[cur.tracker.succ <= 0].sum() / max(tried.sum(), 1.0))
    draws = callbacks[0].draws if callbacks[0].draws is not None else np.zeros(len(train_ds), dtype=np.int64)
    result = {
        "before": before.accuracy,
        "after": after.accuracy,
        "before_half_width": before.half_width,
        "after_half_width": after.half_width,
        "eval_prompts": after.prompts,
        "before_by_family": before.by_family,
        "after_by_family": after.by_family,
        "eval_metric": metric_name(cfg),
        "curriculum": stats,
        "wall_s": time.perf_counter() - t0,
        "train_s": train_s,
        "feature_cost": feature_cost(trainer),
        "rollouts": stats["observed_rollouts"],
        "generated_rollouts": generated_rollouts(trainer),
        "never_solved_share": never,
        "coverage": coverage(draws),
        "pool_start": pool_start,
        "pool_band": band,
        "mode_share": {"before": before.mode_share, "after": after.mode_share, "reference": after.reference_mode_share},
        "shortcut": {
            when: {"mode_share": rep.mode_share_by_level, "chance": rep.chance_by_level, "accuracy": rep.by_family}
            for when, rep in (("before", before), ("after", after))
        },
        "drift": callbacks[0].drift_summary(),
    }
    (out / "eval.json").write_text(json.dumps(result, indent=2, default=float))
    (out / "eval.md").write_text(eval_table(before, after, metric_name(cfg)) + "\n")
    from .plots import calibration_summary, plot_run

    plots = plot_run(out) if cfg.plots else []
    print("\n" + eval_table(before, after, metric_name(cfg)))
    print(
        f"\ncurriculum: ability {stats['ability']:.2f}, excluded {stats['excluded_frac']:.1%}, "
        f"retired {stats['retired_frac']:.1%}, informative groups {stats['informative_ratio_total']:.1%}"
    )
    calibration = calibration_summary(out / "calibration.npz")
    if calibration:
        print(calibration)
    if stats.get("observed_pass_rate", 0.0) == 0.0:
        print(
            "nothing is learnable yet: no rollout succeeded on any prompt. The curriculum keeps re-probing "
            "excluded prompts as training goes on; warm the model up (SFT) or add easier prompts."
        )
    print(f"outputs in {out}/: " + ", ".join(["metrics.jsonl", "eval.md", *(p.name for p in plots)]))
    return result


def feature_cost(trainer: Any) -> dict[str, float]:
    """Seconds the curriculum's features took (a table built once, or the policy's forward passes) and over how many
    prompts."""
    source = getattr(trainer, "curriculum_features", None)
    return {
        "build_s": float(getattr(trainer, "curriculum_features_build_s", 0.0)) if source is not None else 0.0,
        "forward_s": float(getattr(source, "seconds", 0.0)),
        "forward_prompts": float(getattr(source, "prompts", 0)),
    }


def pass_counts(model: Any, tokenizer: Any, rows: list[Any], cfg: RunConfig, samples: int, seed: int) -> np.ndarray:
    """(N,) successes of `samples` completions per example at the training temperature."""
    from tasks import task_for_row

    from .evaluate import generate

    outs = generate(
        model,
        tokenizer,
        [r.prompt for r in rows],
        samples=samples,
        temperature=cfg.temperature,
        max_new_tokens=cfg.max_completion_length,
        seed=seed,
    )
    return np.array([sum(task_for_row(r.family).verify(r, c) for c in o) for r, o in zip(rows, outs, strict=True)])


def select_band(model: Any, tokenizer: Any, train_ds: Any, cfg: RunConfig) -> tuple[Any, dict[str, Any]]:
    """The pool's prompts in `cfg.pool_band` of the warm model's pass rate (see RunConfig.pool_band)."""
    from .evaluate import as_example
    from .run_config import POOL_BANDS

    counts = pass_counts(model, tokenizer, [as_example(r) for r in train_ds], cfg, 8, cfg.seed)
    lo, hi = POOL_BANDS[cfg.pool_band]
    keep = np.flatnonzero((counts >= lo) & (counts <= hi))
    if keep.size < cfg.prompts_per_step:
        raise ValueError(
            f"pool_band={cfg.pool_band}: only {keep.size} prompts of {len(train_ds)} are in the band; "
            "enlarge the pool (per_level / level_counts)"
        )
    shares = {band: float(np.mean((counts >= a) & (counts <= b))) for band, (a, b) in POOL_BANDS.items()}
    print(
        f"pool_band={cfg.pool_band}: {keep.size} of {len(train_ds)} prompts ("
        + ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
        + ")",
        flush=True,
    )
    return train_ds.select(keep.tolist()), {"band": cfg.pool_band, "prompts": int(keep.size), "shares": shares}


def select_levels(train_ds: Any, levels: list[int]) -> Any:
    """The pool's prompts at `levels` (the held-out set, built from the whole pool, is unchanged)."""
    if "difficulty" not in train_ds.column_names:
        raise ValueError("pool_levels needs a difficulty column in the training data; drop pool_levels or add one")
    keep = [i for i, d in enumerate(train_ds["difficulty"]) if d in set(levels)]
    if not keep:
        raise ValueError(f"pool_levels={levels}: no training prompt at those levels")
    print(f"pool_levels={levels}: {len(keep)} of {len(train_ds)} prompts", flush=True)
    return train_ds.select(keep)


def probe_pool(model: Any, tokenizer: Any, train_ds: Any, cfg: RunConfig, samples: int = 4) -> dict[str, float]:
    """Shares of the training pool the warm model solves (greedy right) and cannot reach (greedy wrong and no
    success in `samples` draws at the training temperature); per family and level (`by_level`), its pass rate and
    the share of its groups (num_generations draws at the training temperature) holding exactly one success."""
    from tasks import task_for_row

    from .evaluate import as_example, generate

    rows = [as_example(r) for r in train_ds]
    greedy = generate(model, tokenizer, [r.prompt for r in rows], max_new_tokens=cfg.max_completion_length, seed=cfg.seed)
    right = np.array([task_for_row(ex.family).verify(ex, g[0]) for ex, g in zip(rows, greedy, strict=True)], bool)
    never = pass_counts(model, tokenizer, rows, cfg, samples, cfg.seed) == 0
    n = max(len(rows), 1)
    groups = pass_counts(model, tokenizer, rows, cfg, cfg.num_generations, cfg.seed + 1)  # (N,) successes of G
    keys = np.array([f"{r.family}/{r.difficulty}" for r in rows])
    by_level: dict[str, dict[str, dict[str, float]]] = {}
    for key in sorted(set(keys.tolist())):
        family, level, here = *key.rsplit("/", 1), groups[keys == key]
        by_level.setdefault(family, {})[level] = {
            "prompts": int(here.size),
            "pass_rate": float(here.mean()) / cfg.num_generations,
            "lone_share": float((here == 1).mean()),
        }
    return {
        "solved": float(right.sum()) / n,
        "beyond": float((~right & never).sum()) / n,
        "prompts": len(rows),
        "lone_share": float((groups == 1).mean()) if len(rows) else math.nan,
        "by_level": by_level,
    }


RUN_FILES = ("run_config.yaml", "metrics.jsonl", "eval_start.json", "calibration.npz")
"""Any of these, or a checkpoint-* folder, marks a folder as a run's."""


def prepare_output_dir(cfg: RunConfig, out: Path) -> str | None:
    """The output folder as a contract: a new run needs an empty (or new) folder, or overwrite=true on a run's
    folder; a resume needs a complete checkpoint. Returns the checkpoint to resume from (None: a new run). On a
    resume, metrics.jsonl keeps the rows up to the checkpoint; later rows (logged by the interrupted run, and
    logged again by this one) move to metrics.after-checkpoint.jsonl."""
    from rl.checkpoint import checkpoints, incomplete_reason, last_complete_checkpoint

    if out.exists() and not out.is_dir():
        raise ValueError(f"output_dir={str(out)!r} is a file: choose a folder")
    if any(p.exists() and not p.is_dir() for p in out.parents):
        raise ValueError(f"output_dir={str(out)!r} lies under a file: choose another folder")
    is_run = out.is_dir() and (any((out / name).exists() for name in RUN_FILES) or bool(checkpoints(out)))
    if cfg.resume:
        if isinstance(cfg.resume, str):
            reason = incomplete_reason(cfg.resume) if Path(cfg.resume).is_dir() else "no such folder"
            if reason is not None:
                raise ValueError(f"resume={cfg.resume!r} is not a complete checkpoint ({reason})")
            resume = cfg.resume
        else:
            last, skipped = last_complete_checkpoint(out) if out.is_dir() else (None, [])
            for why in skipped:
                print(f"not resuming from an incomplete checkpoint: {why}", flush=True)
            if last is None:
                raise ValueError(
                    f"resume=true but {out} holds no complete checkpoint-* folder"
                    + (f" ({'; '.join(skipped)})" if skipped else "")
                    + ": drop resume (and add overwrite=true to start over) or fix output_dir"
                )
            resume = str(last)
        _cut_metrics(out, int(Path(resume).name.rsplit("-", 1)[-1]) if Path(resume).parent == out else None)
        return resume
    if out.is_dir() and any(out.iterdir()):
        if not cfg.overwrite:
            raise ValueError(
                f"output_dir {out} already holds files: resume=true continues that run, overwrite=true "
                "deletes it and starts afresh, or choose another output_dir"
            )
        if not is_run:
            raise ValueError(
                f"overwrite=true, but {out} does not hold a run (no {', '.join(RUN_FILES)} or "
                "checkpoint-*): nothing is deleted; choose another output_dir"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return None


def _cut_metrics(out: Path, step: int | None) -> None:
    path = out / "metrics.jsonl"
    if step is None or not path.exists():
        return
    keep, later = [], []
    for line in path.read_text().splitlines(keepends=True):
        try:
            row_step = json.loads(line).get("step", 0)
        except ValueError:  # a line cut short by the crash
            row_step = math.inf
        (keep if row_step <= step else later).append(line)
    if later:
        with open(out / "metrics.after-checkpoint.jsonl", "a") as f:
            f.writelines(later)
        tmp = out / ".metrics.jsonl.tmp"
        tmp.write_text("".join(keep))
        os.replace(tmp, path)


def reward_functions(names: list[str]) -> list[Any]:
    import tasks

    known = {"correctness_reward": tasks.correctness_reward, "format_reward": tasks.format_reward}
    if "math_reward" in names:
        from tasks.math_answers import math_reward

        known["math_reward"] = math_reward
    unknown = [n for n in names if n not in known and n != "math_reward"]
    if unknown or not names:
        raise ValueError(f"rewards={names}: choose from correctness_reward, format_reward, math_reward")
    return [known[n] for n in names]


def metric_name(cfg: RunConfig) -> str:
    if cfg.eval_samples <= 0:
        return "greedy accuracy"
    temperature = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
    return f"pass@1 (mean of {cfg.eval_samples} samples at temperature {temperature:g})"


def eval_table(before: Any, after: Any, metric: str = "accuracy") -> str:
    """Before -> after per level, each with its 95% interval (held-out prompts as the unit; the change paired
    prompt by prompt), and the mean."""
    from .evaluate import change_half_width

    lines = [
        f"Held-out {metric} per level, ± 95% interval of each estimate:",
        "",
        "| level | prompts | before | after | change |",
        "|---|---|---|---|---|",
    ]
    for k in sorted(before.accuracy, key=lambda x: (str(type(x)), x)):
        a, b = before.accuracy[k], after.accuracy.get(k, float("nan"))
        ha, hb = before.half_width.get(k, float("nan")), after.half_width.get(k, float("nan"))
        hc = change_half_width(before, after, k)
        lines.append(
            f"| {k} | {before.prompts.get(k, 0)} | {a:.3f} ± {ha:.3f} | {b:.3f} ± {hb:.3f} | {b - a:+.3f} ± {hc:.3f} |"
        )
    lines.append(
        f"| mean | {sum(before.prompts.values())} | {before.mean:.3f} | {after.mean:.3f} | {after.mean - before.mean:+.3f} |"
    )
    return "\n".join(lines)


def quiet_libraries() -> None:
    """Offline, and no output of the libraries' own: no FutureWarnings, and no progress bars of checkpoint saves and
    loads (the GRPO bar and the tables are what a user reads)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import warnings

    from transformers.utils import logging as hf_logging

    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    hf_logging.disable_progress_bar()


def main(config: str | None, overrides: list[str]) -> int:
    quiet_libraries()
    run(load_run_config(config, overrides))
    return 0
