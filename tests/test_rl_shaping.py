"""Fluke damping and success labels: pure functions over a toy batch, advantages computed as TRL does."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from trl.trainer.utils import nanstd

from curriculum import Curriculum, CurriculumConfig
from rl.trl.feedback import Observation, check_ranks_agree, check_rows, rollout_ids, success_labels
from rl.trl.shaping import (
    FLUKE_MODES,
    lone_success_share,
    lone_success_weight,
    make_shaper,
)

G = 4


def grpo_advantages(rewards: np.ndarray, group_size: int = G) -> np.ndarray:
    """TRL's default: (r - group mean) / (group std + 1e-4), computed with TRL's own nanstd."""
    r = torch.tensor(rewards, dtype=torch.float32).view(-1, group_size)
    return ((r - r.mean(dim=1, keepdim=True)) / (nanstd(r, dim=1).unsqueeze(1) + 1e-4)).view(-1).numpy()


@pytest.fixture
def batch() -> dict:
    """Four groups: a lone success on a near-impossible prompt, a 2/4, a 3/4 and an all-fail group."""
    rewards = np.array([1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0], dtype=np.float64)  # (N,)
    success = rewards >= 0.5
    return {
        "rewards": rewards,
        "success": success,
        "group_successes": success.reshape(-1, G).sum(axis=1),  # (B,) [1, 2, 3, 0]
        "pre_pass_rate": np.array([0.01, 0.5, 0.7, 0.05]),  # (B,) history: group 0 is near-impossible
        "adv": grpo_advantages(rewards),
    }


def argmax(adv: np.ndarray) -> int:
    return int(np.argmax(adv))


def test_without_damping_the_lone_success_gets_the_largest_advantage_of_the_batch(batch: dict) -> None:
    shaped = make_shaper("none", cap=1.0, floor=0.1)(
        batch["adv"], batch["success"], batch["group_successes"], batch["pre_pass_rate"], G
    )
    assert np.array_equal(shaped, batch["adv"])
    assert argmax(shaped) == 0 and shaped[0] > 1.4  # sqrt(G - 1) = 1.73 with the unbiased std


def test_posterior_damping_takes_the_lone_success_off_the_top(batch: dict) -> None:
    shaped = make_shaper("posterior", cap=1.0, floor=0.1)(
        batch["adv"], batch["success"], batch["group_successes"], batch["pre_pass_rate"], G
    )
    assert argmax(shaped) != 0
    assert shaped[0] == pytest.approx(batch["adv"][0] * 0.1)  # G * 0.01 = 0.04, floored at 0.1
    # the failures of the group and every other group are untouched
    assert np.array_equal(shaped[1:], batch["adv"][1:])


def test_cap_damping_clips_the_lone_success_to_no_more_than_any_other_advantage(batch: dict) -> None:
    cap = 0.8
    shaped = make_shaper("cap", cap=cap, floor=0.1)(
        batch["adv"], batch["success"], batch["group_successes"], batch["pre_pass_rate"], G
    )
    assert shaped[0] == pytest.approx(cap)
    assert shaped[0] <= shaped[1:].max() + 1e-6 and np.abs(shaped).max() <= cap + 1e-6


def test_posterior_damping_plans_nothing_for_a_batch_without_lone_successes() -> None:
    rewards = np.array([1, 1, 0, 0, 0, 0, 0, 0], dtype=np.float64)  # groups of 4: 2/4 and 0/4
    success = rewards >= 0.5
    shaper = make_shaper("posterior", cap=1.0, floor=0.1)
    assert shaper.plan(success, np.array([2, 0]), np.array([0.01, 0.01]), G) is None
    adv = grpo_advantages(rewards)
    assert np.array_equal(shaper(adv, success, np.array([2, 0]), np.array([0.01, 0.01]), G), adv)


def test_the_planned_damping_applies_the_same_to_torch_advantages(batch: dict) -> None:
    shaper = make_shaper("posterior", cap=1.0, floor=0.1)
    factor = shaper.plan(batch["success"], batch["group_successes"], batch["pre_pass_rate"], G)
    on_numpy = shaper.apply(batch["adv"], factor)
    on_torch = shaper.apply(torch.from_numpy(batch["adv"]), torch.from_numpy(factor).float())
    assert np.allclose(on_torch.numpy(), on_numpy) and on_numpy[0] == pytest.approx(batch["adv"][0] * 0.1)
    shares = lone_success_share(
        torch.stack([torch.from_numpy(batch["adv"]), on_torch]), torch.from_numpy(batch["group_successes"]), G
    )
    assert shares[1] < shares[0] and float(shares[0]) == pytest.approx(
        lone_success_share(batch["adv"], batch["group_successes"], G)
    )


def test_posterior_damping_trusts_a_lone_success_the_history_expected() -> None:
    # G * p >= 1: at least one success was expected, so the group keeps its advantage
    assert lone_success_weight(np.array([1]), np.array([0.3]), G, floor=0.1)[0] == 1.0
    # G * p = 0.6: the success counts 0.6
    assert lone_success_weight(np.array([1]), np.array([0.15]), G, floor=0.1)[0] == pytest.approx(0.6)
    # only lone successes are weighed at all
    assert lone_success_weight(np.array([2, 0]), np.array([0.01, 0.01]), G, floor=0.1).tolist() == [1.0, 1.0]


def test_posterior_damping_only_shrinks_positive_advantages(batch: dict) -> None:
    shaper = make_shaper("posterior", cap=1.0, floor=0.0)
    shaped = shaper(batch["adv"], batch["success"], batch["group_successes"], np.full(4, 0.01), G)
    assert (shaped <= batch["adv"]).all() and (shaped[batch["adv"] < 0] == batch["adv"][batch["adv"] < 0]).all()


def test_posterior_damping_uses_the_curriculums_history_through_predict() -> None:
    cur = Curriculum(10, CurriculumConfig(), seed=0)
    for _ in range(6):  # prompt 3 fails 48 times in a row; prompt 5 is solved half the time
        cur.observe(np.repeat([3, 5], 8), np.r_[np.zeros(8), np.tile([0.0, 1.0], 4)])
    pre = cur.predict(np.array([3, 5]))
    weight = lone_success_weight(np.array([1, 1]), pre, G, floor=0.0)
    assert weight[0] < 0.2 and weight[1] == 1.0


def test_lone_success_share_measures_the_pull_of_lone_success_groups(batch: dict) -> None:
    before = lone_success_share(batch["adv"], batch["group_successes"], G)
    shaper = make_shaper("posterior", cap=1.0, floor=0.1)
    damped = shaper(batch["adv"], batch["success"], batch["group_successes"], batch["pre_pass_rate"], G)
    after = lone_success_share(damped, batch["group_successes"], G)
    assert 0.0 < after < before < 1.0
    assert math.isnan(lone_success_share(np.zeros(8), np.array([0, 0]), G))
    assert lone_success_share(batch["adv"].tolist(), batch["group_successes"].tolist(), G) == pytest.approx(before)


def test_an_unknown_mode_is_rejected() -> None:
    assert FLUKE_MODES == ("none", "posterior", "cap")
    with pytest.raises(ValueError, match="choose one of none, posterior, cap"):
        make_shaper("clip", cap=1.0, floor=0.1)


# ---- success labels -----------------------------------------------------------------------------------
def test_success_defaults_to_the_weighted_sum_of_rewards_against_the_threshold() -> None:
    rewards = np.array([[1.0, 0.0], [0.3, 0.3], [0.0, 0.2], [np.nan, 0.6]])  # (N, F)
    success, valid = success_labels(rewards, ["correct", "format"], np.array([1.0, 1.0]), 0.5, None)
    assert success == [True, True, False, True] and all(valid)


def test_a_named_verifier_decides_success_and_its_none_rows_are_not_observed() -> None:
    rewards = np.array([[1.0, 0.0], [0.0, 1.0], [np.nan, 1.0]])
    success, valid = success_labels(rewards, ["correct", "format"], np.ones(2), 0.5, "correct")
    assert success == [True, False, False] and valid == [True, True, False]


def test_rows_where_every_reward_is_none_are_unscorable() -> None:
    rewards = np.array([[np.nan, np.nan], [1.0, np.nan]])
    success, valid = success_labels(rewards, ["a", "b"], np.ones(2), 0.5, None)
    assert valid == [False, True] and success == [False, True]


def test_a_steps_rollout_ids_are_its_chunk_in_repeat_samplers_layout_and_each_rank_checks_its_rows() -> None:
    from rl.trl.checkpoint import pool_keys

    keys, _ = pool_keys(["a", "b", "c", "d", "e"])
    ids = rollout_ids([4, 2], G)
    assert ids == [4] * G + [2] * G
    assert check_rows(["e"] * G, ids, 0, keys) is None  # rank 0 of 2 holds the first group
    assert check_rows(["c"] * G, ids, 1, keys) is None
    assert check_rows(["e"] * 2, ids, 1, keys) is None  # rank 1 of 4
    assert "holds another prompt than the curriculum proposed" in check_rows(["c"] * G, ids, 0, keys)
    assert "holds 3 rollouts of a generation step of 8" in check_rows(["e"] * 3, ids, 0, keys)


def test_a_prompts_key_does_not_depend_on_where_its_objects_sit_in_memory() -> None:
    from rl.trl.checkpoint import prompt_key

    class Image:  # str() of such an object names its address
        pass

    def message() -> list:
        return [{"role": "user", "content": [{"type": "image", "image": Image()}, {"type": "text", "text": "1+1="}]}]

    assert str(message()) != str(message()) and prompt_key(message()) == prompt_key(message())
    assert prompt_key("1+1=") != prompt_key("1+2=")


def test_observation_counts_successes_per_group() -> None:
    obs = Observation(
        ids=[7] * G + [3] * G,
        success=[True, False, False, True, True, True, True, True],
        valid=[True, True, True, False, True, True, True, True],
        group_size=G,
    )
    assert obs.group_ids == [7, 3] and obs.group_successes() == [1, 4]  # a success without a score never counts
    assert obs.group_rollouts() == [3, 4]  # the unscorable rollout is not observed
    assert [x.tolist() for x in obs.sorted_counts()] == [[3, 7], [4, 3], [4, 1]]


def test_ranks_that_disagree_raise_naming_the_step() -> None:
    check_ranks_agree(["abc", "abc"], "state hash", 4)
    with pytest.raises(RuntimeError, match="state hash differs across ranks at generation step 4"):
        check_ranks_agree(["abc", "abd"], "state hash", 4)


@pytest.mark.parametrize("success_reward", [None, "correct"])
@pytest.mark.parametrize("bad", [float("inf"), float("-inf")])
def test_an_infinite_reward_is_refused_naming_its_function(success_reward, bad) -> None:
    rewards = np.array([[1.0, 0.0], [bad, 0.5]])
    with pytest.raises(ValueError, match=r"\['correct'\] returned an infinite reward"):
        success_labels(rewards, ["correct", "format"], np.ones(2), 0.5, success_reward)
