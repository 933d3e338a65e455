"""A small cache of opened files/datasets, keyed by location and a cheap change stamp.

The engine calls a provider many times for one read (every file's row count when a read opens,
then one stream per chunk or take), and opening a Lance dataset or a Vortex footer costs about a
millisecond each time. An entry is reused only while its stamp (an mtime/size the caller picks
so that any change of the data changes it) is unchanged, so a dataset changed after an import is
seen at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class OpenCache:
    """Up to ``capacity`` opened objects, least recently used dropped first; thread-safe."""

    def __init__(self, capacity: int = 32):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[Hashable, Any]] = OrderedDict()

    def get(self, location: str, stamp: Hashable | None, open_fn: Callable[[], Any]) -> Any:
        """The object opened for ``location`` at ``stamp`` (``stamp`` None: never cached)."""
        if stamp is not None:
            with self._lock:
                hit = self._items.get(location)
                if hit is not None and hit[0] == stamp:
                    self._items.move_to_end(location)
                    return hit[1]
        opened = open_fn()
        if stamp is not None:
            with self._lock:
                self._items[location] = (stamp, opened)
                self._items.move_to_end(location)
                while len(self._items) > self.capacity:
                    self._items.popitem(last=False)
        return opened

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
