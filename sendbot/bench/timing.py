"""The one stopwatch every benchmark uses."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[float, T]:
    """Run `action` once: the seconds it took (a monotonic clock) and what it returned."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result
