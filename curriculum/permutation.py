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

_K2, _K3 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # splitmix64's multipliers
_M2, _M3 = np.uint64(_K2), np.uint64(_K3)  # the same, for uint64 array arithmetic


_MASK64 = 0xFFFFFFFFFFFFFFFF


def _mix64(x: int) -> int:
    """splitmix64 finaliser on one 64-bit Python int."""
    x ^= x >> 30
    x = (x * _K2) & _MASK64
    x ^= x >> 27
    x = (x * _K3) & _MASK64
    return x ^ (x >> 31)


@functools.lru_cache(maxsize=65536)
def derive_key(*parts: int) -> int:
    """Hash a tuple of ints into one 64-bit key (for (seed, epoch, group) style keys)."""
    acc = 0x243F6A8885A308D3
    for p in parts:
        acc = (_mix64(acc ^ (p & _MASK64)) + 0x9E3779B97F4A7C15) & _MASK64
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


_BLOCK = 2048  # positions per cached block of a walk


@functools.lru_cache(maxsize=256)
def _valid_block(key: int, epoch: int, n: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """The values < n among positions [block * _BLOCK, +_BLOCK) of epoch `epoch`'s permutation of the domain
    of range(n), and their positions in the epoch: ((V,) int64 values, (V,) int64 ascending positions).
    A walk of a few ids a step reads one block for many steps instead of running the Feistel rounds each time."""
    m = domain_size(n)
    lo, hi = block * _BLOCK, min((block + 1) * _BLOCK, m)
    out = _feistel(np.arange(lo, hi, dtype=np.uint64), (m.bit_length() - 1) // 2, derive_key(key, epoch))
    valid = np.flatnonzero(out < np.uint64(n))  # (V,)
    return out[valid].astype(np.int64), valid + lo


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
        block = offset // _BLOCK
        values, positions = _valid_block(key, epoch, n, block)
        first = int(np.searchsorted(positions, offset))  # the first valid position >= offset
        taken = values[first : first + count]
        found.append(taken)
        if taken.size == count:
            ids = np.concatenate(found) if len(found) > 1 else taken.copy()  # never hand out the cached block
            return ids, epoch * m + int(positions[first + count - 1]) + 1
        count -= taken.size
        pos = epoch * m + min((block + 1) * _BLOCK, m)
    return (np.concatenate(found) if found else np.zeros(0, dtype=np.int64)), pos
