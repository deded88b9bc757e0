"""Text features: what a prompt's text says of its difficulty, for pools without labels (numpy only). Any
integration hands the table to the core (`Curriculum(..., features=text_features(prompts))`) so that prompts never
seen are predicted from the ones seen; the TRL drop-in's `curriculum_features="text"` (rl/trl/features.py) and the
verl and prime-rl adapters use it.

    x = text_features(["digits 472=", [{"role": "user", "content": "sort dca="}]])   # (2, TEXT_DIM) float32
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

TEXT_DIM = 64


def prompt_text(prompt: Any) -> str:
    """A prompt as one string: a conversational prompt (a list of messages) joins its contents."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence | np.ndarray) and all(isinstance(m, Mapping) for m in prompt):
        return "\n".join(str(m.get("content", "")) for m in prompt)  # also a parquet list of structs (an array)
    return str(prompt)


def _grams(text: str) -> list[str]:
    grams = [text[i : i + n] for n in (1, 2, 3) for i in range(len(text) - n + 1)]
    return [*grams, *(f"w:{w}" for w in text.split())]


def _lengths(text: str) -> list[str]:
    words = text.split()
    return [f"#chars:{len(text)}", f"#words:{len(words)}", *sorted({f"#wlen:{len(w)}" for w in words})]


def _hashed(tokens: list[str], buckets: int) -> np.ndarray:
    """Signed hashed counts of `tokens` in `buckets` columns."""
    h = np.fromiter((zlib.crc32(t.encode()) for t in tokens), dtype=np.uint32, count=len(tokens))
    return np.bincount((h >> 1) % buckets, weights=np.where(h & 1, 1.0, -1.0), minlength=buckets)


def text_features(prompts: Sequence[Any], dim: int = TEXT_DIM) -> np.ndarray:
    """(N, dim) float32, numpy only. Five eighths of the columns: signed hashed counts of the prompt's character
    1-3-grams and words, scaled to unit norm (what it is about); the rest but two: its length tokens, hashed, each
    counting 1 (its length in characters and in words, and the length of each of its words: how much work it asks
    for, each length free to matter on its own); the last two: log(1 + characters) and log(1 + words)."""
    grams = dim * 5 // 8
    lengths = dim - grams - 2
    out = np.zeros((len(prompts), dim), dtype=np.float32)
    for row, prompt in enumerate(prompts):
        text = prompt_text(prompt)
        counts = _hashed(_grams(text), grams)
        out[row, :grams] = counts / max(math.sqrt(float((counts**2).sum())), 1e-12)
        out[row, grams : grams + lengths] = _hashed(_lengths(text), lengths)
        out[row, -2] = math.log1p(len(text))
        out[row, -1] = math.log1p(len(text.split()))
    return out


def adapter_features(features: Any, has_labels: bool, prompts: Any) -> Any:
    """The core's `features` from an integration's `features` setting: "auto" (text features where the pool has no
    labels and its prompts are at hand, else none: with labels they add nothing), "text", "none" or None, or what
    the core takes as given (an (N, d) array or a callable). `prompts`: a callable returning the pool's prompts, or
    None where the integration cannot read them (then "auto" is none and "text" refused)."""
    if isinstance(features, str):
        if features == "auto":
            features = auto_features(has_labels, prompts is not None)
        if features == "none":
            return None
        if features != "text":
            raise ValueError(f'features={features!r}: choose "auto", "text" or "none", or pass an (N, d) array')
        if prompts is None:
            raise ValueError('features="text" needs the prompts\' text: say where it is (prompt_key), or features="none"')
        return text_features(prompts())
    return features


def auto_features(has_labels: bool, has_prompts: bool, streams: bool = False) -> str:
    """What `features="auto"` is, in every integration: "text" for a pool without labels whose prompts are at hand
    (text features recover 0.82 of what labels give on the project's mostly-hard pool, docs/features.md), else
    "none" (with labels they add nothing; a stream's slots change as they refill)."""
    return "text" if not has_labels and has_prompts and not streams else "none"
