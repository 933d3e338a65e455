"""The suite's moto launcher makes create-only PUTs atomic, as S3 does (plain moto checks, then stores)."""

from __future__ import annotations

import io
import threading
import time

import pytest

from loon.suite import emulators
from loon.suite.moto_atomic import SerializedConditionalWrites

RACERS = 8


def _check_then_store_app(store: dict[str, bytes]):
    """A WSGI app with moto's shape of create-only PUT: look the key up, pause, then store."""

    def app(environ, start_response):
        key = environ["PATH_INFO"]
        body = environ["wsgi.input"].read()
        if environ.get("HTTP_IF_NONE_MATCH") == "*" and key in store:
            start_response("412 Precondition Failed", [])
            return [b""]
        time.sleep(0.02)  # the window between moto's check and its store
        store[key] = body
        start_response("200 OK", [])
        return [b""]

    return app


def _at_once(attempt) -> list[str]:
    """Runs ``attempt(i)`` in RACERS threads released together; returns what each returned."""
    outcomes: list[str] = []
    barrier = threading.Barrier(RACERS)

    def run(i: int) -> None:
        barrier.wait()
        outcomes.append(attempt(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _race(app, key: str) -> list[str]:
    """RACERS create-only PUTs of ``key`` into the WSGI ``app`` at once; returns their statuses."""

    def put(i: int) -> str:
        environ = {"REQUEST_METHOD": "PUT", "PATH_INFO": key, "HTTP_IF_NONE_MATCH": "*",
                   "wsgi.input": io.BytesIO(str(i).encode())}
        statuses: list[str] = []
        list(app(environ, lambda status, headers: statuses.append(status)))
        return statuses[0]

    return _at_once(put)


def test_a_check_then_store_server_lets_racers_both_win():
    """The fault the launcher exists for, shown on an app shaped like moto's PUT."""
    statuses = _race(_check_then_store_app({}), "/bucket/manifest-1.avro")
    assert sum(s.startswith("200") for s in statuses) > 1, statuses


def test_serialized_conditional_writes_let_exactly_one_racer_win():
    statuses = _race(SerializedConditionalWrites(_check_then_store_app({})), "/bucket/manifest-1.avro")
    assert sorted(s[:3] for s in statuses) == ["200"] + ["412"] * (RACERS - 1), statuses


def test_unconditional_requests_are_not_serialized():
    started, release = threading.Barrier(2, timeout=5), threading.Event()

    def app(environ, start_response):
        started.wait()  # both requests must be inside the app at once
        release.wait(5)
        start_response("200 OK", [])
        return [b""]

    wrapped = SerializedConditionalWrites(app)
    threads = [threading.Thread(target=lambda: list(wrapped({"REQUEST_METHOD": "PUT", "PATH_INFO": "/b/k"},
                                                             lambda *a: None))) for _ in range(2)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join(10)
    assert not started.broken


def _race_create_only_puts(s3, bucket: str, key: str) -> list[str]:
    """RACERS threads PUT ``key`` with If-None-Match: * at once: "won" or the HTTP status each."""

    def put(i: int) -> str:
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=str(i).encode(), IfNoneMatch="*")
            return "won"
        except s3.exceptions.ClientError as exc:
            return str(exc.response["ResponseMetadata"]["HTTPStatusCode"])

    return _at_once(put)


def test_the_launched_moto_gives_each_key_one_create_only_winner():
    try:
        import boto3
        import moto.server  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"moto not installed: {exc}")
    with emulators.start("moto") as emu:
        s3 = boto3.client("s3", endpoint_url=emu.endpoint, region_name="us-east-1",
                          aws_access_key_id=emulators.S3_KEY, aws_secret_access_key=emulators.S3_KEY)
        for k in range(10):
            outcomes = _race_create_only_puts(s3, emu.bucket, f"race/manifest-{k}.avro")
            assert sorted(outcomes) == ["412"] * (RACERS - 1) + ["won"], f"key {k}: {outcomes}"
