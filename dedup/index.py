"""Stage 4: LSH banding over signature matrices; candidate pairs only.

The signature is cut into ``bands`` bands of ``rows`` slots. Two documents are
candidates when any band agrees. Bands and rows come from the threshold by
minimising the weighted area of false positives below it and of false
negatives above it.

Bucketing sorts each band's 64-bit keys with numpy; there are no Python
dicts of lists. A bucket larger than ``max_bucket_size`` (boilerplate pages,
templates, mass copies) is linked as a chain of neighbours rather than as all
its pairs, so it costs linear, not quadratic, work; clustering still joins
all its members.

>>> bands, rows = optimal_bands(0.5, 128)
>>> bands * rows <= 128
True
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterable

import numpy as np

from dedup.arrays import in_sorted, ranges, unique
from dedup.hashing import mix64, seeded_uint64


def _candidate_probability(s: np.ndarray, bands: int, rows: int) -> np.ndarray:
    return 1.0 - (1.0 - s**rows) ** bands


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int]:
    """(bands, rows) minimising w_fp * FP area + w_fn * FN area around ``threshold``."""
    below = np.linspace(0.0, threshold, 201)
    above = np.linspace(threshold, 1.0, 201)
    bands = np.concatenate([np.full(num_perm // b, b) for b in range(1, num_perm + 1)])
    rows = np.concatenate([np.arange(1, num_perm // b + 1) for b in range(1, num_perm + 1)])
    fp = np.trapezoid(_candidate_probability(below, bands[:, None], rows[:, None]), below, axis=1)
    fn = np.trapezoid(1.0 - _candidate_probability(above, bands[:, None], rows[:, None]), above, axis=1)
    costs = (weights[0] * fp + weights[1] * fn).tolist()
    best, best_cost = 0, np.inf
    for i, cost in enumerate(costs):  # the first of near-equal costs, as a search by bands then rows finds it
        if cost < best_cost - 1e-12:
            best, best_cost = i, cost
    return int(bands[best]), int(rows[best])


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64: for each row of a signature matrix, a hash of each band's slots."""
    weights = _row_weights(rows)
    keys = np.zeros((len(signatures), bands), np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):  # one column of each band at a time: memory stays at n x bands
            keys += mix64(signatures[:, r : bands * rows : rows].astype(np.uint64)) * weights[r]
        return mix64(keys ^ np.arange(bands, dtype=np.uint64))


@lru_cache(maxsize=16)
def _row_weights(rows: int) -> np.ndarray:
    return seeded_uint64(0, "band-row", rows) | np.uint64(1)


def _stable_key_order(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, keys[order]) as a stable argsort gives them: by key, then by row.

    One plain sort of (key's top bits | row) does most of it at about half the cost of a stable
    argsort; keys that differ but agree on the top bits (hash keys: about 0.03 such pairs per
    band at a million rows) are then put in exact order within their run."""
    row_bits = np.uint64(max(len(keys) - 1, 1).bit_length())
    packed = np.sort((keys >> row_bits << row_bits) | np.arange(len(keys), dtype=np.uint64))
    order = (packed & ((np.uint64(1) << row_bits) - np.uint64(1))).astype(np.int64)
    sorted_keys = keys[order]
    packed >>= row_bits  # now each key's top bits: in place, a band of a million keys is 8 MB
    same_top = packed[1:] == packed[:-1]
    mixed = same_top & (sorted_keys[1:] != sorted_keys[:-1])
    if mixed.any():
        run = np.concatenate(([0], np.cumsum(~same_top)))
        at = np.flatnonzero(in_sorted(run, run[1:][mixed]))  # positions of the runs to put right
        exact = at[np.lexsort((order[at], sorted_keys[at], run[at]))]
        order[at], sorted_keys[at] = order[exact], sorted_keys[exact]
    return order, sorted_keys


def bucket_pairs(keys: np.ndarray, max_bucket_size: int) -> np.ndarray:
    """Pairs (i, j), i < j, of rows of ``keys`` (one band, shape (n,)) sharing a key."""
    order, sorted_keys = _stable_key_order(np.asarray(keys, np.uint64))
    n = len(keys)
    # runs of equal keys, kept only if they pair anything: most keys of a band are alone
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    sizes = np.diff(starts, append=n)
    starts, sizes = starts[sizes > 1], sizes[sizes > 1]
    big = sizes > max_bucket_size
    # chains for oversized buckets
    at = ranges(starts[big], sizes[big] - 1)
    pairs = [np.stack((order[at], order[at + 1]), axis=1)]
    # all pairs for the others: offsets d = 1 .. size-1
    members = ranges(starts[~big], sizes[~big])
    run_end = np.repeat(starts[~big] + sizes[~big], sizes[~big])
    d = 1
    while len(members):
        same = members + d < run_end
        members, run_end = members[same], run_end[same]
        pairs.append(np.stack((order[members], order[members + d]), axis=1))
        d += 1
    return np.sort(np.concatenate(pairs), axis=1)


def pairs_from_bands(band_keys_by_band: Iterable[np.ndarray], max_bucket_size: int = 64,
                     valid: np.ndarray | None = None,
                     accept: Callable[[np.ndarray], np.ndarray] | None = None,
                     known: np.ndarray | None = None) -> np.ndarray:
    """Unique pairs (i, j), i < j, sorted, of rows sharing a key in any band.

    Takes one band's keys (shape (n,)) at a time, so the bands can come from disk one by one.
    ``valid`` masks the rows to index; ``accept`` (pairs -> bool mask) filters each band's new
    pairs as they are found, so memory follows the accepted pairs, and a pair already accepted is
    not judged again when it meets in another band. ``known`` (sorted codes i * n + j) are pairs
    the caller already has: left out, and not judged. Oversized buckets chain in row order.
    """
    n = 0
    kept = np.zeros(0, np.int64)  # pairs kept so far, as sorted codes i * n + j
    for keys in band_keys_by_band:
        n = len(keys)
        index = np.arange(n) if valid is None else np.flatnonzero(valid)
        pairs = index[bucket_pairs(keys[index], max_bucket_size)]
        codes = unique(pairs[:, 0] * np.int64(n) + pairs[:, 1])
        codes = codes[~in_sorted(codes, kept)]
        if known is not None:
            codes = codes[~in_sorted(codes, known)]
        if accept is not None and len(codes):
            codes = codes[accept(np.stack((codes // n, codes % n), axis=1))]
        kept = np.sort(np.concatenate((kept, codes)), kind="stable")  # merges two sorted runs
    return np.stack((kept // max(n, 1), kept % max(n, 1)), axis=1)


def candidate_pairs(signatures: np.ndarray, threshold: float, weights=(0.5, 0.5), max_bucket_size: int = 64,
                    valid: np.ndarray | None = None) -> np.ndarray:
    """Unique candidate pairs (i, j), i < j, sorted, of an in-memory signature matrix."""
    bands, rows = optimal_bands(threshold, signatures.shape[1], tuple(weights))
    keys = band_keys(signatures, bands, rows)
    return pairs_from_bands((keys[:, b] for b in range(bands)), max_bucket_size, valid)


def unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """Sorted distinct rows of an (m, 2) array of non-negative pairs."""
    if not len(pairs):
        return np.zeros((0, 2), np.int64)
    pairs = pairs.astype(np.int64)
    n = np.int64(pairs.max()) + 1
    keys = unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack((keys // n, keys % n), axis=1)


class GrowingBuckets:
    """LSH buckets filled as documents arrive, for an index that takes them a batch at a time.

    Keys (each document's band keys) go into sorted runs, merged as they grow so that each key is
    moved O(log n) times: 12 bytes a key and binary searches, not a dict entry per key.

    >>> buckets = GrowingBuckets()
    >>> buckets.add(np.array([0, 1]), np.array([[5, 9], [9, 7]], np.uint64))
    >>> buckets.members(np.array([[9, 8]], np.uint64), max_bucket_size=64, before=np.array([2])).tolist()
    [[0, 0], [0, 1]]
    """

    _FRESH_KEYS = 1 << 12  # keys in the newest run, kept sorted by insertion, before it joins the others

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted keys, their documents), largest first
        self._fresh = (np.zeros(0, np.uint64), np.zeros(0, np.int32))

    def add(self, docs: np.ndarray, keys: np.ndarray) -> None:
        """Put documents ``docs`` (m,) in the buckets of their keys (m, k)."""
        new = _sorted_run(np.asarray(keys, np.uint64).ravel(), np.repeat(np.asarray(docs, np.int32), keys.shape[1]))
        at = np.searchsorted(self._fresh[0], new[0], "right")  # after equal keys: arrival order within a bucket
        self._fresh = (np.insert(self._fresh[0], at, new[0]), np.insert(self._fresh[1], at, new[1]))
        if len(self._fresh[0]) >= self._FRESH_KEYS:
            run, self._fresh = self._fresh, (np.zeros(0, np.uint64), np.zeros(0, np.int32))
            while self._runs and len(self._runs[-1][0]) <= len(run[0]):
                run = _sorted_run(*(np.concatenate(parts) for parts in zip(self._runs.pop(), run)))
            self._runs.append(run)

    def members(self, keys: np.ndarray, max_bucket_size: int, before: np.ndarray) -> np.ndarray:
        """Sorted distinct pairs (row, document): the documents less than ``before[row]`` in the
        buckets of the keys (m, k) of each row; of a bucket with more such documents than
        ``max_bucket_size`` (a template, a mass copy), its newest ``max_bucket_size``."""
        width, keys = keys.shape[1], np.asarray(keys, np.uint64).ravel()
        by_key = np.argsort(keys)  # sorted needles: a run is searched in order, not at random
        sorted_keys = keys[by_key]
        key_of, docs = [], []
        for run_keys, run_docs in [*self._runs, self._fresh]:
            lo, hi = np.searchsorted(run_keys, sorted_keys, "left"), np.searchsorted(run_keys, sorted_keys, "right")
            key_of.append(np.repeat(by_key, hi - lo))
            docs.append(run_docs[ranges(lo, hi - lo)])
        key_of, found = np.concatenate(key_of), np.concatenate(docs).astype(np.int64)
        earlier = found < np.asarray(before, np.int64)[key_of // width]
        key_of, found = key_of[earlier], found[earlier]
        if len(found) > max_bucket_size:  # else no bucket can be over the cap
            order = np.lexsort((-found, key_of))  # by key, newest first
            key_of, found = key_of[order], found[order]
            newest = np.arange(len(found)) - np.searchsorted(key_of, key_of, "left") < max_bucket_size
            key_of, found = key_of[newest], found[newest]
        return unique_pairs(np.stack((key_of // width, found), axis=1))


def _sorted_run(keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    return keys[order], docs[order]
