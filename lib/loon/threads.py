"""The engine's process-wide I/O thread pool (ffi_c.h 2.4 thread pool)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ._ffi import library
from .errors import check


def set_thread_pool(num_threads: int) -> None:
    """Creates or resizes the singleton pool; scans, take and get_chunks then use its size."""
    check(library().loon_thread_pool_singleton(num_threads), "loon_thread_pool_singleton")


def release_thread_pool() -> None:
    library().loon_thread_pool_singleton_release()


@contextmanager
def thread_pool(num_threads: int) -> Iterator[None]:
    """The singleton pool with ``num_threads`` threads for the duration of the block."""
    set_thread_pool(num_threads)
    try:
        yield
    finally:
        release_thread_pool()
