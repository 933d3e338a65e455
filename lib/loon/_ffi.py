"""Loading of the loon C library in cffi ABI mode.

The library is found in this order: the ``LOON_LIBRARY`` environment variable (any
milvus-storage-compatible build), the copy installed inside this package (``loon/lib/``), then
the development build of the repository (``cpp/build/``). It is opened before pyarrow is
imported, as the upstream binding does, so it must find Arrow through its own RUNPATH.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import cffi

LIBRARY_NAME = "libmilvus-storage.so"
_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parents[1]

ffi = cffi.FFI()
ffi.cdef((_PACKAGE_DIR / "_cdef.h").read_text())
ffi.cdef("void free(void* ptr);")  # libc, for buffers the caller owns by contract

_lock = threading.Lock()
_load_hooks: list = []  # called with the library once it is loaded (e.g. format providers)
_lib = None
_libc = None
_path: Path | None = None


class LibraryNotFoundError(ImportError):
    """No loon library could be located; the message says where we looked."""


def candidate_paths() -> list[Path]:
    """Where the library is looked for, in order."""
    env = os.environ.get("LOON_LIBRARY")
    if env:
        return [Path(env)]
    return [
        _PACKAGE_DIR / "lib" / LIBRARY_NAME,
        _REPO_ROOT / "cpp" / "build" / LIBRARY_NAME,
    ]


def library():
    """The loaded cffi library object (loaded once per process)."""
    global _lib, _libc, _path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            tried = candidate_paths()
            for path in tried:
                if path.is_file():
                    lib = ffi.dlopen(str(path), ffi.RTLD_NOW | ffi.RTLD_LOCAL)
                    _libc = ffi.dlopen(None)
                    _resolve_all(lib)
                    _resolve_all(_libc, ["free"])
                    _path = path
                    _lib = lib
                    for hook in list(_load_hooks):
                        hook(lib)
                    break
            else:
                where = ", ".join(str(p) for p in tried)
                raise LibraryNotFoundError(
                    f"{LIBRARY_NAME} not found (looked in: {where}); run `make build` or set LOON_LIBRARY"
                )
    return _lib


def add_load_hook(hook) -> None:
    """Calls ``hook(library)`` once the library is loaded (at once if it already is)."""
    if _lib is not None:
        hook(_lib)
        return
    with _lock:
        if _lib is None:
            _load_hooks.append(hook)
            return
    hook(_lib)


def _resolve_all(lib, names=None) -> None:
    """Creates every cffi accessor of ``lib`` now instead of on first use.

    cffi creates accessors lazily under ``ffi._lock``, a non-reentrant lock it also holds while
    parsing a type string (``ffi.new("...")``). A cyclic garbage collection inside that section runs
    ``__del__`` methods; a destructor calling a function for the first time (e.g.
    ``loon_reader_destroy`` of a Reader with a key retriever, which only the cycle GC frees) then
    waited for the lock forever.
    """
    for name in names if names is not None else dir(lib):
        try:
            getattr(lib, name)
        except AttributeError:  # declared in our header, absent from this library
            pass


def libc():
    """The C library, for ``free`` of buffers the engine allocates with malloc."""
    library()
    return _libc


@dataclass(frozen=True)
class LibraryInfo:
    """Which engine is loaded: our own (``kind == "loon-engine"``) or a real milvus-storage."""

    path: str
    kind: str
    info: str
    fault_injection: bool

    @property
    def is_loon_engine(self) -> bool:
        return self.kind == "loon-engine"


def library_info() -> LibraryInfo:
    """Path and identity of the loaded library; extensions are only promised by our engine."""
    lib = library()
    try:
        info = ffi.string(lib.loon_engine_info()).decode()
        kind = "loon-engine"
    except AttributeError:  # a real milvus-storage build has no loon_engine_info
        info, kind = "milvus-storage", "milvus-storage"
    return LibraryInfo(path=str(_path), kind=kind, info=info, fault_injection=bool(lib.loon_fiu_is_enabled()))
