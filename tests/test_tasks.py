"""Task families, pools, reward functions, the math verifier and the local data loader."""

from __future__ import annotations

import json
import logging
import pickle
import threading

import datasets
import pytest

from tasks import (
    Arithmetic,
    DigitParity,
    DigitSum,
    Example,
    LastDigit,
    SortLetters,
    Task,
    build_eval,
    build_pool,
    correctness_reward,
    difficulty_ranks,
    format_reward,
    get_task,
    load_prompts,
    math_reward,
    task_families,
)
from tasks.math_answers import MathAnswerVerifier, MathReward, extract_math_answer

FAMILIES = [Arithmetic(), DigitSum(), SortLetters(), DigitParity(), LastDigit()]


def trainer_kwargs(**columns):
    """What TRL's GRPOTrainer passes a reward function next to the dataset columns."""
    logged: dict[str, float] = {}
    extras = {"trainer_state": None, "log_extra": lambda *a: None, "log_metric": logged.__setitem__}
    return {**columns, **extras}, logged


# ---- task families -------------------------------------------------------------------------------------
@pytest.mark.parametrize("task", FAMILIES, ids=lambda t: t.family)
def test_the_same_seed_always_gives_the_same_example(task):
    for level in task.levels:
        assert task.generate(level, seed=7) == task.generate(level, seed=7)
        assert len({task.generate(level, seed=s).prompt for s in range(20)}) > 5


@pytest.mark.parametrize("task", FAMILIES, ids=lambda t: t.family)
def test_every_level_generates_examples_its_own_answer_solves(task):
    assert list(task.levels) == [1, 2, 3, 4, 5]
    for level in task.levels:
        for seed in range(25):
            ex = task.generate(level, seed)
            assert (ex.difficulty, ex.family) == (level, task.family)
            assert task.verify(ex, ex.answer) and task.reward(ex, ex.answer) == 1.0
            assert len(ex.answer) <= 8, "completions are about 8 characters"


@pytest.mark.parametrize("task", FAMILIES, ids=lambda t: t.family)
def test_harder_levels_have_longer_prompts(task):
    mean_len = [sum(len(task.generate(lv, s).prompt) for s in range(50)) / 50 for lv in task.levels]
    assert mean_len == sorted(mean_len)


def test_generate_rejects_a_level_outside_the_range():
    with pytest.raises(ValueError, match="outside levels 1..5"):
        Arithmetic().generate(6, seed=0)


def test_arithmetic_level_one_adds_a_digit_to_a_two_digit_number():
    for seed in range(20):
        ex = Arithmetic().generate(1, seed=seed)
        a, b = ex.prompt.rstrip("=").split("+")
        assert sorted([len(a), len(b)]) == [1, 2] and int(ex.answer) == int(a) + int(b)


def test_digit_sum_adds_the_digits_of_a_number_one_digit_longer_each_level():
    for level, length in zip(range(1, 6), range(3, 8), strict=True):
        ex = DigitSum().generate(level, seed=level)
        digits = ex.prompt.removeprefix("digits ").removesuffix("=")
        assert len(digits) == length and int(ex.answer) == sum(map(int, digits))


def test_each_family_knows_its_common_mistake():
    assert Arithmetic().mistake(Example("47+85=", "132", 2, "arithmetic")) == "22"  # carries dropped
    assert Arithmetic().mistake(Example("12+34=", "46", 2, "arithmetic")) == "46"  # no carry: same answer
    assert DigitSum().mistake(Example("digits 4721=", "14", 2, "digit_sum")) == "13"  # last digit left out
    assert SortLetters().mistake(Example("sort dcax=", "acdx", 2, "sorting")) == "xdca"  # the wrong way round
    for task in FAMILIES[:3]:
        wrong = [task.mistake(ex) != ex.answer for ex in (task.generate(3, s) for s in range(50))]
        assert sum(wrong) > 25, f"{task.family}: the mistake is usually a wrong answer"


def test_parity_answers_yes_or_no_so_a_guess_is_right_half_the_time():
    task = DigitParity()
    assert task.generate(1, seed=0).answer in ("yes", "no")
    assert task.verify(Example("even 4721=", "yes", 2, "parity"), "yes") and not task.verify(
        Example("even 4721=", "yes", 2, "parity"), "no"
    )
    assert task.mistake(Example("even 4721=", "yes", 2, "parity")) == "no"  # 4+7+2 = 13 without the last digit
    examples = [task.generate(5, s) for s in range(400)]
    always_yes = sum(task.verify(ex, "yes") for ex in examples) / len(examples)
    assert 0.4 < always_yes < 0.6, "one fixed answer is right about half the time"


def test_verify_is_zero_or_one_while_reward_gives_partial_credit_for_the_format():
    task = Arithmetic()
    ex = Example(prompt="3+4=", answer="7", difficulty=1, family="arithmetic")
    assert task.verify(ex, "8") is False and task.reward(ex, "8") == pytest.approx(task.format_bonus)
    assert task.verify(ex, "seven") is False and task.reward(ex, "seven") == 0.0
    assert task.verify("7", "7") is True and task.reward("7", "7") == 1.0


def test_verify_reads_the_first_line_of_the_completion():
    task = SortLetters()
    assert task.verify("acd", " acd \nsort x=")
    assert not task.verify("acd", "acdd")
    assert not task.verify("acd", "")


def test_an_unknown_family_name_lists_the_known_ones():
    with pytest.raises(
        ValueError, match=r"known families: \['arithmetic', 'digit_sum', 'last_digit', 'parity', 'sorting'\]"
    ):
        get_task("sort")
    assert task_families() == ["arithmetic", "digit_sum", "last_digit", "parity", "sorting"]


# ---- pools ---------------------------------------------------------------------------------------------
def test_pool_has_the_trl_columns_and_distinct_prompts_per_level():
    pool = build_pool(["arithmetic", "sorting"], None, per_level=30, seed=0)
    assert isinstance(pool, datasets.Dataset)
    assert set(pool.column_names) == {"prompt", "answer", "difficulty", "family"}
    assert pool.features["difficulty"].dtype == "int64"
    assert len(pool) == 2 * 5 * 30 and len(set(pool["prompt"])) == len(pool)
    assert build_pool(["arithmetic", "sorting"], None, per_level=30, seed=0)["prompt"] == pool["prompt"]
    assert build_pool(["arithmetic"], [2, 3], per_level=30, seed=1)["prompt"] != pool["prompt"][30:90]


def test_held_out_split_shares_no_prompt_with_the_pool():
    pool = build_pool(["arithmetic", "sorting"], None, per_level=40, seed=0)
    held_out = build_eval(["arithmetic", "sorting"], None, per_level=20, seed=0, exclude=pool)
    assert len(held_out) == 2 * 5 * 20
    assert not set(held_out["prompt"]) & set(pool["prompt"])


class OneDigitSums(Task):
    """100 distinct prompts; not registered (no family name)."""

    def _make(self, difficulty, rng):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        return f"{a}+{b}=", str(a + b)


def test_held_out_split_of_a_small_level_returns_what_is_left_and_warns(caplog):
    pool = build_pool([OneDigitSums()], [1], per_level=90, seed=0)
    with caplog.at_level(logging.WARNING, logger="tasks.data"):
        held_out = build_eval([OneDigitSums()], [1], per_level=20, seed=0, exclude=pool)
    assert len(held_out) == 10 and not set(held_out["prompt"]) & set(pool["prompt"])
    assert "only 10 distinct eval prompts" in caplog.text


# ---- reward functions ----------------------------------------------------------------------------------
def test_reward_functions_read_the_dataset_columns_from_kwargs():
    kwargs, _ = trainer_kwargs(
        answer=["7", "acd", "7"], family=["arithmetic", "sorting", "arithmetic"], difficulty=[1, 2, 1]
    )
    prompts = ["3+4=", "sort dca=", "3+4="]
    assert correctness_reward(prompts, ["7", "acd\n", "8"], **kwargs) == [1.0, 1.0, 0.0]
    assert format_reward(prompts, ["7", "a c", "8"], **kwargs) == [0.1, 0.0, 0.1]


def test_reward_functions_have_distinct_names_for_trl():
    names = [f.__name__ for f in (correctness_reward, format_reward, math_reward)]
    assert len(set(names)) == 3


def test_reward_functions_accept_conversational_completions():
    completions = [[{"role": "assistant", "content": "7"}]]
    assert correctness_reward(["3+4="], completions, answer=["7"], family=["arithmetic"]) == [1.0]


def test_rows_of_no_known_family_are_checked_by_exact_match():
    assert correctness_reward(["q", "q"], ["Paris", "paris"], answer=["Paris", "Paris"]) == [1.0, 0.0]


def test_a_reward_without_an_answer_column_says_what_to_add():
    with pytest.raises(ValueError, match="add an 'answer' column"):
        correctness_reward(["3+4="], ["7"], difficulty=[1])


# ---- math answers --------------------------------------------------------------------------------------
def test_math_answers_are_extracted_from_boxed_or_after_four_hashes():
    assert extract_math_answer(r"so \boxed{\frac{1}{2}} and \boxed{x^{2}}.") == "x^{2}"
    assert extract_math_answer("48/2 = 24 apples\n#### 24\n") == "24"
    assert extract_math_answer(r"\boxed 5$") == "5"
    assert extract_math_answer("the answer is 24") is None


def test_math_reward_matches_equivalent_answers():
    completions = [
        r"Half of it: $\boxed{0.5}$",
        "Natalia sold 48/2 = 24 clips in May.\n#### 72",
        r"The total is \boxed{72}.",
        r"\boxed{73}",
        "The answer is 72",
    ]
    references = [r"\frac{1}{2}", "72", "Natalia sold 48+24 = 72 clips.\n#### 72", "72", "72"]
    kwargs, logged = trainer_kwargs(answer=references)
    assert math_reward(["p"] * 5, completions, **kwargs) == [1.0, 1.0, 1.0, 0.0, 0.0]
    assert logged == {"math_reward/timeouts": 0.0}


def test_an_adversarial_math_answer_times_out_fast_and_is_counted():
    reward = MathReward(timeout_s=0.5)
    kwargs, logged = trainer_kwargs(answer=["1", "1"])
    scores = reward(  # how fast: `timeouts` counts the answer cut off at timeout_s (wall-clock checks are benchmarks)
        ["p", "p"], [r"\boxed{9^{9^{9^{9}}}}", "{" * 1_000_000 + r"\boxed{" + "(" * 10**5], **kwargs
    )
    assert scores == [0.0, 0.0]
    assert reward.verifier.stats.timeouts == 1 and reward.verifier.stats.no_answer == 1
    assert logged == {"math_reward/timeouts": 1.0}


def test_math_verifier_works_off_the_main_thread_in_a_worker_process():
    verifier = MathAnswerVerifier(timeout_s=1.0)
    results: list[bool] = []
    worker = threading.Thread(
        target=lambda: results.extend(verifier.verify(c, "1") for c in [r"\boxed{1}", r"\boxed{9^{9^{9^{9}}}}"])
    )
    try:
        worker.start()
        worker.join(timeout=30)
        assert results == [True, False] and verifier.stats.timeouts == 1
    finally:
        verifier.close()


def test_math_reward_survives_pickling():
    clone = pickle.loads(pickle.dumps(math_reward))
    assert clone.__name__ == "math_reward"
    assert clone(["p"], [r"\boxed{2}"], answer=["2"]) == [1.0]


# ---- local data ----------------------------------------------------------------------------------------
ROWS = [
    {"question": "1+1=", "solution": 2, "level": "easy"},
    {"question": "12*12=", "solution": 144, "level": "hard"},
    {"question": "9+9=", "solution": 18, "level": "medium"},
]


def write_rows(tmp_path, kind: str):
    if kind == "jsonl":
        path = tmp_path / "data.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
        return path
    ds = datasets.Dataset.from_list(ROWS)
    if kind == "parquet":
        ds.to_parquet(tmp_path / "data.parquet")
        return tmp_path / "data.parquet"
    ds.save_to_disk(tmp_path / "saved")
    return tmp_path / "saved"


@pytest.mark.parametrize("kind", ["jsonl", "parquet", "save_to_disk"])
def test_load_prompts_reads_jsonl_parquet_and_saved_folders(tmp_path, kind):
    ds = load_prompts(write_rows(tmp_path, kind), "question", "solution", "level")
    assert set(ds.column_names) == {"prompt", "answer", "difficulty"}
    assert ds["prompt"] == ["1+1=", "12*12=", "9+9="]
    assert ds["answer"] == ["2", "144", "18"]
    assert ds["difficulty"] == [1, 3, 2]  # easy < medium < hard


def test_a_missing_column_error_names_it_the_columns_found_and_the_fix(tmp_path):
    path = write_rows(tmp_path, "jsonl")
    with pytest.raises(ValueError) as err:
        load_prompts(path, answer_column="solution", difficulty_column=None)
    message = str(err.value)
    assert "'prompt'" in message and "['question', 'solution', 'level']" in message
    assert "prompt_column=" in message and "Rename it" in message


def test_difficulty_column_can_be_left_out(tmp_path):
    ds = load_prompts(write_rows(tmp_path, "jsonl"), "question", "solution", difficulty_column=None)
    assert "difficulty" not in ds.column_names and "level" in ds.column_names


def test_unsupported_paths_are_clear_errors(tmp_path):
    (tmp_path / "data.csv").write_text("prompt,answer\n1+1=,2\n")
    with pytest.raises(ValueError, match=r"expected \.jsonl, \.json, \.parquet"):
        load_prompts(tmp_path / "data.csv")
    with pytest.raises(ValueError, match="not one written by Dataset.save_to_disk"):
        load_prompts(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_prompts(tmp_path / "nope.jsonl")


def test_string_difficulty_labels_become_ranks_in_natural_order():
    assert difficulty_ranks(["Level 10", "Level 2", "Level 1"]) == {"Level 1": 1, "Level 2": 2, "Level 10": 3}
    assert difficulty_ranks(["hard", "Easy", "medium"]) == {"Easy": 1, "medium": 2, "hard": 3}
    assert difficulty_ranks([3, 1, 3]) == {1: 1, 3: 3}
    assert difficulty_ranks([0.5, 0.1]) == {0.1: 1, 0.5: 2}


def test_last_digit_is_the_digit_sums_last_digit_so_a_guess_is_right_one_time_in_ten():
    task = LastDigit()
    ex = task.generate(4, seed=3)
    digits = ex.prompt.removeprefix("last ").removesuffix("=")
    assert len(digits) == 6 and ex.answer == str(sum(map(int, digits)) % 10)
    assert task.verify(Example("last 4721=", "4", 2, "last_digit"), "4\n") and not task.verify("4", "14")
    assert task.mistake(Example("last 4721=", "4", 2, "last_digit")) == "3"  # 4+7+2 = 13 without the last digit
    assert task.is_well_formed("7") and not task.is_well_formed("14")
    answers = {task.generate(5, seed=s).answer for s in range(200)}
    assert answers == set("0123456789"), "every digit is an answer at the long lengths"
