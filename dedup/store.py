"""Where a scan keeps per-document data it needs later: in temporary files, not in memory.

>>> with TextStore() as store:
...     store.extend(["first", "second"])
...     store.get([1, 0])
['second', 'first']

A store's ``locate`` gives a small picklable slice that another process reads
from the store's file, so that worker processes fetch their own input:

>>> with TextStore() as store:
...     store.extend(["first", "second"])
...     store.locate([1]).read()
['second']
>>> import numpy as np
>>> with SegmentStore() as stems:
...     stems.extend(np.array([0, 2, 3]), np.array([7, 8, 9], np.uint64))
...     offsets, values = stems.read(0, 2)
...     offsets.tolist(), values.tolist()
([0, 2, 3], [7, 8, 9])
>>> rows = ArrayStore(2, np.uint32, spill=True)
>>> rows.append(np.array([[1, 2], [3, 4]])); rows.append(np.array([[5, 6]]))
>>> rows.read().tolist()
[[1, 2], [3, 4], [5, 6]]
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np


class _TemporaryFile:
    """A store backed by one temporary file, removed on close() or on leaving a with block. The file
    has a name so that worker processes can read it."""

    def __init__(self, directory: str | None = None):
        self._file = tempfile.NamedTemporaryFile(dir=directory)

    @property
    def path(self) -> str:
        return self._file.name

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()


class TextStore(_TemporaryFile):
    """Texts appended in order and read back by index."""

    def __init__(self, directory: str | None = None):
        super().__init__(directory)
        self._offsets = [0]

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def extend(self, texts: list[str]) -> None:
        data = [t.encode("utf-8", "surrogatepass") for t in texts]
        self._file.seek(0, os.SEEK_END)
        self._file.write(b"".join(data))
        end = self._offsets[-1]
        for d in data:
            end += len(d)
            self._offsets.append(end)

    def locate(self, indices) -> "TextSlice":
        self._file.flush()
        offsets = self._offsets
        return TextSlice(self.path, [(offsets[i], offsets[i + 1] - offsets[i])
                                     for i in np.asarray(indices, np.int64).tolist()])

    def get(self, indices) -> list[str]:
        return self.locate(indices).read()


@dataclass(frozen=True)
class TextSlice:
    """Some texts of a TextStore: (byte offset, byte length) of each in the store's file."""

    path: str
    spans: list[tuple[int, int]]

    def read(self) -> list[str]:
        with open(self.path, "rb") as f:
            fd = f.fileno()
            return [os.pread(fd, length, offset).decode("utf-8", "surrogatepass") for offset, length in self.spans]


class SegmentStore(_TemporaryFile):
    """uint64 segments (one per document), appended in order and read back in ranges."""

    def __init__(self, directory: str | None = None):
        super().__init__(directory)
        self._ends: list[np.ndarray] = []
        self._count = 0

    def extend(self, offsets: np.ndarray, values: np.ndarray) -> None:
        self._file.seek(0, os.SEEK_END)
        self._file.write(np.ascontiguousarray(values, np.uint64).tobytes())
        self._ends.append(np.asarray(offsets[1:], np.int64) + self._count)
        self._count += int(offsets[-1])

    def locate(self, lo: int, hi: int) -> "SegmentSlice":
        """Segments lo .. hi-1."""
        self._file.flush()
        if len(self._ends) > 1:
            self._ends = [np.concatenate(self._ends)]
        ends = self._ends[0] if self._ends else np.zeros(0, np.int64)
        start = int(ends[lo - 1]) if lo > 0 else 0
        return SegmentSlice(self.path, start, np.concatenate(([0], ends[lo:hi] - start)))

    def read(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Segments lo .. hi-1 as (offsets from 0, values)."""
        return self.locate(lo, hi).read()


@dataclass(frozen=True)
class SegmentSlice:
    """Consecutive segments of a SegmentStore: the first one's value index in the file, and offsets from 0."""

    path: str
    start: int
    offsets: np.ndarray

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        with open(self.path, "rb") as f:
            data = os.pread(f.fileno(), 8 * int(self.offsets[-1]), 8 * self.start)
        return self.offsets, np.frombuffer(data, np.uint64)


class ArrayStore:
    """Rows of a fixed width appended in batches, kept in memory or (``spill``) in a temporary file.

    ``read()`` gives the whole (n, width) array; from a spilled store it is a read-only memory map,
    so only the pages that are touched come into memory.
    """

    def __init__(self, width: int, dtype, spill: bool = False, directory: str | None = None):
        self.width, self.dtype = width, np.dtype(dtype)
        self._file = tempfile.TemporaryFile(dir=directory) if spill else None
        self._chunks: list[np.ndarray] = []
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, self.dtype).reshape(-1, self.width)
        self._rows += len(rows)
        if self._file is None:
            self._chunks.append(rows)
        else:
            self._file.write(rows.tobytes())

    def read(self) -> np.ndarray:
        if self._file is None:
            if len(self._chunks) != 1:
                self._chunks = [np.concatenate(self._chunks) if self._chunks else np.zeros((0, self.width), self.dtype)]
            return self._chunks[0]
        self._file.flush()
        if self._rows == 0:
            return np.zeros((0, self.width), self.dtype)
        return np.memmap(self._file, self.dtype, "r", shape=(self._rows, self.width))

    def close(self) -> None:
        self._chunks = []
        if self._file is not None and not self._file.closed:
            self._file.close()


class BandKeyStore:
    """LSH band keys, one store per band, so that a band can be read (and sorted) on its own."""

    def __init__(self, bands: int, spill: bool = False, directory: str | None = None):
        self.bands = [ArrayStore(1, np.uint64, spill, directory) for _ in range(bands)]

    def append(self, keys: np.ndarray) -> None:
        for b, store in enumerate(self.bands):
            store.append(keys[:, b])

    def band(self, b: int) -> np.ndarray:
        return np.asarray(self.bands[b].read()[:, 0])

    def close(self) -> None:
        for store in self.bands:
            store.close()
