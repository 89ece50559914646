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


# odd multipliers for the polynomial hash of a token's characters
_POSITION_WEIGHTS = seeded_uint64(0, "char-position", 256) | np.uint64(1)


def positional_weights(offset: np.ndarray) -> np.ndarray:
    return _POSITION_WEIGHTS[np.asarray(offset) & 255]


def token_hash_from_sum(char_sum: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Final token hash from the weighted code point sum and the token length."""
    with np.errstate(over="ignore"):
        return mix64(np.asarray(char_sum, np.uint64) ^ (np.asarray(lengths, np.uint64) * _GOLDEN))
