"""Streaming pools: a bounded window of an IterableDataset's rows that the curriculum chooses from (rl/trl/stream.py)."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import TOKENIZER, lucky_30, record_chunks, tiny_model
from datasets import IterableDataset

from curriculum import Curriculum, CurriculumConfig, state_hash
from recipes.toy import toy_args
from rl import CurriculumGRPOTrainer
from rl.trl.checkpoint import STATE_JSON, prompt_key
from rl.trl.stream import StreamWindow

pytestmark = pytest.mark.filterwarnings("ignore:.*(gradient|activation)_checkpointing.*:FutureWarning")


def rows(n: int, level: bool = False) -> list[dict]:
    return [{"prompt": f"{i}+{i % 7}=", "answer": str(i + i % 7)} | ({"level": i % 3} if level else {}) for i in range(n)]


def stream(n: int = 100, level: bool = False) -> IterableDataset:
    data = rows(n, level)
    return IterableDataset.from_generator(lambda: iter(data))


def window(n: int = 100, size: int = 8, prior_column: str | None = None, data: list | None = None) -> StreamWindow:
    """A window over `data` (a list streams like a generator) with an adaptive curriculum attached."""
    w = StreamWindow(rows(n, level=prior_column is not None) if data is None else data, size, prior_column)
    w.attach(Curriculum(w.size, CurriculumConfig(policy="adaptive"), seed=0, prior=w.prior()))
    return w


def prompts(w: StreamWindow) -> list[str]:
    return [w.view[s]["prompt"] for s in range(len(w.view))]


# ---- the window ----------------------------------------------------------------------------------------
def test_the_first_window_holds_the_first_rows_and_refills_take_the_next_in_the_order_given() -> None:
    w = window(size=4)
    assert prompts(w) == ["0+0=", "1+1=", "2+2=", "3+3="] and len(w.view) == 4
    w.refill([2, 0])
    assert prompts(w) == ["5+5=", "1+1=", "4+4=", "3+3="]
    assert w.positions.tolist() == [5, 1, 4, 3] and w.consumed == 6 and w.refilled == 2
    assert w.keys.tolist() == [prompt_key(p) for p in prompts(w)]


@pytest.mark.parametrize("prompt", ["12+7=", 'é "q" \\ \n\t\u2028', "\ud800 lone surrogate", ""])
def test_a_text_prompts_key_is_the_key_of_its_json_text(prompt: str) -> None:
    """prompt_key's shortcut for text (the window keys every streamed row) gives the key of the canonical JSON."""
    text = json.dumps(prompt, sort_keys=True, ensure_ascii=False)
    expected = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "little")
    assert prompt_key(prompt) == expected


def test_a_refilled_slot_is_a_prompt_the_curriculum_never_saw() -> None:
    w = window(size=8)
    ids = w.curriculum.propose(4)
    w.curriculum.observe(np.repeat(ids, 4), np.zeros(16))
    w.refill(ids)
    assert (w.curriculum.tracker.attempts[ids] == 0).all() and w.curriculum.counters["groups"] == 4


def test_an_exhausted_stream_starts_again_like_grpo_trainer_and_a_short_one_is_a_short_window() -> None:
    w = window(n=5, size=4)
    w.refill([0, 1])  # row 4, then the stream starts again: row 0
    assert prompts(w)[:2] == ["4+4=", "0+0="] and w.length == 5 and w.positions[:2].tolist() == [4, 5]
    assert window(n=3, size=8).size == 3
    with pytest.raises(ValueError, match="yields no rows"):
        StreamWindow([], 8)


def test_a_row_the_window_still_holds_is_passed_over_so_no_prompt_is_in_two_slots() -> None:
    w = window(n=5, size=4)  # rows 0-3; row 4 and a new pass to come
    w.refill([0])  # row 4
    w.refill([3])  # the stream starts again: row 0 (no longer held)
    assert prompts(w) == ["4+4=", "1+1=", "2+2=", "0+0="]
    w.refill([0])  # rows 1 and 2 are still held: passed over, row 3 comes in
    assert prompts(w) == ["3+3=", "1+1=", "2+2=", "0+0="] and w.positions.tolist() == [8, 1, 2, 5]
    for i in range(40):  # many passes: never a prompt in two slots
        w.refill([(3 * i) % 4, (3 * i + 1) % 4])
        assert len(set(prompts(w))) == 4
    repeats = window(n=6, size=4, data=[{"prompt": "same"}] * 6)  # a stream of one prompt: taken as it is
    repeats.refill([1])
    assert prompts(repeats) == ["same"] * 4


@pytest.mark.parametrize("n", [3, 8])  # shorter than the window; exactly as long
def test_a_window_that_holds_the_whole_stream_keeps_its_prompts_as_a_map_style_pool(n: int) -> None:
    w = window(n=n, size=8)
    assert w.holds_all and w.size == n and w.length == n
    ids = w.curriculum.propose(2)
    w.curriculum.observe(np.repeat(ids, 4), np.ones(8))
    w.refill(ids)
    assert prompts(w) == [r["prompt"] for r in rows(n)] and (w.curriculum.tracker.attempts[ids] == 4).all()
    assert w.refilled == 0 and not window(n=9, size=8).holds_all


def test_a_streamed_prior_column_follows_the_rows_and_string_labels_map_by_the_first_window() -> None:
    w = window(size=6, prior_column="level")
    assert w.prior().tolist() == [0, 1, 2, 0, 1, 2]
    w.refill([0])  # row 6, level 0
    assert w.curriculum.labels[0] == 0
    named = [{"prompt": f"p{i}", "src": "ab"[i % 2]} for i in range(6)] + [{"prompt": "x", "src": "c"}]
    w = window(size=6, prior_column="src", data=named)
    assert w.prior().tolist() == [0, 1, 0, 1, 0, 1]
    with pytest.raises(ValueError, match=r"streamed labels \['c'\] were not among the first window's"):
        w.refill([0])


def test_a_row_without_a_prompt_is_refused_naming_the_fix() -> None:
    with pytest.raises(ValueError, match="rename_column"):
        StreamWindow([{"question": "1+1="}], 4)


@pytest.mark.parametrize("refills", [3, 9, 30])  # within the first pass; across its end; rows passed over
def test_a_reloaded_window_holds_the_same_rows_and_streams_the_same_next_ones(refills: int) -> None:
    a, b = window(n=12, size=8), window(n=12, size=8)
    for i in range(refills):
        a.refill([(5 * i) % 8])
    b.load_state_dict(a.state_dict())
    assert prompts(b) == prompts(a) and b.keys.tolist() == a.keys.tolist()
    a.refill([1, 2, 3])
    b.refill([1, 2, 3])
    assert prompts(b) == prompts(a) and b.consumed == a.consumed


def test_resuming_a_window_over_another_stream_is_refused_naming_the_fix() -> None:
    a = window(size=8)
    a.refill([0, 1])
    other = window(size=8, data=[{"prompt": f"q{i}"} for i in range(100)])
    with pytest.raises(ValueError, match="the stream changed since the checkpoint; resume with the stream"):
        other.load_state_dict(a.state_dict())
    assert prompts(other)[0] == "q0"  # nothing assigned


# ---- the trainer ---------------------------------------------------------------------------------------
def make_trainer(out: Path, data: IterableDataset | None = None, **overrides) -> CurriculumGRPOTrainer:
    settings = {"max_steps": 6, "curriculum_stream_window": 16, **overrides}
    return CurriculumGRPOTrainer(
        model=tiny_model(),
        reward_funcs=[lucky_30],
        processing_class=TOKENIZER,
        args=toy_args(str(out), **settings),
        train_dataset=stream() if data is None else data,
    )


@pytest.mark.slow
def test_a_streamed_pool_trains_with_the_curriculum_choosing_from_the_window(tmp_path: Path, caplog) -> None:
    trainer = make_trainer(tmp_path)
    assert trainer.curriculum is not None and trainer.curriculum.num_prompts == 16
    assert trainer.args.dataloader_num_workers == 0  # TRL's setting for a stream, kept
    chunks = record_chunks(trainer)
    trainer.train()
    window = trainer.curriculum_window
    # every chunk trained on left the window (each rank checked its rows were the slots' prompts at the time)
    assert len(chunks) == 6 and window.refilled == 6 * 2 and window.consumed == 16 + 12
    assert trainer.curriculum.counters["prompts_seen"] == 12
    assert not any("without the curriculum" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_text_features_are_left_out_of_a_stream_with_one_line(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        trainer = make_trainer(tmp_path, curriculum_features="text", max_steps=1)
    lines = [r.getMessage() for r in caplog.records if "left out with a streamed train_dataset" in r.getMessage()]
    assert len(lines) == 1 and trainer.curriculum.ability.features is None


@pytest.mark.slow
def test_a_resumed_streaming_run_continues_exactly_where_the_uninterrupted_run_went(tmp_path: Path) -> None:
    settings = {"save_strategy": "steps", "save_steps": 2}
    full = make_trainer(tmp_path / "full", **settings)
    full_chunks = record_chunks(full)
    full.train()
    folder = tmp_path / "full" / "checkpoint-2"
    assert json.loads((folder / STATE_JSON).read_text())["pool"]["stream"] is True

    resume_dir = tmp_path / "resumed"
    shutil.copytree(folder, resume_dir / "checkpoint-2")
    resumed = make_trainer(resume_dir, **settings)
    resumed_chunks = record_chunks(resumed)
    resumed.train(resume_from_checkpoint=True)

    assert resumed_chunks == full_chunks[2:]  # the same slots proposed ...
    a, b = full.curriculum_window, resumed.curriculum_window
    assert prompts(b) == prompts(a) and b.consumed == a.consumed  # ... holding the same rows
    assert state_hash(resumed.curriculum.state_dict()) == state_hash(full.curriculum.state_dict())


@pytest.mark.slow
def test_resuming_a_streaming_run_on_a_map_style_pool_is_refused(tmp_path: Path) -> None:
    from conftest import plain_sums

    make_trainer(tmp_path, max_steps=2, save_strategy="steps", save_steps=2).train()
    other = CurriculumGRPOTrainer(
        model=tiny_model(),
        reward_funcs=[lucky_30],
        processing_class=TOKENIZER,
        args=toy_args(str(tmp_path), max_steps=4),
        train_dataset=plain_sums(16),
    )
    with pytest.raises(ValueError, match="another training pool|streamed train_dataset"):
        other.train(resume_from_checkpoint=str(tmp_path / "checkpoint-2"))


def test_a_window_of_fewer_than_three_chunks_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="curriculum_stream_window=4 holds fewer than 3 generation chunks of 2 prompts"):
        make_trainer(tmp_path, curriculum_stream_window=4)
