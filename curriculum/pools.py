"""Which pool each prompt is in, with O(k) moves and O(k) random draws for any pool size.

    UNSEEN (0) --propose--> ACTIVE (1) <--confident verdict / re-probe--> EXCLUDED (2) | RETIRED (3)

Each non-unseen pool is a dense array of member ids plus `pos[i]`, the slot of prompt i in its pool,
so removing a batch is a vectorised swap-with-the-tail and drawing candidates is `members[randint]`.
No operation looks at all N prompts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .rng import uniform_integers
from .statecheck import read_array, read_ids

UNSEEN, ACTIVE, EXCLUDED, RETIRED = 0, 1, 2, 3
POOL_NAMES = {ACTIVE: "active", EXCLUDED: "excluded", RETIRED: "retired"}


def distinct_sorted(ids: np.ndarray) -> np.ndarray:
    """The distinct values of sorted `ids` (np.unique without its sort)."""
    return ids[np.concatenate(([True], ids[1:] != ids[:-1]))] if ids.size else ids


class _Pool:
    """A growable dense set of ids (amortised doubling)."""

    def __init__(self, dtype: np.dtype) -> None:
        self.ids = np.zeros(16, dtype=dtype)
        self.size = 0

    def view(self) -> np.ndarray:
        return self.ids[: self.size]

    def reserve(self, extra: int) -> None:
        need = self.size + extra
        if need > self.ids.size:
            grown = np.zeros(max(need, 2 * self.ids.size), dtype=self.ids.dtype)
            grown[: self.size] = self.ids[: self.size]
            self.ids = grown


class StatusPools:
    def __init__(self, num_prompts: int) -> None:
        self.num_prompts = num_prompts
        idx_dtype = np.int32 if num_prompts < 2**31 else np.int64
        self.status = np.zeros(num_prompts, dtype=np.int8)  # [N] UNSEEN / ACTIVE / EXCLUDED / RETIRED
        self.pos = np.zeros(num_prompts, dtype=idx_dtype)  # [N] slot in its pool (meaningless if UNSEEN)
        self.pools = {code: _Pool(idx_dtype) for code in POOL_NAMES}

    def size(self, code: int) -> int:
        if code == UNSEEN:
            return self.num_prompts - self.pools[ACTIVE].size - self.pools[EXCLUDED].size - self.pools[RETIRED].size
        return self.pools[code].size

    def members(self, code: int) -> np.ndarray:
        return self.pools[code].view()

    def sample(self, code: int, count: int, rng: np.random.Generator) -> np.ndarray:
        """Up to `count` distinct members, uniformly at random (all of them if the pool is smaller)."""
        pool = self.pools[code]
        if count <= 0:
            return np.zeros(0, dtype=np.int64)
        if pool.size <= count:
            return pool.view().astype(np.int64)
        return distinct_sorted(np.sort(pool.ids[uniform_integers(rng, pool.size, count)]).astype(np.int64))

    def move(self, ids: np.ndarray, code: int) -> None:
        """Put distinct `ids` into pool `code` (from wherever they are)."""
        if ids.size == 0:
            return
        status = self.status[ids]
        ids = ids[status != code]
        if ids.size == 0:
            return
        self._leave(ids, status[status != code])
        pool = self.pools[code]
        pool.reserve(ids.size)
        slots = np.arange(pool.size, pool.size + ids.size)
        pool.ids[slots] = ids
        self.pos[ids] = slots
        pool.size += ids.size
        self.status[ids] = code

    def assign(self, ids: np.ndarray, codes: np.ndarray) -> None:
        """Put each of the distinct `ids` into its pool `codes[i]`: one check when none moves (the usual case after
        an observation), else `move` per target pool, excluded then retired then active."""
        change = self.status[ids] != codes
        if not change.any():
            return
        ids, codes = ids[change], codes[change]
        for code in (EXCLUDED, RETIRED, ACTIVE):
            self.move(ids[codes == code], code)

    def forget(self, ids: np.ndarray) -> None:
        """Send distinct `ids` back to UNSEEN from whatever pool holds them (new prompts take their place)."""
        self._leave(ids, self.status[ids])

    def _leave(self, ids: np.ndarray, status: np.ndarray) -> None:
        """Take distinct `ids` (their codes `status`) out of the pools that hold them; UNSEEN ones hold no slot."""
        for old in np.bincount(status, minlength=4)[1:].nonzero()[0] + 1:
            self._remove(ids[status == old], int(old))

    def _remove(self, ids: np.ndarray, code: int) -> None:
        """Drop distinct members `ids`: vacated slots in the kept prefix are refilled from the tail."""
        pool = self.pools[code]
        new_size = pool.size - ids.size
        slots = self.pos[ids]
        holes = slots[slots < new_size]  # (h,) slots to refill
        leaving = np.zeros(pool.size - new_size, dtype=bool)  # tail slots whose member leaves too
        leaving[slots[slots >= new_size] - new_size] = True
        movers = np.arange(new_size, pool.size)[~leaving]  # (h,) tail members that stay
        pool.ids[holes] = pool.ids[movers]
        self.pos[pool.ids[holes]] = holes
        pool.size = new_size
        self.status[ids] = UNSEEN

    def state_dict(self) -> dict[str, np.ndarray]:
        out = {"status": self.status}
        for code, name in POOL_NAMES.items():
            out[f"pool_{name}"] = self.members(code)
        return out

    def check_state(self, sd: Mapping[str, Any]) -> None:
        """Raise ValueError naming the entry unless `sd` holds pools this object can load: a status per prompt and,
        per pool, its distinct members: exactly the prompts with that status."""
        status = read_array(sd, "status", np.int8, (self.num_prompts,), low=UNSEEN, high=RETIRED)
        counts = np.bincount(status.astype(np.intp), minlength=4)  # O(N), once per load
        for code, name in POOL_NAMES.items():
            key = f"pool_{name}"
            ids = read_ids(sd, key, self.num_prompts, distinct=True)
            if ids.size != counts[code] or not (status[ids] == code).all():
                raise ValueError(
                    f"curriculum state entry {key!r} does not list exactly the {int(counts[code])} prompts whose "
                    f"'status' is {code} ({name})"
                )

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Assign a state `check_state` passed."""
        self.status[...] = sd["status"]
        for code, name in POOL_NAMES.items():
            ids = np.asarray(sd[f"pool_{name}"])
            pool = self.pools[code]
            pool.size = 0
            pool.reserve(ids.size)
            pool.ids[: ids.size] = ids
            pool.size = ids.size
            self.pos[ids] = np.arange(ids.size)
