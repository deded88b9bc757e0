"""examples/plain_loop.py: a hand-written GRPO loop driven by the curriculum, run for a few steps on the tiny model."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from curriculum import Curriculum, CurriculumConfig, state_hash
from curriculum.driver import CurriculumDriver

ROOT = Path(__file__).resolve().parents[1]
STEPS, PROMPTS, G = 4, 4, 4


def load_example():
    """examples/plain_loop.py as a module (examples/ is an application folder, not a package)."""
    spec = importlib.util.spec_from_file_location("plain_loop", ROOT / "examples" / "plain_loop.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["plain_loop"] = module  # the dataclass looks its module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """(result, printed, saved state file) of a 4-step run: 4 prompts x 4 completions, 20 prompts per family and
    level, 4 held-out; the default warm model (cached; built once otherwise)."""
    out = tmp_path_factory.mktemp("plain_loop") / "driver.pt"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the example's main does: the model is tiny
    printed = io.StringIO()  # capsys is per test; the run is shared by the module's tests
    try:
        with contextlib.redirect_stdout(printed):
            result = load_example().run(
                steps=STEPS, prompts_per_step=PROMPTS, group_size=G, seed=0, out=out, per_level=20, eval_per_level=4
            )
    finally:
        torch.set_num_threads(threads)
    return result, printed.getvalue(), out


@pytest.mark.slow
def test_the_curriculum_observed_every_step_and_nothing_is_left_pending(ran):
    result, _, _ = ran
    assert result.driver.curriculum.step == STEPS
    assert result.driver.pending.size == 0
    assert result.driver.groups_observed == STEPS * PROMPTS


@pytest.mark.slow
def test_every_step_trained_on_distinct_prompts_of_the_pool(ran):
    result, _, _ = ran
    assert len(result.proposed) == STEPS
    for ids in result.proposed:
        assert len(set(ids.tolist())) == PROMPTS
        assert ids.min() >= 0 and ids.max() < result.labels.size


@pytest.mark.slow
def test_every_reward_reached_the_curriculum(ran):
    result, _, _ = ran
    stats = result.driver.curriculum.stats()
    assert stats["observed_rollouts"] == STEPS * PROMPTS * G
    assert math.isclose(stats["observed_pass_rate"], float(np.mean(result.mean_reward)), abs_tol=1e-9)


@pytest.mark.slow
def test_the_held_out_accuracy_before_and_after_is_a_rate_and_is_printed(ran):
    result, printed, _ = ran
    for report in (result.before, result.after):
        assert set(report.accuracy) == {1, 2, 3, 4, 5}
        assert all(0.0 <= a <= 1.0 for a in report.accuracy.values())
        assert 0.0 <= report.mean <= 1.0
    assert f"held-out greedy accuracy {result.before.mean:.3f} -> {result.after.mean:.3f}" in printed
    assert "| level | prompts | before | after | change |" in printed


@pytest.mark.slow
def test_the_saved_state_loads_into_a_fresh_driver_with_the_same_curriculum(ran):
    result, _, out = ran
    fresh = CurriculumDriver(
        Curriculum(result.labels.size, CurriculumConfig(policy="adaptive"), seed=0, prior=result.labels), group_size=G
    )
    assert state_hash(fresh.curriculum.state_dict()) != state_hash(result.driver.curriculum.state_dict())
    fresh.load_state_dict(torch.load(out, weights_only=False))
    assert state_hash(fresh.curriculum.state_dict()) == state_hash(result.driver.curriculum.state_dict())
    assert fresh.curriculum.step == STEPS and fresh.groups_observed == STEPS * PROMPTS
