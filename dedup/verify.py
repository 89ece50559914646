"""Stage 5: exact scores for candidate pairs.

Shingle-set Jaccard and containment (exact, on the sets, not on signatures)
drop the LSH false positives and measure copying; the sentence alignment
measures rewriting. Both are computed from the documents' text, prepared in
batches.

>>> from dedup.config import DedupConfig
>>> cfg = DedupConfig()
>>> a, b = prepare(["The cat sat on the mat all day.", "The cat sat on the mat all night."], cfg)
>>> round(copy_overlap(a, b)[0], 2)
0.6
>>> [(p.a, p.b) for p in align_docs([a, b], [(0, 1)], cfg)[0].pairs]
[(0, 0)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedup.align import Alignment, Distinctive, Weights, align_pairs, sentence_sets
from dedup.arrays import in_sorted, unique
from dedup.config import DedupConfig
from dedup.hashing import mix64, span_sums
from dedup.shingle import char_shingles, ngram_hashes
from dedup.tokenize import DocTokens, tokenize_batch
from dedup.types import Scores


@dataclass(frozen=True)
class PreparedDoc:
    text: str  # clean text
    tokens: DocTokens
    shingles: np.ndarray  # unique sorted uint64
    fingerprint: int  # of the token sequence: equal for exact copies
    sentence_spans: np.ndarray  # (sentences, 2): characters from a sentence's first token to its closing punctuation

    @property
    def content_words(self) -> int:
        return int(self.tokens.content.sum())


def fingerprints(token_hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Hash of each document's token sequence (``offsets`` as in a TokenBatch): equal for texts
    that differ only in case, spacing or punctuation."""
    sums, = span_sums(token_hashes, offsets[:-1], (offsets[1:],))
    return mix64(sums ^ np.diff(offsets).astype(np.uint64))


def shingles(texts: list[str], token_offsets: np.ndarray, token_hashes: np.ndarray,
             cfg: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, shingle hashes) of clean texts whose tokens are given, as configured."""
    if cfg.shingle_kind == "word":
        return ngram_hashes(token_hashes, token_offsets, cfg.shingle_size)
    return char_shingles(texts, cfg.shingle_size)


def shingle_batch(texts: list[str], cfg: DedupConfig, detail: bool = True):
    """(tokens, shingle offsets, shingle hashes) for clean texts, as configured."""
    batch = tokenize_batch(texts, cfg.stem_length, detail)
    return (batch, *shingles(texts, batch.offsets, batch.hash, cfg))


def prepare(texts: list[str], cfg: DedupConfig) -> list[PreparedDoc]:
    batch, offsets, hashes = shingle_batch(texts, cfg)
    prints = fingerprints(batch.hash, batch.offsets).tolist()
    span_offsets, spans = batch.sentence_offsets, batch.sentence_spans
    return [
        PreparedDoc(text, batch.doc(i), unique(hashes[offsets[i] : offsets[i + 1]]), prints[i],
                    spans[span_offsets[i] : span_offsets[i + 1]])
        for i, text in enumerate(texts)
    ]


def copy_overlap(a: PreparedDoc, b: PreparedDoc) -> tuple[float, float, float]:
    """(Jaccard, containment of a in b, containment of b in a) of the shingle sets."""
    shared = int(np.count_nonzero(in_sorted(a.shingles, b.shingles)))  # both sorted and distinct
    union = len(a.shingles) + len(b.shingles) - shared
    return (
        shared / union if union else 0.0,
        shared / len(a.shingles) if len(a.shingles) else 0.0,
        shared / len(b.shingles) if len(b.shingles) else 0.0,
    )


def can_be_rewrite(a: PreparedDoc, b: PreparedDoc, cfg: DedupConfig) -> bool:
    """Rewrites are sought only between texts of ``rewrite_min_words`` content words or more."""
    return cfg.detect_rewrites and min(a.content_words, b.content_words) >= cfg.rewrite_min_words


def is_copy(overlap: tuple[float, float, float], cfg: DedupConfig) -> bool:
    return overlap[0] >= cfg.near_duplicate_jaccard or max(overlap[1:]) >= cfg.partial_containment


def align_docs(docs, pairs: list[tuple[int, int]], cfg: DedupConfig, weights: Weights | None = None,
               distinctive: Distinctive | None = None) -> list[Alignment]:
    """Sentence alignments of pairs of prepared documents (keys of ``docs``), computed in one batch."""
    keys = sorted({k for pair in pairs for k in pair})
    position = {k: n for n, k in enumerate(keys)}
    sets = sentence_sets([docs[k].tokens.head(cfg.max_align_sentences) for k in keys], weights, distinctive)
    return align_pairs(sets, np.array([(position[i], position[j]) for i, j in pairs], np.intp),
                       cfg.sentence_similarity, cfg.sentence_min_shared, cfg.sentence_min_shared_words)


def scores_of(overlap: tuple[float, float, float], alignment: Alignment | None) -> Scores:
    jaccard, containment_a, containment_b = overlap
    return Scores(
        jaccard=jaccard,
        containment_a=containment_a,
        containment_b=containment_b,
        alignment_a=alignment.coverage_a if alignment else 0.0,
        alignment_b=alignment.coverage_b if alignment else 0.0,
        aligned_sentences=len(alignment.pairs) if alignment else 0,
    )

