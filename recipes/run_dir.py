"""A run's output folder as a contract: a new run needs an empty (or new) folder, or overwrite=true on a run's
folder; a resume needs a complete checkpoint, and continues the run's records from it.

    from recipes.run_dir import prepare_output_dir
    resume = prepare_output_dir(cfg, Path(cfg.output_dir))   # None: a new run
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from curriculum.statefile import write_atomic

from .run_config import RunConfig

RUN_FILES = ("run_config.yaml", "metrics.jsonl", "eval_start.json", "calibration.npz")
"""Any of these, or a checkpoint-* folder, marks a folder as a run's."""


def prepare_output_dir(cfg: RunConfig, out: Path) -> str | None:
    """The output folder as a contract: a new run needs an empty (or new) folder, or overwrite=true on a run's
    folder; a resume needs a complete checkpoint. Returns the checkpoint to resume from (None: a new run). On a
    resume, metrics.jsonl keeps the rows up to the checkpoint; later rows (logged by the interrupted run, and
    logged again by this one) move to metrics.after-checkpoint.jsonl."""
    from rl.trl.checkpoint import checkpoints, incomplete_reason, last_complete_checkpoint

    if out.exists() and not out.is_dir():
        raise ValueError(f"output_dir={str(out)!r} is a file: choose a folder")
    if any(p.exists() and not p.is_dir() for p in out.parents):
        raise ValueError(f"output_dir={str(out)!r} lies under a file: choose another folder")
    is_run = out.is_dir() and (any((out / name).exists() for name in RUN_FILES) or bool(checkpoints(out)))
    if cfg.resume:
        if isinstance(cfg.resume, str):
            reason = incomplete_reason(cfg.resume) if Path(cfg.resume).is_dir() else "no such folder"
            if reason is not None:
                raise ValueError(f"resume={cfg.resume!r} is not a complete checkpoint ({reason})")
            resume = cfg.resume
        else:
            last, skipped = last_complete_checkpoint(out) if out.is_dir() else (None, [])
            for why in skipped:
                print(f"not resuming from an incomplete checkpoint: {why}", flush=True)
            if last is None:
                raise ValueError(
                    f"resume=true but {out} holds no complete checkpoint-* folder"
                    + (f" ({'; '.join(skipped)})" if skipped else "")
                    + ": drop resume (and add overwrite=true to start over) or fix output_dir"
                )
            resume = str(last)
        _cut_metrics(out, int(Path(resume).name.rsplit("-", 1)[-1]) if Path(resume).parent == out else None)
        return resume
    if out.is_dir() and any(out.iterdir()):
        if not cfg.overwrite:
            raise ValueError(
                f"output_dir {out} already holds files: resume=true continues that run, overwrite=true "
                "deletes it and starts afresh, or choose another output_dir"
            )
        if not is_run:
            raise ValueError(
                f"overwrite=true, but {out} does not hold a run (no {', '.join(RUN_FILES)} or "
                "checkpoint-*): nothing is deleted; choose another output_dir"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return None


def _cut_metrics(out: Path, step: int | None) -> None:
    path = out / "metrics.jsonl"
    if step is None or not path.exists():
        return
    keep, later = [], []
    for line in path.read_text().splitlines(keepends=True):
        try:
            row_step = json.loads(line).get("step", 0)
        except ValueError:  # a line cut short by the crash
            row_step = math.inf
        (keep if row_step <= step else later).append(line)
    if later:
        with open(out / "metrics.after-checkpoint.jsonl", "a") as f:
            f.writelines(later)
        write_atomic(path, "".join(keep))
