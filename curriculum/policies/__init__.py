"""The sampling policies behind `Curriculum.propose`, one module each, sharing one interface (base.py).

- `uniform`   epoch-wise shuffle of the whole pool: what plain GRPO does.
- `static`    a band fixed once (from a pass-rate prior, or from a calibration pass whose rollouts count), then an
              epoch-wise shuffle of its members forever.
- `adaptive`  an epoch-wise walk that keeps each prompt as it comes up with the probability that its next group is
              informative at today's predicted pass rate, never below a floor. O(k) per call.
- `band`      the medium band at today's ability, re-evaluated every step (kept for comparison). O(k) per call.

A policy sees the curriculum only through a read-only `PolicyView` (base.py says what it may read); registry.py
names them all.
"""

from .adaptive import AdaptivePolicy, AdaptiveSettings
from .band import BandPolicy, BandSettings
from .base import Assignment, BasePolicy, Policy, PolicyView, SharedSettings, informativeness
from .registry import POLICIES, POLICY_CLASSES
from .static import StaticPolicy, StaticSettings
from .uniform import UniformPolicy

__all__ = [
    "POLICIES",
    "POLICY_CLASSES",
    "AdaptivePolicy",
    "AdaptiveSettings",
    "Assignment",
    "BandPolicy",
    "BandSettings",
    "BasePolicy",
    "Policy",
    "PolicyView",
    "SharedSettings",
    "StaticPolicy",
    "StaticSettings",
    "UniformPolicy",
    "informativeness",
]
