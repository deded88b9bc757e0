"""The TRL drop-in: `CurriculumGRPOTrainer`, TRL's GRPOTrainer with the curriculum choosing the prompts, and its
`CurriculumGRPOConfig`, over the framework-free middle (curriculum/feedback.py, statefile.py, checkpoints.py). Its
parts: config.py, trainer.py, sampler.py, feedback.py, shaping.py, checkpoint.py, stream.py, features.py, modes.py,
stopwatch.py.

    from rl.trl import CurriculumGRPOConfig, CurriculumGRPOTrainer   # also `from rl import ...`

Exports are resolved lazily so `import rl.trl` (and `rl.trl.modes`, `rl.trl.features`) never
imports torch or TRL. Inside this folder, `trl` is always Hugging Face's package (absolute imports).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CurriculumGRPOConfig": "rl.trl.config",
    "CurriculumGRPOTrainer": "rl.trl.trainer",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rl.trl' has no attribute {name!r}")
