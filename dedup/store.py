"""Where a scan keeps document texts: in a temporary file, read back only for candidates.

>>> with TextStore() as store:
...     store.extend(["first", "second"])
...     store.get([1, 0])
['second', 'first']
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
