"""Runs the scan's batch steps in worker processes, results in input order.

``workers=1`` runs everything in the calling process. The pool is forked once,
when a scan starts and the process is still small, after the lookup tables every
step uses are built, so that the workers share them instead of each building its
own. Processes exchange bulk data through files in the executor's scratch
directory: each writes its own spool files, and the document frequencies, known
only after the first pass, reach the workers through a file that each maps
read-only on first use.

A worker that dies (killed by the system, typically for memory) ends the map with
:class:`WorkerDied` instead of leaving it waiting for a result that will never come.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import re
import shutil
import signal
import socket
import tempfile
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, Iterator

import xxhash

from dedup import pipeline
from dedup.config import DedupConfig
from dedup.frequency import DocumentFrequency
from dedup.store import Spool

_worker: dict = {}


def _init(cfg: DedupConfig, scratch: str) -> None:
    _worker.clear()
    _worker["cfg"] = cfg
    _worker["spool"] = Spool(scratch)


def _init_worker(cfg: DedupConfig, scratch: str) -> None:
    # Ctrl-C and the CLI's SIGTERM handling belong to the main process, which stops the pool
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    keep_freed_buffers()
    _init(cfg, scratch)


def _sign(records):
    return pipeline.sign_records(_worker["cfg"], records, _worker["spool"])


def _shared_df(df_path: str) -> DocumentFrequency:
    if _worker.get("df_path") != df_path:
        _worker["df"], _worker["df_path"] = DocumentFrequency.load(df_path), df_path
    return _worker["df"]


def _rare_stems(item):
    df_path, stems = item
    return pipeline.rare_stem_index(_worker["cfg"], _shared_df(df_path), *stems.read())


def _band(task):
    return pipeline.band_candidates(_worker["cfg"], task)


def _judge_cell(task):
    return pipeline.judge_cell(_worker["cfg"], task)


def _verify(item):
    df_path, task = item
    return pipeline.verify_task(_worker["cfg"], _shared_df(df_path), task)


def _copy_signatures(texts):
    return pipeline.copy_signatures(_worker["cfg"], texts)


STEPS: dict[str, Callable] = {"sign": _sign, "rare_stems": _rare_stems, "band": _band, "judge_cell": _judge_cell,
                              "verify": _verify, "copy_signatures": _copy_signatures}
_NEEDS_DF = {"rare_stems", "verify"}


_LIBC_PATH = ctypes.util.find_library("c")  # looked up once: it runs ldconfig
_TRIM, _MALLOPT = (getattr(ctypes.CDLL(_LIBC_PATH), name, None) if _LIBC_PATH else None  # glibc only
                   for name in ("malloc_trim", "mallopt"))
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_buffers() -> None:
    """Let glibc reuse the memory of a batch's freed arrays for the next batch instead of handing
    it back and faulting it in again: by default it maps and unmaps buffers of this size each time,
    and page faults took half of signing. Arrays up to 32 MB come from the heap, and the heap is
    trimmed only past 64 MB of free memory at its top (256 MB held 180 MB more at 100,000
    documents, no faster). It changes the whole process's allocator, so the scan applies it in its
    worker processes, and the CLI in its own when that signs (one worker); a program that signs
    batches itself in one process can call it too. Not in a main process that holds a large
    corpus's arrays: with 256 MB it raised a 1M scan's peak memory by 9%."""
    if _MALLOPT:
        _MALLOPT(_M_MMAP_THRESHOLD, 32 << 20)
        _MALLOPT(_M_TRIM_THRESHOLD, 64 << 20)


def release_memory(cfg: DedupConfig) -> None:
    """Out of core, give the memory the allocator keeps after freeing back to the system (glibc
    holds on to tens of MB of freed numpy buffers per process); it costs page faults later."""
    if _TRIM and cfg.out_of_core:
        _TRIM(0)


def _run(step: str, item):
    try:
        return STEPS[step](item)
    finally:
        release_memory(_worker["cfg"])


class WorkerDied(RuntimeError):
    """A worker process ended in the middle of a scan; what the scan yielded before stands."""


def resolve_workers(workers: int) -> int:
    return workers if workers > 0 else (os.cpu_count() or 1)


# scratch directories are named for their scan's process and host: process ids of other machines
# or containers sharing the directory mean nothing here
_HOST = xxhash.xxh32_hexdigest(socket.gethostname().encode())
_SCRATCH_NAME = re.compile(r"dedup-(\d+)-([0-9a-f]{8})-\w+")


def _scratch_prefix(pid: int) -> str:
    return f"dedup-{pid}-{_HOST}-"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True


def remove_orphaned_scratch(directory: str | None = None) -> int:
    """Remove the scratch directories that scans ended without cleaning up (killed by SIGKILL or
    the out-of-memory killer) left in ``directory`` (the system's temporary directory by default):
    this user's and this host's, named for a process that no longer exists. At a million documents
    one holds gigabytes of spool files. Returns how many were removed."""
    if not hasattr(os, "getuid"):
        return 0
    removed = 0
    for entry in os.scandir(directory or tempfile.gettempdir()):
        match = _SCRATCH_NAME.fullmatch(entry.name)
        if (match and match.group(2) == _HOST and entry.is_dir(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_uid == os.getuid() and not _process_exists(int(match.group(1)))):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed


class Executor:
    """``with Executor(cfg, workers=2) as ex: for result in ex.map("sign", batches): ...``"""

    def __init__(self, cfg: DedupConfig, workers: int = 1):
        self.cfg = cfg
        self.workers = resolve_workers(workers)
        self.pool = None
        self.scratch = ""  # a directory for files every process reads, removed on exit
        self.orphans_removed = 0  # scratch directories of killed scans removed on entry
        self._df_path = None
        self._shared = 0

    def __enter__(self) -> "Executor":
        self.orphans_removed = remove_orphaned_scratch(self.cfg.temp_dir)
        self.scratch = tempfile.mkdtemp(prefix=_scratch_prefix(os.getpid()), dir=self.cfg.temp_dir)
        if self.workers > 1:
            pipeline.warm_up(self.cfg)
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            self.pool = ProcessPoolExecutor(self.workers, context, initializer=_init_worker, initargs=(self.cfg, self.scratch))
            self.pool.submit(os.getpid).result()  # forks every worker now, while this process is small
        _init(self.cfg, self.scratch)
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            # on an error or Ctrl-C, queued tasks are dropped and the running ones end on their own
            self.pool.shutdown(wait=exc[0] is None, cancel_futures=True)
            self.pool = None
        _worker.pop("spool").close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def share(self, df: DocumentFrequency) -> None:
        """Make ``df`` the document frequencies the rare_stems and verify steps use."""
        self._shared += 1  # a new file each time: workers tell by its name that it changed
        self._df_path = os.path.join(self.scratch, f"df-{self._shared}.npy")
        df.save(self._df_path)
        _worker["df"], _worker["df_path"] = df, self._df_path

    def map(self, step: str, items: Iterable) -> Iterator:
        """Results in input order. At most a few items per worker are in flight, so memory stays
        bounded however long the input is (Pool.imap would read all of it ahead)."""
        if step in _NEEDS_DF:
            items = ((self._df_path, item) for item in items)
        if self.pool is None:
            yield from (_run(step, item) for item in items)
            return
        in_flight: deque = deque()
        try:
            for item in items:
                in_flight.append(self.pool.submit(_run, step, item))
                if len(in_flight) >= 2 * self.workers:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
        except BrokenProcessPool as e:
            raise WorkerDied(f"a worker process ended unexpectedly during the {step!r} step (killed by the "
                             "system, often for lack of memory: try --out-of-core or fewer workers)") from e
