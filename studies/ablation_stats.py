"""What `curriculum ablate` reports per pool: the arms' tables and plots, from the runs' summaries
(`recipes.summary.RunSummary`: a run's accuracy curve, accuracy per level at every evaluation, sampling figures).

Every table is (title, (head, rows)), written into the pool's markdown and CSV alike. The arm tables are lists of
columns (`Column`: a head and a cell for one arm, `MAIN_COLUMNS`, `COMPARE_COLUMNS`, `CALIBRATION_COLUMNS`): a new
column is one entry there. The study tables (per level, per family, band, drift, ceiling, cost, lucky) are built
by a function each.
Per pool, every column is a mean over seeds with its 95% t-interval (recipes/stats.py):

- final accuracy, and its gain over the warm model's;
- Δ final / Δ AUC vs the reference arm: paired by seed (same warm model, pool and held-out set); `*` marks a
  difference whose interval excludes zero;
- completions to reach the reference arm's final accuracy (that seed's), interpolated along the curve, and the
  same as a share of what the reference arm itself needed; "not reached (k/n)" when k seeds never got there;
- evaluations below the reference: at how many of 9 evenly spaced completion counts the arm is below the
  reference arm by more than the interval of the paired difference;
- forgetting: the largest drop of any level below its starting accuracy, at any evaluation (a maximum over
  evaluations and levels: it grows with their number, so compare it between arms evaluated alike);
- informative: share of groups with 0 < successes < G; never-solved: share of rollouts spent on prompts that
  never produced a success in the run; pool drawn: share of the pool drawn at least once; top-10% draws: share
  of all draws that went to the 10% most-drawn prompts (0.10 is an even spread).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recipes.stats import DRIFT_SAMPLES, MEDIUM_BAND, Interval, curve_band, mean_ci, paired_ci, reach, signed
from recipes.summary import Runs, RunSummary

from .lucky_stats import Table, lucky_tables


# ---- the column registry ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Arm:
    """One arm's runs as a table row sees them, with the arm it is compared against."""

    name: str
    runs: Runs
    ref_name: str
    ref: Runs
    budget: float

    @property
    def is_ref(self) -> bool:
        return self.name == self.ref_name

    def mean(self, key: str) -> Interval:
        return mean_of(self.runs, key)


def mean_of(runs: Runs, key: str) -> Interval:
    """Mean over seeds (95% t-interval) of a RunSummary figure, over the runs that have a number for it."""
    return mean_ci([v for r in runs.values() if isinstance(v := getattr(r, key), int | float)])


@dataclass(frozen=True)
class Column:
    """One column of an arm table: its head (`{ref}` stands for the arm compared against) and its cell."""

    head: str
    cell: Callable[[Arm], str]


def _mean_of(key: str, digits: int = 3) -> Callable[[Arm], str]:
    return lambda a: a.mean(key).format(digits)


def _versus(cell: Callable[[Arm], str]) -> Callable[[Arm], str]:
    """A paired cell: "-" on the row of the arm compared against."""
    return lambda a: "-" if a.is_ref else cell(a)


ARM = Column("arm", lambda a: a.name)
DELTA_FINAL = Column("Δ final vs {ref}", _versus(lambda a: _delta(a.runs, a.ref, "final_mean")))
DELTA_AUC = Column("Δ AUC vs {ref}", _versus(lambda a: _delta(a.runs, a.ref, "auc")))
REACH = Column("completions to {ref}'s final", lambda a: _reach_cells(a.runs, a.ref)[0])
REACH_SHARE = Column("share of {ref}'s", lambda a: _reach_cells(a.runs, a.ref)[1])
MAIN_COLUMNS = [
    ARM,
    Column("seeds", lambda a: str(len(a.runs))),
    Column("final accuracy", _mean_of("final_mean")),
    Column("gain over start", lambda a: signed(mean_ci([r.final_mean - r.start_mean for r in a.runs.values()]))),
    DELTA_FINAL,
    DELTA_AUC,
    REACH,
    REACH_SHARE,
    Column("evaluations below {ref}", _versus(lambda a: _below(a.runs, a.ref, a.budget))),
    Column("AUC", _mean_of("auc")),
    Column("forgetting", _mean_of("forgetting")),
    Column("informative", _mean_of("informative", 2)),
    Column("rollouts on never-solved", _mean_of("never_solved", 2)),
    Column("pool drawn", _mean_of("pool_drawn", 2)),
    Column("draws on top 10%", _mean_of("top10_share", 2)),
    Column("wall s", lambda a: f"{a.mean('wall_s').mean:.0f}"),
]
"""The main table of a pool: one row an arm, paired with the reference arm."""
COMPARE_COLUMNS = [ARM, DELTA_FINAL, DELTA_AUC, REACH, REACH_SHARE]
"""The table pairing every arm with one of `compare_arms`."""
CALIBRATION_COLUMNS = [
    ARM,
    Column("first visits: bias", _mean_of("calibration_bias_first")),
    Column("first visits: Brier", _mean_of("brier_first")),
    Column("revisits: bias", _mean_of("calibration_bias_revisit")),
    Column("revisits: Brier", _mean_of("brier_revisit")),
]


def render(columns: list[Column], arms: list[Arm], ref: str) -> tuple[list[str], list[list[str]]]:
    """(head, rows) of a table: a row an arm, a cell a column; `ref` names the arm compared against in the heads."""
    return [c.head.format(ref=ref) for c in columns], [[c.cell(a) for c in columns] for a in arms]


def _arms(per_arm: Mapping[str, Runs], against: str, budget: float, skip: str | None = None) -> list[Arm]:
    return [Arm(name, runs, against, per_arm[against], budget) for name, runs in per_arm.items() if name != skip]


# ---- the cells -------------------------------------------------------------------------------------------
def _reach_cells(runs: Runs, ref: Runs) -> tuple[str, str]:
    """Completions to reach the reference arm's final accuracy (seed by seed), absolute and as a share of the
    reference arm's own; over the seeds that got there, with "k/n not reached" when some did not."""
    seeds = sorted(set(runs) & set(ref))
    if not seeds:
        return "-", "-"
    absolute, share = [], []
    for s in seeds:
        target = ref[s].final_mean
        mine, theirs = reach(runs[s].curve, target), reach(ref[s].curve, target)
        absolute.append(mine)
        share.append(mine / theirs if theirs > 0 else math.nan)
    missed = sum(math.isnan(x) for x in absolute)
    if missed == len(seeds):
        return f"not reached ({missed}/{missed})", f"not reached ({missed}/{missed})"
    note = f" ({missed}/{len(seeds)} not reached)" if missed else ""
    return mean_ci(absolute).format(0) + note, mean_ci(share).format(2) + note


def _paired(runs: Runs, ref: Runs, key: str) -> Interval:
    return paired_ci({s: getattr(r, key) for s, r in runs.items()}, {s: getattr(r, key) for s, r in ref.items()})


def _delta(runs: Runs, ref: Runs, key: str) -> str:
    ci = _paired(runs, ref, key)
    pairs = f" ({ci.n} pairs)" if ci.n < max(len(runs), len(ref)) else ""
    return signed(ci) + pairs


def _below(runs: Runs, ref: Runs, budget: float, points: int = 9) -> str:
    """At how many of `points` evenly spaced completion counts (up to the budget) the arm's accuracy is below the
    reference arm's by more than the interval of the paired difference."""
    seeds = sorted(set(runs) & set(ref))
    if len(seeds) < 2:
        return "-"
    grid = np.linspace(budget / points, budget, points)
    diffs = np.asarray([_curve_at(grid, runs[s].curve) - _curve_at(grid, ref[s].curve) for s in seeds])  # (S, P)
    below = sum(mean_ci(diffs[:, j].tolist()).high < 0 for j in range(points))
    return f"{below}/{points}"


# ---- the tables ------------------------------------------------------------------------------------------
def pool_header(pool: str, per_arm: dict[str, Runs], reference: str, budget: int) -> str:
    any_run = next(iter(next(iter(per_arm.values())).values()))
    probes = [r.pool_start for r in per_arm.get(reference, {}).values() if r.pool_start]
    seeds = sorted({s for runs in per_arm.values() for s in runs})
    line = f"**Pool `{pool}`**"
    if probes:
        solved, beyond = mean_ci([p["solved"] for p in probes]), mean_ci([p["beyond"] for p in probes])
        samples = probes[0].get("beyond_samples", 4)
        line += (
            f": {probes[0]['prompts']} prompts; the warm model solves {solved.format(2)} of them (greedy) and "
            f"{beyond.format(2)} are beyond it (greedy wrong, no success in {samples} samples)"
        )
    return (
        f"{line}. {len(seeds)} seed(s), {budget:,} generated completions per run; held-out "
        f"{any_run.eval_metric}, mean over levels; mean ± 95% t-interval over seeds; Δ: paired difference "
        f"to `{reference}` (* : the interval excludes 0)."
    )


def pool_table(
    pool: str,
    per_arm: dict[str, Runs],
    reference: str,
    budget: int,
    compare: tuple[str, ...] = (),
    ceiling: str | None = None,
    reach_target: float | None = None,
    lengths: tuple[list[int], list[int]] = ([], []),
) -> tuple[str, list[list]]:
    """Markdown (main table, the paired comparisons with `compare` arms, then accuracy per level) and CSV rows for
    one pool; every column but the wall time is a mean with its 95% t-interval over seeds."""
    head, body = render(MAIN_COLUMNS, _arms(per_arm, reference, budget), reference)
    level_head, level_rows = _level_table(per_arm, reference)
    md = [pool_header(pool, per_arm, reference, budget), "", _markdown(head, body), ""]
    extra: list[list] = []
    tables = [
        *_compare_tables(per_arm, compare, reference, budget),
        *_ceiling_table(per_arm, reference, ceiling, reach_target),
        *_calibration_table(per_arm, reference, budget),
        *_cost_table(per_arm),
    ]
    for title, (table_head, table_rows) in tables:
        md += [title, "", _markdown(table_head, table_rows), ""]
        extra += [[], table_head, *table_rows]
    md += ["Final held-out accuracy per level:", "", _markdown(level_head, level_rows)]
    studies = [
        *_draws_table(per_arm, reference),
        *_family_table(per_arm, reference),
        *_band_table(per_arm),
        *_drift_table(per_arm),
        *lucky_tables(per_arm, reference, *lengths, budget),
    ]
    for title, (table_head, table_rows) in studies:
        md += ["", title, "", _markdown(table_head, table_rows)]
        extra += [[], table_head, *table_rows]
    return "\n".join(md), [head, *body, *extra, [], level_head, *level_rows]


def _level_table(per_arm: dict[str, Runs], reference: str) -> tuple[list[str], list[list[str]]]:
    """Final accuracy per level and arm, under the warm model's (the reference arm's start)."""
    levels = sorted({k for runs in per_arm.values() for r in runs.values() for k in r.final}, key=int)
    start_runs = per_arm[reference].values()
    rows = [["start (warm model)", *[mean_ci([r.start.get(k, math.nan) for r in start_runs]).format() for k in levels]]]
    rows += [
        [arm, *[mean_ci([r.final.get(k, math.nan) for r in runs.values()]).format() for k in levels]]
        for arm, runs in per_arm.items()
    ]
    return ["arm", *[f"L{k}" for k in levels]], rows


def _draws_table(per_arm: dict[str, Runs], reference: str) -> list[Table]:
    """Share of each arm's draws per level (mean over seeds) under the warm model's accuracy: where the completions
    went. Only where the runs recorded it (labelled pools)."""
    levels = sorted({k for runs in per_arm.values() for r in runs.values() for k in r.draws_by_level}, key=int)
    if not levels:
        return []
    start_runs = per_arm[reference].values()
    starts = [[r.start[k] for r in start_runs if k in r.start] for k in levels]  # the warm model's, per level
    rows = [["start accuracy (warm model)", *[f"{np.mean(x):.2f}" if x else "-" for x in starts]]]
    for arm, runs in per_arm.items():
        shares = [np.mean([r.draws_by_level.get(k, 0.0) for r in runs.values()]) for k in levels]
        rows.append([arm, *[f"{x:.3f}" for x in shares]])
    return [("Share of the draws per level (mean over seeds):", (["arm", *[f"L{k}" for k in levels]], rows))]


def _compare_tables(per_arm: dict[str, Runs], compare: tuple[str, ...], reference: str, budget: float) -> list[Table]:
    """Every other arm paired with each of `compare` (same seeds)."""
    tables = []
    for other in (c for c in compare if c in per_arm and c != reference):
        tables.append(
            (f"Paired with `{other}` (same seeds):", render(COMPARE_COLUMNS, _arms(per_arm, other, budget, other), other))
        )
    return tables


def _ceiling_table(per_arm: dict[str, Runs], reference: str, ceiling: str | None, reach_target: float | None) -> list[Table]:
    """Each arm's share of the ceiling arm's gain over the reference (mean paired differences), and its share of the
    reference's completions to reach the reference's final accuracy against the target."""
    if ceiling not in per_arm or reference not in per_arm:
        return []
    ref = per_arm[reference]
    top = {key: _paired(per_arm[ceiling], ref, key) for key in ("final_mean", "auc")}
    head = ["arm", f"Δ final vs {reference}", f"share of {ceiling}'s Δ final", f"share of {ceiling}'s Δ AUC",
            f"share of {reference}'s completions to its final"]  # fmt: skip
    if reach_target is not None:
        head.append("target")
    rows = []
    for arm, runs in per_arm.items():
        if arm == reference:
            continue
        # a share of a gain the ceiling does not measurably make is no figure: "-"
        shares = [_paired(runs, ref, k).mean / top[k].mean if top[k].significant else math.nan for k in top]
        row = [arm, _delta(runs, ref, "final_mean"), *[f"{x:.2f}" if math.isfinite(x) else "-" for x in shares]]
        row.append(_reach_cells(runs, ref)[1])
        rows.append(row + ([f"<= {reach_target:.2f}"] if reach_target is not None else []))
    title = (
        f"What selection can gain: `{ceiling}` (the ceiling arm: for the oracle, prompts kept by their true pass rate "
        f"under the current model); each arm's gain over `{reference}` as a share of `{ceiling}`'s (ratio of the mean "
        f"paired differences, where `{ceiling}`'s interval excludes 0; "
        f"`{ceiling}`: Δ final {top['final_mean'].format(3, signed=True)}, Δ AUC {top['auc'].format(3, signed=True)}):"
    )
    return [(title, (head, rows))]


def _cost_table(per_arm: dict[str, Runs]) -> list[Table]:
    """Per arm that uses features: the seconds they took and their share of the training's time."""
    used = {arm: runs for arm, runs in per_arm.items() if any(r.feature_s > 1e-3 for r in runs.values())}
    if not used:
        return []
    head = ["arm", "feature seconds a run", "training seconds a run", "features' share of training"]
    rows = []
    for arm, runs in used.items():
        share = mean_ci([r.feature_s / r.train_s for r in runs.values() if r.train_s > 0])
        rows.append([arm, mean_of(runs, "feature_s").format(2), mean_of(runs, "train_s").format(0), share.format(3)])
    title = "What the features cost (a table computed once, or the policy's forward passes over the prompts asked about):"
    return [(title, (head, rows))]


def _calibration_table(per_arm: dict[str, Runs], reference: str, budget: float) -> list[Table]:
    """Per arm: bias and Brier score of the pass rates predicted before each group was seen, first visits and
    revisits apart."""
    if not any(not math.isnan(r.brier_first) for runs in per_arm.values() for r in runs.values()):
        return []
    title = (
        "The curriculum's predictions, judged before each group was seen: bias (predicted - observed pass rate of the "
        "group) and Brier score (mean squared difference):"
    )
    return [(title, render(CALIBRATION_COLUMNS, _arms(per_arm, reference, budget), reference))]


def _family_figure(runs: list[RunSummary], key: str, family: str) -> Interval:
    """Mean over the runs of a per-family figure (`family_final`, `mode_share`, ...) of `family`, where they have it."""
    return mean_ci([v[family] for r in runs if (v := getattr(r, key)) and v.get(family) is not None])


def _family_change(runs: list[RunSummary], family: str) -> Interval:
    """Mean over the runs of the family's final accuracy minus its start, where they have both."""
    with_both = [r for r in runs if family in (r.family_final or {}) and family in (r.family_start or {})]
    return mean_ci([r.family_final[family] - r.family_start[family] for r in with_both])


def _family_table(per_arm: dict[str, Runs], reference: str) -> list[Table]:
    """Per family: final accuracy (and its change from the start) and the answer-mode share, the shortcut measure."""
    runs_all = [r for runs in per_arm.values() for r in runs.values()]
    families = sorted({f for r in runs_all for f in (r.family_final or {})})
    if len(families) < 2:
        return []

    ref_runs = list(per_arm[reference].values())
    rows = [["start (warm model)", *[_family_figure(ref_runs, "family_start", f).format() for f in families],
             *[_family_figure(ref_runs, "mode_share_start", f).format(2) for f in families]]]  # fmt: skip
    for arm, runs in per_arm.items():
        arm_runs = list(runs.values())
        finals = [
            f"{_family_figure(arm_runs, 'family_final', f).format()} ({signed(_family_change(arm_runs, f))})"
            for f in families
        ]
        rows.append([arm, *finals, *[_family_figure(arm_runs, "mode_share", f).format(2) for f in families]])
    rows.append(
        [
            "(references)",
            *["-" for _ in families],
            *[_family_figure(runs_all, "reference_mode_share", f).format(2) for f in families],
        ]
    )
    head = ["arm", *[f"{f}: final (change)" for f in families], *[f"{f}: answer mode share" for f in families]]
    title = (
        "Per family: final held-out accuracy (mean over levels) and its change from the start; the share of "
        "completions giving the family's most frequent answer (1.00: the same answer whatever the input), against "
        "that share among the references:"
    )
    return [(title, (head, rows))]


def _band_table(per_arm: dict[str, Runs]) -> list[Table]:
    """The training prompts of a pool_band run (the pool's prompts in the arm's band of the warm model's pass rate)."""
    if not any(r.band_prompts for runs in per_arm.values() for r in runs.values()):
        return []
    rows = [[arm, mean_of(runs, "band_prompts").format(0)] for arm, runs in per_arm.items()]
    return [
        (
            "Training prompts (the pool's prompts in the arm's band of the warm model's pass rate):",
            (["arm", "prompts"], rows),
        )
    ]


DRIFT_COLUMNS = {
    "overlap_noise": "band overlap, same model twice (noise floor)",
    "overlap_step": "band overlap, {every} steps apart",
    "stale_noise": "start band out of band when probed again at once (noise)",
    "static_stale": "start band out of band at the end",
    "band_start": "in band at start",
    "band_end": "in band at end",
    "rate_start": "mean pass rate at start",
    "rate_end": "mean pass rate at end",
}
"""The drift table's columns: a key of recipes.stats.band_drift's figures, and its head."""


def _drift_cell(runs: Runs, key: str) -> str:
    """Mean over the runs of one band_drift figure, where they have it."""
    values = [r.drift[key] for r in runs.values() if r.drift and not math.isnan(r.drift.get(key, math.nan))]
    return mean_ci(values).format(2)


def _drift_table(per_arm: dict[str, Runs]) -> list[Table]:
    """How fast the medium band moves: a fixed sample of the pool probed every drift_probe_every steps."""
    drifts = [r.drift for runs in per_arm.values() for r in runs.values() if r.drift]
    if not drifts:
        return []
    every = sorted({int(d["every"]) for d in drifts if d.get("every")})
    every_text = str(every[0]) if len(every) == 1 else "drift_probe_every"

    rows = [[arm, *[_drift_cell(runs, k) for k in DRIFT_COLUMNS]] for arm, runs in per_arm.items()]
    head = ["arm", *[h.format(every=every_text) for h in DRIFT_COLUMNS.values()]]
    low, high = MEDIUM_BAND
    title = (
        f"Drift of the medium band (pass rate in [{low}, {high}], {DRIFT_SAMPLES} samples, a fixed sample of the pool "
        f"probed every {every_text} steps; overlap: Jaccard):"
    )
    return [(title, (head, rows))]


def _markdown(head: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])


# ---- plots -----------------------------------------------------------------------------------------------
def _figure(ncols: int = 1, width: float = 6.8):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width, 4.2), dpi=110, squeeze=False)
    return plt, fig, axes[0]


def plot_curves(per_arm: dict[str, Runs], path: Path, title: str, reference: str | None = None) -> None:
    """Left: held-out accuracy (mean over levels) against generated completions, mean over seeds with a 95% band.
    Right (with a reference arm): each arm minus the reference, seed by seed, with its 95% band."""
    paired = reference in per_arm and len(per_arm) > 1
    plt, fig, (ax, *rest) = _figure(2 if paired else 1, 12.0 if paired else 6.8)
    end = max(max(c[0] for c in r.curve) for runs in per_arm.values() for r in runs.values() if r.curve)
    grid = np.linspace(0, end, 40)
    for i, (arm, runs) in enumerate(per_arm.items()):
        colour = f"C{i}"
        mean, half = curve_band([r.curve for r in runs.values()], grid)
        ax.plot(grid, mean, color=colour, label=f"{arm} ({len(runs)} seeds)")
        if not np.isnan(half).all():
            ax.fill_between(grid, mean - half, mean + half, color=colour, alpha=0.12)
        if paired and arm != reference:
            ref = per_arm[reference]
            seeds = sorted(set(runs) & set(ref))
            diffs = [
                [
                    (x, a - b)
                    for x, a, b in zip(grid, _curve_at(grid, runs[s].curve), _curve_at(grid, ref[s].curve), strict=True)
                ]
                for s in seeds
            ]
            dmean, dhalf = curve_band(diffs, grid)
            rest[0].plot(grid, dmean, color=colour, label=arm)
            if not np.isnan(dhalf).all():
                rest[0].fill_between(grid, dmean - dhalf, dmean + dhalf, color=colour, alpha=0.12)
    ax.set_xlabel("generated completions (every rollout counted)")
    ax.set_ylabel("held-out accuracy (mean over levels)")
    ax.set_title(title + " (95% bands over seeds)", fontsize=10)
    ax.legend(fontsize=8)
    if paired:
        rest[0].axhline(0.0, color=f"C{list(per_arm).index(reference)}", lw=1)
        rest[0].set_xlabel("generated completions (every rollout counted)")
        rest[0].set_ylabel(f"accuracy minus {reference}'s (same seed)")
        rest[0].set_title(f"paired difference to {reference} (95% bands)", fontsize=10)
        rest[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _curve_at(grid: np.ndarray, curve: list) -> np.ndarray:
    x, y = zip(*sorted(curve), strict=True)
    return np.interp(grid, x, y)


def plot_levels(per_arm: dict[str, Runs], path: Path, title: str) -> None:
    """Final accuracy per level and arm (95% error bars), with the warm model's start."""
    plt, fig, (ax,) = _figure()
    levels = sorted({k for runs in per_arm.values() for r in runs.values() for k in r.final}, key=int)
    width = 0.8 / max(len(per_arm), 1)
    x = np.arange(len(levels))
    for i, (arm, runs) in enumerate(per_arm.items()):
        cis = [mean_ci([r.final.get(k, math.nan) for r in runs.values()]) for k in levels]
        half = [0.0 if math.isnan(c.half) else c.half for c in cis]
        ax.bar(x + i * width, [c.mean for c in cis], width, yerr=half, label=arm, capsize=2)
    start = [mean_ci([r.start.get(k, math.nan) for runs in per_arm.values() for r in runs.values()]).mean for k in levels]
    centre = x + 0.4 - width / 2
    ax.scatter(centre, start, marker="_", s=500, c="k", label="start (warm model)", zorder=3)
    ax.set_xticks(centre, [f"level {k}" for k in levels])
    ax.set_ylabel("held-out accuracy at the end")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
