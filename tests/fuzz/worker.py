"""The child side of ``child.py``: runs calls of ``targets`` sent on stdin, answers on stdout.

Frames are a 4-byte little-endian length and a pickle. The answer is ``(kind, payload, growth)``
where growth is how much the peak resident memory rose during the call (MB). Anything the engine
prints goes to stderr (fd 1 is pointed there), so it cannot corrupt the frames.
"""

from __future__ import annotations

import os
import pickle
import resource
import struct
import sys
import traceback


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _use_parents_loon() -> None:
    """Import the same ``loon`` as the parent: an import hook (an editable install of another
    checkout) must not give the child different code."""
    where = os.environ.get("LOON_FUZZ_LOON_PATH")
    if not where:
        return
    sys.path.insert(0, where)
    for finder in list(sys.meta_path):
        try:
            spec = finder.find_spec("loon", None) if hasattr(finder, "find_spec") else None
        except Exception:  # noqa: BLE001
            spec = None
        if spec is not None and spec.origin and not spec.origin.startswith(where):
            sys.meta_path.remove(finder)


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    if "asan" not in os.environ.get("LD_PRELOAD", ""):
        # A runaway allocation fails here instead of taking the machine's memory (ASan reserves
        # terabytes of address space, so no limit under it).
        limit = 4 << 30
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _use_parents_loon()
    import targets

    import loon  # noqa: F401  (load the engine before the first call is timed)

    stdin = sys.stdin.buffer
    while True:
        head = stdin.read(4)
        if len(head) < 4:
            return
        (size,) = struct.unpack("<I", head)
        name, args = pickle.loads(stdin.read(size))
        before = _peak_mb()
        try:
            reply = ("ok", getattr(targets, name)(*args))
        except loon.LoonError as e:
            reply = ("error", (e.code, type(e).__name__, e.message[:2000]))
        except BaseException as e:  # noqa: BLE001  (every other exception is a finding)
            reply = ("uncoded", (type(e).__name__, str(e)[:2000], traceback.format_exc()[-3000:]))
        body = pickle.dumps((*reply, _peak_mb() - before), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(struct.pack("<I", len(body)) + body)
        out.flush()


if __name__ == "__main__":
    main()
