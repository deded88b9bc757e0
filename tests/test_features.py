"""Unseen prompts predicted from their features: judged before the outcome, against a pool-wide recent mean; no
harm from features that say nothing; a callable is the same as the array; exact resume; clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curriculum import Curriculum, CurriculumConfig
from curriculum.ability import sigmoid
from curriculum.features import FeatureModel
from curriculum.tools.simulator import SCENARIOS, Scenario, run_one


def small(name: str) -> Scenario:
    return Scenario(**{**SCENARIOS[name].__dict__, "num_prompts": 6000, "steps": 90})


@pytest.mark.parametrize("policy", ["uniform", "adaptive"])
def test_informative_features_predict_first_visits_far_better_than_a_pool_wide_recent_mean(policy):
    m = run_one(small("features"), policy, seed=0)
    assert m["first_share"] > (0.95 if policy == "uniform" else 0.5)
    assert m["first_mse_model"] <= 0.7 * m["first_mse_ref"], "the issue's target: <= 0.7x the recent pool mean"
    assert abs(m["first_bias_model"]) <= 0.03


def test_features_that_carry_no_information_change_nothing():
    sc = small("features_noise")
    with_noise = run_one(sc, "adaptive", seed=1)
    without = run_one(Scenario(**{**sc.__dict__, "features": "none"}), "adaptive", seed=1)
    assert with_noise["first_mse_model"] <= 1.01 * without["first_mse_model"]
    assert with_noise["informative"] >= without["informative"] - 0.01


def test_the_walk_draws_fewer_hopeless_prompts_with_informative_features():
    sc = small("features")
    with_features = run_one(sc, "adaptive", seed=2)
    without = run_one(Scenario(**{**sc.__dict__, "features": "none"}), "adaptive", seed=2)
    assert with_features["impossible"] < 0.6 * without["impossible"]
    assert with_features["informative"] > without["informative"] + 0.05


def drive(cur: Curriculum, difficulty: np.ndarray, steps: int, seed: int = 0, start: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for t in range(start, start + steps):
        ids = cur.propose(32)
        s = rng.binomial(8, sigmoid(0.01 * t - difficulty[ids]))
        cur.observe_counts(ids, np.full(ids.size, 8), s)


def pool(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = rng.uniform(-4.0, 6.0, n)
    x = np.column_stack([d + rng.normal(0.0, 0.5, n), rng.normal(size=(n, 3))])
    return d, x


def test_a_callable_gives_what_the_array_gives_and_is_asked_only_for_the_prompts_it_needs():
    d, x = pool()
    asked: list[int] = []

    def lookup(ids: np.ndarray) -> np.ndarray:
        asked.append(ids.size)
        return x[ids]

    a = Curriculum(d.size, CurriculumConfig(), seed=3, features=x)
    b = Curriculum(d.size, CurriculumConfig(), seed=3, features=lookup)
    drive(a, d, 40)
    drive(b, d, 40)
    assert np.array_equal(a.propose(32), b.propose(32))
    assert a.ability.features_active()
    assert max(asked) < d.size, "never the whole pool"


def test_resume_is_exact_and_a_state_made_with_other_features_is_refused():
    d, x = pool()
    cfg = CurriculumConfig()
    a = Curriculum(d.size, cfg, seed=4, features=x)
    drive(a, d, 30)
    sd = a.state_dict()
    b = Curriculum(d.size, cfg, seed=4, features=x)
    b.load_state_dict(sd)
    drive(a, d, 20, seed=9, start=30)
    drive(b, d, 20, seed=9, start=30)
    assert np.array_equal(a.propose(32), b.propose(32))
    assert np.array_equal(a.ability.features.gram, b.ability.features.gram)
    assert np.array_equal(a.ability.features.cal, b.ability.features.cal)
    assert not np.array_equal(a.ability.features.cal, [0.0, 1.0]), "the calibration moved and was carried over"
    other = Curriculum(d.size, cfg, seed=4, features=x + 1.0)
    with pytest.raises(ValueError, match="features_digest"):
        other.load_state_dict(sd)
    plain = Curriculum(d.size, cfg, seed=4)
    with pytest.raises(ValueError, match="features_digest"):
        plain.load_state_dict(sd)


def test_a_revisit_replaces_its_prompts_old_contribution_for_fixed_features():
    d, x = pool(400)
    cur = Curriculum(d.size, CurriculumConfig(policy="uniform"), seed=5, features=x)
    drive(cur, d, 60)  # several epochs: every prompt revisited
    fm = cur.ability.features
    seen = np.flatnonzero(cur.tracker.attempts > 0)
    design = fm.design(seen)
    w = fm.weight[seen].astype(np.float64)
    assert np.allclose(fm.gram, (design * w[:, None]).T @ design, rtol=1e-6, atol=1e-6)
    assert np.allclose(fm.moment, (design * w[:, None]).T @ fm.target[seen], rtol=1e-6, atol=1e-6)


def test_with_a_half_life_the_regression_follows_features_whose_meaning_changes():
    d, x = pool()
    flipped = x.copy()
    flipped[:, 0] = -flipped[:, 0]  # the policy's representation changed: the same prompts, other features
    current = {"x": x}
    cfg = CurriculumConfig(policy="uniform", feature_half_life=10.0)
    cur = Curriculum(d.size, cfg, seed=6, features=lambda ids: current["x"][ids])
    drive(cur, d, 40)
    assert cur.ability.features.coef()[0] > 0.3
    current["x"] = flipped
    drive(cur, d, 60, seed=1, start=40)
    assert cur.ability.features.coef()[0] < -0.3, "the old statistics faded"


@pytest.mark.parametrize(
    ("features", "match"),
    [
        (np.zeros((10, 2)), r"shape \(3000, d\)"),
        (np.zeros(3000), r"shape \(3000, d\)"),
        (np.full((3000, 2), np.nan), "NaN/inf"),
        (np.array([["a", "b"]] * 3000), "must be numbers"),
        (np.zeros((3000, 0)), "1 to 4096 features"),
        (lambda ids: np.zeros((ids.size + 1, 2)), r"features\(ids\) must have shape \(1, d\)"),
    ],
)
def test_bad_features_are_refused_at_construction_naming_the_fix(features, match):
    with pytest.raises(ValueError, match=match):
        Curriculum(3000, CurriculumConfig(), features=features)


def test_a_callable_that_changes_its_width_or_returns_nan_later_is_refused_at_that_call():
    d, x = pool()
    width = {"d": 4}
    cur = Curriculum(d.size, CurriculumConfig(), features=lambda ids: x[ids, : width["d"]])
    width["d"] = 3
    with pytest.raises(ValueError, match=r"features\(ids\) must have shape \(\d+, 4\)"):
        drive(cur, d, 1)


def test_features_with_a_pass_rate_prior_are_refused():
    with pytest.raises(ValueError, match="pass one of them"):
        Curriculum(10, CurriculumConfig(), prior=np.full(10, 0.5), features=np.zeros((10, 2)))


def test_features_combine_with_labels():
    d, x = pool()
    labels = np.digitize(d, [-1.0, 2.0])  # three coarse levels
    cur = Curriculum(d.size, CurriculumConfig(policy="uniform"), seed=7, prior=labels, features=x)
    plain = Curriculum(d.size, CurriculumConfig(policy="uniform"), seed=7, prior=labels)
    drive(cur, d, 40)
    drive(plain, d, 40)
    unseen = np.flatnonzero(cur.tracker.attempts == 0)[:500]
    truth = sigmoid(0.4 - d[unseen])
    err = lambda c: float(((c.predict(unseen) - truth) ** 2).mean())  # noqa: E731
    assert cur.ability.features_active()
    assert err(cur) < 0.7 * err(plain), "within a level the features still tell prompts apart"


def test_the_calibration_recovers_an_intercept_and_slope_hidden_in_the_regressions_predictions():
    d, x = pool(4000)
    fm = FeatureModel(d.size, x, CurriculumConfig())
    raw = 0.3 * d + 0.1  # what a shrunk regression would predict of these prompts
    rng = np.random.default_rng(0)
    for step in range(1, 61):
        ids = rng.choice(d.size, 40, replace=False)
        level = np.full(ids.size, 0.02 * step)  # the ability rises
        s = rng.binomial(8, sigmoid(level - d[ids]))
        fm.calibrate(raw[ids], level, np.zeros(ids.size), np.full(ids.size, 8), s)
    intercept, slope = fm.cal
    assert abs(slope - 1 / 0.3) < 0.4 and abs(intercept + 0.1 / 0.3) < 0.4, fm.cal
    off = FeatureModel(d.size, x, CurriculumConfig(feature_calibration="none"))
    off.calibrate(raw[:40], np.zeros(40), np.zeros(40), np.full(40, 8), np.zeros(40))
    assert np.array_equal(off.cal, [0.0, 1.0]), '"none" leaves the regression as it is'


def test_calibrated_features_halve_the_walks_hopeless_draws_with_first_visit_bias_within_the_target():
    sc = small("features")
    on = run_one(sc, "adaptive", seed=3)
    off = run_one(sc, "adaptive", seed=3, config=CurriculumConfig(feature_calibration="none"))
    assert on["impossible"] < 0.8 * off["impossible"] and on["informative"] > off["informative"] + 0.02
    assert abs(on["first_bias_model"]) <= 0.03
    assert on["first_mse_model"] < off["first_mse_model"] * 1.05


def test_a_state_from_before_the_calibration_loads_and_a_bad_one_is_refused():
    d, x = pool()
    a = Curriculum(d.size, CurriculumConfig(), seed=4, features=x)
    drive(a, d, 30)
    sd = a.state_dict()
    old = {k: v for k, v in sd.items() if not k.startswith("feature_calibration")}
    config = json.loads(sd["config"])
    del config["feature_calibration"]
    old["config"] = json.dumps(config)
    b = Curriculum(d.size, CurriculumConfig(), seed=4, features=x)
    drive(b, d, 30, seed=5)
    assert not np.array_equal(b.ability.features.cal, [0.0, 1.0])
    b.load_state_dict(old)
    assert np.array_equal(b.ability.features.cal, [0.0, 1.0]), "an old state starts the calibration afresh"
    assert np.array_equal(b.ability.features.cal_info, 8.0 * np.eye(2))
    for key, value, match in [
        ("feature_calibration", np.array([0.0, 9.0]), "slope"),
        ("feature_calibration_info", -np.eye(2), "positive definite"),
    ]:
        with pytest.raises(ValueError, match=match):
            Curriculum(d.size, CurriculumConfig(), seed=4, features=x).load_state_dict({**sd, key: value})
    with pytest.raises(ValueError, match="one of"):
        Curriculum(d.size, CurriculumConfig(), seed=4, features=x).load_state_dict({**old, "feature_calibration": [0, 1]})
