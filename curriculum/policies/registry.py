"""The one registry of policies: `CurriculumConfig.policy` takes its names, `CurriculumConfig`'s nested settings
are its policies' `Settings`, and the core builds the policy it names. Adding a policy: its module here beside the
others, and its line below."""

from __future__ import annotations

from .adaptive import AdaptivePolicy
from .band import BandPolicy
from .base import Policy
from .static import StaticPolicy
from .uniform import UniformPolicy

POLICY_CLASSES: dict[str, type[Policy]] = {
    UniformPolicy.name: UniformPolicy,
    StaticPolicy.name: StaticPolicy,
    AdaptivePolicy.name: AdaptivePolicy,
    BandPolicy.name: BandPolicy,
}
"""name -> policy class, in the order the tools list them (`curriculum simulate` runs them in this order)."""

POLICIES = tuple(POLICY_CLASSES)
"""The policies' names at import ("uniform", "static", "adaptive", "band"): argparse choices, test parameters."""
