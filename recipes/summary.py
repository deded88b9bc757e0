"""`RunSummary`: the figures of one finished run that `curriculum ablate` compares, as a type. Made from the run's
result (what eval.json holds) and its files (metrics.jsonl, calibration.npz, drift.npz); saved as summary.json.

    summary = RunSummary.from_run(result, Path(cfg.output_dir), budget=cfg.budget_rollouts)
    summary.final_mean, summary.curve          # held-out accuracy at the end; [(completions, accuracy), ...]
    RunSummary.from_json(json.loads(path.read_text()))

Level keys are strings throughout (as JSON has them), whether the result came from a fresh run or from eval.json.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .stats import area_under, band_drift, forgetting

NAN = math.nan


@dataclass
class RunSummary:
    """Every figure has a default (NaN, None or empty), so a summary.json written before a figure existed still
    loads; `curriculum ablate`'s replot then recomputes it from the run's files."""

    start: dict[str, float] = field(default_factory=dict)
    """{level: held-out accuracy of the warm model}."""
    final: dict[str, float] = field(default_factory=dict)
    """{level: held-out accuracy at the end}."""
    start_mean: float = NAN
    final_mean: float = NAN
    """Mean over levels (each level weighs the same)."""
    curve: list[tuple[float, float]] = field(default_factory=list)
    """(generated completions, held-out accuracy mean over levels) at every evaluation, the start included."""
    level_curve: list[dict[str, float]] = field(default_factory=list)
    """{level: accuracy} at every evaluation."""
    auc: float = NAN
    """Mean accuracy along `curve` up to the budget (trapezoid area / span: recipes.stats.area_under)."""
    forgetting: float = NAN
    """The largest drop of any level below its start, at any evaluation."""
    informative: float = NAN
    """Share of groups with 0 < successes < G."""
    never_solved: float = NAN
    """Share of rollouts spent on prompts never solved in the run."""
    lone_success_share: float = NAN
    lone_success_share_after: float = NAN
    """Share of the batch's |advantage| carried by groups with exactly one success, before and after damping."""
    family_curve: list[dict[str, dict[str, float]]] = field(default_factory=list)
    """{family: {level: accuracy}} at every evaluation."""
    shortcut: dict | None = None
    """{before|after: {mode_share|chance|accuracy: {family: {level: value}}}}."""
    pool_drawn: float = NAN
    top10_share: float = NAN
    """Share of the pool drawn at least once; share of the draws on the 10% most-drawn prompts."""
    draws_by_level: dict[str, float] = field(default_factory=dict)
    """{level: share of the run's draws} (labelled pools)."""
    completions: float = NAN
    """Every completion generated (dynamic sampling's discarded groups included)."""
    wall_s: float = NAN
    pool_start: dict | None = None
    """The warm model on the pool (`recipes.evaluate.probe_pool`), in the reference arm."""
    eval_metric: str = "accuracy"
    eval_prompts: dict = field(default_factory=dict)
    family_start: dict[str, float] | None = None
    family_final: dict[str, float] | None = None
    """{family: accuracy, mean over its levels}."""
    mode_share: dict[str, float] | None = None
    mode_share_start: dict[str, float] | None = None
    reference_mode_share: dict[str, float] | None = None
    """{family: share of completions (references) giving the family's most frequent answer}."""
    band_prompts: int | None = None
    """Training prompts in the pool band (pool_band runs)."""
    drift: dict[str, float] | None = None
    """recipes.stats.band_drift of the run's drift probes."""
    feature_s: float = NAN
    train_s: float = NAN
    """Seconds the curriculum's features took; seconds of training."""
    calibration_bias_first: float = NAN
    calibration_bias_revisit: float = NAN
    brier_first: float = NAN
    brier_revisit: float = NAN
    """Bias and Brier score of the pass rates predicted before each group was seen, first visits and revisits."""
    pool: str = ""
    arm: str = ""
    seed: int = 0
    config_digest: str = ""
    """Which run of which study this is (`curriculum ablate` sets them)."""
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    """Keys of a summary.json this version does not know, kept as they were."""

    @classmethod
    def from_run(cls, result: dict[str, Any], out: Path, budget: float | None = None) -> RunSummary:
        """From `recipes.train.run`'s result and the run's folder; the area under the curve spans [0, budget]
        when a budget is given."""
        rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if x.strip()]
        evals = [r for r in rows if "eval/accuracy" in r and "rollouts" in r]
        curve = [(float(r["rollouts"]), float(r["eval/accuracy"])) for r in evals]
        level_curve = [_prefixed(r, "eval/accuracy_level_") for r in evals]
        start, final = _levels(result["before"]), _levels(result["after"])
        cov, modes = result.get("coverage") or {}, result.get("mode_share") or {}
        return cls(
            start=start,
            final=final,
            start_mean=float(np.mean(list(start.values()))),
            final_mean=float(np.mean(list(final.values()))),
            curve=curve,
            level_curve=level_curve,
            auc=area_under(curve, budget),
            forgetting=forgetting(level_curve),
            informative=result["curriculum"]["informative_ratio_total"],
            never_solved=result.get("never_solved_share", NAN),
            lone_success_share=_mean_logged(rows, "advantage/lone_success_share_before"),
            lone_success_share_after=_mean_logged(rows, "advantage/lone_success_share_after"),
            family_curve=[_family_point(r) for r in evals],
            shortcut=_shortcut(result.get("shortcut")),
            pool_drawn=cov.get("pool_drawn", NAN),
            top10_share=cov.get("top10_share", NAN),
            draws_by_level=dict(result.get("draws_by_level") or {}),
            completions=result.get("generated_rollouts", result["rollouts"]),
            wall_s=result["wall_s"],
            pool_start=result.get("pool_start"),
            eval_metric=result.get("eval_metric", "accuracy"),
            eval_prompts=result.get("eval_prompts", {}),
            family_start=_family_means(result.get("before_by_family")),
            family_final=_family_means(result.get("after_by_family")),
            mode_share=modes.get("after"),
            mode_share_start=modes.get("before"),
            reference_mode_share=modes.get("reference"),
            band_prompts=(result.get("pool_band") or {}).get("prompts"),
            drift=_drift(result, out),
            **_costs(result),
            **_calibration(out / "calibration.npz"),
        )

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        return {k: v for k, v in d.items() if k != "extra"} | d["extra"]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunSummary:
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in d.items() if k in known}, extra={k: v for k, v in d.items() if k not in known})


Runs = dict[int, RunSummary]
"""{seed: summary}: one arm's runs on one pool."""


def _levels(d: dict) -> dict[str, float]:
    return {str(k): float(v) for k, v in sorted(d.items(), key=lambda kv: int(kv[0]))}


def _prefixed(row: dict[str, Any], prefix: str) -> dict[str, float]:
    """{level: value} of a metrics row's keys `<prefix><level>`."""
    return {k.rsplit("_", 1)[1]: float(v) for k, v in row.items() if k.startswith(prefix)}


def _family_point(row: dict[str, Any]) -> dict[str, dict[str, float]]:
    """{family: {level: accuracy}} of one evaluation row (its `eval/<family>/accuracy_level_<k>` keys)."""
    families = sorted({k.split("/")[1] for k in row if k.count("/") == 2})
    return {fam: _prefixed(row, f"eval/{fam}/accuracy_level_") for fam in families}


def _mean_logged(rows: list[dict[str, Any]], key: str) -> float:
    """Mean of a logged figure over the rows holding a number for it (NaN: none)."""
    values = [r[key] for r in rows if isinstance(r.get(key), float) and not math.isnan(r[key])]
    return float(np.mean(values)) if values else NAN


def _costs(result: dict[str, Any]) -> dict[str, float]:
    """Seconds the curriculum's features took (built once, or the policy's forward passes) and the training's."""
    cost = result.get("feature_cost") or {}
    seconds = float(cost.get("build_s", 0.0)) + float(cost.get("forward_s", 0.0))
    return {"feature_s": seconds, "train_s": float(result.get("train_s", NAN))}


def _calibration(path: Path) -> dict[str, float]:
    """Bias (predicted - observed) and Brier score of the predictions made before each group was seen, over the
    run, for first visits and revisits (NaN where there were none or the run did not record it)."""
    out = {f"{k}_{part}": NAN for k in ("calibration_bias", "brier") for part in ("first", "revisit")}
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
    """The run's shortcut measures ({when: {measure: {family: {level: value}}}}) with str level keys."""
    if not shortcut:
        return None
    return {
        when: {key: {fam: _levels(by_level) for fam, by_level in fams.items()} for key, fams in measures.items()}
        for when, measures in shortcut.items()
    }


def _family_means(by_family: dict | None) -> dict[str, float] | None:
    if not by_family:
        return None
    return {fam: float(np.mean(list(acc.values()))) for fam, acc in sorted(by_family.items())}
