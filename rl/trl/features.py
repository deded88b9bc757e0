"""The features the drop-in gives the core (`curriculum_features`), so it can predict prompts it has never seen.

    args = CurriculumGRPOConfig(..., curriculum_features="text")     # or "auto", "none", "policy", a dataset column

- `"auto"`    the default: `"text"` where the curriculum has no prior column on a map-style pool, else `"none"`.
- `"none"`    labels only.
- `"text"`    hashed character 1-3-grams and words of the prompt, plus its lengths (in characters, in words, of
              each word) as hashed tokens, so a length can matter on its own, and log-lengths: 64 numbers a
              prompt, numpy only, computed once for the whole pool (curriculum/text_features.py, shared with the
              other integrations).
- `"policy"`  the prompt's last hidden state under the current policy, mean-pooled over its tokens and projected
              to `POLICY_DIM` numbers by a fixed random matrix: one forward pass over the prompts the core asks
              about (unseen candidates when proposing, observed prompts after a step), nothing else
              (`PolicyFeatures`). They drift as the policy learns, so the core's regression forgets (a
              `feature_half_life` of 50 steps unless set). With several processes rank 0's are broadcast, so every
              rank's curriculum sees the same numbers.
- a column    the name of a train_dataset column holding one vector per prompt (e.g. precomputed embeddings).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from curriculum.text_features import auto_features, prompt_text, text_features

FEATURE_MODES = ("auto", "none", "text", "policy")
"""Named modes of curriculum_features; any other value names a dataset column."""
POLICY_DIM = 64
POLICY_HALF_LIFE = 50.0
"""feature_half_life given to the core for "policy" features unless set in the curriculum mapping."""


def column_features(dataset: Any, column: str) -> np.ndarray:
    """(N, d) float64 from a dataset column of equal-length vectors, or ValueError naming the fix."""
    if column not in dataset.column_names:
        raise ValueError(
            f"curriculum_features={column!r} is neither one of {FEATURE_MODES} nor a train_dataset column "
            f"({dataset.column_names}); add the column (one vector per prompt) or choose a mode"
        )
    try:
        arr = np.asarray(dataset[column], dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"curriculum_features column {column!r} must hold one numeric vector per prompt, all of one length: {err}"
        ) from err
    if arr.ndim != 2:
        raise ValueError(
            f"curriculum_features column {column!r} must hold one vector per prompt (shape (N, d)), got shape {arr.shape}"
        )
    return arr


class PolicyFeatures:
    """ids (U,) -> (U, POLICY_DIM): the prompts' mean-pooled last hidden state under the trainer's model now,
    projected. `seconds` and `prompts` count what it cost."""

    def __init__(self, trainer: Any, prompts: Sequence[Any], dim: int = POLICY_DIM, batch_size: int = 64) -> None:
        self.trainer = trainer
        self.texts = [prompt_text(p) for p in prompts]
        self.dim, self.batch_size = dim, batch_size
        self.seconds, self.prompts = 0.0, 0
        self._projection: np.ndarray | None = None  # (hidden, dim), fixed once the hidden size is known

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        import torch

        start = time.perf_counter()
        pooled = self._pooled([self.texts[int(i)] for i in ids])  # (U, hidden) float64
        if self._projection is None:
            rng = np.random.default_rng(0x5EED)
            hidden = pooled.shape[1]
            self._projection = rng.standard_normal((hidden, self.dim)) / math.sqrt(hidden)
        out = pooled @ self._projection
        accelerator = self.trainer.accelerator
        if accelerator.num_processes > 1:  # every rank's curriculum must see rank 0's numbers, bit for bit
            from accelerate.utils import broadcast

            out = broadcast(torch.from_numpy(out).to(accelerator.device), from_process=0).cpu().numpy()
        self.seconds += time.perf_counter() - start
        self.prompts += len(ids)
        return out

    def _pooled(self, texts: list[str]) -> np.ndarray:
        import torch

        trainer = self.trainer
        model = trainer.accelerator.unwrap_model(trainer.model)
        tokenizer = trainer.processing_class
        was_training = model.training
        model.eval()
        rows: list[np.ndarray] = []
        try:
            with torch.inference_mode():
                for lo in range(0, len(texts), self.batch_size):
                    enc = [tokenizer(t)["input_ids"] for t in texts[lo : lo + self.batch_size]]
                    width = max(len(e) for e in enc)
                    ids = torch.full((len(enc), width), tokenizer.pad_token_id or 0, dtype=torch.long)
                    mask = torch.zeros((len(enc), width), dtype=torch.long)
                    for j, e in enumerate(enc):
                        ids[j, : len(e)], mask[j, : len(e)] = torch.tensor(e), 1
                    last = _last_hidden(model, ids.to(model.device), mask.to(model.device))  # (B, T, hidden)
                    m = mask.to(last.device, last.dtype)[:, :, None]
                    rows.append(((last * m).sum(dim=1) / m.sum(dim=1)).cpu().double().numpy())
        finally:
            model.train(was_training)
        return np.concatenate(rows, axis=0)


def _last_hidden(model: Any, ids: Any, mask: Any) -> Any:
    """(B, T, hidden) float32: the model's last hidden states, through its base model (no LM head) where it has one."""
    base = getattr(model, getattr(model, "base_model_prefix", "") or "", None)
    if base is not None and base is not model:
        return base(input_ids=ids, attention_mask=mask).last_hidden_state.float()
    return model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[-1].float()


def resolve_features(mode: str, prior_column: str | None, streams: bool) -> str:
    """curriculum_features as the curriculum uses it: "auto" is `auto_features`' choice (curriculum/text_features.py:
    text features without a prior column on a map-style pool, else none)."""
    return auto_features(prior_column is not None, True, streams) if mode == "auto" else mode


def table_features(mode: str, dataset: Any) -> np.ndarray | None:
    """The (N, d) table of `curriculum_features=mode` where it is one ("text" or a column; None for "none" and
    "policy", which needs the trainer's model: `PolicyFeatures`). A bad column raises, naming the fix."""
    if mode in ("none", "policy"):
        return None
    if mode == "text":
        return text_features(dataset["prompt"])
    return column_features(dataset, mode)
