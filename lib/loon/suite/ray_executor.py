"""The runner's Ray executor: each (notebook, backend, profile) execution is a Ray task.

``RayExecutor`` implements the runner's ``Executor`` protocol (``loon.suite.executor``). A task runs on
whichever node Ray picks and executes the notebook with ``executor.run_notebook`` — the very function
the local executor runs, so parameters, kernel and case protocol are the same. Nothing is assumed about
shared disks: the task carries the notebook, its params file and the run-control file, and the
executed notebook, its HTML, its progress events and its kernel log travel back to the driver, which
writes them where the local executor would have. Case progress events are the exception on the
driver's own node: there the task appends them to the driver's progress file as they happen, so the
console shows them live and a dead notebook's finished cases are known; from other nodes they arrive
when the notebook ends.

On the node, the task uses the project as installed there (the ``loon`` package importable by the
worker: installed on every node, or shipped by Ray's ``runtime_env``) and that node's Python for the
kernel. The notebook runs in its source directory when that exists on the node (as locally), else in
a scratch directory holding the shipped copy.

A task that dies — its worker process killed or crashed, its node lost — is not retried (a notebook
is not idempotent on shared storage); it comes back as an outcome with ``run_error`` naming the
notebook and backend, which the report shows like a dead kernel. ``stop_all`` (Ctrl-C) cancels the
tasks: a running notebook gets KeyboardInterrupt, as the local worker does on SIGTERM, and tasks
still running after the grace period are killed with their worker.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import raycluster
from .executor import KERNEL_NAME, Job, Outcome, run_notebook

__all__ = ["RayExecutor", "TaskPayload", "TaskResult", "execute_payload"]


@dataclass
class TaskPayload:
    """Everything a task needs to run one notebook on any node (pickled into the task)."""

    label: str
    """The job's name in the runner (``category``, or ``category@backend`` with several backends)."""
    backend: str
    source: str
    notebook: bytes
    parameters: dict[str, str]
    timeout: float | None
    params_text: str | None
    control_text: str | None
    kernel_spec: dict[str, Any]
    """The kernel spec; ``argv[0]`` is replaced by the node's own Python."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment for the notebook (e.g. the emulator address its params file references)."""
    progress: str = ""
    """The driver's progress file: written directly (live, and kept if the task dies) on the driver's node."""
    driver_node: str = ""


@dataclass
class TaskResult:
    """What a finished task sends back (file contents, since the driver may not share a disk with it)."""

    seconds: float
    run_error: str | None
    interrupted: bool
    host: str
    ipynb: bytes | None = None
    html: bytes | None = None
    progress: bytes = b""
    log: bytes = b""


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def execute_payload(payload: TaskPayload) -> TaskResult:
    """Runs on the node: lays out the job in a scratch directory and calls ``executor.run_notebook``."""
    import loon

    scratch = Path(tempfile.mkdtemp(prefix="loon-ray-job-"))
    name = Path(payload.source).name
    source = Path(payload.source)
    if not source.is_file():  # no shared checkout: run the shipped copy
        source = scratch / "notebooks" / name
        source.parent.mkdir()
        source.write_bytes(payload.notebook)
    parameters = dict(payload.parameters)
    params_file = parameters.get("params_file", "")
    if payload.params_text is not None and not Path(params_file).is_file():
        parameters["params_file"] = str(scratch / Path(params_file).name)
        Path(parameters["params_file"]).write_text(payload.params_text)
    import ray

    on_driver_node = ray.get_runtime_context().get_node_id() == payload.driver_node
    progress = Path(payload.progress) if on_driver_node and payload.progress else scratch / "progress.jsonl"
    control_file = scratch / "control.json"
    control = json.loads(payload.control_text) if payload.control_text else {}
    control["progress"] = str(progress)
    control_file.write_text(json.dumps(control))
    spec_dir = scratch / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = json.loads(json.dumps(payload.kernel_spec))
    spec["argv"][0] = sys.executable
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    lib_dir = str(Path(loon.__file__).resolve().parents[1])
    job = Job(payload.label, source, scratch / "out" / name, parameters, payload.timeout, control_file, progress,
              scratch / "kernel.log")  # fmt: skip
    job.output.parent.mkdir()

    # Workers are reused: environment and file descriptors are restored after the notebook.
    saved_env = dict(os.environ)
    os.environ.update(payload.env)
    jupyter_path = [str(scratch / "jupyter"), saved_env.get("JUPYTER_PATH")]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, jupyter_path))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [lib_dir, saved_env.get("PYTHONPATH")]))
    os.environ.pop("MPLBACKEND", None)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fds = os.dup(1), os.dup(2)
    with open(job.log, "ab") as log:  # the kernel's own output (not cell output), as locally
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        outcome = run_notebook(job)
    except KeyboardInterrupt:  # cancelled before papermill could catch it
        outcome = Outcome(payload.label, job.output, 0.0, None, interrupted=True)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_fds[0], 1)
        os.dup2(saved_fds[1], 2)
        for fd in saved_fds:
            os.close(fd)
        os.environ.clear()
        os.environ.update(saved_env)
    shipped_progress = b"" if on_driver_node else _read(progress) or b""
    result = TaskResult(outcome.seconds, outcome.run_error, outcome.interrupted, socket.gethostname(),
                        _read(job.output), _read(job.output.with_suffix(".html")), shipped_progress,
                        _read(job.log) or b"")  # fmt: skip
    shutil.rmtree(scratch, ignore_errors=True)
    return result


@dataclass
class _Submitted:
    job: Job
    backend: str
    ref: Any
    started: float
    cancelled: bool = False


class RayExecutor:
    """Runs the runner's jobs as Ray tasks on the cluster ``raycluster.cluster`` connected to.

    ``capacity`` bounds the jobs submitted at once (Ray queues them further by free CPUs: each task asks
    for ``num_cpus``). A job's backend (for messages) is its ``backend`` parameter; its ``env`` travels
    with the task.
    """

    def __init__(self, capacity: int, kernel_spec: Mapping[str, Any], num_cpus: float = 1) -> None:
        self._ray = raycluster.import_ray()
        if not self._ray.is_initialized():
            raise RuntimeError("RayExecutor needs a connected Ray cluster (use loon.suite.raycluster.cluster)")
        self.capacity = capacity
        self._kernel_spec = dict(kernel_spec)
        self._task = self._ray.remote(num_cpus=num_cpus, max_retries=0)(execute_payload)
        self._running: list[_Submitted] = []
        self._node_id = self._ray.get_runtime_context().get_node_id()

    def start(self, job: Job) -> None:
        params_file = Path(job.parameters.get("params_file", ""))
        payload = TaskPayload(
            label=job.category,
            backend=job.parameters.get("backend", "?"),
            source=str(job.source),
            notebook=job.source.read_bytes(),
            parameters=dict(job.parameters),
            timeout=job.timeout,
            params_text=params_file.read_text() if params_file.is_file() else None,
            control_text=job.control_file.read_text() if job.control_file.is_file() else None,
            kernel_spec=self._kernel_spec,
            env=dict(job.env),
            progress=str(job.progress),
            driver_node=self._node_id,
        )
        ref = self._task.options(name=f"notebook {job.category} ({payload.backend})").remote(payload)
        self._running.append(_Submitted(job, payload.backend, ref, time.perf_counter()))

    def active(self) -> int:
        return len(self._running)

    def _outcome(self, run: _Submitted) -> Outcome:
        """The outcome of a finished task; a lost task becomes a ``run_error`` naming notebook and backend."""
        ray = self._ray
        job = run.job
        try:
            result: TaskResult = ray.get(run.ref)
        except ray.exceptions.TaskCancelledError:
            return Outcome(job.category, job.output, time.perf_counter() - run.started, None, interrupted=True)
        except ray.exceptions.RayError as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            if run.cancelled:  # killed by stop_all after the grace period
                return Outcome(job.category, job.output, time.perf_counter() - run.started, None, interrupted=True)
            what = "failed" if isinstance(exc, ray.exceptions.RayTaskError) else "lost"  # raised vs worker/node gone
            return Outcome(job.category, job.output, time.perf_counter() - run.started,
                           f"Ray task {what} running notebook {job.source.stem!r} on backend {run.backend!r}: "
                           f"{type(exc).__name__}: {first}")  # fmt: skip
        self._write_back(job, result)
        return Outcome(job.category, job.output, result.seconds, result.run_error, result.interrupted)

    @staticmethod
    def _write_back(job: Job, result: TaskResult) -> None:
        """Puts the task's files where the local executor would have written them."""
        job.output.parent.mkdir(parents=True, exist_ok=True)
        if result.ipynb is not None:
            job.output.write_bytes(result.ipynb)
        if result.html is not None:
            job.output.with_suffix(".html").write_bytes(result.html)
        job.progress.parent.mkdir(parents=True, exist_ok=True)
        with open(job.progress, "ab") as progress:
            progress.write(result.progress)
        job.log.parent.mkdir(parents=True, exist_ok=True)
        with open(job.log, "ab") as log:
            log.write(f"[ran on {result.host}]\n".encode() + result.log)

    def poll(self) -> list[Outcome]:
        if not self._running:
            return []
        refs = [run.ref for run in self._running]
        ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=0)
        done = [run for run in self._running if run.ref in ready]
        for run in done:
            self._running.remove(run)
        return [self._outcome(run) for run in done]

    def stop_all(self, grace: float) -> list[Outcome]:
        ray = self._ray
        for run in self._running:
            ray.cancel(run.ref)  # KeyboardInterrupt in the task: papermill stops the kernel
        deadline = time.monotonic() + grace
        refs = [run.ref for run in self._running]
        ray.wait(refs, num_returns=len(refs), timeout=max(0.0, deadline - time.monotonic()))
        outcomes = []
        for run in list(self._running):
            ready, _ = ray.wait([run.ref], timeout=0)
            if not ready:  # did not stop in time: end its worker
                run.cancelled = True
                ray.cancel(run.ref, force=True)
            outcome = self._outcome(run)
            outcomes.append(replace(outcome, interrupted=True))
            self._running.remove(run)
        return outcomes
