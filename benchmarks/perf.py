"""Speed and memory, side by side in one run, on one generated corpus.

    python -m benchmarks perf --docs 20000 --repeat 3 [--json out.json]
    python -m benchmarks scaling --sizes 1000 10000 100000 1000000 --out benchmarks/results

``perf``: signatures from raw text (docs/s, MB/s) for dedup (one process, and all cores) against
datasketch ``MinHash`` (default path and ``MinHash.bulk``) and rensa ``RMinHash``, both fed the same
word 5-gram shingles prepared in Python; then LSH build and query against datasketch ``MinHashLSH``.
Figures are medians of ``--repeat`` runs; ratios compare medians from the same run.

``scaling``: ``dedup scan`` of generated corpora of growing size, each in a fresh process: wall time,
time per document, peak memory (PSS summed over the scan's processes, so pages shared between them
count once; and its anonymous part, without file pages the kernel can drop), recall on planted
near-duplicates (Jaccard >= 0.8) and precision. Writes JSON, a Markdown table and a PNG plot.
Sizes that scan in seconds vary by a third between runs on a busy machine; each size is run up to
``--repeat`` times (while its runs total under ``--repeat-within`` seconds) and the median reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import regex

from benchmarks.generate import generate, write_corpus
from dedup import DedupConfig
from dedup.index import candidate_pairs
from dedup.parallel import Executor, keep_freed_buffers, resolve_workers

_WORDS = regex.compile(r"\w+")


def python_shingles(text: str, n: int = 5) -> list[str]:
    """How MinHash pipelines usually shingle: lower-cased regex words joined into 5-grams."""
    words = _WORDS.findall(text.lower())
    return [" ".join(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))]


def _median_rate(fn, n_docs: int, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return n_docs / statistics.median(times), times


def bench_signatures(texts: list[str], repeat: int, workers: int) -> dict:
    cfg = DedupConfig()
    n, megabytes = len(texts), sum(len(t.encode()) for t in texts) / 1e6
    batches = [[(str(i), t, None) for i, t in enumerate(texts[lo : lo + cfg.batch_size], lo)]
               for lo in range(0, n, cfg.batch_size)]
    results: dict[str, dict] = {}

    text_batches = [texts[lo : lo + cfg.batch_size] for lo in range(0, n, cfg.batch_size)]
    keep_freed_buffers()  # as `dedup scan` does in its own process (and in its workers)
    # signatures alone (what datasketch and rensa produce), then the scan's whole first pass, which
    # also checks and keeps each text and computes stems, fingerprints and LSH band keys; each
    # process count in its own pool, started (forked) before the clock and timed apart
    for w in (1, workers):
        started = time.perf_counter()
        with Executor(cfg, workers=w) as ex:
            pool_start = time.perf_counter() - started
            for name, step, items in ((f"dedup signatures ({w} process{'es' * (w > 1)})", "copy_signatures", text_batches),
                                      (f"dedup scan pass 1 ({w} process{'es' * (w > 1)})", "sign", batches)):
                rate, times = _median_rate(lambda: [None for _ in ex.map(step, items)], n, repeat)
                results[name] = {"docs_per_s": rate, "mb_per_s": rate * megabytes / n, "seconds": times,
                                 "pool_start_s": pool_start}
    runs = {}
    try:
        from datasketch import MinHash

        def datasketch_default():
            for t in texts:
                m = MinHash(num_perm=128)
                m.update_batch([s.encode() for s in python_shingles(t)])

        def datasketch_bulk():
            MinHash.bulk([[s.encode() for s in python_shingles(t)] for t in texts], num_perm=128)

        runs["datasketch MinHash (default)"] = datasketch_default
        runs["datasketch MinHash.bulk"] = datasketch_bulk
    except ImportError:
        pass
    try:
        from rensa import RMinHash

        def rensa_from_python():
            for t in texts:
                m = RMinHash(num_perm=128, seed=1)
                m.update(python_shingles(t))
                m.digest()

        runs["rensa RMinHash"] = rensa_from_python
    except ImportError:
        pass
    for name, fn in runs.items():
        rate, times = _median_rate(fn, n, repeat)
        results[name] = {"docs_per_s": rate, "mb_per_s": rate * megabytes / n, "seconds": times}
    base = results["dedup signatures (1 process)"]["docs_per_s"]
    for name, r in results.items():
        r["dedup_1_process_speedup"] = base / r["docs_per_s"]
    return results


def bench_lsh(texts: list[str], repeat: int) -> dict:
    """Index build + query of every document at threshold 0.5, on the same signatures."""
    cfg = DedupConfig()
    with Executor(cfg) as ex:
        signatures = np.concatenate(list(ex.map("copy_signatures", [texts[lo : lo + 512]
                                                                    for lo in range(0, len(texts), 512)])))
    out = {}
    rate, times = _median_rate(lambda: candidate_pairs(signatures, 0.5), len(texts), repeat)
    out["dedup candidate_pairs"] = {"docs_per_s": rate, "seconds": times}
    try:
        from datasketch import LeanMinHash, MinHash, MinHashLSH

        sketches = [LeanMinHash(MinHash(num_perm=128, hashvalues=row.astype(np.uint64), scheme="affine32"))
                    for row in signatures]

        def datasketch_lsh():
            lsh = MinHashLSH(threshold=0.5, num_perm=128)
            for i, m in enumerate(sketches):
                lsh.insert(i, m)
            for m in sketches:
                lsh.query(m)

        rate, times = _median_rate(datasketch_lsh, len(texts), repeat)
        out["datasketch MinHashLSH insert+query"] = {"docs_per_s": rate, "seconds": times}
    except ImportError:
        pass
    return out


def bench_stream(texts: list[str], repeat: int) -> dict:
    """Documents taken in order, each checked against the earlier ones, then indexed: dedup's
    StreamIndex (sign, look up both LSH channels, verify and relate the candidates) one at a time
    and in batches, against the usual loop over datasketch and rensa (MinHash of Python shingles,
    LSH query, insert: candidates only, nothing verified)."""
    from dedup import Detector

    def dedup_one_at_a_time():
        index = Detector().stream()
        for i, t in enumerate(texts):
            index.add(str(i), t)

    def dedup_batches():
        index = Detector().stream()
        for lo in range(0, len(texts), 512):
            index.add_many((str(i), t) for i, t in enumerate(texts[lo : lo + 512], lo))

    runs = {"dedup StreamIndex.add, one at a time (verified)": dedup_one_at_a_time,
            "dedup StreamIndex.add_many, batches of 512 (verified)": dedup_batches}
    try:
        from datasketch import MinHash, MinHashLSH

        def datasketch_stream():
            lsh = MinHashLSH(threshold=0.5, num_perm=128)
            for i, t in enumerate(texts):
                m = MinHash(num_perm=128)
                m.update_batch([s.encode() for s in python_shingles(t)])
                lsh.query(m)
                lsh.insert(i, m)

        runs["datasketch MinHash + MinHashLSH query/insert"] = datasketch_stream
    except ImportError:
        pass
    try:
        from rensa import RMinHash, RMinHashLSH

        def rensa_stream():
            lsh = RMinHashLSH(threshold=0.5, num_perm=128, num_bands=16)
            for i, t in enumerate(texts):
                m = RMinHash(num_perm=128, seed=1)
                m.update(python_shingles(t))
                lsh.query(m)
                lsh.insert(i, m)

        runs["rensa RMinHash + RMinHashLSH query/insert"] = rensa_stream
    except ImportError:
        pass
    out = {}
    for name, fn in runs.items():
        rate, times = _median_rate(fn, len(texts), repeat)
        out[name] = {"docs_per_s": rate, "seconds": times}
    return out


def perf(args) -> dict:
    texts = [record["text"] for record, _ in generate(args.docs, seed=args.seed, words=args.words)]
    workers = resolve_workers(args.workers)
    result = {
        "docs": len(texts), "words_per_doc": args.words, "repeat": args.repeat, "workers": workers,
        "signatures": bench_signatures(texts, args.repeat, workers), "lsh": bench_lsh(texts, args.repeat),
        "stream": bench_stream(texts[: args.stream_docs], args.repeat),
    }
    lines = [f"signatures from raw text, {len(texts):,} docs of ~{args.words} words, median of {args.repeat}:", "",
             "| system | docs/s | MB/s | dedup signatures (1 process) is x faster |", "|---|---|---|---|"]
    for name, r in result["signatures"].items():
        lines.append(f"| {name} | {r['docs_per_s']:,.0f} | {r['mb_per_s']:.1f} | {r['dedup_1_process_speedup']:.2f} |")
    lines += ["", "LSH (threshold 0.5, 128 permutations), build + query every document:", "",
              "| system | docs/s |", "|---|---|"]
    for name, r in result["lsh"].items():
        lines.append(f"| {name} | {r['docs_per_s']:,.0f} |")
    lines += ["", f"documents in order, each checked against the earlier ones then indexed (first {args.stream_docs:,}):",
              "", "| system | docs/s |", "|---|---|"]
    for name, r in result["stream"].items():
        lines.append(f"| {name} | {r['docs_per_s']:,.0f} |")
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


def _planted_scores(pairs_path: Path, labels_path: Path) -> dict:
    """Recall on planted near-duplicates (exact copies and edits at rate <= 3%, Jaccard >= 0.8) and
    precision: reported pairs whose documents share a planted source."""
    from dedup.cluster import UnionFind

    labels = [json.loads(line) for line in labels_path.open()]
    found = set()
    uf = UnionFind()
    for lab in labels:
        uf.union(lab["derived"], lab["source"])
    related = total = 0
    with pairs_path.open() as f:
        for line in f:
            d = json.loads(line)
            found.add((d["a"], d["b"]))
            total += 1
            related += uf.find(d["a"]) == uf.find(d["b"])
    near = [lab for lab in labels if lab["kind"] == "exact" or (lab["kind"] == "near_duplicate" and lab["parameter"] <= 0.03)]
    hit = sum(tuple(sorted((lab["derived"], lab["source"]))) in found for lab in near)
    every = sum(tuple(sorted((lab["derived"], lab["source"]))) in found for lab in labels)
    return {"near_duplicate_recall": hit / max(len(near), 1), "planted_recall": every / max(len(labels), 1),
            "precision": related / max(total, 1), "pairs": total}


def scaling(args) -> dict:
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(args.data or out_dir / "corpora")
    data_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        corpus = data_dir / f"news_{size}_{args.seed}.jsonl"
        labels = corpus.with_name(corpus.name + ".labels.jsonl")
        if not corpus.exists() or not labels.exists():
            write_corpus(corpus, size, args.seed, args.words)
        pairs = out_dir / f"pairs_{size}.jsonl"
        cmd = [sys.executable, "-m", "dedup.cli", "scan", str(corpus), "-o", str(pairs), "--workers", str(args.workers)]
        cmd += args.scan_args
        runs = [_run_measured(cmd, args.memory_limit_mb)]
        while len(runs) < args.repeat and sum(r["wall_s"] for r in runs) < args.repeat_within:
            runs.append(_run_measured(cmd, args.memory_limit_mb))
        row = {"docs": size, **_median_run(runs), **_planted_scores(pairs, labels)}
        row["us_per_doc"] = 1e6 * row["wall_s"] / size
        # the scan's own time, from its summary line: wall time less interpreter start-up and imports
        row["scan_s"] = float(regex.search(r"([0-9.]+)s(?: \(.*\))?$", row["summary"]).group(1))
        row["scan_us_per_doc"] = 1e6 * row["scan_s"] / size
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = {"rows": rows, "command": " ".join(sys.argv), "cpu_count": os.cpu_count()}
    (out_dir / "scaling.json").write_text(json.dumps(result, indent=2))
    table = ["| documents | wall s | µs/doc | scan's own s | its µs/doc | peak memory MB (PSS) | of it anonymous | "
             "near-dup recall | all planted recall | precision |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| {r['docs']:,} | {r['wall_s']:.1f} | {r['us_per_doc']:.0f} | {r['scan_s']:.1f} | "
                     f"{r['scan_us_per_doc']:.0f} | {r['peak_memory_mb']:.0f} | "
                     f"{r['peak_anon_memory_mb']:.0f} | "
                     f"{r['near_duplicate_recall']:.3f} | {r['planted_recall']:.3f} | {r['precision']:.4f} |")
    (out_dir / "scaling.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    _plot(rows, out_dir / "scaling.png")
    return result


def _median_run(runs: list[dict]) -> dict:
    """The run of median wall time, with every run's time and the highest peak memory of all."""
    median = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    peaks = {k: max(r[k] for r in runs) for k in ("peak_memory_mb", "peak_anon_memory_mb")}
    return {**median, **peaks, "runs_wall_s": [r["wall_s"] for r in runs]}


def _memory(p) -> tuple[int, int]:
    """(proportional set size, its anonymous part) in bytes. PSS splits shared pages between the
    processes mapping them; the anonymous part leaves out file pages (mapped sketch files, page
    cache), which the kernel can drop and read again. Where PSS is not reported, RSS twice."""
    import psutil

    try:
        with open(f"/proc/{p.pid}/smaps_rollup") as f:
            fields = dict(line.split(":", 1) for line in f if line.startswith("Pss"))
        kb = {k: int(v.split()[0]) * 1024 for k, v in fields.items()}
        return kb["Pss"], kb.get("Pss_Anon", kb["Pss"]) + kb.get("Pss_Shmem", 0)
    except (OSError, KeyError, ValueError):
        try:
            rss = p.memory_info().rss
        except psutil.Error:
            return 0, 0
        return rss, rss


def _run_measured(cmd: list[str], memory_limit_mb: float | None = None) -> dict:
    """Wall time and peak memory (summed PSS, and its anonymous part) of a command and all its
    child processes; with a memory limit, run in a cgroup that enforces it."""
    import psutil

    cgroup = _memory_cgroup(memory_limit_mb) if memory_limit_mb else None
    started = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        preexec_fn=(lambda: _join_cgroup(cgroup)) if cgroup else None)
    peak, peak_anon = 0, 0
    while True:
        try:
            samples = [_memory(p) for p in [proc] + proc.children(recursive=True)]
        except psutil.Error:
            samples = []
        peak = max(peak, sum(pss for pss, _ in samples))
        peak_anon = max(peak_anon, sum(anon for _, anon in samples))
        try:  # samples fine early, cheap later; waiting, not sleeping, times the exit itself
            proc.wait(timeout=min(1.0, 0.05 + (time.perf_counter() - started) / 10))
            break
        except (psutil.TimeoutExpired, subprocess.TimeoutExpired):
            continue
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace")
    limit = {}
    if cgroup:
        limit = {"memory_limit_mb": memory_limit_mb, "cgroup_peak_mb": _cgroup_peak(cgroup) / 1e6}
        os.rmdir(cgroup)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {stderr[-2000:]}")
    return {"wall_s": wall, "peak_memory_mb": peak / 1e6, "peak_anon_memory_mb": peak_anon / 1e6, **limit,
            "summary": next(line for line in reversed(stderr.splitlines()) if line.startswith("read "))}


def _memory_cgroup(limit_mb: float) -> str:
    """A new memory cgroup (v2, or v1) limited to ``limit_mb``."""
    controllers = Path("/sys/fs/cgroup/cgroup.controllers")
    if controllers.exists() and "memory" in controllers.read_text().split():
        path, limit_file = Path("/sys/fs/cgroup", f"dedup-bench-{os.getpid()}"), "memory.max"
    else:
        path, limit_file = Path("/sys/fs/cgroup/memory", f"dedup-bench-{os.getpid()}"), "memory.limit_in_bytes"
    path.mkdir()
    (path / limit_file).write_text(str(int(limit_mb * 1e6)))
    return str(path)


def _join_cgroup(path: str) -> None:
    Path(path, "cgroup.procs").write_text(str(os.getpid()))


def _cgroup_peak(path: str) -> int:
    for name in ("memory.peak", "memory.max_usage_in_bytes"):
        if Path(path, name).exists():
            return int(Path(path, name).read_text())
    return 0


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    docs = [r["docs"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.loglog(docs, [r["wall_s"] for r in rows], "o-")
    left.set(xlabel="documents", ylabel="wall time (s)", title="dedup scan: time")
    right.loglog(docs, [r["peak_memory_mb"] for r in rows], "o-", color="tab:red")
    right.set(xlabel="documents", ylabel="peak memory, PSS (MB)", title="dedup scan: memory")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("perf", help="signature and LSH throughput against datasketch and rensa")
    p.add_argument("--docs", type=int, default=20_000)
    p.add_argument("--words", type=int, default=500)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stream-docs", type=int, default=5_000, help="documents for the one-at-a-time loop")
    p.add_argument("--json")
    p.set_defaults(func=perf)
    s = sub.add_parser("scaling", help="end-to-end scans of growing generated corpora")
    s.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    s.add_argument("--words", type=int, default=500)
    s.add_argument("--workers", type=int, default=0)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--repeat", type=int, default=5,
                   help="runs per size, median reported; a size stops repeating once its runs took --repeat-within s")
    s.add_argument("--repeat-within", type=float, default=60.0)
    s.add_argument("--out", default="benchmarks/results")
    s.add_argument("--data", help="where generated corpora are kept (default: OUT/corpora)")
    s.add_argument("--memory-limit-mb", type=float,
                   help="run each scan in a cgroup with this memory limit (Linux, as root); page cache "
                        "counts against it and is reclaimed, a scan that needs more is killed")
    s.add_argument("scan_args", nargs="*", help="extra arguments for dedup scan, after --")
    s.set_defaults(func=scaling)
    args = parser.parse_args(argv)
    args.func(args)
    return 0
