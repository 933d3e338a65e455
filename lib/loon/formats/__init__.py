"""Format providers: Vortex and Lance data read through the formats' own Python libraries.

Our engine reads formats other than Parquet only through providers registered by the host
process (the engine's extension ``ffi_format_provider.h``), on every storage the engine reaches:
local paths, and S3, GCS and Azure through the storage options the engine derives from its
``fs.*`` keys (``Location``). When the library is loaded and it is our engine, ``vortex`` (PyPI
``vortex-data``) and ``lance-table`` (PyPI ``pylance``) are registered for each package that is
installed. A real milvus-storage build reads these formats natively and
has no provider ABI: nothing is registered there.

Whether an engine reads a format is best asked by calling it: explore or get_file_info answer
code 1 for a format it cannot read (any engine). ``engine_reads`` asks our engine directly.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from .._ffi import add_load_hook, ffi, library
from ..errors import LoonError, check
from . import lance as _lance
from . import vortex as _vortex
from ._bridge import Entry, FormatProvider, Location, register, registered_count, supported, unregister

__all__ = [
    "BUILTIN_PROVIDERS",
    "Entry",
    "engine_reads",
    "FormatProvider",
    "Location",
    "register",
    "register_builtin_providers",
    "registered_count",
    "supported",
    "unregister",
]

BUILTIN_PROVIDERS: dict[str, tuple[str, str, Any]] = {
    _vortex.FORMAT: (_vortex.MODULE, _vortex.PACKAGE, _vortex.VortexProvider),
    _lance.FORMAT: (_lance.MODULE, _lance.PACKAGE, _lance.LanceProvider),
}
"""format -> (module, pip package, provider class)."""


def register_builtin_providers() -> list[str]:
    """Registers the Vortex and Lance providers whose libraries are installed; the formats registered.

    Does nothing against an engine without the provider ABI (a real milvus-storage build).
    """
    if not supported():
        return []
    done = []
    for fmt, (module, _, cls) in BUILTIN_PROVIDERS.items():
        if importlib.util.find_spec(module) is None:
            continue
        register(fmt, cls())
        done.append(fmt)
    return done


def engine_reads(format: str) -> bool | None:
    """Whether our engine reads ``format`` now (built in or with a registered provider).

    None against an engine without the provider ABI (a real milvus-storage build): ask it by
    calling it (code 1 = a format it cannot read), as the suite's cases do.
    """
    if not supported():
        return None
    out = ffi.new("bool*")
    check(library().loon_format_supported(format.encode(), out), "loon_format_supported")
    return bool(out[0])


def _unregister_all_at_exit() -> None:
    for fmt in BUILTIN_PROVIDERS:
        try:
            unregister(fmt)
        except LoonError:
            pass


def _on_load(lib: Any) -> None:
    import atexit

    if register_builtin_providers():
        atexit.register(_unregister_all_at_exit)


add_load_hook(_on_load)
