"""Sum of the digits of a number, graded by its length: one procedure (a running sum) on longer inputs.

    level 1   digits 472=       -> 13     (3 digits)
    level 2   digits 4721=      -> 14
    level 3   digits 47218=     -> 22
    level 4   digits 472183=    -> 25
    level 5   digits 4721839=   -> 34     (7 digits: beyond the tiny model, which never sees this length in warm-up)

Answers are at most two digits, so a completion is short and a guess is rarely right. The common mistake
(`mistake`) leaves the last digit out of the sum: the tiny model's warm-up mixes some of those answers in,
and reinforcement learning with the verifier teaches it to prefer the full sum.

    from tasks import DigitSum
    DigitSum().generate(difficulty=2, seed=0)  # Example(prompt='digits ....=', answer='..', ...)
"""

from __future__ import annotations

import random
import re
from typing import ClassVar

from tasks.base import Example, Task

LENGTHS: dict[int, int] = {1: 3, 2: 4, 3: 5, 4: 6, 5: 7}
"""Level -> number of digits (digit_sum's, parity's and last_digit's)."""

_INTEGER = re.compile(r"\d{1,3}")


class DigitsTask(Task):
    """A family over a random number of `LENGTHS[level]` digits: "`prefix` 4721=" -> `answer_of("4721")`. Its common
    mistake is the answer with the last digit left out. Subclasses set `family`, `prefix` and `answer_of`."""

    levels: ClassVar[range] = range(1, len(LENGTHS) + 1)
    prefix: ClassVar[str] = ""

    def answer_of(self, digits: str) -> str:
        raise NotImplementedError

    def _make(self, difficulty: int, rng: random.Random) -> tuple[str, str]:
        digits = "".join(rng.choice("0123456789") for _ in range(LENGTHS[difficulty]))
        return f"{self.prefix} {digits}=", self.answer_of(digits)

    def mistake(self, example: Example) -> str:
        """The last digit left out."""
        return self.answer_of(example.prompt.removeprefix(f"{self.prefix} ").removesuffix("=")[:-1])


class DigitSum(DigitsTask):
    family: ClassVar[str] = "digit_sum"
    prefix: ClassVar[str] = "digits"

    def answer_of(self, digits: str) -> str:
        return str(sum(int(d) for d in digits))

    def is_well_formed(self, answer: str) -> bool:
        return _INTEGER.fullmatch(answer) is not None
