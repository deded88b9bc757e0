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

from rl.checkpoint import STATE_JSON, incomplete_reason

sys.path.insert(0, str(Path(__file__).parent))
from fault_run import KILL_POINTS, MAX_STEPS, SAVE_STEPS  # noqa: E402

SCRIPT = Path(__file__).with_name("fault_run.py")


def run(out: Path, point: str | None = None, call: int = 0) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(SCRIPT), str(out)] + ([point, str(call)] if point else [])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def saved_hashes(out: Path) -> dict[int, str]:
    """{step: curriculum state hash} of the complete checkpoints in `out`."""
    found = {}
    for folder in out.glob("checkpoint-*"):
        if incomplete_reason(folder) is None:
            found[int(folder.name.split("-")[1])] = json.loads((folder / STATE_JSON).read_text())["state_hash"]
    return found


@pytest.mark.slow
def test_killed_and_restarted_runs_end_in_the_uninterrupted_runs_state(tmp_path: Path) -> None:
    reference = run(tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr[-2000:]
    final = reference.stdout.split("HASH ")[-1].strip()
    expected = saved_hashes(tmp_path / "reference")
    assert sorted(expected) == list(range(SAVE_STEPS, MAX_STEPS + 1, SAVE_STEPS))

    # one kill at each kind of point, in a random order and at a random call (seeded: the same kills every run)
    rng = np.random.default_rng(14)
    points = [str(p) for p in rng.permutation(sorted(KILL_POINTS))]
    calls = {
        "observe": int(rng.integers(2, 5)),
        "before_curriculum_state": 1,
        "between_state_files": 2 * int(rng.integers(1, 3)),
        "before_mark": int(rng.integers(1, 3)),
    }
    out = tmp_path / "killed"
    for point in points:
        result = run(out, point, calls[point])
        assert result.returncode == -9, f"{point}: the process was to be killed\n{result.stderr[-2000:]}"
        for step, digest in saved_hashes(out).items():  # what a restart may resume from is what the reference saved
            assert digest == expected[step], f"after the kill at {point}: checkpoint-{step} differs"
    result = run(out)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("HASH ")[-1].strip() == final
    assert saved_hashes(out) == expected
