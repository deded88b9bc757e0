"""Bad and minimal user data: `load_prompts` says what is wrong and where; rewards never credit a missing answer."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import datasets
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks import correctness_reward, format_reward, load_prompts
from tasks.math_answers import MathReward


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def rows_jsonl(tmp_path: Path, rows: list[dict], name: str = "data.jsonl") -> Path:
    return write_jsonl(tmp_path / name, [json.dumps(r) for r in rows])


def error_of(path: Path, **kwargs) -> str:
    with pytest.raises(ValueError) as err:
        load_prompts(path, **kwargs)
    message = str(err.value)
    assert "\n" not in message, "one line"
    return message


# ---- 1. the difficulty column is optional ----------------------------------------------------------------
def test_a_dataset_with_only_prompt_and_answer_loads_without_labels_and_says_so_once(tmp_path, caplog):
    path = rows_jsonl(tmp_path, [{"prompt": "1+1=", "answer": "2"}, {"prompt": "2+2=", "answer": 4}])
    with caplog.at_level(logging.INFO, logger="tasks"):
        ds = load_prompts(path)
    assert ds.column_names == ["prompt", "answer"] and ds["answer"] == ["2", "4"]
    notes = [r for r in caplog.records if "difficulty" in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno == logging.WARNING
    assert "no difficulty labels" in notes[0].getMessage()


def test_a_level_column_is_kept_and_the_note_says_how_to_use_it(tmp_path, caplog):
    path = rows_jsonl(tmp_path, [{"prompt": "1+1=", "answer": "2", "level": "easy"}])
    with caplog.at_level(logging.WARNING, logger="tasks"):
        ds = load_prompts(path)
    assert "difficulty" not in ds.column_names and ds["level"] == ["easy"]
    assert "difficulty_column='level'" in caplog.text


def test_a_difficulty_column_present_is_used_by_default(tmp_path, caplog):
    rows = [{"prompt": "a", "answer": "1", "difficulty": "hard"}, {"prompt": "b", "answer": "2", "difficulty": "easy"}]
    with caplog.at_level(logging.WARNING, logger="tasks"):
        ds = load_prompts(rows_jsonl(tmp_path, rows))
    assert ds["difficulty"] == [2, 1] and not caplog.records


@pytest.mark.parametrize("column", ["difficulty", "level"])
def test_an_explicitly_named_missing_difficulty_column_is_an_error_naming_the_columns(tmp_path, column):
    message = error_of(rows_jsonl(tmp_path, [{"prompt": "a", "answer": "1"}]), difficulty_column=column)
    assert f"no difficulty column {column!r}" in message and "['prompt', 'answer']" in message


def test_a_null_or_unusable_difficulty_label_names_its_line(tmp_path):
    rows = [{"prompt": "a", "answer": "1", "level": 2}, {"prompt": "b", "answer": "2", "level": None}]
    message = error_of(rows_jsonl(tmp_path, rows), difficulty_column="level")
    assert "line 2" in message and "column 'level'" in message and "null (in 1 of 2 rows)" in message
    rows = [{"prompt": "a", "answer": "1", "difficulty": [1]}]
    message = error_of(rows_jsonl(tmp_path, rows, name="lists.jsonl"))
    assert "line 1" in message and "column 'difficulty'" in message and "expected a number or a label" in message


# ---- 2. rows without a prompt or an answer ---------------------------------------------------------------
@pytest.mark.parametrize(
    "bad_row, column, problem",
    [
        ('{"question": "2+2=", "solution": null}', "solution", "null"),
        ('{"question": "2+2="}', "solution", "null"),
        ('{"question": null, "solution": "4"}', "question", "null"),
        ('{"question": "2+2=", "solution": NaN}', "solution", "NaN"),
        ('{"question": "2+2=", "solution": "  "}', "solution", "empty"),
        ('{"question": "", "solution": "4"}', "question", "empty"),
    ],
)
def test_a_row_without_a_prompt_or_answer_is_refused_naming_file_line_and_column(tmp_path, bad_row, column, problem):
    path = write_jsonl(tmp_path / "data.jsonl", ['{"question": "1+1=", "solution": "2"}', "", bad_row])
    message = error_of(path, prompt_column="question", answer_column="solution")
    assert str(path) in message and "line 3" in message  # the blank line counts
    assert f"column {column!r}" in message and problem in message


@pytest.mark.parametrize("prompt", [7, ["1+1="], {"text": "1+1="}])
def test_a_prompt_that_is_not_a_string_is_refused_at_load_time(tmp_path, prompt):
    path = rows_jsonl(tmp_path, [{"prompt": prompt, "answer": "2"}])
    message = error_of(path)
    assert str(path) in message and "line 1" in message and "column 'prompt'" in message
    assert "expected a string" in message


def test_a_mixed_prompt_column_names_the_first_row_that_is_not_a_string(tmp_path):
    path = rows_jsonl(tmp_path, [{"prompt": "1+1=", "answer": "2"}, {"prompt": 5, "answer": "5"}])
    assert "line 2" in error_of(path)


def test_a_null_answer_in_a_parquet_file_names_the_row(tmp_path):
    path = tmp_path / "data.parquet"
    datasets.Dataset.from_list([{"prompt": "a", "answer": 1}, {"prompt": "b", "answer": None}]).to_parquet(path)
    message = error_of(path)
    assert str(path) in message and "row 1" in message and "column 'answer'" in message and "null" in message


def test_an_answer_that_is_a_list_is_refused(tmp_path):
    message = error_of(rows_jsonl(tmp_path, [{"prompt": "a", "answer": [1, 2]}]))
    assert "line 1" in message and "column 'answer'" in message and "a string or a number" in message


def test_numbers_and_mixed_answers_become_strings(tmp_path):
    path = rows_jsonl(tmp_path, [{"prompt": "a", "answer": 72}, {"prompt": "b", "answer": "x"}])
    assert load_prompts(path)["answer"] == ["72", "x"]


# ---- 3. unreadable files are messages, not tracebacks ----------------------------------------------------
@pytest.mark.parametrize("name, text", [("data.jsonl", ""), ("data.jsonl", "\n  \n"), ("data.json", "[]")])
def test_an_empty_file_is_a_clear_error(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    message = error_of(path)
    assert str(path) in message and "no rows" in message and '{"prompt": ..., "answer": ...}' in message


@pytest.mark.parametrize(
    "line, expected",
    [
        ('{"prompt": "b", "answer": ', "not valid JSON"),
        ('{"prompt": "b" "answer": "2"}', "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_a_malformed_jsonl_line_is_named_with_its_number(tmp_path, line, expected):
    lines = ['{"prompt": "a", "answer": "1"}', "", line, '{"prompt": "c", "answer": "3"}']
    path = write_jsonl(tmp_path / "data.jsonl", lines)
    message = error_of(path)
    assert str(path) in message and "line 3" in message and expected in message
    assert "one JSON object per line" in message


def test_a_malformed_json_array_is_named_with_its_line(tmp_path):
    path = tmp_path / "data.json"
    path.write_text('[\n{"prompt": "a", "answer": "1"},\n{"prompt": "b" "answer": "2"}\n]\n')
    message = error_of(path)
    assert str(path) in message and "line 3" in message and "not valid JSON" in message


def test_an_unknown_extension_says_how_to_convert(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("prompt,answer\n1+1=,2\n")
    message = error_of(path)
    assert str(path) in message and ".jsonl" in message and "to_json(" in message


def test_a_missing_path_names_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        load_prompts("data/my.jsonl")
    message = str(err.value)
    assert "\n" not in message and "data/my.jsonl" in message and str(tmp_path) in message


def test_a_plain_folder_lists_the_data_files_inside_it(tmp_path):
    rows_jsonl(tmp_path, [{"prompt": "a", "answer": "1"}], name="train.jsonl")
    message = error_of(tmp_path)
    assert "save_to_disk" in message and "train.jsonl" in message


def test_a_parquet_file_that_is_not_parquet_is_a_clear_error(tmp_path):
    path = tmp_path / "data.parquet"
    path.write_text('{"prompt": "a", "answer": "1"}\n')
    message = error_of(path)
    assert str(path) in message and "Parquet" in message


# ---- 4. rewards ------------------------------------------------------------------------------------------
MISSING = [None, float("nan"), "", "   "]
GUESSES = ["None", "nan", "", " ", r"\boxed{None}", r"\boxed{nan}", "#### None", None]


@pytest.fixture(scope="module")
def math_reward():
    return MathReward(timeout_s=1.0, backend="signal")


@pytest.mark.parametrize("reward_name", ["correctness_reward", "math_reward"])
def test_no_completion_is_correct_against_a_missing_answer(reward_name, math_reward):
    reward = {"correctness_reward": correctness_reward, "math_reward": math_reward}[reward_name]
    for answer in MISSING:
        scores = reward(["p"] * len(GUESSES), GUESSES, answer=[answer] * len(GUESSES))
        assert scores == [0.0] * len(GUESSES), f"answer={answer!r}"


answers = st.none() | st.text(max_size=8) | st.integers() | st.floats() | st.sampled_from(MISSING)
completions = (
    st.none()
    | st.text(max_size=20)
    | st.builds(lambda a: rf"\boxed{{{a}}}", st.text("0123456789.-/", max_size=6))
    | st.builds(lambda t: [{"role": "assistant", "content": t}], st.text(max_size=8))
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(completions, answers), min_size=1, max_size=4))
def test_rewards_are_finite_floats_in_the_unit_interval(math_reward, rows):
    comps, refs = [c for c, _ in rows], [a for _, a in rows]
    for reward in (correctness_reward, format_reward, math_reward):
        scores = reward(["p"] * len(rows), comps, answer=refs)
        assert len(scores) == len(rows)
        assert all(type(s) is float and math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores)
    correct = correctness_reward(["p"] * len(rows), comps, answer=refs)
    for score, ref in zip(correct, refs, strict=True):
        if ref is None or (isinstance(ref, float) and math.isnan(ref)) or (isinstance(ref, str) and not ref.strip()):
            assert score == 0.0
