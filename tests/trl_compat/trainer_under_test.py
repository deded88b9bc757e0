"""The GRPO trainer that TRL's vendored test suite (`test_grpo_trainer.py`) runs against.

Chosen by the environment variable TRL_COMPAT_TRAINER:

    trl      (default)  trl.GRPOConfig, trl.GRPOTrainer: the reference; every non-skipped test should pass
    drop_in             rl.CurriculumGRPOConfig, rl.CurriculumGRPOTrainer, imported *as* GRPOConfig / GRPOTrainer,
                        so the test bodies exercise the drop-in exactly where they exercise TRL's trainer
"""

from __future__ import annotations

import os

CHOICES = ("trl", "drop_in")

TRAINER = (os.environ.get("TRL_COMPAT_TRAINER") or "trl").strip().lower().replace("-", "_")

if TRAINER == "trl":
    from trl import GRPOConfig, GRPOTrainer
elif TRAINER == "drop_in":
    from rl import CurriculumGRPOConfig as GRPOConfig
    from rl import CurriculumGRPOTrainer as GRPOTrainer
else:
    raise ValueError(f"TRL_COMPAT_TRAINER={TRAINER!r}: expected one of {CHOICES}")

__all__ = ["CHOICES", "TRAINER", "GRPOConfig", "GRPOTrainer"]
