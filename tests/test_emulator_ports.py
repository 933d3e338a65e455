"""An emulator whose port another process took before it could bind it is started again on another port.

``emulators.start`` picks a free port seconds before the emulator binds it; on a busy machine another
process sometimes takes it in between. The emulator then exits with "address already in use", and an
answer on that port comes from the other process, not from ours: neither may pass for a started emulator.
"""

from __future__ import annotations

import http.server
import threading

import pytest

from loon.suite import emulators


@pytest.fixture
def foreign_server():
    """Another process's HTTP server on a port (answers every request with 404)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_taken_port_is_not_mistaken_for_the_emulator_and_another_is_tried(monkeypatch, foreign_server):
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"moto not installed: {exc}")
    ports = [foreign_server]
    real_free_port = emulators.free_port
    monkeypatch.setattr(emulators, "free_port", lambda: ports.pop(0) if ports else real_free_port())
    with emulators.start("moto") as emu:
        assert emu.port != foreign_server and emu.process.poll() is None
        assert emulators._listens(emu)
        emulators._create_s3_bucket(emu, "second")  # our moto answers: the foreign server would say 404


def test_the_port_taken_every_time_gives_up_with_the_log(monkeypatch, foreign_server):
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"moto not installed: {exc}")
    monkeypatch.setattr(emulators, "free_port", lambda: foreign_server)
    with pytest.raises(emulators.EmulatorError, match="(?i)address already in use"):
        emulators.start("moto")
