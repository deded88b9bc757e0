"""`curriculum ablate`'s driver and tables, with a stand-in for the training run (no model is built)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import recipes.train
from recipes.run_config import apply_overrides, deep_merge
from studies.ablate import arm_config, arm_probes, load_ablation, main, planned_runs, read_summaries
from studies.ablation_stats import pool_table

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """
base: {base}
output_dir: {out}
seeds: 3
budget_rollouts: 100
reference_arm: uniform
pools:
  default: {{}}
  hard: {{level_counts: {{1: 4, 2: 4, 3: 16}}}}
arms:
  uniform: {{policy: uniform, fluke_damping: none}}
  adaptive: {{policy: adaptive, fluke_damping: none}}
"""


def fake_run(calls: list, fail: set | None = None):
    """A stand-in for recipes.train.run: an accuracy curve that rises faster for the adaptive arm (a little more on
    seed 2). `fail`: arms, or (arm, seed) pairs, whose run raises."""

    def run(cfg, probes):
        out = Path(cfg.output_dir)
        arm = out.parent.name
        calls.append((out.parts[-3], arm, cfg.seed))
        if fail and (arm in fail or (arm, cfg.seed) in fail):
            raise RuntimeError("boom")
        out.mkdir(parents=True, exist_ok=True)
        speed = {"adaptive": 2.0 + 0.5 * (cfg.seed == 2)}.get(arm, 1.0)
        rows = []
        for x in (0, 50, 100):
            acc = min(0.4 + speed * x / 1000 + 0.01 * cfg.seed, 1.0)
            rows.append(
                {"step": x, "rollouts": x, "eval/accuracy": acc, "eval/accuracy_level_1": acc, "eval/accuracy_level_2": acc}
            )
        (out / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        final = rows[-1]["eval/accuracy"]
        return {
            "before": {1: 0.4 + 0.01 * cfg.seed, 2: 0.4 + 0.01 * cfg.seed},
            "after": {1: final, 2: final},
            "curriculum": {"informative_ratio_total": 0.5},
            "wall_s": 1.0,
            "rollouts": 100,
            "generated_rollouts": 100,
            "never_solved_share": 0.1,
            "coverage": {"pool_drawn": 0.5, "top10_share": 0.2},
            "eval_metric": "greedy accuracy",
            "pool_start": {"solved": 0.5, "beyond": 0.2, "prompts": 24} if probes.pool else None,
            "train_s": 10.0,
            "feature_cost": {"build_s": 0.0, "forward_s": 1.0 if arm == "adaptive" else 0.0, "forward_prompts": 50},
        }

    def run_and_write(cfg, probes):  # as recipes.train.run does, the result also goes to eval.json
        result = run(cfg, probes)
        (Path(cfg.output_dir) / "eval.json").write_text(json.dumps(result))
        return result

    return run_and_write


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "ab.yaml"
    path.write_text(CONFIG.format(base=ROOT / "configs/smoke.yaml", out=tmp_path / "out"))
    return path


def test_every_pool_arm_and_seed_is_planned_seed_by_seed(config):
    ab = load_ablation(config)
    plan = planned_runs(ab)
    assert len(plan) == 2 * 2 * 3 and plan[:2] == [("default", "uniform", 0), ("default", "adaptive", 0)]
    cfg = arm_config(ab, "adaptive", ab.arms["adaptive"], 1, "hard")
    assert cfg.level_counts == {1: 4, 2: 4, 3: 16} and cfg.policy == "adaptive" and cfg.seed == 1
    assert cfg.output_dir.endswith("hard/adaptive/seed1") and cfg.budget_rollouts == 100
    assert arm_probes(ab, "adaptive").pool is False and arm_probes(ab, "uniform").pool, "the reference arm probes the pool"


def test_a_rerun_skips_the_finished_runs(config, monkeypatch, capsys):
    calls: list = []
    monkeypatch.setattr(recipes.train, "run", fake_run(calls))
    assert main(str(config), []) == 0
    assert len(calls) == 12
    assert main(str(config), []) == 0
    assert len(calls) == 12, "nothing is redone"
    assert "already done" in capsys.readouterr().out


def test_a_changed_config_reruns_only_what_it_changes(config, monkeypatch):
    calls: list = []
    monkeypatch.setattr(recipes.train, "run", fake_run(calls))
    assert main(str(config), ["run_pools=[default]"]) == 0
    assert {c[0] for c in calls} == {"default"}
    calls.clear()
    config.write_text(
        config.read_text().replace(
            "adaptive: {policy: adaptive, fluke_damping: none}", "adaptive: {policy: adaptive, fluke_damping: cap}"
        )
    )
    assert main(str(config), []) == 0
    assert sorted(set(calls)) == sorted(
        {("default", "adaptive", s) for s in range(3)} | {("hard", a, s) for a in ("uniform", "adaptive") for s in range(3)}
    )


def test_command_line_overrides_never_replace_the_config_files_own_finished_runs(config, monkeypatch):
    """A variant given on the command line (another budget, learning rate, pool) would run in the folders of the
    study's own runs (a run's folder is its pool, arm and seed) and replace them: refused before any run, naming
    output_dir. Overrides that change no run (seeds, run_pools, report_dir) and a variant with its own output_dir go
    ahead."""
    calls: list = []
    monkeypatch.setattr(recipes.train, "run", fake_run(calls))
    assert main(str(config), ["run_pools=[default]"]) == 0
    done = len(calls)
    with pytest.raises(ValueError, match="budget_rollouts=200 change 6 run.*would be replaced.*own output_dir="):
        main(str(config), ["budget_rollouts=200"])
    assert len(calls) == done, "nothing ran"
    out = Path(load_ablation(config).output_dir)
    assert main(str(config), ["budget_rollouts=200", f"output_dir={out.parent / 'variant'}", "run_pools=[default]"]) == 0
    assert main(str(config), ["seeds=4", "run_pools=[default]"]) == 0
    assert len(calls) == done + 6 + 2, "the variant's 6 runs, then seed 3's 2"
    assert len(read_summaries(load_ablation(config), "default")["uniform"]) == 3, "the study's own runs are intact"


def test_the_tables_read_only_this_configs_runs(config, monkeypatch):
    monkeypatch.setattr(recipes.train, "run", fake_run([]))
    assert main(str(config), ["seeds=5"]) == 0
    ab = load_ablation(config)  # 3 seeds: the runs of seeds 3 and 4 stay on disk but are not this study's
    assert sorted(read_summaries(ab, "default")["uniform"]) == [0, 1, 2]
    ab = load_ablation(config, ["budget_rollouts=200"])
    assert read_summaries(ab, "default") == {}, "runs of another budget are not read"


def test_two_configs_share_runs_but_not_tables(config, monkeypatch, tmp_path):
    calls: list = []
    monkeypatch.setattr(recipes.train, "run", fake_run(calls))
    assert main(str(config), ["run_pools=[default]"]) == 0
    out = Path(load_ablation(config).output_dir)
    first = (out / "default.md").read_text()
    assert (
        main(
            str(config),
            [
                "run_pools=[default]",
                f"report_dir={tmp_path / 'variants'}",
                "arms={uniform: {policy: uniform, fluke_damping: none}}",
            ],
        )
        == 0
    )
    assert len(calls) == 6, "the shared uniform runs are not redone"
    assert (out / "default.md").read_text() == first, "the first config's tables are left alone"
    variants = (tmp_path / "variants" / "default.md").read_text()
    assert "| uniform |" in variants and "| adaptive |" not in variants


def test_replotting_recomputes_the_summaries_from_each_runs_outputs(config, monkeypatch):
    from studies.ablate import replot

    monkeypatch.setattr(recipes.train, "run", fake_run([]))
    assert main(str(config), ["run_pools=[default]"]) == 0
    path = Path(load_ablation(config).output_dir) / "default" / "adaptive" / "seed1" / "summary.json"
    before = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in before.items() if k != "informative"}))  # as if made before a column
    replot(str(config))
    assert json.loads(path.read_text()) == before


def test_a_failed_run_is_reported_and_the_others_still_complete(config, monkeypatch, capsys):
    calls: list = []
    monkeypatch.setattr(recipes.train, "run", fake_run(calls, fail={"adaptive"}))
    assert main(str(config), []) == 1
    out = capsys.readouterr().out
    assert "6 run(s) FAILED" in out
    assert len(calls) == 12
    assert "boom" in (config.parent / "out/default/adaptive/seed0/error.txt").read_text()
    table = (config.parent / "out/default.md").read_text()
    assert "| uniform | 3 |" in table and "| adaptive |" not in table


def test_the_table_pairs_seeds_and_reads_completions_to_reach_the_reference(config, monkeypatch):
    monkeypatch.setattr(recipes.train, "run", fake_run([]))
    assert main(str(config), []) == 0
    md, rows = pool_table("default", read_summaries(load_ablation(config), "default"), "uniform", 100)
    adaptive = next(r for r in rows if r and r[0] == "adaptive")
    head = rows[0]
    delta = [0.1, 0.1, 0.15]  # adaptive minus uniform, seed by seed
    half = 4.303 * float(np.std(delta, ddof=1)) / np.sqrt(3)
    assert adaptive[head.index("Δ final vs uniform")] == f"+{np.mean(delta):.3f} ± {half:.3f} *"
    assert adaptive[head.index("share of uniform's")].startswith("0.4")  # under half the completions
    assert adaptive[head.index("evaluations below uniform")] == "0/9"
    assert "solves 0.50" in md and "| start (warm model) |" in md
    assert (config.parent / "out/default_accuracy_vs_completions.png").exists()
    md, _ = pool_table("default", read_summaries(load_ablation(config), "default"), "uniform", 100, ("adaptive",))
    assert "Paired with `adaptive` (same seeds):" in md and "| uniform | -0.117 ± " in md


def test_a_failed_seed_leaves_fewer_pairs_and_says_so(config, monkeypatch):
    monkeypatch.setattr(recipes.train, "run", fake_run([], fail={("adaptive", 1)}))
    assert main(str(config), []) == 1
    _, rows = pool_table("default", read_summaries(load_ablation(config), "default"), "uniform", 100)
    adaptive = next(r for r in rows if r and r[0] == "adaptive")
    assert adaptive[1] == "2" and adaptive[rows[0].index("Δ final vs uniform")].endswith("(2 pairs)")


def test_tables_still_come_out_when_the_reference_arm_failed(config, monkeypatch, capsys):
    monkeypatch.setattr(recipes.train, "run", fake_run([], fail={"uniform"}))
    assert main(str(config), []) == 1
    table = (config.parent / "out/default.md").read_text()
    assert "paired difference to `adaptive`" in table and "| adaptive | 3 |" in table


def test_dotted_overrides_and_deep_merge_change_one_nested_key():
    raw = apply_overrides({"tiny": {"warmup": {"steps": 10}}}, ["tiny.tasks.mistakes.2=0.1", "tiny.warmup.lr=0.01"])
    assert raw["tiny"] == {"warmup": {"steps": 10, "lr": 0.01}, "tasks": {"mistakes": {"2": 0.1}}}
    base = {"a": {"b": 1, "c": {"d": 2}}, "e": [1]}
    assert deep_merge(base, {"a": {"c": {"d": 3}}, "e": [2]}) == {"a": {"b": 1, "c": {"d": 3}}, "e": [2]}
    assert base == {"a": {"b": 1, "c": {"d": 2}}, "e": [1]}, "the arguments are left alone"


def test_unknown_keys_and_pools_are_errors_before_any_run(config, tmp_path):
    with pytest.raises(ValueError, match="run_pools"):
        load_ablation(config, ["run_pools=[nope]"])
    with pytest.raises(ValueError, match="KEY=VALUE"):
        load_ablation(config, ["seedz=3"])
    bad = tmp_path / "bad.yaml"
    bad.write_text(config.read_text().replace("level_counts", "level_countz"))
    with pytest.raises(ValueError, match="pool 'hard': unknown run key"):
        load_ablation(bad)
    bad.write_text(config.read_text() + "overrides: {tiny: {warmup: {stepz: 3}}}\n")
    with pytest.raises(ValueError, match="stepz"):
        load_ablation(bad)
    bad.write_text(config.read_text() + "overrides: {eval_evry: 3}\n")
    with pytest.raises(ValueError, match="overrides: unknown run key"):
        load_ablation(bad)


def test_the_evidence_studies_figures_get_tables_of_their_own(config, monkeypatch):
    plain = fake_run([])

    def run(cfg, probes):
        result = plain(cfg, probes)
        lucky = Path(cfg.output_dir).parent.name == "adaptive"
        result.update(
            before_by_family={"digit_sum": {1: 0.5, 2: 0.3}, "parity": {1: 0.6, 2: 0.5}},
            after_by_family={"digit_sum": {1: 0.6, 2: 0.4}, "parity": {1: 0.5, 2: 0.5 + 0.01 * cfg.seed}},
            mode_share={
                "after": {"digit_sum": 0.1, "parity": 0.9 if lucky else 0.55},
                "reference": {"digit_sum": 0.1, "parity": 0.5},
            },
            pool_band={"band": "hard", "prompts": 40 + cfg.seed},
            drift={
                "overlap_noise": 0.7,
                "overlap_step": 0.6,
                "static_stale": 0.3,
                "band_start": 0.4,
                "band_end": 0.3,
                "rate_start": 0.4,
                "rate_end": 0.5,
            },
        )
        return result

    monkeypatch.setattr(recipes.train, "run", run)
    assert main(str(config), ["run_pools=[default]"]) == 0
    md = (Path(load_ablation(config).output_dir) / "default.md").read_text()
    assert (
        "| adaptive | 0.500 ± 0.000 (+0.100 ± 0.000 *) | 0.505 ± 0.012 (-0.045 ± 0.012 *) | 0.10 ± 0.00 | 0.90 ± "
        "0.00 |" in md
    ), "each family's accuracy, its change, and the answer mode share"
    assert "| (references) | - | - | 0.10 ± 0.00 | 0.50 ± 0.00 |" in md
    assert "| uniform | 41 ± 2 |" in md, "the band's prompts"
    assert "| uniform | 0.70 ± 0.00 | 0.60 ± 0.00 | - | 0.30 ± 0.00 |" in md, "the drift table"


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "configs/ablations").glob("*.yaml")))
def test_the_shipped_ablation_configs_load(name):
    ab = load_ablation(ROOT / "configs/ablations" / name)
    assert ab.reference_arm in ab.arms and ab.pools


def test_every_arm_of_the_gym_study_is_a_valid_run_on_reasoning_gym_tasks():
    pytest.importorskip("reasoning_gym")
    ab = load_ablation(ROOT / "configs/ablations/gym.yaml")
    for arm, diff in ab.arms.items():
        cfg = arm_config(ab, arm, diff, 0, "gym")
        assert cfg.dataset.startswith("gym:") and cfg.tiny["warmup"]["seed"] == 0, arm


def test_runs_of_an_older_results_version_are_redone_and_a_changed_setting_is_another_run(config, monkeypatch):
    import studies.ablate as ablate

    monkeypatch.setattr(recipes.train, "run", fake_run([]))
    assert main(str(config), ["run_pools=[default]"]) == 0
    ab = load_ablation(config)
    cfg, probes = arm_config(ab, "uniform", ab.arms["uniform"], 0, "default"), arm_probes(ab, "uniform")
    assert ablate.finished(cfg, probes) is not None
    assert ablate.finished(cfg) is None, "measured otherwise (the reference arm probes the pool), it is another run"
    monkeypatch.setattr(ablate, "RESULTS_VERSION", ablate.RESULTS_VERSION - 1)
    assert ablate.finished(cfg, probes) is None, "a run of another results version is not this config's"
    monkeypatch.undo()
    cfg.pool_band = "easy"
    assert ablate.finished(cfg, probes) is None, "with the new setting on, it is another run"


def test_a_changed_default_of_the_curriculum_is_another_run(config, monkeypatch):
    import dataclasses

    import curriculum
    import studies.ablate as ablate

    monkeypatch.setattr(recipes.train, "run", fake_run([]))
    assert main(str(config), ["run_pools=[default]"]) == 0
    cfg = arm_config(load_ablation(config), "adaptive", {"policy": "adaptive"}, 0, "default")
    assert ablate.finished(cfg) is not None
    as_changed = lambda self: {**dataclasses.asdict(self), "tracker_half_life": 7.0}  # noqa: E731  (another default)
    monkeypatch.setattr(curriculum.CurriculumConfig, "to_dict", as_changed)
    assert ablate.finished(cfg) is None


def test_an_added_setting_keeps_the_runs_it_cannot_change_and_its_new_default_is_another_run(config, monkeypatch):
    import dataclasses

    import curriculum
    import studies.ablate as ablate

    def before_the_settings_were_added(self):
        out = dataclasses.asdict(self)
        for group, added in ablate.DIGEST_ADDED.items():
            for key in added:
                del out[group][key]
        return out

    monkeypatch.setattr(recipes.train, "run", fake_run([]))
    with monkeypatch.context() as older:
        older.setattr(curriculum.CurriculumConfig, "to_dict", before_the_settings_were_added)
        assert main(str(config), ["run_pools=[default]"]) == 0
    ab = load_ablation(config)
    cfg = arm_config(ab, "adaptive", {"policy": "adaptive"}, 0, "default")
    assert ablate.finished(cfg) is None, "a new default of an added setting is another run where it acts"
    assert ablate.finished(*ablate.planned(ab, "default", "uniform", 0)) is not None, (
        "a policy that does not read the setting keeps its finished runs"
    )
    cfg = dataclasses.replace(cfg, curriculum={"adaptive": {"unseen_beyond_share": 0.5}})
    assert ablate.finished(cfg) is None, "set otherwise, an added setting is another run"
    cfg = dataclasses.replace(cfg, curriculum={}, grpo={**cfg.grpo, "curriculum_prior_column": None})
    with monkeypatch.context() as older:
        older.setattr(curriculum.CurriculumConfig, "to_dict", before_the_settings_were_added)
        before = ablate.config_digest(cfg)
    assert ablate.config_digest(cfg) == before, "without labels the curriculum does not read it: the runs are kept"


def test_an_added_core_setting_keeps_the_runs_without_features_and_its_new_default_is_another_run(config, monkeypatch):
    import dataclasses

    import curriculum
    import studies.ablate as ablate

    def before_the_settings_were_added(self):
        out = dataclasses.asdict(self)
        for key in ablate.DIGEST_CORE_ADDED:
            del out[key]
        return out

    ab = load_ablation(config)
    plain = arm_config(ab, "adaptive", {"policy": "adaptive"}, 0, "default")  # labelled: no features
    hidden = dataclasses.replace(plain, grpo={**plain.grpo, "curriculum_prior_column": None})  # text features
    old = dataclasses.replace(hidden, curriculum={"feature_calibration": "none"})
    with monkeypatch.context() as older:
        older.setattr(curriculum.CurriculumConfig, "to_dict", before_the_settings_were_added)
        before = {name: ablate.config_digest(c) for name, c in [("plain", plain), ("hidden", hidden), ("old", old)]}
    assert ablate.config_digest(plain) == before["plain"], "a run without features keeps its finished runs"
    assert ablate.config_digest(old) == before["old"], "at the value that gives the old behaviour: kept"
    assert ablate.config_digest(hidden) != before["hidden"], "the new default, where it acts, is another run"


def test_the_population_refresh_keeps_every_finished_run_at_its_default_and_is_another_run_where_set(config, monkeypatch):
    import dataclasses

    import curriculum
    import studies.ablate as ablate

    def before_the_setting_was_added(self):
        out = dataclasses.asdict(self)
        del out["population_refresh"]
        return out

    ab = load_ablation(config)

    def arm(policy: str, **core) -> object:
        return arm_config(ab, policy, {"policy": policy, **({"curriculum": core} if core else {})}, 0, "default")

    with monkeypatch.context() as older:
        older.setattr(curriculum.CurriculumConfig, "to_dict", before_the_setting_was_added)
        old = {policy: ablate.config_digest(arm(policy)) for policy in ("uniform", "adaptive")}
    assert (
        ablate.config_digest(arm("adaptive")) == old["adaptive"] and ablate.config_digest(arm("uniform")) == old["uniform"]
    )
    assert ablate.config_digest(arm("adaptive", population_refresh=256)) != old["adaptive"], "where it is set: another"


def test_auto_features_enter_a_runs_digest_as_the_run_uses_them(config) -> None:
    import dataclasses

    import studies.ablate as ablate

    cfg = arm_config(load_ablation(config), "adaptive", {"policy": "adaptive"}, 0, "default")
    assert cfg.features == "auto" and ablate.features_as_run(cfg) == "none", "the embedded pool has labels"
    explicit = dataclasses.replace(cfg, features="none")
    assert ablate.config_digest(explicit) == ablate.config_digest(cfg), "auto on a labelled pool is none: runs kept"
    hidden = dataclasses.replace(cfg, grpo={**cfg.grpo, "curriculum_prior_column": None})
    assert ablate.features_as_run(hidden) == "text"
    assert ablate.config_digest(hidden) == ablate.config_digest(dataclasses.replace(hidden, features="text"))
    assert ablate.config_digest(hidden) != ablate.config_digest(dataclasses.replace(hidden, features="none"))
    assert ablate.features_as_run(dataclasses.replace(cfg, dataset="my.jsonl")) == "auto", "a file's columns: unknown"


def test_the_ceiling_arm_gets_each_arms_share_of_its_gain_and_the_reach_target(config, monkeypatch):
    monkeypatch.setattr(recipes.train, "run", fake_run([]))
    assert main(str(config), []) == 0
    per_arm = read_summaries(load_ablation(config), "default")
    md, rows = pool_table("default", per_arm, "uniform", 100, ceiling="adaptive", reach_target=0.6)
    assert "What selection can gain: `adaptive`" in md and "Δ final +0.117" in md
    head = next(r for r in rows if r and r[0] == "arm" and "target" in r)
    row = rows[rows.index(head) + 1]
    assert row[0] == "adaptive" and row[head.index("share of adaptive's Δ final")] == "1.00"
    assert row[head.index("target")] == "<= 0.60"
    md, _ = pool_table("default", per_arm, "uniform", 100)
    assert "What selection can gain" not in md, "no ceiling arm, no such table"


def test_arms_with_features_get_a_table_of_their_cost(config, monkeypatch):
    monkeypatch.setattr(recipes.train, "run", fake_run([]))
    assert main(str(config), []) == 0
    per_arm = read_summaries(load_ablation(config), "default")
    md, rows = pool_table("default", per_arm, "uniform", 100)
    assert "What the features cost" in md
    head = next(r for r in rows if r and r[0] == "arm" and "features' share of training" in r)
    row = rows[rows.index(head) + 1]
    assert row[0] == "adaptive" and row[-1].startswith("0.100"), "1 s of features in 10 s of training"
    after = rows[rows.index(head) + 2 :]
    assert not after or not after[0] or after[0][0] != "uniform", "only arms that use features"


def test_the_lucky_study_gets_short_levels_over_time_the_long_levels_shortcut_and_the_warm_models_groups(
    config, monkeypatch
):
    plain = fake_run([])

    def run(cfg, probes):
        result = plain(cfg, probes)
        out = Path(cfg.output_dir)
        damped = out.parent.name == "adaptive"  # the short levels fall without damping, hold with it
        rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
        for i, row in enumerate(rows):
            short = 0.9 if damped else 0.9 - 0.1 * i - 0.01 * cfg.seed
            row.update({"eval/last_digit/accuracy_level_1": short, "eval/last_digit/accuracy_level_4": 0.1})
        rows.insert(1, {"step": 1, "advantage/lone_success_share_before": 0.4, "advantage/lone_success_share_after": 0.1})
        (out / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        fixed = {"mode_share": {"last_digit": {"4": 0.2}}, "chance": {"last_digit": {"4": 0.1}}}
        result["shortcut"] = {
            "before": {**fixed, "accuracy": {"last_digit": {"4": 0.1}}},
            "after": {"mode_share": {"last_digit": {"4": 1.0 if not damped else 0.2}}, "chance": {"last_digit": {"4": 0.1}},
                      "accuracy": {"last_digit": {"4": 0.1}}},
        }  # fmt: skip
        if probes.pool:
            result["pool_start"]["by_level"] = {"last_digit": {"4": {"prompts": 40, "pass_rate": 0.1, "lone_share": 0.3}}}
        return result

    monkeypatch.setattr(recipes.train, "run", run)
    config.write_text(config.read_text() + "short_levels: [1]\nlong_levels: [4]\n")
    assert main(str(config), ["run_pools=[default]"]) == 0
    md = (Path(load_ablation(config).output_dir) / "default.md").read_text()
    assert "| last_digit | 4 | 40 | 0.100 ± 0.000 | 0.30 ± 0.00 |" in md, "the warm model's lone-success groups"
    short = md[md.index("`last_digit`, short levels (1)") :]
    assert "| uniform | 0.890 ± 0.025 |" in short and "| -0.200 ± 0.000 * | -0.200 ± 0.000 * | - |" in short
    assert "| adaptive | 0.900 ± 0.000 |" in short and "| +0.000 ± 0.000 | +0.000 ± 0.000 | +0.210 ± 0.025 * |" in short
    long = md[md.index("Long levels (4)") :]
    assert "| start (warm model) | - | - | - | 0.100 ± 0.000 | 0.20 ± 0.00 | +0.000 ± 0.000 |" in long
    assert "| uniform | - | 0.40 ± 0.00 | 0.10 ± 0.00 | 0.100 ± 0.000 | 1.00 ± 0.00 | +0.000 ± 0.000 |" in long
    md_plain, _ = pool_table("default", read_summaries(load_ablation(config), "default"), "uniform", 100)
    assert "short levels" not in md_plain, "no lucky tables unless the study names its short and long levels"


def test_pool_levels_trains_on_some_levels_and_names_the_fix_when_none_are_there():
    import datasets

    from recipes.build import select_levels

    ds = datasets.Dataset.from_dict({"prompt": ["a", "b", "c"], "answer": ["1", "2", "3"], "difficulty": [1, 4, 2]})
    assert select_levels(ds, [1, 2])["prompt"] == ["a", "c"]
    with pytest.raises(ValueError, match="no training prompt at those levels"):
        select_levels(ds, [5])
    with pytest.raises(ValueError, match="difficulty column"):
        select_levels(ds.remove_columns("difficulty"), [1])


def test_imported_arms_are_read_from_another_studys_folder_paired_by_seed_and_never_run(
    config, tmp_path, monkeypatch, capsys
):
    calls: list = []
    monkeypatch.setattr(recipes.train, "run", fake_run(calls))
    other = tmp_path / "other.yaml"  # another commit's study: its adaptive arm, in a folder of its own
    other.write_text(config.read_text().replace(str(tmp_path / "out"), str(tmp_path / "old")))
    assert main(str(other), ["run_pools=[default]"]) == 0
    text = config.read_text() + f"imported_arms: {{old_walk: '{tmp_path / 'old'}/{{pool}}/adaptive'}}\n"
    config.write_text(text + "compare_arms: [old_walk]\n")
    calls.clear()
    capsys.readouterr()
    assert main(str(config), ["run_pools=[default]"]) == 0
    assert "imported arm old_walk" not in capsys.readouterr().out, "every seed there"
    assert all(arm != "old_walk" for _, arm, _ in calls), "an imported arm is never run"
    per_arm = read_summaries(load_ablation(config), "default")
    assert sorted(per_arm["old_walk"]) == [0, 1, 2] and per_arm["old_walk"][0].arm == "old_walk"
    md = (tmp_path / "out" / "default.md").read_text()
    assert "| old_walk |" in md and "Δ final vs old_walk" in md
    assert "old_walk" not in read_summaries(load_ablation(config), "hard"), "no runs there, no arm"
    assert main(str(config), ["run_pools=[hard]"]) == 0
    assert "pool hard: imported arm old_walk: 0 of 3 seeds under" in capsys.readouterr().out, "said, not silent"
    config.write_text(text.replace("old_walk:", "adaptive:"))
    with pytest.raises(ValueError, match="share a name"):
        load_ablation(config)
    config.write_text(text.replace("/{pool}/adaptive", "/default/adaptive"))
    with pytest.raises(ValueError, match=r"\{pool\}"):
        load_ablation(config)


def test_run_arms_runs_and_reports_only_those_arms_and_must_hold_the_reference(config, monkeypatch):
    calls: list = []
    monkeypatch.setattr(recipes.train, "run", fake_run(calls))
    assert main(str(config), ["run_pools=[default]", "run_arms=[uniform]", "seeds=2"]) == 0
    assert {arm for _, arm, _ in calls} == {"uniform"} and len(calls) == 2
    assert list(read_summaries(load_ablation(config, ["run_arms=[uniform]"]), "default")) == ["uniform"]
    with pytest.raises(ValueError, match="reference arm"):
        load_ablation(config, ["run_arms=[adaptive]"])
    with pytest.raises(ValueError, match="not arms of this config"):
        load_ablation(config, ["run_arms=[uniform, nope]"])
