"""What several test files share: the toy tokenizer and model, and a spy on the chunks a trainer observes.

from conftest import TOKENIZER, record_chunks, tiny_model
"""

from __future__ import annotations

import zlib

import numpy as np
from datasets import Dataset

from recipes.toy import toy_args, toy_model, toy_tokenizer

__all__ = ["TOKENIZER", "lucky_30", "plain_sums", "record_chunks", "tiny_model", "toy_args"]

TOKENIZER = toy_tokenizer("".join(map(chr, range(32, 127))))  # printable ASCII


def tiny_model(seed: int = 0):
    """A random 64-wide toy Llama over TOKENIZER."""
    return toy_model(TOKENIZER, hidden=64, seed=seed)


def plain_sums(n: int = 48) -> Dataset:
    """n "a+b=" prompts with two-digit operands and their answers (seeded: the same every call)."""
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 100, n), rng.integers(0, 100, n)
    return Dataset.from_dict(
        {
            "prompt": [f"{x}+{y}=" for x, y in zip(a, b, strict=True)],
            "answer": [str(x + y) for x, y in zip(a, b, strict=True)],
        }
    )


def lucky_30(completions: list[str], **kwargs) -> list[float]:
    """A pseudo-verifier passing ~30% of completions, decided by the completion text."""
    return [float(zlib.crc32(c.encode()) / 2**32 < 0.3) for c in completions]


def record_chunks(trainer) -> list[list[int]]:
    """Every chunk the trainer observes, in order (a spy on its sampler's mark_observed)."""
    seen: list[list[int]] = []
    original = trainer.curriculum_sampler.mark_observed

    def spy(group_ids):
        seen.append(np.asarray(group_ids).tolist())
        return original(group_ids)

    trainer.curriculum_sampler.mark_observed = spy
    return seen
