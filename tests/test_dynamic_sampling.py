"""DAPO-style dynamic sampling (the ablations' peer baseline): group selection, re-padding, budget count."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from recipes.cli import main
from recipes.dynamic_sampling import informative_groups, merge_groups

ROOT = Path(__file__).resolve().parents[1]


def fake_output(adv: list[float], prompt_width: int, completion_width: int, fill: int) -> dict:
    n = len(adv)
    return {
        "prompt_ids": torch.full((n, prompt_width), fill),
        "prompt_mask": torch.ones(n, prompt_width, dtype=torch.long),
        "completion_ids": torch.full((n, completion_width), fill),
        "completion_mask": torch.ones(n, completion_width, dtype=torch.long),
        "advantages": torch.tensor(adv),
        "num_items_in_batch": torch.tensor(n * completion_width),
    }


def test_groups_with_all_equal_rewards_are_uninformative() -> None:
    adv = torch.tensor([0.0, 0.0, 1.0, -1.0, 0.0, 0.0])
    assert informative_groups(adv, 2).tolist() == [False, True, False]


def test_merging_keeps_informative_groups_first_and_repads_to_a_common_width() -> None:
    first = fake_output([0.0, 0.0, 1.0, -1.0], prompt_width=3, completion_width=2, fill=7)  # groups: -, +
    extra = fake_output([0.5, -0.5, 0.0, 0.0], prompt_width=5, completion_width=4, fill=9)  # groups: +, -
    merged = merge_groups(
        [(first, informative_groups(first["advantages"], 2)), (extra, informative_groups(extra["advantages"], 2))],
        b=2,
        g=2,
        pad_id=0,
    )
    assert merged["advantages"].tolist() == [1.0, -1.0, 0.5, -0.5]
    assert merged["prompt_ids"].shape == (4, 5) and merged["completion_ids"].shape == (4, 4)
    assert merged["prompt_ids"][0].tolist() == [0, 0, 7, 7, 7]  # prompts are left-padded
    assert merged["completion_ids"][0].tolist() == [7, 7, 0, 0]  # completions are right-padded
    assert merged["completion_mask"][0].tolist() == [1, 1, 0, 0]
    assert int(merged["num_items_in_batch"]) == 2 * 2 + 2 * 4


def test_too_few_informative_groups_are_topped_up_from_the_first_batch() -> None:
    first = fake_output([0.0, 0.0, 0.0, 0.0], prompt_width=2, completion_width=2, fill=1)
    merged = merge_groups([(first, np.array([False, False]))], b=2, g=2, pad_id=0)
    assert merged["advantages"].shape == (4,)


@pytest.mark.slow
def test_a_dynamic_sampling_run_counts_its_discarded_generations(tmp_path) -> None:
    out = tmp_path / "dapo"
    args = [
        "train",
        "--config",
        str(ROOT / "configs/smoke.yaml"),
        f"output_dir={out}",
        "policy=uniform",
        "fluke_damping=none",
        "dynamic_sampling=true",
    ]
    assert main(args) == 0
    result = json.loads((out / "eval.json").read_text())
    assert result["generated_rollouts"] > result["rollouts"] > 0, "all-equal groups were discarded, and counted"
