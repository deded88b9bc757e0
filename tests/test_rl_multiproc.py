"""Two gloo processes on CPU: every rank holds an identical curriculum after every step.

Runs benches/_dist_check.py under `accelerate launch --multi_gpu --num_processes 2` with use_cpu=True
(`--cpu --num_processes 2` would silently run one process), once as is and once with the last rank's
curriculum nudged after step 1, which must fail naming the generation step.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.multiproc]


def launch(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    accelerate = Path(sys.executable).with_name("accelerate")
    cmd = [
        str(accelerate),
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        "0",
        str(ROOT / "benches" / "_dist_check.py"),
        "--output_dir",
        str(tmp_path / "out"),
        *extra,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def test_two_processes_keep_identical_curriculum_states_and_exit_cleanly(tmp_path: Path) -> None:
    out = launch(tmp_path, "--steps", "3", "--save_steps", "2")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "DIST_CHECK OK world_size=2 steps=3 observes=3" in out.stdout
    assert "terminate called" not in out.stderr
    assert (tmp_path / "out" / "checkpoint-2" / "curriculum_state.json").is_file()


def test_two_processes_streaming_keep_identical_windows_and_curriculum_states(tmp_path: Path) -> None:
    out = launch(tmp_path, "--steps", "3", "--save_steps", "2", "--stream_window", "24")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "DIST_CHECK OK world_size=2 steps=3 observes=3" in out.stdout


def test_a_rank_whose_curriculum_drifts_is_caught_at_the_next_step(tmp_path: Path) -> None:
    out = launch(tmp_path, "--steps", "3", "--save_steps", "10", "--corrupt_at_step", "1")
    assert out.returncode != 0
    assert "differs across ranks at generation step 2" in out.stdout + out.stderr
