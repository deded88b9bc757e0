"""Counter-based pseudo-random permutations of range(n) with O(1) memory.

`permute(i, n, key)` maps positions i in [0, n) to a permutation of [0, n): a 4-round Feistel network
over the smallest even-bit power of two >= n, with cycle walking back into range. The same
(n, key) always gives the same permutation, so every rank and a resumed run agree, and a cursor into
the permutation is the whole state of an epoch-wise shuffle of 10^7 prompts.

    permute(np.arange(5), 5, key=7)  ->  e.g. [3 0 4 1 2]   (a bijection of 0..4)
"""

from __future__ import annotations

import functools

import numpy as np

_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise on a uint64 array (array arithmetic wraps silently)."""
    x = x ^ (x >> np.uint64(30))
    x *= _M2
    x ^= x >> np.uint64(27)
    x *= _M3
    x ^= x >> np.uint64(31)
    return x


def derive_key(*parts: int) -> int:
    """Hash a tuple of ints into one 64-bit key (for (seed, epoch, group) style keys)."""
    acc = 0x243F6A8885A308D3
    for p in parts:
        acc = int(mix64(np.array([acc ^ (p & 0xFFFFFFFFFFFFFFFF)], dtype=np.uint64))[0])
        acc = (acc + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    return acc


@functools.lru_cache(maxsize=4096)
def _round_keys(key: int) -> tuple[np.uint64, ...]:
    return tuple(np.uint64(derive_key(key, r)) for r in range(4))


def _feistel(x: np.ndarray, half_bits: int, key: int) -> np.ndarray:
    shift, mask, high = np.uint64(half_bits), np.uint64((1 << half_bits) - 1), np.uint64(64 - half_bits)
    left, right = x >> shift, x & mask
    for round_key in _round_keys(key):
        # round function: a nonlinear 64-bit mix, keep its high bits
        y = (right ^ round_key) * _M2
        y ^= y >> np.uint64(31)
        left, right = right, left ^ ((y * _M3) >> high)
    return (left << shift) | right


def permute(i: np.ndarray, n: int, key: int) -> np.ndarray:
    """The images of positions `i` (ints in [0, n)) under the permutation of range(n) named by `key`."""
    i = np.asarray(i, dtype=np.uint64)
    if n <= 1:
        return np.zeros(i.shape, dtype=np.int64)
    bits = max(2, int(n - 1).bit_length())
    half_bits = (bits + 1) // 2
    out = _feistel(i, half_bits, key)
    bad = out >= np.uint64(n)
    while bad.any():  # cycle walking: expected < 4 rounds since the domain is < 4n
        out[bad] = _feistel(out[bad], half_bits, key)
        bad = out >= np.uint64(n)
    return out.astype(np.int64)


def domain_size(n: int) -> int:
    """Size of the Feistel domain that `permute` uses for range(n): a power of 4, < 4n."""
    bits = max(2, int(n - 1).bit_length())
    return 1 << (2 * ((bits + 1) // 2))


def walk(start: int, count: int, n: int, key: int) -> tuple[np.ndarray, int]:
    """The next `count` values < n of the Feistel permutation of the domain, read from position `start`
    (positions beyond one domain start the next epoch with a fresh key); returns (ids, next position).

    Dropping the values >= n instead of cycle walking each one gives the same single-pass coverage of
    range(n) per epoch with one vectorised pass instead of several."""
    m = domain_size(n)
    found: list[np.ndarray] = []
    pos = start
    while count > 0:
        epoch, offset = divmod(pos, m)
        span = min(m - offset, int(count * m / n * 1.25) + 16)  # expected valid share n / m
        out = _feistel(np.arange(offset, offset + span, dtype=np.uint64), (int(m).bit_length() - 1) // 2,
                       derive_key(key, epoch))
        valid = np.flatnonzero(out < np.uint64(n))
        if valid.size >= count:
            found.append(out[valid[:count]].astype(np.int64))
            return np.concatenate(found), pos + int(valid[count - 1]) + 1
        found.append(out[valid].astype(np.int64))
        count -= valid.size
        pos += span
    return (np.concatenate(found) if found else np.zeros(0, dtype=np.int64)), pos
