"""Sentence alignment: which sentences of one text correspond to which of the other.

Each sentence is the set of its content-word stems. Two sentences are similar
by the weighted Dice coefficient of those sets (weights come from the caller,
uniform by default). The alignment is the order-preserving one-to-one matching
that maximises the total similarity above ``min_similarity`` (a weighted
longest-common-subsequence, computed row by row with numpy).

>>> from dedup.tokenize import tokenize
>>> a = "Armenia froze its CSTO membership. Peskov said Russia will keep talking."
>>> b = "Peskov stated that Russia will keep talking. Armenia has frozen its CSTO membership."
>>> al = align(tokenize(a), tokenize(b), min_similarity=0.3, min_shared=2)
>>> [(p.a, p.b) for p in al.pairs]
[(1, 0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from dedup.tokenize import DocTokens

Weights = Callable[[np.ndarray], np.ndarray]  # stems -> float weights
Distinctive = Callable[[np.ndarray], np.ndarray]  # stems -> bool


@dataclass(frozen=True)
class AlignedPair:
    a: int  # sentence index in text a
    b: int  # sentence index in text b
    similarity: float


@dataclass(frozen=True)
class Alignment:
    pairs: tuple[AlignedPair, ...]
    coverage_a: float  # similarity-weighted share of a's content weight in aligned sentences
    coverage_b: float
    sentences_a: int  # sentences with content in a
    sentences_b: int


def similarity_matrix(a: DocTokens, b: DocTokens, weights: Weights | None = None,
                      min_shared: int = 3, distinctive: Distinctive | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(S, mass_a, mass_b): weighted Dice between every sentence of a and of b, and sentence masses.

    Two sentences count as similar only if they share ``min_shared`` stems, one of them
    ``distinctive`` (when given), and their numbers do not disagree: sentences made only of a
    corpus's template words, or one template filled with other figures, never align.
    """
    ta, tb = a.stem[a.content], b.stem[b.content]
    vocab, inverse = np.unique(np.concatenate((ta, tb)), return_inverse=True)
    w = np.ones(len(vocab)) if weights is None else np.asarray(weights(vocab), float)
    ma = np.zeros((a.n_sentences, len(vocab)))
    mb = np.zeros((b.n_sentences, len(vocab)))
    ma[a.sentence[a.content], inverse[: len(ta)]] = 1.0  # a set: repeated stems set the same cell
    mb[b.sentence[b.content], inverse[len(ta) :]] = 1.0
    shared_count = ma @ mb.T
    shared_weight = (ma * w) @ mb.T
    mass_a, mass_b = ma @ w, mb @ w
    denominator = mass_a[:, None] + mass_b[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        dice = np.where(denominator > 0, 2.0 * shared_weight / denominator, 0.0)
    dice[shared_count < min_shared] = 0.0
    if distinctive is not None:
        dice[(ma * distinctive(vocab)) @ mb.T < 1] = 0.0
    dice[_numbers_disagree(a, b)] = 0.0
    return dice, mass_a, mass_b


def _numbers_disagree(a: DocTokens, b: DocTokens) -> np.ndarray:
    """(na, nb) bool: both sentences hold numbers and fewer than half of them are shared."""
    ha, hb = a.hash[a.numeric], b.hash[b.numeric]
    vocab, inverse = np.unique(np.concatenate((ha, hb)), return_inverse=True)
    na = np.zeros((a.n_sentences, len(vocab)))
    nb = np.zeros((b.n_sentences, len(vocab)))
    na[a.sentence[a.numeric], inverse[: len(ha)]] = 1.0
    nb[b.sentence[b.numeric], inverse[len(ha) :]] = 1.0
    shared = na @ nb.T
    size_a, size_b = na.sum(axis=1)[:, None], nb.sum(axis=1)[None, :]
    return (size_a > 0) & (size_b > 0) & (2 * shared < size_a + size_b - shared)


def align(a: DocTokens, b: DocTokens, min_similarity: float = 0.25, weights: Weights | None = None,
          min_shared: int = 3, distinctive: Distinctive | None = None) -> Alignment:
    sim, mass_a, mass_b = similarity_matrix(a, b, weights, min_shared, distinctive)
    pairs = _monotone_matching(sim, min_similarity)
    covered_a = sum(p.similarity * mass_a[p.a] for p in pairs)
    covered_b = sum(p.similarity * mass_b[p.b] for p in pairs)
    return Alignment(
        pairs=pairs,
        coverage_a=float(covered_a / mass_a.sum()) if mass_a.sum() else 0.0,
        coverage_b=float(covered_b / mass_b.sum()) if mass_b.sum() else 0.0,
        sentences_a=int((mass_a > 0).sum()),
        sentences_b=int((mass_b > 0).sum()),
    )


def _monotone_matching(sim: np.ndarray, min_similarity: float) -> tuple[AlignedPair, ...]:
    """Order-preserving one-to-one matching maximising the summed similarity of matched pairs."""
    m, n = sim.shape
    if m == 0 or n == 0:
        return ()
    gain = np.where(sim >= min_similarity, sim, 0.0)
    score = np.zeros((m + 1, n + 1))
    for i in range(1, m + 1):
        diagonal = score[i - 1, :-1] + gain[i - 1]
        row = np.maximum(score[i - 1, 1:], diagonal)
        score[i, 1:] = np.maximum.accumulate(row)
    pairs = []
    i, j = m, n
    while i > 0 and j > 0:
        if score[i, j] == score[i - 1, j]:
            i -= 1
        elif score[i, j] == score[i, j - 1]:
            j -= 1
        else:
            pairs.append(AlignedPair(i - 1, j - 1, float(sim[i - 1, j - 1])))
            i, j = i - 1, j - 1
    return tuple(reversed(pairs))
