"""Runs the scan's batch steps in worker processes, results in input order.

``workers=1`` runs everything in the calling process. Each worker receives the
config and the document frequencies once, at start.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from typing import Callable, Iterable, Iterator

from dedup import pipeline
from dedup.config import DedupConfig
from dedup.frequency import DocumentFrequency

_worker: dict = {}


def _init(cfg: DedupConfig, df: DocumentFrequency) -> None:
    _worker["cfg"], _worker["df"] = cfg, df


def _sign(records):
    return pipeline.sign_records(_worker["cfg"], records)


def _verify(task):
    return pipeline.verify_task(_worker["cfg"], _worker["df"], task)


STEPS: dict[str, Callable] = {"sign": _sign, "verify": _verify}


def resolve_workers(workers: int) -> int:
    return workers if workers > 0 else (os.cpu_count() or 1)


class Executor:
    """``with Executor(cfg, df) as ex: for result in ex.map("sign", batches): ...``"""

    def __init__(self, cfg: DedupConfig, df: DocumentFrequency | None = None, workers: int = 1):
        self.cfg, self.df = cfg, df or DocumentFrequency(bits=1)
        self.workers = resolve_workers(workers)
        self.pool = None

    def __enter__(self) -> "Executor":
        if self.workers > 1:
            # workers start from a small server process, not as forks of a scan that may by then
            # hold gigabytes of signatures
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            self.pool = context.Pool(self.workers, initializer=_init, initargs=(self.cfg, self.df))
        else:
            _init(self.cfg, self.df)
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool = None

    def map(self, step: str, items: Iterable) -> Iterator:
        """Results in input order. At most a few items per worker are in flight, so memory stays
        bounded however long the input is (Pool.imap would read all of it ahead)."""
        if self.pool is None:
            _init(self.cfg, self.df)
            yield from map(STEPS[step], items)
            return
        in_flight: deque = deque()
        for item in items:
            in_flight.append(self.pool.apply_async(STEPS[step], (item,)))
            if len(in_flight) >= 2 * self.workers:
                yield in_flight.popleft().get()
        while in_flight:
            yield in_flight.popleft().get()
