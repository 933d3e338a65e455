"""Fault injection (ffi_c.h 2.11; README "Fault points"): arm engine fault points for the duration of a block."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ._ffi import ffi, library
from .errors import check


def fault_points() -> dict[str, str]:
    """Fault points the loaded engine exports: symbol suffix -> point name."""
    lib = library()
    points = {}
    for name in dir(lib):
        if name.startswith("loon_fiukey_"):
            try:
                points[name[len("loon_fiukey_") :]] = ffi.string(getattr(lib, name)).decode()
            except AttributeError:  # declared in our header, absent from this library
                continue
    return points


def fault_injection_enabled() -> bool:
    return bool(library().loon_fiu_is_enabled())


def enable(point: str, count: int = 1) -> None:
    """Arms ``point``: count 0 fails every time, 1 once, n > 1 the next n evaluations (extension)."""
    raw = point.encode()
    check(library().loon_fiu_enable(raw, len(raw), count), "loon_fiu_enable")


def disable(point: str) -> None:
    raw = point.encode()
    check(library().loon_fiu_disable(raw, len(raw)), "loon_fiu_disable")


def disable_all() -> None:
    library().loon_fiu_disable_all()


class FaultInjector:
    """Arms fault points inside a ``with`` block and disarms them on exit, also on exceptions.

    >>> with FaultInjector({"writer.flush.fail": 1}):
    ...     ...  # the next flush fails once
    """

    def __init__(self, points: Mapping[str, int] | None = None, **counts: int):
        self.points = {**(points or {}), **{k.replace("__", "."): v for k, v in counts.items()}}
        self.armed: list[str] = []

    @staticmethod
    def available() -> bool:
        return fault_injection_enabled()

    @staticmethod
    def known_points() -> dict[str, str]:
        return fault_points()

    def arm(self, point: str, count: int = 1) -> None:
        enable(point, count)
        self.armed.append(point)

    def disarm(self, point: str) -> None:
        disable(point)
        if point in self.armed:
            self.armed.remove(point)

    def __enter__(self) -> FaultInjector:
        try:
            for point, count in self.points.items():
                self.arm(point, count)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for point in list(self.armed):
            disable(point)
        self.armed.clear()
        disable_all()


@contextmanager
def injected(point: str, count: int = 1) -> Iterator[None]:
    """Shorthand for one point: ``with injected("manifest.commit.fail"): ...``."""
    with FaultInjector({point: count}):
        yield
