"""An index that grows as documents arrive: each new one is checked against those already in it.

For a feed or a crawl that cannot wait for the whole corpus. A document goes through the scan's
stages as it comes (normalize, shingle, sign), is looked up in both LSH channels, and its
candidates are verified and related exactly as a scan does it.

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
Without one, they are learnt from the documents added so far, and a stem that becomes common later
keeps its place in earlier signatures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from dedup import pipeline
from dedup.arrays import unique
from dedup.config import DedupConfig
from dedup.frequency import DocumentFrequency
from dedup.index import GrowingBuckets, band_keys
from dedup.io import parse_date
from dedup.shingle import content_stems
from dedup.sign import low_bytes, sign
from dedup.types import DocumentSkipped, Match, ScanReport, Skipped
from dedup.verify import fingerprints, prepare, shingle_batch


@dataclass(frozen=True)
class _Signed:
    """What the index keeps of a document, and looks it up by."""

    id: str
    text: str  # clean
    published: datetime | None
    fingerprint: int
    copy_sketch: np.ndarray  # low bytes of the copy signature
    copy_keys: np.ndarray
    content_words: int
    rare_sketch: np.ndarray
    rare_keys: np.ndarray
    rare_count: int


class _Rows:
    """Rows appended one at a time into an array that doubles when full."""

    def __init__(self, shape: tuple[int, ...], dtype) -> None:
        self._data, self._n = np.zeros((16, *shape), dtype), 0

    def append(self, row) -> None:
        if self._n == len(self._data):
            self._data = np.concatenate((self._data, np.zeros_like(self._data)))
        self._data[self._n] = row
        self._n += 1

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return self._data[: self._n][rows]


class StreamIndex:
    """Related pairs of each new document with the documents added before it.

    ``StreamIndex(config, document_frequency)``, or ``Detector(...).stream()``, which passes the
    detector's config and the word weights it has fitted or scanned. ``report`` counts documents
    added, skipped and the pairs found.
    """

    def __init__(self, config: DedupConfig | None = None, document_frequency: DocumentFrequency | None = None):
        self.config = cfg = config or DedupConfig()
        self._learns_weights = document_frequency is None or document_frequency.n_docs == 0
        self.document_frequency = DocumentFrequency() if self._learns_weights else document_frequency
        self.report = ScanReport()
        self._position: dict[str, int] = {}
        self._docs: list[tuple[str, str, datetime | None]] = []  # id, clean text, date
        self._copy_sketches = _Rows((cfg.num_perm,), np.uint8)
        self._rare_sketches = _Rows((cfg.rewrite_num_perm,), np.uint8)
        self._rare_counts = _Rows((), np.int64)
        self._first_with: dict[int, int] = {}  # text fingerprint -> first document with it
        self._copies: dict[int, list[int]] = {}  # first document -> every document with its text
        self._copy_buckets, self._rare_buckets = GrowingBuckets(), GrowingBuckets()
        self._copy_bands = pipeline.copy_bands(cfg)
        self._rare_bands = pipeline.rewrite_bands(cfg)

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, doc_id: str, text: str | bytes, published: datetime | str | None = None) -> list[Match]:
        """The related pairs of a new document with those added before it, sorted by (a, b); the
        document is then added. Raises :class:`~dedup.types.DocumentSkipped` (counted in
        ``report``) for a repeated id or a document that a scan would skip."""
        started = time.perf_counter()
        self.report.documents_read += 1
        date = parse_date(published)
        if date is None and published not in (None, ""):
            self.report.unreadable_dates += 1
        try:
            if doc_id in self._position:
                raise DocumentSkipped(Skipped(doc_id, "duplicate_id", "an earlier document has this id"))
            signed = self._sign(doc_id, text, date, learn=self._learns_weights)
        except DocumentSkipped as e:
            self.report.skip(e.skipped)
            raise
        matches = self._matches(signed)
        self._insert(signed)
        for m in matches:
            self.report.pairs[m.relation] = self.report.pairs.get(m.relation, 0) + 1
        self.report.seconds += time.perf_counter() - started
        return matches

    def query(self, text: str | bytes, published: datetime | str | None = None, doc_id: str = "query") -> list[Match]:
        """The related pairs of a text with the documents added so far, without adding it (nor
        counting it). Raises :class:`~dedup.types.DocumentSkipped` for a text a scan would skip."""
        if doc_id in self._position:
            raise ValueError(f"{doc_id!r} is the id of an added document")
        return self._matches(self._sign(doc_id, text, parse_date(published), learn=False))

    def _sign(self, doc_id: str, text: str | bytes, published: datetime | None, learn: bool) -> _Signed:
        cfg = self.config
        accepted = pipeline.accept_record(cfg, (doc_id, text, published))
        if isinstance(accepted, Skipped):
            raise DocumentSkipped(accepted)
        clean = accepted[1]
        batch, offsets, shingles = shingle_batch([clean], cfg, detail=False)
        if (skipped := pipeline.too_short(cfg, doc_id, int(batch.offsets[1]))) is not None:
            raise DocumentSkipped(skipped)
        signature = sign(offsets, shingles, cfg.num_perm, cfg.seed)
        stem_offsets, stems = content_stems(batch)
        stems = unique(stems)
        one = np.array([0, len(stems)])
        if learn:
            self.document_frequency.add(one, stems)
        rare_sketch, rare_keys, rare_count = pipeline.rare_stem_index(cfg, self.document_frequency, one, stems)
        return _Signed(doc_id, clean, published, int(fingerprints(batch.hash, batch.offsets)[0]),
                       low_bytes(signature)[0], band_keys(signature, *self._copy_bands)[0],
                       int(stem_offsets[1]), rare_sketch[0], rare_keys[0], int(rare_count[0]))

    def _passes(self, channel: str, signed: _Signed, rows: np.ndarray) -> np.ndarray:
        """Whether the channel's sketch estimate makes each of ``rows`` a candidate for ``signed``."""
        if channel == "copy":
            sketches, counts = np.vstack((signed.copy_sketch, self._copy_sketches[rows])), None
        else:
            sketches = np.vstack((signed.rare_sketch, self._rare_sketches[rows]))
            counts = np.concatenate(([signed.rare_count], self._rare_counts[rows]))
        pairs = np.stack((np.zeros(len(rows), np.int64), np.arange(1, len(rows) + 1)), axis=1)
        return pipeline.is_candidate(self.config, channel, sketches, counts, pairs)

    def _matches(self, signed: _Signed) -> list[Match]:
        cfg = self.config
        # LSH buckets hold the first document of each text; the others with its text come with it
        found = self._copy_buckets.members(signed.copy_keys, cfg.max_bucket_size)
        found = [found[self._passes("copy", signed, found)]]
        if cfg.detect_rewrites and signed.content_words >= cfg.rare_stem_min_words:
            rare = self._rare_buckets.members(signed.rare_keys, cfg.max_bucket_size)
            found.append(rare[self._passes("rewrite", signed, rare)])
        # an exact copy is linked to the first document with its text, as a scan links it to the one
        # with the least id: a group of k copies makes k - 1 pairs, not k(k - 1) / 2
        first = self._first_with.get(signed.fingerprint)
        firsts = unique(np.concatenate(found).astype(np.int64)).tolist()
        candidates = {k for f in firsts if f != first for k in self._copies.get(f, [f])}
        candidates = np.array(sorted(candidates | ({first} if first is not None else set())), np.int64)
        self.report.candidates += len(candidates)
        if not len(candidates):
            return []
        try_rewrite = (self._passes("rewrite", signed, candidates) if cfg.detect_rewrites
                       else np.zeros(len(candidates), bool))
        new, old = -1, candidates.tolist()
        ids, texts, published = zip(*(self._docs[k] for k in old))
        docs = dict(zip([new, *old], prepare([signed.text, *texts], cfg)))
        ids = dict(zip([new, *old], [signed.id, *ids]))
        published = dict(zip([new, *old], [signed.published, *published]))
        pairs = [(k, new, r) if ids[k] < signed.id else (new, k, r) for k, r in zip(old, try_rewrite.tolist())]
        matches = pipeline.verify_pairs(cfg, self.document_frequency, docs, pairs, ids, published)
        return sorted((m for m in matches if m.relation is not None), key=lambda m: (m.a, m.b))

    def _insert(self, signed: _Signed) -> None:
        k = len(self._docs)
        self._position[signed.id] = k
        self._docs.append((signed.id, signed.text, signed.published))
        self._copy_sketches.append(signed.copy_sketch)
        self._rare_sketches.append(signed.rare_sketch)
        self._rare_counts.append(signed.rare_count)
        self.report.documents_scanned += 1
        first = self._first_with.setdefault(signed.fingerprint, k)
        if first != k:
            self._copies.setdefault(first, [first]).append(k)
            return
        self._copy_buckets.add(k, signed.copy_keys)
        if self.config.detect_rewrites and signed.content_words >= self.config.rare_stem_min_words:
            self._rare_buckets.add(k, signed.rare_keys)
