"""A subprocess whose output is read while it runs, for tests of what a command prints before it ends."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path


class LiveProcess:
    """Runs ``command`` with stdout and stderr merged into one stream, collected line by line as printed."""

    def __init__(self, command: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)  # fmt: skip
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def wait_for_line(self, text: str, seconds: float) -> str:
        """The first line containing ``text``; ``AssertionError`` (with the output so far) if none is
        printed within ``seconds`` or the process ends without printing it."""
        deadline = time.monotonic() + seconds
        while True:
            found = next((line for line in list(self._lines) if text in line), None)
            if found is not None:
                return found
            if time.monotonic() > deadline or (self.proc.poll() is not None and not self._reader.is_alive()):
                raise AssertionError(f"no line with {text!r} within {seconds} s; output so far:\n{self.output}")
            time.sleep(0.2)

    def finish(self, timeout: float) -> str:
        """Waits for the process to end (killing it after ``timeout`` s, an ``AssertionError``); its output."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"did not finish within {timeout} s; output:\n{self.output}") from None
        self._reader.join(timeout=30)
        return self.output

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=30)
