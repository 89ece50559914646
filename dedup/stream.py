"""An index that grows as documents arrive: each new one is checked against those already in it.

For a feed or a crawl that cannot wait for the whole corpus. Documents go through the scan's
stages as they come (normalize, shingle, sign), are looked up in both LSH channels, and their
candidates are verified and related exactly as a scan does it. ``add_many`` takes a batch at once
(signed, looked up and verified together) with the result of adding its documents in turn.

>>> from dedup import Detector
>>> index = Detector().stream()
>>> story = "The central bank raised interest rates by half a point on Tuesday, citing inflation. " * 3
>>> index.add("wire", story)
[]
>>> [(m.a, m.b, m.relation) for m in index.add("site", story + " Markets fell.")]
[('site', 'wire', 'near_duplicate')]
>>> len(index), index.report.documents_scanned
(2, 2)

Word weights and the rarity of stems (which the rewrite channel signs) come from a corpus: the one
the detector was fitted on or last scanned, and then the pairs found over a stream are the scan's
pairs, whatever the order of arrival, with two differences: copies of one text are linked to the
first that arrived (a scan links them to the one with the least id), and a new document meets the
newest ``max_bucket_size`` members of a larger LSH bucket (a scan links such a bucket as a chain).
Without one, they are learnt from the documents as they are added, a block at a time (blocks of
16, 16, 32, 64 ... documents, up to ``batch_size``): a document is judged with the weights of the
blocks before its own, whatever the batches it came in, so the results do not depend on how the
stream was cut into calls. A stem that becomes common later keeps its place in earlier signatures.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import time
from datetime import datetime
from typing import Iterable

import numpy as np

from dedup import pipeline
from dedup.config import DedupConfig
from dedup.frequency import DocumentFrequency, tally
from dedup.index import GrowingBuckets
from dedup.io import parse_date
from dedup.types import Document, DocumentSkipped, Match, ScanReport, Skipped


class _Rows:
    """Rows appended in batches into an array that doubles when full."""

    def __init__(self, shape: tuple[int, ...], dtype) -> None:
        self._data, self._n = np.zeros((16, *shape), dtype), 0

    def extend(self, rows: np.ndarray) -> None:
        while self._n + len(rows) > len(self._data):
            self._data = np.concatenate((self._data, np.zeros_like(self._data)))
        self._data[self._n : self._n + len(rows)] = rows
        self._n += len(rows)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return self._data[: self._n][rows]


def _rows(signed: pipeline.SignedTexts, lo: int, hi: int) -> pipeline.SignedTexts:
    """Kept documents lo..hi of signed texts (``kept`` and ``skipped`` are the whole batch's)."""
    stems = signed.stems[signed.stem_offsets[lo] : signed.stem_offsets[hi]]
    return dataclasses.replace(
        signed, fingerprints=signed.fingerprints[lo:hi], copy_sketches=signed.copy_sketches[lo:hi],
        copy_keys=signed.copy_keys[lo:hi], content_words=signed.content_words[lo:hi],
        stem_offsets=signed.stem_offsets[lo : hi + 1] - signed.stem_offsets[lo], stems=stems)


class StreamIndex:
    """Related pairs of each new document with the documents added before it.

    ``StreamIndex(config, document_frequency)``, or ``Detector(...).stream()``, which passes the
    detector's config and the word weights it has fitted or scanned. ``report`` counts documents
    added, skipped and the pairs found. It works in the calling process and in memory (about 4 KB
    a document besides its clean text); ``workers`` and ``out_of_core`` are for scans.
    """

    _FORMAT = 2  # of saved indexes; a change to what an index holds raises it

    def __init__(self, config: DedupConfig | None = None, document_frequency: DocumentFrequency | None = None):
        self._format = self._FORMAT
        self.config = cfg = config or DedupConfig()
        self._learns_weights = document_frequency is None or document_frequency.n_docs == 0
        self.document_frequency = DocumentFrequency() if self._learns_weights else document_frequency
        self._block_stems: list[tuple[np.ndarray, np.ndarray]] = []  # learning: (offsets, stems) of the block's new texts
        self._learnt = 0  # learning: documents whose block is folded into the weights
        self.report = ScanReport()
        self._position: dict[str, int] = {}
        self._docs: list[tuple[str, str, datetime | None]] = []  # id, clean text, date
        self._copy_sketches = _Rows((cfg.num_perm,), np.uint8)
        self._rare_sketches = _Rows((cfg.rewrite_num_perm,), np.uint8)
        self._rare_counts = _Rows((), np.int64)
        self._first_with: dict[int, int] = {}  # text fingerprint -> first document with it
        self._copies: dict[int, list[int]] = {}  # first document -> every document with its text, in order
        self._copy_buckets, self._rare_buckets = GrowingBuckets(), GrowingBuckets()

    def __len__(self) -> int:
        return len(self._docs)

    def save(self, path: str | os.PathLike) -> None:
        """Write the index to a file, whole or not at all (a crash leaves the previous file)."""
        part = f"{os.fspath(path)}.part-{os.getpid()}"
        try:
            with open(part, "wb") as f:
                pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(part, path)
        finally:
            if os.path.exists(part):
                os.remove(part)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "StreamIndex":
        """An index written by :meth:`save`, to go on adding to. The file is a pickle: load only
        files you wrote."""
        with open(path, "rb") as f:
            index = pickle.load(f)
        if not isinstance(index, cls) or getattr(index, "_format", None) != cls._FORMAT:
            raise ValueError(f"{os.fspath(path)} is not an index saved by this version of dedup")
        return index

    def add(self, doc_id: str, text: str | bytes, published: datetime | str | None = None) -> list[Match]:
        """The related pairs of a new document with those added before it, sorted by (a, b); the
        document is then added. Raises :class:`~dedup.types.DocumentSkipped` (counted in
        ``report``) for a repeated id or a document that a scan would skip."""
        matches, skipped = self._add([(doc_id, text, published)])
        if skipped:
            raise DocumentSkipped(skipped[0])
        return matches

    def add_many(self, docs: Iterable[Document | Skipped | tuple | dict]) -> list[Match]:
        """:meth:`add` of each document in turn, as one batch: the pairs each makes with those
        before it, in order of arrival. A document that add() would refuse, and a reader's
        ``Skipped`` (as :meth:`Detector.scan` takes them), is counted in ``report`` and left out."""
        return self._add(docs)[0]

    def query(self, text: str | bytes, published: datetime | str | None = None, doc_id: str = "query") -> list[Match]:
        """The related pairs of a text with the documents added so far, without adding it (nor
        counting it). Raises :class:`~dedup.types.DocumentSkipped` for a text a scan would skip."""
        if doc_id in self._position:
            raise ValueError(f"{doc_id!r} is the id of an added document")
        accepted = pipeline.accept_record(self.config, (doc_id, text, parse_date(published)))
        if isinstance(accepted, Skipped):
            raise DocumentSkipped(accepted)
        signed = pipeline.sign_texts(self.config, [accepted])
        if signed.skipped:
            raise DocumentSkipped(signed.skipped[0])
        rare = pipeline.rare_stem_index(self.config, self.document_frequency, signed.stem_offsets, signed.stems)
        first = self._first_with.get(int(signed.fingerprints[0]), -1)  # an added document with its text
        pairs = self._candidates(signed, rare, np.array([len(self)]), np.array([first]))
        return self._verify(pairs, [accepted])

    def _block_end(self) -> int:
        """Where the block of documents being learnt ends: blocks double from 16 documents to
        ``batch_size``, so that weights come early, then stay that size."""
        n, size = self._learnt, self.config.batch_size
        return n + (min(size, max(16, n)) if n < size else size)

    def _add(self, items: Iterable) -> tuple[list[Match], list[Skipped]]:
        started = time.perf_counter()
        cfg, report = self.config, self.report
        accepted, skipped, batch_ids = [], [], set()
        is_seen = lambda doc_id: doc_id in self._position or doc_id in batch_ids  # noqa: E731
        for item in items:
            report.documents_read += 1
            record = pipeline.admit(item, is_seen, report)
            if not isinstance(record, Skipped):
                batch_ids.add(record[0])
                record = pipeline.accept_record(cfg, record)
            (skipped.append if isinstance(record, Skipped) else accepted.append)(record)
        signed = pipeline.sign_texts(cfg, accepted)
        skipped += signed.skipped
        for s in skipped:
            report.skip(s)
        kept = [accepted[i] for i in signed.kept]
        matches, lo = [], 0
        while lo < len(kept):  # learning weights, up to the end of the current block of documents
            hi = len(kept) if not self._learns_weights else min(len(kept), lo + self._block_end() - len(self))
            part = _rows(signed, lo, hi)
            rare = pipeline.rare_stem_index(cfg, self.document_frequency, part.stem_offsets, part.stems)
            positions = len(self) + np.arange(hi - lo)
            firsts = self._insert(kept[lo:hi], part, rare, positions)
            matches += self._verify(self._candidates(part, rare, positions, firsts), kept[lo:hi])
            if self._learns_weights:
                new_texts = np.flatnonzero(firsts == positions)  # copies count once, as in a scan
                self._block_stems.append(pipeline.distinct_per_segment(part.stem_offsets, part.stems, new_texts))
                if len(self) == self._block_end():  # a block is complete: its documents join the weights
                    texts = sum(len(offsets) - 1 for offsets, _ in self._block_stems)
                    self.document_frequency.add_tally(*tally(np.concatenate([v for _, v in self._block_stems])), texts)
                    self._block_stems, self._learnt = [], len(self)
            lo = hi
        for m in matches:
            report.pairs[m.relation] = report.pairs.get(m.relation, 0) + 1
        report.seconds += time.perf_counter() - started
        return matches, skipped

    def _insert(self, kept: list[tuple], signed: pipeline.SignedTexts, rare: tuple, positions: np.ndarray) -> np.ndarray:
        """Add signed documents at ``positions``; the first document with each one's text (itself
        when it is the first, and then it goes into the LSH buckets)."""
        cfg = self.config
        firsts = np.array([self._first_with.setdefault(fp, k) for fp, k in
                           zip(signed.fingerprints.tolist(), positions.tolist())], np.int64)
        for k, first in zip(positions.tolist(), firsts.tolist()):
            if first != k:
                self._copies.setdefault(first, [first]).append(k)
        for (doc_id, text, published), k in zip(kept, positions.tolist()):
            self._position[doc_id] = k
            self._docs.append((doc_id, text, published))
        rare_sketches, rare_keys, rare_counts = rare
        self._copy_sketches.extend(signed.copy_sketches)
        self._rare_sketches.extend(rare_sketches)
        self._rare_counts.extend(rare_counts)
        self.report.documents_scanned += len(kept)
        new = firsts == positions
        self._copy_buckets.add(positions[new], signed.copy_keys[new])
        if cfg.detect_rewrites:
            rewritable = new & pipeline.in_rewrite_index(cfg, signed.content_words)
            self._rare_buckets.add(positions[rewritable], rare_keys[rewritable])
        return firsts

    def _candidates(self, signed: pipeline.SignedTexts, rare: tuple, positions: np.ndarray,
                    firsts: np.ndarray) -> np.ndarray:
        """(row, document, try_rewrite) of each candidate pair of the signed rows, at
        ``positions``, with earlier documents; ``firsts`` are the rows' first documents with
        their texts (-1: none)."""
        cfg = self.config
        rare_sketches, rare_keys, rare_counts = rare
        found = self._copy_buckets.members(signed.copy_keys, cfg.max_bucket_size, positions)
        found = [found[self._passes("copy", signed.copy_sketches, None, found)]]
        if cfg.detect_rewrites:
            rows = np.flatnonzero(pipeline.in_rewrite_index(cfg, signed.content_words))
            pairs = self._rare_buckets.members(rare_keys[rows], cfg.max_bucket_size, positions[rows])
            pairs[:, 0] = rows[pairs[:, 0]]
            found.append(pairs[self._passes("rewrite", rare_sketches, rare_counts, pairs)])
        # the LSH buckets hold the first document with each text, which brings the others with it;
        # a copy is linked to the first with its own text only, as a scan links it to the one with
        # the least id: k copies of a text make k - 1 pairs, not k(k - 1) / 2
        candidates = set()
        for row, first in np.unique(np.concatenate(found), axis=0).tolist():
            if first != firsts[row]:
                candidates.update((row, k) for k in self._copies.get(first, [first]) if k < positions[row])
        candidates.update((row, int(first)) for row, first in enumerate(firsts.tolist())
                          if first not in (-1, positions[row]))
        pairs = np.array(sorted(candidates), np.int64).reshape(-1, 2)
        self.report.candidates += len(pairs)
        try_rewrite = (self._passes("rewrite", rare_sketches, rare_counts, pairs) if cfg.detect_rewrites
                       else np.zeros(len(pairs), bool))
        return np.column_stack((pairs, try_rewrite))

    def _passes(self, channel: str, sketches: np.ndarray, counts: np.ndarray | None, pairs: np.ndarray) -> np.ndarray:
        """Whether the channel's sketch estimate makes each (row, document) pair a candidate;
        ``sketches`` and ``counts`` are the rows'."""
        rows, docs = pairs[:, 0], pairs[:, 1]
        if channel == "copy":
            stored, both_counts = self._copy_sketches[docs], None
        else:
            stored, both_counts = self._rare_sketches[docs], np.concatenate((counts[rows], self._rare_counts[docs]))
        both = np.vstack((sketches[rows], stored))  # the pairs' rows, then their documents
        local = np.stack((np.arange(len(pairs)), len(pairs) + np.arange(len(pairs))), axis=1)
        return pipeline.is_candidate(self.config, channel, both, both_counts, local)

    def _verify(self, pairs: np.ndarray, rows: list[tuple]) -> list[Match]:
        """The related ones of the candidate pairs (row, document, try_rewrite), rows being
        (id, clean text, date) records, in order of rows, then of (a, b)."""
        if not len(pairs):
            return []
        # documents are numbered by position, rows (not yet added, or a query) by -1 - row
        records = {-1 - r: rows[r] for r in np.unique(pairs[:, 0]).tolist()}
        records.update((k, self._docs[k]) for k in np.unique(pairs[:, 1]).tolist())
        docs = pipeline.prepared_by_key(self.config, list(records), [r[1] for r in records.values()])
        ids = {k: r[0] for k, r in records.items()}
        published = {k: r[2] for k, r in records.items()}
        ordered = []
        for row, k, try_rewrite in pairs.tolist():
            new = -1 - row
            ordered.append((k, new, bool(try_rewrite)) if ids[k] < ids[new] else (new, k, bool(try_rewrite)))
        matches = pipeline.verify_pairs(self.config, self.document_frequency, docs, ordered, ids, published)
        found = [(row, m) for row, m in zip(pairs[:, 0].tolist(), matches) if m.relation is not None]
        return [m for _, m in sorted(found, key=lambda item: (item[0], item[1].a, item[1].b))]
