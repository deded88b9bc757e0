"""Small statistics for comparing training runs: t-intervals, paired differences, binomial intervals,
and the curve and sampling summaries the ablation tables report. numpy only.

    from recipes.stats import mean_ci, paired_ci
    mean_ci([0.61, 0.64, 0.59, 0.63, 0.60])       # Interval(mean=0.614, half=0.025, n=5)
    paired_ci({0: 0.62, 1: 0.60}, {0: 0.58, 1: 0.57})  # arm minus reference, seed by seed

Every interval is a 95% Student-t interval over seeds (`mean ± half`); "significant" means the interval
of a difference excludes zero. A binomial interval (`binomial_ci`) gives the sampling error of one
accuracy measured on n held-out prompts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)  # fmt: skip
"""97.5% quantiles of Student's t for 1..30 degrees of freedom."""
_T975_TAIL = ((30, 2.042), (40, 2.021), (60, 2.000), (120, 1.980), (math.inf, 1.960))


def t_quantile(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom (two-sided 95%)."""
    if df < 1:
        raise ValueError(f"a t-interval needs at least 2 values (df >= 1), got df={df}")
    if df <= len(_T975):
        return _T975[df - 1]
    for (d0, t0), (d1, t1) in zip(_T975_TAIL, _T975_TAIL[1:], strict=False):
        if df <= d1:  # linear in 1/df between table rows
            w = (1 / d0 - 1 / df) / (1 / d0 - (0 if math.isinf(d1) else 1 / d1))
            return t0 + w * (t1 - t0)
    return 1.960


@dataclass(frozen=True)
class Interval:
    mean: float
    half: float
    """Half-width of the 95% interval (nan with fewer than two values)."""
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half

    @property
    def high(self) -> float:
        return self.mean + self.half

    @property
    def significant(self) -> bool:
        """The interval excludes zero (for a difference: the two arms differ at the 5% level)."""
        return self.n >= 2 and not math.isnan(self.half) and (self.low > 0 or self.high < 0)

    def format(self, digits: int = 3, signed: bool = False) -> str:
        if self.n == 0 or math.isnan(self.mean):
            return "-"
        fmt = f"{{:{'+' if signed else ''}.{digits}f}}"
        if self.n < 2 or math.isnan(self.half):
            return fmt.format(self.mean)
        return f"{fmt.format(self.mean)} ± {self.half:.{digits}f}"


def signed(interval: Interval) -> str:
    """A difference as the tables print it: signed, 3 digits, "*" when its interval excludes 0."""
    return interval.format(3, signed=True) + (" *" if interval.significant else "")


def mean_ci(values: Iterable[float]) -> Interval:
    """Mean and 95% t-interval of the finite values."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return Interval(math.nan, math.nan, 0)
    if v.size == 1:
        return Interval(float(v[0]), math.nan, 1)
    return Interval(float(v.mean()), t_quantile(v.size - 1) * float(v.std(ddof=1)) / math.sqrt(v.size), int(v.size))


def paired_ci(arm: Mapping[int, float], reference: Mapping[int, float]) -> Interval:
    """`arm - reference` over the seeds both have (same seed: same warm model, pool and held-out set)."""
    seeds = sorted(set(arm) & set(reference))
    return mean_ci([arm[s] - reference[s] for s in seeds])


# ---- curves -------------------------------------------------------------------------------------------
def reach(curve: Sequence[tuple[float, float]], target: float, tol: float = 1e-9) -> float:
    """First completion count at which the linearly interpolated accuracy reaches `target` (within `tol`, so a run
    reaches its own final value whatever the float rounding); nan if never."""
    target -= tol
    pts = sorted(curve)
    if pts and pts[0][1] >= target:
        return float(pts[0][0])
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if y1 >= target > y0:
            return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))
    return math.nan


def area_under(curve: Sequence[tuple[float, float]], end: float | None = None) -> float:
    """Mean accuracy over the completions spanned (trapezoid area / span), over [first point, `end`] when `end` is
    given (the curve cut there by interpolation, so runs that overshoot a budget are compared on the same span);
    nan with fewer than two points."""
    if len(curve) < 2:
        return math.nan
    x, y = (np.asarray(v, dtype=float) for v in zip(*sorted(curve), strict=True))
    if end is not None and x[0] < end < x[-1]:
        keep = x < end
        x, y = np.append(x[keep], end), np.append(y[keep], np.interp(end, x, y))
    return float(np.trapezoid(y, x) / (x[-1] - x[0])) if x[-1] > x[0] else math.nan


def forgetting(levels_over_time: Sequence[Mapping[str, float]]) -> float:
    """The largest drop of any level below its starting accuracy, at any evaluation (0 if none fell).

    `levels_over_time`: one {level: accuracy} per evaluation, the first one the start."""
    if not levels_over_time:
        return math.nan
    start = levels_over_time[0]
    drops = [start[k] - acc[k] for acc in levels_over_time[1:] for k in acc if k in start]
    return max([0.0, *drops])


def curve_band(curves: Sequence[Sequence[tuple[float, float]]], grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and 95% t half-width across runs of accuracy interpolated on `grid` (runs with >= 2 points)."""
    ys = np.asarray([np.interp(grid, *zip(*sorted(c), strict=True)) for c in curves if len(c) >= 2])  # (R, G)
    if ys.size == 0:
        return np.full(grid.shape, np.nan), np.full(grid.shape, np.nan)
    if ys.shape[0] < 2:
        return ys[0], np.full(grid.shape, np.nan)
    return ys.mean(0), t_quantile(ys.shape[0] - 1) * ys.std(0, ddof=1) / math.sqrt(ys.shape[0])


# ---- sampling ---------------------------------------------------------------------------------------------
def coverage(draws: np.ndarray) -> dict[str, float]:
    """From draws per prompt `[N]`: `pool_drawn` (share drawn at least once) and `top10_share` (share of all
    draws that went to the 10% most-drawn prompts; 0.1 is an even spread)."""
    d = np.asarray(draws, dtype=np.float64)
    total = float(d.sum())
    if d.size == 0 or total == 0:
        return {"pool_drawn": 0.0, "top10_share": math.nan}
    top = max(1, math.ceil(0.1 * d.size))
    return {"pool_drawn": float((d > 0).mean()), "top10_share": float(np.sort(d)[-top:].sum() / total)}


def draws_by_level(draws: np.ndarray, labels: np.ndarray | None) -> dict[str, float]:
    """From draws per prompt `[N]` and each prompt's level `[N]`: {level: share of all draws} (empty without labels
    or draws); the share of the pool each level holds is what uniform draws give."""
    d = np.asarray(draws, dtype=np.float64)
    if labels is None or d.size == 0 or d.sum() == 0:
        return {}
    levels, inverse = np.unique(np.asarray(labels), return_inverse=True)
    per_level = np.bincount(inverse, weights=d, minlength=levels.size) / d.sum()  # [L]
    return {str(int(lv)): float(x) for lv, x in zip(levels, per_level, strict=True)}


MEDIUM_BAND = (0.25, 0.75)
"""The band whose drift is measured: pass rates where a group of 8 is most likely informative."""
DRIFT_SAMPLES = 16
"""Completions a prompt in each drift probe (recipes.callbacks.DriftProbe)."""


def band_drift(
    steps: Sequence[int], rates: Sequence[np.ndarray], every: int, band: tuple[float, float] = MEDIUM_BAND
) -> dict[str, float]:
    """How fast the set of in-band prompts changes, from pass-rate probes of one fixed sample of prompts.

    `steps`/`rates`: probes in order; the first two are both at step 0 (two independent probes of the same model:
    their overlap is the noise floor of this measurement). Returns: every (the probe interval given), overlap_noise
    (Jaccard overlap of the two step-0 probes' bands), overlap_step (mean Jaccard overlap between probes `every`
    steps apart), static_stale (share of the prompts in band at the start that are out of band at the last probe;
    stale_noise: the same share at the repeat probe of the start, i.e. what noise alone moves out),
    band_start/band_end (share of the sample in band), rate_start/rate_end (mean pass rate)."""
    inside = [(r >= band[0]) & (r <= band[1]) for r in rates]

    def jaccard(a: np.ndarray, b: np.ndarray) -> float:
        union = np.count_nonzero(a | b)
        return float(np.count_nonzero(a & b) / union) if union else math.nan

    out = {
        "every": float(every),
        "band_start": float(inside[0].mean()),
        "band_end": float(inside[-1].mean()),
        "rate_start": float(np.mean(rates[0])),
        "rate_end": float(np.mean(rates[-1])),
    }
    out["overlap_noise"] = jaccard(inside[0], inside[1]) if len(rates) > 1 and steps[1] == steps[0] else math.nan
    later = list(range(1, len(rates))) if len(rates) > 1 and steps[1] == steps[0] else list(range(len(rates)))
    pairs = [(i, j) for i, j in zip(later, later[1:], strict=False) if steps[j] - steps[i] == every]
    out["overlap_step"] = float(np.mean([jaccard(inside[i], inside[j]) for i, j in pairs])) if pairs else math.nan
    start = inside[0]
    out["static_stale"] = float(np.mean(~inside[-1][start])) if start.any() and len(rates) > 2 else math.nan
    repeat = len(rates) > 1 and steps[1] == steps[0] and start.any()
    out["stale_noise"] = float(np.mean(~inside[1][start])) if repeat else math.nan
    return out
