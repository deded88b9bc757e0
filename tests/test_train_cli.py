"""`curriculum train` and `curriculum ablate`: the real CLI on the smoke configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recipes.cli import main
from recipes.run_config import load_run_config

ROOT = Path(__file__).resolve().parents[1]


def test_an_unknown_config_key_is_an_error_that_lists_the_valid_ones(capsys) -> None:
    assert main(["train", "--config", str(ROOT / "configs/smoke.yaml"), "max_stepz=3"]) == 2
    err = capsys.readouterr().err
    assert "max_stepz" in err and "max_steps" in err and "output_dir" in err


def test_overrides_reach_the_run_config() -> None:
    cfg = load_run_config(
        ROOT / "configs/smoke.yaml",
        ["policy=static", "max_steps=7", "curriculum.target=0.4", "dataset=data/x.jsonl", "output_dir=/tmp/x"],
    )
    assert (cfg.policy, cfg.max_steps, cfg.curriculum["target"], cfg.dataset) == ("static", 7, 0.4, "data/x.jsonl")


def test_a_bad_policy_is_an_error_naming_the_choices(capsys) -> None:
    assert main(["train", "--config", str(ROOT / "configs/smoke.yaml"), "policy=best"]) == 2
    assert "uniform" in capsys.readouterr().err


@pytest.mark.slow
def test_smoke_train_writes_metrics_eval_table_checkpoints_and_plots(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={out}"]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "| level | prompts | before | after | change |" in printed and "| mean | 36 |" in printed
    assert "Writing model shards" not in captured.err, "checkpoint saves draw no progress bars of their own"
    assert "first visits: groups, bias, Brier" in printed, "the calibration per third of the run"
    for name in (
        "metrics.jsonl",
        "eval.md",
        "eval.json",
        "calibration.npz",
        "band.png",
        "informative.png",
        "accuracy_by_level.png",
        "calibration.png",
        "run_config.yaml",
    ):
        assert (out / name).exists(), name
    assert list(out.glob("checkpoint-*/curriculum*")), "checkpoints carry the curriculum state"
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("curriculum/ability" in r for r in rows) and any("eval/accuracy" in r for r in rows)


@pytest.mark.slow
def test_a_streamed_pool_trains_through_a_window_and_counts_draws_by_pool_prompt(tmp_path) -> None:
    out = tmp_path / "stream"
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={out}", "stream=true", "max_steps=6"]
    assert main([*args, "grpo.curriculum_stream_window=16", "plots=false"]) == 0
    result = json.loads((out / "eval.json").read_text())
    pool = 2 * 3 * 24  # families x levels x per_level
    draws = 6 * 4  # steps x prompts_per_step: each prompt trained on leaves the window
    assert result["rollouts"] == draws * 4 and result["coverage"]["pool_drawn"] == pytest.approx(draws / pool)
    assert sum(result["draws_by_level"].values()) == pytest.approx(1.0)


@pytest.mark.slow
def test_a_pool_beyond_the_model_completes_and_says_nothing_is_learnable_yet(tmp_path, capsys) -> None:
    out = tmp_path / "hard"
    args = [
        "train",
        "--config",
        str(ROOT / "configs/smoke.yaml"),
        f"output_dir={out}",
        "levels=[5]",
        "families=[sorting]",
        "max_steps=6",
    ]
    assert main(args) == 0
    assert "nothing is learnable yet" in capsys.readouterr().out


@pytest.mark.slow
def test_the_lucky_smoke_ablation_writes_the_lucky_tables_from_real_runs(tmp_path, capsys) -> None:
    out = tmp_path / "lucky"
    assert main(["ablate", "--config", str(ROOT / "configs/ablations/lucky_smoke.yaml"), f"output_dir={out}"]) == 0
    table = (out / "long.md").read_text()
    for arm in ("uniform", "uniform_dr_grpo", "uniform_short_only", "adaptive_cap"):
        assert f"| {arm} | 1 |" in table
    assert "| last_digit | 5 | 12 |" in table, "the warm model's groups on the pool, per family and level"
    assert "`digit_sum`, short levels (1, 2)" in table and "`last_digit`, short levels (1, 2)" in table
    assert "Long levels (4, 5) at the end" in table and "last_digit long: input dependence" in table
    assert "pool_levels=[1, 2]: 16 of 72 prompts" in capsys.readouterr().out, "the short-only arm trains on 16"


@pytest.mark.slow
def test_the_smoke_ablation_writes_a_table_csv_and_plots(tmp_path, capsys) -> None:
    out = tmp_path / "abl"
    assert main(["ablate", "--config", str(ROOT / "configs/ablations/smoke.yaml"), f"output_dir={out}"]) == 0
    for pool in ("default", "too_hard"):
        table = (out / f"{pool}.md").read_text()
        for arm in ("uniform", "static", "adaptive_damped", "oracle"):
            assert f"| {arm} | 1 |" in table
        assert "What selection can gain: `oracle`" in table, "the oracle arm is the ceiling of the table"
        assert (out / f"{pool}.csv").exists() and (out / f"{pool}_accuracy_vs_completions.png").exists()
    assert len(list(out.glob("*/*/seed0/summary.json"))) == 8


@pytest.mark.slow
def test_a_local_model_folder_and_a_user_jsonl_replace_the_tiny_model_and_the_embedded_pool(tmp_path) -> None:
    from recipes.tiny import DEFAULT_TINY_CONFIG, build_char_tokenizer, build_tiny_model
    from tasks import build_pool

    tok = build_char_tokenizer()
    build_tiny_model(DEFAULT_TINY_CONFIG["model"], tok).save_pretrained(tmp_path / "model")
    tok.save_pretrained(tmp_path / "model")
    # no difficulty column: the default label column is optional
    build_pool(["digit_sum"], [1, 2], 20, seed=3).remove_columns(["difficulty"]).to_json(str(tmp_path / "data.jsonl"))
    out = tmp_path / "run"
    args = [
        "train",
        "--config",
        str(ROOT / "configs/smoke.yaml"),
        f"output_dir={out}",
        f"model={tmp_path / 'model'}",
        f"dataset={tmp_path / 'data.jsonl'}",
        "max_steps=2",
    ]
    assert main(args) == 0
    assert (out / "eval.json").exists()


def test_a_missing_model_folder_is_an_error_naming_the_fix(tmp_path, capsys) -> None:
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"model={tmp_path / 'nope'}", f"output_dir={tmp_path}"]
    assert main(args) == 2
    assert "config.json" in capsys.readouterr().err


@pytest.mark.slow
def test_a_resumed_run_continues_its_metrics_and_calibration_from_the_checkpoint(tmp_path, capsys) -> None:
    import numpy as np

    out = tmp_path / "run"
    base = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={out}"]
    import shutil

    assert main([*base, "max_steps=5"]) == 0  # checkpoints 2, 4 and (at the end) 5
    shutil.rmtree(out / "checkpoint-5")  # as if the run had crashed during step 5
    config = (out / "run_config.yaml").read_text()
    assert main([*base, "resume=true", "max_steps=6"]) == 0
    assert f"resuming from {out / 'checkpoint-4'}" in capsys.readouterr().out
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows]
    assert steps == sorted(steps), "one run's history, in order"
    assert [r["step"] for r in rows if "eval/accuracy" in r] == [0, 6], "no second start evaluation"
    assert sum(r["step"] == 5 and "loss" in r for r in rows) == 1, "step 5 logged once, by the resumed run"
    later = [json.loads(x)["step"] for x in (out / "metrics.after-checkpoint.jsonl").read_text().splitlines()]
    assert later and min(later) == 5, "the interrupted run's rows after the checkpoint are kept aside"
    with np.load(out / "calibration.npz") as data:
        assert sorted(set(data["step"].tolist())) == [1, 2, 3, 4, 5, 6]
        assert np.all(np.diff(data["step"]) >= 0), "steps 1-4 from before the resume, 5-6 from after"
    assert (out / "run_config.yaml").read_text() == config, "a resume leaves the run's config as it was"


def test_resume_without_a_checkpoint_is_an_error_naming_the_fix(tmp_path, capsys) -> None:
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={tmp_path / 'empty'}", "resume=true"]
    assert main(args) == 2
    assert "no complete checkpoint" in capsys.readouterr().err


def test_a_new_run_into_a_folder_with_files_refuses_naming_resume_and_overwrite(tmp_path, capsys) -> None:
    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\n')
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={tmp_path}"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "resume=true" in err and "overwrite=true" in err
    assert (tmp_path / "metrics.jsonl").read_text() == '{"step": 1}\n', "nothing is touched"


def test_overwrite_deletes_only_a_runs_folder(tmp_path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={tmp_path}", "overwrite=true"]
    assert main(args) == 2
    assert "does not hold a run" in capsys.readouterr().err and (tmp_path / "notes.txt").exists()


@pytest.mark.parametrize(
    "override, message",
    [
        ("max_steps=abc", "max_steps='abc': expected an integer"),
        ("levels=3", "levels=3: expected a list"),
        ("learning_rate=abc", "learning_rate='abc': expected a number"),
        ("grpo.bogus=1", "grpo.bogus: not a CurriculumGRPOConfig"),
        ("curriculum.bogus=1", "unknown CurriculumConfig fields"),
        ("output_dir=", "output_dir is empty"),
        ("curriculum_extra=[1,2]", "unknown config key"),
        ("drift_probe_every=50", "drift_probe_every: what a study measures, not a run setting"),
        ("stream=true", "the oracle, dynamic sampling and the static policy need the whole pool"),
    ],
)
def test_bad_values_are_refused_before_any_data_or_model_loads(tmp_path, capsys, monkeypatch, override, message) -> None:
    import recipes.train

    monkeypatch.setattr(recipes.train, "build_data", lambda cfg: pytest.fail("data loaded before the check"))
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={tmp_path / 'run'}", override]
    args += ["policy=static"] if override == "stream=true" else []
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_output_dir_under_a_file_is_refused(tmp_path, capsys) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={tmp_path / 'file' / 'run'}"]) == 2
    assert "under a file" in capsys.readouterr().err


def test_mapped_curriculum_fields_work_as_curriculum_keys() -> None:
    cfg = load_run_config(
        ROOT / "configs/smoke.yaml", ["curriculum.band_low=0.2", "curriculum.policy=uniform", "learning_rate=2e-5"]
    )
    assert (cfg.policy, cfg.curriculum, cfg.learning_rate) == ("uniform", {"band_low": 0.2}, 2e-5)
    from recipes.build import grpo_args

    args = grpo_args(cfg, Path("/tmp/x"))
    assert (args.curriculum_config.band_low, args.curriculum_config.policy) == (0.2, "uniform")


def test_a_dataset_or_broken_yaml_given_as_config_is_an_error_naming_the_fix(tmp_path, capsys) -> None:
    (tmp_path / "data.jsonl").write_text('{"prompt": "a", "answer": "b"}\n{"prompt": "c", "answer": "d"}\n')
    assert main(["train", "--config", str(tmp_path / "data.jsonl")]) == 2
    assert f"dataset={tmp_path / 'data.jsonl'}" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("max_steps: [unclosed\n")
    assert main(["train", "--config", str(tmp_path / "bad.yaml")]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_the_default_config_and_an_ablations_base_are_found_from_any_folder(tmp_path, monkeypatch) -> None:
    from studies.ablate import arm_config, load_ablation

    monkeypatch.chdir(tmp_path)  # a user's own folder, not the checkout
    assert load_run_config(None, []).output_dir == "runs/default"
    ab = load_ablation(ROOT / "configs/ablations/bands.yaml")
    assert arm_config(ab, "uniform", ab.arms["uniform"], 0, "default").families == ["digit_sum", "sorting"]


@pytest.mark.slow
def test_drift_probes_run_at_the_start_twice_and_then_every_n_steps(tmp_path) -> None:
    import numpy as np

    from recipes.run_config import Probes
    from recipes.train import quiet_libraries, run

    quiet_libraries()  # as the CLI does

    out = tmp_path / "drift"
    run(
        load_run_config(ROOT / "configs/smoke.yaml", [f"output_dir={out}", "plots=false"]),
        Probes(drift_every=2, drift_prompts=20),
    )
    with np.load(out / "drift.npz") as data:
        assert data["step"].tolist() == [0, 0, 2, 4] and data["rate"].shape == (4, 20)
    drift = json.loads((out / "eval.json").read_text())["drift"]
    assert set(drift) >= {"overlap_noise", "overlap_step", "stale_noise", "static_stale", "rate_start", "rate_end"}
    assert 0.0 <= drift["rate_start"] <= 1.0 and 0.0 <= drift["rate_end"] <= 1.0  # the rest is nan when no band


@pytest.mark.slow
def test_a_resumed_run_keeps_the_drift_probes_up_to_its_checkpoint(tmp_path) -> None:
    import shutil

    import numpy as np

    from recipes.run_config import Probes
    from recipes.train import quiet_libraries, run

    quiet_libraries()  # as the CLI does

    out, probes = tmp_path / "drift", Probes(drift_every=2, drift_prompts=20)
    run(load_run_config(ROOT / "configs/smoke.yaml", [f"output_dir={out}", "plots=false", "max_steps=4"]), probes)
    with np.load(out / "drift.npz") as data:
        start = data["rate"][:2].copy()
    shutil.rmtree(out / "checkpoint-4")  # as if the run had crashed after its probe at step 4
    run(
        load_run_config(ROOT / "configs/smoke.yaml", [f"output_dir={out}", "plots=false", "max_steps=6", "resume=true"]),
        probes,
    )
    with np.load(out / "drift.npz") as data:
        assert data["step"].tolist() == [0, 0, 2, 4, 6], "the start's probes kept; step 4 probed once, by the resumed run"
        assert np.array_equal(data["rate"][:2], start)
    assert json.loads((out / "eval.json").read_text())["drift"]["every"] == 2


def test_a_trl_that_cannot_train_here_stops_the_run_before_anything_loads(tmp_path, monkeypatch, capsys) -> None:
    import trl.trainer.utils

    import recipes.train

    monkeypatch.setattr(trl.trainer.utils, "_ChunkedLogProbFunction", None)  # TRL 1.15.0 without Triton
    monkeypatch.setattr(recipes.train, "build_data", lambda cfg: pytest.fail("data loaded before the check"))
    out = tmp_path / "run"
    assert main(["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={out}"]) == 2
    err = capsys.readouterr().err
    assert "cannot compute log-probabilities" in err and 'pip install "trl!=1.15.0"' in err and "1.16.0" in err


@pytest.mark.slow
def test_resuming_onto_a_dataset_of_other_prompts_is_refused_naming_the_fix(tmp_path, capsys) -> None:
    def jsonl(name: str, offset: int) -> Path:
        rows = [{"prompt": f"{i}+{i + offset}=", "answer": str(2 * i + offset), "difficulty": 1 + i % 3} for i in range(40)]
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path

    out = tmp_path / "run"
    base = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={out}", "save_steps=2"]
    assert main([*base, f"dataset={jsonl('a.jsonl', 1)}", "max_steps=2"]) == 0
    capsys.readouterr()
    assert main([*base, f"dataset={jsonl('b.jsonl', 2)}", "max_steps=4", "resume=true"]) == 2
    err = capsys.readouterr().err
    assert "another training pool: other prompts" in err and "resume with the dataset the run started with" in err


def test_a_grpo_setting_that_would_turn_the_curriculum_off_is_refused_before_any_model_work(tmp_path) -> None:
    from recipes.build import grpo_args

    cfg = load_run_config("configs/smoke.yaml", [f"output_dir={tmp_path}", "grpo.shuffle_dataset=false"])
    with pytest.raises(ValueError, match="grpo.shuffle_dataset=false: curriculum train draws with the curriculum"):
        grpo_args(cfg, tmp_path)
