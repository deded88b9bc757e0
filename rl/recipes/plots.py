"""Plots of a training run, from its `metrics.jsonl` (and `calibration.npz`), as PNG files.

    python -m rl.recipes.plots runs/default          # re-draw the plots of a finished run

- `band.png`: the ability and the difficulty band (logits) drifting over training, with the mean
  difficulty level of the prompts drawn;
- `calibration.png`: predicted vs observed pass rate of every group (binned), with the diagonal;
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
        ax.fill_between(xl, low, high, alpha=0.25, label="difficulty band (logits)")
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
    ax.legend(loc="upper left")
    ax.set_title("The band drifts with the ability")
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


def calibration_summary(calib: Path, bins: int = 4) -> str | None:
    """One line: binned predicted -> observed group pass rate (what calibration.png shows)."""
    if not calib.exists():
        return None
    data = np.load(calib)
    if data["predicted"].size == 0:
        return None
    parts = [f"{p:.2f} -> {o:.2f} ({n})" for p, o, n in calibration_bins(data["predicted"], data["observed"], bins)]
    return "calibration, predicted -> observed pass rate of the next group, binned by prediction (groups): " + ", ".join(
        parts
    )


def plot_calibration(calib: Path, out: Path, bins: int = 10) -> Path | None:
    if not calib.exists():
        return None
    data = np.load(calib)
    pred, obs = data["predicted"], data["observed"]
    if pred.size == 0:
        return None
    plt, fig, ax = _figure()
    centres, means, counts = (list(c) for c in zip(*calibration_bins(pred, obs, bins), strict=True))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    ax.scatter(centres, means, s=12 + 60 * np.sqrt(np.asarray(counts) / max(counts)), label="groups (binned)")
    ax.set_xlabel("predicted pass rate (before the group was seen)")
    ax.set_ylabel("observed pass rate")
    ax.set_title(f"Predicted vs observed pass rate ({pred.size} groups)")
    ax.legend(loc="upper left")
    return _save(plt, fig, out / "calibration.png")


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
