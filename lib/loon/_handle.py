"""Base of the wrappers that own one engine handle freed by a single destroy function."""

from __future__ import annotations

from typing import Any

from ._ffi import library


class OwnedHandle:
    """Releases ``self._handle`` exactly once with ``library().<_destroy_fn>``: on ``close()``,
    on leaving a ``with`` block, or when garbage-collected."""

    _destroy_fn: str = ""
    _handle: Any = 0

    def close(self) -> None:
        if self._handle:
            getattr(library(), self._destroy_fn)(self._handle)
            self._handle = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
