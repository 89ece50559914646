"""Sort-based set operations on 1-D arrays.

NumPy 2.3+ ``np.unique`` hashes by default, which on this workload (millions of
64-bit keys) is an order of magnitude slower than sorting; these helpers sort.

>>> import numpy as np
>>> unique(np.array([3, 1, 3, 2])).tolist()
[1, 2, 3]
>>> sorted(np.array([3, 1, 3, 2])[first_of_each(np.array([3, 1, 3, 2]))].tolist())
[1, 2, 3]
>>> in_sorted(np.array([5, 2, 9]), np.array([1, 2, 5])).tolist()
[True, True, False]
>>> ranges(np.array([10, 3]), np.array([2, 3])).tolist()
[10, 11, 3, 4, 5]
"""

from __future__ import annotations

import numpy as np


def unique(values: np.ndarray, kind: str = "quicksort") -> np.ndarray:
    """Sorted distinct values. ``kind="stable"`` (timsort) is faster when the values come in sorted runs."""
    s = np.sort(values, kind=kind)
    return s[np.concatenate(([True], s[1:] != s[:-1]))] if len(s) else s


def first_of_each(values: np.ndarray) -> np.ndarray:
    """Index of one occurrence of each distinct value, in order of the sorted values."""
    order = np.argsort(values)
    s = values[order]
    return order[np.concatenate(([True], s[1:] != s[:-1]))] if len(s) else order


def in_sorted(values: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """Whether each value occurs in ``sorted_values`` (ascending): ``np.isin`` by binary search."""
    if not len(sorted_values):
        return np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return sorted_values[at] == values


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(start, start + length)`` for each start and length."""
    lengths = np.asarray(lengths, np.intp)
    ends = np.cumsum(lengths)
    return np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(np.asarray(starts, np.intp) - (ends - lengths), lengths)
