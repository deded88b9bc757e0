"""A self-contained toy GRPO set-up: a character tokenizer, a random tiny Llama, "a+b=" prompts and an exact-match
reward. The benchmarks (benches/overhead.py), the two-process check (benches/_dist_check.py) and the tests build on
it.

    tok = toy_tokenizer(); model = toy_model(tok); ds = toy_dataset(256)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TOY_CHARS = "0123456789+="


def toy_tokenizer(chars: str = TOY_CHARS) -> Any:
    """Character tokenizer over `chars` (default digits, '+' and '=': a random model emits digits often),
    plus pad/bos/eos/unk."""
    from .tiny import char_tokenizer

    return char_tokenizer(list(chars), prepend_bos=False)


def toy_model(tokenizer: Any, hidden: int = 64, seed: int = 0) -> Any:
    """A random-init 2-layer Llama (4 heads) sized for `tokenizer`, seeded without touching the global RNG."""
    from recipes.tiny import build_tiny_model

    config = dict(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=64,
    )
    return build_tiny_model(config, tokenizer, seed=seed)


def toy_dataset(num_prompts: int = 256, seed: int = 0) -> Any:
    """`a+b=` prompts with 1- to 3-digit operands: prompt, answer, level (operand digits)."""
    import numpy as np
    from datasets import Dataset

    rng = np.random.default_rng(seed)
    level = rng.integers(1, 4, size=num_prompts)  # (N,) operand digits
    a = rng.integers(0, 10**level)
    b = rng.integers(0, 10**level)
    return Dataset.from_dict(
        {
            "prompt": [f"{x}+{y}=" for x, y in zip(a.tolist(), b.tolist(), strict=True)],
            "answer": [str(x + y) for x, y in zip(a.tolist(), b.tolist(), strict=True)],
            "level": level.tolist(),
        }
    )


def answer_reward(completions: Sequence[str], answer: Sequence[str], **kwargs: Any) -> list[float]:
    """1.0 if the completion starts with the answer, else 0.0 (a random model solves 1-digit sums at times)"""
    return [float(c.strip().startswith(a)) for c, a in zip(completions, answer, strict=True)]


def toy_args(output_dir: str, max_steps: int, **overrides: Any) -> Any:
    """Small CurriculumGRPOConfig settings for the toy run (CPU, no logging backends)."""
    from rl.trl.trainer import CurriculumGRPOConfig

    kwargs: dict[str, Any] = dict(
        output_dir=output_dir,
        max_steps=max_steps,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=4,
        learning_rate=1e-3,
        logging_steps=1,
        report_to=[],
        use_cpu=True,
        bf16=False,  # TRL's default bf16 autocast is emulated, and far slower, on most CPUs
        save_strategy="no",
        seed=0,
        disable_tqdm=True,
        curriculum_policy="adaptive",
    )
    kwargs.update(overrides)
    return CurriculumGRPOConfig(**kwargs)
