"""The core's public contract: proposals, observations, determinism, bad input, state round trip."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum import Curriculum, CurriculumConfig, state_hash
from curriculum.ability import sigmoid
from curriculum.config import POLICIES
from curriculum.permutation import permute
from curriculum.pools import ACTIVE, EXCLUDED
from curriculum.tracker import PassRateTracker, aggregate


def drive(cur: Curriculum, difficulty: np.ndarray, steps: int, k: int = 16, group: int = 8, seed: int = 0) -> list:
    """Run `steps` propose/observe rounds against a fixed pool; return the proposals."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(steps):
        ids = cur.propose(k)
        p = sigmoid(t / 20.0 - difficulty[ids])
        rewards = (rng.random((ids.size, group)) < p[:, None]).astype(np.float64)
        cur.observe(np.repeat(ids, group), rewards.ravel())
        out.append(ids)
    return out


@pytest.fixture
def pool() -> np.ndarray:
    return np.random.default_rng(3).uniform(-4.0, 8.0, 500)


@pytest.mark.parametrize("policy", POLICIES)
def test_propose_returns_k_distinct_int64_ids_in_range(policy: str, pool: np.ndarray) -> None:
    cur = Curriculum(pool.size, CurriculumConfig(policy=policy, static={"calibration_size": 64}), seed=1)
    for ids in drive(cur, pool, 12, k=40):
        assert ids.dtype == np.int64 and ids.size == 40
        assert np.unique(ids).size == 40 and ids.min() >= 0 and ids.max() < pool.size


@pytest.mark.parametrize("policy", POLICIES)
def test_two_instances_fed_the_same_observations_propose_the_same_ids(policy: str, pool: np.ndarray) -> None:
    make = lambda: Curriculum(pool.size, CurriculumConfig(policy=policy, static={"calibration_size": 64}), seed=7)
    a, b = drive(make(), pool, 15), drive(make(), pool, 15)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_different_seeds_propose_different_ids(pool: np.ndarray) -> None:
    a = Curriculum(pool.size, seed=1).propose(32)
    b = Curriculum(pool.size, seed=2).propose(32)
    assert not np.array_equal(np.sort(a), np.sort(b))


@pytest.mark.parametrize("policy", POLICIES)
def test_a_reloaded_state_proposes_exactly_what_the_original_would(policy: str, pool: np.ndarray) -> None:
    cfg = CurriculumConfig(policy=policy, static={"calibration_size": 64})
    cur = Curriculum(pool.size, cfg, seed=5)
    drive(cur, pool, 10)
    sd = cur.state_dict()
    twin = Curriculum(pool.size, cfg, seed=5)
    twin.load_state_dict(sd)
    assert state_hash(twin.state_dict()) == state_hash(sd)
    assert all(np.array_equal(x, y) for x, y in zip(drive(cur, pool, 8, seed=9), drive(twin, pool, 8, seed=9), strict=True))


def test_state_dict_holds_only_plain_arrays_and_scalars(pool: np.ndarray) -> None:
    cur = Curriculum(pool.size, seed=0)
    drive(cur, pool, 3)
    for key, value in cur.state_dict().items():
        assert isinstance(value, np.ndarray | int | float | str), key
        if isinstance(value, np.ndarray):
            assert value.dtype != object, key


def test_loading_a_state_for_another_pool_size_or_config_is_refused(pool: np.ndarray) -> None:
    sd = Curriculum(pool.size, seed=0).state_dict()
    with pytest.raises(ValueError, match="prompts"):
        Curriculum(pool.size + 1, seed=0).load_state_dict(sd)
    with pytest.raises(ValueError, match="target"):
        Curriculum(pool.size, CurriculumConfig(target=0.4), seed=0).load_state_dict(sd)


@pytest.mark.parametrize(
    ("ids", "rewards", "match"),
    [
        ([0, 1], [0.5, np.nan], "NaN"),
        ([0, 1], [0.5, np.inf], "NaN"),
        ([0, 1], [0.5, 1.5], r"\[0, 1\]"),
        ([0, 1], [-0.1, 1.0], r"\[0, 1\]"),
        ([0, 999], [1.0, 1.0], "out of range"),
        ([-1, 0], [1.0, 1.0], "out of range"),
        ([0, 1, 2], [1.0, 1.0], "same length"),
        ([[0, 1]], [[1.0, 1.0]], "1-D"),
        ([0.5, 1.0], [1.0, 1.0], "integers"),
    ],
)
def test_bad_observations_raise_and_leave_the_state_unchanged(ids, rewards, match, pool: np.ndarray) -> None:
    cur = Curriculum(pool.size, seed=0)
    drive(cur, pool, 3)
    before = state_hash(cur.state_dict())
    with pytest.raises(ValueError, match=match):
        cur.observe(ids, rewards)
    assert state_hash(cur.state_dict()) == before


@pytest.mark.parametrize("k", [-1, 501, 2.5, True])
def test_bad_propose_sizes_raise_and_leave_the_state_unchanged(k, pool: np.ndarray) -> None:
    cur = Curriculum(pool.size, seed=0)
    before = state_hash(cur.state_dict())
    with pytest.raises(ValueError):
        cur.propose(k)
    assert state_hash(cur.state_dict()) == before


def test_the_whole_pool_can_be_proposed_at_once() -> None:
    cur = Curriculum(50, seed=0)
    assert np.array_equal(np.sort(cur.propose(50)), np.arange(50))


def test_when_everything_is_excluded_the_band_warns_and_still_fills_the_batch(caplog) -> None:
    n, group = 60, 8
    cur = Curriculum(n, CurriculumConfig(policy="band", band={"explore_frac": 0.5}), seed=0)
    for _ in range(12):  # every prompt fails every time: all become confidently out of reach
        ids = cur.propose(20)
        cur.observe(np.repeat(ids, group), np.zeros(ids.size * group))
    assert cur.stats()["excluded_frac"] > 0.5
    with caplog.at_level(logging.WARNING, logger="curriculum"):
        for _ in range(3):
            ids = cur.propose(20)
            assert ids.size == 20 and np.unique(ids).size == 20
            cur.observe(np.repeat(ids, group), np.zeros(ids.size * group))
    assert any("excluded" in r.getMessage() for r in caplog.records)


def test_one_all_fail_group_in_a_medium_pool_does_not_exclude_a_prompt() -> None:
    cur = Curriculum(200, seed=0)
    ids = cur.propose(100)
    rewards = np.tile([1.0, 0, 1, 0, 1, 0, 1, 0], (ids.size, 1))  # a medium pool ...
    rewards[0] = 0.0  # ... and one prompt that failed its single group
    cur.observe(np.repeat(ids, 8), rewards.ravel())
    assert cur.pools.status[ids[0]] == ACTIVE


def test_a_prompt_that_keeps_failing_while_others_improve_is_excluded() -> None:
    cur = Curriculum(40, seed=0)
    hard = 3
    for _ in range(10):
        ids = cur.propose(40)
        rewards = np.tile([1.0, 1, 1, 0, 1, 0, 1, 0], (ids.size, 1))
        rewards[ids == hard] = 0.0
        cur.observe(np.repeat(ids, 8), rewards.ravel())
    assert cur.pools.status[hard] == EXCLUDED


def test_stats_report_the_documented_keys_as_floats(pool: np.ndarray) -> None:
    cur = Curriculum(pool.size, seed=0)
    drive(cur, pool, 4)
    stats = cur.stats()
    for key in (
        "ability",
        "band_low",
        "band_high",
        "excluded_frac",
        "retired_frac",
        "observed_rollouts",
        "informative_ratio",
    ):
        assert isinstance(stats[key], float), key
    assert stats["observed_rollouts"] == 4 * 16 * 8
    assert 0.0 <= stats["informative_ratio"] <= 1.0


def test_predictions_follow_the_ability_for_prompts_not_seen_lately() -> None:
    """Prompts seen once early are predicted higher once the rest of the pool shows the ability rose."""
    n, group = 400, 8
    d = np.random.default_rng(0).uniform(-3.0, 3.0, n)
    cur = Curriculum(n, CurriculumConfig(policy="uniform"), seed=0)
    rng = np.random.default_rng(1)
    early = cur.propose(100)
    cur.observe(np.repeat(early, group), (rng.random((100, group)) < sigmoid(-d[early])[:, None]).ravel() * 1.0)
    before = cur.predict(early).mean()
    for t in range(1, 81):  # ability rises 3 logits; `early` prompts are never seen again
        ids = np.setdiff1d(cur.propose(60), early)
        p = sigmoid(3.0 * t / 80 - d[ids])
        cur.observe(np.repeat(ids, group), (rng.random((ids.size, group)) < p[:, None]).ravel() * 1.0)
    after = cur.predict(early)
    truth = sigmoid(3.0 - d[early])
    assert after.mean() > before + 0.2
    assert np.abs(after - truth).mean() < np.abs(before - truth).mean()


@pytest.mark.parametrize("policy", POLICIES)
def test_counts_per_prompt_leave_the_same_state_as_the_rollouts_spelled_out(policy: str, pool: np.ndarray) -> None:
    flat, counted = (Curriculum(pool.size, CurriculumConfig(policy=policy), seed=4) for _ in range(2))
    rng = np.random.default_rng(0)
    for t in range(40):
        ids = flat.propose(12)
        assert np.array_equal(ids, counted.propose(12))
        rollouts = rng.integers(0, 9, size=ids.size)  # 0: a group with no scorable rollout
        successes = rng.binomial(rollouts, sigmoid(t / 10.0 - pool[ids]))
        rewards = np.concatenate([np.arange(n) < k for n, k in zip(rollouts, successes, strict=True)])
        flat.observe(np.repeat(ids, rollouts), rewards.astype(np.float64))
        counted.observe_counts(ids, rollouts, successes)
        assert state_hash(flat.state_dict()) == state_hash(counted.state_dict())


@pytest.mark.parametrize(
    ("ids", "rollouts", "successes", "match"),
    [
        ([0, 1], [4, 4], [5, 0], "0 <= successes <= rollouts"),
        ([0, 1], [4, 4], [-1, 0], "0 <= successes <= rollouts"),
        ([0, 1], [4.0, 4.0], [1, 0], "integer counts"),
        ([3, 1, 3], [4, 4, 4], [1, 0, 2], "distinct prompt ids"),
        ([0, 999], [4, 4], [1, 1], "out of range"),
        ([0, 1], [4], [1], "same length"),
    ],
)
def test_bad_counts_raise_and_leave_the_state_unchanged(ids, rollouts, successes, match, pool: np.ndarray) -> None:
    cur = Curriculum(pool.size, seed=0)
    drive(cur, pool, 3)
    before = state_hash(cur.state_dict())
    with pytest.raises(ValueError, match=match):
        cur.observe_counts(ids, rollouts, successes)
    assert state_hash(cur.state_dict()) == before


def test_fractional_rewards_count_as_successes_at_the_threshold() -> None:
    cur = Curriculum(4, CurriculumConfig(success_threshold=0.7), seed=0)
    cur.observe([0, 0, 1, 1], [0.69, 0.7, 1.0, 0.1])
    assert cur.counters["successes"] == 2


# ---- tracker properties ----------------------------------------------------------------------------
obs = st.lists(st.tuples(st.integers(0, 19), st.booleans()), min_size=1, max_size=80)


@settings(max_examples=60, deadline=None)
@given(obs, st.randoms(use_true_random=False))
def test_aggregate_does_not_depend_on_the_order_of_rollouts(rows, rnd) -> None:
    ids, succ = (np.array(x) for x in zip(*rows, strict=True))
    perm = np.array(rnd.sample(range(ids.size), ids.size))
    for a, b in zip(aggregate(ids, succ), aggregate(ids[perm], succ[perm]), strict=True):
        assert np.array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(obs)
def test_aggregate_counts_every_repeated_id(rows) -> None:
    ids, succ = (np.array(x) for x in zip(*rows, strict=True))
    uniq, n, s = aggregate(ids, succ)
    for i, u in enumerate(uniq):
        assert n[i] == np.sum(ids == u) and s[i] == np.sum(succ[ids == u])


@settings(max_examples=40, deadline=None)
@given(st.lists(obs, min_size=1, max_size=6))
def test_tracker_rates_stay_in_the_unit_interval(steps) -> None:
    tr = PassRateTracker(20, half_life=5.0)
    for t, rows in enumerate(steps, start=1):
        ids, succ = (np.array(x) for x in zip(*rows, strict=True))
        tr.update(*aggregate(ids, succ), step=t)
        rate = tr.rate(np.arange(20), t)
        assert np.all((rate > 0.0) & (rate < 1.0))
    assert tr.attempts.sum() == sum(len(r) for r in steps)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.floats(0.0, 1.0)), min_size=1, max_size=60))
def test_curriculum_predictions_stay_in_the_unit_interval(rows) -> None:
    ids, rewards = (np.array(x) for x in zip(*rows, strict=True))
    cur = Curriculum(10, seed=0)
    cur.observe(ids, rewards)
    p = cur.predict(np.arange(10))
    assert np.all((p >= 0.0) & (p <= 1.0)) and np.isfinite(p).all()


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 65537])
def test_the_permutation_is_a_bijection(n: int) -> None:
    out = permute(np.arange(n, dtype=np.int64), n, 12345)
    assert np.array_equal(np.sort(out), np.arange(n))


@pytest.mark.parametrize("n", [1, 3, 17, 1000, 4097])
def test_a_stream_covers_every_id_once_in_its_first_epoch_and_never_repeats_within_a_take(n: int) -> None:
    from curriculum.streams import Stream

    stream, rng, out = Stream(n, key=99), np.random.default_rng(0), []
    while sum(x.size for x in out) < 3 * n:
        out.append(stream.take(int(rng.integers(1, max(1, n // 3) + 1))))
        assert np.unique(out[-1]).size == out[-1].size
    ids = np.concatenate(out)
    assert np.array_equal(np.sort(ids[:n]), np.arange(n))
    counts = np.bincount(ids[: 3 * n], minlength=n)
    assert counts.min() >= 2 and counts.max() <= 4


def test_a_chunk_proposed_before_the_last_ones_feedback_does_not_repeat_its_prompts(pool: np.ndarray) -> None:
    cur = Curriculum(pool.size, seed=0)
    drive(cur, pool, 5)
    first, second = cur.propose(16), cur.propose(16)  # the trainer's one-chunk lag
    assert np.intersect1d(first, second).size == 0
    cur.observe(np.repeat(first, 8), np.ones(first.size * 8))
    assert np.array_equal(np.sort(cur.pending), np.sort(second))


def test_a_revisit_cooldown_keeps_recently_observed_prompts_out_of_the_bands_proposals(pool: np.ndarray) -> None:
    cur = Curriculum(pool.size, CurriculumConfig(policy="band", band={"revisit_cooldown": 3}), seed=0)
    recent: list[np.ndarray] = []
    for ids in drive(cur, pool, 12):
        assert not np.isin(ids, np.concatenate(recent[-2:]) if recent else []).any()
        recent.append(ids)


@pytest.mark.parametrize("top", [0.3, 0.9])
def test_a_pass_rate_prior_that_leaves_the_top_bins_empty_still_proposes_unseen_prompts(top: float) -> None:
    prior = np.linspace(0.0, top, 200)  # no prompt falls in the prior's highest pass-rate bins
    cur = Curriculum(prior.size, CurriculumConfig(policy="band", band={"explore_frac": 0.5}), seed=0, prior=prior)
    seen = np.concatenate(drive(cur, -np.log(np.maximum(prior, 0.01) / (1 - np.minimum(prior, 0.99))), 10))
    assert np.unique(seen).size > 16  # unseen prompts kept coming from the non-empty bins


@pytest.mark.parametrize("count", [0, 1, 3, 50])
def test_pool_samples_are_distinct_members_and_never_more_than_asked(count: int) -> None:
    from curriculum.pools import StatusPools

    pools = StatusPools(100)
    pools.move(np.arange(10, 30), ACTIVE)
    draw = pools.sample(ACTIVE, count, np.random.default_rng(0))
    assert draw.dtype == np.int64 and draw.size <= count and np.unique(draw).size == draw.size
    assert np.isin(draw, np.arange(10, 30)).all() and (draw.size == min(count, 20) or count < 20)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 59), st.sampled_from([1, 2, 3])), min_size=1, max_size=40, unique_by=lambda t: t[0])
)
def test_assigning_pools_at_once_equals_moving_them_one_pool_at_a_time(rows) -> None:
    from curriculum.pools import RETIRED, StatusPools

    ids, codes = (np.array(x, dtype=np.int64) for x in zip(*rows, strict=True))
    at_once, in_turn = StatusPools(60), StatusPools(60)
    for pools in (at_once, in_turn):
        pools.move(np.arange(0, 60, 3), ACTIVE)
        pools.move(np.arange(1, 60, 7), EXCLUDED)
    at_once.assign(ids, codes.astype(np.int8))
    for code in (EXCLUDED, RETIRED, ACTIVE):
        in_turn.move(ids[codes == code], code)
    assert state_hash(at_once.state_dict()) == state_hash(in_turn.state_dict())


def test_a_saved_generator_state_continues_with_the_same_numbers() -> None:
    from curriculum.rng import SavedRNG, shuffled, uniform_integers

    rng = SavedRNG(seed=5, salt=0x9E)
    rng.generator.random(3)
    saved = rng.state_array()
    assert saved.dtype == np.uint64 and saved.shape == (6,)
    first = uniform_integers(rng.generator, 7, 1000)
    rng.load_state_array(saved)
    assert np.array_equal(first, uniform_integers(rng.generator, 7, 1000))
    assert first.min() == 0 and first.max() == 6  # every value of [0, 7) drawn, none outside
    ids = np.arange(10, 30)
    assert np.array_equal(np.sort(shuffled(ids, rng.generator)), ids)
    with pytest.raises(ValueError, match="6 uint64 words"):
        rng.load_state_array(saved[:4])


# ---- the adaptive walk ---------------------------------------------------------------------------------------
def walk_rounds(cur: Curriculum, p_true: np.ndarray, steps: int, k: int = 8, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        ids = cur.propose(k)
        cur.observe(np.repeat(ids, 8), (rng.random((ids.size, 8)) < p_true[ids][:, None]).ravel().astype(float))
        out.append(ids)
    return out


def test_the_walk_spreads_an_informative_pool_evenly() -> None:
    n, k = 96, 8
    cur = Curriculum(n, CurriculumConfig(policy="adaptive"), seed=0)
    draws = np.concatenate(walk_rounds(cur, np.full(n, 0.5), 3 * n // k))
    # an unseen prompt is kept with the informativeness of its population (about 0.8 before any group is seen)
    assert np.unique(draws[:n]).size >= 0.85 * n, "the first pool's worth of draws reaches most prompts"
    assert np.unique(draws).size >= 0.98 * n and np.bincount(draws, minlength=n).max() <= 4


@pytest.mark.parametrize("share", [0.02, 0.1])
def test_prompts_beyond_reach_get_the_reprobe_budget_and_no_more_yet_stay_reachable(share: float) -> None:
    n = 400
    labels = np.repeat([0, 1], n // 2)  # level 0: never solved; level 1: half the time
    p_true = np.where(labels == 0, 0.0, 0.5)
    cur = Curriculum(n, CurriculumConfig(policy="adaptive", adaptive={"reprobe_share": share}), seed=1, prior=labels)
    draws = np.concatenate(walk_rounds(cur, p_true, 150)[50:])  # once level 0 is known to be beyond reach
    hopeless = labels[draws] == 0
    assert 0.0 < hopeless.mean() <= share + 0.02
    assert np.unique(draws[hopeless]).size > 10, "beyond-reach prompts keep coming up, a few at a time"


@pytest.mark.parametrize("beyond_mass", [0.5, 0.8, 0.9])
def test_a_pool_mostly_beyond_reach_does_not_flood_the_batch(beyond_mass: float) -> None:
    n = 1000
    labels = np.where(np.arange(n) < 900, 0, 1)  # 90% never solved
    p_true = np.where(labels == 0, 0.0, 0.5)
    config = CurriculumConfig(policy="adaptive", adaptive={"beyond_mass": beyond_mass})
    cur = Curriculum(n, config, seed=3, prior=labels)
    draws = np.concatenate(walk_rounds(cur, p_true, 200)[20:])
    assert (labels[draws] == 0).mean() <= cur.config.adaptive.reprobe_share + 0.03


@pytest.mark.parametrize("share", [0.8, 0.9])
def test_a_label_mostly_out_of_reach_but_partly_learnable_is_drawn_from_at_a_higher_beyond_mass(share) -> None:
    n = 800
    labels = np.repeat([0, 1], n // 2)  # level 0: a quarter learnable, the rest never solved; level 1: half the time
    p_true = np.where((labels == 1) | (np.arange(n) % 4 == 0), 0.5, 0.0)
    learnable, hopeless = {}, {}
    for x in (0.5, share):
        settings = {"beyond_mass": x, "unseen_beyond_share": None}  # one threshold for unseen and observed prompts
        cur = Curriculum(n, CurriculumConfig(policy="adaptive", adaptive=settings), seed=5, prior=labels)
        draws = np.concatenate(walk_rounds(cur, p_true, 150)[30:])
        learnable[x] = float(((labels[draws] == 0) & (p_true[draws] > 0)).mean())
        hopeless[x] = float((p_true[draws] == 0).mean())
    assert learnable[share] > learnable[0.5] + 0.02, (learnable, hopeless)
    assert hopeless[share] <= 0.2, "a first visit each, then the re-probe budget"


def test_the_unseen_verdict_takes_its_own_threshold_0_8_by_default_and_follows_beyond_mass_when_none() -> None:
    n = 800
    labels = np.repeat([0, 1], n // 2)  # level 0: a quarter learnable, the rest never solved; level 1: half the time
    p_true = np.where((labels == 1) | (np.arange(n) % 4 == 0), 0.5, 0.0)

    def first_visits_to_level_0(adaptive: dict) -> int:
        cur = Curriculum(n, CurriculumConfig(policy="adaptive", adaptive=adaptive), seed=5, prior=labels)
        draws = np.concatenate(walk_rounds(cur, p_true, 150))
        return int(np.unique(draws[labels[draws] == 0]).size)

    assert first_visits_to_level_0({}) == first_visits_to_level_0({"unseen_beyond_share": 0.8}), "0.8 by default"
    assert first_visits_to_level_0({"unseen_beyond_share": None}) == first_visits_to_level_0({"unseen_beyond_share": 0.5}), (
        "None: beyond_mass (0.5)"
    )
    assert first_visits_to_level_0({"unseen_beyond_share": 0.5}) < first_visits_to_level_0({}), (
        "at 0.5 an unseen prompt of a label 3/4 out of reach is left to the re-probe budget; at 0.8 it is drawn"
    )
    assert first_visits_to_level_0({"unseen_beyond_share": 1.0}) >= first_visits_to_level_0({"beyond_mass": 0.8}), (
        "at 1 only a label wholly out of reach is left to the budget"
    )
    with pytest.raises(ValueError, match=r"adaptive.unseen_beyond_share must be in \(0, 1\]"):
        CurriculumConfig(policy="adaptive", adaptive={"unseen_beyond_share": 1.5})


def test_without_labels_the_unseen_verdict_is_beyond_mass_whatever_unseen_beyond_share_says() -> None:
    n = 800
    p_true = np.where(np.arange(n) % 4 == 0, 0.5, 0.0)  # a quarter learnable, the rest never solved

    def draws(adaptive: dict) -> np.ndarray:
        cur = Curriculum(n, CurriculumConfig(policy="adaptive", adaptive=adaptive), seed=5)
        return np.concatenate(walk_rounds(cur, p_true, 60))

    np.testing.assert_array_equal(draws({}), draws({"unseen_beyond_share": None}))
    np.testing.assert_array_equal(draws({"unseen_beyond_share": 1.0}), draws({"unseen_beyond_share": 0.2}))


def test_a_pass_rate_source_handed_to_the_walk_replaces_its_predictions() -> None:
    n = 300
    p_true = np.where(np.arange(n) % 3 == 0, 0.5, 0.0)  # a third learnable; the curriculum cannot know which
    cur = Curriculum(n, CurriculumConfig(policy="adaptive", adaptive={"reprobe_share": 0.0}), seed=4)
    cur.policy.use_pass_rates(lambda ids: p_true[ids])
    draws = np.concatenate(walk_rounds(cur, p_true, 10))
    assert (p_true[draws] == 0.5).all(), "told the true pass rates, the walk draws only learnable prompts"


def test_the_walk_keeps_practising_mastered_prompts_at_the_retention_rate() -> None:
    n = 400
    labels = np.repeat([0, 1], n // 2)  # level 0: always solved; level 1: half the time
    p_true = np.where(labels == 0, 1.0, 0.5)
    share = {}
    for retention in (0.05, 0.3):
        cur = Curriculum(n, CurriculumConfig(policy="adaptive", adaptive={"retention": retention}), seed=2, prior=labels)
        draws = np.concatenate(walk_rounds(cur, p_true, 150)[50:])
        share[retention] = float((labels[draws] == 0).mean())
    assert 0.0 < share[0.05] < share[0.3]


def test_the_walk_scans_a_bounded_number_of_prompts_per_call_whatever_the_pool() -> None:
    n, k = 200_000, 8
    cur = Curriculum(n, CurriculumConfig(policy="adaptive"), seed=0)
    for _ in range(5):
        before = cur.policy.stream.cursor
        ids = cur.propose(k)
        cur.observe(np.repeat(ids, 8), np.zeros(ids.size * 8))
        assert cur.policy.stream.cursor - before <= 4 * 4 * 4 * cur.config.candidate_mult * k  # positions, not ids


def test_released_prompts_leave_pending_and_may_be_proposed_again() -> None:
    cur = Curriculum(12, CurriculumConfig(policy="adaptive"), seed=0)
    first = cur.propose(6)
    assert set(cur.pending.tolist()) == set(first.tolist())
    assert not set(cur.propose(6).tolist()) & set(first.tolist()), "pending prompts are not proposed twice"
    cur.release(first)  # none of their rollouts could be scored
    assert not set(cur.pending.tolist()) & set(first.tolist())
    assert set(cur.propose(6).tolist()) == set(first.tolist()), "the only prompts not pending"
    with pytest.raises(ValueError, match="out of range"):
        cur.release([12])
