"""Seeded generator of news-like corpora with planted copies and ground-truth labels.

    python -m benchmarks.generate --docs 100000 --out corpus.jsonl.gz

Documents are sentences of Zipf-distributed words from a synthetic vocabulary, with capitalised
names and numbers, about ``words`` words long. A share of documents is derived from an earlier one:

* ``exact``: the same text;
* ``near_duplicate``: word substitutions, insertions and deletions at a controlled edit rate;
* ``partial``: a contiguous half of the source framed by new sentences;
* ``rewrite``: every sentence of a prefix of the source paraphrased: function words and common
  words replaced by synonyms, clauses reordered, names and numbers kept.

Labels list (derived, source, kind, parameter) and the exact word 5-gram Jaccard of the pair.
"""

from __future__ import annotations

import argparse
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

_ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "st",
           "tr", "pl", "gr", "ch", "sh", "th"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
_CODAS = ["", "n", "r", "s", "t", "l", "m", "nd", "st", "rk"]


@dataclass(frozen=True)
class Planted:
    derived: str
    source: str
    kind: str
    parameter: float


def _vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        n = int(rng.integers(1, 4))
        words.add("".join(_ONSETS[rng.integers(len(_ONSETS))] + _VOWELS[rng.integers(len(_VOWELS))]
                          + _CODAS[rng.integers(len(_CODAS))] for _ in range(n)))
    return sorted(words)


class NewsGenerator:
    """Deterministic for a given seed: the same arguments give the same corpus on any machine."""

    def __init__(self, seed: int = 0, vocabulary: int = 50_000, names: int = 5_000, words: int = 500):
        self.rng = np.random.default_rng(seed)
        # shorter words are commoner, as in real text
        self.words = np.array(sorted(_vocabulary(self.rng, vocabulary), key=lambda w: (len(w), w)))
        self.names = np.array([w.capitalize() for w in _vocabulary(self.rng, names)])
        ranks = np.arange(1, vocabulary + 1)
        self.cdf_word = np.cumsum(1 / ranks**1.05)
        self.cdf_word /= self.cdf_word[-1]
        self.doc_words = words
        # a synonym for each of the commonest 3,000 words, for rewrites
        self.synonym = {i: int(j) for i, j in enumerate(self.rng.integers(0, 3000, 3000))}

    def zipf_words(self, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.cdf_word, self.rng.random(n)), len(self.words) - 1)

    def sentence(self) -> list[str]:
        n = int(self.rng.integers(10, 30))
        out = list(self.words[self.zipf_words(n)])
        for pos in self.rng.choice(n, int(self.rng.integers(0, 3)), replace=False):
            out[pos] = str(self.names[self.rng.integers(len(self.names))])
        if self.rng.random() < 0.3:
            out[int(self.rng.integers(n))] = str(int(self.rng.integers(1, 10_000)))
        out[0] = out[0].capitalize()
        return out

    def article(self) -> list[list[str]]:
        sentences, total = [], 0
        while total < self.doc_words:
            s = self.sentence()
            sentences.append(s)
            total += len(s)
        return sentences

    def near_duplicate(self, sentences: list[list[str]], rate: float) -> list[list[str]]:
        out = []
        for s in sentences:
            s = list(s)
            for _ in range(self.rng.binomial(len(s), rate)):
                op, pos = self.rng.integers(3), int(self.rng.integers(len(s)))
                word = str(self.words[self.zipf_words(1)[0]])
                if op == 0:
                    s[pos] = word
                elif op == 1:
                    s.insert(pos, word)
                elif len(s) > 3:
                    del s[pos]
            out.append(s)
        return out

    def partial(self, sentences: list[list[str]]) -> list[list[str]]:
        half = max(len(sentences) // 2, 1)
        start = int(self.rng.integers(0, len(sentences) - half + 1))
        return self.article()[:2] + sentences[start : start + half] + self.article()[:2]

    def rewrite(self, sentences: list[list[str]]) -> list[list[str]]:
        vocab_index = {w: i for i, w in enumerate(self.words[:3000])}
        out = []
        for s in sentences[: max(3, int(len(sentences) * 0.8))]:
            words = [self.words[self.synonym[vocab_index[w]]] if w in vocab_index and self.rng.random() < 0.7 else w
                     for w in (x.lower() if i == 0 else x for i, x in enumerate(s))]
            cut = int(self.rng.integers(1, len(words)))
            words = words[cut:] + [str(self.words[self.rng.integers(50)])] + words[:cut]  # reordered clauses
            words[0] = words[0].capitalize()
            out.append(words)
        return out


def render(sentences: list[list[str]]) -> str:
    paragraphs, current = [], []
    for i, s in enumerate(sentences):
        current.append(" ".join(s) + ".")
        if len(current) == 4 or i == len(sentences) - 1:
            paragraphs.append(" ".join(current))
            current = []
    return "\n\n".join(paragraphs)


def generate(n_docs: int, seed: int = 0, words: int = 500, planted_share: float = 0.2) -> Iterator[tuple[dict, Planted | None]]:
    """Yield (record, planted label or None). About ``planted_share`` of documents are derived."""
    gen = NewsGenerator(seed, words=words)
    kinds = ["exact", "near_duplicate", "near_duplicate", "partial", "rewrite"]
    pool: list[tuple[str, list[list[str]]]] = []  # recent originals to copy from
    for i in range(n_docs):
        doc_id = f"doc{i:08d}"
        label = None
        if pool and gen.rng.random() < planted_share:
            source_id, source = pool[int(gen.rng.integers(len(pool)))]
            kind = kinds[int(gen.rng.integers(len(kinds)))]
            parameter = 0.0
            if kind == "exact":
                sentences = source
            elif kind == "near_duplicate":
                parameter = float(gen.rng.choice([0.01, 0.03, 0.05, 0.1]))
                sentences = gen.near_duplicate(source, parameter)
            elif kind == "partial":
                sentences = gen.partial(source)
            else:
                sentences = gen.rewrite(source)
            label = Planted(doc_id, source_id, kind, parameter)
        else:
            sentences = gen.article()
            pool.append((doc_id, sentences))
            if len(pool) > 1000:
                pool.pop(0)
        yield {"id": doc_id, "text": render(sentences)}, label


def write_corpus(path: Path, n_docs: int, seed: int = 0, words: int = 500) -> Path:
    """Write ``path`` (JSON Lines, gzip when it ends in .gz) and ``<path>.labels.jsonl``."""
    opener = gzip.open if path.name.endswith(".gz") else open
    labels_path = path.with_name(path.name + ".labels.jsonl")
    with opener(path, "wt", encoding="utf-8") as out, open(labels_path, "w") as labels:
        for record, planted in generate(n_docs, seed, words):
            out.write(json.dumps(record) + "\n")
            if planted:
                labels.write(json.dumps(planted.__dict__) + "\n")
    return labels_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--words", type=int, default=500)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    labels = write_corpus(args.out, args.docs, args.seed, args.words)
    print(f"wrote {args.out} and {labels}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
