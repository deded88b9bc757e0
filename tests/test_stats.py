"""recipes/stats.py: t-intervals, paired differences, curve and sampling summaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recipes.stats import (
    Interval,
    area_under,
    coverage,
    curve_band,
    draws_by_level,
    forgetting,
    mean_ci,
    paired_ci,
    reach,
    t_quantile,
)


def test_t_quantiles_match_the_table_and_approach_the_normal():
    assert t_quantile(1) == pytest.approx(12.706)
    assert t_quantile(4) == pytest.approx(2.776)
    assert 2.000 < t_quantile(50) < 2.021
    assert t_quantile(10**6) == pytest.approx(1.960, abs=1e-3)
    with pytest.raises(ValueError, match="at least 2 values"):
        t_quantile(0)


def test_mean_ci_is_the_student_t_interval_of_the_finite_values():
    values = [0.61, 0.64, 0.59, 0.63, 0.60, float("nan")]
    ci = mean_ci(values)
    v = np.array(values[:5])
    assert ci.n == 5 and ci.mean == pytest.approx(v.mean())
    assert ci.half == pytest.approx(2.776 * v.std(ddof=1) / math.sqrt(5))
    assert mean_ci([0.5]).format() == "0.500" and mean_ci([]).format() == "-"


def test_a_difference_is_significant_only_when_its_interval_excludes_zero():
    assert Interval(0.05, 0.03, 5).significant and Interval(-0.05, 0.03, 5).significant
    assert not Interval(0.02, 0.03, 5).significant
    assert not Interval(0.05, math.nan, 1).significant
    assert Interval(0.05, 0.03, 5).format(signed=True) == "+0.050 ± 0.030"


def test_paired_differences_use_the_seeds_both_arms_have():
    arm = {0: 0.70, 1: 0.72, 2: 0.74, 3: 0.99}
    ref = {0: 0.65, 1: 0.66, 2: 0.70}
    ci = paired_ci(arm, ref)
    assert ci.n == 3 and ci.mean == pytest.approx(np.mean([0.05, 0.06, 0.04]))
    assert ci.significant


def test_reach_interpolates_along_the_curve_and_is_nan_when_never_reached():
    curve = [(0, 0.2), (100, 0.4), (200, 0.6)]
    assert reach(curve, 0.5) == pytest.approx(150)
    assert reach(curve, 0.1) == 0
    assert math.isnan(reach(curve, 0.9))
    assert area_under(curve) == pytest.approx(0.4)
    assert area_under(curve, end=100) == pytest.approx(0.3), "cut at a common budget"
    assert reach([(0, 0.1), (10, 0.6 - 1e-12)], 0.6) == pytest.approx(10, abs=1e-6), "float rounding is tolerated"


def test_forgetting_is_the_largest_drop_of_any_level_below_its_start():
    evals = [{"1": 1.0, "2": 0.5}, {"1": 0.9, "2": 0.7}, {"1": 0.96, "2": 0.45}]
    assert forgetting(evals) == pytest.approx(0.1)
    assert forgetting([{"1": 0.5}, {"1": 0.8}]) == 0.0


def test_coverage_reads_how_much_of_the_pool_is_drawn_and_how_concentrated():
    even = np.ones(100, dtype=int)
    assert coverage(even) == {"pool_drawn": 1.0, "top10_share": pytest.approx(0.1)}
    piled = np.zeros(100, dtype=int)
    piled[:5] = 20
    assert coverage(piled) == {"pool_drawn": 0.05, "top10_share": 1.0}


def test_draws_by_level_reads_where_the_completions_went():
    draws = np.array([4, 0, 2, 2, 0, 0])  # [N]
    labels = np.array([1, 1, 2, 2, 3, 3])  # [N]
    assert draws_by_level(draws, labels) == {"1": 0.5, "2": 0.5, "3": 0.0}
    assert draws_by_level(draws, None) == {} and draws_by_level(np.zeros(6), labels) == {}


def test_curve_band_averages_runs_on_a_common_grid():
    runs = [[(0, 0.0), (10, 1.0)], [(0, 0.2), (10, 0.6)]]
    mean, half = curve_band(runs, np.array([0.0, 5.0, 10.0]))
    assert mean == pytest.approx([0.1, 0.45, 0.8])
    assert half[0] == pytest.approx(12.706 * np.std([0.0, 0.2], ddof=1) / math.sqrt(2))


def test_band_drift_reads_the_noise_floor_the_overlap_and_what_a_static_band_loses():
    from recipes.stats import band_drift

    start = np.array([0.5, 0.5, 0.5, 0.5, 0.0, 1.0])  # four prompts in [0.25, 0.75]
    again = np.array([0.5, 0.5, 0.5, 0.1, 0.0, 1.0])  # the same model, probed again: one drops out by noise
    later = np.array([0.9, 0.9, 0.5, 0.5, 0.5, 1.0])  # 50 steps on: two mastered, one new in band
    end = np.array([1.0, 1.0, 0.9, 0.5, 0.5, 1.0])
    d = band_drift([0, 0, 50, 100], [start, again, later, end], every=50)
    assert d["overlap_noise"] == pytest.approx(3 / 4)
    assert d["overlap_step"] == pytest.approx(np.mean([1 / 5, 2 / 3]))  # {0,1,2} vs {2,3,4}; {2,3,4} vs {3,4}
    assert d["static_stale"] == pytest.approx(3 / 4)  # of the start band {0,1,2,3}, only 3 is in band at the end
    assert d["stale_noise"] == pytest.approx(1 / 4)  # probed again at once, 3 drops out by noise alone
    assert (d["band_start"], d["band_end"]) == pytest.approx((4 / 6, 2 / 6))
