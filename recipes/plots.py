"""Plots of a training run, from its `metrics.jsonl` (and `calibration.npz`), as PNG files.

    python -m recipes.plots runs/default          # re-draw the plots of a finished run

- `band.png`: the ability over training (its rise in the title), the difficulties at pass rate 0.2-0.8 now, and
  the mean difficulty level of the prompts drawn;
- `calibration.png`: predicted (before the group was seen) vs observed pass rate of every group, binned, first
  visits and revisits apart, and the bias over the run;
- `informative.png`: share of informative groups (0 < successes < G) per step;
- `accuracy_by_level.png`: held-out accuracy per difficulty level over training.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def read_metrics(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def series(rows: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    pts = [(r["step"], r[key]) for r in rows if key in r and r[key] is not None and "step" in r]
    if not pts:
        return np.zeros(0), np.zeros(0)
    x, y = zip(*pts, strict=True)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    return plt, fig, ax


def plot_band(rows: list[dict], out: Path) -> Path | None:
    x, ability = series(rows, "curriculum/ability")
    if x.size == 0:
        return None
    plt, fig, ax = _figure()
    xl, low = series(rows, "curriculum/band_low")
    xh, high = series(rows, "curriculum/band_high")
    if xl.size and xl.size == xh.size:
        ax.fill_between(xl, low, high, alpha=0.25, label="difficulty (logits) at which the pass rate is 0.2-0.8 now")
    ax.plot(x, ability, label="ability (theta)")
    ax.set_xlabel("step")
    ax.set_ylabel("logits")
    xm, level = series(rows, "curriculum/mean_level")
    if xm.size:
        twin = ax.twinx()
        k = max(1, min(10, level.size // 10))
        smooth = np.convolve(level, np.ones(k) / k, mode="valid")
        twin.plot(xm[k - 1 :], smooth, color="tab:red", alpha=0.7, label=f"mean level drawn ({k}-step mean)")
        twin.set_ylabel("mean difficulty level drawn", color="tab:red")
    ax.legend(loc="upper left", fontsize=8)
    third = max(ability.size // 3, 1)
    first, last = float(ability[:third].mean()), float(ability[-third:].mean())
    ax.set_title(f"Ability, mean of the first third {first:+.2f} -> of the last third {last:+.2f} logits", fontsize=10)
    return _save(plt, fig, out / "band.png")


def calibration_bins(pred: np.ndarray, obs: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean predicted, mean observed, groups) per equal-width bin of the prediction, empty bins left out."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(pred, edges) - 1, 0, bins - 1)
    return [
        (float(pred[which == b].mean()), float(obs[which == b].mean()), int((which == b).sum()))
        for b in range(bins)
        if (which == b).any()
    ]


def load_calibration(calib: Path) -> dict[str, np.ndarray] | None:
    """calibration.npz as arrays, or None when empty. Runs that did not record `first_visit` get no split of first
    visits and revisits (both masks all False)."""
    if not calib.exists():
        return None
    with np.load(calib) as data:
        out = {k: data[k] for k in data.files}
    if out["predicted"].size == 0:
        return None
    recorded = "first_visit" in out
    out["first_visit"] = out["first_visit"].astype(bool) if recorded else np.zeros(out["predicted"].size, dtype=bool)
    out["revisit"] = ~out["first_visit"] if recorded else np.zeros(out["predicted"].size, dtype=bool)
    return out


def calibration_by_third(data: dict[str, np.ndarray]) -> list[dict[str, float]]:
    """Per third of the run's steps: groups, bias (predicted - observed) and Brier score, over all groups, first
    visits and revisits (NaN where none)."""
    steps, diff = data["step"], data["predicted"] - data["observed"]
    edges = np.linspace(steps.min(), steps.max() + 1, 4)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        rows = (steps >= lo) & (steps < hi)
        part: dict[str, float] = {"from": float(lo), "to": float(hi - 1)}
        for name, keep in (("all", rows), ("first", rows & data["first_visit"]), ("revisit", rows & data["revisit"])):
            d = diff[keep]
            part[f"{name}_groups"] = float(d.size)
            part[f"{name}_bias"] = float(d.mean()) if d.size else float("nan")
            part[f"{name}_brier"] = float((d**2).mean()) if d.size else float("nan")
        out.append(part)
    return out


def calibration_summary(calib: Path, bins: int = 4) -> str | None:
    """What calibration.png shows, as text: binned predicted -> observed group pass rate, then bias and Brier score
    per third of the run, first visits and revisits apart."""
    data = load_calibration(calib)
    if data is None:
        return None
    parts = [f"{p:.2f} -> {o:.2f} ({n})" for p, o, n in calibration_bins(data["predicted"], data["observed"], bins)]
    lines = [
        "calibration, predicted (before the group was seen) -> observed pass rate, binned (groups): " + ", ".join(parts)
    ]
    lines.append("| steps | groups | bias | Brier | first visits: groups, bias, Brier | revisits: groups, bias, Brier |")
    lines.append("|---|---|---|---|---|---|")
    for t in calibration_by_third(data):
        cells = [
            f"{t['from']:.0f}-{t['to']:.0f}",
            f"{t['all_groups']:.0f}",
            f"{t['all_bias']:+.3f}",
            f"{t['all_brier']:.3f}",
        ]
        for name in ("first", "revisit"):
            if t[f"{name}_groups"]:
                cells.append(f"{t[f'{name}_groups']:.0f}, {t[f'{name}_bias']:+.3f}, {t[f'{name}_brier']:.3f}")
            else:
                cells.append("-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_calibration(calib: Path, out: Path, bins: int = 10) -> Path | None:
    """Left: predicted vs observed pass rate, binned, first visits and revisits apart. Right: the bias over the run."""
    data = load_calibration(calib)
    if data is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, right) = plt.subplots(1, 2, figsize=(11.0, 4.0), dpi=110)
    pred, obs, steps = data["predicted"], data["observed"], data["step"]
    first, revisit = data["first_visit"], data["revisit"]
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    parts = (("first visits", first, "C1"), ("revisits", revisit, "C0"))
    if not (first | revisit).any():  # a run that did not record first visits
        parts = (("groups", np.ones(pred.size, dtype=bool), "C0"),)
    for name, keep, colour in parts:
        if keep.any():
            centres, means, counts = (list(c) for c in zip(*calibration_bins(pred[keep], obs[keep], bins), strict=True))
            size = 12 + 60 * np.sqrt(np.asarray(counts) / max(counts))
            ax.scatter(centres, means, s=size, color=colour, label=f"{name} ({int(keep.sum())} groups)")
    ax.set_xlabel("predicted pass rate (before the group was seen)")
    ax.set_ylabel("observed pass rate")
    ax.set_title("Predicted vs observed pass rate, binned", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    window = max(int(np.ptp(steps)) // 15, 5)
    for name, keep, colour in (("first visits", first, "C1"), ("revisits", revisit, "C0"), ("all", steps >= 0, "k")):
        x, y = _windowed_bias(steps[keep], (pred - obs)[keep], window)
        if x.size:
            right.plot(x, y, color=colour, label=name, lw=1.5 if name == "all" else 1.0)
    right.axhline(0.0, color="grey", lw=0.8)
    right.set_xlabel("step")
    right.set_ylabel(f"bias: predicted - observed ({window}-step windows)")
    right.set_title("Calibration over the run", fontsize=10)
    right.legend(fontsize=8)
    return _save(plt, fig, out / "calibration.png")


def _windowed_bias(steps: np.ndarray, diff: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of `diff` over consecutive windows of `window` steps: (window centres, means); a last window holding
    fewer than half as many steps is left out (too few groups to read)."""
    if steps.size == 0:
        return np.zeros(0), np.zeros(0)
    which = (steps - steps.min()) // window
    counts = np.bincount(which)
    spans = np.bincount(np.unique(np.stack([which, steps]), axis=1)[0])  # distinct steps in each window
    keep = (counts > 0) & (spans >= window / 2)
    means = np.bincount(which, weights=diff)[keep] / counts[keep]
    centres = steps.min() + (np.flatnonzero(keep) + 0.5) * window
    return centres.astype(float), means


def plot_informative(rows: list[dict], out: Path) -> Path | None:
    x, y = series(rows, "curriculum/informative_ratio")
    if x.size == 0:
        return None
    plt, fig, ax = _figure()
    ax.plot(x, y, alpha=0.4, label="per step")
    if y.size >= 5:
        k = max(y.size // 15, 3)
        ax.plot(x[k - 1 :], np.convolve(y, np.ones(k) / k, mode="valid"), label=f"moving mean ({k})")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("step")
    ax.set_ylabel("share of groups with 0 < successes < G")
    ax.set_title("Informative groups")
    ax.legend()
    return _save(plt, fig, out / "informative.png")


def plot_accuracy(rows: list[dict], out: Path) -> Path | None:
    keys = sorted(
        {k for r in rows for k in r if k.startswith("eval/accuracy_level_")},
        key=lambda k: int(k.rsplit("_", 1)[1]) if k.rsplit("_", 1)[1].isdigit() else k,
    )
    if not keys:
        return None
    plt, fig, ax = _figure()
    for key in keys:
        x, y = series(rows, key)
        ax.plot(x, y, marker="o", ms=3, label=f"level {key.rsplit('_', 1)[1]}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step")
    ax.set_ylabel("held-out accuracy (greedy)")
    ax.set_title("Accuracy per difficulty level")
    ax.legend(fontsize=8)
    return _save(plt, fig, out / "accuracy_by_level.png")


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_run(run_dir: str | Path) -> list[Path]:
    run_dir = Path(run_dir)
    rows = read_metrics(run_dir / "metrics.jsonl")
    made = [
        plot_band(rows, run_dir),
        plot_calibration(run_dir / "calibration.npz", run_dir),
        plot_informative(rows, run_dir),
        plot_accuracy(rows, run_dir),
    ]
    return [p for p in made if p is not None]


if __name__ == "__main__":
    for p in plot_run(sys.argv[1]):
        print(p)
