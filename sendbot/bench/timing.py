"""The one stopwatch, processor-time gauge and memory gauge every benchmark uses."""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[float, T]:
    """Run `action` once: the seconds it took (a monotonic clock) and what it returned."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def timed_work(action: Callable[[], T]) -> tuple[float, float, T]:
    """Run `action` once: the seconds it took, the processor seconds it used (`cpu_seconds`), and what it returned."""
    before = cpu_seconds()
    seconds, result = timed(action)
    return seconds, cpu_seconds() - before, result


def cpu_seconds() -> float:
    """Processor seconds (user and system) used so far by this process and by the children it has waited for, such
    as ingest's read-ahead workers once ingest ends: the work done, however it was spread over the cores."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mb(status: Path = Path("/proc/self/status")) -> float:
    """This process's own peak resident memory, in MB (Linux's VmHWM).

    Not getrusage's ru_maxrss: Linux carries that across exec, so a process the benchmark spawns starts with its
    parent's resident size at the fork, and a big parent (one that built a 100x corpus) would be reported as the
    child's peak. ru_maxrss is the fallback where /proc is missing.
    """
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
