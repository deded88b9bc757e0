"""The integrations of rlvr-curriculum with RL trainers, each over the framework-free middle (curriculum/driver.py,
feedback.py, statefile.py): `rl/trl/` (the TRL drop-in: config, trainer, sampler, feedback, shaping, checkpoint
state), `rl/prime_rl.py` (prime-rl's TaskSampler) and `rl/verl.py` (verl's training sampler). The applications built
on them live in the top-level `recipes/` (the CLI, `curriculum train`), `studies/` (ablations) and `benches/`, and
nothing here imports them.

    from rl import CurriculumGRPOConfig, CurriculumGRPOTrainer   # the TRL drop-in (rl.trl)

Exports are resolved lazily so `curriculum simulate` / `curriculum bench`, `rl.prime_rl` and `rl.verl` never import
torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["CurriculumGRPOConfig", "CurriculumGRPOTrainer"]  # the TRL drop-in's, resolved lazily by rl.trl


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("rl.trl"), name)
    raise AttributeError(f"module 'rl' has no attribute {name!r}")
