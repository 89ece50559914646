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

import os
import time
from typing import Callable, Iterable, Iterator, NamedTuple

import numpy as np

from dedup import cluster as cluster_stage
from dedup import pipeline
from dedup.arrays import unique
from dedup.config import DedupConfig
from dedup.frequency import DistinctTexts, DocumentFrequency
from dedup.index import unique_pairs
from dedup.io import parse_date
from dedup.normalize import clean_text, decode_bytes
from dedup.parallel import Executor, WorkerDied, release_memory
from dedup.shingle import content_stems
from dedup.store import ArrayStore, BandKeyStore, IdStore, SegmentSlice, TextStore, save_npy
from dedup.stream import StreamIndex
from dedup.types import Cluster, Document, Match, ScanReport, Skipped, as_document
from dedup.verify import fingerprints, prepare, shingle_batch

Progress = Callable[[str, int], None]

_KEYS_PER_BAND_TASK = 1 << 18  # a band task takes whole bands up to this many keys in all, and at least one
_CELL_BLOCK_BYTES = 1 << 24  # out of core, the sketch bytes of a block of rows; a cell pairs two blocks


class _Corpus:
    """What a scan keeps per document: ids (compactly) and dates in memory; where its text and stems
    are in the spool files; signatures and LSH band keys in stores that live in memory or, out of
    core, in files in the scan's scratch directory."""

    def __init__(self, cfg: DedupConfig, scratch: str) -> None:
        spill, where = cfg.out_of_core, scratch
        self.ids = IdStore()
        self.published: list[np.ndarray] = []  # datetime64[us], NaT for none: 8 bytes, not a datetime object
        self.fingerprints: list[np.ndarray] = []
        self.content_words: list[np.ndarray] = []
        self.rare_counts: list[np.ndarray] = []  # rare stems per document
        self.texts = TextStore()
        self.stems: list[SegmentSlice] = []  # one per pass-1 batch
        self.copy_bands = pipeline.copy_bands(cfg)
        self.copy_sketches = ArrayStore(cfg.num_perm, np.uint8, spill, where)
        self.copy_keys = BandKeyStore(self.copy_bands[0], spill, where)
        self.rare_bands = pipeline.rewrite_bands(cfg)
        self.rare_sketches = ArrayStore(cfg.rewrite_num_perm, np.uint8, spill, where)
        self.rare_keys = BandKeyStore(self.rare_bands[0], spill, where)

    def add(self, batch: pipeline.SignedBatch) -> None:
        self.ids.extend(batch.ids)
        self.published.append(np.array(batch.published, "datetime64[us]"))
        self.fingerprints.append(batch.fingerprints)
        self.content_words.append(batch.content_words)
        self.texts.add(batch.texts)
        self.stems.append(batch.stems)
        self.copy_sketches.append(batch.copy_sketches)
        self.copy_keys.append(batch.copy_keys)

    def add_rare(self, sketches: np.ndarray, keys: np.ndarray, counts: np.ndarray) -> None:
        self.rare_sketches.append(sketches)
        self.rare_keys.append(keys)
        self.rare_counts.append(counts)

    def release_index(self) -> None:
        """Signatures and band keys are not needed once the candidates are known."""
        for store in (self.copy_sketches, self.copy_keys, self.rare_sketches, self.rare_keys):
            store.close()


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
        texts = [d if isinstance(d, str) else as_document(d).text for d in docs]
        cfg, distinct = self.config, DistinctTexts()
        for lo in range(0, len(texts), cfg.batch_size):
            batch, _, _ = shingle_batch([clean_text(t) for t in texts[lo : lo + cfg.batch_size]], cfg)
            new = distinct.first(fingerprints(batch.hash, batch.offsets))  # copies count once, as in a scan
            self.document_frequency.add_tally(*pipeline.tally_of(*content_stems(batch), new), len(new))
        return self

    def compare(self, a: str | bytes, b: str | bytes, published_a=None, published_b=None,
                ids: tuple[str, str] = ("a", "b")) -> Match:
        """The relation between two texts, with evidence. ``relation`` is None when unrelated.

        Word weights come from the corpus given to fit() or scanned last; without one, from the
        two texts' own sentences, so that words running through both (the story's topic) weigh
        less than the specific ones a rewrite carries over.
        """
        text_a, text_b = (clean_text(decode_bytes(t) if isinstance(t, bytes) else t) for t in (a, b))
        docs = tuple(prepare([text_a, text_b], self.config))
        published = (parse_date(published_a), parse_date(published_b))
        df = self.document_frequency if self.document_frequency.n_docs else _sentence_frequency(docs)
        return pipeline.verify_pairs(self.config, df, docs, [(0, 1, True)], ids, published)[0]

    def stream(self) -> StreamIndex:
        """An index that checks documents as they arrive (:class:`~dedup.stream.StreamIndex`), with
        this detector's config and the word weights it has fitted or scanned, if any."""
        return StreamIndex(self.config, self.document_frequency if self.document_frequency.n_docs else None)

    def signatures(self, texts: Iterable[str | bytes]) -> np.ndarray:
        """MinHash signatures of raw texts, as the scan's copy channel computes them: a
        ``(n, num_perm)`` uint32 matrix. ``dedup.sign.estimate_jaccard`` compares two rows, and
        ``dedup.sign.to_datasketch`` exports one. Bytes that are not text raise BinaryInputError.

        >>> sig = Detector().signatures(["The cat sat on the mat.", "the cat SAT on the mat!"])
        >>> sig.shape, bool((sig[0] == sig[1]).all())
        ((2, 128), True)
        """
        cfg = self.config
        clean = [clean_text(decode_bytes(t) if isinstance(t, bytes) else t) for t in texts]
        parts = [pipeline.copy_signatures(cfg, clean[lo : lo + cfg.batch_size])
                 for lo in range(0, len(clean), cfg.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, cfg.num_perm), np.uint32)

    # -- corpora ----------------------------------------------------------------------

    def scan(self, docs: Iterable[Document | Skipped | tuple], progress: Progress | None = None) -> Scan:
        """Related pairs of a corpus, found through LSH candidates (never all pairs).

        Output is sorted by (a, b) with a < b, and depends neither on input order nor on the number
        of workers. The document frequencies learnt from the corpus replace any learnt by fit().
        Ctrl-C ends the iteration early with ``report.interrupted`` set; a worker process that dies
        (for memory) raises :class:`~dedup.parallel.WorkerDied` after the pairs already yielded.
        """
        report = ScanReport()
        return Scan(self._scan(docs, report, progress), report)

    def cluster(self, matches: Iterable[Match], published=None) -> list[Cluster]:
        """Connected components of related pairs, each with its source named when known."""
        return cluster_stage.cluster(matches, published)

    def _scan(self, docs, report: ScanReport, progress: Progress | None) -> Iterator[Match]:
        started = time.perf_counter()
        self.document_frequency = DocumentFrequency()
        try:
            with Executor(self.config, self.config.workers) as ex:
                report.orphaned_scratch_removed = ex.orphans_removed
                corpus = _Corpus(self.config, ex.scratch)
                distinct = DistinctTexts()
                try:
                    for n_batches, batch in enumerate(ex.map("sign", self._record_batches(docs, report)), 1):
                        for skipped in batch.skipped:
                            report.skip(skipped)
                        corpus.add(batch)
                        report.documents_scanned = len(corpus.ids)
                        pipeline.count_texts(self.document_frequency, distinct, batch)
                        if n_batches % 64 == 0:
                            release_memory(self.config)
                        if progress:
                            progress("read", report.documents_read)
                    ex.share(self.document_frequency)
                    yield from self._find_pairs(corpus, report, progress, ex)
                finally:
                    corpus.release_index()
        except KeyboardInterrupt:
            report.interrupted = True
        except WorkerDied:
            report.interrupted = True
            raise
        finally:
            report.seconds = time.perf_counter() - started

    def _record_batches(self, docs, report: ScanReport) -> Iterator[list[pipeline.Record]]:
        """Batches of (id, text, published) records; invalid records and repeated ids are skipped here."""
        seen: set[str] = set()
        pending: list[pipeline.Record] = []
        for item in docs:
            report.documents_read += 1
            record = pipeline.admit(item, seen.__contains__, report)
            if isinstance(record, Skipped):
                report.skip(record)
                continue
            seen.add(record[0])
            pending.append(record)
            if len(pending) >= self.config.batch_size:
                yield pending
                pending = []
        if pending:
            yield pending

    def _find_pairs(self, corpus: _Corpus, report: ScanReport, progress: Progress | None,
                    ex: Executor) -> Iterator[Match]:
        cfg = self.config
        n = len(corpus.ids)
        if n < 2:
            return
        # canonical order (by id) so that results do not depend on input order; stores stay in
        # arrival order and ``order`` maps a canonical position to its place there
        order = corpus.ids.canonical_order()
        fingerprints = np.concatenate(corpus.fingerprints)[order]
        published = np.concatenate(corpus.published)[order]
        corpus.fingerprints, corpus.published = [], []  # let go once gathered: memory at a million docs

        if cfg.detect_rewrites:
            for part in ex.map("rare_stems", corpus.stems):
                corpus.add_rare(*part)
        corpus.stems = []

        # exact copies: only the first member of each group is indexed; its candidates are
        # then shared with the other members, which are linked to it as exact pairs
        _, first, group = np.unique(fingerprints, return_index=True, return_inverse=True)
        representative = first[group]
        del first, group
        is_rep = representative == np.arange(n)
        exact = np.stack((representative[~is_rep], np.flatnonzero(~is_rep)), axis=1)
        # bands are judged in the workers: each channel's pairs are sharpened by its sketch estimate
        # as each band yields them; sketches and counts reach the workers as files, in canonical order
        copy_path = _save(ex.scratch, "copy", corpus.copy_sketches.read(), order)
        corpus.copy_sketches.close()  # from here on only the file's copy, which every process maps
        order_path = os.path.join(ex.scratch, "order.npy")
        np.save(order_path, order)
        shared_files = [copy_path, order_path]  # removed once the candidates are known
        if cfg.detect_rewrites:
            rare_path = _save(ex.scratch, "rare", corpus.rare_sketches.read(), order)
            corpus.rare_sketches.close()
            counts_path = _save(ex.scratch, "counts", np.concatenate(corpus.rare_counts), order)
            shared_files += [rare_path, counts_path]
            rewrite_valid = is_rep & pipeline.in_rewrite_index(cfg, np.concatenate(corpus.content_words)[order])
        corpus.rare_counts, corpus.content_words = [], []
        release_memory(cfg)  # out of core, the sketch files need the room in the page cache

        channels = [_Channel("copy", corpus.copy_keys, corpus.copy_bands[0], is_rep, copy_path, None, cfg.num_perm)]
        if cfg.detect_rewrites:
            channels.append(_Channel("rewrite", corpus.rare_keys, corpus.rare_bands[0], rewrite_valid, rare_path,
                                     counts_path, cfg.rewrite_num_perm))
        # a task takes one band of a large corpus (out of core, workers read it), several of a
        # small one, whose bands would each cost less than sending them
        per_task = max(1, _KEYS_PER_BAND_TASK // n)

        def tasks() -> Iterator[pipeline.BandTask]:
            for channel in channels:
                for lo in range(0, channel.bands, per_task):
                    bands = range(lo, min(lo + per_task, channel.bands))
                    yield pipeline.BandTask(tuple(map(channel.keys.band, bands)), order_path, channel.valid,
                                            channel.name, channel.sketches, channel.rare_counts, known_path)

        found, pending, known_path, known_size = np.zeros((0, 2), np.int64), [], None, 0
        if cfg.out_of_core:  # bands come unjudged; their pairs are judged by cells of rows once all are read
            cells = _CellSpill(ex.scratch, n)
            channel_of_task = [channel for channel in channels for _ in range(0, channel.bands, per_task)]
            for channel, band_pairs in zip(channel_of_task, ex.map("band", tasks())):
                cells.add(channel, band_pairs)
            pending = list(ex.map("judge_cell", cells.tasks()))
            cells.remove()
        else:
            # a similar pair meets in many bands: merge as they come, once the new pairs outnumber the
            # merged ones (bounded memory, linear total work). Bands submitted after a merge leave out
            # the pairs found so far, unjudged: a verdict does not depend on the band, and every found
            # pair is judged by both channels at the end. Their file is written anew when they have
            # grown by a quarter; tasks in flight may still read the older ones, removed at the end.
            for band_pairs in ex.map("band", tasks()):
                pending.append(band_pairs)
                if sum(map(len, pending)) > max(len(found), 1 << 16):
                    found, pending = unique_pairs(np.concatenate([found, *pending])), []
                    if len(found) >= 1.25 * known_size:
                        known_path, known_size = os.path.join(ex.scratch, f"known-{len(shared_files)}.npy"), len(found)
                        np.save(known_path, found[:, 0] * np.int64(n) + found[:, 1])  # sorted, as found is
                        shared_files.append(known_path)
        found = unique_pairs(np.concatenate([found, *pending]))
        pairs = unique_pairs(np.concatenate([exact, _expand_groups(found, representative)]))
        if progress:
            progress("candidates", len(pairs))
        try_rewrite = np.zeros(len(pairs), bool)
        if cfg.detect_rewrites:
            try_rewrite = pipeline.is_candidate(cfg, "rewrite", pipeline.sketches_of(cfg, rare_path),
                                                np.load(counts_path), pairs)
        keep = ((fingerprints[pairs[:, 0]] == fingerprints[pairs[:, 1]]) | try_rewrite
                | pipeline.is_candidate(cfg, "copy", pipeline.sketches_of(cfg, copy_path), None, pairs))
        for path in shared_files:
            os.remove(path)
        pairs, try_rewrite = pairs[keep], try_rewrite[keep]
        report.candidates = len(pairs)
        corpus.release_index()
        release_memory(cfg)

        # chunks small enough that every worker gets several (balance), large enough that a text
        # shared by pairs of a chunk is prepared once; out of core, small: a chunk's prepared texts
        # and alignment arrays are the scan's largest transient memory (~0.13 MB per pair)
        chunk = int(np.clip(len(pairs) // (4 * ex.workers), 256, 512 if cfg.out_of_core else 2048))

        def tasks() -> Iterator[pipeline.VerifyTask]:
            for lo in range(0, len(pairs), chunk):
                part = pairs[lo : lo + chunk]
                needed = unique(part.ravel()).tolist()
                yield pipeline.VerifyTask(
                    pairs=[(i, j, r) for (i, j), r in zip(part.tolist(), try_rewrite[lo : lo + chunk].tolist())],
                    ids=dict(zip(needed, corpus.ids.get(order[needed]))),
                    texts=corpus.texts.locate(order[needed]),
                    published=dict(zip(needed, published[needed].tolist())),
                )

        done = 0
        for results in ex.map("verify", tasks()):
            for item in results:
                if isinstance(item, Skipped):
                    report.skip(item)
                    continue
                report.pairs[item.relation] = report.pairs.get(item.relation, 0) + 1
                yield item
            done += chunk
            if progress:
                progress("verified", min(done, len(pairs)))


class _Channel(NamedTuple):
    """One LSH channel of a scan: its band keys, the rows it indexes, and its sketch file (and
    rare-stem count file), whose rows are ``width`` bytes."""

    name: str  # "copy" or "rewrite"
    keys: BandKeyStore
    bands: int
    valid: np.ndarray
    sketches: str
    rare_counts: str | None
    width: int


class _CellSpill:
    """Out of core, unjudged band pairs in one file per channel and cell: the pairs whose first and
    second rows fall in two given blocks of rows, about ``_CELL_BLOCK_BYTES`` of sketches each."""

    def __init__(self, directory: str, n: int):
        self.directory, self.n = directory, n
        self.channels: dict[str, _Channel] = {}
        self.files: dict[tuple[str, int], str] = {}  # (channel, cell) -> path

    def _block(self, channel: _Channel) -> int:
        return max(1, _CELL_BLOCK_BYTES // channel.width)

    def add(self, channel: _Channel, pairs: np.ndarray) -> None:
        self.channels[channel.name] = channel
        block = self._block(channel)
        cell = (pairs[:, 0] // block) * (self.n // block + 1) + pairs[:, 1] // block
        order = np.argsort(cell, kind="stable")
        cell, codes = cell[order], pairs[order, 0] * np.int64(self.n) + pairs[order, 1]
        starts = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1]))) if len(cell) else cell
        for lo, hi in zip(starts.tolist(), np.append(starts[1:], len(cell)).tolist()):
            key = (channel.name, int(cell[lo]))
            path = self.files.setdefault(key, os.path.join(self.directory, f"cell-{key[0]}-{key[1]}.bin"))
            with open(path, "ab") as f:
                f.write(codes[lo:hi].tobytes())

    def tasks(self) -> Iterator[pipeline.CellTask]:
        for (name, cell), path in sorted(self.files.items()):
            channel = self.channels[name]
            block = self._block(channel)
            first, second = divmod(cell, self.n // block + 1)
            rows = tuple((b * block, min(self.n, (b + 1) * block)) for b in (first, second))
            yield pipeline.CellTask(name, channel.sketches, channel.rare_counts, path, self.n, rows)

    def remove(self) -> None:
        for path in self.files.values():
            os.remove(path)
        self.files = {}


def _save(directory: str, name: str, array: np.ndarray, order: np.ndarray) -> str:
    """Save ``array[order]`` as a .npy file, a slice at a time: no second copy of the array in memory."""
    path = os.path.join(directory, name + ".npy")
    save_npy(path, array.dtype, (len(order), *array.shape[1:]),
             (array[order[lo : lo + (1 << 16)]] for lo in range(0, len(order), 1 << 16)))
    return path


def _sentence_frequency(docs) -> DocumentFrequency:
    """Document frequencies with each sentence of the given prepared documents as a document."""
    df = DocumentFrequency(bits=16)
    for doc in docs:
        tokens = doc.tokens
        sentence, stems = tokens.sentence[tokens.content], tokens.stem[tokens.content]
        offsets = np.searchsorted(sentence, np.arange(tokens.n_sentences + 1))
        df.add(offsets, stems)
    return df


def _expand_groups(pairs: np.ndarray, representative: np.ndarray) -> np.ndarray:
    """Candidate pairs of representatives, extended to every member of their exact-copy groups."""
    is_copy = representative != np.arange(len(representative))
    if not is_copy.any() or not len(pairs):
        return pairs
    members: dict[int, list[int]] = {}
    for doc in np.flatnonzero(is_copy).tolist():
        members.setdefault(int(representative[doc]), [int(representative[doc])]).append(doc)
    has_group = np.zeros(len(representative), bool)
    has_group[list(members)] = True
    out = [pairs]
    for i, j in pairs[has_group[pairs[:, 0]] | has_group[pairs[:, 1]]].tolist():
        out.append(np.array([(x, y) for x in members.get(i, [i]) for y in members.get(j, [j])], np.int64))
    return np.sort(np.concatenate(out), axis=1)
