"""Stage 3: MinHash signatures, vectorized over a batch of documents.

One-permutation hashing (Li, Owen & Zhang 2012) with optimal densification
(Shrivastava 2017): every shingle is hashed once with a seeded 64-bit mix;
its high bits pick one of ``num_perm`` bins and its low 32 bits compete for
that bin's minimum. Empty bins borrow the value of a non-empty bin chosen by
a probe sequence that depends only on the bin, so two documents agree on a
slot with probability equal to their Jaccard similarity, as with classic
k-permutation MinHash, at the cost of one hash per shingle instead of k.

Signatures are a ``(n_docs, num_perm)`` uint32 matrix.

>>> import numpy as np
>>> offsets = np.array([0, 3, 6]); shingles = np.array([1, 2, 3, 1, 2, 4], np.uint64)
>>> sig = sign(offsets, shingles, num_perm=64, seed=1)
>>> sig.shape, sig.dtype
((2, 64), dtype('uint32'))
>>> 0.0 <= estimate_jaccard(sig[0], sig[1]) <= 1.0
True
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dedup.hashing import mix64, seeded_uint64

EMPTY = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=32)
def _seed_key(seed: int) -> np.uint64:
    return seeded_uint64(seed, "minhash", 1)[0]


@lru_cache(maxsize=32)
def _probe_table(num_perm: int, seed: int, rounds: int) -> np.ndarray:
    """probe[t, i]: the bin an empty bin i looks at in attempt t."""
    keys = seeded_uint64(seed, "densify", 1)[0]
    t = np.arange(rounds, dtype=np.uint64)[:, None]
    i = np.arange(num_perm, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        h = mix64((t * np.uint64(num_perm) + i) ^ keys)
    return ((h >> np.uint64(32)) * np.uint64(num_perm) >> np.uint64(32)).astype(np.int64)


def sign(offsets: np.ndarray, shingles: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """Signatures of the shingle segments ``shingles[offsets[i]:offsets[i+1]]``.

    A document without shingles gets a row of EMPTY.
    """
    n_docs = len(offsets) - 1
    counts = np.diff(offsets)
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), counts)
    with np.errstate(over="ignore"):
        h = mix64(np.asarray(shingles, np.uint64) ^ _seed_key(seed))
        bins = ((h >> np.uint64(32)) * np.uint64(num_perm) >> np.uint64(32)).astype(np.int64)
    slot = doc * num_perm + bins
    sig = np.full(n_docs * num_perm, EMPTY, np.uint32)
    np.minimum.at(sig, slot, (h & np.uint64(0xFFFFFFFF)).astype(np.uint32))
    filled = np.zeros(n_docs * num_perm, bool)
    filled[slot] = True
    sig, filled = sig.reshape(n_docs, num_perm), filled.reshape(n_docs, num_perm)
    _densify(sig, filled, counts > 0, seed)
    return sig


def _densify(sig: np.ndarray, filled: np.ndarray, has_shingles: np.ndarray, seed: int) -> None:
    """Fill each empty bin from the first filled bin on its probe sequence.

    Rows with few filled bins (rare-stem sets) would need many probing rounds; for them the
    first hit is read off a table of when each bin's sequence first reaches each other bin.
    """
    num_perm = sig.shape[1]
    few = max(num_perm // 4, 1)  # up to this many filled bins, the table costs less than probing
    n_filled = np.count_nonzero(filled, axis=1)
    sparse = np.flatnonzero(has_shingles & (n_filled <= few))
    dense = has_shingles & (n_filled > few) & (n_filled < num_perm)
    sig_flat, filled_flat = sig.reshape(-1), filled.reshape(-1)  # views: flat indices gather faster
    empty = np.flatnonzero(~filled & dense[:, None])
    _probe(sig_flat, filled_flat, empty, num_perm, seed, 0)
    if not len(sparse):
        return
    depth = _FIRST_HIT_DEPTH * num_perm
    first_hit = _first_hit(num_perm, seed, depth)
    probe = _probe_table(num_perm, seed, depth)
    per_chunk = max(1, _FIRST_HIT_CELLS // (num_perm * few))  # bounds the gathered tables
    for lo in range(0, len(sparse), per_chunk):
        rows = sparse[lo : lo + per_chunk]
        row, source_bin = np.nonzero(filled[rows])
        # each row's filled bins, padded with a bin that is never reached
        column = np.arange(len(row)) - np.searchsorted(row, row)
        filled_bins = np.full((len(rows), column.max() + 1), num_perm)
        filled_bins[row, column] = source_bin
        attempt = first_hit[filled_bins].min(axis=1)  # (rows, num_perm)
        fill = ~filled[rows]
        found = fill & (attempt < depth)
        target = rows[:, None] * num_perm + np.arange(num_perm)
        source = probe[np.minimum(attempt, depth - 1), np.arange(num_perm)] + rows[:, None] * num_perm
        sig_flat[target[found]] = sig_flat[source[found]]
        _probe(sig_flat, filled_flat, target[fill & ~found], num_perm, seed, depth)  # almost never any


_FIRST_HIT_DEPTH = 8  # probes per bin covered by the table, in multiples of num_perm (past it: probing)
_FIRST_HIT_CELLS = 1 << 22


@lru_cache(maxsize=8)
def _first_hit(num_perm: int, seed: int, depth: int) -> np.ndarray:
    """first_hit[j, i]: the first attempt t < depth at which empty bin i probes bin j (depth if
    none; row num_perm is all depth). The smallest over a row's filled bins j is the attempt that
    finds i's source."""
    probe = _probe_table(num_perm, seed, depth)
    attempt = np.repeat(np.arange(depth, dtype=np.int64), num_perm)
    empty_bin = np.tile(np.arange(num_perm, dtype=np.int64), depth)
    table = np.full((num_perm + 1, num_perm), depth, np.int64)
    np.minimum.at(table, (probe.ravel(), empty_bin), attempt)
    return table.astype(np.int16 if depth < 1 << 15 else np.int32)


def _probe(sig_flat: np.ndarray, filled_flat: np.ndarray, empty: np.ndarray, num_perm: int, seed: int,
           attempt: int) -> None:
    """Fill the empty flat positions by probing, from the given attempt on."""
    cols = empty % num_perm
    row_start = empty - cols
    rounds = 64
    while len(empty):
        while attempt >= rounds:
            rounds *= 4
        source = row_start + _probe_table(num_perm, seed, rounds)[attempt].take(cols)
        hit = filled_flat.take(source)
        sig_flat[empty[hit]] = sig_flat.take(source[hit])
        miss = ~hit
        empty, cols, row_start = empty[miss], cols[miss], row_start[miss]
        attempt += 1


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Fraction of agreeing slots: an unbiased estimate of the Jaccard similarity."""
    return float(np.mean(sig_a == sig_b))


def low_bytes(signatures: np.ndarray) -> np.ndarray:
    """The low 8 bits of each slot: b-bit minwise hashing (Li & König 2010) with b = 8. A quarter
    of the memory, and :func:`jaccard_from_low_bytes` still estimates Jaccard similarity."""
    return (np.asarray(signatures) & 0xFF).astype(np.uint8)


def jaccard_from_low_bytes(agreement: np.ndarray) -> np.ndarray:
    """Jaccard estimate from the share of equal low bytes, which also agree by chance (1 in 256).

    >>> sig = sign(np.array([0, 40, 80]), np.arange(80, dtype=np.uint64) // 2 * 7, 128, seed=1)
    >>> agreement = np.mean(low_bytes(sig[0]) == low_bytes(sig[1]))
    >>> bool(abs(jaccard_from_low_bytes(agreement) - estimate_jaccard(sig[0], sig[1])) < 0.05)
    True
    """
    chance = 1.0 / 256
    return np.maximum((np.asarray(agreement, float) - chance) / (1.0 - chance), 0.0)


def to_datasketch(signature: np.ndarray, seed: int = 1):
    """Export one signature row as a datasketch ``LeanMinHash``.

    datasketch's ``jaccard`` on two exported rows equals :func:`estimate_jaccard`.
    """
    from datasketch import LeanMinHash, MinHash

    # 32-bit values with 0xFFFFFFFF as the empty marker: datasketch's "affine32" layout
    minhash = MinHash(num_perm=len(signature), seed=seed, hashvalues=np.asarray(signature, np.uint64),
                      scheme="affine32")
    return LeanMinHash(minhash)
