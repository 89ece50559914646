"""Stage 2: shingles, as 64-bit hashes, from tokens.

Word n-grams combine the hashes of n consecutive tokens of one document; a
document shorter than n tokens yields one shingle of all its tokens, so short
texts still get a signature. Character n-grams hash windows of n code points
of the case-folded text with words joined by single spaces.

>>> from dedup.tokenize import tokenize_batch
>>> batch = tokenize_batch(["a b c d", "a b c"])
>>> offsets, hashes = ngram_hashes(batch.hash, batch.offsets, 3)
>>> offsets.tolist(), bool(hashes[0] == hashes[2])
([0, 2, 3], True)
"""

from __future__ import annotations

import numpy as np
import regex

from dedup.hashing import mix64, seeded_uint64
from dedup.tokenize import TokenBatch

_GRAM_WEIGHTS = seeded_uint64(0, "gram-position", 64) | np.uint64(1)


def ngram_hashes(values: np.ndarray, offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the n-grams of each segment ``values[offsets[i]:offsets[i+1]]``.

    A segment shorter than n yields one hash of all its values. Returns (shingle_offsets,
    shingle_hashes) in the same segment layout.
    """
    lengths = np.diff(offsets)
    counts = np.where(lengths > 0, np.maximum(lengths - n + 1, 1), 0)
    out_offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    total = len(values)
    padded = np.zeros(total + n - 1, np.uint64)
    padded[:total] = values
    acc = np.zeros(total, np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):  # a window starting at every position, from contiguous slices
            acc += padded[k : k + total] * _GRAM_WEIGHTS[k % 64]
        segment_end = np.repeat(offsets[1:], lengths)
        valid = np.arange(n - 1, total + n - 1) < segment_end  # the whole window lies in its segment
        short = np.flatnonzero((lengths > 0) & (lengths < n))
        if len(short):  # one shingle of what there is: the window without the values past the segment
            first = offsets[short]
            partial = np.zeros(len(short), np.uint64)
            for k in range(n - 1):
                partial += np.where(k < lengths[short], padded[first + k], 0) * _GRAM_WEIGHTS[k % 64]
            acc[first] = partial
            valid[first] = True
    return out_offsets, mix64(acc[valid])


_NON_WORD = regex.compile(r"[^\p{L}\p{M}\p{N}]+")


def char_shingles(texts: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    folded = [_NON_WORD.sub(" ", t).casefold().strip() for t in texts]
    cps = [np.frombuffer(f.encode("utf-32-le", "surrogatepass"), np.uint32) for f in folded]
    offsets = np.concatenate(([0], np.cumsum([len(c) for c in cps]))).astype(np.int64)
    values = np.concatenate(cps).astype(np.uint64) if cps else np.zeros(0, np.uint64)
    return ngram_hashes(values, offsets, n)


def content_stems(batch: TokenBatch) -> tuple[np.ndarray, np.ndarray]:
    """Stems of the content words of each document, in the same (offsets, values) layout."""
    keep = batch.content
    kept_before = np.concatenate(([0], np.cumsum(keep)))
    return kept_before[batch.offsets].astype(np.int64), batch.stem[keep]
