"""The public entry point: one object holding a frozen config, over the whole pipeline.

normalize -> shingle -> sign -> index (LSH) -> verify -> relate -> cluster

>>> from dedup import Detector
>>> det = Detector()
>>> a = "The central bank raised interest rates by half a point on Tuesday, citing inflation. " * 3
>>> det.compare(a, a + " Markets fell.").relation
'near_duplicate'
>>> scan = det.scan([("x", a), ("y", a)])
>>> [(m.a, m.b, m.relation) for m in scan]
[('x', 'y', 'exact')]
>>> scan.report.documents_scanned
2
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Iterator

import numpy as np

from dedup import cluster as cluster_stage
from dedup.config import DedupConfig
from dedup.frequency import DocumentFrequency
from dedup.index import candidate_pairs, unique_pairs
from dedup.io import parse_date
from dedup.normalize import BinaryInputError, check_not_binary, clean_text, decode_bytes
from dedup.relate import relate
from dedup.shingle import content_stems
from dedup.sign import sign
from dedup.tokenize import tokenize_batch
from dedup.types import Cluster, Document, Match, ScanReport, Skipped
from dedup.verify import PreparedDoc, copy_overlap, fingerprint, is_copy, prepare, score_pair, shingle_batch

Progress = Callable[[str, int], None]


@dataclass
class _Corpus:
    """What the scan keeps per document: compact arrays plus the clean text for verification."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    published: list[datetime | None] = field(default_factory=list)
    fingerprints: list[int] = field(default_factory=list)
    copy_signatures: list[np.ndarray] = field(default_factory=list)


class Scan:
    """An iterable of the related pairs of a corpus; ``report`` is complete once iterated."""

    def __init__(self, matches: Iterator[Match], report: ScanReport):
        self._matches = matches
        self.report = report

    def __iter__(self) -> Iterator[Match]:
        return self._matches


class Detector:
    """Finds exact copies, near-duplicates, partial copies and rewrites.

    ``Detector(config)`` or ``Detector(**overrides)`` of :class:`DedupConfig` fields.
    """

    def __init__(self, config: DedupConfig | None = None, **overrides):
        self.config = (config or DedupConfig()).replace(**overrides) if overrides else (config or DedupConfig())
        self.document_frequency = DocumentFrequency()

    # -- single pairs -----------------------------------------------------------------

    def fit(self, docs: Iterable[Document | tuple | str]) -> "Detector":
        """Learn content-word document frequencies from a corpus, to weight sentence alignment in compare()."""
        texts = [d if isinstance(d, str) else _as_document(d).text for d in docs]
        cfg = self.config
        for lo in range(0, len(texts), cfg.batch_size):
            batch, _, _ = shingle_batch([clean_text(t) for t in texts[lo : lo + cfg.batch_size]], cfg)
            self.document_frequency.add(*content_stems(batch))
        return self

    def compare(self, a: str | bytes, b: str | bytes, published_a=None, published_b=None,
                ids: tuple[str, str] = ("a", "b")) -> Match:
        """The relation between two texts, with evidence. ``relation`` is None when unrelated."""
        text_a, text_b = (clean_text(decode_bytes(t) if isinstance(t, bytes) else t) for t in (a, b))
        doc_a, doc_b = prepare([text_a, text_b], self.config)
        return self._verify(ids, (doc_a, doc_b), (parse_date(published_a), parse_date(published_b)))

    def _verify(self, ids, docs: tuple[PreparedDoc, PreparedDoc], published, try_rewrite: bool = True) -> Match:
        """Exact scores and relation of one pair. Alignment runs when it can change the verdict or
        gives evidence: not for exact copies, nor for pairs that are neither copies nor rewrite candidates."""
        cfg = self.config
        weights = self.document_frequency.idf if self.document_frequency.n_docs else None
        exact = docs[0].fingerprint == docs[1].fingerprint
        wanted = is_copy(copy_overlap(*docs), cfg) or (cfg.detect_rewrites and try_rewrite)
        scores, alignment = score_pair(docs[0], docs[1], cfg, weights, with_alignment=not exact and wanted)
        return relate(ids[0], ids[1], docs[0], docs[1], scores, alignment, self.config, published)

    # -- corpora ----------------------------------------------------------------------

    def scan(self, docs: Iterable[Document | Skipped | tuple], progress: Progress | None = None) -> Scan:
        """Related pairs of a corpus, found through LSH candidates (never all pairs).

        Output is sorted by (a, b) with a < b, and does not depend on input order.
        The document frequencies learnt from the corpus replace any learnt by fit().
        """
        report = ScanReport()
        return Scan(self._scan(docs, report, progress), report)

    def cluster(self, matches: Iterable[Match], published=None) -> list[Cluster]:
        """Connected components of related pairs, each with its source named when known."""
        return cluster_stage.cluster(matches, published)

    def _scan(self, docs, report: ScanReport, progress: Progress | None) -> Iterator[Match]:
        started = time.perf_counter()
        self.document_frequency = DocumentFrequency()
        corpus = _Corpus()
        try:
            self._read(docs, corpus, report, progress)
            yield from self._find_pairs(corpus, report, progress)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            report.seconds = time.perf_counter() - started

    def _read(self, docs, corpus: _Corpus, report: ScanReport, progress: Progress | None) -> None:
        seen: set[str] = set()
        pending: list[tuple[str, str, datetime | None]] = []
        for item in docs:
            report.documents_read += 1
            checked = self._check(item, seen)
            if isinstance(checked, Skipped):
                report.skip(checked)
                continue
            pending.append(checked)
            if len(pending) >= self.config.batch_size:
                self._add_batch(pending, corpus, report)
                pending = []
                if progress:
                    progress("read", report.documents_read)
        self._add_batch(pending, corpus, report)

    def _check(self, item, seen: set[str]) -> tuple[str, str, datetime | None] | Skipped:
        if isinstance(item, Skipped):
            return item
        try:
            doc = _as_document(item)
        except (TypeError, ValueError) as e:
            return Skipped(repr(item)[:80], "invalid_record", str(e))
        if doc.id in seen:
            return Skipped(doc.id, "duplicate_id", "an earlier document has this id")
        seen.add(doc.id)
        text = doc.text
        try:
            if isinstance(text, bytes):
                text = decode_bytes(text)
            if not isinstance(text, str):
                return Skipped(doc.id, "invalid_record", f"text is {type(text).__name__}, not str")
            if len(text) > self.config.max_doc_chars:
                return Skipped(doc.id, "too_large", f"{len(text)} characters > max_doc_chars")
            check_not_binary(text)
        except BinaryInputError as e:
            return Skipped(doc.id, "binary", str(e))
        return doc.id, clean_text(text), parse_date(doc.published)

    def _add_batch(self, pending, corpus: _Corpus, report: ScanReport) -> None:
        if not pending:
            return
        cfg = self.config
        batch, offsets, shingles = shingle_batch([text for _, text, _ in pending], cfg)
        token_counts = np.diff(batch.offsets)
        keep = token_counts >= max(cfg.min_tokens, 1)
        for (doc_id, _, _), n in zip(pending, token_counts):
            if n == 0:
                report.skip(Skipped(doc_id, "empty", "no words after cleaning"))
            elif n < cfg.min_tokens:
                report.skip(Skipped(doc_id, "too_short", f"{n} words < min_tokens"))
        stem_offsets, stems = content_stems(batch)
        copy_sigs = sign(offsets, shingles, cfg.num_perm, cfg.seed)
        kept = np.flatnonzero(keep)
        self.document_frequency.add(*_select_segments(stem_offsets, stems, kept))
        for i in kept.tolist():
            doc_id, text, published = pending[i]
            corpus.ids.append(doc_id)
            corpus.texts.append(text)
            corpus.published.append(published)
            corpus.fingerprints.append(fingerprint(batch.doc(i).hash))
        corpus.copy_signatures.append(copy_sigs[kept])
        report.documents_scanned += len(kept)

    def _rare_stem_signatures(self, texts: list[str]) -> np.ndarray:
        """Second pass, once document frequencies are known: signatures of each text's rarer content stems.

        Rewrites keep names, numbers and specific terms while changing the wording around them;
        dropping the corpus's common words keeps same-topic documents from all becoming candidates.
        """
        cfg, df = self.config, self.document_frequency
        max_df = max(cfg.rare_stem_max_df_fraction * df.n_docs, cfg.rare_stem_max_df_floor)
        out = []
        for lo in range(0, len(texts), cfg.batch_size):
            offsets, stems = content_stems(tokenize_batch(texts[lo : lo + cfg.batch_size], cfg.stem_length))
            rare = df.count(stems) <= max_df
            kept_before = np.concatenate(([0], np.cumsum(rare)))
            out.append(sign(kept_before[offsets], stems[rare], cfg.rewrite_num_perm, cfg.seed))
        return np.concatenate(out)

    def _find_pairs(self, corpus: _Corpus, report: ScanReport, progress: Progress | None) -> Iterator[Match]:
        cfg = self.config
        n = len(corpus.ids)
        if n < 2:
            return
        # canonical order (by id) so that results do not depend on input order
        order = np.array(sorted(range(n), key=corpus.ids.__getitem__))
        ids = [corpus.ids[i] for i in order]
        fingerprints = np.array([corpus.fingerprints[i] for i in order], np.uint64)
        copy_sigs = np.concatenate(corpus.copy_signatures)[order]

        # exact copies: only the first member of each group is indexed; its candidates are
        # then shared with the other members, which are linked to it as exact pairs
        _, first, group = np.unique(fingerprints, return_index=True, return_inverse=True)
        representative = first[group]
        is_rep = representative == np.arange(n)
        exact = np.stack((representative[~is_rep], np.flatnonzero(~is_rep)), axis=1)
        topic_sigs = self._rare_stem_signatures([corpus.texts[i] for i in order]) if cfg.detect_rewrites else None
        found = [candidate_pairs(copy_sigs, cfg.lsh_threshold, cfg.lsh_weights, cfg.max_bucket_size, is_rep)]
        if cfg.detect_rewrites:
            found.append(candidate_pairs(topic_sigs, cfg.rewrite_lsh_threshold, cfg.lsh_weights,
                                         cfg.max_bucket_size, is_rep))
        pairs = unique_pairs(np.concatenate([exact, _expand_groups(np.concatenate(found), representative)]))
        if progress:
            progress("candidates", len(pairs))

        # sharpen the LSH candidates with the full signatures before any exact work
        copy_estimate = _agreement(copy_sigs, pairs)
        rewrite_estimate = _agreement(topic_sigs, pairs) if cfg.detect_rewrites else np.zeros(len(pairs))
        is_exact = fingerprints[pairs[:, 0]] == fingerprints[pairs[:, 1]]
        try_rewrite = rewrite_estimate >= cfg.rewrite_min_estimate
        keep = is_exact | (copy_estimate >= cfg.copy_min_estimate) | try_rewrite
        pairs, try_rewrite = pairs[keep], try_rewrite[keep]
        report.candidates = len(pairs)

        cache: dict[int, PreparedDoc] = {}
        chunk = 4096
        for lo in range(0, len(pairs), chunk):
            part = pairs[lo : lo + chunk]
            needed = np.unique(part).tolist()
            if len(cache) > 8 * chunk:
                cache = {i: cache[i] for i in needed if i in cache}
            missing = [i for i in needed if i not in cache]
            cache.update(zip(missing, prepare([corpus.texts[order[i]] for i in missing], cfg)))
            for (i, j), rewrite in zip(part.tolist(), try_rewrite[lo : lo + chunk].tolist()):
                try:
                    match = self._verify(
                        (ids[i], ids[j]), (cache[i], cache[j]),
                        (corpus.published[order[i]], corpus.published[order[j]]), rewrite,
                    )
                except Exception as e:  # one bad pair must not end a long scan
                    report.skip(Skipped(f"{ids[i]} | {ids[j]}", "verify_error", f"{type(e).__name__}: {e}"))
                    continue
                if match.relation is not None:
                    report.pairs[match.relation] = report.pairs.get(match.relation, 0) + 1
                    yield match
            if progress:
                progress("verified", min(lo + chunk, len(pairs)))


def _agreement(signatures: np.ndarray, pairs: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Estimated Jaccard similarity of each pair: the share of equal signature slots."""
    out = np.empty(len(pairs))
    for lo in range(0, len(pairs), chunk):
        p = pairs[lo : lo + chunk]
        out[lo : lo + chunk] = (signatures[p[:, 0]] == signatures[p[:, 1]]).mean(axis=1)
    return out


def _expand_groups(pairs: np.ndarray, representative: np.ndarray) -> np.ndarray:
    """Candidate pairs of representatives, extended to every member of their exact-copy groups."""
    members: dict[int, list[int]] = {}
    for doc in np.flatnonzero(representative != np.arange(len(representative))).tolist():
        members.setdefault(int(representative[doc]), [int(representative[doc])]).append(doc)
    if not members:
        return pairs
    out = [pairs]
    for i, j in pairs.tolist():
        if i in members or j in members:
            out.append(np.array([(x, y) for x in members.get(i, [i]) for y in members.get(j, [j])], np.int64))
    return np.sort(np.concatenate(out), axis=1)


def _select_segments(offsets: np.ndarray, values: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.diff(offsets)[rows]
    picked = [values[offsets[r] : offsets[r + 1]] for r in rows.tolist()]
    new_offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return new_offsets, (np.concatenate(picked) if picked else values[:0])


def _as_document(item) -> Document:
    if isinstance(item, tuple) and 2 <= len(item) <= 4:
        doc = Document(*item)
        return doc if isinstance(doc.id, str) else doc._replace(id=str(doc.id))
    if isinstance(item, dict) and "id" in item and "text" in item:
        return Document(str(item["id"]), item["text"], item.get("published"), item.get("url"))
    raise TypeError("expected Document, (id, text[, published[, url]]) or a dict with 'id' and 'text'")
