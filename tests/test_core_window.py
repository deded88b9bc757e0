"""`Curriculum.replace`: a window of W ids over a stream. A replaced slot is a new prompt; the model stays."""

from __future__ import annotations

import numpy as np
import pytest

from curriculum import Curriculum, CurriculumConfig, state_hash
from curriculum.ability import sigmoid
from curriculum.pools import UNSEEN


def step(cur: Curriculum, ids: np.ndarray, p: np.ndarray, rng: np.random.Generator, group: int = 8) -> None:
    rewards = (rng.random((ids.size, group)) < p[:, None]).astype(np.float64)
    cur.observe(np.repeat(ids, group), rewards.ravel())


def trained(prior=None, steps: int = 10, config: CurriculumConfig | None = None) -> Curriculum:
    """A 64-slot curriculum after `steps` rounds of 8 prompts, every observed slot refilled with a fresh prompt."""
    cur = Curriculum(64, config or CurriculumConfig(policy="adaptive"), seed=0, prior=prior)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        ids = cur.propose(8)
        step(cur, ids, np.full(ids.size, 0.7), rng)
        cur.replace(ids, prior=None if prior is None else np.asarray(prior)[ids])
    return cur


def test_a_replaced_slot_is_predicted_as_a_prompt_never_seen_while_the_ability_stays() -> None:
    cur = Curriculum(64, CurriculumConfig(policy="adaptive"), seed=0)
    ids = cur.propose(8)
    step(cur, ids, np.zeros(8), np.random.default_rng(0))  # all fail: these slots are predicted hard
    theta = cur.ability.theta
    never = np.setdiff1d(np.arange(64), ids)[:1]
    assert cur.predict(ids[:1])[0] < cur.predict(never)[0]
    cur.replace(ids[:4])
    assert cur.predict(ids[:4]) == pytest.approx(np.repeat(cur.predict(never), 4))
    assert (cur.tracker.attempts[ids[:4]] == 0).all() and (cur.pools.status[ids[:4]] == UNSEEN).all()
    assert cur.tracker.attempts[ids[4:]].min() > 0  # the others keep their counts
    assert cur.ability.theta == theta and cur.counters["groups"] == 8


def test_a_replaced_slot_is_proposed_again_and_observed_as_a_first_visit() -> None:
    cur = trained(steps=12)  # 96 groups through 64 slots: every slot refilled at least once
    assert cur.counters["prompts_seen"] == 96 > cur.num_prompts
    cur.load_state_dict(cur.state_dict())  # more prompts seen than slots is a valid state
    assert (cur.tracker.attempts == 0).all()


def test_replace_drops_the_slots_from_pending() -> None:
    cur = Curriculum(64, CurriculumConfig(policy="adaptive"), seed=0)
    ids = cur.propose(8)
    cur.replace(ids[:3])
    assert not np.isin(ids[:3], cur.pending).any() and np.isin(ids[3:], cur.pending).all()


def test_two_windows_fed_alike_propose_alike_and_a_reloaded_one_goes_on_alike() -> None:
    a, b = trained(steps=8), trained(steps=8)
    assert state_hash(a.state_dict()) == state_hash(b.state_dict())
    c = Curriculum(64, CurriculumConfig(policy="adaptive"), seed=0)
    c.load_state_dict(a.state_dict())
    assert np.array_equal(a.propose(8), c.propose(8))


def test_label_priors_follow_the_slot_and_unknown_labels_are_refused() -> None:
    labels = np.arange(64) % 3
    cur = Curriculum(64, CurriculumConfig(policy="adaptive"), seed=0, prior=labels)
    cur.replace([0, 1], prior=[2, 2])
    assert cur.labels[[0, 1]].tolist() == [2, 2]
    with pytest.raises(ValueError, match=r"labels \[7\.0\] are not among the labels"):
        cur.replace([0], prior=[7])
    with pytest.raises(ValueError, match="pass prior="):
        cur.replace([0])


def test_pass_rate_priors_follow_the_slot() -> None:
    rates = np.linspace(0.05, 0.95, 64)
    cur = Curriculum(64, CurriculumConfig(policy="adaptive"), seed=0, prior=rates)
    cur.replace([0], prior=[0.95])
    assert cur.predict([0])[0] == pytest.approx(cur.predict([63])[0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cur.replace([0], prior=[1.5])


@pytest.mark.parametrize("policy", ["band", "static"])
def test_replace_refuses_the_policies_that_keep_per_prompt_lists(policy: str) -> None:
    cur = Curriculum(64, CurriculumConfig(policy=policy), seed=0)
    with pytest.raises(ValueError, match="uniform or adaptive policy"):
        cur.replace([0])


def test_replace_refuses_repeated_or_out_of_range_slots() -> None:
    cur = Curriculum(64, seed=0)
    with pytest.raises(ValueError, match="distinct"):
        cur.replace([1, 1])
    with pytest.raises(ValueError, match="out of range"):
        cur.replace([64])


def test_the_walk_judges_unseen_prompts_out_of_reach_only_where_their_label_tells_them_apart() -> None:
    """Label 1 is far beyond reach after a few all-fail groups; the walk then passes over its unseen prompts, and
    those are judged out of reach. Without labels the unseen prompts are one population: only observed prompts (the
    label-1 prompts that failed) are judged."""
    labels = np.arange(400) % 2
    rng = np.random.default_rng(0)
    judged = {}
    for prior in (labels, None):
        cur = Curriculum(400, CurriculumConfig(policy="adaptive"), seed=0, prior=prior)
        out = []
        for t in range(30):
            ids = cur.propose(8)
            step(cur, ids, np.where(labels[ids] == 1, 0.0, sigmoid(np.full(ids.size, t / 10.0))), rng)
            out.append(cur.judged_out_of_reach())
        judged[prior is None] = np.concatenate(out), cur.tracker.attempts
    (with_labels, attempts), (without, attempts_without) = judged[False], judged[True]
    assert (labels[with_labels] == 1).all() and (attempts[with_labels] == 0).sum() > 10
    assert without.size > 0 and (attempts_without[without] > 0).all()
