"""Sort the letters of a word, graded by length: a task with no arithmetic in it.

    level 1   sort ca=        -> ac         (2 letters: trivial)
    level 2   sort dca=       -> acd
    level 3   sort dcaxb=     -> abcdx
    level 4   sort qdcaxb=    -> abcdqx
    level 5   sort qdcaxbmz=  -> abcdmqxz   (8 letters: the tiny model never sees this length in warm-up)

Answers fit in 8 characters (the default completion length). A ~0.5M-parameter model learns short
sorts quickly, so level 5 is hard by length generalisation rather than by the algorithm.

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

from tasks.base import Task

LENGTHS: dict[int, int] = {1: 2, 2: 3, 3: 5, 4: 6, 5: 8}
"""Level -> number of letters."""

_LETTERS = re.compile(r"[a-z]{1,32}")


class SortLetters(Task):
    family: ClassVar[str] = "sorting"
    levels: ClassVar[range] = range(1, len(LENGTHS) + 1)

    def _make(self, difficulty: int, rng: random.Random) -> tuple[str, str]:
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(LENGTHS[difficulty]))
        return f"sort {word}=", "".join(sorted(word))

    def is_well_formed(self, answer: str) -> bool:
        return _LETTERS.fullmatch(answer) is not None
