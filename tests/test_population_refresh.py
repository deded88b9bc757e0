"""The population's refresh (`population_refresh`): beliefs solved early are solved again under today's population,
which keeps prompts that failed early within the re-probe budget; exact resume; no effect where there is no population.
And the simulator's bound on what any estimator could reach from the same observations (the "bayes" arm)."""

from __future__ import annotations

import numpy as np
import pytest

from curriculum import Curriculum, CurriculumConfig
from curriculum.ability import sigmoid
from curriculum.features import FeatureModel
from curriculum.policies.adaptive import AdaptivePolicy
from curriculum.tools.simulator import SCENARIOS, ExactPosterior, Scenario, run_one

REFRESH = CurriculumConfig(population_refresh=256)


def drive(cur: Curriculum, difficulty: np.ndarray, steps: int, seed: int = 0, start: int = 0, k: int = 32) -> None:
    rng = np.random.default_rng(seed)
    for t in range(start, start + steps):
        ids = cur.propose(k)
        s = rng.binomial(8, sigmoid(0.02 * t - difficulty[ids]))
        cur.observe_counts(ids, np.full(ids.size, 8), s)


def test_the_refresh_keeps_prompts_that_failed_early_within_the_reprobe_budget():
    """The simulator's mixed pool without labels: the walk before drew prompts already seen near-impossible in 7.7% of
    its draws, above the 5% re-probe budget, because their beliefs were solved under the early, narrow population."""
    sc = SCENARIOS["mixed"]
    off, on = run_one(sc, "adaptive", seed=0), run_one(sc, "adaptive", seed=0, config=REFRESH)
    assert off["repeat_impossible"] > 0.07
    assert on["repeat_impossible"] <= min(0.055, 0.7 * off["repeat_impossible"])
    assert on["impossible"] < 0.85 * off["impossible"]
    assert on["informative"] >= off["informative"]


def test_a_belief_solved_early_becomes_todays_solve_of_the_same_counts_and_its_clock_stays():
    rng = np.random.default_rng(0)
    d = rng.uniform(-5.0, 8.0, 600)
    cur = Curriculum(d.size, REFRESH.replace(population_refresh=600), seed=1)
    early = np.arange(20, dtype=np.int64)
    cur.observe_counts(early, np.full(20, 8), np.zeros(20, dtype=np.int64))  # 0/8 under the starting population
    solved_early = cur.ability.mu[early].copy()
    others = np.arange(20, 600, dtype=np.int64)
    for t in range(5):  # the rest of the pool widens the population; the early prompts are not seen again
        part = others[t::5]
        cur.observe_counts(part, np.full(part.size, 8), rng.binomial(8, sigmoid(-d[part])))
    ab, tr = cur.ability, cur.tracker
    assert (tr.last_step[early] == 1).all() and (tr.attempts[early] == 8).all(), "their clocks and counts stay"
    assert (ab.mu[early] > solved_early + 0.2).all(), "solved again under a wider population: further beyond"
    fresh = Curriculum(d.size, CurriculumConfig(), seed=1)
    fresh.load_state_dict({**cur.state_dict(), "config": fresh.state_dict()["config"]})
    lab = ab.label_of(early)
    zero = np.zeros(early.size)
    counts = (tr.succ[early].astype(np.float64), tr.tries[early].astype(np.float64))
    mu, _, _, _ = fresh.ability._solve_prompts(early, lab, zero, zero, counts, *fresh.ability.prior(early, lab))
    np.testing.assert_allclose(ab.mu[early], mu, atol=0.1)  # up to the population's move by the refresh itself


def test_without_the_refresh_a_belief_stays_as_it_was_solved():
    rng = np.random.default_rng(0)
    d = rng.uniform(-5.0, 8.0, 600)
    cur = Curriculum(d.size, CurriculumConfig(), seed=1)
    early = np.arange(20, dtype=np.int64)
    cur.observe_counts(early, np.full(20, 8), np.zeros(20, dtype=np.int64))
    solved_early = cur.ability.mu[early].copy()
    drive(cur, d, 10)
    unseen_since = early[cur.tracker.last_step[early] == 1]
    assert unseen_since.size and np.array_equal(cur.ability.mu[unseen_since], solved_early[unseen_since - early[0]])


def pool_with_features(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Difficulties of a mixed pool, and features: the difficulty plus unit noise, beside two distractors."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(-5.0, 8.0, n)
    return d, np.column_stack([d + rng.normal(0.0, 1.0, n), rng.normal(size=(n, 2))])


def test_resume_is_exact_with_the_refresh():
    d, x = pool_with_features(1500, seed=2)
    a = Curriculum(d.size, REFRESH, seed=4, features=x)
    drive(a, d, 30)
    b = Curriculum(d.size, REFRESH, seed=4, features=x)
    b.load_state_dict(a.state_dict())
    drive(a, d, 25, seed=9, start=30)
    drive(b, d, 25, seed=9, start=30)
    assert np.array_equal(a.propose(32), b.propose(32))
    assert np.array_equal(a.ability.mu, b.ability.mu) and np.array_equal(a.ability.hist, b.ability.hist)
    assert np.array_equal(a.ability.features.gram, b.ability.features.gram)


def test_the_features_regression_swaps_in_the_refreshed_beliefs_of_a_table_and_leaves_a_callable_alone():
    d, x = pool_with_features(800, seed=5)
    table = Curriculum(d.size, REFRESH, seed=1, features=x)
    drive(table, d, 30)
    fm = table.ability.features
    seen = np.flatnonzero(fm.weight > 0)
    assert np.allclose(fm.target[seen], table.ability.mu[seen]), "the regression learns today's beliefs"
    z, w = fm.design(seen), fm.weight[seen].astype(np.float64)
    np.testing.assert_allclose(fm.gram, (z * w[:, None]).T @ z, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fm.moment, (z * w[:, None]).T @ fm.target[seen].astype(np.float64), rtol=1e-6, atol=1e-6)

    asked: list[int] = []

    def lookup(ids: np.ndarray) -> np.ndarray:
        asked.append(ids.size)
        return x[ids]

    ids = np.arange(50, dtype=np.int64)
    for source, kept in ((lookup, True), (x, True), (x, False)):
        cfg = CurriculumConfig(feature_half_life=0.0 if kept else 50.0)
        fm = FeatureModel(d.size, source, cfg)
        fm.learn(ids, np.ones(50, dtype=bool), np.full(50, 1.0), np.full(50, 0.5), step=1)
        moment, asked[:] = fm.moment.copy(), []
        fm.refresh(ids, np.full(50, 2.0), np.full(50, 0.5), step=2)
        if source is x and kept:  # a fixed table: the old targets (1) swapped for the new (2), at the same weights
            np.testing.assert_allclose(fm.moment, 2.0 * moment)
        else:  # a callable, or drifting features: left alone
            assert np.array_equal(fm.moment, moment)
        assert asked == [], "a callable is never asked for features by the refresh"


def test_a_state_saved_before_the_setting_existed_loads():
    import json

    d = np.random.default_rng(6).uniform(-5.0, 8.0, 500)
    a = Curriculum(d.size, CurriculumConfig(), seed=3)
    drive(a, d, 10)
    sd = a.state_dict()
    config = json.loads(sd["config"])
    del config["population_refresh"]
    b = Curriculum(d.size, CurriculumConfig(), seed=3)
    b.load_state_dict({**sd, "config": json.dumps(config, sort_keys=True)})
    assert np.array_equal(a.propose(16), b.propose(16))


def test_the_refresh_changes_nothing_under_pass_rate_priors():
    d = np.random.default_rng(3).uniform(-5.0, 8.0, 800)
    prior = sigmoid(-d + np.random.default_rng(4).normal(0.0, 1.0, d.size))
    configs = (CurriculumConfig(prior_type="pass_rate"), REFRESH.replace(prior_type="pass_rate"))
    runs = [Curriculum(d.size, cfg, seed=2, prior=prior) for cfg in configs]
    for cur in runs:
        drive(cur, d, 20)
    assert np.array_equal(runs[0].ability.mu, runs[1].ability.mu)


def test_a_negative_refresh_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="population_refresh"):
        CurriculumConfig(population_refresh=-1)


# ---- the bound: the walk on exact posteriors ----------------------------------------------------------------
def test_the_exact_posterior_concentrates_on_the_truth_and_judges_a_hopeless_prompt_beyond_reach():
    sc = Scenario(**{**SCENARIOS["mixed"].__dict__, "num_prompts": 3})
    exact = ExactPosterior(sc, None, None, CurriculumConfig(), seed=0)
    ids = np.arange(3, dtype=np.int64)
    truth = np.array([-1.0, 2.0, 7.5])  # difficulties; the ability is 0
    rng = np.random.default_rng(0)
    for _ in range(60):
        exact.observe(ids, rng.binomial(8, sigmoid(-truth)), 8, np.zeros(1))
    draws = np.array([exact.rates(ids, np.zeros(1))[0] for _ in range(200)])
    np.testing.assert_allclose(draws[:, :2].mean(axis=0), sigmoid(-truth[:2]), atol=0.03)
    assert list(exact.rates(ids, np.zeros(1))[1]) == [False, False, True]


def test_the_walk_takes_a_sources_verdict_when_it_gives_one():
    """A source may hand the walk a draw of the pass rates and its own verdict (the bayes arm): prompts it calls
    beyond reach come only through the re-probe budget, whatever their drawn rate."""
    n = 400
    cur = Curriculum(n, CurriculumConfig(), seed=0)
    assert isinstance(cur.policy, AdaptivePolicy)
    beyond = np.arange(n) < n // 2
    cur.policy.use_pass_rates(lambda ids: (np.full(ids.size, 0.5), beyond[ids]))
    drawn = np.concatenate([cur.propose(40) for _ in range(5)])
    assert beyond[drawn].mean() <= 0.1


def test_a_source_that_returns_the_wrong_shape_is_an_error_naming_it():
    cur = Curriculum(100, CurriculumConfig(), seed=0)
    assert isinstance(cur.policy, AdaptivePolicy)
    cur.policy.use_pass_rates(lambda ids: [np.full(ids.size, 0.5), np.zeros(ids.size, dtype=bool)])  # a list: no pair
    with pytest.raises(ValueError, match="tuple of rates and verdicts"):
        cur.propose(8)
    cur.policy.use_pass_rates(lambda ids: (np.full(ids.size, 0.5), np.zeros(1, dtype=bool)))  # verdicts too short
    with pytest.raises(ValueError, match="verdicts \\(1,\\)"):
        cur.propose(8)


def test_the_exact_posterior_learns_an_unlabelled_prompts_skill_from_its_groups():
    """Without labels the skill is not told: groups rolled while the skills' abilities part tell it."""
    sc = SCENARIOS["skills"]
    exact = ExactPosterior(sc, None, None, CurriculumConfig(), seed=0)
    ids = np.arange(2, dtype=np.int64)
    gain = np.array([5.0, 2.0, 0.0])  # per skill, as the scenario's
    rng = np.random.default_rng(0)
    skill, difficulty = np.array([0, 2]), np.array([2.0, 0.0])
    for t in range(40):  # prompt 0 of the skill that improves most, prompt 1 of the one that does not
        ability = gain * t / 40
        exact.observe(ids, rng.binomial(8, sigmoid(ability[skill] - difficulty)), 8, ability)
    lw = exact.log_prior[exact.label[ids]] + exact.loglik[ids]
    w = np.exp(lw - lw.max(axis=1, keepdims=True)).reshape(2, 3, -1).sum(axis=2)
    w /= w.sum(axis=1, keepdims=True)  # (2, S) the posterior of each prompt's skill
    assert w[0, 0] > 0.9 and w[1, 2] > 0.9, w
    later = gain * 1.5  # predicted where it was never observed: only the right skill gets this right
    draws = np.array([exact.rates(ids, later)[0] for _ in range(300)]).mean(axis=0)
    np.testing.assert_allclose(draws, sigmoid(later[skill] - difficulty), atol=0.06)


def test_the_bound_draws_fewer_hopeless_prompts_than_the_walk_on_its_estimates():
    sc = Scenario(**{**SCENARIOS["mixed"].__dict__, "num_prompts": 1000, "steps": 100})
    bayes, walk = run_one(sc, "bayes", seed=0), run_one(sc, "adaptive", seed=0)
    assert bayes["repeat_impossible"] < walk["repeat_impossible"] and bayes["impossible"] <= walk["impossible"]
