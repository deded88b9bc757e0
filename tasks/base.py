"""The task interface: an `Example`, a `Task` base class, and TRL reward functions over the registry.

Design (after nanochat's `tasks/`): a task family is a small class that can

- `generate(difficulty, seed)`: draw one `Example`; the same `(difficulty, seed)` always gives the same
  example, because each draw has its own RNG seeded from `(family, difficulty, seed)` (no global RNG);
- `verify(example_or_answer, completion) -> bool`: did the completion solve it (0/1). This is what a
  curriculum tracks as a pass rate;
- `reward(example_or_answer, completion) -> float`: the shaped training signal. It may give partial
  credit (here: `format_bonus` for an answer of the right shape), so it is kept apart from `verify`;
- `mistake(example) -> str`: the answer of a common wrong procedure (a carry dropped, the wrong sort order),
  which the tiny model's warm-up mixes into its data.

Completions are short plain strings: the answer is the first line of the completion, stripped.
Subclasses set `family` (which registers them, see `get_task`) and `levels`, and implement
`_make(difficulty, rng) -> (prompt, answer)` and `is_well_formed(answer)`.

`correctness_reward` and `format_reward` have TRL's reward signature
`fn(prompts, completions, **kwargs) -> list[float]`; the dataset's `answer` (and `family`, if present)
columns arrive as keyword lists.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

_REGISTRY: dict[str, type[Task]] = {}


@dataclass(frozen=True)
class Example:
    prompt: str
    answer: str
    difficulty: int
    family: str


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a plain string, or a conversational list of messages."""
    if isinstance(completion, str):
        return completion
    if completion is None:
        return ""
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return str(completion)


def reference_text(answer: Any) -> str | None:
    """A row's reference answer as text, or None when it has none (None, NaN, blank): nothing matches that.

    Without this, str(None) == "None" and the completion "None" would score as correct.
    """
    if answer is None or (isinstance(answer, float) and not math.isfinite(answer)):
        return None
    return str(answer).strip() or None


def extract_answer(completion: Any) -> str:
    """The answer part of a completion: its first line, stripped ("7\\n3+4=" -> "7")."""
    text = completion_text(completion).strip()
    return text.split("\n", 1)[0].strip()


class Task:
    """One task family with graded difficulty; see the module docstring."""

    family: ClassVar[str] = ""
    levels: ClassVar[range] = range(1, 6)
    """Difficulty levels, easiest first."""
    format_bonus: ClassVar[float] = 0.1
    """Partial credit in `reward` for a wrong answer of the right shape."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.family:
            _REGISTRY[cls.family] = cls

    def generate(self, difficulty: int, seed: int) -> Example:
        if difficulty not in self.levels:
            raise ValueError(
                f"{self.family}: difficulty {difficulty} is outside levels {self.levels.start}..{self.levels.stop - 1}"
            )
        rng = random.Random(f"{self.family}:{difficulty}:{seed}")  # str seeds hash with sha512: stable
        prompt, answer = self._make(difficulty, rng)
        return Example(prompt=prompt, answer=answer, difficulty=difficulty, family=self.family)

    def _make(self, difficulty: int, rng: random.Random) -> tuple[str, str]:
        raise NotImplementedError

    def is_well_formed(self, answer: str) -> bool:
        """Whether an extracted answer has the shape of an answer (right or wrong)."""
        return bool(answer)

    def mistake(self, example: Example) -> str:
        """The answer a common wrong procedure gives (it may coincide with the right one). The tiny model's warm-up
        mixes some of these into its data, as fine-tuning data mixes careful and sloppy solutions; reinforcement
        learning with the verifier then has a procedure to learn to prefer. Default: no known mistake."""
        return example.answer

    def verify(self, example_or_answer: Example | str | None, completion: Any) -> bool:
        """Whether the completion's answer is the reference; never, when the row has no reference."""
        answer = example_or_answer.answer if isinstance(example_or_answer, Example) else example_or_answer
        reference = reference_text(answer)
        return reference is not None and extract_answer(completion) == reference

    def reward(self, example_or_answer: Example | str | None, completion: Any) -> float:
        if self.verify(example_or_answer, completion):
            return 1.0
        return self.format_bonus if self.is_well_formed(extract_answer(completion)) else 0.0


class ExactMatch(Task):
    """The fallback for rows of no known family: first line of the completion == the answer."""


def get_task(family: str) -> Task:
    """The task of a registered family name ("arithmetic", "sorting")."""
    if family not in _REGISTRY:
        raise ValueError(f"unknown task family {family!r}; known families: {task_families()}")
    return _REGISTRY[family]()


def task_for_row(family: str | None) -> Task:
    """The task that checks a dataset row: its family's, or exact match for rows of no known family."""
    return _REGISTRY[family]() if family in _REGISTRY else ExactMatch()


def task_families() -> list[str]:
    return sorted(_REGISTRY)


def _families(kwargs: dict[str, Any], n: int) -> Sequence[str | None]:
    family = kwargs.get("family")
    return family if family is not None else [None] * n


def _answers(kwargs: dict[str, Any], n: int) -> Sequence[Any]:
    if "answer" not in kwargs:
        raise ValueError(
            f"reward function got no 'answer' column (got {sorted(kwargs)}); "
            "add an 'answer' column to the dataset or pass another reward function"
        )
    answers = kwargs["answer"]
    if len(answers) != n:
        raise ValueError(f"got {n} completions but {len(answers)} answers")
    return answers


def correctness_reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
    """1.0 if the task's `verify` accepts the completion, else 0.0: the verifier as a TRL reward."""
    answers = _answers(kwargs, len(completions))
    families = _families(kwargs, len(completions))
    return [float(task_for_row(f).verify(a, c)) for c, a, f in zip(completions, answers, families, strict=True)]


def format_reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
    """A small shaping term: the task's `format_bonus` for an answer of the right shape, else 0.0."""
    families = _families(kwargs, len(completions))
    out = []
    for c, f in zip(completions, families, strict=True):
        task = task_for_row(f)
        out.append(task.format_bonus if task.is_well_formed(extract_answer(c)) else 0.0)
    return out
