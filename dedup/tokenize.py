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
_SPACES = np.array([9, 10, 11, 12, 13, 32, 0xA0, 0x3000], np.uint32)


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
    char_class[_TABLE_SIZE - 1] = SEPARATOR
    return _Tables(char_class, fold, is_lower, is_terminal)


@dataclass(frozen=True)
class DocTokens:
    """The tokens of one document: parallel arrays, one entry per token."""

    start: np.ndarray  # int64 char offset
    end: np.ndarray  # int64 char offset (exclusive)
    hash: np.ndarray  # uint64, case-folded token
    stem: np.ndarray  # uint64 < 2**40, case-folded prefix of stem_length chars
    content: np.ndarray  # bool
    numeric: np.ndarray  # bool: starts with a digit
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
    numeric: np.ndarray
    sentence: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def doc(self, i: int) -> DocTokens:
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return DocTokens(
            self.start[lo:hi], self.end[lo:hi], self.hash[lo:hi], self.stem[lo:hi],
            self.content[lo:hi], self.numeric[lo:hi], self.sentence[lo:hi],
        )


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)


def tokenize_batch(texts: list[str], stem_length: int = 6) -> TokenBatch:
    """Tokenize clean texts together. Character offsets are relative to each text."""
    t = tables()
    joined = "\n".join(texts)  # a separator, so no token spans two documents
    doc_char_start = np.zeros(len(texts) + 1, np.int64)
    if texts:
        doc_char_start[1:] = np.cumsum([len(x) + 1 for x in texts])
    cp = _code_points(joined)
    # code points past the table map to its last entry, a noncharacter classed as a separator
    idx = np.minimum(cp, _TABLE_SIZE - 1)
    cls = t.char_class[idx]

    word = cls == WORD
    solo = cls == SOLO
    edge = np.diff(word.view(np.int8), prepend=0, append=0)
    starts = np.flatnonzero((edge[:-1] == 1) | solo)
    ends = np.flatnonzero((edge[1:] == -1) | solo) + 1

    # polynomial hash of the folded code points of each token, summed with reduceat
    token_len = ends - starts
    first_pos = np.cumsum(token_len) - token_len
    offset_in_token = np.arange(int(token_len.sum())) - np.repeat(first_pos, token_len)
    pos = np.repeat(starts, token_len) + offset_in_token
    weighted = t.fold[idx[pos]].astype(np.uint64) * positional_weights(offset_in_token)
    lengths = (ends - starts).astype(np.uint64)
    if len(starts):
        token_sum = np.add.reduceat(weighted, first_pos)
        weighted[offset_in_token >= stem_length] = 0
        stem_sum = np.add.reduceat(weighted, first_pos)
    else:
        token_sum = stem_sum = np.zeros(0, np.uint64)
    token_hash = token_hash_from_sum(token_sum, lengths)
    stem_len = np.minimum(lengths, np.uint64(stem_length))
    # 40 bits: enough to tell a corpus's stems apart, and they pack with a document number into one key
    stem_hash = mix64(stem_sum ^ (stem_len * np.uint64(0xC2B2AE3D27D4EB4F)) ^ np.uint64(0x5EED)) >> np.uint64(24)

    first_cp = cp[starts]
    single_ascii_letter = (lengths == 1) & (first_cp < 128) & ~((first_cp >= 48) & (first_cp <= 57))
    content = ~single_ascii_letter & ~is_stopword(token_hash)

    doc_of_token = np.searchsorted(doc_char_start, starts, side="right") - 1
    offsets = np.searchsorted(doc_of_token, np.arange(len(texts) + 1))

    # a sentence starts after a newline, or after terminal punctuation followed by white space
    # when the next token does not begin with a lowercase letter ("3.5", "e.g. this" do not split)
    newline = np.flatnonzero(cp == 10)
    terminal = np.flatnonzero(t.is_terminal[idx])
    terminal = terminal[np.isin(cp[np.minimum(terminal + 1, len(cp) - 1)], _SPACES)]
    after_newline = np.zeros(len(starts) + 1, bool)
    after_newline[np.searchsorted(starts, newline)] = True
    after_terminal = np.zeros(len(starts) + 1, bool)
    after_terminal[np.searchsorted(starts, terminal)] = True
    boundary = after_newline[:-1] | (after_terminal[:-1] & ~t.is_lower[idx[starts]])
    boundary[offsets[:-1][offsets[:-1] < len(starts)]] = True
    sentence_global = np.cumsum(boundary) - 1
    first_sentence_of_doc = (sentence_global[np.minimum(offsets[:-1], max(len(starts) - 1, 0))]
                             if len(starts) else np.zeros(len(texts), np.int64))
    sentence = (sentence_global - first_sentence_of_doc[doc_of_token]).astype(np.int32)

    char_base = doc_char_start[doc_of_token]
    return TokenBatch(
        offsets=offsets.astype(np.int64),
        start=starts - char_base,
        end=ends - char_base,
        hash=token_hash,
        stem=stem_hash,
        content=content,
        numeric=(first_cp >= 48) & (first_cp <= 57),
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


def is_stopword(token_hashes: np.ndarray) -> np.ndarray:
    slots = _stopword_slots()
    return slots[token_hashes & np.uint64(len(slots) - 1)] == token_hashes


@lru_cache(maxsize=1)
def _stopword_slots() -> np.ndarray:
    """A direct-mapped table: each stopword hash in its own slot (size grown until none collide)."""
    stop = stopword_hashes()
    size = 1024
    while len(np.unique(stop & np.uint64(size - 1))) < len(stop):
        size *= 2
    slots = np.zeros(size, np.uint64)
    slots[(stop & np.uint64(size - 1)).astype(np.int64)] = stop
    if not (slots == 0).any() or 0 in stop:  # slot value 0 must mean "empty"
        raise AssertionError("stopword table needs an empty marker")
    return slots


@lru_cache(maxsize=1)
def stopword_hashes() -> np.ndarray:
    t = tables()
    out = []
    for word in STOPWORDS:
        cp = np.array([t.fold[ord(c)] for c in word], np.uint64)
        out.append(token_hash_from_sum(np.add.reduce(cp * positional_weights(np.arange(len(word)))), len(word)))
    return np.unique(np.array(out, np.uint64))
