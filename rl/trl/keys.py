"""A prompt's key: what a checkpoint, the stream window and the ranks compare prompts by (rl/trl/checkpoint.py re-exports
it). Apart from the checkpoint so the window can key rows without importing it (the sampler imports the window's type,
and the checkpoint the sampler)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

_json_str = json.encoder.encode_basestring  # a str as json.dumps(..., ensure_ascii=False) writes it


def prompt_key(prompt: Any) -> int:
    """A prompt's 64-bit key: the first 8 bytes of the sha256 of its canonical text (JSON, objects such as images by
    their type name, so a key never depends on where an object sits in memory)."""
    if type(prompt) is str:  # json.dumps' own text for a str, without its set-up (half the cost of a key)
        text = _json_str(prompt)
    else:
        text = json.dumps(prompt, sort_keys=True, ensure_ascii=False, default=lambda o: type(o).__name__)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "little")
