"""The ability model learns from every group: theta carries the common improvement, the offsets the differences
between labels, the population its shape (its location pinned); predictions are judged before the outcome."""

from __future__ import annotations

import numpy as np
import pytest

from curriculum import Curriculum, CurriculumConfig
from curriculum.ability import sigmoid
from curriculum.tools.simulator import SCENARIOS, Scenario, run_one


def one_pass(labels: np.ndarray | None, logit, steps: int, k: int = 64, seed: int = 0) -> tuple[Curriculum, list]:
    """Uniform draws over a pool, each prompt about once: `logit(t, ids)` is the true pass-rate logit at step t."""
    n = labels.size if labels is not None else 6000
    cur = Curriculum(n, CurriculumConfig(policy="uniform"), seed=seed, prior=labels)
    rng, history = np.random.default_rng(seed), []
    for t in range(steps):
        ids = cur.propose(k)
        s = rng.binomial(8, sigmoid(logit(t, ids)))
        report = cur.observe_counts(ids, np.full(ids.size, 8), s)
        history.append((cur.ability.theta, cur.ability.offset.copy(), report))
    return cur, history


def test_in_one_pass_the_ability_rises_with_the_model_and_first_visits_are_predicted_as_well_as_a_recent_mean():
    small = Scenario(**{**SCENARIOS["single_pass"].__dict__, "num_prompts": 6000, "steps": 90})
    m = run_one(small, "uniform", seed=0)
    assert m["first_share"] == 1.0, "every draw is a first visit"
    true_rise = m["true_ability_gain"] * (5 / 6 - 1 / 6)  # the mean ability of the last third minus the first's
    assert abs((m["ability_last_third"] - m["ability_first_third"]) - true_rise) < 0.35 * true_rise
    assert m["first_mse_model"] <= 1.02 * m["first_mse_ref"], "no worse than a per-label mean of the last 10 steps"
    assert abs(m["first_bias_model"]) <= 0.03


def test_a_common_improvement_goes_to_the_ability_and_the_offsets_keep_the_label_differences():
    labels = np.repeat([0, 1, 2], 3000)
    level = np.array([2.0, 0.0, -2.0])  # logit of each label's prompts at the start
    spread = np.random.default_rng(9).normal(0.0, 0.7, labels.size)
    cur, history = one_pass(labels, lambda t, ids: level[labels[ids]] + spread[ids] + 0.02 * t, steps=130)
    theta0, off0, _ = history[20]
    theta1, off1, _ = history[-1]
    assert theta1 - theta0 == pytest.approx(0.02 * 110, abs=0.5), "theta carries the common rise"
    assert np.abs((off1 - off1.mean()) - (off0 - off0.mean())).max() < 0.35, "the offsets' differences stay put"
    assert np.diff(off1) == pytest.approx(np.diff(-level), abs=0.6), "and they are the labels' differences"


def test_one_label_improving_moves_its_own_offset_not_the_others_differences():
    labels = np.repeat([0, 1, 2], 3000)
    rise = np.array([0.0, 0.0, 0.04])  # only label 2 improves
    cur, history = one_pass(labels, lambda t, ids: rise[labels[ids]] * t, steps=130)
    _, off0, _ = history[20]
    _, off1, _ = history[-1]
    moved = off1 - off0
    assert moved[2] - moved[:2].mean() < -2.0, "label 2 got easier relative to the others"
    assert abs(moved[0] - moved[1]) < 0.4


def test_without_labels_the_ability_alone_follows_the_model():
    difficulty = np.random.default_rng(3).uniform(-3.0, 3.0, 6000)
    _, history = one_pass(None, lambda t, ids: 0.03 * t - difficulty[ids], steps=90)
    thetas = np.array([h[0] for h in history])
    assert thetas[-10:].mean() - thetas[10:20].mean() == pytest.approx(0.03 * 75, abs=0.6)


def test_the_population_location_is_pinned_and_only_its_shape_is_learned():
    labels = np.repeat([0, 1], 2000)
    cur, _ = one_pass(labels, lambda t, ids: np.where(labels[ids] == 0, 1.0, -1.0) + 0.02 * t, steps=50)
    mean, var = cur.ability.population()
    assert np.array_equal(mean, np.zeros(2))
    nodes, weights = cur.ability.population_nodes(), np.exp(cur.ability.log_population())
    assert np.abs((nodes * weights).sum(axis=1)).max() < 1e-9, "the histogram is used centred on its mean"
    assert (var < CurriculumConfig().prompt_prior_sd ** 2).all(), "tighter than the prior: the shape was learned"


def test_a_step_report_holds_the_predictions_made_before_the_groups_were_seen():
    n = 200
    cur = Curriculum(n, CurriculumConfig(policy="uniform"), seed=0)
    rng = np.random.default_rng(0)
    for _ in range(30):
        ids = np.sort(cur.propose(16))
        before = cur.predict(ids)
        first = cur.tracker.attempts[ids] == 0
        s = rng.binomial(8, 0.3, ids.size)
        report = cur.observe_counts(ids, np.full(ids.size, 8), s)
        # made at the observed step's clock (one more step of drift than `before`), before its evidence
        assert np.array_equal(report.ids, ids) and np.allclose(report.predicted, before, atol=1e-3)
        assert np.array_equal(report.first_visit, first) and np.allclose(report.observed, s / 8)
        cal = report.calibration()
        diff = report.predicted - s / 8
        assert cal["calibration_bias"] == pytest.approx(diff.mean()) and cal["brier"] == pytest.approx((diff**2).mean())
        if first.any() and not first.all():
            assert cal["brier_first"] == pytest.approx((diff[first] ** 2).mean())
            assert cal["calibration_bias_revisit"] == pytest.approx(diff[~first].mean())
    assert cur.stats()["brier"] == pytest.approx(cal["brier"]), "the last step's calibration is in stats()"


def test_first_visit_evidence_is_free_of_the_order_of_the_prompts():
    labels = np.repeat([0, 1], 50)
    a = Curriculum(100, CurriculumConfig(policy="uniform"), seed=0, prior=labels)
    b = Curriculum(100, CurriculumConfig(policy="uniform"), seed=0, prior=labels)
    ids = np.arange(0, 100, 3)
    s = (ids % 9).astype(np.int64)
    a.observe_counts(ids, np.full(ids.size, 8), s)
    order = np.random.default_rng(1).permutation(ids.size)
    b.observe_counts(ids[order], np.full(ids.size, 8), s[order])
    assert a.ability.theta == pytest.approx(b.ability.theta) and np.allclose(a.ability.offset, b.ability.offset)
