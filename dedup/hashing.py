"""Fixed 64-bit hash primitives shared by the tokenizer, shingler and signer.

All constants are fixed, so hashes are identical across runs, processes and
machines (numpy's unsigned arithmetic wraps modulo 2**64 on every platform).

>>> int(mix64(np.array([1], np.uint64))[0]) == int(mix64(np.array([1], np.uint64))[0])
True
"""

from __future__ import annotations

import numpy as np
import xxhash

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: a bijective avalanche mix of uint64 values."""
    with np.errstate(over="ignore"):
        z = np.asarray(x, np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def seeded_uint64(seed: int, label: str, count: int) -> np.ndarray:
    """``count`` reproducible uint64 values derived with xxh64 from a seed and a label."""
    return np.array(
        [xxhash.xxh64_intdigest(f"{label}:{i}".encode(), seed=seed) for i in range(count)], np.uint64
    )


_BASE = np.uint64(0x9FB21C651E98DF25)  # odd, so invertible modulo 2**64
_BASE_INVERSE = np.uint64(pow(int(_BASE), -1, 1 << 64))


_CACHED_POWERS = 1 << 24  # larger tables (huge batches) are built per call, not kept
_powers_cache: list[np.ndarray] = [np.ones(1, np.uint64), np.ones(1, np.uint64)]


def _build_powers(n: int) -> list[np.ndarray]:
    # A block of powers by a serial product, then every block as one scaled copy of it: a
    # serial product over millions of values was most of the scan's start-up.
    block = 1 << 12
    tables = []
    with np.errstate(over="ignore"):
        for base in (_BASE, _BASE_INVERSE):
            first = np.multiply.accumulate(np.concatenate(([np.uint64(1)], np.full(block - 1, base))))
            blocks = -(-n // block)
            scales = np.multiply.accumulate(np.concatenate(([np.uint64(1)], np.full(blocks - 1, first[-1] * base))))
            tables.append((scales[:, None] * first).ravel()[:n])
    return tables


def cache_powers(n: int) -> None:
    """Build the cached powers for spans of up to ``n`` values now (capped at the cache's limit)."""
    powers(min(n, _CACHED_POWERS))


def powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(BASE**i, BASE**-i) modulo 2**64 for i < n."""
    global _powers_cache
    if n > _CACHED_POWERS:
        up, down = _build_powers(n)
        return up, down
    if len(_powers_cache[0]) < n:
        _powers_cache = _build_powers(1 << max(16, (n - 1).bit_length()))
    return _powers_cache[0][:n], _powers_cache[1][:n]


def span_sums(values: np.ndarray, starts: np.ndarray, ends: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """For each span ``values[starts[k]:e[k]]`` (one result per array in ``ends``), the polynomial
    ``sum(values[starts[k] + j] * BASE**j)`` modulo 2**64, from a single prefix sum over ``values``.

    >>> v = np.array([3, 1, 4, 1, 5], np.uint64)
    >>> a, = span_sums(v, np.array([1]), (np.array([3]),))
    >>> b, = span_sums(v[1:3], np.array([0]), (np.array([2]),))
    >>> bool(a[0] == b[0])
    True
    """
    up, down = powers(len(values) + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(values) + 1, np.uint64)
        np.multiply(values, up[:-1], out=prefix[1:])
        np.cumsum(prefix, out=prefix)
        base = prefix[starts]
        scale = down[starts]
        return tuple((prefix[e] - base) * scale for e in ends)


def token_hash_from_sum(char_sum: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Final token hash from the weighted code point sum and the token length."""
    with np.errstate(over="ignore"):
        return mix64(np.asarray(char_sum, np.uint64) ^ (np.asarray(lengths, np.uint64) * _GOLDEN))
