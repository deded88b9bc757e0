"""The lucky-success study's tables (configs/ablations/lucky.yaml): what a lone success on a long, guessable prompt
does to the skills the model had, per family.

- the warm model's groups on the pool: per family and level, its pass rate and the share of its groups (G samples
  at the training temperature) holding exactly one success;
- the short levels over time: their mean accuracy at evenly spaced completion counts, its change from the warm
  model (paired by seed: the same warm model), and its lowest point against the start;
- the long levels at the end: accuracy, the share of completions giving the level's most frequent answer, and how
  much the answers depend on the input (accuracy minus what the same answers score against shuffled references);
  the share of |advantage| the lone-success groups carried before and after damping.

Every figure is a mean over seeds with its 95% t-interval (recipes/stats.py).
"""

from __future__ import annotations

import math

import numpy as np

from recipes.stats import mean_ci, paired_ci, signed
from recipes.summary import Runs, RunSummary

Table = tuple[str, tuple[list[str], list[list[str]]]]
"""(title, (head, rows)): one table of a pool's report."""


def _mean_levels(by_level: dict[str, float] | None, levels: list[int]) -> float:
    """Mean of `by_level` (str level keys, as every summary has them) over `levels`; NaN if it has none of them."""
    values = [by_level[str(lv)] for lv in levels if by_level and str(lv) in by_level]
    return float(np.mean(values)) if values else math.nan


def _short_curve(run: RunSummary, family: str, short: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(completions, mean accuracy of the family's short levels) at each evaluation of the run."""
    xs = np.array([x for x, _ in run.curve], dtype=float)
    ys = np.array([_mean_levels(point.get(family), short) for point in run.family_curve], dtype=float)
    return xs[: ys.size], ys


def _families(per_arm: dict[str, Runs]) -> list[str]:
    return sorted({f for runs in per_arm.values() for r in runs.values() for p in r.family_curve for f in p})


def _probe_table(per_arm: dict[str, Runs], reference: str) -> list[Table]:
    probes = [r.pool_start["by_level"] for r in per_arm.get(reference, {}).values() if (r.pool_start or {}).get("by_level")]
    if not probes:
        return []
    keys = sorted({(f, lv) for p in probes for f in p for lv in p[f]}, key=lambda k: (k[0], int(k[1])))
    rows = [
        [
            family,
            level,
            f"{probes[0][family][level]['prompts']}",
            mean_ci([p[family][level]["pass_rate"] for p in probes if level in p.get(family, {})]).format(3),
            mean_ci([p[family][level]["lone_share"] for p in probes if level in p.get(family, {})]).format(2),
        ]
        for family, level in keys
    ]
    title = (
        "The warm model on the training pool (its reference-arm probe: G completions a prompt at the training "
        "temperature): pass rate, and the share of groups holding exactly one success:"
    )
    return [(title, (["family", "level", "prompts", "pass rate", "lone-success groups"], rows))]


def _short_table(per_arm: dict[str, Runs], reference: str, short: list[int], budget: float) -> list[Table]:
    grid = np.linspace(0.0, budget, 4)[1:]
    tables = []
    for family in _families(per_arm):
        head = [
            "arm",
            "start",
            *[f"at {x:,.0f}" for x in grid],
            "change at the end",
            "lowest vs start",
            f"Δ end vs {reference}",
        ]
        rows, ends = [], {}
        for arm, runs in per_arm.items():
            curves = {s: _short_curve(r, family, short) for s, r in runs.items()}
            curves = {s: c for s, c in curves.items() if c[1].size and not np.isnan(c[1]).any()}
            if not curves:
                continue
            at = [mean_ci([float(np.interp(x, *c)) for c in curves.values()]) for x in grid]
            ends[arm] = {s: float(c[1][-1]) for s, c in curves.items()}
            change = mean_ci([c[1][-1] - c[1][0] for c in curves.values()])
            lowest = mean_ci([float(np.min(c[1] - c[1][0])) for c in curves.values()])
            vs = "-" if arm == reference or reference not in ends else signed(paired_ci(ends[arm], ends[reference]))
            start = mean_ci([c[1][0] for c in curves.values()])
            rows.append([arm, start.format(3), *[a.format(3) for a in at], signed(change), signed(lowest), vs])
        if rows:
            levels = ", ".join(str(lv) for lv in short)
            tables.append(
                (
                    f"`{family}`, short levels ({levels}): mean held-out accuracy over training, against the "
                    "warm model (change, lowest point: paired by seed):",
                    (head, rows),
                )
            )
    return tables


def _long_figure(r: RunSummary, when: str, key: str, family: str, long: list[int]) -> float:
    """A shortcut measure (`accuracy`, `mode_share` or `chance`) of the run, before or after, mean over `long`."""
    return _mean_levels(((r.shortcut or {}).get(when) or {}).get(key, {}).get(family), long)


def _long_cells(runs: list[RunSummary], when: str, family: str, long: list[int]) -> list[str]:
    """The family's long levels: accuracy, answer mode share, input dependence (accuracy minus chance)."""
    acc = [_long_figure(r, when, "accuracy", family, long) for r in runs]
    mode = [_long_figure(r, when, "mode_share", family, long) for r in runs]
    dep = [a - _long_figure(r, when, "chance", family, long) for a, r in zip(acc, runs, strict=True)]
    return [mean_ci(acc).format(3), mean_ci(mode).format(2), mean_ci(dep).format(3, signed=True)]


def _long_table(per_arm: dict[str, Runs], reference: str, long: list[int]) -> list[Table]:
    shortcut_families = {f for runs in per_arm.values() for r in runs.values()
                         for f, v in ((r.shortcut or {}).get("after", {}).get("mode_share", {})).items() if v}  # fmt: skip
    families = [f for f in _families(per_arm) if f in shortcut_families]
    if not families:
        return []
    head = ["arm", "Δ final vs " + reference, "lone-success share of the absolute advantage: before damping", "after"]
    for f in families:
        head += [f"{f} long: accuracy", f"{f} long: answer mode share", f"{f} long: input dependence"]
    ref = per_arm.get(reference, {})
    ref_runs = list(ref.values())
    rows = [["start (warm model)", "-", "-", "-", *[c for f in families for c in _long_cells(ref_runs, "before", f, long)]]]
    for arm, runs in per_arm.items():
        delta = "-" if arm == reference else signed(paired_ci({s: r.final_mean for s, r in runs.items()},
                                                              {s: r.final_mean for s, r in ref.items()}))  # fmt: skip
        lone = [mean_ci([getattr(r, k) for r in runs.values()]).format(2)
                for k in ("lone_success_share", "lone_success_share_after")]  # fmt: skip
        rows.append([arm, delta, *lone, *[c for f in families for c in _long_cells(list(runs.values()), "after", f, long)]])
    levels = ", ".join(str(lv) for lv in long)
    title = (
        f"Long levels ({levels}) at the end: held-out accuracy; the share of completions giving the level's most "
        "frequent answer (the shortcut: one answer whatever the input); input dependence = accuracy minus what the "
        "same answers score against the level's references shuffled (0: a guess). Lone-success share: of the "
        "batch's absolute advantage, the share carried by groups with exactly one success, mean over steps:"
    )
    return [(title, (head, rows))]


def lucky_tables(per_arm: dict[str, Runs], reference: str, short: list[int], long: list[int], budget: float) -> list[Table]:
    """The study's tables (module docstring); none unless both `short` and `long` levels are given."""
    if not short or not long:
        return []
    return [
        *_probe_table(per_arm, reference),
        *_short_table(per_arm, reference, short, budget),
        *_long_table(per_arm, reference, long),
    ]
