"""`curriculum train`: the main job. GRPO with the curriculum on a mixed-difficulty pool, evaluated
per difficulty level before and after, with metrics, checkpoints and plots in the output folder.

    curriculum train                                    # configs/default.yaml: the tiny model, ~1.5 min on 2 cores
    curriculum train --config configs/smoke.yaml        # the same pipeline in under a minute
    curriculum train dataset=data/my.jsonl model=path/to/hf-model policy=static max_steps=200

Output folder: `run_config.yaml`, `metrics.jsonl` (every logged step, curriculum/* and advantage/*
included), `calibration.npz` (predicted vs observed pass rate of every group), `eval.md` / `eval.json`
(accuracy per level before and after), `checkpoint-*` (model + curriculum state), `*.png` plots.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
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

            train = concatenate_datasets([build_pool(cfg.families, [int(lv)], int(n), seed=cfg.seed)
                                          for lv, n in sorted(cfg.level_counts.items()) if int(n) > 0])
        else:
            train = build_pool(cfg.families, cfg.levels, cfg.per_level, seed=cfg.seed)
        evals = build_eval(cfg.families, cfg.levels, cfg.eval_per_level, seed=cfg.seed, exclude=train)
        return train, evals
    from tasks.data import load_prompts

    ds = load_prompts(cfg.dataset, prompt_column=cfg.prompt_column, answer_column=cfg.answer_column,
                      difficulty_column=cfg.difficulty_column)
    split = ds.train_test_split(test_size=min(0.1, 200 / max(len(ds), 1)), seed=cfg.seed)
    return split["train"], split["test"]


def build_model(cfg: RunConfig, texts: list[str]) -> tuple[Any, Any, dict]:
    if cfg.model == "tiny":
        from .tiny import load_or_build_tiny

        seed = (cfg.tiny.get("warmup") or {}).get("seed", cfg.seed)
        return load_or_build_tiny(cache_dir=cfg.tiny_cache_dir, config=cfg.tiny or None,
                                  warmup_steps=cfg.tiny_warmup_steps, extra_texts=texts, seed=seed)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(cfg.model)
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"model={cfg.model!r}: not 'tiny' and no local Hugging Face model folder "
                                "(config.json) there; downloads are off (HF_HUB_OFFLINE=1)")
    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return AutoModelForCausalLM.from_pretrained(path), tok, {"model": str(path), "cached": True}


def evaluate(model: Any, tokenizer: Any, examples: Any, cfg: RunConfig) -> Any:
    """Held-out accuracy per level (`rl.evaluate.LevelReport`): greedy, or sampled pass@1 (`eval_samples`)."""
    from .evaluate import evaluate_levels

    temperature = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
    return evaluate_levels(model, tokenizer, examples, samples=cfg.eval_samples, temperature=temperature,
                           max_new_tokens=cfg.max_completion_length, seed=cfg.seed)


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
            self.levels: list[float] = []
            self.draws: np.ndarray | None = None  # [N] times each prompt was drawn and observed
            self.evals_done = 0  # multiples of eval_every_rollouts passed so far

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            cur = self.trainer.curriculum
            if cur.step != self.seen_step:
                self.seen_step = cur.step
                ids, pred, obs = cur.last_calibration
                if self.draws is None:
                    self.draws = np.zeros(cur.num_prompts, dtype=np.int64)
                np.add.at(self.draws, ids, 1)
                self.pred.append(pred.astype(np.float32))
                self.obs.append(obs.astype(np.float32))
                if labels is not None and ids.size:
                    self.levels.append(float(labels[ids].mean()))
            if cfg.budget_rollouts is not None and generated_rollouts(self.trainer) >= cfg.budget_rollouts:
                control.should_training_stop = True
            if self.due(state.global_step) and state.is_world_process_zero:
                self.write_eval(state.global_step, evaluate(self.trainer.model, self.trainer.processing_class,
                                                            eval_examples, cfg))

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
            self.write({"step": step, "rollouts": generated_rollouts(self.trainer), "eval/accuracy": report.mean}
                       | {f"eval/accuracy_level_{k}": v for k, v in report.accuracy.items()})

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

        def save_calibration(self) -> None:
            pred = np.concatenate(self.pred) if self.pred else np.zeros(0, np.float32)
            obs = np.concatenate(self.obs) if self.obs else np.zeros(0, np.float32)
            np.savez(out / "calibration.npz", predicted=pred, observed=obs)

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
                keys = {"reward": "reward", "curriculum/informative_ratio": "informative",
                        "curriculum/ability": "ability"}
                self.bar.set_postfix({v: f"{logs[k]:.2f}" for k, v in keys.items() if _is_number(logs.get(k))},
                                     refresh=False)

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
    from .trainer import CurriculumGRPOConfig

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
        curriculum_policy=cfg.policy,
        curriculum_fluke_damping=cfg.fluke_damping,
        curriculum_success_reward=cfg.success_reward,
        curriculum_prior_column=cfg.difficulty_column,
        disable_tqdm=False,
    )
    if cfg.curriculum:
        kwargs["curriculum_extra"] = dict(cfg.curriculum)
    kwargs.update(cfg.grpo)
    return CurriculumGRPOConfig(**kwargs)


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def run(cfg: RunConfig) -> dict[str, Any]:
    from .trainer import CurriculumGRPOTrainer

    t0 = time.perf_counter()
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    resume = resume_checkpoint(cfg, out)
    if resume is None:
        (out / "metrics.jsonl").unlink(missing_ok=True)  # a fresh run; a resumed one appends
    (out / "run_config.yaml").write_text(yaml.safe_dump(dataclasses.asdict(cfg), sort_keys=False))
    train_ds, eval_examples = build_data(cfg)
    texts = list(train_ds[cfg.prompt_column]) + [str(a) for a in train_ds[cfg.answer_column]]
    model, tokenizer, info = build_model(cfg, texts)
    print(f"model: {info.get('description', cfg.model)}; {len(train_ds)} training prompts", flush=True)
    before = evaluate(model, tokenizer, eval_examples, cfg)
    pool_start = probe_pool(model, tokenizer, train_ds, cfg) if cfg.probe_pool else None
    labels = np.asarray(train_ds[cfg.difficulty_column]) if cfg.difficulty_column in train_ds.column_names else None
    callbacks = make_callbacks(cfg, out, eval_examples, labels)
    trainer_cls = CurriculumGRPOTrainer
    if cfg.dynamic_sampling:
        from .dynamic_sampling import DynamicSamplingTrainer as trainer_cls
    trainer = trainer_cls(model=model, reward_funcs=reward_functions(cfg.rewards),
                          args=grpo_args(cfg, out), train_dataset=train_ds,
                          processing_class=tokenizer, callbacks=callbacks)
    callbacks[0].trainer = trainer
    quiet_progress(trainer, cfg)
    callbacks[0].write_eval(0, before)
    if resume is not None:
        print(f"resuming from {resume}", flush=True)
    trainer.train(resume_from_checkpoint=resume)
    after = evaluate(trainer.model, tokenizer, eval_examples, cfg)
    callbacks[0].write_eval(trainer.state.global_step, after)
    callbacks[0].save_calibration()
    stats = trainer.curriculum.stats()
    cur = trainer.curriculum
    tried = cur.tracker.attempts.astype(np.float64)  # [N] rollouts per prompt over the run
    never = float(tried[cur.tracker.succ <= 0].sum() / max(tried.sum(), 1.0))
    draws = callbacks[0].draws if callbacks[0].draws is not None else np.zeros(len(train_ds), dtype=np.int64)
    result = {"before": before.accuracy, "after": after.accuracy, "before_half_width": before.half_width,
              "after_half_width": after.half_width, "eval_prompts": after.prompts,
              "before_by_family": before.by_family, "after_by_family": after.by_family,
              "eval_metric": metric_name(cfg), "curriculum": stats, "wall_s": time.perf_counter() - t0,
              "rollouts": stats["observed_rollouts"], "generated_rollouts": generated_rollouts(trainer),
              "never_solved_share": never, "coverage": coverage(draws), "pool_start": pool_start}
    (out / "eval.json").write_text(json.dumps(result, indent=2, default=float))
    (out / "eval.md").write_text(eval_table(before, after, metric_name(cfg)) + "\n")
    from .plots import calibration_summary, plot_run

    plots = plot_run(out) if cfg.plots else []
    print("\n" + eval_table(before, after, metric_name(cfg)))
    print(f"\ncurriculum: ability {stats['ability']:.2f}, excluded {stats['excluded_frac']:.1%}, "
          f"retired {stats['retired_frac']:.1%}, informative groups {stats['informative_ratio_total']:.1%}")
    calibration = calibration_summary(out / "calibration.npz")
    if calibration:
        print(calibration)
    if stats.get("observed_pass_rate", 0.0) == 0.0:
        print("nothing is learnable yet: no rollout succeeded on any prompt. The curriculum keeps re-probing "
              "excluded prompts as training goes on; warm the model up (SFT) or add easier prompts.")
    print(f"outputs in {out}/: " + ", ".join(["metrics.jsonl", "eval.md", *(p.name for p in plots)]))
    return result


def probe_pool(model: Any, tokenizer: Any, train_ds: Any, cfg: RunConfig, samples: int = 4) -> dict[str, float]:
    """Shares of the training pool the warm model solves (greedy right) and cannot reach (greedy wrong and no
    success in `samples` draws at the training temperature)."""
    from tasks import task_for_row

    from .evaluate import as_example, generate

    rows = [as_example(r) for r in train_ds]
    prompts = [r.prompt for r in rows]
    greedy = generate(model, tokenizer, prompts, max_new_tokens=cfg.max_completion_length, seed=cfg.seed)
    sampled = generate(model, tokenizer, prompts, samples=samples, temperature=cfg.temperature,
                       max_new_tokens=cfg.max_completion_length, seed=cfg.seed)
    solved = beyond = 0
    for ex, g, s in zip(rows, greedy, sampled, strict=True):
        check = task_for_row(ex.family)
        right = check.verify(ex, g[0])
        solved += right
        beyond += not right and not any(check.verify(ex, c) for c in s)
    return {"solved": solved / max(len(rows), 1), "beyond": beyond / max(len(rows), 1), "prompts": len(rows)}


def resume_checkpoint(cfg: RunConfig, out: Path) -> str | None:
    """`resume: true` -> the latest checkpoint-* in output_dir (an error if there is none); a path -> that."""
    if not cfg.resume:
        return None
    if isinstance(cfg.resume, str):
        if not Path(cfg.resume).is_dir():
            raise FileNotFoundError(f"resume={cfg.resume!r}: no such checkpoint folder")
        return cfg.resume
    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(str(out)) if out.is_dir() else None
    if last is None:
        raise FileNotFoundError(f"resume=true but {out} holds no checkpoint-* folder; drop resume or fix output_dir")
    return last


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

    lines = [f"Held-out {metric} per level, ± 95% interval of each estimate:", "",
             "| level | prompts | before | after | change |", "|---|---|---|---|---|"]
    for k in sorted(before.accuracy, key=lambda x: (str(type(x)), x)):
        a, b = before.accuracy[k], after.accuracy.get(k, float("nan"))
        ha, hb = before.half_width.get(k, float("nan")), after.half_width.get(k, float("nan"))
        hc = change_half_width(before, after, k)
        lines.append(f"| {k} | {before.prompts.get(k, 0)} | {a:.3f} ± {ha:.3f} | {b:.3f} ± {hb:.3f} | "
                     f"{b - a:+.3f} ± {hc:.3f} |")
    lines.append(f"| mean | {sum(before.prompts.values())} | {before.mean:.3f} | {after.mean:.3f} | "
                 f"{after.mean - before.mean:+.3f} |")
    return "\n".join(lines)


def main(config: str | None, overrides: list[str]) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    run(load_run_config(config, overrides))
    return 0
