"""The recipes' small parts: the one atomic write, the run summary as a type, the column registry of the ablation
tables and the calibration record a run keeps."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from curriculum.statefile import write_atomic
from recipes.summary import RunSummary
from studies.ablation_stats import ARM, MAIN_COLUMNS, Arm, Column, pool_table, render


def test_an_atomic_write_that_fails_halfway_leaves_the_old_file_and_no_temporary(tmp_path) -> None:
    path = tmp_path / "summary.json"
    write_atomic(path, "old")

    def crash(f) -> None:
        f.write(b"half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, crash)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"


def _summary(seed: int, final: float, **kw) -> RunSummary:
    curve = [(0.0, 0.2), (50.0, (0.2 + final) / 2), (100.0, final)]
    return RunSummary(start={"1": 0.2}, final={"1": final}, start_mean=0.2, final_mean=final, curve=curve,
                      level_curve=[{"1": y} for _, y in curve], auc=(0.2 + final) / 2, seed=seed, **kw)  # fmt: skip


def test_a_summary_survives_json_and_one_written_before_a_figure_existed_still_loads() -> None:
    s = _summary(3, 0.5, informative=0.4, extra={"a_later_figure": 1.0})
    back = RunSummary.from_json(json.loads(json.dumps(s.to_json())))
    assert back.final_mean == 0.5 and back.informative == 0.4 and back.seed == 3
    assert back.to_json()["a_later_figure"] == 1.0, "an unknown key is kept as it was"
    old = {k: v for k, v in s.to_json().items() if k not in ("informative", "brier_first")}
    loaded = RunSummary.from_json(old)
    assert math.isnan(loaded.informative) and math.isnan(loaded.brier_first) and loaded.final_mean == 0.5


def test_a_column_of_the_registry_is_drawn_into_the_table_and_the_csv_alike() -> None:
    per_arm = {arm: {s: _summary(s, f + 0.01 * s) for s in range(3)} for arm, f in (("uniform", 0.4), ("adaptive", 0.6))}
    gain = Column("final minus start ({ref})", lambda a: f"{a.mean('final_mean').mean - 0.2:.2f}")
    arms = [Arm(n, r, "uniform", per_arm["uniform"], 100.0) for n, r in per_arm.items()]
    head, rows = render([ARM, gain], arms, "uniform")
    assert head == ["arm", "final minus start (uniform)"] and rows == [["uniform", "0.21"], ["adaptive", "0.41"]]
    md, csv_rows = pool_table("default", per_arm, "uniform", 100)
    main_head = [c.head.format(ref="uniform") for c in MAIN_COLUMNS]
    assert csv_rows[0] == main_head and "| " + " | ".join(main_head) + " |" in md
    adaptive = dict(zip(main_head, csv_rows[2], strict=True))
    assert adaptive["Δ final vs uniform"] == "+0.200 ± 0.000 *" and adaptive["seeds"] == "3"
    assert "| " + " | ".join(csv_rows[2]) + " |" in md, "the markdown row is the CSV row"


def test_the_study_says_where_each_arm_spent_its_draws_level_by_level() -> None:
    per_arm = {
        "uniform": {s: _summary(s, 0.4, draws_by_level={"1": 0.5, "2": 0.5}) for s in range(2)},
        "adaptive": {s: _summary(s, 0.5, draws_by_level={"1": 0.8 + 0.1 * s, "2": 0.2 - 0.1 * s}) for s in range(2)},
    }
    md, _ = pool_table("default", per_arm, "uniform", 100)
    assert "Share of the draws per level (mean over seeds):" in md
    assert "| adaptive | 0.850 | 0.150 |" in md and "| start accuracy (warm model) | 0.20 | - |" in md
    assert "Share of the draws" not in pool_table("default", {"uniform": {0: _summary(0, 0.4)}}, "uniform", 100)[0]


def test_the_calibration_record_saves_and_resumes_up_to_a_step(tmp_path) -> None:
    pytest.importorskip("transformers")
    from curriculum.core import StepReport
    from recipes.callbacks import CalibrationRecord

    record = CalibrationRecord(num_prompts=5)
    for step, ids in ((1, [0, 2]), (2, [2, 4]), (3, [1])):
        ids = np.array(ids)
        record.add(StepReport(ids, np.full(ids.size, 0.5), np.full(ids.size, step / 4), ids == 2), step)
    record.save(tmp_path / "calibration.npz")
    resumed = CalibrationRecord(num_prompts=5)
    resumed.load(tmp_path / "calibration.npz", up_to_step=2)  # step 3 was trained by the interrupted run only
    assert resumed.column("prompt_id").tolist() == [0, 2, 2, 4] and resumed.column("step").tolist() == [1, 1, 2, 2]
    assert resumed.draws.tolist() == [1, 0, 2, 0, 1] and resumed.column("first_visit").dtype == bool
    assert record.draws.tolist() == [1, 1, 2, 0, 1]


def test_the_applications_run_offline_even_when_imported_without_the_cli() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    root = Path(__file__).resolve().parents[1]
    for app in ("recipes.train", "studies.ablate", "benches.stream_bench"):  # studies, benches: through recipes
        code = f"import {app}, huggingface_hub.constants as c; print(c.HF_HUB_OFFLINE)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=True)
        assert out.stdout.strip() == "True", app
