"""Integer addition graded by the operands' digits: one procedure (column addition with carries) on longer inputs.

Prompts are short and answers are integers, so a completion is at most 5 digits:

    level 1   47+8=       two-digit plus one-digit (either order)
    level 2   47+85=      two-digit plus two-digit
    level 3   472+85=     three-digit plus two-digit (either order)
    level 4   472+859=    three-digit plus three-digit
    level 5   4721+8390=  four-digit plus four-digit

`verify` compares the first line of the completion with the answer exactly ("07" is wrong);
`is_well_formed` accepts any integer, which is what `format_reward` pays a little for. The common mistake
(`mistake`) drops every carry. A tiny character-level model learns column addition abruptly and at a
different point for each warm-up seed, which is why the embedded default uses `digit_sum` instead.

    from tasks import Arithmetic
    Arithmetic().generate(difficulty=3, seed=0)  # Example(prompt='..+..=', answer='..', ...)
"""

from __future__ import annotations

import random
import re
from typing import ClassVar

from tasks.base import Example, Task

LEVELS: dict[int, tuple[int, int]] = {1: (2, 1), 2: (2, 2), 3: (3, 2), 4: (3, 3), 5: (4, 4)}
"""Level -> (digits of a, digits of b)."""

_INTEGER = re.compile(r"-?\d{1,12}")


def _number(digits: int, rng: random.Random) -> int:
    low = 0 if digits == 1 else 10 ** (digits - 1)
    return rng.randint(low, 10**digits - 1)


class Arithmetic(Task):
    family: ClassVar[str] = "arithmetic"
    levels: ClassVar[range] = range(1, len(LEVELS) + 1)

    def _make(self, difficulty: int, rng: random.Random) -> tuple[str, str]:
        digits_a, digits_b = LEVELS[difficulty]
        a, b = _number(digits_a, rng), _number(digits_b, rng)
        if rng.random() < 0.5:  # either order ("8+47=")
            a, b = b, a
        return f"{a}+{b}=", str(a + b)

    def mistake(self, example: Example) -> str:
        """Column addition with every carry dropped (47+85 -> 22)."""
        a, b = example.prompt.removesuffix("=").split("+")
        width = max(len(a), len(b))
        columns = [(int(x) + int(y)) % 10 for x, y in zip(a.zfill(width), b.zfill(width), strict=True)]
        return str(int("".join(map(str, columns))))

    def is_well_formed(self, answer: str) -> bool:
        return _INTEGER.fullmatch(answer) is not None
