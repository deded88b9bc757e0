"""Whether the digits of a number add up to an even number: a long procedure with a yes/no answer, so a completion
that skips the procedure is still right half the time. The study of lucky successes mixes it with families whose
answers cannot be guessed (configs/ablations/lucky.yaml).

    level 1   even 472=       -> no      (3 digits; 4+7+2 = 13)
    level 3   even 47218=     -> yes     (5 digits; 22)
    level 5   even 4721839=   -> yes     (7 digits: beyond the tiny model, which never sees this length in warm-up)

The common mistake (`mistake`) leaves the last digit out, as in digit_sum.

    from tasks import DigitParity
    DigitParity().generate(difficulty=2, seed=0)  # Example(prompt='even ....=', answer='yes' or 'no', ...)
"""

from __future__ import annotations

from typing import ClassVar

from tasks.digit_sum import DigitsTask

ANSWERS = ("yes", "no")


class DigitParity(DigitsTask):
    family: ClassVar[str] = "parity"
    prefix: ClassVar[str] = "even"

    def answer_of(self, digits: str) -> str:
        return "yes" if sum(int(d) for d in digits) % 2 == 0 else "no"

    def is_well_formed(self, answer: str) -> bool:
        return answer in ANSWERS
