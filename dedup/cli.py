"""Command line: a thin layer over :class:`dedup.Detector`.

    dedup scan PATH [PATH ...] [--output FILE] [--clusters FILE] [--drop FILE]
    dedup stream PATH [PATH ...] [--weights-from PATH] [--index FILE]
    dedup compare A B [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import os
import pickle
import queue
import shutil
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import orjson

from dedup.config import DedupConfig
from dedup.cluster import redundant
from dedup.detector import Detector
from dedup.io import DEFAULT_DATE_FIELDS, RecordFields, read_paths, read_text_file
from dedup.normalize import BinaryInputError
from dedup.parallel import WorkerDied, keep_freed_buffers, resolve_workers
from dedup.quotes import is_shared_quotation
from dedup.stream import StreamIndex
from dedup.types import RELATIONS, Document, Match, ScanReport, Skipped


def _config_args(parser: argparse.ArgumentParser) -> None:
    d = DedupConfig()
    g = parser.add_argument_group("detection settings (defaults are tuned for news)")
    g.add_argument("--shingle-kind", choices=("word", "char"), default=d.shingle_kind)
    g.add_argument("--shingle-size", type=int, default=d.shingle_size)
    g.add_argument("--num-perm", type=int, default=d.num_perm)
    g.add_argument("--lsh-threshold", type=float, default=d.lsh_threshold)
    g.add_argument("--near-duplicate-jaccard", type=float, default=d.near_duplicate_jaccard)
    g.add_argument("--partial-containment", type=float, default=d.partial_containment)
    g.add_argument("--rewrite-score", type=float, default=d.rewrite_score)
    g.add_argument("--no-rewrites", action="store_true", help="copies only: skip rewrite detection")
    g.add_argument("--seed", type=int, default=d.seed)
    g.add_argument("--workers", type=int, default=0, help="processes (default 0: one per core); same output for any")
    g.add_argument("--out-of-core", action="store_true",
                   help="keep signatures and LSH band keys in temporary files (corpora larger than memory)")
    g.add_argument("--temp-dir", help="directory for temporary files (default: the system's)")


def _config(args: argparse.Namespace) -> DedupConfig:
    return DedupConfig(
        shingle_kind=args.shingle_kind, shingle_size=args.shingle_size, num_perm=args.num_perm,
        lsh_threshold=args.lsh_threshold, near_duplicate_jaccard=args.near_duplicate_jaccard,
        partial_containment=args.partial_containment, rewrite_score=args.rewrite_score,
        detect_rewrites=not args.no_rewrites, seed=args.seed, workers=args.workers,
        out_of_core=args.out_of_core, temp_dir=args.temp_dir,
    )


class _Progress:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, stage: str, count: int) -> None:
        now = time.monotonic()
        if self.enabled and now - self.last > 0.2:
            self.last = now
            sys.stderr.write(f"\r\x1b[K{stage}: {count:,}")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")


def cmd_scan(args: argparse.Namespace) -> int:
    # SIGTERM (a scheduler, timeout) ends the scan as Ctrl-C does: the pairs found so far are
    # written out whole, the summary printed and the temporary files removed
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    if resolve_workers(args.workers) == 1:
        keep_freed_buffers()  # this process signs every batch itself (with more, workers do and set it)
    try:
        return _write_scan(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _relations(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    if not names or any(name not in RELATIONS for name in names):
        raise argparse.ArgumentTypeError(f"{value!r}: relations are {', '.join(RELATIONS)}")
    return names


def _write_scan(args: argparse.Namespace) -> int:
    det = Detector(_config(args).replace(max_evidence=args.examples))  # the rest is not written
    docs = _read(args.paths, args)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    progress = _Progress()
    scan = det.scan(docs, progress=progress)
    linked: list[Match] = []  # for --clusters and --drop, kept without their evidence
    flushed = time.monotonic()
    failure = None
    try:
        for match in scan:
            if args.clusters or args.drop:
                linked.append(dataclasses.replace(match, evidence=()))
            out.write(orjson.dumps(match.to_dict(args.examples)).decode() + "\n")
            if time.monotonic() - flushed > 1.0:  # what is found reaches the file within a second
                out.flush()
                flushed = time.monotonic()
    except WorkerDied as e:
        failure = f"dedup scan: {e}; the pairs written so far stand"
    except BrokenPipeError:
        raise
    except OSError as e:  # the disk of the temporary files is full, or cannot be written
        where = f" ({e.filename})" if e.filename else ""
        hint = "; --temp-dir puts the temporary files on another disk" if e.errno == errno.ENOSPC else ""
        failure = f"dedup scan: {e.strerror or e}{where}; the pairs written so far stand{hint}"
    finally:
        progress.done()
        if args.output:
            out.close()
        if args.clusters:
            with open(args.clusters, "w", encoding="utf-8") as f:
                for c in det.cluster(linked):
                    f.write(orjson.dumps({"members": list(c.members), "source": c.source}).decode() + "\n")
        if args.drop:
            dropped = redundant(linked, args.drop_relations)
            with open(args.drop, "w", encoding="utf-8") as f:
                f.writelines(doc_id + "\n" for doc_id in dropped)
            print(f"{len(dropped)} ids to leave out ({', '.join(args.drop_relations)} copies) written to {args.drop}",
                  file=sys.stderr)
        _print_summary(scan.report, args.show_skipped)
    if failure:
        print(failure, file=sys.stderr)
        return 1
    return 130 if scan.report.interrupted else 0


def _print_summary(report: ScanReport, show_skipped: int) -> None:
    print(report.summary(), file=sys.stderr)
    for skipped in report.skipped_examples[:show_skipped]:
        print(f"  skipped {skipped.id}: {skipped.reason} {skipped.detail}".rstrip(), file=sys.stderr)


def _read(paths: list[str], args: argparse.Namespace):
    default = RecordFields()
    fields = RecordFields(tuple(args.id_field or default.id), tuple(args.text_field or default.text),
                          tuple(args.date_field or default.date), args.url_field, args.title_field)
    return read_paths(paths, fields)


def cmd_stream(args: argparse.Namespace) -> int:
    # Ctrl-C and SIGTERM end the run between batches, never inside one: each batch's documents are
    # added and its pairs written together, so that a saved index has no document without its pairs
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _write_stream(args, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _write_stream(args: argparse.Namespace, stop: threading.Event) -> int:
    det = Detector(_config(args))
    if args.index and os.path.exists(args.index):
        if args.weights_from:
            raise SystemExit(f"dedup stream: {args.index} has its weights; --weights-from is for a new index")
        try:
            index = StreamIndex.load(args.index)
        except (OSError, ValueError, EOFError, pickle.UnpicklingError) as e:
            raise SystemExit(f"dedup stream: cannot load {args.index}: {e}")
        index.report = ScanReport()  # this run's counts
    else:
        if args.weights_from:
            det.fit(doc for doc in _read(args.weights_from, args) if isinstance(doc, Document))
        index = det.stream()
    report = index.report
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        for batch in _as_they_come(_read(args.paths, args), det.config.batch_size, stop):
            for match in index.add_many(batch):  # records the reader refused are counted there
                out.write(orjson.dumps(match.to_dict(args.examples)).decode() + "\n")
            out.flush()
        report.interrupted = stop.is_set()
        if args.index:
            index.save(args.index)  # what was added, also when stopped
    finally:
        if args.output:
            out.close()
        _print_summary(report, args.show_skipped)
    return 130 if report.interrupted else 0


def _as_they_come(items, max_batch: int, stop: threading.Event | None = None):
    """Batches of what ``items`` has produced so far: everything read while the last batch was
    checked, at most ``max_batch``, at least one. A file is read in full batches; a feed that
    trickles in is checked a document at a time, as soon as each arrives. Ends early once
    ``stop`` is set (checked while waiting, at least every 0.2 s)."""
    arrived: queue.Queue = queue.Queue(maxsize=4 * max_batch)
    done = object()

    def read():
        try:
            for item in items:
                arrived.put(item)
        except BaseException as e:  # raised again in the main thread
            arrived.put(e)
        arrived.put(done)

    threading.Thread(target=read, daemon=True).start()
    while True:
        while True:
            if stop is not None and stop.is_set():
                return
            try:
                batch = [arrived.get(timeout=0.2)]
                break
            except queue.Empty:
                continue
        while len(batch) < max_batch and batch[-1] is not done and not isinstance(batch[-1], BaseException) \
                and not arrived.empty():
            batch.append(arrived.get())
        last = batch[-1]
        if last is done or isinstance(last, BaseException):
            batch.pop()
        if batch:
            yield batch
        if isinstance(last, BaseException):
            raise last
        if last is done:
            return


def _read_for_compare(path: str) -> Document:
    doc = read_text_file(Path(path), path)
    if isinstance(doc, Skipped):
        raise SystemExit(f"dedup compare: cannot read {path}: {doc.reason} ({doc.detail})")
    return doc


def cmd_compare(args: argparse.Namespace) -> int:
    det = Detector(_config(args))
    try:
        a, b = _read_for_compare(args.a), _read_for_compare(args.b)  # HTML pages carry their dates
        match = det.compare(a.text, b.text, a.published, b.published, ids=("a", "b"))
    except BinaryInputError as e:
        raise SystemExit(f"dedup compare: {e}")
    if args.json:
        print(orjson.dumps(match.to_dict()).decode())
    else:
        print(render_verdict(match, args.a, args.b))
    return 0


def render_verdict(match: Match, name_a: str, name_b: str) -> str:
    s = match.scores
    names = {"a": name_a, "b": name_b}
    if match.relation is None:
        verdict = "unrelated (no copy or rewrite found)"
    else:
        verdict = match.relation.replace("_", " ")
        if match.source:
            derived = "b" if match.source == "a" else "a"
            verdict += f": {names[derived]} was derived from {names[match.source]} (by {match.direction_basis})"
        else:
            verdict += ": direction unknown"
    lines = [
        f"a: {name_a}", f"b: {name_b}", f"verdict: {verdict}", f"similarity: {match.similarity:.3f}",
        f"shingle jaccard {s.jaccard:.3f}, containment a in b {s.containment_a:.3f}, b in a {s.containment_b:.3f}; "
        f"aligned sentences {s.aligned_sentences}, coverage a {s.alignment_a:.3f}, b {s.alignment_b:.3f}",
    ]
    if match.evidence:
        width = max(30, (shutil.get_terminal_size((100, 20)).columns - 10) // 2)
        lines += ["", "corresponding sentences (a | b):"]
        for p in match.evidence:
            left = textwrap.wrap(p.a_text, width) or [""]
            right = textwrap.wrap(p.b_text, width) or [""]
            quotation = "  (both quotation: no evidence of rewriting)" if is_shared_quotation(p.a_text, p.b_text) else ""
            lines.append(f"- a#{p.a_index} ~ b#{p.b_index}  similarity {p.similarity:.2f}{quotation}")
            for k in range(max(len(left), len(right))):
                l = left[k] if k < len(left) else ""
                r = right[k] if k < len(right) else ""
                lines.append(f"  {l:<{width}} | {r}")
    return "\n".join(lines)


def _input_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", help="directories of text, JSON and JSON Lines files, .jsonl / .jsonl.gz / "
                                                 ".json files, or - for JSON Lines on stdin")
    parser.add_argument("-o", "--output", help="write pairs here instead of stdout")
    parser.add_argument("--id-field", action="append", default=None,
                        help="JSON field with a record's id (repeatable; default: the first present of id, url)")
    parser.add_argument("--text-field", action="append", default=None,
                        help="JSON field with a record's text (repeatable; default: the first present of text, "
                             "maintext, content, body)")
    parser.add_argument("--date-field", action="append", default=None,
                        help="JSONL field with the publication date (repeatable; default: the first present of "
                             + ", ".join(DEFAULT_DATE_FIELDS) + ")")
    parser.add_argument("--url-field", default="url")
    parser.add_argument("--title-field", help="JSONL field with a headline kept apart from the text: made its first line")
    parser.add_argument("--show-skipped", type=int, default=10, help="list this many skipped records on stderr")
    parser.add_argument("--examples", type=int, default=3, metavar="N",
                        help="aligned sentence pairs a pair's line shows (default 3; dedup compare shows all)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dedup", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    scan = sub.add_parser("scan", help="find related pairs in a corpus; JSON Lines out")
    _input_args(scan)
    scan.add_argument("--clusters", help="write clusters (JSON Lines) to this file")
    scan.add_argument("--drop", metavar="FILE", help="write the ids a deduplicated corpus leaves out, one a line: "
                                                     "all of each cluster of copies but its source (or first id)")
    scan.add_argument("--drop-relations", default="exact,near_duplicate", type=_relations, metavar="R[,R...]",
                      help="the pairs that make copies for --drop (default: exact,near_duplicate)")
    _config_args(scan)
    scan.set_defaults(func=cmd_scan)

    stream = sub.add_parser("stream", help="check documents as they arrive against the earlier ones; JSON Lines "
                                           "out, each pair as soon as found")
    _input_args(stream)
    stream.add_argument("--weights-from", action="append", metavar="PATH",
                        help="learn word weights from this corpus first, as a scan of it would (repeatable; "
                             "default: from the documents as they arrive)")
    stream.add_argument("--index", metavar="FILE",
                        help="keep the index in this file: loaded if it exists (with its own settings and "
                             "weights), saved when the run ends, so that the next run goes on from there")
    _config_args(stream)
    stream.set_defaults(func=cmd_stream)

    compare = sub.add_parser("compare", help="explain how two text files relate")
    compare.add_argument("a")
    compare.add_argument("b")
    compare.add_argument("--json", action="store_true", help="one JSON object, as a scan line")
    _config_args(compare)
    compare.set_defaults(func=cmd_compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
