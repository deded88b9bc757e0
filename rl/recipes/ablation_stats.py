"""What `curriculum ablate` reports: one run's summary, and per pool the arms' tables and plots.

A run's summary (`summary.json` in its folder) holds its accuracy curve (held-out accuracy, mean over levels,
against generated completions, the start included), the accuracy per level at every evaluation, and the
run's sampling figures. Per pool, every column is a mean over seeds with its 95% t-interval (rl/recipes/stats.py):

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

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .lucky_stats import lucky_tables
from .stats import Interval, area_under, band_drift, curve_band, forgetting, mean_ci, paired_ci, reach


def _levels(d: dict) -> dict[str, float]:
    return {str(k): float(v) for k, v in sorted(d.items(), key=lambda kv: int(kv[0]))}


def summarise_run(result: dict[str, Any], out: Path, budget: float | None = None) -> dict[str, Any]:
    """The figures of one finished run (`rl.recipes.train.run`'s result and its metrics.jsonl); the area under the curve
    spans [0, budget] when a budget is given."""
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if x.strip()]
    evals = [r for r in rows if "eval/accuracy" in r and "rollouts" in r]
    curve = [(float(r["rollouts"]), float(r["eval/accuracy"])) for r in evals]
    level_curve = [
        {k.rsplit("_", 1)[1]: float(v) for k, v in r.items() if k.startswith("eval/accuracy_level_")} for r in evals
    ]
    family_curve = [
        {
            fam: {k.rsplit("_", 1)[1]: float(v) for k, v in r.items() if k.startswith(f"eval/{fam}/accuracy_level_")}
            for fam in sorted({k.split("/")[1] for k in r if k.count("/") == 2})
        }
        for r in evals
    ]
    start, final = _levels(result["before"]), _levels(result["after"])
    lone, lone_after = ([
        r[f"advantage/lone_success_share_{when}"]
        for r in rows
        if isinstance(r.get(f"advantage/lone_success_share_{when}"), float)
        and not math.isnan(r[f"advantage/lone_success_share_{when}"])
    ] for when in ("before", "after"))  # fmt: skip
    cov = result.get("coverage") or {}
    return {
        "start": start, "final": final,
        "start_mean": float(np.mean(list(start.values()))), "final_mean": float(np.mean(list(final.values()))),
        "curve": curve, "level_curve": level_curve, "auc": area_under(curve, budget), "forgetting": forgetting(level_curve),
        "informative": result["curriculum"]["informative_ratio_total"],
        "never_solved": result.get("never_solved_share", math.nan),
        "lone_success_share": float(np.mean(lone)) if lone else math.nan,
        "lone_success_share_after": float(np.mean(lone_after)) if lone_after else math.nan,
        "family_curve": family_curve, "shortcut": _shortcut(result.get("shortcut")),
        "pool_drawn": cov.get("pool_drawn", math.nan), "top10_share": cov.get("top10_share", math.nan),
        "completions": result.get("generated_rollouts", result["rollouts"]), "wall_s": result["wall_s"],
        "pool_start": result.get("pool_start"), "eval_metric": result.get("eval_metric", "accuracy"),
        "eval_prompts": result.get("eval_prompts", {}),
        "family_start": _family_means(result.get("before_by_family")),
        "family_final": _family_means(result.get("after_by_family")),
        "mode_share": (result.get("mode_share") or {}).get("after"),
        "mode_share_start": (result.get("mode_share") or {}).get("before"),
        "reference_mode_share": (result.get("mode_share") or {}).get("reference"),
        "band_prompts": (result.get("pool_band") or {}).get("prompts"), "drift": _drift(result, out),
        **_feature_cost(result),
        **_calibration(out / "calibration.npz"),
    }  # fmt: skip


def _feature_cost(result: dict[str, Any]) -> dict[str, float]:
    """Seconds the curriculum's features took (built once, or the policy's forward passes) and the training's."""
    cost = result.get("feature_cost") or {}
    seconds = float(cost.get("build_s", 0.0)) + float(cost.get("forward_s", 0.0))
    return {"feature_s": seconds, "train_s": float(result.get("train_s", math.nan))}


def _calibration(path: Path) -> dict[str, float]:
    """Bias (predicted - observed) and Brier score of the predictions made before each group was seen, over the
    run, for first visits and revisits (NaN where there were none or the run did not record it)."""
    out = {f"{k}_{part}": math.nan for k in ("calibration_bias", "brier") for part in ("first", "revisit")}
    if not path.exists():
        return out
    with np.load(path) as data:
        if "first_visit" not in data.files:
            return out
        diff, first = data["predicted"].astype(np.float64) - data["observed"], data["first_visit"].astype(bool)
    for part, rows in (("first", first), ("revisit", ~first)):
        if rows.any():
            out[f"calibration_bias_{part}"] = float(diff[rows].mean())
            out[f"brier_{part}"] = float((diff[rows] ** 2).mean())
    return out


def _drift(result: dict[str, Any], out: Path) -> dict[str, float] | None:
    """The band-drift figures, recomputed from the run's drift.npz when it has one."""
    path = out / "drift.npz"
    if not path.exists():
        return result.get("drift")
    with np.load(path) as data:
        steps, rates = data["step"].tolist(), list(data["rate"])
    gaps = np.diff(sorted(set(steps)))
    return band_drift(steps, rates, int(gaps.min()) if gaps.size else 0)


def _shortcut(shortcut: dict | None) -> dict | None:
    """The run's shortcut measures ({when: {measure: {family: {level: value}}}}) with str level keys, whether the result
    came from the run (int keys) or from its eval.json."""
    if not shortcut:
        return None
    return {
        when: {key: {fam: _levels(by_level) for fam, by_level in fams.items()} for key, fams in measures.items()}
        for when, measures in shortcut.items()
    }


def _family_means(by_family: dict | None) -> dict[str, float] | None:
    """{family: accuracy, mean over its levels}."""
    if not by_family:
        return None
    return {fam: float(np.mean(list(acc.values()))) for fam, acc in sorted(by_family.items())}


# ---- the tables ------------------------------------------------------------------------------------------
def _col(runs: dict[int, dict], key: str) -> Interval:
    return mean_ci([r[key] for r in runs.values() if isinstance(r.get(key), int | float)])


def _reach_cells(runs: dict[int, dict], ref: dict[int, dict]) -> tuple[str, str]:
    """Completions to reach the reference arm's final accuracy (seed by seed), absolute and as a share of the
    reference arm's own; over the seeds that got there, with "k/n not reached" when some did not."""
    seeds = sorted(set(runs) & set(ref))
    if not seeds:
        return "-", "-"
    absolute, share = [], []
    for s in seeds:
        target = ref[s]["final_mean"]
        mine, theirs = reach(runs[s]["curve"], target), reach(ref[s]["curve"], target)
        absolute.append(mine)
        share.append(mine / theirs if theirs > 0 else math.nan)
    missed = sum(math.isnan(x) for x in absolute)
    if missed == len(seeds):
        return f"not reached ({missed}/{missed})", f"not reached ({missed}/{missed})"
    note = f" ({missed}/{len(seeds)} not reached)" if missed else ""
    return mean_ci(absolute).format(0) + note, mean_ci(share).format(2) + note


def _delta(runs: dict[int, dict], ref: dict[int, dict], key: str) -> str:
    ci = paired_ci({s: r[key] for s, r in runs.items()}, {s: r[key] for s, r in ref.items()})
    pairs = f" ({ci.n} pairs)" if ci.n < max(len(runs), len(ref)) else ""
    return ci.format(3, signed=True) + (" *" if ci.significant else "") + pairs


def _below(runs: dict[int, dict], ref: dict[int, dict], budget: float, points: int = 9) -> str:
    """At how many of `points` evenly spaced completion counts (up to the budget) the arm's accuracy is below the
    reference arm's by more than the interval of the paired difference."""
    seeds = sorted(set(runs) & set(ref))
    if len(seeds) < 2:
        return "-"
    grid = np.linspace(budget / points, budget, points)
    diffs = np.asarray([_on(grid, runs[s]["curve"]) - _on(grid, ref[s]["curve"]) for s in seeds])  # (S, P)
    below = sum(mean_ci(diffs[:, j].tolist()).high < 0 for j in range(points))
    return f"{below}/{points}"


def pool_header(pool: str, per_arm: dict[str, dict[int, dict]], reference: str, budget: int) -> str:
    any_run = next(iter(next(iter(per_arm.values())).values()))
    probes = [r["pool_start"] for r in per_arm.get(reference, {}).values() if r.get("pool_start")]
    seeds = sorted({s for runs in per_arm.values() for s in runs})
    line = f"**Pool `{pool}`**"
    if probes:
        solved, beyond = mean_ci([p["solved"] for p in probes]), mean_ci([p["beyond"] for p in probes])
        line += (
            f": {probes[0]['prompts']} prompts; the warm model solves {solved.format(2)} of them (greedy) and "
            f"{beyond.format(2)} are beyond it (greedy wrong, no success in 4 samples)"
        )
    return (
        f"{line}. {len(seeds)} seed(s), {budget:,} generated completions per run; held-out "
        f"{any_run['eval_metric']}, mean over levels; mean ± 95% t-interval over seeds; Δ: paired difference "
        f"to `{reference}` (* : the interval excludes 0)."
    )


def pool_table(
    pool: str,
    per_arm: dict[str, dict[int, dict]],
    reference: str,
    budget: int,
    compare: tuple[str, ...] = (),
    ceiling: str | None = None,
    reach_target: float | None = None,
    lengths: tuple[list[int], list[int]] = ([], []),
) -> tuple[str, list[list]]:
    """Markdown (main table, the paired comparisons with `compare` arms, then accuracy per level) and CSV rows for
    one pool; every column but the wall time is a mean with its 95% t-interval over seeds."""
    ref = per_arm[reference]
    head = [
        "arm",
        "seeds",
        "final accuracy",
        "gain over start",
        f"Δ final vs {reference}",
        f"Δ AUC vs {reference}",
        f"completions to {reference}'s final",
        f"share of {reference}'s",
        f"evaluations below {reference}",
        "AUC",
        "forgetting",
        "informative",
        "rollouts on never-solved",
        "pool drawn",
        "draws on top 10%",
        "wall s",
    ]
    body = []
    for arm, runs in per_arm.items():
        gains = mean_ci([r["final_mean"] - r["start_mean"] for r in runs.values()])
        reach_abs, reach_share = _reach_cells(runs, ref)
        body.append(
            [
                arm,
                str(len(runs)),
                _col(runs, "final_mean").format(),
                gains.format(3, signed=True) + (" *" if gains.significant else ""),
                "-" if arm == reference else _delta(runs, ref, "final_mean"),
                "-" if arm == reference else _delta(runs, ref, "auc"),
                reach_abs,
                reach_share,
                "-" if arm == reference else _below(runs, ref, budget),
                _col(runs, "auc").format(),
                _col(runs, "forgetting").format(),
                _col(runs, "informative").format(2),
                _col(runs, "never_solved").format(2),
                _col(runs, "pool_drawn").format(2),
                _col(runs, "top10_share").format(2),
                f"{_col(runs, 'wall_s').mean:.0f}",
            ]
        )
    levels = sorted({k for runs in per_arm.values() for r in runs.values() for k in r["final"]}, key=int)
    start_runs = ref.values()
    level_head = ["arm", *[f"L{k}" for k in levels]]
    level_rows = [
        ["start (warm model)", *[mean_ci([r["start"].get(k, math.nan) for r in start_runs]).format() for k in levels]]
    ]
    level_rows += [
        [arm, *[mean_ci([r["final"].get(k, math.nan) for r in runs.values()]).format() for k in levels]]
        for arm, runs in per_arm.items()
    ]
    md = [pool_header(pool, per_arm, reference, budget), "", _markdown(head, body), ""]
    extra: list[list] = []
    for other in (c for c in compare if c in per_arm and c != reference):
        cmp_head = [
            "arm",
            f"Δ final vs {other}",
            f"Δ AUC vs {other}",
            f"completions to {other}'s final",
            f"share of {other}'s",
        ]
        cmp_rows = [
            [
                arm,
                _delta(runs, per_arm[other], "final_mean"),
                _delta(runs, per_arm[other], "auc"),
                *_reach_cells(runs, per_arm[other]),
            ]
            for arm, runs in per_arm.items()
            if arm != other
        ]
        md += [f"Paired with `{other}` (same seeds):", "", _markdown(cmp_head, cmp_rows), ""]
        extra += [[], cmp_head, *cmp_rows]
    for title, (table_head, table_rows) in [
        *_ceiling_table(per_arm, reference, ceiling, reach_target),
        *_calibration_table(per_arm),
        *_cost_table(per_arm),
    ]:
        md += [title, "", _markdown(table_head, table_rows), ""]
        extra += [[], table_head, *table_rows]
    md += ["Final held-out accuracy per level:", "", _markdown(level_head, level_rows)]
    studies = [*_study_tables(per_arm, reference), *lucky_tables(per_arm, reference, *lengths, budget)]
    for title, (table_head, table_rows) in studies:
        md += ["", title, "", _markdown(table_head, table_rows)]
        extra += [[], table_head, *table_rows]
    return "\n".join(md), [head, *body, *extra, [], level_head, *level_rows]


def _ceiling_table(
    per_arm: dict[str, dict[int, dict]], reference: str, ceiling: str | None, reach_target: float | None
) -> list[tuple[str, tuple[list, list]]]:
    """Each arm's share of the ceiling arm's gain over the reference (mean paired differences), and its share of the
    reference's completions to reach the reference's final accuracy against the target."""
    if ceiling not in per_arm or reference not in per_arm:
        return []
    ref = per_arm[reference]

    def gain(runs: dict[int, dict], key: str) -> Interval:
        return paired_ci({s: r[key] for s, r in runs.items()}, {s: r[key] for s, r in ref.items()})

    top = {key: gain(per_arm[ceiling], key) for key in ("final_mean", "auc")}
    head = ["arm", f"Δ final vs {reference}", f"share of {ceiling}'s Δ final", f"share of {ceiling}'s Δ AUC",
            f"share of {reference}'s completions to its final"]  # fmt: skip
    if reach_target is not None:
        head.append("target")
    rows = []
    for arm, runs in per_arm.items():
        if arm == reference:
            continue
        # a share of a gain the ceiling does not measurably make is no figure: "-"
        shares = [
            gain(runs, key).mean / top[key].mean if top[key].significant else math.nan for key in ("final_mean", "auc")
        ]
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


def _cost_table(per_arm: dict[str, dict[int, dict]]) -> list[tuple[str, tuple[list, list]]]:
    """Per arm that uses features: the seconds they took and their share of the training's time."""
    used = {arm: runs for arm, runs in per_arm.items() if any(r.get("feature_s", 0.0) > 1e-3 for r in runs.values())}
    if not used:
        return []
    head = ["arm", "feature seconds a run", "training seconds a run", "features' share of training"]
    rows = []
    for arm, runs in used.items():
        share = {seed: {"x": r["feature_s"] / r["train_s"]} for seed, r in runs.items() if r.get("train_s", 0) > 0}
        rows.append([arm, _col(runs, "feature_s").format(2), _col(runs, "train_s").format(0), _col(share, "x").format(3)])
    title = "What the features cost (a table computed once, or the policy's forward passes over the prompts asked about):"
    return [(title, (head, rows))]


def _calibration_table(per_arm: dict[str, dict[int, dict]]) -> list[tuple[str, tuple[list, list]]]:
    """Per arm: bias and Brier score of the pass rates predicted before each group was seen, first visits and
    revisits apart."""
    keys = ["calibration_bias_first", "brier_first", "calibration_bias_revisit", "brier_revisit"]
    if not any(
        isinstance(r.get(keys[1]), float) and not math.isnan(r[keys[1]]) for x in per_arm.values() for r in x.values()
    ):
        return []
    head = ["arm", "first visits: bias", "first visits: Brier", "revisits: bias", "revisits: Brier"]
    rows = [[arm, *[_col(runs, k).format(3) for k in keys]] for arm, runs in per_arm.items()]
    title = (
        "The curriculum's predictions, judged before each group was seen: bias (predicted - observed pass rate of the "
        "group) and Brier score (mean squared difference):"
    )
    return [(title, (head, rows))]


def _study_tables(per_arm: dict[str, dict[int, dict]], reference: str) -> list[tuple[str, tuple[list, list]]]:
    """The tables of the evidence studies, when the runs carry their figures: per family (with the answer-mode
    share, the shortcut measure), the pool band's size, the drift of the medium band."""
    runs_all = [r for runs in per_arm.values() for r in runs.values()]
    tables = []
    families = sorted({f for r in runs_all for f in (r.get("family_final") or {})})
    if len(families) > 1:
        head = ["arm", *[f"{f}: final (change)" for f in families], *[f"{f}: answer mode share" for f in families]]
        rows = []
        for arm, runs in per_arm.items():
            fin = [
                mean_ci([r["family_final"][f] for r in runs.values() if f in (r.get("family_final") or {})])
                for f in families
            ]
            chg = [
                mean_ci(
                    [
                        r["family_final"][f] - r["family_start"][f]
                        for r in runs.values()
                        if f in (r.get("family_final") or {}) and f in (r.get("family_start") or {})
                    ]
                )
                for f in families
            ]
            mode = [
                mean_ci([r["mode_share"][f] for r in runs.values() if (r.get("mode_share") or {}).get(f) is not None])
                for f in families
            ]
            rows.append(
                [
                    arm,
                    *[
                        f"{a.format()} ({c.format(3, signed=True)}{' *' if c.significant else ''})"
                        for a, c in zip(fin, chg, strict=True)
                    ],
                    *[m.format(2) for m in mode],
                ]
            )

        def shares(key: str, runs: list[dict]) -> list[str]:
            return [mean_ci([r[key][f] for r in runs if (r.get(key) or {}).get(f) is not None]).format(2) for f in families]

        ref_runs = list(per_arm[reference].values())
        start = [
            mean_ci([r["family_start"][f] for r in ref_runs if (r.get("family_start") or {}).get(f) is not None])
            for f in families
        ]
        rows.insert(0, ["start (warm model)", *[a.format() for a in start], *shares("mode_share_start", ref_runs)])
        rows.append(["(references)", *["-" for _ in families], *shares("reference_mode_share", runs_all)])
        tables.append(
            (
                "Per family: final held-out accuracy (mean over levels) and its change from the start; the "
                "share of completions giving the family's most frequent answer (1.00: the same answer "
                "whatever the input), against that share among the references:",
                (head, rows),
            )
        )
    if any(r.get("band_prompts") for r in runs_all):
        rows = [[arm, _col(runs, "band_prompts").format(0)] for arm, runs in per_arm.items()]
        tables.append(
            (
                "Training prompts (the pool's prompts in the arm's band of the warm model's pass rate):",
                (["arm", "prompts"], rows),
            )
        )
    if any(r.get("drift") for r in runs_all):
        keys = [
            "overlap_noise",
            "overlap_step",
            "stale_noise",
            "static_stale",
            "band_start",
            "band_end",
            "rate_start",
            "rate_end",
        ]
        head = [
            "arm",
            "band overlap, same model twice (noise floor)",
            "band overlap, 50 steps apart",
            "start band out of band when probed again at once (noise)",
            "start band out of band at the end",
            "in band at start",
            "in band at end",
            "mean pass rate at start",
            "mean pass rate at end",
        ]
        rows = [
            [
                arm,
                *[
                    mean_ci(
                        [
                            r["drift"][k]
                            for r in runs.values()
                            if r.get("drift") and not math.isnan(r["drift"].get(k, math.nan))
                        ]
                    ).format(2)
                    for k in keys
                ],
            ]
            for arm, runs in per_arm.items()
        ]
        tables.append(
            (
                "Drift of the medium band (pass rate in [0.25, 0.75], 16 samples, a fixed sample of the pool "
                "probed every 50 steps; overlap: Jaccard):",
                (head, rows),
            )
        )
    return tables


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


def plot_curves(per_arm: dict[str, dict[int, dict]], path: Path, title: str, reference: str | None = None) -> None:
    """Left: held-out accuracy (mean over levels) against generated completions, mean over seeds with a 95% band.
    Right (with a reference arm): each arm minus the reference, seed by seed, with its 95% band."""
    paired = reference in per_arm and len(per_arm) > 1
    plt, fig, (ax, *rest) = _figure(2 if paired else 1, 12.0 if paired else 6.8)
    end = max(max(c[0] for c in r["curve"]) for runs in per_arm.values() for r in runs.values() if r["curve"])
    grid = np.linspace(0, end, 40)
    for i, (arm, runs) in enumerate(per_arm.items()):
        colour = f"C{i}"
        mean, half = curve_band([r["curve"] for r in runs.values()], grid)
        ax.plot(grid, mean, color=colour, label=f"{arm} ({len(runs)} seeds)")
        if not np.isnan(half).all():
            ax.fill_between(grid, mean - half, mean + half, color=colour, alpha=0.12)
        if paired and arm != reference:
            ref = per_arm[reference]
            seeds = sorted(set(runs) & set(ref))
            diffs = [
                [(x, a - b) for x, a, b in zip(grid, _on(grid, runs[s]["curve"]), _on(grid, ref[s]["curve"]), strict=True)]
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


def _on(grid: np.ndarray, curve: list) -> np.ndarray:
    x, y = zip(*sorted(curve), strict=True)
    return np.interp(grid, x, y)


def plot_levels(per_arm: dict[str, dict[int, dict]], path: Path, title: str) -> None:
    """Final accuracy per level and arm (95% error bars), with the warm model's start."""
    plt, fig, (ax,) = _figure()
    levels = sorted({k for runs in per_arm.values() for r in runs.values() for k in r["final"]}, key=int)
    width = 0.8 / max(len(per_arm), 1)
    x = np.arange(len(levels))
    for i, (arm, runs) in enumerate(per_arm.items()):
        cis = [mean_ci([r["final"].get(k, math.nan) for r in runs.values()]) for k in levels]
        half = [0.0 if math.isnan(c.half) else c.half for c in cis]
        ax.bar(x + i * width, [c.mean for c in cis], width, yerr=half, label=arm, capsize=2)
    start = [mean_ci([r["start"].get(k, math.nan) for runs in per_arm.values() for r in runs.values()]).mean for k in levels]
    centre = x + 0.4 - width / 2
    ax.scatter(centre, start, marker="_", s=500, c="k", label="start (warm model)", zorder=3)
    ax.set_xticks(centre, [f"level {k}" for k in levels])
    ax.set_ylabel("held-out accuracy at the end")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
