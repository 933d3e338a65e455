"""The engine's filesystem API (ffi_c.h 2.10 filesystem): the same storage the writer and reader see."""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import _exit
from ._ffi import ffi, library
from ._handle import FinishedHandle, OwnedHandle
from .errors import LoonFileNotFoundError, check, engine_text
from .properties import as_properties

METRIC_FIELDS = (
    "read_count",
    "write_count",
    "read_bytes",
    "write_bytes",
    "get_file_info_count",
    "create_dir_count",
    "delete_dir_count",
    "delete_file_count",
    "move_count",
    "copy_file_count",
    "failed_count",
    "multi_part_upload_created",
    "multi_part_upload_finished",
)


@dataclass(frozen=True)
class FileInfo:
    path: str
    is_dir: bool
    size: int
    mtime_ns: int


def _meta_array(meta: Mapping[str, str] | None) -> tuple[Any, int, list[Any]]:
    """A LoonFileSystemMeta[] for ``meta`` plus the buffers that must stay alive."""
    if not meta:
        return ffi.NULL, 0, []
    keep: list[Any] = []
    array = ffi.new("LoonFileSystemMeta[]", len(meta))
    for i, (k, v) in enumerate(meta.items()):
        key, value = ffi.new("char[]", k.encode()), ffi.new("char[]", v.encode())
        keep += [key, value]
        array[i].key, array[i].value = key, value
    return array, len(meta), keep


class Filesystem(OwnedHandle):
    """A handle to the filesystem chosen by ``fs.*`` properties (shared, cached engine-side)."""

    _destroy_fn = "loon_filesystem_destroy"

    def __init__(self, properties: Mapping[str, Any] | None = None, path: str = ""):
        self.properties = as_properties(properties)
        handle = ffi.new("FileSystemHandle*")
        raw = path.encode()
        with self.properties.as_c() as c_props:
            check(library().loon_filesystem_get(c_props, raw, len(raw), handle), "loon_filesystem_get")
        self._handle = handle[0]

    @property
    def handle(self) -> int:
        return self._handle

    def path_info(self, path: str) -> FileInfo:
        """Exists, is_dir and mtime of ``path``; absent raises LoonFileNotFoundError (code 12)."""
        raw = path.encode()
        exists, is_dir, mtime = ffi.new("bool*"), ffi.new("bool*"), ffi.new("int64_t*")
        check(
            library().loon_filesystem_get_path_info(self._handle, raw, len(raw), exists, is_dir, mtime),
            "loon_filesystem_get_path_info",
        )
        return FileInfo(path, bool(is_dir[0]), 0, int(mtime[0]))

    def exists(self, path: str) -> bool:
        try:
            self.path_info(path)
            return True
        except LoonFileNotFoundError:
            return False

    def file_size(self, path: str) -> int:
        raw = path.encode()
        out = ffi.new("uint64_t*")
        check(
            library().loon_filesystem_get_file_info(self._handle, raw, len(raw), out), "loon_filesystem_get_file_info"
        )
        return int(out[0])

    def file_stats(self, path: str) -> tuple[int, dict[str, str]]:
        """Size and stored metadata of a file."""
        raw = path.encode()
        size, meta, count = ffi.new("uint64_t*"), ffi.new("LoonFileSystemMeta**"), ffi.new("uint32_t*")
        check(
            library().loon_filesystem_get_file_stats(self._handle, raw, len(raw), size, meta, count),
            "loon_filesystem_get_file_stats",
        )
        try:
            pairs = {
                engine_text(meta[0][i].key, "a file metadata key"): engine_text(
                    meta[0][i].value, "a file metadata value"
                )
                for i in range(count[0])
            }
        finally:
            if count[0] > 0:
                library().loon_filesystem_free_meta_array(meta[0], count[0])
        return int(size[0]), pairs

    def read(self, path: str, offset: int, nbytes: int) -> bytes:
        raw = path.encode()
        buf = ffi.new("uint8_t[]", nbytes)
        check(
            library().loon_filesystem_read_file(self._handle, raw, len(raw), offset, nbytes, buf),
            "loon_filesystem_read_file",
        )
        return bytes(ffi.buffer(buf, nbytes))

    def read_all(self, path: str) -> bytes:
        raw = path.encode()
        data, size = ffi.new("uint8_t**"), ffi.new("uint64_t*")
        check(
            library().loon_filesystem_read_file_all(self._handle, raw, len(raw), data, size),
            "loon_filesystem_read_file_all",
        )
        try:
            return bytes(ffi.buffer(data[0], size[0])) if size[0] else b""
        finally:
            library().loon_free_cstr(ffi.cast("char*", data[0]))

    def write(self, path: str, data: bytes, metadata: Mapping[str, str] | None = None) -> None:
        """Creates or overwrites ``path`` with ``data``."""
        raw = path.encode()
        meta, count, _keep = _meta_array(metadata)
        buf = ffi.from_buffer(data) if data else ffi.NULL
        check(
            library().loon_filesystem_write_file(self._handle, raw, len(raw), buf, len(data), meta, count),
            "loon_filesystem_write_file",
        )

    def delete(self, path: str) -> None:
        raw = path.encode()
        check(library().loon_filesystem_delete_file(self._handle, raw, len(raw)), "loon_filesystem_delete_file")

    def mkdir(self, path: str, recursive: bool = True) -> None:
        raw = path.encode()
        check(
            library().loon_filesystem_create_dir(self._handle, raw, len(raw), recursive), "loon_filesystem_create_dir"
        )

    def list_dir(self, path: str, recursive: bool = False) -> list[FileInfo]:
        """Entries below ``path`` (fs-root-relative paths); absent raises code 12."""
        raw = path.encode()
        out = ffi.new("LoonFileInfoList*")
        check(
            library().loon_filesystem_list_dir(self._handle, raw, len(raw), recursive, out), "loon_filesystem_list_dir"
        )
        try:
            return [
                FileInfo(engine_text(e.path, "a listed path", e.path_len), bool(e.is_dir), int(e.size), int(e.mtime_ns))
                for e in (out.entries[i] for i in range(out.count))
            ]
        finally:
            library().loon_filesystem_free_file_info_list(out)

    def list_files(self, path: str, recursive: bool = True) -> list[FileInfo]:
        """Regular files below ``path`` ([] when it does not exist)."""
        try:
            return [e for e in self.list_dir(path, recursive) if not e.is_dir]
        except LoonFileNotFoundError:
            return []

    def remove_files(self, path: str) -> int:
        """Deletes every file below ``path`` (the API has no directory delete); returns the count."""
        files = self.list_files(path)
        for f in files:
            self.delete(f.path)
        return len(files)

    def open_writer(
        self, path: str, conditional: bool = False, metadata: Mapping[str, str] | None = None
    ) -> FileWriter:
        raw = path.encode()
        meta, count, _keep = _meta_array(metadata)
        out = ffi.new("FileSystemWriterHandle*")
        check(
            library().loon_filesystem_open_writer(self._handle, raw, len(raw), meta, count, conditional, out),
            "loon_filesystem_open_writer",
        )
        return FileWriter(out[0])

    def open_reader(self, path: str, file_size: int = 0) -> FileReader:
        raw = path.encode()
        out = ffi.new("FileSystemReaderHandle*")
        check(
            library().loon_filesystem_open_reader(self._handle, raw, len(raw), file_size, out),
            "loon_filesystem_open_reader",
        )
        return FileReader(out[0])

    def metrics(self) -> dict[str, int]:
        out = ffi.new("LoonFilesystemMetricsSnapshot*")
        check(library().loon_filesystem_get_metrics(self._handle, out), "loon_filesystem_get_metrics")
        return {name: int(getattr(out, name)) for name in METRIC_FIELDS}

    def reset_metrics(self) -> None:
        check(library().loon_filesystem_reset_metrics(self._handle), "loon_filesystem_reset_metrics")


class FileWriter(FinishedHandle):
    """An output stream of the engine's filesystem (``close`` completes the file)."""

    _destroy_fn = "loon_filesystem_writer_destroy"

    def __init__(self, handle: int):
        self._handle = handle
        self.call_lock = threading.RLock()  # held by every engine call: the exit hook never destroys mid-call
        _exit.track(self)  # aborted at interpreter exit if still open (loon._exit says why)

    def write(self, data: bytes) -> None:
        if data:  # the C API rejects empty writes
            with self.call_lock:
                check(
                    library().loon_filesystem_writer_write(self._handle, ffi.from_buffer(data), len(data)),
                    "writer_write",
                )

    def flush(self) -> None:
        with self.call_lock:
            check(library().loon_filesystem_writer_flush(self._handle), "loon_filesystem_writer_flush")

    def close(self) -> None:
        with self.call_lock:
            check(library().loon_filesystem_writer_close(self._handle), "loon_filesystem_writer_close")

    def destroy(self) -> None:
        with self.call_lock:
            super().destroy()

    def _finish_on_exit(self) -> None:
        self.close()


class FileReader:
    """A random-access reader of the engine's filesystem."""

    def __init__(self, handle: int):
        self._handle = handle

    def read_at(self, offset: int, nbytes: int) -> bytes:
        buf = ffi.new("uint8_t[]", nbytes)
        check(
            library().loon_filesystem_reader_readat(self._handle, offset, nbytes, buf), "loon_filesystem_reader_readat"
        )
        return bytes(ffi.buffer(buf, nbytes))

    def close(self) -> None:
        if self._handle:
            check(library().loon_filesystem_reader_close(self._handle), "loon_filesystem_reader_close")
            library().loon_filesystem_reader_destroy(self._handle)
            self._handle = 0

    def __enter__(self) -> FileReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self._handle:
                library().loon_filesystem_reader_destroy(self._handle)
                self._handle = 0
        except Exception:
            pass


class EngineFile(io.RawIOBase):
    """A read-only, seekable file object over the engine's filesystem (for pyarrow.parquet)."""

    def __init__(self, reader: FileReader, size: int):
        self._reader = reader
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self._size - self._pos)
        if n <= 0:
            return 0
        buffer[:n] = self._reader.read_at(self._pos, n)
        self._pos += n
        return n

    def close(self) -> None:
        self._reader.close()
        super().close()


def close_filesystems() -> None:
    """Empties the engine's filesystem cache (existing handles keep working)."""
    library().loon_close_filesystems()
