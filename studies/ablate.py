"""`curriculum ablate`: arms of `curriculum train` at an equal budget of generated completions, on several pools,
paired by seed, with 95% confidence intervals.

    curriculum ablate --config configs/ablations/bands.yaml      # 5 arms x 5 seeds x 3 pools
    curriculum ablate --config configs/ablations/smoke.yaml      # 1-seed miniature (tests)
    curriculum ablate --config configs/ablations/bands.yaml run_pools=[default] seeds=8

Every arm is the base run config plus a small diff (torchtune style); every pool is a change of the training
pool shared by all arms (e.g. a mix mostly beyond the warm model). A seed fixes the warm model, the pool and the
held-out set, so arms are compared seed by seed (paired). Each run stops once it has generated
`budget_rollouts` completions: every rollout counts, the static arm's calibration pass and dynamic sampling's
discarded groups included.

Resuming: each finished run leaves `summary.json` in its folder; a rerun of the same command skips every run whose
summary matches its config, so an interrupted study continues where it stopped. A run that fails is reported
(its traceback in `error.txt`) and the others still run; the command then exits with status 1.

Per pool, `output_dir` gets `<pool>.md` (tables), `<pool>.csv`, `<pool>_accuracy_vs_completions.png` (95% bands)
and `<pool>_accuracy_by_level.png`. Columns (studies/ablation_stats.py): final held-out accuracy (mean over levels),
its gain over the start, the paired difference to the reference arm, completions to reach the reference arm's
final accuracy, area under the accuracy curve, forgetting, informative groups, rollouts on never-solved prompts,
coverage of the pool, wall time.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from curriculum.statefile import write_atomic
from recipes.run_config import Probes, RunConfig, apply_overrides, deep_merge, field_names, load_run_config
from recipes.summary import Runs, RunSummary
from rl.trl.features import resolve_features
from tasks.gym import is_gym

from .ablation_stats import pool_table

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class AblationConfig:
    base: str = "configs/default.yaml"
    """The run config every arm starts from (path relative to the repository root or absolute)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Changes to the base shared by all arms and pools."""
    arms: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Arm name -> overrides of the base (a small diff)."""
    pools: dict[str, dict[str, Any]] = field(default_factory=lambda: {"default": {}})
    """Pool name -> overrides of the base that change the training pool (e.g. level_counts), shared by all arms."""
    run_pools: list[str] | None = None
    """Which pools to run (None: all)."""
    run_arms: list[str] | None = None
    """Which arms to run and report (None: all): more seeds for a few arms, `seeds=10 run_arms=[uniform,adaptive]`
    with a report_dir of their own."""
    seeds: int = 5
    budget_rollouts: int = 15000
    """Generated completions per run, all of them counted."""
    output_dir: str = "runs/ablate"
    report_dir: str | None = None
    """Where the tables and plots go (None: output_dir). Lets two configs share runs without overwriting each
    other's tables."""
    reference_arm: str = "uniform"
    """The arm the others are paired against, and whose final accuracy defines 'completions to reach'."""
    compare_arms: list[str] = field(default_factory=list)
    """More arms every other arm is paired against, in a table of their own (e.g. [dapo_dynamic])."""
    ceiling_arm: str | None = None
    """The arm that bounds what selection can gain (the oracle): each arm's share of its gain over the reference arm
    gets a table of its own."""
    short_levels: list[int] = field(default_factory=list)
    long_levels: list[int] = field(default_factory=list)
    """With both given (the lucky-success study): per family, the accuracy of the short levels over time against the
    warm model's, the shortcut measures on the long levels, the warm model's lone-success groups and the share of
    |advantage| they carry, before and after damping."""
    drift_probe_every: int = 0
    """The drift study: every this many steps (0: off), the pass rates of a fixed sample of the pool
    (`drift_probe_prompts` prompts) are probed in every run (recipes.run_config.Probes)."""
    drift_probe_prompts: int = 400
    reach_targets: dict[str, float] = field(default_factory=dict)
    """Pool -> the share of the reference arm's completions an arm should need to reach its final accuracy (printed
    beside the measured shares)."""
    imported_arms: dict[str, str] = field(default_factory=dict)
    """Arm name -> the folder of runs made elsewhere, `{pool}` standing for the pool's name: another commit's study,
    run from a worktree (`prev_walk: ../old/runs/ablate/{pool}/adaptive`). Its `seed<N>/summary.json` files are read
    into the tables, paired by seed like any arm, and never run here. Pair only runs of the same warm model, pools
    and seeds: the reference arm run at both commits should give the same numbers."""


def load_ablation(path: str | Path, overrides: list[str] | None = None) -> AblationConfig:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"ablation config {path} not found")
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of key: value at the top level")
    valid = sorted(AblationConfig.__dataclass_fields__)
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep or key not in AblationConfig.__dataclass_fields__:
            raise ValueError(f"ablation override {item!r}: expected KEY=VALUE with KEY one of {valid}")
        raw[key] = yaml.safe_load(value)
    unknown = sorted(set(raw) - set(valid))
    if unknown:
        raise ValueError(f"unknown ablation key(s) {unknown} in {path}; valid: {valid}")
    ab = AblationConfig(**raw)
    if not isinstance(ab.seeds, int) or ab.seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {ab.seeds!r}")
    for name, low in (("drift_probe_every", 0), ("drift_probe_prompts", 1)):
        if not isinstance(getattr(ab, name), int) or getattr(ab, name) < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {getattr(ab, name)!r}")
    if not isinstance(ab.budget_rollouts, int) or ab.budget_rollouts < 1:
        raise ValueError(f"budget_rollouts must be an integer >= 1, got {ab.budget_rollouts!r}")
    bad = sorted(set(ab.overrides) - set(field_names()))
    if bad:
        raise ValueError(f"overrides: unknown run key(s) {bad}; valid: {field_names()}")
    for kind, table in (("arm", ab.arms), ("pool", ab.pools)):
        if not table:
            raise ValueError(f"{path}: no {kind}s given")
        for name, diff in table.items():
            bad = sorted(set(diff or {}) - set(field_names()))
            if bad:
                raise ValueError(f"{kind} {name!r}: unknown run key(s) {bad}; valid: {field_names()}")
    clash = sorted(set(ab.imported_arms) & set(ab.arms))
    if clash:
        raise ValueError(f"imported_arms {clash} share a name with arms of this config; rename them")
    for name, folder in ab.imported_arms.items():
        if not isinstance(folder, str) or "{pool}" not in folder:
            raise ValueError(f"imported arm {name!r}: expected a folder with {{pool}} in it, got {folder!r}")
    for name in [ab.reference_arm, *ab.compare_arms, *([ab.ceiling_arm] if ab.ceiling_arm else [])]:
        if name not in ab.arms and name not in ab.imported_arms:
            raise ValueError(
                f"{name!r} (reference_arm / compare_arms / ceiling_arm) is not one of the arms "
                f"{sorted([*ab.arms, *ab.imported_arms])}"
            )
    missing = sorted(set(ab.run_pools or []) - set(ab.pools))
    if missing:
        raise ValueError(f"run_pools {missing} are not pools of this config: {sorted(ab.pools)}")
    missing = sorted(set(ab.run_arms or []) - set(ab.arms))
    if missing:
        raise ValueError(f"run_arms {missing} are not arms of this config: {sorted(ab.arms)}")
    if ab.run_arms is not None and ab.reference_arm not in ab.run_arms:
        raise ValueError(f"run_arms {ab.run_arms} must hold the reference arm {ab.reference_arm!r}: the others pair with it")
    for pool in ab.pools:  # every run config must build: fail now, not after an hour of runs
        for arm, diff in ab.arms.items():
            arm_config(ab, arm, diff, 0, pool)
    return ab


def arm_config(ab: AblationConfig, name: str, diff: dict[str, Any], seed: int, pool: str) -> RunConfig:
    """The run config of one arm on one pool at one seed."""
    base = Path(ab.base)
    if not base.is_absolute() and not base.exists():
        base = ROOT / ab.base
    items = deep_merge(deep_merge(ab.overrides, ab.pools[pool] or {}), diff or {})
    flat = [f"{k}={json.dumps(v)}" for k, v in items.items() if not isinstance(v, dict)]
    run = load_run_config(base, flat)
    for k, v in items.items():
        if isinstance(v, dict):
            setattr(run, k, deep_merge(getattr(run, k) or {}, v))
    per_step = run.prompts_per_step * run.num_generations
    run.max_steps = 4 * math.ceil(ab.budget_rollouts / per_step)  # the budget callback stops the run earlier
    run.seed = seed
    run.output_dir = str(Path(ab.output_dir) / pool / name / f"seed{seed}")
    run.save_steps = 10**9  # ablation runs keep no checkpoints
    run.budget_rollouts = ab.budget_rollouts
    run.grpo = {**run.grpo, "save_strategy": "no"}
    run.plots = False
    run.overwrite = True  # a run not finished (crashed, or made with other settings) is redone from scratch
    run.__post_init__()
    if run.model == "tiny":
        from recipes.tiny import tiny_config

        tiny_config(run.tiny)  # a misspelt tiny key fails here, before any run
    return run


DIGEST_EXCLUDED = ("overwrite",)
"""Run settings that cannot change a run's result, left out of its digest (so adding one keeps finished runs)."""

DIGEST_RUN_ADDED = {"stream": False}
"""Run settings added after finished runs were made, left out of a run's digest while at the value that gives those
runs' behaviour."""

DIGEST_ADDED = {"adaptive": {"unseen_beyond_share": None}}
"""Policy settings added after finished runs were made (policy -> setting -> the value that gives those runs'
behaviour), left out of a run's digest while at that value, where the run's policy does not read them, or where the
curriculum sees no labels (the settings added so far act on a label's population): so a new setting keeps the runs it
cannot change, and a new default of it is another run where it acts."""

DIGEST_CORE_ADDED = {"feature_calibration": "none", "population_refresh": 0}
"""Core settings added after finished runs were made (setting -> the value that gives those runs' behaviour), left out
of a run's digest while at that value, or where the run does not read them (`DIGEST_FEATURES_ONLY` where the run has no
features): so a new setting keeps the runs it cannot change, and a new default of it is another run where it acts."""

DIGEST_FEATURES_ONLY = ("feature_calibration",)
"""The settings of `DIGEST_CORE_ADDED` that act on the features' predictions only."""


RESULTS_VERSION = 2
"""Part of every run's digest: raised when the code changes what a run with the same settings gives, so finished
runs of an older version are redone rather than mixed in. 2: the ability learned from every group, the re-probe
budget, fp32 training on a CPU."""


def arm_probes(ab: AblationConfig, name: str) -> Probes:
    """What the study measures of an arm's runs besides training them: the pool (the reference arm's), the drift."""
    return Probes(pool=name == ab.reference_arm, drift_every=ab.drift_probe_every, drift_prompts=ab.drift_probe_prompts)


def planned(ab: AblationConfig, pool: str, arm: str, seed: int) -> tuple[RunConfig, Probes]:
    """One run of the study: the arm's run config on the pool at the seed, and what the study measures of it."""
    return arm_config(ab, arm, ab.arms[arm], seed, pool), arm_probes(ab, arm)


def features_as_run(cfg: RunConfig) -> str:
    """`features` as the run uses it where that is known before its data is read: "auto" is "none" on a labelled pool
    (the embedded and reasoning-gym pools carry a difficulty column), "text" where the labels are hidden
    (grpo.curriculum_prior_column=null); a file's columns are not read here, so there it stays "auto"."""
    if cfg.features != "auto":
        return cfg.features
    if "curriculum_prior_column" in cfg.grpo:
        labelled: bool | None = cfg.grpo["curriculum_prior_column"] is not None
    elif cfg.dataset is None or is_gym(cfg.dataset):
        labelled = cfg.difficulty_column == "difficulty"
    else:
        labelled = None
    return "auto" if labelled is None else resolve_features("auto", None if not labelled else "difficulty", cfg.stream)


def config_digest(cfg: RunConfig, probes: Probes = Probes()) -> str:  # noqa: B008 (frozen: one shared default)
    """The run's settings, the curriculum's resolved ones included (a changed default of CurriculumConfig is another
    run), what the study measures of it, and the results version."""
    from curriculum import CurriculumConfig

    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in DIGEST_EXCLUDED}
    for key, neutral in DIGEST_RUN_ADDED.items():
        if settings.get(key) == neutral:
            settings.pop(key)
    settings["features"] = features_as_run(cfg)
    settings["probes"] = dataclasses.asdict(probes)
    resolved = CurriculumConfig.from_dict({"policy": cfg.policy, **cfg.curriculum}).to_dict()
    for group, added in DIGEST_ADDED.items():
        for key, neutral in added.items():
            unlabelled = "curriculum_prior_column" in cfg.grpo and cfg.grpo["curriculum_prior_column"] is None
            if cfg.policy != group or unlabelled or resolved[group].get(key, neutral) == neutral:
                resolved[group].pop(key, None)
    for key, neutral in DIGEST_CORE_ADDED.items():
        unread = key in DIGEST_FEATURES_ONLY and settings["features"] == "none"
        if unread or resolved.get(key, neutral) == neutral:
            resolved.pop(key, None)
    settings["curriculum_resolved"] = resolved
    if is_gym(cfg.dataset):  # the grids as resolved: a change of tasks/gym.py's defaults is another run
        settings["gym_resolved"] = cfg.gym_spec().to_json()
    payload = json.dumps({"results_version": RESULTS_VERSION, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


# ---- the driver ---------------------------------------------------------------------------------------
def planned_runs(ab: AblationConfig) -> list[tuple[str, str, int]]:
    """(pool, arm, seed) in run order: seed by seed, so a partial study already holds paired seeds."""
    pools = [p for p in ab.pools if ab.run_pools is None or p in ab.run_pools]
    return [(pool, arm, seed) for pool in pools for seed in range(ab.seeds) for arm in arms_run(ab)]


def arms_run(ab: AblationConfig) -> list[str]:
    """The arms this invocation runs and reports, in config order."""
    return [arm for arm in ab.arms if ab.run_arms is None or arm in ab.run_arms]


def finished(cfg: RunConfig, probes: Probes = Probes()) -> RunSummary | None:  # noqa: B008
    """The run's summary, if it finished with these settings and probes."""
    path = Path(cfg.output_dir) / "summary.json"
    if not path.exists():
        return None
    summary = json.loads(path.read_text())
    return RunSummary.from_json(summary) if summary.get("config_digest") == config_digest(cfg, probes) else None


def write_summary(summary: RunSummary, out: Path) -> None:
    write_atomic(out / "summary.json", json.dumps(summary.to_json(), default=float))  # a crash leaves no half of it


def run_one(cfg: RunConfig, probes: Probes, pool: str, arm: str) -> RunSummary:
    from recipes.train import run

    out = Path(cfg.output_dir)
    (out / "summary.json").unlink(missing_ok=True)
    (out / "error.txt").unlink(missing_ok=True)
    result = run(cfg, probes)
    summary = RunSummary.from_run(result, out, cfg.budget_rollouts)
    summary.pool, summary.arm, summary.seed, summary.config_digest = pool, arm, cfg.seed, config_digest(cfg, probes)
    write_summary(summary, out)
    return summary


def replaced_by_overrides(ab: AblationConfig, config: str | Path, overrides: list[str]) -> list[str]:
    """The finished runs of the config file's own study that its command-line `overrides` (KEY=VALUE; `ab`: the study
    with them) would replace: runs made with other settings in the same folders (a run's folder is its pool, arm and
    seed, not its settings). None where the overrides change no run, or give the variant its own output_dir."""
    if not overrides or any(item.partition("=")[0] == "output_dir" for item in overrides):
        return []
    base = load_ablation(config)
    replaced = []
    for pool, arm, seed in planned_runs(ab):
        if pool not in base.pools or arm not in base.arms:
            continue
        cfg, probes = planned(ab, pool, arm, seed)
        old, old_probes = planned(base, pool, arm, seed)
        if cfg.output_dir == old.output_dir and finished(cfg, probes) is None and finished(old, old_probes) is not None:
            replaced.append(cfg.output_dir)
    return replaced


def main(config: str, overrides: list[str]) -> int:
    from recipes.train import quiet_libraries

    quiet_libraries()
    ab = load_ablation(config, overrides)
    replaced = replaced_by_overrides(ab, config, overrides)
    if replaced:
        raise ValueError(
            f"{' '.join(overrides)} change {len(replaced)} run(s) that {config} has finished, in the same folders "
            f"({replaced[0]}, ...): they would be replaced. Give the variant its own output_dir=runs/<name> (or delete "
            "those runs to redo them)"
        )
    out = Path(ab.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation_config.yaml").write_text(yaml.safe_dump(dataclasses.asdict(ab), sort_keys=False))
    plan = planned_runs(ab)
    failed: list[str] = []
    t0, done_here = time.perf_counter(), 0
    for i, (pool, arm, seed) in enumerate(plan, start=1):
        cfg, probes = planned(ab, pool, arm, seed)
        label = f"[{i}/{len(plan)}] pool {pool}, arm {arm}, seed {seed}"
        if finished(cfg, probes) is not None:
            print(f"{label}: already done ({cfg.output_dir}/summary.json)", flush=True)
            continue
        print(f"\n=== {label} ===", flush=True)
        start = time.perf_counter()
        try:
            run_one(cfg, probes, pool, arm)
        except Exception:  # one broken run must not cost the others: report it and go on
            Path(cfg.output_dir).mkdir(parents=True, exist_ok=True)
            (Path(cfg.output_dir) / "error.txt").write_text(traceback.format_exc())
            print(f"{label}: FAILED, traceback in {cfg.output_dir}/error.txt\n{traceback.format_exc(limit=3)}", flush=True)
            failed.append(label)
            continue
        done_here += 1
        left = sum(1 for p, a, s in plan[i:] if finished(*planned(ab, p, a, s)) is None)
        per_run = (time.perf_counter() - t0) / done_here
        print(
            f"{label}: done in {time.perf_counter() - start:.0f} s; {left} run(s) left, about {left * per_run / 60:.0f} min",
            flush=True,
        )
    for pool in dict.fromkeys(p for p, _, _ in plan):
        md = write_pool(ab, pool)
        print(f"\n{md}")
    print(
        f"\nwrote {ab.report_dir or out}/ (<pool>.md, <pool>.csv, plots), each run's summary.json under {out}/ in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    if failed:
        print(f"{len(failed)} run(s) FAILED (tables leave them out): " + "; ".join(failed))
        return 1
    return 0


def write_pool(ab: AblationConfig, pool: str) -> str:
    """Tables and plots of one pool from the summaries on disk (finished runs only)."""
    from .ablation_stats import plot_curves, plot_levels

    out = Path(ab.report_dir or ab.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    per_arm = read_summaries(ab, pool)
    for arm, folder in ab.imported_arms.items():  # runs made elsewhere: say when some are not there
        found = len(per_arm.get(arm, {}))
        if found < ab.seeds:
            print(
                f"pool {pool}: imported arm {arm}: {found} of {ab.seeds} seeds under {folder.format(pool=pool)}", flush=True
            )
    if not per_arm:
        return f"pool {pool}: no finished run"
    reference = ab.reference_arm if ab.reference_arm in per_arm else next(iter(per_arm))
    md, rows = pool_table(
        pool,
        per_arm,
        reference,
        ab.budget_rollouts,
        tuple(ab.compare_arms),
        ab.ceiling_arm,
        ab.reach_targets.get(pool),
        (ab.short_levels, ab.long_levels),
    )
    write_atomic(out / f"{pool}.md", md + "\n")
    table = io.StringIO()
    csv.writer(table).writerows(rows)
    write_atomic(out / f"{pool}.csv", table.getvalue())
    plot_curves(per_arm, out / f"{pool}_accuracy_vs_completions.png", f"pool {pool}: held-out accuracy", reference)
    plot_levels(per_arm, out / f"{pool}_accuracy_by_level.png", f"pool {pool}: final accuracy per level")
    return md


def read_summaries(ab: AblationConfig, pool: str) -> dict[str, Runs]:
    """{arm: {seed: summary}} of this config's finished runs on `pool` (runs of other configs, older seeds or
    budgets left in the folder are not read), arms in config order, then the imported arms' runs as found."""
    out: dict[str, Runs] = {}
    for arm in arms_run(ab):
        for seed in range(ab.seeds):
            summary = finished(*planned(ab, pool, arm, seed))
            if summary is not None:
                out.setdefault(arm, {})[seed] = summary
    for arm, folder in ab.imported_arms.items():
        for seed in range(ab.seeds):
            path = Path(folder.format(pool=pool)) / f"seed{seed}" / "summary.json"
            if path.exists():
                summary = RunSummary.from_json(json.loads(path.read_text()))
                summary.arm = arm
                out.setdefault(arm, {})[seed] = summary
    return out


def resummarise(ab: AblationConfig) -> int:
    """Recompute every finished run's summary.json from its eval.json and metrics.jsonl (a new column of the tables
    then needs no rerun); returns how many were rewritten."""
    done = 0
    for pool, arm, seed in planned_runs(ab):
        cfg, probes = planned(ab, pool, arm, seed)
        old, out = finished(cfg, probes), Path(cfg.output_dir)
        if old is None or not (out / "eval.json").exists():
            continue
        result = json.loads((out / "eval.json").read_text())
        summary = RunSummary.from_run(result, out, cfg.budget_rollouts)
        summary.pool, summary.arm, summary.seed, summary.config_digest = old.pool, old.arm, old.seed, old.config_digest
        write_summary(summary, out)
        done += 1
    return done


def replot(config: str) -> str:
    """Recompute the finished runs' summaries, then rewrite every pool's tables and plots."""
    ab = load_ablation(config)
    resummarise(ab)
    return "\n\n".join(write_pool(ab, pool) for pool in ab.pools)


if __name__ == "__main__":  # python -m studies.ablate configs/ablations/bands.yaml
    import sys

    print(replot(sys.argv[1]))


__all__ = [
    "AblationConfig",
    "apply_overrides",
    "arm_config",
    "arm_probes",
    "load_ablation",
    "main",
    "planned_runs",
    "replot",
]
