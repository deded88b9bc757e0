"""`curriculum simulate` and `curriculum bench`: the real CLI on a tiny budget."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from curriculum.tools.bench import bench_curriculum
from curriculum.tools.simulator import SCENARIOS, SIM_POLICIES, Scenario, _phases, phase_edges, run_one
from recipes.cli import main


def test_simulate_prints_a_table_and_writes_json(tmp_path, capsys) -> None:
    out = tmp_path / "sim.json"
    assert main(["simulate", "--scenario", "mixed", "--seeds", "1", "--quiet", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| mixed | adaptive |" in table and "| mixed | uniform |" in table
    results = json.loads(out.read_text())["results"]["mixed"]
    assert set(results) == set(SIM_POLICIES)


def test_simulate_runs_the_policies_asked_for_and_names_the_valid_ones_for_an_unknown_one(tmp_path, capsys) -> None:
    out = tmp_path / "sim.json"
    args = ["simulate", "--scenario", "mixed", "--seeds", "1", "--quiet", "--out", str(out)]
    assert main([*args, "--policy", "bayes", "--policy", "adaptive"]) == 0
    assert list(json.loads(out.read_text())["results"]["mixed"]) == ["adaptive", "bayes"]
    assert "| mixed | bayes |" in capsys.readouterr().out
    assert main([*args, "--policy", "nope"]) == 2
    assert "bayes" in capsys.readouterr().err


def test_simulate_phases_splits_the_draws_by_phase_and_they_add_up_to_the_runs(tmp_path, capsys) -> None:
    out = tmp_path / "sim.json"
    args = ["simulate", "--scenario", "mixed", "--seeds", "1", "--quiet", "--phases", "--policy", "adaptive"]
    assert main([*args, "--out", str(out)]) == 0
    assert "mixed: steps 0, 1-4, 5-19, 20-39, 40-79, 80-119, 120-159" in capsys.readouterr().out
    m = json.loads(out.read_text())["results"]["mixed"]["adaptive"]
    shares = np.diff([0, 1, 5, 20, 40, 80, 120, 160]) / 160  # every step draws the same number of prompts
    repeats = sum(w * m[f"phase{j}_repeat_impossible"] for j, w in enumerate(shares))
    assert repeats == pytest.approx(m["repeat_impossible"])
    assert m["phase0_first_bias"] > 0.05, "before any group, every prompt is predicted at the population's mean"


@pytest.mark.parametrize("steps", [1, 2, 12, 160])
def test_the_phases_cover_every_step_once_and_a_phase_without_first_visits_has_no_bias(steps: int) -> None:
    edges = phase_edges(steps)
    assert edges[0] == 0 and edges[-1] == steps and edges[1] == 1 and all(np.diff(edges) > 0)
    per_step = np.zeros((steps, 5))
    per_step[:, 0] = 64  # draws, none of them a first visit
    m = _phases(per_step)
    assert len([k for k in m if k.endswith("_first_bias")]) == len(edges) - 1
    assert all(math.isnan(v) for k, v in m.items() if k.endswith("_first_bias"))


def test_an_unknown_scenario_is_an_error_naming_the_valid_ones(capsys) -> None:
    assert main(["simulate", "--scenario", "nope", "--seeds", "1", "--quiet", "--out", "/dev/null"]) == 2
    assert "mixed" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_runs_every_policy(name: str) -> None:
    small = Scenario(**{**SCENARIOS[name].__dict__, "num_prompts": 300, "steps": 12, "batch": 16, "stale_gap": 4})
    for policy in SIM_POLICIES:
        m = run_one(small, policy, seed=0)
        assert 0.0 <= m["informative"] <= 1.0 and 0.0 <= m["impossible"] <= 1.0


@pytest.mark.parametrize("policy, margin", [("adaptive", 0.1), ("band", 0.3)])
def test_the_adaptive_policies_beat_uniform_on_informative_groups_in_the_mixed_pool(policy, margin) -> None:
    sc = Scenario(**{**SCENARIOS["mixed"].__dict__, "num_prompts": 600, "steps": 60})
    assert run_one(sc, policy, 0)["informative"] > run_one(sc, "uniform", 0)["informative"] + margin


def test_bench_text_features_times_the_table_at_each_size(capsys) -> None:
    assert main(["bench", "--text-features", "--sizes", "1000", "3000", "--k", "8"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows[1:]] == ["1e+03", "3e+03"]
    assert [float(r.split("|")[3]) for r in rows[1:]] == [round(n * 64 * 4 / 2**20) for n in (1000, 3000)]


def test_bench_reports_memory_within_budget() -> None:
    r = bench_curriculum(20_000, k=64, group=8, steps=5, warmup=5)
    assert 0 < r.bytes_per_prompt <= 48 and r.step_ms > 0


def test_bench_with_features_counts_the_curriculums_memory_not_the_table() -> None:
    plain = bench_curriculum(20_000, k=64, group=8, steps=3, warmup=3)
    r = bench_curriculum(20_000, k=64, group=8, steps=3, warmup=3, features=8)
    assert plain.bytes_per_prompt < r.bytes_per_prompt <= plain.bytes_per_prompt + 16


def test_simulate_takes_config_overrides_and_rejects_unknown_fields(tmp_path, capsys) -> None:
    out = tmp_path / "sim.json"
    args = ["simulate", "--scenario", "mixed", "--seeds", "1", "--quiet", "--out", str(out)]
    assert main([*args, "--set", "target=0.4"]) == 0
    assert json.loads(out.read_text())["config"]["target"] == 0.4
    assert main([*args, "--set", "bogus=1"]) == 2
    assert "bogus" in capsys.readouterr().err


def test_bench_trainer_times_the_policy_asked_for(tmp_path, monkeypatch, capsys) -> None:
    import benches.overhead

    seen: dict = {}

    def fake_measure(**kwargs):
        seen.update(kwargs)
        return {"step_s": 0.05, "curriculum_s": 0.0005, "share": 0.01}

    monkeypatch.setattr(benches.overhead, "measure_overhead", fake_measure)
    args = ["bench", "--sizes", "2000", "--k", "8", "--group", "4", "--steps", "2", "--out", str(tmp_path / "b.json")]
    assert main([*args, "--trainer", "--trainer-steps", "3", "--trainer-policy", "uniform"]) == 0
    assert seen["curriculum_policy"] == "uniform" and seen["steps"] == 3
    assert "policy uniform" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*args, "--trainer", "--trainer-policy", "bogus"])
