"""What several test files share: the toy tokenizer and model, and a spy on the chunks a trainer observes.

from conftest import TOKENIZER, record_chunks, tiny_model
"""

from __future__ import annotations

import numpy as np

from rl.recipes.toy import toy_model, toy_tokenizer

TOKENIZER = toy_tokenizer("".join(map(chr, range(32, 127))))  # printable ASCII


def tiny_model(seed: int = 0):
    """A random 64-wide toy Llama over TOKENIZER."""
    return toy_model(TOKENIZER, hidden=64, seed=seed)


def record_chunks(trainer) -> list[list[int]]:
    """Every chunk the trainer observes, in order (a spy on its sampler's mark_observed)."""
    seen: list[list[int]] = []
    original = trainer.curriculum_sampler.mark_observed

    def spy(group_ids):
        seen.append(np.asarray(group_ids).tolist())
        return original(group_ids)

    trainer.curriculum_sampler.mark_observed = spy
    return seen
