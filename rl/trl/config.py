"""CurriculumGRPOConfig: TRL's GRPOConfig plus the curriculum's fields, parsed by TrlParser / HfArgumentParser.

    args = CurriculumGRPOConfig(output_dir="out", curriculum_policy="adaptive", curriculum_fluke_damping="posterior")
    args.curriculum_config     # the core CurriculumConfig built from the curriculum_* fields (checked here)

Every CurriculumConfig field goes in one mapping, `curriculum` (a dict, or a JSON string on the command line); the
most used also have a flat `curriculum_<name>` field with the core's default and help (`FLAT_FIELDS`: one table
maps each to its core field; set one setting once, or both alike). Bad curriculum settings are refused here, naming
the fix. `CurriculumGRPOConfig.from_grpo_config(args)` takes a plain GRPOConfig (the curriculum at its defaults).
"""

from __future__ import annotations

import copy
import json
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import numpy as np
from trl import GRPOConfig

from curriculum import CurriculumConfig
from curriculum.config import POLICIES, PRIOR_TYPES, check_choice, field_default, field_help, flatten, nest
from rl.trl.features import FEATURE_MODES, POLICY_HALF_LIFE
from rl.trl.modes import FLUKE_MODES

_CORE_HELP = field_help()
FLAT_FIELDS = {
    **{
        f"curriculum_{name}": name
        for name in ("policy", "target", "band_low", "band_high", "exclude_below", "retire_above", "confidence")
    },
    "curriculum_explore_frac": "band.explore_frac",
    "curriculum_prior_type": "prior_type",
}
"""Flat field -> the CurriculumConfig field it sets, by dotted name (the same setting as that key of `curriculum`)."""


def _core(path: str, **metadata: Any) -> Any:
    return field(default=field_default(path), metadata={"help": _CORE_HELP[path], **metadata})


@dataclass
class CurriculumGRPOConfig(GRPOConfig):
    """GRPOConfig plus the curriculum; TrlParser / HfArgumentParser read it from YAML or the command line."""

    curriculum_policy: str = _core("policy", choices=list(POLICIES))
    curriculum_target: float = _core("target")
    curriculum_band_low: float = _core("band_low")
    curriculum_band_high: float = _core("band_high")
    curriculum_exclude_below: float = _core("exclude_below")
    curriculum_retire_above: float = _core("retire_above")
    curriculum_confidence: float = _core("confidence")
    curriculum_explore_frac: float = _core("band.explore_frac")
    curriculum_prior_type: str = _core("prior_type", choices=list(PRIOR_TYPES))
    curriculum: dict | str | None = field(
        default=None,
        metadata={
            "help": "CurriculumConfig fields as a mapping (a JSON string on the command line), e.g. "
            '\'{"tracker_half_life": 30, "candidate_mult": 8}\'; the most used also have a flat curriculum_<name> field.'
        },
    )
    curriculum_extra: dict | str | None = field(
        default=None, metadata={"help": "Renamed `curriculum` (refused, naming the fix)."}
    )
    curriculum_success_threshold: float = field(
        default=0.5,
        metadata={"help": "A rollout counts as a success for the curriculum when its deciding reward is >= this."},
    )
    curriculum_success_reward: str | None = field(
        default=None,
        metadata={
            "help": "Name of the verifier reward function that decides success (e.g. 'correctness_reward'); "
            "None: the weighted sum of all rewards (TRL's reward) is compared with the threshold."
        },
    )
    curriculum_fluke_damping: str = field(
        default="none",
        metadata={
            "help": "Advantage shaping of lone successes: 'none' (plain GRPO), 'posterior' (scale a lone "
            "success by clip(G * predicted pass rate before the group, floor, 1)) or 'cap' (clip advantages "
            "to [-curriculum_fluke_cap, curriculum_fluke_cap]). Off by default: in the project's lucky-success study, "
            "guessed successes on long prompts did corrode the short ones, neither mode prevented it, and the adaptive "
            "walk did (docs/evidence.md).",
            "choices": list(FLUKE_MODES),
        },
    )
    curriculum_advantage_metrics: bool = field(
        default=False,
        metadata={
            "help": "Log advantage/* (the share of the advantage mass on lone successes, before and after damping; the "
            "largest |advantage|) with curriculum_fluke_damping='none' too. Both read TRL's advantages after its "
            "private _generate_and_score_completions; with damping off and this False the drop-in leaves that step "
            "to TRL untouched."
        },
    )
    curriculum_fluke_cap: float = field(default=1.0, metadata={"help": "Advantage clip of curriculum_fluke_damping='cap'."})
    curriculum_fluke_floor: float = field(
        default=0.1,
        metadata={"help": "Smallest factor curriculum_fluke_damping='posterior' applies to a lone success."},
    )
    curriculum_prior_column: str | None = field(
        default=None,
        metadata={"help": "Dataset column with difficulty labels (ints or strings) or pass-rate estimates in [0, 1]"},
    )
    curriculum_features: str = field(
        default="auto",
        metadata={
            "help": "What the curriculum predicts unseen prompts from besides their label: 'auto' ('text' where "
            "curriculum_prior_column is None on a map-style pool, else 'none'), 'none', 'text' (hashed n-grams and "
            "length of the prompt), 'policy' (the prompt's mean-pooled hidden state under the current policy, for "
            "the candidates only) or the name of a dataset column holding one vector per prompt (rl/trl/features.py)."
        },
    )
    curriculum_stream_window: int = field(
        default=4096,
        metadata={
            "help": "With a streamed train_dataset (an IterableDataset): the prompts held at once, from which the "
            "curriculum chooses; a prompt leaves once trained on or judged out of reach, and the stream's next one "
            "takes its place (rl/trl/stream.py; the default costs per step what 1024 or 16384 do, docs/streaming.md)."
        },
    )
    curriculum_seed: int | None = field(
        default=None, metadata={"help": "Seed of the curriculum's draws (None: the run's seed)."}
    )
    curriculum_sync_check: bool = field(
        default=False,
        metadata={
            "help": "Compare the full curriculum state hash across ranks after every observe (O(num_prompts) "
            "per step; a cheap fingerprint is always compared)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self._finish_curriculum()

    @classmethod
    def from_grpo_config(cls, args: GRPOConfig) -> CurriculumGRPOConfig:
        """A plain GRPOConfig as a CurriculumGRPOConfig with the curriculum at its defaults (a copy: `args` is left as
        it is). GRPOConfig's own settings are taken as already resolved, not resolved again."""
        new = copy.copy(args)
        new.__class__ = cls
        for f in fields(cls):
            if f.name.startswith("curriculum") and f.name not in vars(new):
                setattr(new, f.name, f.default_factory() if f.default is MISSING else f.default)
        new._finish_curriculum()
        return new

    def _finish_curriculum(self) -> None:
        self._check_curriculum_fields()
        self.curriculum_config: CurriculumConfig = self._build_curriculum_config()
        # TRL's fast-forward would iterate (and so re-propose) the skipped chunks; the sampler resumes instead (a
        # trainer that falls back to GRPOTrainer's sampling restores the setting as given)
        self.ignore_data_skip_as_given = self.ignore_data_skip
        self.ignore_data_skip = True

    def _check_curriculum_fields(self) -> None:
        if self.curriculum_extra is not None:
            raise ValueError("curriculum_extra is now called curriculum: rename the key (the same mapping)")
        check_choice("curriculum_policy", self.curriculum_policy, POLICIES)  # named as set here (the core checks it too)
        check_choice("curriculum_fluke_damping", self.curriculum_fluke_damping, FLUKE_MODES)
        if not self.curriculum_fluke_cap > 0:
            raise ValueError(f"curriculum_fluke_cap must be > 0, got {self.curriculum_fluke_cap}")
        if not 0.0 <= self.curriculum_fluke_floor <= 1.0:
            raise ValueError(f"curriculum_fluke_floor must be in [0, 1], got {self.curriculum_fluke_floor}")
        if not isinstance(self.curriculum_features, str) or not self.curriculum_features:
            raise ValueError(
                f"curriculum_features must be one of {FEATURE_MODES} or a dataset column name, got "
                f"{self.curriculum_features!r}"
            )
        window = self.curriculum_stream_window
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"curriculum_stream_window must be an int >= 1, got {window!r}")
        if not np.isfinite(self.curriculum_success_threshold):
            raise ValueError(f"curriculum_success_threshold must be finite, got {self.curriculum_success_threshold}")

    def _build_curriculum_config(self) -> CurriculumConfig:
        mapping = flatten(nest(parse_curriculum_mapping(self.curriculum)))  # dotted names: "adaptive.retention"
        if "success_threshold" in mapping:  # the core's own threshold: the trainer decides success before the core
            raise ValueError(
                "curriculum sets success_threshold, which the trainer does not use: it labels each rollout "
                "itself; set curriculum_success_threshold instead"
            )
        values = {core: getattr(self, flat) for flat, core in FLAT_FIELDS.items()}
        if self.curriculum_features == "policy" and "feature_half_life" not in mapping:
            values["feature_half_life"] = POLICY_HALF_LIFE  # the policy's hidden states drift: the regression forgets
        for flat, core in FLAT_FIELDS.items():  # curriculum_band_low and curriculum["band_low"]: one setting
            if core not in mapping:
                continue
            if values[core] != field_default(core) and values[core] != mapping[core]:
                raise ValueError(
                    f"{flat}={values[core]!r} and curriculum {{{core!r}: {mapping[core]!r}}} disagree; set it once"
                )
            setattr(self, flat, mapping[core])
        try:
            return CurriculumConfig.from_dict(values | mapping)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"invalid curriculum settings: {err} (here as curriculum_<field> or a key of curriculum)"
            ) from err


def parse_curriculum_mapping(mapping: Any) -> dict[str, Any]:
    """`curriculum` as a dict: a dict, a JSON object string, or None."""
    if isinstance(mapping, str):
        try:
            mapping = json.loads(mapping)
        except json.JSONDecodeError as err:
            raise ValueError(f"curriculum must be a JSON object, got {mapping!r}: {err}") from err
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise ValueError(
            f'curriculum must be a mapping of CurriculumConfig fields, e.g. {{"tracker_half_life": 30}}; '
            f"got {type(mapping).__name__} {mapping!r}"
        )
    return dict(mapping)
