"""Sentence alignment: which sentences of one text correspond to which of the other.

Each sentence is the set of its content-word stems. Two sentences are similar
by the weighted Dice coefficient of those sets. A stem's weight in a text is the
caller's (IDF over a corpus; uniform by default) times a discount for spread:
log(1 + n/k) / log(1 + n) for a stem in k of the text's n sentences. Words that
run through a text are its topic, and two texts on one story share them in
nearly every sentence; a rewritten sentence carries over words specific to it.
The alignment is the order-preserving one-to-one matching that maximises the
total similarity above ``min_similarity`` (a weighted longest-common-subsequence,
computed row by row with numpy).

``align_pairs`` aligns many pairs of texts at once: the sentence similarities
of every pair come from one sort-merge join of (pair, stem) keys, so the cost
per pair is a few array elements, not a few dozen numpy calls.

>>> from dedup.tokenize import tokenize
>>> a = "Armenia froze its CSTO membership. Peskov said Russia will keep talking."
>>> b = "Peskov stated that Russia will keep talking. Armenia has frozen its CSTO membership."
>>> al = align(tokenize(a), tokenize(b), min_similarity=0.3, min_shared=2)
>>> [(p.a, p.b) for p in al.pairs]
[(1, 0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from dedup.arrays import ranges
from dedup.tokenize import DocTokens

Weights = Callable[[np.ndarray], np.ndarray]  # stems -> float weights
Distinctive = Callable[[np.ndarray], np.ndarray]  # stems -> bool


class AlignedPair(NamedTuple):  # a tuple: pairs run to millions in a scan, cheap to make and to send
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


_KEY_BITS = 40  # stems are < 2**40; the pair index goes above them in one sortable key
_CELL_BUDGET = 1 << 21  # sentence pairs scored at once, bounding memory with long texts


@dataclass(frozen=True)
class SentenceSets:
    """Many texts' sentences as sets: each distinct (content stem, sentence) and (number,
    sentence) of text t at ``offsets[t]:offsets[t+1]`` (``number_offsets`` for numbers), sorted
    by stem or number within the text, and each sentence's mass (summed stem weight) and count of
    distinct numbers at ``sentence_offsets[t] + i``."""

    offsets: np.ndarray
    stem: np.ndarray  # uint64 < 2**40
    stem_sentence: np.ndarray  # intp, sentence index within its text
    weight: np.ndarray  # float64, of the entry's stem in its text
    numeric: np.ndarray  # bool: the entry's stem is a number's
    distinctive: np.ndarray | None  # bool, of the entry's stem
    number_offsets: np.ndarray
    number: np.ndarray  # uint64 < 2**40: top bits of the number's token hash
    number_sentence: np.ndarray
    sentence_offsets: np.ndarray
    mass: np.ndarray  # float64 per sentence
    numbers: np.ndarray  # intp per sentence

    def n_sentences(self, texts: np.ndarray) -> np.ndarray:
        return self.sentence_offsets[texts + 1] - self.sentence_offsets[texts]


def _distinct_entries(texts: list[DocTokens], keys: list[np.ndarray], mask: list[np.ndarray]):
    """(offsets, key, sentence, first) of each text's distinct (key, sentence) pairs, sorted by key
    within a text; ``first`` indexes each pair's first token among the texts' masked tokens, in order."""
    lengths = np.array([int(m.sum()) for m in mask], np.intp)
    text = np.repeat(np.arange(len(texts), dtype=np.uint64), lengths)
    key = np.concatenate([k[m] for k, m in zip(keys, mask)]) if texts else np.zeros(0, np.uint64)
    sentence = np.concatenate([t.sentence[m] for t, m in zip(texts, mask)]).astype(np.intp) if texts else np.zeros(0, np.intp)
    # tokens come in sentence order within a text, so a stable sort by (text, key) keeps it
    packed = (text << np.uint64(_KEY_BITS)) | key
    order = np.argsort(packed, kind="stable")
    packed, sentence = packed[order], sentence[order]
    distinct = np.ones(len(packed), bool)
    distinct[1:] = (packed[1:] != packed[:-1]) | (sentence[1:] != sentence[:-1])
    packed, sentence, first = packed[distinct], sentence[distinct], order[distinct]
    counts = np.bincount((packed >> np.uint64(_KEY_BITS)).astype(np.intp), minlength=len(texts))
    return np.concatenate(([0], np.cumsum(counts))), packed & np.uint64((1 << _KEY_BITS) - 1), sentence, first


def sentence_sets(texts: list[DocTokens], weights: Weights | None = None,
                  distinctive: Distinctive | None = None) -> SentenceSets:
    """The sentence sets of many tokenized texts, built in one pass."""
    sentences = np.array([t.n_sentences for t in texts], np.intp)
    sentence_offsets = np.concatenate(([0], np.cumsum(sentences)))
    offsets, stem, stem_sentence, first = _distinct_entries(texts, [t.stem for t in texts], [t.content for t in texts])
    # numbers keep the top 40 bits of their hash: a chance collision within one pair is ~1e-10
    number_offsets, number, number_sentence, _ = _distinct_entries(
        texts, [t.hash >> np.uint64(64 - _KEY_BITS) for t in texts], [t.numeric for t in texts])
    text_of_stem = np.repeat(np.arange(len(texts)), np.diff(offsets))
    weight = _spread_discount(stem, text_of_stem, sentences)
    if weights is not None:
        weight *= np.asarray(weights(stem), float)
    # a number's stem starts with a digit, so no word shares it: the entry's first token tells
    numeric = np.concatenate([t.numeric[t.content] for t in texts])[first] if texts else np.zeros(0, bool)
    text_of_number = np.repeat(np.arange(len(texts)), np.diff(number_offsets))
    n = int(sentence_offsets[-1])
    return SentenceSets(
        offsets, stem, stem_sentence, weight, numeric, None if distinctive is None else np.asarray(distinctive(stem), bool),
        number_offsets, number, number_sentence, sentence_offsets,
        np.bincount(sentence_offsets[text_of_stem] + stem_sentence, weight, n),
        np.bincount(sentence_offsets[text_of_number] + number_sentence, minlength=n),
    )


def _spread_discount(stem: np.ndarray, text: np.ndarray, sentences: np.ndarray) -> np.ndarray:
    """Per (stem, sentence) entry, sorted by stem within a text: log(1 + n/k) / log(1 + n) for a
    stem in k of its text's n sentences (1 for a stem in one sentence)."""
    new_run = np.ones(len(stem), bool)
    new_run[1:] = (stem[1:] != stem[:-1]) | (text[1:] != text[:-1])
    run = np.cumsum(new_run) - 1
    k = np.bincount(run)[run]
    n = np.maximum(sentences[text], 1).astype(float)
    return np.log1p(n / k) / np.log1p(n)


def _pair_keys(offsets: np.ndarray, keys: np.ndarray, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(entry, pair << 40 | key) of the entries of each pair's text, in pair order: sorted keys."""
    lengths = offsets[texts + 1] - offsets[texts]
    entry = ranges(offsets[texts], lengths)
    pair = np.repeat(np.arange(len(texts), dtype=np.uint64), lengths)
    return entry, (pair << np.uint64(_KEY_BITS)) | keys[entry]


def _shared_cells(offsets, keys, sentences, pairs, cell_offset, n_b):
    """Every (pair, sentence of a, sentence of b) cell whose sentences hold a same key, once per
    shared key: (flat cell index, entry of text a, entry of text b). A sort-merge join of (pair, key) keys."""
    entry_a, key_a = _pair_keys(offsets, keys, pairs[:, 0])
    entry_b, key_b = _pair_keys(offsets, keys, pairs[:, 1])
    lo = np.searchsorted(key_b, key_a, "left")
    count = np.searchsorted(key_b, key_a, "right") - lo
    joined_a = np.repeat(np.arange(len(key_a)), count)
    joined_b = ranges(lo, count)
    pair = (key_a[joined_a] >> np.uint64(_KEY_BITS)).astype(np.intp)
    a, b = entry_a[joined_a], entry_b[joined_b]
    return cell_offset[pair] + sentences[a] * n_b[pair] + sentences[b], a, b


def _similar_cells(sets: SentenceSets, pairs: np.ndarray, min_similarity: float, min_shared: int,
                   min_shared_words: int):
    """(pair, i, j, similarity) of the sentence pairs similar enough to align, in (pair, i, j) order."""
    n_a, n_b = sets.n_sentences(pairs[:, 0]), sets.n_sentences(pairs[:, 1])
    cell_offset = np.concatenate(([0], np.cumsum(n_a * n_b)))
    total = int(cell_offset[-1])
    cell, entry, entry_b = _shared_cells(sets.offsets, sets.stem, sets.stem_sentence, pairs, cell_offset, n_b)
    shared_count = np.bincount(cell, minlength=total)
    cells = np.flatnonzero(shared_count >= min_shared)
    if min_shared_words:  # sentences sharing mostly numbers are table rows, rates and phone numbers
        cells = cells[np.bincount(cell, ~sets.numeric[entry], total)[cells] >= min_shared_words]
    if sets.distinctive is not None:
        cells = cells[np.bincount(cell, sets.distinctive[entry], total)[cells] >= 1]
    pair = np.searchsorted(cell_offset, cells, "right") - 1
    i, j = np.divmod(cells - cell_offset[pair], n_b[pair])
    sentence_a = sets.sentence_offsets[pairs[pair, 0]] + i
    sentence_b = sets.sentence_offsets[pairs[pair, 1]] + j
    # weighted Dice, each side's stems at their own text's weights
    shared_weight = np.bincount(cell, sets.weight[entry] + sets.weight[entry_b], total)[cells]
    denominator = sets.mass[sentence_a] + sets.mass[sentence_b]
    with np.errstate(invalid="ignore", divide="ignore"):
        similarity = np.where(denominator > 0, shared_weight / denominator, 0.0)
    number_cell, _, _ = _shared_cells(sets.number_offsets, sets.number, sets.number_sentence, pairs, cell_offset, n_b)
    shared_numbers = np.bincount(number_cell, minlength=total)[cells]
    size_a, size_b = sets.numbers[sentence_a], sets.numbers[sentence_b]
    # numbers disagree: both sentences hold some and fewer than half of them are shared
    disagree = (size_a > 0) & (size_b > 0) & (2 * shared_numbers < size_a + size_b - shared_numbers)
    keep = (similarity >= min_similarity) & ~disagree
    return pair[keep], i[keep], j[keep], similarity[keep]


def align_pairs(sets: SentenceSets, pairs: np.ndarray, min_similarity: float = 0.25,
                min_shared: int = 3, min_shared_words: int = 2) -> list[Alignment]:
    """The alignment of each pair ``(text a, text b)`` of texts in ``sets``."""
    pairs = np.asarray(pairs, np.intp).reshape(-1, 2)
    cells = sets.n_sentences(pairs[:, 0]) * sets.n_sentences(pairs[:, 1])
    bounds = sets.sentence_offsets.tolist()
    masses = [sets.mass[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]
    out: list[Alignment] = []
    lo = 0
    while lo < len(pairs):  # groups of pairs within the cell budget (at least one pair)
        hi = lo + max(1, int(np.searchsorted(np.cumsum(cells[lo:]), _CELL_BUDGET, "right")))
        out += _align_group(sets, masses, pairs[lo:hi], min_similarity, min_shared, min_shared_words)
        lo = hi
    return out


def _align_group(sets: SentenceSets, masses: list[np.ndarray], pairs: np.ndarray, min_similarity: float,
                 min_shared: int, min_shared_words: int) -> list[Alignment]:
    pair, i, j, similarity = _similar_cells(sets, pairs, min_similarity, min_shared, min_shared_words)
    bounds = np.searchsorted(pair, np.arange(len(pairs) + 1))
    # a pair whose similar sentences already run in order (copies, most rewrites) takes them all
    same_pair = pair[1:] == pair[:-1]
    out_of_order = same_pair & ((i[1:] <= i[:-1]) | (j[1:] <= j[:-1]))
    needs_matching = np.zeros(len(pairs), bool)
    needs_matching[pair[1:][out_of_order]] = True
    # coverage of each side: similarity-weighted mass of its aligned sentences (pairs in order only)
    covered_a = np.bincount(pair, similarity * sets.mass[sets.sentence_offsets[pairs[pair, 0]] + i], len(pairs))
    covered_b = np.bincount(pair, similarity * sets.mass[sets.sentence_offsets[pairs[pair, 1]] + j], len(pairs))
    i_list, j_list, s_list = i.tolist(), j.tolist(), similarity.tolist()
    out = []
    for p, (a, b) in enumerate(pairs.tolist()):
        lo, hi = bounds[p], bounds[p + 1]
        if needs_matching[p]:
            gain = np.zeros((len(masses[a]), len(masses[b])))
            gain[i[lo:hi], j[lo:hi]] = similarity[lo:hi]
            matched = _monotone_matching(gain)
            out.append(_alignment(matched, masses[a], masses[b]))
        else:
            matched = tuple(map(AlignedPair, i_list[lo:hi], j_list[lo:hi], s_list[lo:hi]))
            out.append(_alignment(matched, masses[a], masses[b], (covered_a[p], covered_b[p])))
    return out


def _alignment(pairs: tuple[AlignedPair, ...], mass_a: np.ndarray, mass_b: np.ndarray,
               covered: tuple[float, float] | None = None) -> Alignment:
    total_a, total_b = float(mass_a.sum()), float(mass_b.sum())
    if covered is None:  # a matching from the dynamic programme: a few pairs
        covered = sum(p.similarity * mass_a[p.a] for p in pairs), sum(p.similarity * mass_b[p.b] for p in pairs)
    covered_a, covered_b = covered
    return Alignment(
        pairs=pairs,
        coverage_a=float(covered_a / total_a) if total_a else 0.0,
        coverage_b=float(covered_b / total_b) if total_b else 0.0,
        sentences_a=int(np.count_nonzero(mass_a)),
        sentences_b=int(np.count_nonzero(mass_b)),
    )


def similarity_matrix(a: DocTokens, b: DocTokens, weights: Weights | None = None,
                      min_shared: int = 3, distinctive: Distinctive | None = None,
                      min_shared_words: int = 2) -> np.ndarray:
    """Weighted Dice between every sentence of a and of b; zero where two sentences share fewer than
    ``min_shared`` stems, fewer than ``min_shared_words`` that are not numbers, none of them
    ``distinctive`` (when given), or disagree on their numbers:
    sentences made only of a corpus's template words, or one template filled with other figures,
    never align."""
    sets = sentence_sets([a, b], weights, distinctive)
    _, i, j, similarity = _similar_cells(sets, np.array([[0, 1]]), 0.0, min_shared, min_shared_words)
    out = np.zeros((a.n_sentences, b.n_sentences))
    out[i, j] = similarity
    return out


def align(a: DocTokens, b: DocTokens, min_similarity: float = 0.25, weights: Weights | None = None,
          min_shared: int = 3, distinctive: Distinctive | None = None, min_shared_words: int = 2) -> Alignment:
    return align_pairs(sentence_sets([a, b], weights, distinctive), np.array([[0, 1]]), min_similarity, min_shared,
                       min_shared_words)[0]


def _monotone_matching(gain: np.ndarray) -> tuple[AlignedPair, ...]:
    """Order-preserving one-to-one matching maximising the summed gain of matched pairs (gain > 0)."""
    m, n = gain.shape
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
            pairs.append(AlignedPair(i - 1, j - 1, float(gain[i - 1, j - 1])))
            i, j = i - 1, j - 1
    return tuple(reversed(pairs))
