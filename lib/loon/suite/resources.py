"""Process resources for leak checks: RSS, open file descriptors, a sampling monitor and GC pressure.

``rss_bytes`` and ``open_fds`` use psutil when installed, else ``/proc/self``."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

try:  # optional: richer resource numbers and the list of open files in leak messages
    import psutil
except ImportError:  # pragma: no cover - psutil is in requirements.txt, /proc is the fallback
    psutil = None

MB = 1 << 20



# --------------------------------------------------------------------------------------------
# Resources: RSS, file descriptors
# --------------------------------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident set size of this process in bytes."""
    if psutil is not None:
        return int(psutil.Process().memory_info().rss)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds() -> int:
    """Number of open file descriptors of this process."""
    if psutil is not None:
        return int(psutil.Process().num_fds())
    return len(os.listdir("/proc/self/fd")) - 1  # minus the descriptor listdir itself held


def fd_targets() -> dict[int, str]:
    """Open descriptor -> what it points at (``readlink`` of ``/proc/self/fd/<n>``)."""
    out = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            out[int(name)] = os.readlink(f"/proc/self/fd/{name}")
    return out


_libc: Any = None


def release_free_memory() -> None:
    """Returns memory the allocators hold but nobody uses to the OS, so RSS measures live memory.

    Arrow's pool (``release_unused``) and glibc's ``malloc_trim(0)``: with many threads, glibc keeps a
    heap arena per concurrent thread and RSS then reflects the peak concurrency, not a leak. Memory
    still referenced (a real leak) cannot be released and stays in RSS.
    """
    global _libc
    pa.default_memory_pool().release_unused()
    if _libc is None:
        import ctypes
        import ctypes.util

        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        except OSError:
            _libc = False
    trim = getattr(_libc, "malloc_trim", None) if _libc else None
    if trim is not None:
        trim(0)


def _settle(memory: bool = True) -> None:
    """Lets finalisers run (and, for memory samples, allocators release free memory), so samples
    reflect live objects only."""
    gc.collect()
    if memory:
        release_free_memory()


@dataclass
class ResourceMonitor:
    """Samples RSS, open descriptors and traced Python memory; ``baseline()`` marks the reference."""

    trace_python: bool = False
    rss: list[int] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)
    python: list[int] = field(default_factory=list)
    base_fds: dict[int, str] = field(default_factory=dict)
    _started_trace: bool = False

    def __enter__(self) -> ResourceMonitor:
        if self.trace_python and not tracemalloc.is_tracing():
            tracemalloc.start()
            self._started_trace = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started_trace:
            tracemalloc.stop()
            self._started_trace = False

    def baseline(self) -> None:
        """Clears the samples and records the reference sample (after warm-up)."""
        self.rss.clear()
        self.fds.clear()
        self.python.clear()
        _settle()
        self.base_fds = fd_targets()
        self.sample(settle=False)

    def sample(self, settle: bool = True) -> None:
        if settle:
            _settle()
        self.rss.append(rss_bytes())
        self.fds.append(open_fds())
        if tracemalloc.is_tracing():
            self.python.append(tracemalloc.get_traced_memory()[0])

    def leaked_fds(self) -> dict[int, str]:
        """Descriptors open now that were not open at ``baseline()``."""
        _settle(memory=False)
        now = fd_targets()
        return {fd: target for fd, target in now.items() if self.base_fds.get(fd) != target}

    def assert_no_fd_leak(self, tolerance: int = 0) -> None:
        """Open descriptors now <= baseline + ``tolerance``; the message lists the new ones."""
        _settle(memory=False)
        now = open_fds()
        base = self.fds[0] if self.fds else now
        if now > base + tolerance:
            leaked = self.leaked_fds()
            shown = ", ".join(f"{fd}->{t}" for fd, t in sorted(leaked.items())[:10])
            raise AssertionError(f"file descriptors leaked: {base} at baseline, {now} now; new: {shown}")

    def rss_growth(self) -> int:
        return (max(self.rss) - self.rss[0]) if self.rss else 0

    def summary(self) -> str:
        if not self.rss:
            return "no samples"
        text = (
            f"RSS {self.rss[0] / MB:.0f} -> {self.rss[-1] / MB:.0f} MiB (peak {max(self.rss) / MB:.0f}), "
            f"fds {self.fds[0]} -> {self.fds[-1]}"
        )
        if self.python:
            text += f", Python heap {self.python[0] / MB:.1f} -> {self.python[-1] / MB:.1f} MiB"
        return text


def assert_bounded_growth(samples: Sequence[int], limit: int, what: str = "RSS") -> None:
    """The samples never rise more than ``limit`` above the first one, and do not keep climbing.

    "Keep climbing": with 6+ samples, the mean of the last third may exceed the mean of the middle
    third by at most ``limit / 2`` — a steady leak grows both the peak and the tail.
    """
    if not samples:
        raise ValueError("assert_bounded_growth: no samples")
    growth = max(samples) - samples[0]
    if growth > limit:
        raise AssertionError(
            f"{what} grew by {growth / MB:.1f} MiB (limit {limit / MB:.1f} MiB): "
            f"{[round(s / MB, 1) for s in samples]} MiB"
        )
    if len(samples) >= 6:
        third = len(samples) // 3
        middle = sum(samples[third : 2 * third]) / third
        tail = sum(samples[-third:]) / third
        if tail - middle > limit / 2:
            raise AssertionError(
                f"{what} keeps growing: mean {middle / MB:.1f} MiB in the middle third, {tail / MB:.1f} MiB "
                f"in the last (limit {limit / 2 / MB:.1f} MiB): {[round(s / MB, 1) for s in samples]} MiB"
            )


@contextlib.contextmanager
def collector_thread(interval: float = 0.001, threshold: tuple[int, int, int] = (50, 3, 3)) -> Iterator[dict[str, int]]:
    """Frequent garbage collection for the duration of the block: a low GC threshold plus a thread
    collecting every ``interval`` seconds (generations 0-1, every 20th time all). Yields counters
    (``collections``)."""
    old = gc.get_threshold()
    stop = threading.Event()
    counters = {"collections": 0}

    def loop() -> None:
        while not stop.is_set():
            # Young generations hold the dropped handles; a full collection every 20th round.
            gc.collect(2 if counters["collections"] % 20 == 0 else 1)
            counters["collections"] += 1
            time.sleep(interval)

    gc.set_threshold(*threshold)
    thread = threading.Thread(target=loop, name="gc-pressure", daemon=True)
    thread.start()
    try:
        yield counters
    finally:
        stop.set()
        thread.join()
        gc.set_threshold(*old)
