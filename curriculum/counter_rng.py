"""Counter-based random generators: draw t of a family always comes from the same numbers.

`CounterRNG(seed, salt).at(t)` is a numpy Generator positioned at substream t of one PCG64 stream
seeded by (seed, salt): substreams start 2**64 draws apart, so no call ever reads another's numbers.
Every rank and every resumed run get the same numbers for the same (seed, salt, t) without sharing
any state, and positioning costs a state reset and one `advance` (about a microsecond; building a
fresh `np.random.default_rng([seed, t])` costs several times that).

    rng = CounterRNG(seed=0, salt=0x9E)
    rng.at(17).standard_normal(3)   # the same three numbers whenever it is called with 17
"""

from __future__ import annotations

import numpy as np


class CounterRNG:
    """One reusable Generator, re-positioned by `at(t)`; use what `at` returns before the next `at` call."""

    def __init__(self, seed: int, salt: int) -> None:
        self._bits = np.random.PCG64(np.random.SeedSequence([int(seed), int(salt)]))
        self._start = self._bits.state
        self._generator = np.random.Generator(self._bits)

    def at(self, counter: int) -> np.random.Generator:
        if counter < 0:
            raise ValueError(f"counter must be >= 0, got {counter}")
        self._bits.state = self._start
        self._bits.advance(int(counter) << 64)
        return self._generator
