"""Stage 1b: vectorized tokenization of a batch of clean texts.

A token is a maximal run of letters, marks and digits (Unicode classes via
``regex``), except that Han ideographs and kana are one token per character,
since CJK text has no spaces. Everything runs on numpy arrays of code points:
no Python loop per character or per token.

For every token the batch holds its character span, a 64-bit hash of its
case-folded form (Cyrillic and Greek look-alikes folded to Latin letters), a
hash of its first ``stem_length`` characters (a cheap, language-neutral stem),
whether it is a content word (not a stopword, not a stray letter), and the
sentence it belongs to.

>>> batch = tokenize_batch(["Armenia froze it. Putin's answer to NATO?"], stem_length=6)
>>> batch.doc(0).texts("Armenia froze it. Putin's answer to NATO?")
['Armenia', 'froze', 'it', 'Putin', 's', 'answer', 'to', 'NATO']
>>> batch.doc(0).sentence.tolist()
[0, 0, 0, 1, 1, 1, 1, 1]
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
import regex

from dedup.hashing import mix64, span_sums, token_hash_from_sum

_TABLE_SIZE = 0x30000  # BMP, SMP and SIP; rarer code points count as separators
# character classes; everything that is not in a token is a separator of some kind
SEPARATOR, WORD, SOLO, TERMINAL, NEWLINE, SPACE = range(6)
_TERMINALS = ".!?。！？"
_CLOSING = np.array([ord(c) for c in ".!?\"'”’)»"])  # punctuation that closes a sentence's text
_SPACES = "\t\x0b\x0c\r \xa0\u3000"
# Cyrillic and Greek letters that look like Latin ones fold to them, as case does: a copy spelt with
# look-alikes to hide it hashes as the copy (text in those scripts folds as consistently)
_LATIN_LOOKALIKES = {
    "a": "АаΑα", "b": "ВΒ", "c": "Сс", "d": "ԁ", "e": "ЕеΕ", "h": "НҺһΗ", "i": "ІіΙι", "j": "Јј", "k": "КΚκ",
    "l": "ӏ", "m": "МΜ", "n": "Ν", "o": "ОоΟο", "p": "РрΡρ", "q": "ԛ", "s": "Ѕѕ", "t": "ТΤ", "u": "υ", "v": "ν",
    "w": "ԝ", "x": "ХхΧ", "y": "УуΥ", "z": "Ζ",
}


@dataclass(frozen=True)
class _Tables:
    char_class: np.ndarray  # uint8, one of the classes above
    fold: np.ndarray  # uint64: one-to-one case folding
    is_lower: np.ndarray  # bool: lowercase letter (a sentence does not start with one)


@lru_cache(maxsize=1)
def tables() -> _Tables:
    chars = "".join(map(chr, range(_TABLE_SIZE)))
    char_class = np.zeros(_TABLE_SIZE, np.uint8)
    for m in regex.finditer(r"[\p{L}\p{M}\p{N}]+", chars):
        char_class[m.start() : m.end()] = WORD
    for m in regex.finditer(r"[\p{Han}\p{Hiragana}\p{Katakana}]+", chars):
        char_class[m.start() : m.end()] = SOLO
    char_class[[ord(c) for c in _TERMINALS]] = TERMINAL
    char_class[[ord(c) for c in _SPACES]] = SPACE
    char_class[10] = NEWLINE
    char_class[_TABLE_SIZE - 1] = SEPARATOR
    fold = np.arange(_TABLE_SIZE, dtype=np.uint64)
    is_lower = np.zeros(_TABLE_SIZE, bool)
    for m in regex.finditer(r"\p{Ll}+", chars):
        is_lower[m.start() : m.end()] = True
    for m in regex.finditer(r"[\p{Lu}\p{Lt}]", chars):
        folded = m.group().casefold()
        if len(folded) != 1:
            folded = m.group().lower()
        if len(folded) == 1:
            fold[m.start()] = ord(folded)
    for latin, lookalikes in _LATIN_LOOKALIKES.items():
        fold[[ord(c) for c in lookalikes]] = ord(latin)
    return _Tables(char_class, fold, is_lower)


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

    def head(self, sentences: int) -> "DocTokens":
        """The tokens of the first ``sentences`` sentences (all, when there are no more)."""
        if self.n_sentences <= sentences:
            return self
        end = int(np.searchsorted(self.sentence, sentences))  # sentences run in order
        return DocTokens(*(getattr(self, f.name)[:end] for f in fields(self)))


@dataclass(frozen=True)
class TokenBatch:
    """Tokens of many documents, concatenated; ``offsets[i]:offsets[i+1]`` are document i's."""

    offsets: np.ndarray
    start: np.ndarray | None
    end: np.ndarray | None
    hash: np.ndarray
    stem: np.ndarray
    content: np.ndarray
    numeric: np.ndarray
    sentence: np.ndarray | None
    # document i's sentences are sentence_spans[sentence_offsets[i]:sentence_offsets[i+1]], each the
    # (start, end) characters from its first token to the closing punctuation after its last
    sentence_offsets: np.ndarray | None = None
    sentence_spans: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def doc(self, i: int) -> DocTokens:
        span = slice(self.offsets[i], self.offsets[i + 1])
        return DocTokens(*(None if a is None else a[span] for a in (
            self.start, self.end, self.hash, self.stem, self.content, self.numeric, self.sentence)))


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)


def _token_spans(cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the runs of WORD characters, and of each SOLO character alone."""
    padded = np.zeros(len(cls) + 2, bool)
    padded[1:-1] = cls == WORD
    edges = np.flatnonzero(padded[1:] != padded[:-1])  # alternately a run's start and its end
    starts, ends = edges[0::2], edges[1::2]
    solo = np.flatnonzero(cls == SOLO)
    if len(solo):  # runs and solo characters never overlap, so sorting keeps starts and ends paired
        starts, ends = np.sort(np.concatenate((starts, solo))), np.sort(np.concatenate((ends, solo + 1)))
    return starts, ends


def _stem_hashes(stem_sums: np.ndarray, stem_lengths: np.ndarray) -> np.ndarray:
    """40-bit stem hashes: enough to tell a corpus's stems apart, and they pack with a document
    number into one 64-bit key."""
    mixed = mix64(stem_sums ^ (stem_lengths.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)) ^ np.uint64(0x5EED))
    return mixed >> np.uint64(24)


@dataclass(frozen=True)
class _Chars:
    """Texts joined with a newline after each, as code points, with their classes."""

    cp: np.ndarray
    idx: np.ndarray  # intp index into the tables
    cls: np.ndarray
    doc_start: np.ndarray  # n_texts + 1 offsets into cp

    @classmethod
    def read(cls, texts: list[str]) -> "_Chars":
        doc_start = np.zeros(len(texts) + 1, np.int64)
        if texts:
            doc_start[1:] = np.cumsum([len(x) + 1 for x in texts])
        # the newlines keep tokens inside their document and the prefix sums in range
        joined = "\n".join(texts) + "\n"
        try:  # one byte a character when all are below 256: the same code points, a quarter of the memory
            cp = np.frombuffer(joined.encode("latin-1"), np.uint8)
            idx = cp.astype(np.intp)
        except UnicodeEncodeError:
            cp = _code_points(joined)
            # code points past the table map to its last entry, a noncharacter classed as a
            # separator; np.take with intp indices is the fastest gather
            idx = np.minimum(cp, _TABLE_SIZE - 1).astype(np.intp)
        return cls(cp, idx, np.take(tables().char_class, idx), doc_start)

    def folded(self) -> np.ndarray:
        return np.take(tables().fold, self.idx)


def token_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Only the token hashes of clean texts, as (offsets, hashes): all that signing needs.

    >>> offsets, hashes = token_hashes(["Same words", "same, WORDS!"])
    >>> offsets.tolist(), bool((hashes[:2] == hashes[2:]).all())
    ([0, 2, 4], True)
    """
    chars = _Chars.read(texts)
    starts, ends = _token_spans(chars.cls)
    sums, = span_sums(chars.folded(), starts, (ends,))
    return np.searchsorted(starts, chars.doc_start), token_hash_from_sum(sums, ends - starts)


def _past_closing(cp: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Each position moved past the closing punctuation that starts there (none: unchanged). The
    newline after each text ends every run inside it."""
    positions = positions.copy()
    moving = np.arange(len(positions))
    while len(moving):
        moving = moving[np.isin(cp[positions[moving]], _CLOSING)]
        positions[moving] += 1
    return positions


def _glued(idx: np.ndarray, terminal: np.ndarray) -> np.ndarray:
    """Whether each terminal sits between three lowercase letters and an uppercase letter followed
    by a lowercase one."""
    t = tables()
    glued = (terminal >= 3) & (terminal + 2 < len(idx))
    at = np.where(glued, terminal, 0)
    for offset in (-3, -2, -1, 2):
        glued &= t.is_lower[idx[(at + offset) % len(idx)]]
    after = idx[at + 1]
    return glued & (t.fold[after] != after) & ~t.is_lower[after]  # uppercase: folds to another letter


def tokenize_batch(texts: list[str], stem_length: int = 6, detail: bool = True) -> TokenBatch:
    """Tokenize clean texts together. Character offsets are relative to each text.

    ``detail=False`` leaves out character offsets and sentences (None), which verification
    needs and signing does not.
    """
    t = tables()
    chars = _Chars.read(texts)
    cp, idx, cls = chars.cp, chars.idx, chars.cls
    starts, ends = _token_spans(cls)
    offsets = np.searchsorted(starts, chars.doc_start)
    stem_ends = np.minimum(ends, starts + stem_length)
    token_sums, stem_sums = span_sums(chars.folded(), starts, (ends, stem_ends))  # one prefix sum for both
    token_hash = token_hash_from_sum(token_sums, ends - starts)
    stem_hash = _stem_hashes(stem_sums, stem_ends - starts)

    lengths = ends - starts
    first_cp = cp[starts]
    numeric = (first_cp >= 48) & (first_cp <= 57)
    single_ascii_letter = (lengths == 1) & (first_cp < 128) & ~numeric
    content = ~single_ascii_letter & ~is_stopword(token_hash)
    if not detail:
        return TokenBatch(offsets, None, None, token_hash, stem_hash, content, numeric, None)

    # a sentence starts after a newline, or after terminal punctuation followed by white space
    # (closing quotes and brackets between them) when the next token does not begin with a
    # lowercase letter ("3.5", "e.g. this" do not split; 'rose." Then' does), or glued to a
    # capitalised word after a lowercase one of three letters or more: scraped paragraphs joined
    # without a space ("said.The"; "Mr.Smith", "St.Louis", "Ph.D" do not split)
    newline = np.flatnonzero(cls == NEWLINE)
    terminal = np.flatnonzero(cls == TERMINAL)
    terminal = terminal[(cls[_past_closing(cp, terminal + 1)] >= NEWLINE) | _glued(idx, terminal)]
    boundary = np.zeros(len(starts) + 1, bool)
    boundary[np.searchsorted(starts, terminal)] = True
    boundary &= np.append(~t.is_lower[idx[starts]], False)
    boundary[np.searchsorted(starts, newline)] = True
    boundary[offsets[:-1]] = True
    sentence_global = np.cumsum(boundary[:-1]) - 1
    first_sentence_of_doc = (sentence_global[np.minimum(offsets[:-1], max(len(starts) - 1, 0))]
                             if len(starts) else np.zeros(len(texts), np.int64))
    sentence = (sentence_global - np.repeat(first_sentence_of_doc, np.diff(offsets))).astype(np.int32)

    char_base = np.repeat(chars.doc_start[:-1], np.diff(offsets))
    first = np.flatnonzero(boundary[:-1])
    last = np.append(first[1:], len(starts))[: len(first)] - 1
    close = _past_closing(cp, ends[last])
    return TokenBatch(
        offsets=offsets,
        start=starts - char_base,
        end=ends - char_base,
        hash=token_hash,
        stem=stem_hash,
        content=content,
        numeric=numeric,
        sentence=sentence,
        sentence_offsets=np.searchsorted(first, offsets),
        sentence_spans=np.stack((starts[first], close), axis=1) - char_base[first, None],
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
    return np.unique(token_hashes([" ".join(STOPWORDS)])[1])
