"""Sort the letters of a word, graded by length: one procedure on longer inputs, and no arithmetic in it.

    level 1   sort dca=       -> acd        (3 letters)
    level 2   sort dcax=      -> acdx
    level 3   sort dcaxb=     -> abcdx
    level 4   sort qdcaxb=    -> abcdqx
    level 5   sort qdcaxbm=   -> abcdmqx    (7 letters: the tiny model never sees this length in warm-up)

Answers with their end token fit in 8 tokens (the default completion length). Level 5 is hard by length
generalisation rather than by the algorithm. The common mistake (`mistake`) is the reverse order.

Letters are drawn from a-z with replacement. `verify` wants the exact sorted string;
`is_well_formed` accepts any run of lower-case letters.

    from tasks import SortLetters
    SortLetters().generate(difficulty=2, seed=0)
"""

from __future__ import annotations

import random
import re
import string
from typing import ClassVar

from tasks.base import Example, Task

LENGTHS: dict[int, int] = {1: 3, 2: 4, 3: 5, 4: 6, 5: 7}
"""Level -> number of letters."""

_LETTERS = re.compile(r"[a-z]{1,32}")


class SortLetters(Task):
    family: ClassVar[str] = "sorting"
    levels: ClassVar[range] = range(1, len(LENGTHS) + 1)

    def _make(self, difficulty: int, rng: random.Random) -> tuple[str, str]:
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(LENGTHS[difficulty]))
        return f"sort {word}=", "".join(sorted(word))

    def mistake(self, example: Example) -> str:
        """The letters sorted the wrong way round (z to a)."""
        return "".join(sorted(example.answer, reverse=True))

    def is_well_formed(self, answer: str) -> bool:
        return _LETTERS.fullmatch(answer) is not None
