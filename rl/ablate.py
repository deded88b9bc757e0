"""`curriculum ablate`: arms of `curriculum train` at an equal budget of generated completions.

    curriculum ablate --config configs/ablations/bands.yaml          # 5 arms x 3 seeds + the too-hard study
    curriculum ablate --config configs/ablations/smoke.yaml          # 1-seed miniature (tests)

Every arm is the base run config plus a small diff (torchtune style). Each run stops once it has
generated `budget_rollouts` completions: every rollout counts, the static arm's calibration pass and
dynamic sampling's discarded groups included. Writes `results.md`, `results.csv` (mean +- std over
seeds), `runs.jsonl` (one row per run), and plots, to `output_dir`.

Columns: held-out accuracy per level at the end; area under the accuracy-vs-rollouts curve (mean
accuracy over the budget, from the periodic evaluations); rollouts needed to reach the uniform arm's
final accuracy; informative-group ratio; share of rollouts spent on prompts never solved during the
run (near-impossible for this model); wall time.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .run_config import RunConfig, apply_overrides, field_names, load_run_config


@dataclass
class AblationConfig:
    base: str = "configs/default.yaml"
    """The run config every arm starts from (path relative to the repository root or absolute)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Changes to the base shared by all arms."""
    arms: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Arm name -> overrides of the base (a small diff)."""
    seeds: int = 3
    budget_rollouts: int = 8192
    """Generated completions per run, all of them counted."""
    output_dir: str = "runs/ablate"
    too_hard: dict[str, Any] = field(default_factory=dict)
    """Optional study on a pool that is mostly beyond reach: {overrides: {...}, arms: [names]}."""
    reference_arm: str = "uniform"
    """The arm whose final accuracy defines 'rollouts to reach'."""
    studies: list[str] = field(default_factory=lambda: ["bands", "too_hard"])
    """Which studies to run (e.g. studies=[too_hard] to redo only that one)."""


def load_ablation(path: str | Path, overrides: list[str] | None = None) -> AblationConfig:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"ablation config {path} not found")
    raw = yaml.safe_load(path.read_text()) or {}
    for item in overrides or []:
        key, _, value = item.partition("=")
        if key not in AblationConfig.__dataclass_fields__:
            raise ValueError(f"unknown ablation key {key!r}; valid: {sorted(AblationConfig.__dataclass_fields__)}")
        raw[key] = yaml.safe_load(value)
    unknown = sorted(set(raw) - set(AblationConfig.__dataclass_fields__))
    if unknown:
        valid = sorted(AblationConfig.__dataclass_fields__)
        raise ValueError(f"unknown ablation key(s) {unknown} in {path}; valid: {valid}")
    cfg = AblationConfig(**raw)
    for name, diff in cfg.arms.items():
        bad = sorted(set(diff) - set(field_names()))
        if bad:
            raise ValueError(f"arm {name!r}: unknown run key(s) {bad}; valid: {field_names()}")
    if cfg.reference_arm not in cfg.arms:
        raise ValueError(f"reference_arm {cfg.reference_arm!r} is not one of the arms {sorted(cfg.arms)}")
    return cfg


def arm_config(ab: AblationConfig, name: str, diff: dict[str, Any], seed: int, study: str,
               extra: dict[str, Any] | None = None) -> RunConfig:
    base = Path(ab.base)
    if not base.is_absolute() and not base.exists():
        base = Path(__file__).resolve().parents[1] / ab.base
    items = {**ab.overrides, **(extra or {}), **diff}
    run = load_run_config(base, [f"{k}={json.dumps(v)}" for k, v in items.items() if not isinstance(v, dict)])
    for k, v in items.items():
        if isinstance(v, dict):
            setattr(run, k, {**(getattr(run, k) or {}), **v})
    per_step = run.prompts_per_step * run.num_generations
    run.max_steps = 4 * math.ceil(ab.budget_rollouts / per_step)  # the budget callback stops the run earlier
    run.seed = seed
    run.output_dir = str(Path(ab.output_dir) / study / name / f"seed{seed}")
    run.save_steps = 10**9  # ablation runs keep no checkpoints
    run.budget_rollouts = ab.budget_rollouts
    run.grpo = {**run.grpo, "save_strategy": "no"}
    return run


# ---- metrics of one run -------------------------------------------------------------------------------
def summarise_run(result: dict[str, Any], out: Path) -> dict[str, Any]:
    rows = _metric_rows(out)
    curve = [(r["rollouts"], r["eval/accuracy"]) for r in rows if "eval/accuracy" in r and "rollouts" in r]
    after = result["after"]
    row = {f"acc_level_{k}": v for k, v in after.items()}
    row["acc_mean"] = float(np.mean(list(after.values())))
    row["auc"] = auc(curve)
    row["curve"] = curve
    row["informative_ratio"] = result["curriculum"]["informative_ratio_total"]
    row["never_solved_share"] = result.get("never_solved_share", math.nan)
    row["rollouts"] = result.get("generated_rollouts", result["rollouts"])
    row["wall_s"] = result["wall_s"]
    row["before"] = result["before"]
    return row | training_shares(rows)


def _metric_rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if x.strip()]


def training_shares(rows: list[dict[str, Any]]) -> dict[str, float]:
    """From a run's logged metrics: `lone_success_share`, the mean share of |advantage| carried by groups with one
    success (before any damping), and `pool_drawn`, the share of the pool's prompts drawn at least once."""
    lone = [r["advantage/lone_success_share_before"] for r in rows if "advantage/lone_success_share_before" in r]
    lone = [x for x in lone if not math.isnan(x)]
    unseen = [r["curriculum/unseen_frac"] for r in rows if "curriculum/unseen_frac" in r]
    return {"lone_success_share": float(np.mean(lone)) if lone else math.nan,
            "pool_drawn": 1.0 - unseen[-1] if unseen else math.nan}


def auc(curve: list[tuple[float, float]]) -> float:
    """Mean accuracy over the rollout budget: trapezoid area under accuracy(rollouts) / rollouts spanned."""
    if len(curve) < 2:
        return math.nan
    x, y = (np.asarray(v, dtype=float) for v in zip(*sorted(curve), strict=True))
    return float(np.trapezoid(y, x) / (x[-1] - x[0])) if x[-1] > x[0] else math.nan


def rollouts_to_reach(curve: list[tuple[float, float]], target: float) -> float:
    """First rollout count at which the (linearly interpolated) accuracy reaches `target`; nan if never."""
    pts = sorted(curve)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if y1 >= target > y0:
            return x0 + (target - y0) * (x1 - x0) / (y1 - y0)
    if pts and pts[0][1] >= target:
        return pts[0][0]
    return math.nan


# ---- tables and plots ---------------------------------------------------------------------------------
def mean_std(values: list[float]) -> str:
    v = np.asarray([x for x in values if not math.isnan(x)], dtype=float)
    if v.size == 0:
        return "-"
    return f"{v.mean():.3f} ± {v.std():.3f}" if v.size > 1 else f"{v.mean():.3f}"


def table(per_arm: dict[str, list[dict]], reference: str) -> tuple[str, list[list[str]]]:
    levels = sorted({k for rows in per_arm.values() for r in rows for k in r if k.startswith("acc_level_")},
                    key=lambda k: k.rsplit("_", 1)[1])
    ref_final = np.mean([r["acc_mean"] for r in per_arm.get(reference, [])]) if reference in per_arm else math.nan
    head = (["arm"] + [f"acc L{k.rsplit('_', 1)[1]}" for k in levels]
            + ["acc mean", "AUC (acc vs rollouts)", f"rollouts to {reference} final", "informative",
               "rollouts on never-solved", "lone-success adv share", "pool drawn", "wall s"])
    body = []
    for arm, rows in per_arm.items():
        reach = [rollouts_to_reach(r["curve"], ref_final) for r in rows]
        cells = [arm] + [mean_std([r.get(k, math.nan) for r in rows]) for k in levels]
        cells += [mean_std([r["acc_mean"] for r in rows]), mean_std([r["auc"] for r in rows]),
                  _reach_cell(reach), mean_std([r["informative_ratio"] for r in rows]),
                  mean_std([r["never_solved_share"] for r in rows]),
                  mean_std([r.get("lone_success_share", math.nan) for r in rows]),
                  mean_std([r.get("pool_drawn", math.nan) for r in rows]), f"{np.mean([r['wall_s'] for r in rows]):.0f}"]
        body.append(cells)
    md = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(c) + " |" for c in body]
    return "\n".join(md), [head] + body


def _reach_cell(reach: list[float]) -> str:
    ok = [x for x in reach if not math.isnan(x)]
    if not ok:
        return "never"
    return f"{np.mean(ok):.0f} ({len(ok)}/{len(reach)} seeds)"


def plot_curves(per_arm: dict[str, list[dict]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    for arm, rows in per_arm.items():
        grid = np.linspace(0, max(max((c[-1][0] for c in [r["curve"]] if c), default=1) for r in rows), 25)
        ys = [np.interp(grid, *zip(*sorted(r["curve"]), strict=True)) for r in rows if len(r["curve"]) >= 2]
        if not ys:
            continue
        m, s = np.mean(ys, axis=0), np.std(ys, axis=0)
        ax.plot(grid, m, label=arm)
        ax.fill_between(grid, m - s, m + s, alpha=0.15)
    ax.set_xlabel("generated completions (every rollout counted)")
    ax.set_ylabel("held-out accuracy (mean over levels)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _level_value(before: dict, level: str) -> float:
    """A level's accuracy from a dict keyed by int (in process) or str (read back from JSON)."""
    for key in (level, int(level) if level.isdigit() else level):
        if key in before:
            return float(before[key])
    return math.nan


def plot_levels(per_arm: dict[str, list[dict]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = sorted({k for rows in per_arm.values() for r in rows for k in r if k.startswith("acc_level_")},
                    key=lambda k: k.rsplit("_", 1)[1])
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    width = 0.8 / max(len(per_arm), 1)
    for i, (arm, rows) in enumerate(per_arm.items()):
        m = [np.mean([r.get(k, np.nan) for r in rows]) for k in levels]
        s = [np.std([r.get(k, np.nan) for r in rows]) for k in levels]
        ax.bar(np.arange(len(levels)) + i * width, m, width, yerr=s, label=arm, capsize=2)
    before = np.mean([[_level_value(r["before"], k.rsplit("_", 1)[1]) for k in levels]
                       for rows in per_arm.values() for r in rows], axis=0)
    ax.scatter(np.arange(len(levels)) + 0.4 - width / 2, before, marker="_", s=400, c="k", label="before training")
    ax.set_xticks(np.arange(len(levels)) + 0.4 - width / 2, [f"level {k.rsplit('_', 1)[1]}" for k in levels])
    ax.set_ylabel("held-out accuracy at the end")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---- the driver ---------------------------------------------------------------------------------------
def run_study(ab: AblationConfig, study: str, arms: dict[str, dict], extra: dict | None, out: Path) -> dict:
    from .train import run

    per_arm: dict[str, list[dict]] = {}
    log_path = out / f"{study}_runs.jsonl"
    log_path.unlink(missing_ok=True)
    for name, diff in arms.items():
        for seed in range(ab.seeds):
            cfg = arm_config(ab, name, diff, seed, study, extra)
            print(f"\n=== {study}: arm {name}, seed {seed} ===", flush=True)
            result = run(cfg)
            row = summarise_run(result, Path(cfg.output_dir)) | {"arm": name, "seed": seed, "study": study}
            per_arm.setdefault(name, []).append(row)
            with open(log_path, "a") as f:
                f.write(json.dumps(row, default=float) + "\n")
    return per_arm


def write_results(per_arm: dict[str, list[dict]], ab: AblationConfig, out: Path, study: str) -> str:
    md, rows = table(per_arm, ab.reference_arm if ab.reference_arm in per_arm else next(iter(per_arm)))
    (out / f"{study}.md").write_text(md + "\n")
    with open(out / f"{study}.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    plot_curves(per_arm, out / f"{study}_accuracy_vs_rollouts.png", f"{study}: accuracy vs rollouts")
    plot_levels(per_arm, out / f"{study}_accuracy_by_level.png", f"{study}: final accuracy per level")
    return md


def main(config: str, overrides: list[str]) -> int:
    ab = load_ablation(config, overrides)
    out = Path(ab.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation_config.yaml").write_text(yaml.safe_dump(ab.__dict__, sort_keys=False))
    t0 = time.perf_counter()
    if "bands" in ab.studies:
        per_arm = run_study(ab, "bands", ab.arms, None, out)
        md = write_results(per_arm, ab, out, "bands")
        print(f"\nbands: {ab.seeds} seed(s), {ab.budget_rollouts} completions per run\n\n{md}")
    if ab.too_hard and "too_hard" in ab.studies:
        spec = ab.too_hard.get("arms") or list(ab.arms)  # arm names, or {name: diff} of its own
        arms = dict(spec) if isinstance(spec, dict) else {n: ab.arms[n] for n in spec}
        hard = run_study(ab, "too_hard", arms, ab.too_hard.get("overrides", {}), out)
        md = write_results(hard, ab, out, "too_hard")
        print(f"\ntoo hard: {ab.seeds} seed(s)\n\n{md}")
    print(f"\nwrote {out}/ (<study>.md, <study>.csv, plots, <study>_runs.jsonl) in {time.perf_counter() - t0:.0f} s")
    return 0


def replot(config: str, study: str) -> str:
    """Rewrite a finished study's table and plots from its `<study>_runs.jsonl` (and, for runs logged before a
    column existed, from the runs' own metrics.jsonl when their folders are still there)."""
    ab = load_ablation(config)
    out = Path(ab.output_dir)
    per_arm: dict[str, list[dict]] = {}
    for line in (out / f"{study}_runs.jsonl").read_text().splitlines():
        row = json.loads(line)
        run_dir = out / study / row["arm"] / f"seed{row['seed']}"
        if "pool_drawn" not in row and (run_dir / "metrics.jsonl").exists():
            row |= training_shares(_metric_rows(run_dir))
        per_arm.setdefault(row["arm"], []).append(row)
    return write_results(per_arm, ab, out, study)


if __name__ == "__main__":  # python -m rl.ablate configs/ablations/bands.yaml bands
    import sys

    print(replot(sys.argv[1], sys.argv[2]))


__all__ = ["AblationConfig", "apply_overrides", "auc", "load_ablation", "main", "rollouts_to_reach"]
