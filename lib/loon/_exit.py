"""Writers still open when the interpreter exits are aborted while the AWS SDK still works.

pyarrow finalizes the AWS SDK in an ``atexit`` handler, registered when ``pyarrow.fs`` is first
imported. Objects are collected only after every handler ran, so a writer collected then can no
longer abort its S3 multipart upload: the parts stay on the bucket, billed, until a lifecycle rule
removes them. Handlers run in reverse order of registration; this module imports ``pyarrow.fs``
before registering its own, so ours always runs first.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from typing import Protocol

import pyarrow.fs  # noqa: F401  (registers pyarrow's S3 finalizer before ours: see above)


class Abortable(Protocol):
    call_lock: threading.RLock

    def destroy(self) -> None: ...


_open: weakref.WeakSet[Abortable] = weakref.WeakSet()


def track(writer: Abortable) -> None:
    """Aborts ``writer`` at exit if it is still open then (``destroy`` must be a no-op once done)."""
    _open.add(writer)


def abort_open_writers() -> None:
    """Destroys every tracked writer, except one a (daemon) thread is using right now."""
    for writer in list(_open):
        if not writer.call_lock.acquire(blocking=False):
            continue  # destroying it under a running call would crash; its upload is left behind
        try:
            writer.destroy()
        except Exception:
            pass
        finally:
            writer.call_lock.release()


atexit.register(abort_open_writers)
