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

from typing import ClassVar

from tasks.digit_sum import DigitsTask

ANSWERS = tuple("0123456789")


class LastDigit(DigitsTask):
    family: ClassVar[str] = "last_digit"
    prefix: ClassVar[str] = "last"

    def answer_of(self, digits: str) -> str:
        return str(sum(int(d) for d in digits) % 10)

    def is_well_formed(self, answer: str) -> bool:
        return answer in ANSWERS
