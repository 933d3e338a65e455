"""Runs engine calls in a child process, so a crash, a hang or a memory blow-up is an outcome the
test reports instead of the end of the test run.

``Child.call(target, *args)`` sends the call to a long-lived worker (``worker.py``) and returns an
``Outcome``: ``ok`` (with the target's return value), ``error`` (a ``LoonError`` with its code),
``uncoded`` (any other exception), ``crash`` (the worker died: a signal, or an ASan report),
``hang`` (no answer within the timeout: the worker is killed) or ``memory`` (its peak resident
memory grew by more than the limit). A dead or killed worker is replaced before the next call.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import loon

WORKER = Path(__file__).with_name("worker.py")


@dataclass
class Outcome:
    kind: str  # ok | error | uncoded | crash | hang | memory
    value: Any = None
    code: int | None = None
    detail: str = ""
    seconds: float = 0.0
    rss_growth_mb: float = 0.0

    @property
    def failed_hard(self) -> bool:
        """A crash, hang, memory blow-up or an exception without an FFI error code."""
        return self.kind in ("crash", "hang", "memory", "uncoded")

    def __str__(self) -> str:
        what = f"code {self.code}" if self.kind == "error" else self.kind
        return f"{what} after {self.seconds:.2f}s: {self.detail[:300]}"


class Child:
    """One worker process, restarted after a crash or hang."""

    def __init__(self, timeout: float = 20.0, memory_limit_mb: float = 1500.0):
        self.timeout = timeout
        self.memory_limit_mb = memory_limit_mb
        self.proc: subprocess.Popen | None = None
        self.stderr_file: Any = None
        self.restarts = 0

    def _start(self) -> None:
        self.stderr_file = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            env={**os.environ, "LOON_FUZZ_LOON_PATH": str(Path(loon.__file__).parent.parent)},
        )

    def _stderr_tail(self) -> str:
        if self.stderr_file is None:
            return ""
        self.stderr_file.seek(0)
        text = self.stderr_file.read().decode("utf-8", "replace")
        return text[-3000:]

    def _reap(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        if self.stderr_file is not None:
            self.stderr_file.close()
        self.proc = None
        self.stderr_file = None

    def _read_exact(self, n: int, deadline: float) -> bytes | None:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks = []
        while n > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, n)
            if not chunk:
                return None  # the worker died
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def call(self, target: str, *args: Any, timeout: float | None = None) -> Outcome:
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self._reap()
                self.restarts += 1
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        start = time.monotonic()
        body = pickle.dumps((target, args), protocol=pickle.HIGHEST_PROTOCOL)
        deadline = start + (timeout or self.timeout)
        try:
            self.proc.stdin.write(struct.pack("<I", len(body)) + body)
            self.proc.stdin.flush()
            head = self._read_exact(4, deadline)
            reply = None if head is None else self._read_exact(struct.unpack("<I", head)[0], deadline)
        except TimeoutError:
            self._reap()
            waited = time.monotonic() - start
            return Outcome("hang", detail=f"{target}: no answer in {timeout or self.timeout}s", seconds=waited)
        except (BrokenPipeError, ConnectionResetError):
            reply = None
        seconds = time.monotonic() - start
        if reply is None:
            rc = self.proc.wait()
            why = f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit {rc}"
            detail = f"{target}: worker died ({why})\n{self._stderr_tail()}"
            self._reap()
            return Outcome("crash", detail=detail, seconds=seconds)
        kind, payload, growth = pickle.loads(reply)
        if growth > self.memory_limit_mb:
            self._reap()  # its heap stays grown: start afresh
            return Outcome("memory", detail=f"{target}: peak memory grew by {growth:.0f} MB", seconds=seconds,
                           rss_growth_mb=growth)
        if kind == "ok":
            return Outcome("ok", value=payload, seconds=seconds, rss_growth_mb=growth)
        if kind == "error":
            code, name, message = payload
            return Outcome("error", code=code, detail=f"{name}: {message}", seconds=seconds, rss_growth_mb=growth)
        name, message, trace = payload
        return Outcome("uncoded", detail=f"{name}: {message}\n{trace}", seconds=seconds, rss_growth_mb=growth)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._reap()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
