"""moto's S3 server with conditional writes made atomic, as S3 makes them.

moto answers a PUT carrying ``If-None-Match: *`` (or ``If-Match``) by first looking the key up and
then storing the object, two steps on a threaded server: two create-only PUTs of one key racing
each other can both get 200, which S3 never allows. The engine publishes each manifest version
with such a PUT, so on plain moto two committers could, rarely, both "win" one version — a fault
of the emulator that a commit-race test would blame on the engine.

This program runs moto's own WSGI application under werkzeug exactly as ``python -m moto.server``
does, with one change: requests that write under a precondition (PUT/POST with ``If-None-Match``
or ``If-Match``) run one at a time. Everything else stays concurrent.

Run as a script (``emulators.py`` does): ``python moto_atomic.py -H 127.0.0.1 -p PORT``. It needs
only moto and werkzeug, not the ``loon`` package.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# WSGI names of the request headers that make a write conditional.
CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH")


class SerializedConditionalWrites:
    """WSGI middleware: conditional writes run one at a time, each to its end (body included)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.lock = threading.Lock()

    @staticmethod
    def is_conditional_write(environ: dict[str, Any]) -> bool:
        return environ.get("REQUEST_METHOD") in ("PUT", "POST") and any(h in environ for h in CONDITIONAL_HEADERS)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.is_conditional_write(environ):
            return self.app(environ, start_response)
        with self.lock:
            # Consume the whole answer inside the lock: the check and the store both happen
            # before another conditional write of any key may start.
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds some URLs from it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, SerializedConditionalWrites(app), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
