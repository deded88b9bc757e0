"""The last digit of a number's digit sum, graded by the number's length: a real procedure (a running sum) whose
answer is a single digit, so a completion that skips the procedure is still right about one time in ten.

    level 1   last 472=       -> 3      (3 digits; 4+7+2 = 13)
    level 2   last 4721=      -> 4      (14)
    level 3   last 47218=     -> 2      (22)
    level 4   last 472183=    -> 5      (6 digits; 25)
    level 5   last 4721839=   -> 4      (7 digits; 34)

The lengths are digit_sum's. The lucky-success study (configs/ablations/lucky.yaml) warms the tiny model up on both
families at levels 1-3 only (alone, the warm-up never learns the last digit): it can do the short lengths and
answers the long ones at about chance, so a success there is mostly a wrong procedure that happens to give the
right digit. The common mistake (`mistake`) leaves the last digit out of the sum, as in digit_sum.

    from tasks import LastDigit
    LastDigit().generate(difficulty=2, seed=0)  # Example(prompt='last ....=', answer='.', ...)
"""

from __future__ import annotations

import random
from typing import ClassVar

from tasks.base import Example, Task

LENGTHS: dict[int, int] = {1: 3, 2: 4, 3: 5, 4: 6, 5: 7}
"""Level -> number of digits."""

ANSWERS = tuple("0123456789")


def _last(digits: str) -> str:
    return str(sum(int(d) for d in digits) % 10)


class LastDigit(Task):
    family: ClassVar[str] = "last_digit"
    levels: ClassVar[range] = range(1, len(LENGTHS) + 1)

    def _make(self, difficulty: int, rng: random.Random) -> tuple[str, str]:
        digits = "".join(rng.choice("0123456789") for _ in range(LENGTHS[difficulty]))
        return f"last {digits}=", _last(digits)

    def mistake(self, example: Example) -> str:
        """The last digit left out of the sum."""
        return _last(example.prompt.removeprefix("last ").removesuffix("=")[:-1])

    def is_well_formed(self, answer: str) -> bool:
        return answer in ANSWERS
