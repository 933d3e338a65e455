"""Bases of the wrappers that own one engine handle freed by a single destroy function."""

from __future__ import annotations

from typing import Any, Self

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


class FinishedHandle:
    """Owns ``self._handle`` of something that is finished explicitly (a writer closed, a transaction
    committed): leaving a ``with`` block without an exception finishes it (``_finish_on_exit``); the
    handle is then freed with ``library().<_destroy_fn>`` in any case, as on ``destroy()`` or when
    garbage-collected (which abandons what was not finished)."""

    _destroy_fn: str = ""
    _handle: Any = 0

    def _finish_on_exit(self) -> None:
        raise NotImplementedError

    def destroy(self) -> None:
        """Frees the handle without finishing; safe to call more than once."""
        if self._handle:
            getattr(library(), self._destroy_fn)(self._handle)
            self._handle = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._finish_on_exit()
        finally:
            self.destroy()

    def __del__(self) -> None:
        try:
            self.destroy()
        except Exception:
            pass
