"""Where a scan keeps per-document data it needs later: in temporary files, not in memory.

>>> with TextStore() as store:
...     store.extend(["first", "second"])
...     store.get([1, 0])
['second', 'first']
>>> import numpy as np
>>> with SegmentStore() as stems:
...     stems.extend(np.array([0, 2, 3]), np.array([7, 8, 9], np.uint64))
...     offsets, values = stems.read(0, 2)
...     offsets.tolist(), values.tolist()
([0, 2, 3], [7, 8, 9])
"""

from __future__ import annotations

import os
import tempfile

import numpy as np


class TextStore:
    def __init__(self, directory: str | None = None):
        self._file = tempfile.TemporaryFile(dir=directory)
        self._offsets = [0]

    def __enter__(self) -> "TextStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

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

    def get(self, indices) -> list[str]:
        self._file.flush()
        fd = self._file.fileno()
        offsets = self._offsets
        return [os.pread(fd, offsets[i + 1] - offsets[i], offsets[i]).decode("utf-8", "surrogatepass")
                for i in np.asarray(indices, np.int64).tolist()]


class SegmentStore:
    """uint64 segments (one per document), appended in order and read back in ranges."""

    def __init__(self, directory: str | None = None):
        self._file = tempfile.TemporaryFile(dir=directory)
        self._ends: list[np.ndarray] = []
        self._count = 0

    def __enter__(self) -> "SegmentStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def extend(self, offsets: np.ndarray, values: np.ndarray) -> None:
        self._file.seek(0, os.SEEK_END)
        self._file.write(np.ascontiguousarray(values, np.uint64).tobytes())
        self._ends.append(np.asarray(offsets[1:], np.int64) + self._count)
        self._count += int(offsets[-1])

    def read(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Segments lo .. hi-1 as (offsets from 0, values)."""
        self._file.flush()
        if len(self._ends) > 1:
            self._ends = [np.concatenate(self._ends)]
        ends = self._ends[0] if self._ends else np.zeros(0, np.int64)
        start = int(ends[lo - 1]) if lo > 0 else 0
        stop = int(ends[hi - 1]) if hi > 0 else 0
        data = os.pread(self._file.fileno(), 8 * (stop - start), 8 * start)
        offsets = np.concatenate(([0], ends[lo:hi] - start))
        return offsets, np.frombuffer(data, np.uint64)
