"""Read and chunk files ahead of the embedder, in worker processes, so parsing never waits for embedding.

PDF text extraction (pypdf) is pure Python: in a thread it holds the interpreter lock that the embedder's own
Python work (tokenising, batching) needs, so the two slow each other down. In a worker process it runs truly
beside the embedder. Workers are started with "spawn" (never "fork": the parent has torch, Chroma and server threads
running) and only when there is more than one item to read (a file, or a run of a long PDF's pages): a single
short upload is read in place, without the start-up cost.
"""

from __future__ import annotations

import itertools
import multiprocessing
import re
import sys
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Callable, Generic, Iterable, Iterator, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class ReadAhead(Generic[Item, Result]):
    """`prepare(item)` for every item, in order, computed up to `ahead` items early by `workers` processes (0: a
    thread)."""

    def __init__(self, prepare: Callable[[Item], Result], items: Iterable[Item], workers: int, ahead: int) -> None:
        self.prepare = prepare  # a module-level function: it is sent to the workers by name
        upcoming = iter(items)  # taken lazily (ingest plans a PDF's parts as it comes to it); two looked at now
        first = list(itertools.islice(upcoming, 2))
        self.items = itertools.chain(first, upcoming)
        self.ahead = max(1, ahead)
        self._executor: Executor | None = None
        if workers and (multiprocessing.current_process().daemon or not _main_is_guarded()):
            workers = 0  # a daemonic process may not start processes, and a spawned worker re-runs an unguarded
            # script's top level (a user's script calling ingest): read ahead in a thread instead
        if len(first) > 1:  # workers=0: one helper thread (parsing then shares the interpreter lock with embedding)
            self._executor = (ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers
                              else ThreadPoolExecutor(1))
        self._pending: deque[Future] = deque()

    def __enter__(self) -> "ReadAhead[Item, Result]":
        return self

    def __exit__(self, *exc) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def __iter__(self) -> Iterator[tuple[Item, Result]]:
        if self._executor is None:
            yield from ((item, self.prepare(item)) for item in self.items)
            return
        submitted: deque[Item] = deque()
        for item in self.items:
            submitted.append(item)
            self._pending.append(self._executor.submit(self.prepare, item))
            if len(self._pending) == self.ahead:
                break
        while self._pending:
            result = self._pending.popleft().result()
            following = next(self.items, _END)
            if following is not _END:
                submitted.append(following)
                self._pending.append(self._executor.submit(self.prepare, following))
            yield submitted.popleft(), result

    def next_ready(self) -> bool:
        """True when the next result can be had without waiting (or there is none left to wait for)."""
        return not self._pending or self._pending[0].done()


_END = object()
_GUARD = re.compile(r"""if\s+__name__\s*==\s*['"]__main__['"]""")


def _main_is_guarded() -> bool:
    """True when worker processes may start: "spawn" imports the main script again in each worker, which is safe
    only for a module run with -m, an interactive session, or a script whose top level is behind an
    `if __name__ == "__main__":` guard (the sendbot and pytest commands, app.py)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if getattr(main, "__spec__", None) is not None or not path:
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as script:
            return bool(_GUARD.search(script.read()))
    except OSError:
        return False
