"""The torch side of rlvr-curriculum: the TRL drop-in (config, trainer, sampler, feedback, shaping, checkpoint state);
the applications built on it live in the top-level `recipes/` (the CLI, `curriculum train`), `studies/` (ablations)
and `benches/`, and nothing here imports them.

    from rl import CurriculumGRPOConfig, CurriculumGRPOTrainer

Exports are resolved lazily so `curriculum simulate` / `curriculum bench` never import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CurriculumGRPOConfig": "rl.config",
    "CurriculumGRPOTrainer": "rl.trainer",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rl' has no attribute {name!r}")
