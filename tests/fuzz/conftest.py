"""Fixtures of the hostile-input tests: one worker process per module, restarted on a crash."""

from __future__ import annotations

import pytest

from .child import Child


@pytest.fixture(scope="module")
def child():
    with Child() as c:
        yield c
