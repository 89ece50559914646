"""Stage 1b: vectorized tokenization of a batch of clean texts.

A token is a maximal run of letters, marks and digits (Unicode classes via
``regex``), except that Han ideographs and kana are one token per character,
since CJK text has no spaces. Everything runs on numpy arrays of code points:
no Python loop per character or per token.

For every token the batch holds its character span, a 64-bit hash of its
case-folded form, a hash of its first ``stem_length`` characters (a cheap,
language-neutral stem), whether it is a content word (not a stopword, not a
stray letter), and the sentence it belongs to.

>>> batch = tokenize_batch(["Armenia froze it. Putin's answer to NATO?"], stem_length=6)
>>> batch.doc(0).texts("Armenia froze it. Putin's answer to NATO?")
['Armenia', 'froze', 'it', 'Putin', 's', 'answer', 'to', 'NATO']
>>> batch.doc(0).sentence.tolist()
[0, 0, 0, 1, 1, 1, 1, 1]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import regex

from dedup.hashing import mix64, positional_weights, token_hash_from_sum

_TABLE_SIZE = 0x30000  # BMP, SMP and SIP; rarer code points count as separators
SEPARATOR, WORD, SOLO = 0, 1, 2
_TERMINALS = ".!?。！？"


@dataclass(frozen=True)
class _Tables:
    char_class: np.ndarray  # uint8: SEPARATOR, WORD or SOLO
    fold: np.ndarray  # uint32: one-to-one case folding
    is_lower: np.ndarray  # bool: lowercase letter (a sentence does not start with one)
    is_terminal: np.ndarray  # bool: sentence-final punctuation


@lru_cache(maxsize=1)
def tables() -> _Tables:
    chars = "".join(map(chr, range(_TABLE_SIZE)))
    char_class = np.zeros(_TABLE_SIZE, np.uint8)
    for m in regex.finditer(r"[\p{L}\p{M}\p{N}]+", chars):
        char_class[m.start() : m.end()] = WORD
    for m in regex.finditer(r"[\p{Han}\p{Hiragana}\p{Katakana}]+", chars):
        char_class[m.start() : m.end()] = SOLO
    fold = np.arange(_TABLE_SIZE, dtype=np.uint32)
    is_lower = np.zeros(_TABLE_SIZE, bool)
    for m in regex.finditer(r"\p{Ll}+", chars):
        is_lower[m.start() : m.end()] = True
    for m in regex.finditer(r"[\p{Lu}\p{Lt}]", chars):
        folded = m.group().casefold()
        if len(folded) != 1:
            folded = m.group().lower()
        if len(folded) == 1:
            fold[m.start()] = ord(folded)
    is_terminal = np.zeros(_TABLE_SIZE, bool)
    is_terminal[[ord(c) for c in _TERMINALS]] = True
    return _Tables(char_class, fold, is_lower, is_terminal)


@dataclass(frozen=True)
class DocTokens:
    """The tokens of one document: parallel arrays, one entry per token."""

    start: np.ndarray  # int64 char offset
    end: np.ndarray  # int64 char offset (exclusive)
    hash: np.ndarray  # uint64, case-folded token
    stem: np.ndarray  # uint64, case-folded prefix of stem_length chars
    content: np.ndarray  # bool
    sentence: np.ndarray  # int32, 0-based sentence index

    def __len__(self) -> int:
        return len(self.hash)

    def texts(self, text: str) -> list[str]:
        return [text[s:e] for s, e in zip(self.start.tolist(), self.end.tolist())]

    @property
    def n_sentences(self) -> int:
        return int(self.sentence[-1]) + 1 if len(self.sentence) else 0


@dataclass(frozen=True)
class TokenBatch:
    """Tokens of many documents, concatenated; ``offsets[i]:offsets[i+1]`` are document i's."""

    offsets: np.ndarray
    start: np.ndarray
    end: np.ndarray
    hash: np.ndarray
    stem: np.ndarray
    content: np.ndarray
    sentence: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def doc(self, i: int) -> DocTokens:
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return DocTokens(
            self.start[lo:hi], self.end[lo:hi], self.hash[lo:hi], self.stem[lo:hi],
            self.content[lo:hi], self.sentence[lo:hi],
        )


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)


def tokenize_batch(texts: list[str], stem_length: int = 6) -> TokenBatch:
    """Tokenize clean texts together. Character offsets are relative to each text."""
    t = tables()
    sep = "\n"  # a separator char, so no token spans two documents
    joined = sep.join(texts)
    doc_char_start = np.zeros(len(texts) + 1, np.int64)
    if texts:
        doc_char_start[1:] = np.cumsum([len(x) + 1 for x in texts])
    cp = _code_points(joined)
    in_table = cp < _TABLE_SIZE
    idx = np.where(in_table, cp, 0)
    cls = np.where(in_table, t.char_class[idx], SEPARATOR)

    word = cls == WORD
    prev_word = np.concatenate(([False], word[:-1]))
    next_word = np.concatenate((word[1:], [False]))
    solo = cls == SOLO
    starts = np.flatnonzero((word & ~prev_word) | solo)
    ends = np.flatnonzero((word & ~next_word) | solo) + 1

    # polynomial hash of folded code points within each token
    in_token = word | solo
    pos = np.flatnonzero(in_token)
    is_start = np.zeros(len(cp), bool)
    is_start[starts] = True
    token_of_pos = np.cumsum(is_start[pos]) - 1
    offset_in_token = pos - starts[token_of_pos]
    folded = np.where(in_table[pos], t.fold[idx[pos]], cp[pos]).astype(np.uint64)
    weighted = folded * positional_weights(offset_in_token)
    lengths = (ends - starts).astype(np.uint64)
    if len(starts):
        token_sum = np.add.reduceat(weighted, np.searchsorted(pos, starts))
        stem_part = np.where(offset_in_token < stem_length, weighted, np.uint64(0))
        stem_sum = np.add.reduceat(stem_part, np.searchsorted(pos, starts))
    else:
        token_sum = stem_sum = np.zeros(0, np.uint64)
    token_hash = token_hash_from_sum(token_sum, lengths)
    stem_len = np.minimum(lengths, np.uint64(stem_length))
    stem_hash = mix64(stem_sum ^ (stem_len * np.uint64(0xC2B2AE3D27D4EB4F)) ^ np.uint64(0x5EED))

    single_ascii_letter = (lengths == 1) & (cp[starts] < 128) & ~((cp[starts] >= 48) & (cp[starts] <= 57))
    content = ~single_ascii_letter & ~np.isin(token_hash, stopword_hashes())

    doc_of_token = np.searchsorted(doc_char_start, starts, side="right") - 1
    offsets = np.searchsorted(doc_of_token, np.arange(len(texts) + 1))

    # a sentence starts after a newline, or after terminal punctuation when the next
    # token does not begin with a lowercase letter
    newline_count = np.concatenate(([0], np.cumsum(cp == 10)))
    terminal_count = np.concatenate(([0], np.cumsum(np.where(in_table, t.is_terminal[idx], False))))
    gap_lo = np.concatenate(([0], ends[:-1]))
    has_newline = newline_count[starts] - newline_count[gap_lo] > 0
    has_terminal = terminal_count[starts] - terminal_count[gap_lo] > 0
    first_lower = np.where(in_table[starts], t.is_lower[idx[starts]], False)
    boundary = has_newline | (has_terminal & ~first_lower)
    boundary[offsets[:-1][offsets[:-1] < len(starts)]] = True
    sentence_global = np.cumsum(boundary) - 1
    first_sentence_of_doc = sentence_global[np.minimum(offsets[:-1], max(len(starts) - 1, 0))] if len(starts) else np.zeros(len(texts), np.int64)
    sentence = (sentence_global - first_sentence_of_doc[doc_of_token]).astype(np.int32)

    char_base = doc_char_start[doc_of_token]
    return TokenBatch(
        offsets=offsets.astype(np.int64),
        start=starts - char_base,
        end=ends - char_base,
        hash=token_hash,
        stem=stem_hash,
        content=content,
        sentence=sentence,
    )


def tokenize(text: str, stem_length: int = 6) -> DocTokens:
    return tokenize_batch([text], stem_length).doc(0)


# English function words. Other languages rely on corpus document frequency (see relate/verify).
STOPWORDS = """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each either else ever every few
for from further had has have having he her here hers herself him himself his how however i if in
into is it its itself just least less let like may me might more most much must my myself neither
no nor not now of off on once only or other others our ours ourselves out over own per rather said
same say says she should since so some such than that the their theirs them themselves then there
these they this those though through thus to too under until up upon us very was we were what when
where whether which while who whom whose why will with within without would yet you your yours
yourself yourselves according told including among around across along already although another
""".split()


@lru_cache(maxsize=1)
def stopword_hashes() -> np.ndarray:
    t = tables()
    out = []
    for word in STOPWORDS:
        cp = np.array([t.fold[ord(c)] for c in word], np.uint64)
        out.append(token_hash_from_sum(np.add.reduce(cp * positional_weights(np.arange(len(word)))), len(word)))
    return np.unique(np.array(out, np.uint64))
