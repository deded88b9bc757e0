"""`RunConfig`: everything `curriculum train` needs, from a YAML file plus `key=value` overrides.

    curriculum train                                           # configs/default.yaml
    curriculum train --config configs/smoke.yaml policy=uniform max_steps=10 output_dir=runs/u

Keys are flat (cleanrl style): each field below carries its help as an attribute docstring. An unknown
key is an error that lists the valid ones. `grpo` passes extra keyword arguments straight to
`CurriculumGRPOConfig` (e.g. `grpo.use_vllm=true` for the real-world recipe).
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from curriculum.config import POLICIES, attribute_docs, check_choice
from rl.trl.modes import FLUKE_MODES

POOL_BANDS = {"beyond": (0, 0), "hard": (1, 1), "medium": (2, 5), "easy": (6, 8)}
"""pool_band -> successes of 8 samples of the warm model (inclusive range)."""

DEFAULT_REWARDS = ("correctness_reward", "format_reward")

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"


@dataclass
class RunConfig:
    output_dir: str = "runs/default"
    """Where checkpoints, metrics.jsonl, the evaluation table and the plots go."""
    seed: int = 0
    """Seeds the pool, the model's initialisation, the curriculum and the trainer."""

    # ---- model --------------------------------------------------------------------------------------
    model: str = "tiny"
    """"tiny" (the embedded character-level Llama, warmed up offline and cached) or a local HF causal LM folder."""
    tiny_warmup_steps: int | None = None
    """Supervised warm-up steps of the tiny model (None: its config's, 600); a shortcut for tiny.warmup.steps."""
    tiny_cache_dir: str | None = None
    """Where warmed tiny models are cached (default: $RLVR_CURRICULUM_CACHE or ~/.cache/rlvr-curriculum)."""
    tiny: dict[str, Any] = field(default_factory=dict)
    """Overrides of the tiny model's build, merged key by key into recipes/tiny.py DEFAULT_TINY_CONFIG: e.g.
    {model: {hidden_size: 192}, tasks: {mistakes: {2: 0.0}}, warmup: {lr: 0.002}}. The warm-up seed is `seed`
    unless tiny.warmup.seed is given."""

    # ---- data ---------------------------------------------------------------------------------------
    dataset: str | None = None
    """A local JSONL / Parquet file or `save_to_disk` folder with prompt and answer columns; `gym:task1,task2`:
    reasoning-gym tasks over a grid of their difficulty settings (tasks/gym.py; the [gym] extra); None: the
    embedded pool of generated tasks (families x levels)."""
    gym: dict[str, Any] = field(default_factory=dict)
    """With dataset=gym:...: {grids: {task: [cell settings, easiest first]}, trim: false, answer: line}. A grid replaces
    the task's default five cells (tasks/gym.py DEFAULT_GRIDS); trim=true cuts the tasks' fixed instructions
    (tasks/gym.py TRIMS); answer=tag reads the answer between <answer> tags (models that reason first) instead of the
    first line. per_level and eval_per_level count prompts per task and cell."""
    prompt_column: str = "prompt"
    answer_column: str = "answer"
    difficulty_column: str | None = "difficulty"
    """Column of difficulty labels (ints, or strings such as easy/medium/hard); the curriculum learns how labels map
    to pass rates. The default "difficulty" is optional (without it the run goes on unlabelled and says so); any
    other name must be a column."""
    families: list[str] = field(default_factory=lambda: ["digit_sum", "sorting"])
    """Embedded pool: task families to mix."""
    levels: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    """Embedded pool: difficulty levels (1 trivial .. 5 far beyond the tiny model)."""
    per_level: int = 300
    """Embedded pool: training prompts per family and level."""
    level_counts: dict[int, int] | None = None
    """Embedded or gym: pool: prompts per family for each level, overriding per_level (e.g. a pool mostly beyond
    reach). A gym: pool's level is one task's cell (levels 1..n of the first task, then the next task's)."""
    eval_per_level: int = 40
    """Held-out prompts per family and level for the before/after evaluation (greedy)."""
    eval_every: int = 0
    """Evaluate the held-out set every this many steps as well (0: only before and after)."""
    eval_every_rollouts: int = 0
    """Evaluate each time the generated completions pass a multiple of this (0: off; overrides eval_every): arms
    that spend their completions differently are then evaluated at the same points."""
    eval_samples: int = 0
    """0: greedy held-out accuracy; k > 0: pass@1 sampled at eval_temperature, the mean over k completions a prompt."""
    eval_temperature: float | None = None
    """Sampling temperature of the held-out evaluation when eval_samples > 0 (None: the training temperature)."""
    rewards: list[str] = field(default_factory=lambda: list(DEFAULT_REWARDS))
    """Reward functions by name: correctness_reward (task verifier), format_reward (small shaping),
    math_reward (math-verify on \\boxed{} / #### answers, time-limited), gym_reward (reasoning-gym's graded score;
    the default, with success_reward, on a gym: pool)."""
    success_reward: str | None = "correctness_reward"
    """Name of the verifier reward function whose value decides success (None: sum of rewards vs threshold)."""

    # ---- curriculum ---------------------------------------------------------------------------------
    policy: str = "adaptive"
    """"uniform" (plain GRPO), "static", "adaptive" or "band" (curriculum/policies/)."""
    fluke_damping: str = "none"
    """Advantage shaping of lone successes on near-impossible prompts: "none", "posterior" or "cap" (off by default:
    in the lucky-success study it did not prevent the harm lucky successes did; the adaptive walk did,
    docs/evidence.md)."""
    features: str = "auto"
    """What the curriculum predicts unseen prompts from besides their label: "auto" ("text" on a pool without
    labels, else "none"), "none", "text" (hashed n-grams and length), "policy" (the prompt's hidden state under the
    current policy) or a dataset column of vectors (rl/trl/features.py). Labels are hidden from the curriculum with
    grpo.curriculum_prior_column=null."""
    oracle: bool = False
    """The ablations' ceiling arm: the adaptive walk keeps prompts by their true pass rate under the current model
    (computed by one forward pass over the candidates, recipes/oracle.py; neither trained on nor counted in the
    budget) instead of its predictions. Needs policy=adaptive."""
    stream: bool = False
    """Hand the pool to the trainer as a stream (an IterableDataset of its rows, in an order fixed by the seed): the
    curriculum chooses from a window of grpo.curriculum_stream_window prompts (rl/trl/stream.py). Draws, coverage and the
    calibration record are kept by pool prompt, as for a map-style pool. Needs policy adaptive or uniform."""
    dynamic_sampling: bool = False
    """DAPO-style dynamic sampling (over-generate, drop all-equal groups; the extra completions count in the
    budget). The peer baseline of the ablations; use with policy=uniform."""
    curriculum: dict[str, Any] = field(default_factory=dict)
    """CurriculumConfig fields, a policy's own under its name: e.g. {target: 0.5, adaptive: {retention: 0.3}}, or
    curriculum.adaptive.retention=0.3 on the command line."""

    # ---- GRPO ---------------------------------------------------------------------------------------
    max_steps: int = 225
    """Optimiser steps."""
    learning_rate: float = 2e-5
    lr_scheduler_type: str = "constant"
    """Learning-rate schedule (any of transformers' SchedulerType names: constant, linear, cosine, ...)."""
    prompts_per_step: int = 8
    """Distinct prompts per generation batch."""
    num_generations: int = 8
    """Group size G (completions per prompt)."""
    max_completion_length: int = 8
    temperature: float = 1.0
    beta: float = 0.0
    """KL coefficient (0: no reference model, as DAPO/Dr.GRPO)."""
    save_steps: int = 50
    resume: bool | str = False
    """true: resume from the newest complete checkpoint-* in output_dir (model, optimiser, curriculum state);
    a path: resume from that checkpoint folder. metrics.jsonl and calibration.npz continue from the checkpoint."""
    overwrite: bool = False
    """A new run into an output_dir that already holds a run refuses; overwrite=true deletes that run first."""
    budget_rollouts: int | None = None
    """Stop once this many completions were generated (every rollout counted; ablations use it)."""
    logging_steps: int = 1
    plots: bool = True
    """Draw the run's plots at the end (the ablation harness turns them off for its many runs)."""
    pool_band: str | None = None
    """Train only on the pool's prompts in one band of the warm model's pass rate (8 samples at the training
    temperature): easy (6-8 of 8), medium (2-5), hard (1), beyond (0). For the inverted-U study."""
    pool_levels: list[int] | None = None
    """Train only on the pool's prompts at these levels; the held-out set stays the whole pool's (the lucky-success
    study's short-prompts-only arm)."""
    grpo: dict[str, Any] = field(default_factory=dict)
    """Extra CurriculumGRPOConfig keyword arguments (use_vllm, bf16, gradient_accumulation_steps, ...)."""

    def __post_init__(self) -> None:
        check_types(self)
        if not str(self.output_dir).strip():
            raise ValueError("output_dir is empty: name a folder for the run, e.g. output_dir=runs/my-run")
        if "policy" in self.curriculum:  # curriculum.policy=... is the same setting as policy=...
            self.policy = self.curriculum.pop("policy")
        check_choice("policy", self.policy, POLICIES)  # named as set here (the core checks it too)
        check_choice("fluke_damping", self.fluke_damping, FLUKE_MODES)
        for name in ("max_steps", "prompts_per_step", "num_generations", "per_level", "eval_per_level"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_generations < 2:
            raise ValueError("num_generations must be >= 2 (GRPO compares completions within a group)")
        if self.pool_band not in (None, *POOL_BANDS):
            raise ValueError(f"pool_band={self.pool_band!r}: choose one of {', '.join(POOL_BANDS)} (or null)")
        if self.oracle and self.policy != "adaptive":
            raise ValueError(
                f"oracle=true needs policy=adaptive (the walk at the true pass rates), got policy={self.policy}"
            )
        if self.stream and (self.policy not in ("adaptive", "uniform") or self.oracle or self.dynamic_sampling):
            raise ValueError(
                "stream=true runs the adaptive or uniform policy over a window of the stream; the oracle, dynamic "
                f"sampling and the {self.policy} policy need the whole pool: set stream=false"
            )
        if self.resume and self.overwrite:
            raise ValueError("resume and overwrite exclude each other: resume continues the run, overwrite deletes it")
        self.check_gym()
        self.check_level_counts()
        from curriculum import CurriculumConfig

        try:  # the curriculum's settings are checked now, before any data or model loads
            CurriculumConfig.from_dict({"policy": self.policy, **self.curriculum})
        except (TypeError, ValueError) as err:
            raise ValueError(f"curriculum settings: {err} (set as curriculum.KEY=value)") from err

    def check_gym(self) -> None:
        """A gym: pool's tasks and grid cells (reasoning-gym's own names), and its rewards: reasoning-gym's graded
        score, success at a score of 1, unless other rewards were asked for."""
        from tasks.gym import check_spec, is_gym

        if not is_gym(self.dataset):
            if self.gym:
                raise ValueError(f"gym settings {sorted(self.gym)} need dataset=gym:TASK,...; got dataset={self.dataset}")
            return
        check_spec(self.gym_spec())  # names and cells, once: every later gym_spec() builds the same spec
        if tuple(self.rewards) == DEFAULT_REWARDS:
            self.rewards = ["gym_reward"]
            if self.success_reward == "correctness_reward":
                self.success_reward = "gym_reward"

    def check_level_counts(self) -> None:
        """Each level of `level_counts` is a level of some task of the pool (a gym: pool's level is one task's cell,
        numbered on from the previous task's cells)."""
        if not self.level_counts:
            return
        from tasks.gym import is_gym

        if is_gym(self.dataset):
            known = sorted(lv for levels in self.gym_spec().levels().values() for lv in levels)
        elif self.dataset is None:
            from tasks import get_task

            known = sorted({lv for family in self.families for lv in get_task(family).levels})
        else:
            raise ValueError(
                f"level_counts weighs a generated pool's levels (the embedded or a gym: one), not {self.dataset}"
            )
        unknown = sorted(int(lv) for lv in self.level_counts if int(lv) not in known)
        if unknown:
            raise ValueError(
                f"level_counts: level {unknown[0]} is no task's; this pool's levels are {known[0]}..{known[-1]}"
            )

    def gym_spec(self) -> Any:
        """The `tasks.gym.GymSpec` of a gym: dataset (its names and cells are checked when the config is made)."""
        from tasks.gym import GymSpec, parse_dataset

        unknown = sorted(set(self.gym) - {"grids", "trim", "answer"})
        if unknown:
            raise ValueError(
                f"gym.{unknown[0]}: unknown; gym takes grids ({{task: [cells]}}), trim (true/false) and answer (line/tag)"
            )
        g = self.gym
        grids, trim, answer = dict(g.get("grids") or {}), bool(g.get("trim", False)), g.get("answer", "line")
        return GymSpec(parse_dataset(self.dataset), grids, trim, answer)


STUDY_PROBES = {"probe_pool": "reference_arm", "drift_probe_every": "drift_probe_every",
                "drift_probe_prompts": "drift_probe_prompts"}  # fmt: skip
"""Former run keys -> the ablation config's key that sets them now."""


@dataclass(frozen=True)
class Probes:
    """What a study measures of a run besides training it: set by `curriculum ablate` (AblationConfig), not part of a
    run's config."""

    pool: bool = False
    """Before training, how much of the training pool the warm model solves (greedy) and how much is beyond it (greedy
    wrong and no success in 4 samples at the training temperature), and per level the share of its groups holding
    exactly one success; reported as `pool_start` (the reference arm of every study)."""
    drift_every: int = 0
    """Every this many steps (0: off), the pass rate of a fixed sample of the pool (`drift_prompts` prompts, 16
    samples each, twice at the start for the noise floor), into drift.npz (the drift study)."""
    drift_prompts: int = 400


def _matches(value: Any, hint: Any) -> bool:
    """Whether a YAML-parsed value fits a field's type hint (int is not bool; a float field takes an int)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is list:
        return isinstance(value, list) and all(_matches(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(_matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items())
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if hint is type(None):
        return "null"
    if origin is list:
        return f"a list of {_describe(args[0])}"
    if origin is dict:
        return f"a mapping of {_describe(args[0])} to {_describe(args[1])}" if args[1] is not Any else "a mapping"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(hint, str(hint))


def check_types(cfg: RunConfig) -> None:
    """Every field against its annotation; a float field also takes a number written as text (YAML reads 2e-5
    as a string). Raises ValueError naming the key, the value and what it takes."""
    hints = typing.get_type_hints(RunConfig)
    for f in dataclasses.fields(RunConfig):
        value, hint = getattr(cfg, f.name), hints[f.name]
        if isinstance(value, str) and float in typing.get_args(hint) + (hint,) and str not in typing.get_args(hint):
            try:
                value = float(value)
                setattr(cfg, f.name, value)
            except ValueError:
                pass
        if not _matches(value, hint):
            raise ValueError(f"{f.name}={value!r}: expected {_describe(hint)}")


def field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(RunConfig)]


def field_help() -> dict[str, str]:
    """name -> help, from the attribute docstrings."""
    return attribute_docs(RunConfig)


def _parse_value(text: str) -> Any:
    try:
        return yaml.safe_load(text) if text != "" else ""
    except yaml.YAMLError:  # e.g. prompt_column=[x: a string to the field check, which says what it takes
        return text


NESTED = ("grpo", "curriculum", "tiny", "gym")
"""Fields that take dotted overrides: `grpo.KEY=value`, `curriculum.KEY=value`, `tiny.SECTION.KEY=value`."""


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """`key=value` (YAML-parsed value); `grpo.key=value`, `curriculum.key=value`, `tiny.section.key=value` set one
    nested key."""
    raw = {k: (copy.deepcopy(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} is not key=value")
        key, value = item.split("=", 1)
        if "." in key:
            path = key.split(".")
            if path[0] not in NESTED:
                raise ValueError(f"only {', '.join(n + '.KEY' for n in NESTED)} take a dotted key, got {key!r}")
            node = raw.setdefault(path[0], {})
            for part in path[1:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = _parse_value(value)
        else:
            raw[key] = _parse_value(value)
    return raw


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` with `changes` merged in, nested dicts key by key (neither argument is modified)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_run_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.exists():
        raise FileNotFoundError(f"config file {path} not found")
    if path.suffix.lower() in (".jsonl", ".json", ".parquet", ".csv", ".arrow"):
        raise ValueError(
            f"--config {path} looks like a dataset; give it as dataset={path} and --config a YAML "
            "run config (e.g. configs/default.yaml)"
        )
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid YAML: {' '.join(str(err).split())}") from err
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of key: value at the top level")
    raw = apply_overrides(raw, overrides or [])
    unknown = sorted(set(raw) - set(field_names()))
    moved = [k for k in unknown if k in STUDY_PROBES]
    if moved:
        raise ValueError(
            f"{', '.join(moved)}: what a study measures, not a run setting; set "
            f"{', '.join(STUDY_PROBES[k] for k in moved)} in an ablation config (configs/ablations/drift.yaml), "
            "or pass recipes.run_config.Probes to recipes.train.run"
        )
    if unknown:
        raise ValueError(f"unknown config key(s) {unknown} in {path} or the overrides; valid keys: {field_names()}")
    return RunConfig(**raw)
