"""Random generators whose state is part of the curriculum's state, and the draws the hot path makes.

`SavedRNG(seed, salt)` is one numpy Generator over PCG64 seeded by (seed, salt) that runs on from call to
call; `state_array()` / `load_state_array()` carry its position through `Curriculum.state_dict` as six
uint64 words. Every rank makes the same draws in the same order (the same calls on the same state), and a
reloaded state continues from the very same numbers, so ranks agree and a resume is exact without any
communication. Repositioning a generator for each call (a counter-based substream per step) costs a state
reset and an `advance`, several tens of microseconds each step once the model's passes have evicted the CPU
caches; running on costs nothing.

`uniform_integers` and `shuffled` draw through `Generator.random`, the one sampling routine the per-step path
uses besides `standard_normal`: each distinct numpy routine costs several microseconds, cold, the first time
in a step.

    rng = SavedRNG(seed=0, salt=0x9E)
    rng.generator.standard_normal(3)
    saved = rng.state_array(); rng.generator.random(); rng.load_state_array(saved)   # rewound
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .statecheck import read_array

_MASK64 = (1 << 64) - 1


class SavedRNG:
    """A PCG64 Generator (`generator`) with its state as a (6,) uint64 array."""

    def __init__(self, seed: int, salt: int) -> None:
        self.bits = np.random.PCG64(np.random.SeedSequence([int(seed), int(salt)]))
        self.generator = np.random.Generator(self.bits)

    def state_array(self) -> np.ndarray:
        """(6,) uint64: the 128-bit LCG state and increment (high, low words each), has_uint32, uinteger."""
        st = self.bits.state
        state, inc = int(st["state"]["state"]), int(st["state"]["inc"])
        words = [state >> 64, state & _MASK64, inc >> 64, inc & _MASK64, int(st["has_uint32"]), int(st["uinteger"])]
        return np.array(words, dtype=np.uint64)

    def load_state_array(self, words: np.ndarray) -> None:
        w = [int(x) for x in np.asarray(words, dtype=np.uint64)]
        if len(w) != 6:
            raise ValueError(f"a generator state is 6 uint64 words, got {len(w)}")
        self.bits.state = _state(w)

    @staticmethod
    def check_state_array(sd: Mapping[str, Any], key: str) -> None:
        """Raise ValueError naming `key` unless `sd[key]` is a state `load_state_array` takes as it was saved: (6,)
        uint64 words, an odd increment (as every seeded PCG64 has), has_uint32 0 or 1 and uinteger a uint32."""
        w = [int(x) for x in read_array(sd, key, np.uint64, (6,))]
        if w[3] % 2 == 0 or w[4] not in (0, 1) or w[5] >= 2**32:
            raise ValueError(
                f"curriculum state entry {key!r} is not a saved PCG64 state (its increment must be odd, has_uint32 "
                f"0 or 1, uinteger < 2**32)"
            )
        try:
            np.random.PCG64(0).state = _state(w)  # whatever else numpy checks, on a scratch generator
        except (ValueError, TypeError, OverflowError) as err:
            raise ValueError(f"curriculum state entry {key!r} is not a PCG64 state numpy accepts ({err})") from None


def _state(w: list[int]) -> dict[str, Any]:
    return {
        "bit_generator": "PCG64",
        "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3]},
        "has_uint32": w[4],
        "uinteger": w[5],
    }


def uniform_integers(rng: np.random.Generator, high: int, size: int) -> np.ndarray:
    """(size,) int64 uniform on [0, high) (floor of a scaled uniform double: bias below 2**-53 * high)."""
    return np.minimum((rng.random(size) * high).astype(np.int64), high - 1)


def shuffled(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`ids` in a uniformly random order (sorted by uniform keys)."""
    return ids[np.argsort(rng.random(ids.size))]
