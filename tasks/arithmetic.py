"""Integer arithmetic graded by digits and operators, sized for a character-level model.

Prompts are short and answers are integers, so a completion is about 1-8 characters:

    level 1   3+4=        one-digit sums                    (a ~0.5M-parameter model masters this)
    level 2   47+8=       two-digit plus one-digit sums (either order)
    level 3   47+85=      two-digit sums and differences
    level 4   472-859=    three-digit sums and differences  (answers may be negative)
    level 5   4721*839=   four-digit times three-digit      (far beyond a tiny model)

`verify` compares the first line of the completion with the answer exactly ("07" is wrong);
`is_well_formed` accepts any integer, which is what `format_reward` pays a little for.

    from tasks import Arithmetic
    Arithmetic().generate(difficulty=3, seed=0)  # Example(prompt='..+..=', answer='..', ...)
"""

from __future__ import annotations

import random
import re
from typing import ClassVar

from tasks.base import Task

# level -> (digits of a, digits of b, operators)
LEVELS: dict[int, tuple[int, int, str]] = {
    1: (1, 1, "+"),
    2: (2, 1, "+"),
    3: (2, 2, "+-"),
    4: (3, 3, "+-"),
    5: (4, 3, "*"),
}

_INTEGER = re.compile(r"-?\d{1,12}")


def _number(digits: int, rng: random.Random) -> int:
    low = 0 if digits == 1 else 10 ** (digits - 1)
    return rng.randint(low, 10**digits - 1)


class Arithmetic(Task):
    family: ClassVar[str] = "arithmetic"
    levels: ClassVar[range] = range(1, len(LEVELS) + 1)

    def _make(self, difficulty: int, rng: random.Random) -> tuple[str, str]:
        digits_a, digits_b, operators = LEVELS[difficulty]
        op = rng.choice(operators)
        a, b = _number(digits_a, rng), _number(digits_b, rng)
        if op != "-" and rng.random() < 0.5:  # commutative: either order ("8+47=")
            a, b = b, a
        value = {"+": a + b, "-": a - b, "*": a * b}[op]
        return f"{a}{op}{b}=", str(value)

    def is_well_formed(self, answer: str) -> bool:
        return _INTEGER.fullmatch(answer) is not None
