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

from .permutation import derive_key, permute


class Stream:
    def __init__(self, n: int, key: int) -> None:
        self.n, self.key, self.cursor = int(n), int(key), 0

    def positions(self, start: int, count: int) -> np.ndarray:
        """Stream positions [start, start + count) -> ids in range(n)."""
        pos = np.arange(start, start + count, dtype=np.int64)
        epoch, offset = np.divmod(pos, self.n)
        out = np.empty(count, dtype=np.int64)
        for e in np.unique(epoch):  # at most a couple of epochs per call
            sel = epoch == e
            out[sel] = permute(offset[sel], self.n, derive_key(self.key, int(e)))
        return out

    def take(self, count: int) -> np.ndarray:
        """The next `count` distinct ids (count <= n); an epoch boundary never repeats an id in one call."""
        if count > self.n:
            raise ValueError(f"cannot take {count} distinct ids from a stream over {self.n}")
        ids = self.positions(self.cursor, count)
        self.cursor += count
        while np.unique(ids).size < ids.size:  # only when crossing an epoch boundary
            _, first = np.unique(ids, return_index=True)
            keep = np.zeros(ids.size, dtype=bool)
            keep[first] = True
            missing = int((~keep).sum())
            ids = np.concatenate([ids[keep], self.positions(self.cursor, missing)])
            self.cursor += missing
        return ids


class GroupedStreams:
    """One single-pass shuffled stream per group; `order` lists prompt ids grouped by group."""

    def __init__(self, groups: np.ndarray | None, num_prompts: int, key: int) -> None:
        if groups is None:
            self.order = None  # one group: positions are prompt ids
            self.starts = np.zeros(1, dtype=np.int64)
            self.sizes = np.array([num_prompts], dtype=np.int64)
        else:
            idx_dtype = np.int32 if num_prompts < 2**31 else np.int64
            self.order = np.argsort(groups, kind="stable").astype(idx_dtype)  # [N] ids sorted by group
            self.sizes = np.bincount(groups).astype(np.int64)  # [G]
            self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.key = key
        self.cursor = np.zeros(self.sizes.size, dtype=np.int64)  # [G] how far each stream has gone

    @property
    def remaining(self) -> np.ndarray:
        return self.sizes - self.cursor

    def take(self, counts: np.ndarray) -> np.ndarray:
        """counts[g] next ids of each group's stream (counts <= remaining)."""
        parts = []
        for g in np.flatnonzero(counts):
            pos = permute(
                np.arange(self.cursor[g], self.cursor[g] + counts[g]), int(self.sizes[g]), derive_key(self.key, int(g))
            )
            self.cursor[g] += counts[g]
            pos = pos + self.starts[g]
            parts.append(pos if self.order is None else self.order[pos].astype(np.int64))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
