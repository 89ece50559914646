"""Stage 6: the relation of a verified pair, its direction and its evidence.

Relations, first that holds:

* ``exact``: the same token sequence (case, spacing and punctuation aside);
* ``near_duplicate``: shingle Jaccard >= ``near_duplicate_jaccard``, or a copy (below) whose
  aligned sentences (``rewrite_min_sentences`` or more) cover each text by
  ``edited_copy_coverage`` or more: a whole text edited in most sentences, which breaks its
  shingles but not its sentences;
* ``partial``: one text's shingles are mostly (>= ``partial_containment``) in the other, or the
  pair aligns as a rewrite (below) but most of its aligned sentences are copied word for word
  (passages of one text set among other text), not reworded;
* ``rewrite``: both texts have ``rewrite_min_words`` content words or more, at least
  ``rewrite_min_sentences`` sentences align in order (each aligned pair sharing a stem that is
  rare in the corpus) besides a verbatim run that closes both texts (a site's footer, which its
  pages share whatever their stories) and pairs of sentences that are both mostly quotation (a
  speaker quoted by two reports of one event), their similarities sum to
  ``rewrite_min_similarity_sum`` or more, and the similarity-weighted share of one text they
  cover is >= ``rewrite_score``;
* otherwise unrelated (for example, independent coverage of the same story).

Direction: the earlier ``published`` date names the source. Without dates, the
text that is covered more by the other (containment for copies, alignment
coverage for rewrites and copied passages) is taken as derived, an excerpt or condensation of the
other, when the asymmetry is at least ``direction_margin``; otherwise the
source is unknown (None).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import numpy as np

from dedup.align import Alignment
from dedup.arrays import in_sorted, ranges
from dedup.config import DedupConfig
from dedup.hashing import mix64
from dedup.quotes import is_shared_quotation
from dedup.shingle import ngram_hashes
from dedup.types import Match, Relation, Scores, SentencePair
from dedup.verify import PreparedDoc, can_be_rewrite


def shared_footer(alignment: Alignment | None, a: PreparedDoc, b: PreparedDoc) -> int:
    """How many aligned sentences are a verbatim run of two or more closing both texts: a site's
    footer, which its pages share whatever their stories."""
    if alignment is None:
        return 0
    last_a, last_b = (int(doc.tokens.sentence[doc.tokens.content].max(initial=-1)) for doc in (a, b))
    run = 0
    for p in reversed(alignment.pairs):
        if p.similarity < 1.0 - 1e-9 or (p.a, p.b) != (last_a - run, last_b - run):
            break
        run += 1
    return run if run >= 2 else 0


def rewrite_evidence(alignment: Alignment, a: PreparedDoc, b: PreparedDoc,
                     sentences: tuple[SentencePair, ...]) -> list[int]:
    """Which aligned sentence pairs (positions in ``sentences``, the alignment's pairs with their
    texts) show rewriting: not a shared footer, nor two quotations of a speaker (independent reports
    of one event quote the same words; a rewrite also carries the narrative)."""
    kept = range(len(sentences) - shared_footer(alignment, a, b))
    return [k for k in kept if not is_shared_quotation(sentences[k].a_text, sentences[k].b_text)]


def copied_sentences(pairs: list[tuple[PreparedDoc, PreparedDoc, Alignment]], n: int = 5) -> list[np.ndarray]:
    """For each pair of documents with its alignment, whether each aligned sentence pair is copied
    (perhaps edited), not reworded: most word ``n``-grams of the shorter sentence (one of all its
    words if it has fewer) are in the other. A paraphrase keeps the words, not their runs. All pairs
    at once: a few numpy calls for a batch.

    >>> from dedup.align import AlignedPair
    >>> from dedup.config import DedupConfig
    >>> from dedup.verify import prepare
    >>> a, b = prepare(["Armenia has frozen its role in the CSTO, he said. The CSTO role of Armenia is now frozen.",
    ...                 "Armenia has frozen its role in the CSTO. Armenia froze its role in the CSTO."], DedupConfig())
    >>> aligned = Alignment((AlignedPair(0, 0, 1.0), AlignedPair(1, 1, 0.8)), 1.0, 1.0, 2, 2)
    >>> [flags.tolist() for flags in copied_sentences([(a, b, aligned)])]
    [[True, False]]
    """
    if not pairs:
        return []
    # every aligned sentence's tokens, a's sides then b's, one segment each, from one array of all
    # the documents' tokens: n-grams of all in one call
    docs = {id(doc): doc for a, b, _ in pairs for doc in (a, b)}
    start = dict(zip(docs, np.cumsum([0] + [len(doc.tokens) for doc in docs.values()]).tolist()))
    hashes = np.concatenate([doc.tokens.hash for doc in docs.values()])
    first, count = [], []
    for side in (0, 1):
        for pair in pairs:
            tokens, sentences = pair[side].tokens, [p[side] for p in pair[2].pairs]
            bounds = np.searchsorted(tokens.sentence, np.asarray(sentences, np.intp)[:, None] + (0, 1)).reshape(-1, 2)
            first.append(bounds[:, 0] + start[id(pair[side])])
            count.append(bounds[:, 1] - bounds[:, 0])
    first, count = np.concatenate(first), np.concatenate(count)
    offsets, grams = ngram_hashes(hashes[ranges(first, count)], np.concatenate(([0], np.cumsum(count))), n)
    grams_per_sentence = np.diff(offsets)
    aligned = len(first) // 2
    # each n-gram keyed by its sentence pair: a sentence's n-grams meet only its counterpart's
    pair_of = np.tile(np.arange(aligned, dtype=np.uint64), 2).repeat(grams_per_sentence)
    keys = mix64(grams ^ mix64(pair_of))
    split = int(offsets[aligned])
    found = in_sorted(keys[:split], np.sort(keys[split:]))
    shared = np.bincount(pair_of[:split][found].astype(np.intp), minlength=aligned)
    flags = 2 * shared > np.minimum(grams_per_sentence[:aligned], grams_per_sentence[aligned:])
    return np.split(flags, np.cumsum([len(pair[2].pairs) for pair in pairs])[:-1])


def may_be_rewrite(a: PreparedDoc, b: PreparedDoc, alignment: Alignment | None, cfg: DedupConfig) -> bool:
    """Long enough texts, enough aligned sentences covering enough of one of them: the rewrite
    rules (rewritten sentences, their summed similarity) decide then."""
    return (alignment is not None and can_be_rewrite(a, b, cfg) and len(alignment.pairs) >= cfg.rewrite_min_sentences
            and max(alignment.coverage_a, alignment.coverage_b) >= cfg.rewrite_score)


def classify(a: PreparedDoc, b: PreparedDoc, scores: Scores, cfg: DedupConfig, alignment: Alignment | None = None,
             sentences: tuple[SentencePair, ...] = (), copied: np.ndarray | None = None) -> tuple[Relation | None, float]:
    """(relation, similarity) of a verified pair; ``sentences`` is its evidence (:func:`evidence`),
    ``copied`` which of them are copied (:func:`copied_sentences`; found here when not given)."""
    if a.fingerprint == b.fingerprint:
        return "exact", 1.0
    if scores.jaccard >= cfg.near_duplicate_jaccard:
        return "near_duplicate", scores.jaccard
    containment = max(scores.containment_a, scores.containment_b)
    if containment >= cfg.partial_containment:
        return _copy(scores, cfg)
    rewritten = max(scores.alignment_a, scores.alignment_b)
    if may_be_rewrite(a, b, alignment, cfg):
        kept = rewrite_evidence(alignment, a, b, sentences)
        similarity = np.array([sentences[k].similarity for k in kept])
        if len(kept) >= cfg.rewrite_min_sentences and similarity.sum() >= cfg.rewrite_min_similarity_sum:
            if copied is None:
                copied, = copied_sentences([(a, b, alignment)], cfg.shingle_size)
            if 2 * similarity[copied[kept]].sum() >= similarity.sum():  # passages copied, not reworded
                return _copy(scores, cfg)
            return "rewrite", rewritten
    return None, max(scores.jaccard, rewritten)


def _copy(scores: Scores, cfg: DedupConfig) -> tuple[Relation, float]:
    """A copy of the whole text, edited in most sentences, or of a part."""
    # sentence by sentence: a text of one or two long "sentences" (no sentence punctuation) would
    # be covered by its prefix
    if (min(scores.alignment_a, scores.alignment_b) >= cfg.edited_copy_coverage
            and scores.aligned_sentences >= cfg.rewrite_min_sentences):
        return "near_duplicate", scores.jaccard
    return "partial", max(scores.containment_a, scores.containment_b)


def direction(relation: Relation | None, scores: Scores, cfg: DedupConfig,
              published: tuple[datetime | None, datetime | None]) -> tuple[str | None, str | None]:
    """('a' | 'b' | None as the source, basis) for a related pair."""
    if relation is None:
        return None, None
    date_a, date_b = published
    if date_a is not None and date_b is not None and date_a != date_b:
        return ("a" if date_a < date_b else "b"), "published"
    if relation == "exact":
        return None, None
    if relation == "rewrite" or max(scores.containment_a, scores.containment_b) < cfg.partial_containment:
        # related through its aligned sentences (a rewrite, copied passages): the text they cover more
        covered_a, covered_b = scores.alignment_a, scores.alignment_b
    else:
        covered_a, covered_b = scores.containment_a, scores.containment_b
    if covered_a - covered_b >= cfg.direction_margin:
        return "b", "coverage"  # a is the excerpt or condensation
    if covered_b - covered_a >= cfg.direction_margin:
        return "a", "coverage"
    return None, None


def sentence_texts(doc: PreparedDoc, sentences: list[int] | tuple[int, ...]) -> list[str]:
    """The text of the given sentences of a prepared document, closing punctuation included."""
    text = doc.text
    return [text[lo:hi] for lo, hi in doc.sentence_spans[list(sentences)].tolist()]


def evidence(a: PreparedDoc, b: PreparedDoc, alignment: Alignment | None) -> tuple[SentencePair, ...]:
    if alignment is None or not alignment.pairs:
        return ()
    a_index, b_index, similarity = zip(*alignment.pairs)
    return tuple(map(SentencePair, a_index, b_index, sentence_texts(a, a_index), sentence_texts(b, b_index), similarity))


def relate(a_id: str, b_id: str, a: PreparedDoc, b: PreparedDoc, scores: Scores, alignment: Alignment | None,
           cfg: DedupConfig, published: tuple[datetime | None, datetime | None] = (None, None),
           copied: np.ndarray | None = None) -> Match:
    sentences = evidence(a, b, alignment)
    relation, similarity = classify(a, b, scores, cfg, alignment, sentences, copied)
    side, basis = direction(relation, scores, cfg, published)
    source = {"a": a_id, "b": b_id, None: None}[side]
    match = Match(a_id, b_id, relation, float(similarity), source, scores, sentences, basis)
    if cfg.max_evidence is not None and len(sentences) > cfg.max_evidence:
        return dataclasses.replace(match, evidence=tuple(p for p, _ in match.examples(cfg.max_evidence)))
    return match
