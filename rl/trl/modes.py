"""Choices of the trainer's own settings, importable without torch or TRL (the run config and CurriculumGRPOConfig
check against them before anything heavy loads)."""

FLUKE_MODES = ("none", "posterior", "cap")
"""Advantage shaping of lone successes (rl/trl/shaping.py): none, posterior damping, or a cap."""
