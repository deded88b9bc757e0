"""Kill a training process (SIGKILL) at random points, during checkpoint writes too, and restart it each time: every
restart resumes from a complete checkpoint, and the curriculum ends, and passes every checkpoint, in exactly the state
of a run never interrupted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rl.trl.checkpoint import STATE_JSON, STATE_NPZ, incomplete_reason

sys.path.insert(0, str(Path(__file__).parent))
from fault_run import KILL_POINTS, MAX_STEPS, SAVE_STEPS  # noqa: E402

SCRIPT = Path(__file__).with_name("fault_run.py")


def run(out: Path, point: str | None = None, call: int = 0, limit: int | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(SCRIPT), str(out)] + ([point, str(call)] if point else [])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "FAULT_SAVE_TOTAL_LIMIT": str(limit or 0)}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def saved_hashes(out: Path) -> dict[int, str]:
    """{step: curriculum state hash} of the complete checkpoints in `out`."""
    found = {}
    for folder in out.glob("checkpoint-*"):
        if incomplete_reason(folder) is None:
            found[int(folder.name.split("-")[1])] = json.loads((folder / STATE_JSON).read_text())["state_hash"]
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[str, dict[int, str]]:
    """An uninterrupted run: its final state hash and every checkpoint's."""
    out = tmp_path_factory.mktemp("reference")
    result = run(out)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = saved_hashes(out)
    assert sorted(expected) == list(range(SAVE_STEPS, MAX_STEPS + 1, SAVE_STEPS))
    return result.stdout.split("HASH ")[-1].strip(), expected


@pytest.mark.slow
@pytest.mark.parametrize("limit", [None, 1, 2])
def test_killed_and_restarted_runs_end_in_the_uninterrupted_runs_state(tmp_path: Path, reference, limit) -> None:
    final, expected = reference
    # one kill at each kind of point, in a random order (seeded: the same kills every run). A save point is hit at the
    # restarted process's first save (the 2nd atomic write of it, for the one inside the curriculum's write), so each
    # kill costs at most one save and the run cannot finish before every kill has happened
    rng = np.random.default_rng(14 + (limit or 0))
    points = [str(p) for p in rng.permutation(sorted(KILL_POINTS))]
    if limit is not None:  # the kills that can cost a checkpoint under rotation; the mid-step one is done without
        points.remove("observe")
    calls = {point: 1 for point in KILL_POINTS} | {"observe": 2, "between_state_files": 2}
    out = tmp_path / "killed"
    for point in points:
        had = bool(saved_hashes(out))
        result = run(out, point, calls[point], limit)
        assert result.returncode == -9, f"{point}: the process was to be killed\n{result.stderr[-2000:]}"
        if point == "between_state_files":  # the kill landed between the curriculum's two files: its npz is new, its
            newest = max(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))  # JSON absent or stale
            npz, meta = newest / STATE_NPZ, newest / STATE_JSON
            assert not meta.exists() or meta.stat().st_mtime_ns < npz.stat().st_mtime_ns, "the kill missed its point"
        left = saved_hashes(out)
        for step, digest in left.items():  # what a restart may resume from is what the reference saved
            assert digest == expected[step], f"after the kill at {point}: checkpoint-{step} differs"
        if had:  # a run that had something to resume from still has
            assert left, f"after the kill at {point}: no complete checkpoint left (save_total_limit={limit})"
        if limit is not None:
            assert len(left) <= limit, f"after the kill at {point}: more complete checkpoints kept than {limit}"
    result = run(out, limit=limit)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("HASH ")[-1].strip() == final
    left = saved_hashes(out)
    assert all(left[s] == expected[s] for s in left)
    if limit is None:
        assert left == expected
    else:
        assert sorted(left) == sorted(expected)[-limit:], "the newest `limit` complete checkpoints are kept"
        assert sorted(p.name for p in out.glob("checkpoint-*")) == sorted(f"checkpoint-{s}" for s in left)
