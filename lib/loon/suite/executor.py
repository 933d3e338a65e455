"""Where the runner's notebooks execute: an ``Executor`` runs ``Job``s and hands back ``Outcome``s.

``LocalProcessExecutor`` runs each notebook in a forked worker process on this machine (papermill starts
the notebook's kernel from there). Another executor (e.g. one that sends jobs to a cluster) implements
the same four methods; the runner only starts jobs, polls for finished ones and stops the rest. What a
job needs besides its notebook travels in files: the run-control JSON (``control_file``) the kernel
reads, and the progress file (``progress``) the kernel appends case events to, which the runner reads
while the job runs. A remote executor has to make both reachable under the same paths or copy them.

Worker processes leave the terminal's process group, so a Ctrl-C reaches only the runner, which then
stops each worker with SIGTERM: the worker stops papermill (which shuts the kernel down and saves the
partly executed notebook) and reports the job as interrupted.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

__all__ = [
    "Executor",
    "Job",
    "LocalProcessExecutor",
    "Outcome",
    "ipc_kernel_manager",
    "kernel_socket_dir",
    "run_notebook",
]

KERNEL_NAME = "loon-suite-python"


@dataclass
class Job:
    """One notebook to execute (picklable: it crosses into worker processes)."""

    category: str
    source: Path
    output: Path
    parameters: dict[str, str]
    timeout: float | None
    control_file: Path
    progress: Path
    log: Path
    """Where the worker's and the kernel's own stdout/stderr go (kernel logs, not cell output)."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment the notebook needs besides the runner's (e.g. its backend's emulator address)."""


@dataclass
class Outcome:
    category: str
    ipynb: Path
    seconds: float
    run_error: str | None = None
    """An error the notebook itself may not show: timeout, dead kernel, kernel that never started."""
    interrupted: bool = False
    """Stopped by the runner (Ctrl-C, or a failure under -x)."""
    stop_reason: str = ""
    """Why the runner stopped it (set by the runner)."""


class Executor(Protocol):
    """Runs jobs: at most ``capacity`` at a time."""

    capacity: int

    def start(self, job: Job) -> None:
        """Starts ``job`` (the caller keeps at most ``capacity`` running)."""

    def active(self) -> int:
        """How many started jobs have not been returned by ``poll`` or ``stop_all`` yet."""

    def poll(self) -> list[Outcome]:
        """Outcomes of jobs that finished since the last call; does not block."""

    def stop_all(self, grace: float) -> list[Outcome]:
        """Stops every running job (waiting up to ``grace`` seconds for each to save its notebook)."""


def ipc_kernel_manager(socket_dir: str | os.PathLike[str]) -> type:
    """A jupyter_client kernel manager whose kernel talks over Unix sockets in ``socket_dir``, not TCP.

    Over TCP the manager picks five free ports and the kernel binds them seconds later, once started;
    on a busy machine another process (a client connection to an emulator, a Ray worker, another
    kernel) sometimes takes one in between, and the kernel dies at start with ``ZMQError: Address
    already in use``: a notebook that fails for no reason of its own. Socket files in a directory of
    our own cannot be taken. One kernel per directory.
    """
    from jupyter_client import AsyncKernelManager
    from traitlets import default

    class IpcKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        @default("ip")
        def _default_ip(self) -> str:
            return os.path.join(socket_dir, "kernel")  # sockets kernel-1 .. kernel-5

    return IpcKernelManager


def kernel_socket_dir() -> tempfile.TemporaryDirectory:
    """A fresh directory for one kernel's sockets (a short path: a socket path has at most 107 bytes)."""
    base = tempfile.gettempdir()
    return tempfile.TemporaryDirectory(prefix="loon-kernel-", dir=base if len(base) <= 64 else "/tmp")


def run_notebook(job: Job) -> Outcome:
    """Executes one notebook with papermill and renders its HTML; never raises for a failing notebook."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from . import report

    os.environ.update(job.env)  # this process runs only this job (a worker; a Ray task restores it)
    os.environ["LOON_SUITE_RUN"] = str(job.control_file)  # read by the kernel (loon.suite.control)
    start = time.perf_counter()
    run_error = None
    interrupted = False
    try:
        with kernel_socket_dir() as sockets:
            papermill.execute_notebook(
                str(job.source),
                str(job.output),
                parameters=job.parameters,
                kernel_name=KERNEL_NAME,
                kernel_manager_class=ipc_kernel_manager(sockets),
                cwd=str(job.source.parent),  # as in Jupyter: relative paths start at the notebook
                execution_timeout=job.timeout,
                progress_bar=False,
            )
    except PapermillExecutionError:
        pass  # the executed notebook holds the failing cell and its traceback
    except KeyboardInterrupt:
        interrupted = True
    except Exception as exc:  # timeouts, dead kernels, kernels that never started
        run_error = f"{type(exc).__name__}: {exc}".strip()
    seconds = time.perf_counter() - start
    if job.output.exists():
        try:
            report.export_html(job.output)
        except Exception as exc:
            print(f"warning: HTML export of {job.output} failed: {exc}", file=sys.stderr)
    return Outcome(job.category, job.output, seconds, run_error, interrupted)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _worker(job: Job, conn: Connection) -> None:
    os.setpgid(0, 0)  # out of the terminal's foreground group: Ctrl-C is the runner's to handle
    # The kernel inherits these: its log lines (e.g. a traceback about a socket closed under it while it
    # is stopped) belong in a file, not on the runner's console. Cell output reaches the notebook anyway.
    with open(job.log, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        outcome = run_notebook(job)
    except KeyboardInterrupt:
        outcome = Outcome(job.category, job.output, 0.0, None, interrupted=True)
    except BaseException as exc:  # noqa: BLE001 - reported to the runner, not lost with the process
        outcome = Outcome(job.category, job.output, 0.0, f"runner worker failed: {exc!r}")
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the outcome must get out now
    conn.send(outcome)
    conn.close()


@dataclass
class _Running:
    job: Job
    process: multiprocessing.process.BaseProcess
    conn: Connection
    started: float


class LocalProcessExecutor:
    """Runs each job in its own forked process on this machine."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._running: list[_Running] = []
        # fork after importing papermill and nbconvert here: workers start with them loaded (about 2 s
        # saved per notebook). Safe because the runner has no threads or zmq sockets of its own.
        import nbconvert  # noqa: F401
        import papermill  # noqa: F401

        self._context = multiprocessing.get_context("fork")

    def start(self, job: Job) -> None:
        receive, send = self._context.Pipe(duplex=False)
        process = self._context.Process(target=_worker, args=(job, send), name=f"notebook-{job.category}")
        process.start()
        send.close()
        self._running.append(_Running(job, process, receive, time.perf_counter()))

    def active(self) -> int:
        return len(self._running)

    def _finish(self, run: _Running, timeout: float) -> Outcome | None:
        """The job's outcome if its process has sent it (waiting up to ``timeout``), else None."""
        if not run.conn.poll(timeout):
            if run.process.is_alive():
                return None
            # Died without a word (killed, or crashed in C): say so rather than lose the notebook.
            outcome = Outcome(
                run.job.category,
                run.job.output,
                time.perf_counter() - run.started,
                f"runner worker exited with code {run.process.exitcode} before reporting",
            )
        else:
            try:
                outcome = run.conn.recv()
            except EOFError:
                outcome = Outcome(run.job.category, run.job.output, time.perf_counter() - run.started,
                                  f"runner worker exited with code {run.process.exitcode}")  # fmt: skip
        run.process.join(timeout=10)
        run.conn.close()
        self._running.remove(run)
        return outcome

    def poll(self) -> list[Outcome]:
        return [o for run in list(self._running) if (o := self._finish(run, 0)) is not None]

    def stop_all(self, grace: float) -> list[Outcome]:
        for run in self._running:
            if run.process.is_alive():
                run.process.terminate()  # SIGTERM: KeyboardInterrupt in the worker, kernel shut down
        outcomes = []
        deadline = time.monotonic() + grace
        for run in list(self._running):
            outcome = self._finish(run, max(0.0, deadline - time.monotonic()))
            if outcome is None:  # did not stop in time
                run.process.kill()
                run.process.join(timeout=5)
                outcome = self._finish(run, 0) or Outcome(
                    run.job.category, run.job.output, time.perf_counter() - run.started
                )
                if run in self._running:
                    self._running.remove(run)
            outcome.interrupted = True
            outcomes.append(outcome)
        return outcomes
