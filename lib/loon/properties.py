"""Engine properties: a str->str mapping converted to a C ``LoonProperties`` set on demand."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ._ffi import ffi, library
from .errors import check


def _to_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Properties(dict):
    """Property keys and values for one engine call (values are converted to strings).

    >>> Properties({"writer.file_rolling.size": 1 << 20}, **{"writer.compression": "zstd"})
    """

    def __init__(self, values: Mapping[str, Any] | None = None, **more: Any):
        super().__init__()
        for key, value in {**(values or {}), **more}.items():
            self[key] = _to_str(value)

    def merged(self, values: Mapping[str, Any] | None = None, **more: Any) -> Properties:
        """A copy with ``values`` added or replaced."""
        return Properties({**self, **(values or {}), **{k: _to_str(v) for k, v in more.items()}})

    @contextmanager
    def as_c(self) -> Iterator[Any]:
        """A ``LoonProperties*`` valid inside the ``with`` block; released on exit."""
        props = ffi.new("LoonProperties*")
        if self:
            keys = [ffi.new("char[]", k.encode()) for k in self]
            values = [ffi.new("char[]", v.encode()) for v in self.values()]
            key_array = ffi.new("const char*[]", keys)
            value_array = ffi.new("const char*[]", values)
            check(library().loon_properties_create(key_array, value_array, len(self), props), "loon_properties_create")
        try:
            yield props
        finally:
            library().loon_properties_free(props)


def as_properties(value: Mapping[str, Any] | None) -> Properties:
    """Accept None, a dict or Properties."""
    if isinstance(value, Properties):
        return value
    return Properties(value or {})
