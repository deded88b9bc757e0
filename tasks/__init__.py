"""Verifiable task families with graded difficulty, prompt pools, and TRL reward functions.

One short file per family, all on the small interface of `tasks.base.Task`:

    tasks/base.py          Example, Task (generate / verify / reward), correctness_reward, format_reward
    tasks/digit_sum.py     "digits 472=" -> "13": number length, levels 1-5 (the embedded default's arithmetic)
    tasks/sorting.py       "sort dca=" -> "acd": word length, levels 1-5
    tasks/last_digit.py    "last 472=" -> "3": the last digit of the digit sum; guessable one time in ten, levels 1-5
    tasks/parity.py        "even 472=" -> "no": is the digit sum even; guessable half the time, levels 1-5
    tasks/arithmetic.py    "47+8=" ... "4721+8390=": operand digits, levels 1-5
    tasks/math_answers.py  math_reward: GSM8K/MATH answers via math_verify, under a time limit
    tasks/data.py          build_pool / build_eval (generated), load_prompts (local files)
    tasks/files.py         reading and checking local files for load_prompts: errors name file, line and fix

    from tasks import build_pool, correctness_reward, format_reward
    pool = build_pool(["digit_sum", "sorting"], levels=None, per_level=200, seed=0)
    # GRPOTrainer(..., train_dataset=pool, reward_funcs=[correctness_reward, format_reward])
"""

from tasks.arithmetic import Arithmetic
from tasks.base import (
    Example,
    Task,
    correctness_reward,
    format_reward,
    get_task,
    task_families,
    task_for_row,
)
from tasks.data import build_eval, build_pool, difficulty_ranks, load_prompts
from tasks.digit_sum import DigitSum
from tasks.last_digit import LastDigit
from tasks.math_answers import MathReward, math_reward
from tasks.parity import DigitParity
from tasks.sorting import SortLetters

__all__ = [
    "Arithmetic",
    "DigitParity",
    "DigitSum",
    "Example",
    "LastDigit",
    "MathReward",
    "SortLetters",
    "Task",
    "build_eval",
    "build_pool",
    "correctness_reward",
    "difficulty_ranks",
    "format_reward",
    "get_task",
    "load_prompts",
    "math_reward",
    "task_families",
    "task_for_row",
]
