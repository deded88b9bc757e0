"""`curriculum train` and `curriculum ablate`: the real CLI on the smoke configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rl.cli import main
from rl.run_config import load_run_config

ROOT = Path(__file__).resolve().parents[1]


def test_an_unknown_config_key_is_an_error_that_lists_the_valid_ones(capsys) -> None:
    assert main(["train", "--config", str(ROOT / "configs/smoke.yaml"), "max_stepz=3"]) == 2
    err = capsys.readouterr().err
    assert "max_stepz" in err and "max_steps" in err and "output_dir" in err


def test_overrides_reach_the_run_config() -> None:
    cfg = load_run_config(ROOT / "configs/smoke.yaml", ["policy=static", "max_steps=7", "curriculum.target=0.4",
                                                        "dataset=data/x.jsonl", "output_dir=/tmp/x"])
    assert (cfg.policy, cfg.max_steps, cfg.curriculum["target"], cfg.dataset) == ("static", 7, 0.4, "data/x.jsonl")


def test_a_bad_policy_is_an_error_naming_the_choices(capsys) -> None:
    assert main(["train", "--config", str(ROOT / "configs/smoke.yaml"), "policy=best"]) == 2
    assert "uniform" in capsys.readouterr().err


@pytest.mark.slow
def test_smoke_train_writes_metrics_eval_table_checkpoints_and_plots(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={out}"]) == 0
    printed = capsys.readouterr().out
    assert "| level | prompts | before | after | change |" in printed and "| mean | 36 |" in printed
    for name in ("metrics.jsonl", "eval.md", "eval.json", "calibration.npz", "band.png", "informative.png",
                 "accuracy_by_level.png", "calibration.png", "run_config.yaml"):
        assert (out / name).exists(), name
    assert list(out.glob("checkpoint-*/curriculum*")), "checkpoints carry the curriculum state"
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("curriculum/ability" in r for r in rows) and any("eval/accuracy" in r for r in rows)


@pytest.mark.slow
def test_a_pool_beyond_the_model_completes_and_says_nothing_is_learnable_yet(tmp_path, capsys) -> None:
    out = tmp_path / "hard"
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={out}", "levels=[5]",
            "families=[sorting]", "max_steps=6"]
    assert main(args) == 0
    assert "nothing is learnable yet" in capsys.readouterr().out


@pytest.mark.slow
def test_the_smoke_ablation_writes_a_table_csv_and_plots(tmp_path, capsys) -> None:
    out = tmp_path / "abl"
    assert main(["ablate", "--config", str(ROOT / "configs/ablations/smoke.yaml"), f"output_dir={out}"]) == 0
    for pool in ("default", "too_hard"):
        table = (out / f"{pool}.md").read_text()
        for arm in ("uniform", "static", "adaptive_damped"):
            assert f"| {arm} | 1 |" in table
        assert (out / f"{pool}.csv").exists() and (out / f"{pool}_accuracy_vs_completions.png").exists()
    assert len(list(out.glob("*/*/seed0/summary.json"))) == 6


@pytest.mark.slow
def test_a_local_model_folder_and_a_user_jsonl_replace_the_tiny_model_and_the_embedded_pool(tmp_path) -> None:
    from rl.tiny import DEFAULT_TINY_CONFIG, build_char_tokenizer, build_tiny_model
    from tasks import build_pool

    tok = build_char_tokenizer()
    build_tiny_model(DEFAULT_TINY_CONFIG["model"], tok).save_pretrained(tmp_path / "model")
    tok.save_pretrained(tmp_path / "model")
    build_pool(["digit_sum"], [1, 2], 20, seed=3).to_json(str(tmp_path / "data.jsonl"))
    out = tmp_path / "run"
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={out}", f"model={tmp_path / 'model'}",
            f"dataset={tmp_path / 'data.jsonl'}", "max_steps=2"]
    assert main(args) == 0
    assert (out / "eval.json").exists()


def test_a_missing_model_folder_is_an_error_naming_the_fix(tmp_path, capsys) -> None:
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"model={tmp_path / 'nope'}", f"output_dir={tmp_path}"]
    assert main(args) == 2
    assert "config.json" in capsys.readouterr().err


@pytest.mark.slow
def test_a_run_resumes_from_its_latest_checkpoint_and_appends_its_metrics(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    base = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={out}"]
    assert main(base) == 0
    lines = len((out / "metrics.jsonl").read_text().splitlines())
    assert main([*base, "resume=true", "max_steps=6"]) == 0
    assert "resuming from" in capsys.readouterr().out and (out / "checkpoint-6").is_dir()
    assert len((out / "metrics.jsonl").read_text().splitlines()) > lines


def test_resume_without_a_checkpoint_is_an_error_naming_the_fix(tmp_path, capsys) -> None:
    args = ["train", "--config", str(ROOT / "configs/smoke.yaml"), f"output_dir={tmp_path / 'empty'}", "resume=true"]
    assert main(args) == 2
    assert "no checkpoint" in capsys.readouterr().err
