"""What a policy is, and the one thing it sees: a read-only `PolicyView` of the curriculum.

A policy decides which prompts to draw (`propose`) and where each observed prompt goes (`after_observe`); the core
(`Curriculum`) validates, owns the state and calls it. The policy never gets the core: it gets a `PolicyView`, and
reads through it only

- identity: `num_prompts`, `seed`, and the shared knobs of the config (`SharedSettings`); its own knobs come to its
  constructor (`settings`, an instance of its `Settings` class, nested in `CurriculumConfig` under its name);
- predictions: `posterior`, `predict`, `rate`, `label_posterior`, `unseen_table`, `label_of`, `features_active`,
  `logit_low`, `difficulty_band`;
- verdicts: `verdicts` (confidently out of reach, confidently mastered);
- pools: `status` (a pool code per prompt), `pool_size`, `sample`, `pending`;
- counters: `step`, `attempts`, `last_step`, `group_size`, `seen_prompts`;
- the prior: `prior_type`, `prior_pass_rate`, `labels`, `num_labels`, `prior_groups`, `num_prior_groups`,
  `prior_group_logit`;
- helpers: `is_member`, `any_other`;
- randomness: the `rng` handed to `propose`, and `observe_rng()` for draws in `after_observe`; both are saved with
  the state, so a policy never seeds a generator of its own from the clock.

Arrays come back read-only (writing one raises). A policy's own state is plain ints and arrays (`state_dict`,
`check_state` validating without assigning, `load_state_dict`), stored flat beside the core's entries.

Adding a policy: a module in curriculum/policies/ with a `BasePolicy` subclass (a `name`, `propose`, and what it
changes of the defaults), and its line in registry.py; tests/test_policy_view.py builds one in a dozen lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

import numpy as np

from curriculum.beliefs import AbilityUpdate, UnseenTable
from curriculum.pools import ACTIVE, EXCLUDED, RETIRED, UNSEEN, distinct_sorted

__all__ = [
    "ACTIVE",
    "EXCLUDED",
    "RETIRED",
    "UNSEEN",
    "AbilityUpdate",
    "Assignment",
    "BasePolicy",
    "Policy",
    "PolicyView",
    "SharedSettings",
    "UnseenTable",
    "distinct_sorted",
    "informativeness",
]

Assignment = tuple[np.ndarray, np.ndarray]
"""(distinct ids, the pool code each goes to: ACTIVE, EXCLUDED or RETIRED)."""


class SharedSettings(Protocol):
    """The fields of `CurriculumConfig` every policy may read (`view.config`); a policy's own knobs are its
    `settings`."""

    @property
    def target(self) -> float: ...
    @property
    def band_low(self) -> float: ...
    @property
    def band_high(self) -> float: ...
    @property
    def exclude_below(self) -> float: ...
    @property
    def confidence(self) -> float: ...
    @property
    def candidate_mult(self) -> int: ...
    @property
    def thompson_scale(self) -> float: ...


class PolicyView(Protocol):
    """What a policy may read of the curriculum (curriculum/view.py implements it over the core's parts). Per-prompt
    arrays are [N] and read-only; "now" is the current step."""

    @property
    def num_prompts(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def config(self) -> SharedSettings: ...
    @property
    def step(self) -> int:
        """observe() calls with data so far: the clock of drift and decay."""

    @property
    def pending(self) -> np.ndarray:
        """(P,) ids proposed and not yet observed (a trainer proposes the next chunk before the last one's feedback)."""

    @property
    def attempts(self) -> np.ndarray:
        """[N] rollouts ever observed of each prompt (0: never observed)."""

    @property
    def last_step(self) -> np.ndarray:
        """[N] the step each prompt was last observed at."""

    @property
    def status(self) -> np.ndarray:
        """[N] the pool each prompt is in: UNSEEN, ACTIVE, EXCLUDED or RETIRED."""

    @property
    def prior_type(self) -> str:
        """ "none", "label" or "pass_rate"."""

    @property
    def prior_pass_rate(self) -> np.ndarray | None:
        """[N] a pass-rate prior's values (None unless prior_type is "pass_rate")."""

    @property
    def labels(self) -> np.ndarray | None:
        """[N] label index of each prompt (None unless prior_type is "label")."""

    @property
    def num_labels(self) -> int: ...
    @property
    def prior_groups(self) -> np.ndarray | None:
        """[N] the prompts grouped by their prior: labels, or pass-rate bins (None: one group)."""

    @property
    def num_prior_groups(self) -> int: ...
    @property
    def prior_group_logit(self) -> np.ndarray | None:
        """[G] prior logit of an unseen prompt of each pass-rate bin (None: grouped by label)."""

    @property
    def logit_low(self) -> float:
        """The pass-rate logit of `exclude_below`."""

    def posterior(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, variance) of each prompt's pass-rate logit now; ids are not checked."""

    def predict(self, ids: np.ndarray) -> np.ndarray:
        """(U,) pass rate now, seen or not; ids are not checked."""

    def rate(self, ids: np.ndarray) -> np.ndarray:
        """(U,) the observed prompts' rolling pass rates (discounted counts)."""

    def verdicts(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(U,) each: confidently below exclude_below, confidently above retire_above, now."""

    def label_of(self, ids: np.ndarray) -> np.ndarray:
        """(U,) label index of each prompt (0 without labels)."""

    def label_posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """[L] (mean, variance) of the pass-rate logit of an unseen prompt of each label."""

    def unseen_table(self, group_size: float) -> UnseenTable:
        """[L] what the predictions say of a never-observed prompt of each label."""

    def features_active(self) -> bool:
        """Whether unseen prompts are predicted from their features now (else from their label's population)."""

    def difficulty_band(self) -> tuple[float, float]:
        """The difficulty range (logits) whose pass rate is inside [band_low, band_high] now."""

    def pool_size(self, code: int) -> int: ...
    def sample(self, code: int, count: int, rng: np.random.Generator) -> np.ndarray:
        """Up to `count` distinct ids of one pool, uniformly."""

    def group_size(self) -> float:
        """Mean rollouts per observed group so far (8 before the first observation)."""

    def seen_prompts(self) -> int:
        """Prompts observed at least once."""

    def is_member(self, ids: np.ndarray, members: np.ndarray) -> np.ndarray:
        """(len(ids),) whether each id is in `members`."""

    def any_other(self, count: int, chosen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """`count` ids not in `chosen`, uniformly (a last resort)."""

    def observe_rng(self) -> np.random.Generator:
        """The generator of a policy's draws in `after_observe` (its state is saved with the curriculum's)."""


class Policy(Protocol):
    """What the core calls. `name` is the registry's key and `CurriculumConfig.policy`'s value; `Settings` the
    dataclass of its own knobs (None: none), found in the config under `name`; `streamable`: whether a window may
    replace prompts under it (`Curriculum.replace`: it keeps no per-prompt lists built at construction)."""

    name: ClassVar[str]
    Settings: ClassVar[type | None]
    streamable: ClassVar[bool]
    passed_beyond: np.ndarray
    """(J,) the ids the last `propose` passed over as beyond reach (read right after it; not state)."""

    def __init__(self, view: PolicyView, settings: Any) -> None: ...
    def propose(self, view: PolicyView, k: int, rng: np.random.Generator) -> np.ndarray:
        """k distinct ids (int64)."""

    def after_observe(self, view: PolicyView, uniq: np.ndarray, update: AbilityUpdate) -> Assignment:
        """The pool each prompt just observed (`uniq`, distinct, sorted) goes to; `update`: what the ability model
        learned of them."""

    def band(self, view: PolicyView) -> tuple[float, float]:
        """The difficulty band (logits) for the statistics."""

    def state_dict(self) -> dict[str, Any]: ...
    def check_state(self, sd: Mapping[str, Any]) -> None:
        """Raise ValueError naming the entry unless `sd` holds a state of this policy; assigns nothing."""

    def load_state_dict(self, sd: Mapping[str, Any]) -> None: ...


class BasePolicy:
    """The defaults of a `Policy`: no settings, no state, not streamable, verdicts decide the pools, the band is
    today's. A subclass sets `name` and writes `propose`."""

    name: ClassVar[str] = ""
    Settings: ClassVar[type | None] = None
    streamable: ClassVar[bool] = False
    passed_beyond: np.ndarray = np.zeros(0, dtype=np.int64)

    def __init__(self, view: PolicyView, settings: Any = None) -> None:
        self.settings = settings

    def propose(self, view: PolicyView, k: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define propose(view, k, rng)")

    def after_observe(self, view: PolicyView, uniq: np.ndarray, update: AbilityUpdate) -> Assignment:
        """Observed prompts go where their verdict says."""
        conf = view.config.confidence
        return uniq, np.where(update.high >= conf, RETIRED, np.where(update.low >= conf, EXCLUDED, ACTIVE))

    def band(self, view: PolicyView) -> tuple[float, float]:
        return view.difficulty_band()

    def state_dict(self) -> dict[str, Any]:
        return {}

    def check_state(self, sd: Mapping[str, Any]) -> None:
        pass

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        pass


def informativeness(p: np.ndarray, group_size: float = 8) -> np.ndarray:
    """Probability that a group of `group_size` rollouts is neither all-correct nor all-wrong."""
    return 1.0 - p**group_size - (1.0 - p) ** group_size
