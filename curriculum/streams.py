"""Lazy shuffled streams over a set of prompts: the cursor is the whole state.

`Stream(n, key)` walks epoch after epoch of pseudo-random permutations of range(n) (a fresh
permutation each epoch, from `permutation.permute`), so "the next k prompts of an epoch-wise
shuffle" costs O(k) whatever n is. `GroupedStreams` keeps one single-pass stream per group
(difficulty label or prior bin) to pull unseen prompts of a chosen group.

    stream = Stream(n=10, key=3)
    stream.take(4) -> e.g. [7 2 9 0]; stream.take(4) -> [5 1 8 3]; stream.take(4) -> [6 4 | 2 ...]
                                                   epoch 0 ends here ^, epoch 1 starts
"""

from __future__ import annotations

import numpy as np

from .permutation import derive_key, domain_size, walk


class Stream:
    """Epoch after epoch of pseudo-random permutations of range(n); `cursor` (a position) is the state."""

    def __init__(self, n: int, key: int) -> None:
        self.n, self.key, self.cursor = int(n), int(key), 0

    def take(self, count: int) -> np.ndarray:
        """The next `count` distinct ids (count <= n); an epoch boundary never repeats an id in one call."""
        if count > self.n:
            raise ValueError(f"cannot take {count} distinct ids from a stream over {self.n}")
        start = self.cursor
        ids, self.cursor = walk(start, count, self.n, self.key)
        m = domain_size(self.n)
        if start // m == (self.cursor - 1) // m:  # within one epoch: a permutation never repeats an id
            return ids
        while np.unique(ids).size < ids.size:  # an epoch boundary was crossed
            _, first = np.unique(ids, return_index=True)
            keep = np.zeros(ids.size, dtype=bool)
            keep[first] = True
            more, self.cursor = walk(self.cursor, int((~keep).sum()), self.n, self.key)
            ids = np.concatenate([ids[keep], more])
        return ids


class GroupedStreams:
    """One single-pass shuffled stream per group; `order` lists prompt ids grouped by group.

    `groups` ([N] ints in [0, num_groups), or None for one group): a group may be empty (a pass-rate bin
    no prompt falls in) and still has its slot, so per-group arrays line up with the caller's."""

    def __init__(self, groups: np.ndarray | None, num_prompts: int, key: int, num_groups: int = 1) -> None:
        if groups is None:
            self.order = None  # one group: positions are prompt ids
            self.starts = np.zeros(1, dtype=np.int64)
            self.sizes = np.array([num_prompts], dtype=np.int64)
        else:
            idx_dtype = np.int32 if num_prompts < 2**31 else np.int64
            self.order = np.argsort(groups, kind="stable").astype(idx_dtype)  # [N] ids sorted by group
            self.sizes = np.bincount(groups, minlength=num_groups).astype(np.int64)  # [G]
            self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.key = key
        self.cursor = np.zeros(self.sizes.size, dtype=np.int64)  # [G] position in each group's stream
        self.taken = np.zeros(self.sizes.size, dtype=np.int64)  # [G] ids handed out by each stream

    @property
    def remaining(self) -> np.ndarray:
        return self.sizes - self.taken

    def take(self, counts: np.ndarray) -> np.ndarray:
        """counts[g] next ids of each group's stream (counts <= remaining)."""
        parts = []
        for g in counts.nonzero()[0]:
            pos, self.cursor[g] = walk(int(self.cursor[g]), int(counts[g]), int(self.sizes[g]), derive_key(self.key, int(g)))
            self.taken[g] += counts[g]
            pos = pos + self.starts[g]
            parts.append(pos if self.order is None else self.order[pos].astype(np.int64))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
