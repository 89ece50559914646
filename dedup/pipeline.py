"""The scan's batch steps, as pure functions of the config and their inputs.

Each runs in the main process or in a worker with the same result, which is
what makes a scan's output independent of the number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import numpy as np

from dedup.arrays import unique
from dedup.config import DedupConfig
from dedup.frequency import DistinctTexts, DocumentFrequency, first_copies, tally
from dedup.hashing import cache_powers
from dedup.index import band_keys, optimal_bands, pairs_from_bands
from dedup.io import parse_date
from dedup.normalize import BinaryInputError, check_not_binary, clean_text, decode_bytes
from dedup.relate import copied_sentences, may_be_rewrite, relate
from dedup.shingle import content_stems
from dedup.sign import jaccard_from_low_bytes, low_bytes, sign
from dedup.store import BandSlice, SegmentSlice, Spool, TextSlice, band_keys_of, map_for_random_rows
from dedup.tokenize import token_hashes
from dedup.types import Match, ScanReport, Skipped, as_document
from dedup.verify import align_docs, can_be_rewrite, copy_overlap, fingerprints, is_copy, prepare, scores_of, shingle_batch, shingles

Record = tuple[str, "str | bytes", "datetime | None"]


@dataclass
class SignedBatch:
    """Pass 1 output for a batch of records: what the scan keeps of each document it accepts.
    Clean texts and distinct content stems stay in the spool files of the process that made them."""

    ids: list[str] = field(default_factory=list)
    texts: TextSlice | None = None  # clean texts
    published: list[datetime | None] = field(default_factory=list)
    fingerprints: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    copy_sketches: np.ndarray | None = None  # low bytes of the copy signatures, for estimates
    copy_keys: np.ndarray | None = None  # LSH band keys of the copy signatures
    content_words: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    stems: SegmentSlice | None = None  # distinct content stems per doc
    stem_tally: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: tally(np.zeros(0, np.uint64)))
    skipped: list[Skipped] = field(default_factory=list)


def copy_bands(cfg: DedupConfig) -> tuple[int, int]:
    """(bands, rows) of the copy channel's LSH."""
    return optimal_bands(cfg.lsh_threshold, cfg.num_perm, cfg.lsh_weights)


def rewrite_bands(cfg: DedupConfig) -> tuple[int, int]:
    """(bands, rows) of the rewrite channel's LSH."""
    return optimal_bands(cfg.rewrite_lsh_threshold, cfg.rewrite_num_perm, cfg.lsh_weights)


def admit(item, is_seen: Callable[[str], bool], report: ScanReport) -> Record | Skipped:
    """An input item (a Document, a tuple or dict, or a reader's Skipped) as a (id, text, published)
    record, or why it is skipped: passed on by a reader, not a document, an id already seen. A date
    given but unreadable is counted in ``report``."""
    if isinstance(item, Skipped):
        return item
    try:
        doc = as_document(item)
    except (TypeError, ValueError) as e:
        return Skipped(repr(item)[:80], "invalid_record", str(e))
    if is_seen(doc.id):
        return Skipped(doc.id, "duplicate_id", "an earlier document has this id")
    published = parse_date(doc.published)
    if published is None and doc.published not in (None, ""):
        report.unreadable_dates += 1
    return doc.id, doc.text, published


def accept_record(cfg: DedupConfig, record: Record) -> tuple[str, str, datetime | None] | Skipped:
    """The record with its text decoded and cleaned, or why it is skipped."""
    doc_id, text, published = record
    try:
        if isinstance(text, bytes):
            text = decode_bytes(text)
        if not isinstance(text, str):
            return Skipped(doc_id, "invalid_record", f"text is {type(text).__name__}, not str")
        if len(text) > cfg.max_doc_chars:
            return Skipped(doc_id, "too_large", f"{len(text)} characters > max_doc_chars")
        check_not_binary(text)
    except BinaryInputError as e:
        return Skipped(doc_id, "binary", str(e))
    return doc_id, clean_text(text), published


def too_short(cfg: DedupConfig, doc_id: str, n_tokens: int) -> Skipped | None:
    """Why a cleaned text of ``n_tokens`` words is skipped, if it is."""
    if n_tokens == 0:
        return Skipped(doc_id, "empty", "no words after cleaning")
    if n_tokens < cfg.min_tokens:
        return Skipped(doc_id, "too_short", f"{n_tokens} words < min_tokens")
    return None


@dataclass
class SignedTexts:
    """What signing gives for a batch of accepted records: those long enough to keep (``kept``,
    positions in the batch) with their fingerprints, copy sketches and band keys, content words
    and distinct content stems; and the others as skips."""

    kept: np.ndarray
    skipped: list[Skipped]
    fingerprints: np.ndarray
    copy_sketches: np.ndarray
    copy_keys: np.ndarray
    content_words: np.ndarray
    stem_offsets: np.ndarray
    stems: np.ndarray


def sign_texts(cfg: DedupConfig, accepted: list[tuple[str, str, datetime | None]]) -> SignedTexts:
    """Tokenize, shingle and sign the clean texts of accepted records (:func:`accept_record`)."""
    bands, rows = copy_bands(cfg)
    if not accepted:
        return SignedTexts(np.zeros(0, np.int64), [], np.zeros(0, np.uint64), np.zeros((0, cfg.num_perm), np.uint8),
                           np.zeros((0, bands), np.uint64), np.zeros(0, np.int64), np.zeros(1, np.int64),
                           np.zeros(0, np.uint64))
    batch, offsets, shingles = shingle_batch([text for _, text, _ in accepted], cfg, detail=False)
    token_counts = np.diff(batch.offsets)
    skipped = [s for (doc_id, _, _), n in zip(accepted, token_counts.tolist())
               if (s := too_short(cfg, doc_id, n)) is not None]
    kept = np.flatnonzero(token_counts >= max(cfg.min_tokens, 1))
    signatures = sign(offsets, shingles, cfg.num_perm, cfg.seed)[kept]
    stem_offsets, stems = content_stems(batch)
    content_words = np.diff(stem_offsets)[kept]
    stem_offsets, stems = distinct_per_segment(stem_offsets, stems, kept)
    return SignedTexts(kept, skipped, fingerprints(batch.hash, batch.offsets)[kept], low_bytes(signatures),
                       band_keys(signatures, bands, rows), content_words, stem_offsets, stems)


def sign_records(cfg: DedupConfig, records: list[Record], spool: Spool) -> SignedBatch:
    """Pass 1: check, clean, tokenize, shingle and sign a batch of records."""
    out = SignedBatch()
    accepted = []
    for record in records:
        checked = accept_record(cfg, record)
        (out.skipped.append if isinstance(checked, Skipped) else accepted.append)(checked)
    signed = sign_texts(cfg, accepted)
    out.skipped += signed.skipped
    out.ids = [accepted[i][0] for i in signed.kept]
    out.texts = spool.write_texts([accepted[i][1] for i in signed.kept])
    out.published = [accepted[i][2] for i in signed.kept]
    out.fingerprints, out.copy_sketches, out.copy_keys = signed.fingerprints, signed.copy_sketches, signed.copy_keys
    out.content_words = signed.content_words
    out.stems = spool.write_segments(signed.stem_offsets, signed.stems)
    out.stem_tally = tally_of(signed.stem_offsets, signed.stems, first_copies(signed.fingerprints))
    return out


def tally_of(offsets: np.ndarray, stems: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The document-frequency :func:`~dedup.frequency.tally` of the documents ``rows`` of
    (offsets, stems) segments."""
    return tally(distinct_per_segment(offsets, stems, rows)[1])


def count_texts(df: DocumentFrequency, distinct: DistinctTexts, batch: SignedBatch) -> None:
    """Add a pass-1 batch's stem tally (of its first copies) to the document frequencies, less the
    texts an earlier batch already counted."""
    in_batch = first_copies(batch.fingerprints)
    counted = np.setdiff1d(in_batch, distinct.first(batch.fingerprints))  # copies of earlier batches' texts
    df.add_tally(*batch.stem_tally, len(in_batch))
    if len(counted):
        slots, counts = tally_of(*batch.stems.read(), counted)
        df.add_tally(slots, -counts, -len(counted))


def warm_up(cfg: DedupConfig) -> None:
    """Build the tables the steps use (tokenizer classes, hash powers for a batch of news-sized
    texts, probe and first-hit tables) before worker processes are forked, so that they share them."""
    copy_signatures(cfg, ["Tables are built once. " * 8])
    sign(np.array([0, 1]), np.zeros(1, np.uint64), cfg.rewrite_num_perm, cfg.seed)  # a sparse row
    cache_powers(cfg.batch_size * 4096)


def copy_signatures(cfg: DedupConfig, texts: list[str]) -> np.ndarray:
    """Copy-channel MinHash signatures of clean texts: the least work from text to signature."""
    offsets, hashes = shingles(texts, *token_hashes(texts), cfg)
    return sign(offsets, hashes, cfg.num_perm, cfg.seed)


def distinct_per_segment(offsets: np.ndarray, values: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (< 2**40) of the segments ``rows``, sorted, as (offsets, values)."""
    n_segments = len(offsets) - 1
    segment = np.repeat(np.arange(n_segments, dtype=np.uint64), np.diff(offsets))
    keys = (segment << np.uint64(40)) | values
    if len(rows) < n_segments:
        wanted = np.zeros(n_segments, bool)
        wanted[rows] = True
        keys = keys[wanted[segment]]
    keys = unique(keys, kind="stable")  # one sort, no argsort; keys come grouped by segment
    counts = np.bincount((keys >> np.uint64(40)).astype(np.intp), minlength=n_segments)[rows]
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64), keys & np.uint64((1 << 40) - 1)


def rare_stem_index(cfg: DedupConfig, df: DocumentFrequency, offsets: np.ndarray,
                    stems: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pass 2, once document frequencies are known: the rewrite channel's (low-byte sketches, LSH
    band keys, number of rare stems) of each document, from signatures of its rarer content stems.

    Rewrites keep names, numbers and specific terms while changing the wording around them;
    leaving out the corpus's common words keeps same-topic documents from all becoming candidates.
    """
    rare = df.rare(stems, cfg.rare_stem_max_df(df.n_docs))
    kept_before = np.concatenate(([0], np.cumsum(rare)))
    signatures = sign(kept_before[offsets], stems[rare], cfg.rewrite_num_perm, cfg.seed)
    return low_bytes(signatures), band_keys(signatures, *rewrite_bands(cfg)), np.diff(kept_before[offsets])


@dataclass(frozen=True)
class BandTask:
    """LSH bands of one channel, to be turned into candidates wherever they run. Keys come in
    arrival order (in memory, or where to read them out of core) with ``order``, a .npy file of the
    arrival position of each canonical one; everything else is in canonical order: ``valid``, and
    the channel's sketches (and, for rewrites, rare-stem counts) as .npy files."""

    keys: tuple[np.ndarray | BandSlice, ...]  # (n,) band keys, of each band
    order: str
    valid: np.ndarray  # (n,) bool: rows to index
    channel: str  # "copy" or "rewrite"
    sketches: str
    rare_counts: str | None = None
    known: str | None = None  # .npy of sorted pair codes i * n + j already found: not judged again


def is_candidate(cfg: DedupConfig, channel: str, sketches: np.ndarray | str, rare_counts: np.ndarray | None,
                 pairs: np.ndarray, sketch_pairs: np.ndarray | None = None) -> np.ndarray:
    """Whether each pair's sketch estimate makes it a candidate of the channel. ``sketches`` is the
    channel's sketch matrix or, out of core, its .npy file, mapped afresh for each slice of pairs
    so that only that slice's pages stay resident; ``sketch_pairs`` are the pairs' rows in it when
    it holds only some of the rows (default ``pairs``)."""
    sketch_pairs = pairs if sketch_pairs is None else sketch_pairs
    agreement, width = np.empty(len(pairs)), 1
    for lo in range(0, len(pairs), 4096):  # chunks whose rows stay in cache; take() gathers rows fastest
        rows = map_for_random_rows(sketches) if isinstance(sketches, str) else sketches
        p, width = sketch_pairs[lo : lo + 4096], rows.shape[1]
        agreement[lo : lo + 4096] = (rows.take(p[:, 0], axis=0) == rows.take(p[:, 1], axis=0)).sum(axis=1, dtype=np.int32)
    jaccard = jaccard_from_low_bytes(agreement / width)
    if channel == "copy":
        return jaccard >= cfg.copy_min_estimate
    # a few rare stems, repeated over every slot, make a high Jaccard by chance:
    # also ask for enough of them in common (shared = J * (|A| + |B|) / (1 + J))
    shared = jaccard * rare_counts[pairs].sum(axis=1) / (1 + jaccard)
    return (jaccard >= cfg.rewrite_min_estimate) & (shared >= cfg.rewrite_min_shared_stems)


@dataclass(frozen=True)
class CellTask:
    """Out of core, the band pairs of one channel whose rows fall in two blocks of rows, judged
    together once every band is read: each block's sketch rows are read in order, once, instead of
    every band reading rows all over the sketch file at random."""

    channel: str
    sketches: str
    rare_counts: str | None
    codes: str  # file of int64 pair codes i * n + j, repeats allowed
    n: int
    blocks: tuple[tuple[int, int], tuple[int, int]]  # rows [lo, hi) of the pairs' first and second rows


def judge_cell(cfg: DedupConfig, task: CellTask) -> np.ndarray:
    """The candidate pairs of a cell, (m, 2) canonical positions, sorted."""
    codes = unique(np.fromfile(task.codes, np.int64))
    pairs = np.stack((codes // task.n, codes % task.n), axis=1)
    (i_lo, i_hi), (j_lo, j_hi) = task.blocks
    stored = np.load(task.sketches, mmap_mode="r")
    if (i_lo, i_hi) == (j_lo, j_hi):
        rows, local = np.array(stored[i_lo:i_hi]), pairs - i_lo
    else:
        rows = np.concatenate((stored[i_lo:i_hi], stored[j_lo:j_hi]))
        local = np.stack((pairs[:, 0] - i_lo, pairs[:, 1] - j_lo + (i_hi - i_lo)), axis=1)
    del stored
    counts = np.load(task.rare_counts, mmap_mode="r") if task.rare_counts else None
    return pairs[is_candidate(cfg, task.channel, rows, counts, pairs, local)]


def sketches_of(cfg: DedupConfig, path: str) -> np.ndarray | str:
    """A channel's sketches for is_candidate: the whole file mapped, or out of core its path."""
    return path if cfg.out_of_core else np.load(path, mmap_mode="r")


def band_candidates(cfg: DedupConfig, task: BandTask) -> np.ndarray:
    """Candidate pairs of a task's bands, (m, 2) canonical positions. Out of core they come
    unjudged, to be judged a cell of rows at a time once every band is read (:func:`judge_cell`)."""
    order = np.load(task.order, mmap_mode="r")
    keys = (band_keys_of(band).take(order) for band in task.keys)  # one band in memory at a time
    known = np.load(task.known, mmap_mode="r") if task.known else None
    if cfg.out_of_core:
        return pairs_from_bands(keys, cfg.max_bucket_size, task.valid, known=known)
    sketches = np.load(task.sketches, mmap_mode="r")
    counts = np.load(task.rare_counts, mmap_mode="r") if task.rare_counts else None
    return pairs_from_bands(keys, cfg.max_bucket_size, task.valid,
                            lambda pairs: is_candidate(cfg, task.channel, sketches, counts, pairs), known)


def verify_pairs(cfg: DedupConfig, df: DocumentFrequency, docs, pairs: list[tuple[int, int, bool]],
                 ids, published) -> list[Match]:
    """Exact scores and relation of each pair ``(i, j, try_rewrite)`` of prepared documents;
    ``docs``, ``ids`` and ``published`` are indexed by i and j. Alignment runs, in one batch,
    where it can change the verdict or gives evidence: not for exact copies, nor for pairs that
    are neither copies nor rewrite candidates."""
    weights, distinctive = None, None
    if df.n_docs:
        max_df = cfg.rare_stem_max_df(df.n_docs)
        weights, distinctive = df.idf, (lambda stems: df.rare(stems, max_df))
    overlaps = [copy_overlap(docs[i], docs[j]) for i, j, _ in pairs]
    wanted = [docs[i].fingerprint != docs[j].fingerprint
              and (is_copy(overlap, cfg) or (try_rewrite and can_be_rewrite(docs[i], docs[j], cfg)))
              for (i, j, try_rewrite), overlap in zip(pairs, overlaps)]
    alignments = iter(align_docs(docs, [(i, j) for (i, j, _), w in zip(pairs, wanted) if w], cfg, weights,
                                 distinctive))
    aligned = [next(alignments) if w else None for w in wanted]
    # which aligned sentences are copied, in one batch, where a verdict may ask (a rewrite's evidence)
    asks = [k for k, ((i, j, _), overlap, alignment) in enumerate(zip(pairs, overlaps, aligned))
            if not is_copy(overlap, cfg) and may_be_rewrite(docs[i], docs[j], alignment, cfg)]
    copied = dict(zip(asks, copied_sentences([(docs[pairs[k][0]], docs[pairs[k][1]], aligned[k]) for k in asks],
                                             cfg.shingle_size)))
    return [relate(ids[i], ids[j], docs[i], docs[j], scores_of(overlap, alignment), alignment, cfg,
                   (published[i], published[j]), copied.get(k))
            for k, ((i, j, _), overlap, alignment) in enumerate(zip(pairs, overlaps, aligned))]


@dataclass(frozen=True)
class VerifyTask:
    """A chunk of candidate pairs with what is needed to verify them anywhere."""

    pairs: list[tuple[int, int, bool]]  # (doc, doc, try_rewrite)
    ids: dict[int, str]
    texts: TextSlice  # of the documents in ids, in sorted order of their keys
    published: dict[int, datetime | None]


def prepared_by_key(cfg: DedupConfig, keys: list, texts: list[str]) -> dict:
    """{key: PreparedDoc} of the clean texts (one per key), prepared ``batch_size`` at a time:
    bounded batches bound the tokenizer's memory."""
    prepared = {}
    for lo in range(0, len(keys), cfg.batch_size):
        prepared.update(zip(keys[lo : lo + cfg.batch_size], prepare(texts[lo : lo + cfg.batch_size], cfg)))
    return prepared


def in_rewrite_index(cfg: DedupConfig, content_words: np.ndarray) -> np.ndarray:
    """Which documents the rewrite channel's LSH indexes (with enough content words to be signed by
    their rare stems): a scan's and a stream index's alike."""
    return content_words >= cfg.rare_stem_min_words


def verify_task(cfg: DedupConfig, df: DocumentFrequency, task: VerifyTask) -> list[Match | Skipped]:
    """Related pairs of a chunk (unrelated ones are dropped); a pair that fails is a Skipped."""
    prepared = prepared_by_key(cfg, sorted(task.ids), task.texts.read())
    try:
        matches: list[Match | Skipped] = verify_pairs(cfg, df, prepared, task.pairs, task.ids, task.published)
    except Exception:  # find the pair that fails: one bad pair must not end a long scan
        matches = []
        for pair in task.pairs:
            try:
                matches += verify_pairs(cfg, df, prepared, [pair], task.ids, task.published)
            except Exception as e:
                ids = f"{task.ids[pair[0]]} | {task.ids[pair[1]]}"
                matches.append(Skipped(ids, "verify_error", f"{type(e).__name__}: {e}"))
    return [m for m in matches if isinstance(m, Skipped) or m.relation is not None]
