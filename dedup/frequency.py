"""Document frequencies of content stems, for IDF weights in sentence alignment.

Counts live in a fixed-size hashed table (one row of a count-min sketch):
memory stays constant for any corpus, the table is one array that worker
processes map from a file, and collisions only make a rare stem look a little
more common (a lower weight).

>>> import numpy as np
>>> df = DocumentFrequency(bits=10)
>>> df.add(np.array([0, 2, 3]), np.array([7, 8, 7], np.uint64))
>>> df.n_docs, df.idf(np.array([7, 8, 9], np.uint64)).round(2).tolist()
(2, [0.69, 1.1, 1.1])
"""

from __future__ import annotations

import numpy as np

from dedup.arrays import first_of_each
from dedup.hashing import mix64
from dedup.store import save_npy


DEFAULT_BITS = 22


def _slots(stems: np.ndarray, bits: int) -> np.ndarray:
    return (np.asarray(stems, np.uint64) & np.uint64((1 << bits) - 1)).astype(np.int64)


def tally(stems: np.ndarray, bits: int = DEFAULT_BITS) -> tuple[np.ndarray, np.ndarray]:
    """(slots, counts) of stems already distinct per document: a batch's share of the table,
    computed where the batch is (a worker) so that adding it is cheap."""
    slots = np.sort(_slots(stems, bits).astype(np.uint32 if bits <= 32 else np.int64))  # narrower sorts faster
    starts = np.flatnonzero(np.concatenate(([True], slots[1:] != slots[:-1]))) if len(slots) else slots
    return slots[starts], np.diff(np.append(starts, len(slots))).astype(np.int32)


class DocumentFrequency:
    def __init__(self, bits: int = DEFAULT_BITS):
        self.counts = np.zeros(1 << bits, np.int32)
        self.n_docs = 0

    @property
    def bits(self) -> int:
        return len(self.counts).bit_length() - 1

    def _slot(self, stems: np.ndarray) -> np.ndarray:
        return _slots(stems, self.bits)

    def add(self, offsets: np.ndarray, stems: np.ndarray) -> None:
        """Count each stem once per document segment ``stems[offsets[i]:offsets[i+1]]``."""
        stems = np.asarray(stems, np.uint64)
        doc = np.repeat(np.arange(len(offsets) - 1, dtype=np.uint64), np.diff(offsets))
        # one (document, stem) key per occurrence; its unique values pick each stem once per document
        stems = stems[first_of_each(mix64(stems ^ mix64(doc)))]
        self.add_tally(*tally(stems, self.bits), len(offsets) - 1)

    def add_tally(self, slots: np.ndarray, counts: np.ndarray, n_docs: int) -> None:
        """Add a :func:`tally` of ``n_docs`` documents."""
        self.counts[slots] += counts
        self.n_docs += n_docs

    def save(self, path: str) -> None:
        """One .npy file: the counts, then the number of documents (written as they are, not copied
        into one array first: the table is 16 MB and a scan saves it while the workers wait)."""
        save_npy(path, self.counts.dtype, (len(self.counts) + 1,), [self.counts, np.array([self.n_docs])])

    @classmethod
    def load(cls, path: str) -> "DocumentFrequency":
        """Counts are memory-mapped read-only, so processes loading one file share its pages."""
        data = np.load(path, mmap_mode="r")
        df = cls(bits=1)
        df.counts, df.n_docs = data[:-1], int(data[-1])
        return df

    def count(self, stems: np.ndarray) -> np.ndarray:
        """Documents seen with each stem (an upper bound: hashed slots can collide)."""
        return self.counts[self._slot(stems)]

    def rare(self, stems: np.ndarray, max_df: float) -> np.ndarray:
        """Stems seen in at most ``max_df`` documents (all of them before any is added)."""
        return self.count(stems) <= max_df

    def idf(self, stems: np.ndarray) -> np.ndarray:
        """Smoothed inverse document frequency, log(1 + N / df); uniform before any document is added."""
        if self.n_docs == 0:
            return np.ones(len(stems))
        df = np.maximum(self.count(stems), 1)
        return np.log1p(self.n_docs / df)


class DistinctTexts:
    """Fingerprints of the texts counted so far: a text's copies count once in document
    frequencies, so that a story syndicated word for word does not make its words look common.

    >>> texts = DistinctTexts()
    >>> texts.first(np.array([7, 8, 7], np.uint64)).tolist(), texts.first(np.array([8, 9], np.uint64)).tolist()
    ([0, 1], [1])
    """

    def __init__(self) -> None:
        self._seen: set[int] = set()

    def first(self, fingerprints: np.ndarray) -> np.ndarray:
        """Rows whose text is new (the first of its copies), which are then counted as seen."""
        rows = first_copies(fingerprints)
        new = np.array([row for row, fingerprint in zip(rows.tolist(), fingerprints[rows].tolist())
                        if fingerprint not in self._seen], np.intp)
        self._seen.update(fingerprints[new].tolist())
        return new


def first_copies(fingerprints: np.ndarray) -> np.ndarray:
    """Rows of the first document with each text, in order: copies within an array count once."""
    return np.sort(np.unique(fingerprints, return_index=True)[1])

