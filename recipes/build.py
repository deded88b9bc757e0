"""What a run is built from: its training pool and held-out set, the model and tokenizer, the reward functions and
the GRPO + curriculum settings (checked before any data or model loads).

    from recipes.build import build_data, build_model, grpo_args
    train_ds, held_out = build_data(cfg)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from .evaluate import as_example, pass_counts
from .run_config import POOL_BANDS, RunConfig


# ---- data and model -----------------------------------------------------------------------------------
def build_data(cfg: RunConfig) -> tuple[Any, list[Any]]:
    """(train dataset with prompt/answer/difficulty columns, held-out eval examples)."""
    from tasks import build_eval, build_pool
    from tasks.gym import gym_families, is_gym

    if is_gym(cfg.dataset) or cfg.dataset is None:
        gym = is_gym(cfg.dataset)
        families = gym_families(cfg.gym_spec()) if gym else cfg.families
        levels = None if gym else cfg.levels
        if cfg.level_counts:
            train = _counted_pool(families, cfg.level_counts, cfg.seed)
        else:
            train = build_pool(families, levels, cfg.per_level, seed=cfg.seed)
        return train, build_eval(families, levels, cfg.eval_per_level, seed=cfg.seed, exclude=train)
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


def _counted_pool(families: list[str], level_counts: dict[int, int], seed: int) -> Any:
    """`level_counts[level]` prompts per family that has that level (a gym: pool's level is one task's cell)."""
    from datasets import concatenate_datasets

    from tasks import build_pool, get_task

    levels = {f: set(get_task(f).levels) for f in families}  # RunConfig.check_level_counts: each is some task's
    return concatenate_datasets(
        [
            build_pool([f for f in families if int(lv) in levels[f]], [int(lv)], int(n), seed=seed)
            for lv, n in sorted(level_counts.items())
            if int(n) > 0
        ]
    )


def build_model(cfg: RunConfig, texts: list[str]) -> tuple[Any, Any, dict]:
    from tasks.gym import is_gym

    if cfg.model == "tiny":
        from .tiny import gym_warmup, load_or_build_tiny

        seed = (cfg.tiny.get("warmup") or {}).get("seed", cfg.seed)
        tiny = gym_warmup(cfg.gym_spec(), cfg.tiny) if is_gym(cfg.dataset) else cfg.tiny
        return load_or_build_tiny(
            cache_dir=cfg.tiny_cache_dir,
            config=tiny or None,
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


def select_band(model: Any, tokenizer: Any, train_ds: Any, cfg: RunConfig) -> tuple[Any, dict[str, Any]]:
    """The pool's prompts in `cfg.pool_band` of the warm model's pass rate (see RunConfig.pool_band)."""
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


def reward_functions(names: list[str]) -> list[Any]:
    import tasks

    known = {"correctness_reward": tasks.correctness_reward, "format_reward": tasks.format_reward}
    if "math_reward" in names:
        from tasks.math_answers import math_reward

        known["math_reward"] = math_reward
    if "gym_reward" in names:
        from tasks.gym import gym_reward

        known["gym_reward"] = gym_reward
    unknown = [n for n in names if n not in known and n not in ("math_reward", "gym_reward")]
    if unknown or not names:
        raise ValueError(f"rewards={names}: choose from correctness_reward, format_reward, math_reward, gym_reward")
    return [known[n] for n in names]


# ---- settings ------------------------------------------------------------------------------------------
def grpo_args(cfg: RunConfig, out: Path) -> Any:
    from rl.trl.trainer import CurriculumGRPOConfig

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
        curriculum_advantage_metrics=True,  # the studies read advantage/* of every arm (lucky.yaml)
        curriculum_features=cfg.features,
        curriculum_success_reward=cfg.success_reward,
        curriculum_prior_column=None,  # set once the data is loaded: its labels are named "difficulty", if any
        disable_tqdm=False,
    )
    if cfg.curriculum:
        kwargs["curriculum"] = dict(cfg.curriculum)
    unknown = sorted(set(cfg.grpo) - {f.name for f in dataclasses.fields(CurriculumGRPOConfig)})
    if unknown:
        raise ValueError(
            f"grpo.{unknown[0]}: not a CurriculumGRPOConfig (GRPOConfig) field; check the spelling "
            "against TRL's GRPOConfig documentation"
        )
    if cfg.grpo.get("shuffle_dataset", True) is False:  # the trainer would fall back to the dataset's order
        raise ValueError(
            "grpo.shuffle_dataset=false: curriculum train draws with the curriculum (policy=uniform is plain GRPO's "
            "shuffled sampling); drop the setting"
        )
    kwargs.update(cfg.grpo)
    return CurriculumGRPOConfig(**kwargs)


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()
