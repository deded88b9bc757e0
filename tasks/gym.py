"""reasoning-gym as a task source: any of its procedural tasks over a grid of its difficulty settings.

reasoning-gym (`pip install "rlvr-curriculum[gym]"`, pure Python, offline) ships 100+ verifiable tasks, each with
a generator, a verifier (`dataset.score_answer(answer, entry)`, a score in [0, 1]) and difficulty settings. This
module turns a list of its tasks into task families of our own (`Task`), so that pools, held-out sets, the tiny
model's warm-up and the evaluation per level work on them as on the embedded families:

- a **grid** per task: a list of cells, each a dict of the task's settings (easiest first). `DEFAULT_GRIDS` gives
  five cells for the tasks we know; any other task gets one cell of its own defaults; `grids=` replaces a task's.
- **labels**: the task and the cell, as one integer difficulty. The first task's cells are levels 1..n1, the
  second's n1+1..n1+n2, and so on, so no two (task, cell) pairs share a label and the curriculum learns each apart.
- **the verifier as the reward**: `gym_reward` is reasoning-gym's own graded score; success is a score of 1
  (`Task.verify`). The answer is the completion's first line, as for every family here (`answer="line"`, for
  models that answer at once), or what stands between the last `<answer></answer>` tags (`answer="tag"`, for
  models that reason first: reasoning-gym's own prompt, `TAG_PROMPT`, then precedes each question).
- **the question text is the task's own.** `trim=True` (a documented option, for small models with short contexts)
  cuts the fixed instruction of the tasks in `TRIMS`, keeping the question: "Spell this word backward (example:
  sun -> nus): wen" -> "backward: wen".

A draw is reproducible: cell c of a task reads item `i` of one reasoning-gym dataset seeded per (task, cell),
with `i` drawn from our own per-draw RNG (see `Task.generate`).

    from tasks.gym import GymSpec, gym_families
    from tasks import build_pool, build_eval
    families = gym_families(GymSpec(["chain_sum", "spell_backward"], trim=True))
    pool = build_pool(families, levels=None, per_level=200, seed=0)       # difficulty 1..10, family "gym:chain_sum"
    held_out = build_eval(families, levels=None, per_level=50, seed=0, exclude=pool)

On the command line: `curriculum train dataset=gym:chain_sum,spell_backward gym.trim=true`.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

from tasks.base import Task, completion_text, extract_answer, reference_text, task_for_row

PREFIX = "gym:"
"""A dataset spec `gym:task1,task2` and the family names `gym:task`."""

_SIZE = 10**9
"""Items per (task, cell) dataset: reasoning-gym draws item i from Random(seed + i), so any index is O(1)."""

DEFAULT_GRIDS: dict[str, list[dict[str, Any]]] = {
    "chain_sum": [
        {"min_terms": 2, "max_terms": 3, "min_digits": 1, "max_digits": 1},
        {"min_terms": 4, "max_terms": 4, "min_digits": 1, "max_digits": 1},
        {"min_terms": 2, "max_terms": 2, "min_digits": 2, "max_digits": 2},
        {"min_terms": 3, "max_terms": 3, "min_digits": 2, "max_digits": 2},
        {"min_terms": 4, "max_terms": 4, "min_digits": 2, "max_digits": 2},
    ],
    "spell_backward": [{"min_word_len": n, "max_word_len": n} for n in (3, 4, 5, 6, 7)],
    "letter_counting": [{"min_words": n, "max_words": n} for n in (1, 2, 3, 4, 6)],
    "count_bits": [{"min_n": 1, "max_n": 2**b - 1} for b in (10, 12, 16, 20, 30)],
    "gcd": [{"min_value": 1, "max_value": v} for v in (40, 70, 100, 300, 1000)],
    "lcm": [{"min_value": 2, "max_value": v} for v in (40, 70, 100, 200, 500)],
    "basic_arithmetic": [
        {"min_terms": 2, "max_terms": 2, "min_digits": 1, "max_digits": 1, "operators": ["+", "-"],
         "allow_parentheses": False, "allow_negation": False},
        {"min_terms": 3, "max_terms": 3, "min_digits": 1, "max_digits": 1, "operators": ["+", "-"],
         "allow_parentheses": False, "allow_negation": False},
        {"min_terms": 2, "max_terms": 2, "min_digits": 1, "max_digits": 1, "operators": ["+", "-", "*"],
         "allow_parentheses": False, "allow_negation": False},
        {"min_terms": 2, "max_terms": 2, "min_digits": 2, "max_digits": 2, "operators": ["+", "-", "*"],
         "allow_parentheses": False, "allow_negation": False},
        {"min_terms": 3, "max_terms": 3, "min_digits": 2, "max_digits": 2, "operators": ["+", "-", "*"],
         "allow_parentheses": True, "allow_negation": False},
    ],
}  # fmt: skip
"""Five cells per task, easiest first (each a dict of the task's settings); other tasks get one cell of defaults.
Each cell holds at least a thousand distinct questions, so a pool of 300 per cell leaves a held-out set."""

TRIMS: dict[str, tuple[str, str]] = {
    "chain_sum": (r"^State the final answer to the following arithmetic problem: ", ""),
    "spell_backward": (r"^Spell this word backward \(example: sun -> nus\): ", "backward: "),
    "letter_counting": (r'^How many times does the letter "(.)" appear in the text: "(.*)"\?$', r"count \1: \2"),
    "count_bits": (r"^How many 1 bits are there in the binary representation of the number (\d+)\?$", r"bits \1"),
    "gcd": (r"^Find the Greatest Common Divisor \(GCD\) of these numbers: (.*)\. Give only the GCD as your final "
            r"answer\.$", r"gcd \1"),
    "lcm": (r"^Find the Least Common Multiple \(LCM\) of these numbers: ", "lcm "),
    "basic_arithmetic": (r"^Calculate (.*?)\.?$", r"\1 ="),
}  # fmt: skip
"""`trim=True`: (pattern, replacement) over a task's question, cutting its fixed instruction."""


def _data(question: str) -> str:
    """What a question is about: the text after its last ": " (the word, the numbers), trimmed or not."""
    return question.rsplit(": ", 1)[-1].strip().rstrip("=").strip()


def _ints(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"-?\d+", text)]


def _drop_last_term(question: str) -> str:
    tokens = _data(question).split()  # "4 - 1 - 7" -> ["4", "-", "1", "-", "7"]
    total = int(tokens[0])
    for op, value in zip(tokens[1:-2:2], tokens[2:-2:2], strict=True):
        total = total + int(value) if op == "+" else total - int(value)
    return str(total)


MISTAKES: dict[str, Any] = {
    "chain_sum": _drop_last_term,                                       # the last term forgotten
    "spell_backward": lambda q: _data(q),                               # the word as it is, not reversed
    "count_bits": lambda q: str(_ints(q)[-1].bit_length()),             # binary digits counted, not the ones
    "gcd": lambda q: str(min(_ints(_data(q.split(". Give")[0])))),      # the smaller number
    "lcm": lambda q: str(math.prod(_ints(_data(q)))),                   # the product
}  # fmt: skip
"""A common wrong procedure per task (question -> its answer), as `Task.mistake` gives for the embedded families;
other tasks' mistake is another item's answer."""

ANSWER_FORMATS = ("line", "tag")
TAG_PROMPT = "Think step by step, then give only the final answer between <answer> and </answer> tags.\n\n"
"""answer="tag": put before each question (reasoning-gym's prompts ask for the same tags)."""


@dataclass(frozen=True)
class GymSpec:
    """Which reasoning-gym tasks make a pool, over which grids, with or without their instructions."""

    tasks: Sequence[str]
    grids: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    """Task -> its cells (each a dict of its settings, easiest first), replacing `DEFAULT_GRIDS`' for that task."""
    trim: bool = False
    """Cut the fixed instruction of the tasks in `TRIMS` (others keep their question whole)."""
    answer: str = "line"
    """Where a completion's answer stands: "line" (its first line) or "tag" (inside <answer></answer>)."""

    def grid(self, task: str) -> list[dict[str, Any]]:
        return [dict(c) for c in self.grids.get(task, DEFAULT_GRIDS.get(task, [{}]))]

    def levels(self) -> dict[str, range]:
        """Task -> its levels: its cells numbered on from the previous task's ({"gcd": range(1, 6), "lcm": range(6,
        11)}); cell c of a task is level levels[task][c - 1]."""
        out, offset = {}, 0
        for task in self.tasks:
            out[task] = range(offset + 1, offset + len(self.grid(task)) + 1)
            offset += len(out[task])
        return out

    def to_json(self) -> dict[str, Any]:
        return {"tasks": list(self.tasks), "grids": {t: self.grid(t) for t in self.tasks}, "trim": self.trim,
                "answer": self.answer}  # fmt: skip


def parse_dataset(spec: str) -> list[str]:
    """`gym:chain_sum,spell_backward` -> ["chain_sum", "spell_backward"]."""
    names = [n.strip() for n in spec[len(PREFIX) :].split(",") if n.strip()]
    if not names:
        raise ValueError(f"dataset={spec!r} names no reasoning-gym task; e.g. dataset=gym:chain_sum,spell_backward")
    if len(set(names)) < len(names):
        raise ValueError(f"dataset={spec!r} names a task twice")
    return names


def is_gym(dataset: str | None) -> bool:
    return isinstance(dataset, str) and dataset.startswith(PREFIX)


def _gym() -> Any:
    try:
        import reasoning_gym
    except ImportError as err:
        raise ImportError(
            'reasoning-gym tasks need the [gym] extra: pip install "rlvr-curriculum[gym]" (or pip install reasoning-gym)'
        ) from err
    return reasoning_gym


def _config_class(task: str) -> type:
    from reasoning_gym.factory import DATASETS

    if task not in DATASETS:
        raise ValueError(f"unknown reasoning-gym task {task!r}; known tasks: {', '.join(sorted(DATASETS))}")
    return DATASETS[task][1]


@cache
def _dataset(task: str, cell_json: str, seed: int) -> Any:
    return _gym().create_dataset(task, size=_SIZE, seed=seed, **json.loads(cell_json))


def cell_dataset(task: str, cells: Sequence[Mapping[str, Any]], cell: int) -> Any:
    """The reasoning-gym dataset of a task's cell `cell` (1-based), seeded per (task, cell), made once."""
    seed = random.Random(f"gym:{task}:{cell}").randrange(2**31)
    return _dataset(task, json.dumps(cells[cell - 1], sort_keys=True), seed)


def check_spec(spec: GymSpec) -> None:
    """Every task name and cell setting, and that the task can be scored from its answer alone; raises ValueError
    naming the valid ones. Draws one item per cell (milliseconds), before any model work."""
    import dataclasses

    _gym()
    if spec.answer not in ANSWER_FORMATS:
        raise ValueError(f"gym.answer={spec.answer!r}: choose one of {', '.join(ANSWER_FORMATS)}")
    unknown = sorted(set(spec.grids) - set(spec.tasks))
    if unknown:
        raise ValueError(f"gym.grids names {unknown}, not in the pool's tasks {list(spec.tasks)}")
    for task in spec.tasks:
        settings = [f.name for f in dataclasses.fields(_config_class(task)) if f.name not in ("seed", "size")]
        cells = spec.grid(task)
        if not cells:
            raise ValueError(f"gym.grids.{task} is empty; give at least one cell (a dict of settings, {{}} for defaults)")
        for k, cell in enumerate(cells, start=1):
            bad = sorted(set(cell) - set(settings))
            if bad:
                raise ValueError(f"gym.grids.{task} cell {k}: unknown setting(s) {bad}; {task} takes {settings}")
            try:
                ds = cell_dataset(task, cells, k)
                entry = ds[0]
            except Exception as err:  # reasoning-gym validates its config with asserts and ValueErrors
                raise ValueError(f"gym.grids.{task} cell {k} ({cell}): reasoning-gym refuses it: {err!r}") from err
            if ds.score_answer(entry["answer"], {"answer": entry["answer"], "metadata": {}}) != 1.0:
                raise ValueError(
                    f"reasoning-gym task {task!r} cannot be scored from its answer alone (its verifier reads the "
                    "entry's metadata), which this pool does not keep; choose another task"
                )


class GymTask(Task):
    """One reasoning-gym task over its grid; `gym_families` makes a subclass per task with these set."""

    task: ClassVar[str] = ""
    cells: ClassVar[list[dict[str, Any]]] = []
    offset: ClassVar[int] = 0
    """Level of cell c (1-based) is offset + c."""
    trim: ClassVar[bool] = False
    answer: ClassVar[str] = "line"
    format_bonus: ClassVar[float] = 0.0

    def _make(self, difficulty: int, rng: random.Random) -> tuple[str, str]:
        entry = cell_dataset(self.task, self.cells, difficulty - self.offset)[rng.randrange(_SIZE)]
        return self.question(entry["question"]), str(entry["answer"])

    def question(self, text: str) -> str:
        if self.trim and self.task in TRIMS:
            pattern, replacement = TRIMS[self.task]
            text = re.sub(pattern, replacement, text, flags=re.DOTALL)
        return TAG_PROMPT + text if self.answer == "tag" else text

    def mistake(self, example: Any) -> str:
        """The answer of a common wrong procedure (`MISTAKES`), else another item's answer from the same cell (fixed by
        the prompt): sloppy fine-tuning data, which the tiny model's warm-up mixes in so that reinforcement learning
        has a right procedure to learn to prefer (see recipes/tiny.py). Questions with tags lose them first."""
        if self.task in MISTAKES:
            return MISTAKES[self.task](example.prompt.removeprefix(TAG_PROMPT))
        seed = int.from_bytes(example.prompt.encode()[-8:].rjust(8, b"\0"), "little") + len(example.prompt)
        return self.generate(example.difficulty, seed).answer

    def answer_of(self, completion: Any) -> str | None:
        """The answer part of a completion (see `GymSpec.answer`); None when a tagged answer is missing."""
        if self.answer == "tag":
            from reasoning_gym.utils import extract_answer as tagged

            return tagged(completion_text(completion))
        return extract_answer(completion)

    def score(self, answer: str | None, completion: Any) -> float:
        """reasoning-gym's own score of the completion's answer, in [0, 1]; 0 when the row has no reference."""
        reference = reference_text(answer)
        if reference is None:
            return 0.0
        scorer = cell_dataset(self.task, self.cells, 1)  # a task's verifier is the same in every cell
        return float(scorer.score_answer(self.answer_of(completion), {"answer": reference, "metadata": {}}))

    def verify(self, example_or_answer: Any, completion: Any) -> bool:
        answer = getattr(example_or_answer, "answer", example_or_answer)
        return self.score(answer, completion) >= 1.0

    def reward(self, example_or_answer: Any, completion: Any) -> float:
        return self.score(getattr(example_or_answer, "answer", example_or_answer), completion)


def gym_families(spec: GymSpec) -> list[str]:
    """Register one task family per reasoning-gym task of `spec` (named `gym:<task>`, replacing any earlier
    registration of that name) and return their names, in the spec's order; checks the spec first."""
    check_spec(spec)
    names = []
    for task, levels in spec.levels().items():
        family = PREFIX + task
        attrs = {"family": family, "task": task, "cells": spec.grid(task), "offset": levels.start - 1, "trim": spec.trim,
                 "answer": spec.answer, "levels": levels}  # fmt: skip
        type(f"Gym_{task}", (GymTask,), attrs)  # registers itself under `family` (Task.__init_subclass__)
        names.append(family)
    return names


def level_names(spec: GymSpec) -> dict[int, str]:
    """Level -> "task cell c" for a spec's levels (for tables)."""
    return {lv: f"{task} {c}" for task, levels in spec.levels().items() for c, lv in enumerate(levels, start=1)}


def gym_reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
    """reasoning-gym's graded score of each completion (TRL's reward signature); needs the `answer` and `family`
    columns of a gym pool. Rows of other families get their task's `reward`."""
    from tasks.base import _answers, _families

    answers = _answers(kwargs, len(completions))
    families = _families(kwargs, len(completions))
    return [float(task_for_row(f).reward(a, c)) for c, a, f in zip(completions, answers, families, strict=True)]
