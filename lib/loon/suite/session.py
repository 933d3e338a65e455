"""One notebook's run: configuration, cases, datasets and engine capabilities behind one object.

The setup cell of every notebook is one call::

    suite = Session("write_read", backend=backend, params_file=params_file, profile=profile)

    @suite.case                               # runs now, recorded under the function's name
    def test_file_rolling_by_size():
        suite.require("any_order_take")       # skips with the reason if the engine lacks it
        with suite.dataset() as ds:           # <base>/write_read/test_file_rolling_by_size-<uuid>
            ...

    suite.finish()                            # last cell: closes shared datasets, raises on failures

The session loads the backend configuration once. When the backend cannot be used (a cloud backend
whose credentials are unset) that is the run's skip reason: every case is recorded as skipped with
it and ``@suite.block`` cells (shared data, throughput) do not run. Datasets are named after the
running case, so no case types its own name. ``suite.shared(label)`` gives a dataset that lives
until ``finish`` (e.g. one table read by many cases).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from .._ffi import library_info
from ..capability import Capabilities, capabilities
from ..column_groups import ColumnGroups
from ..faults import fault_injection_enabled
from . import backend as backend_features
from .cases import Case, CaseResult, CaseSuite, Skip, Summary, publish_engine
from .config import BackendConfig, Profile, try_load
from .storage import CaseDataset, Storage, StoredFile, stored_files
from .throughput import ThroughputRecorder

__all__ = ["NO_FAULT_INJECTION", "Session"]

NO_FAULT_INJECTION = "engine built without libfiu: install libfiu-dev and rebuild (make build)"


class Session:
    """The case suite, storage and capabilities of one notebook (category)."""

    def __init__(
        self,
        category: str,
        *,
        backend: str = "local",
        params_file: str = "",
        profile: str | Profile = "smoke",
        keep: bool = False,
    ) -> None:
        self.category = category
        self.cfg: BackendConfig = try_load(params_file or None, backend=None if params_file else backend)
        self.skip_reason: str | None = self.cfg.skip_reason()
        """Why no case of this run can run (e.g. unset credentials), or None."""
        self.suite = CaseSuite(category, profile=profile)
        self.profile: Profile = self.suite.profile
        self.store = Storage(self.cfg, category, keep=keep)
        self.rec = ThroughputRecorder(category)
        self.engine = library_info()
        publish_engine(self.engine)
        self._caps: Capabilities | None = None
        self._shared = contextlib.ExitStack()

    # ---- cases -----------------------------------------------------------------------------

    @property
    def results(self) -> list[CaseResult]:
        return self.suite.results

    def rows(self, base: int) -> int:
        """``base`` rows scaled by the run profile."""
        return self.profile.rows(base)

    def run(self, func: Callable[[], Any], name: str | None = None) -> CaseResult | None:
        """Runs ``func`` as a case (default name: the function's), or records it skipped with the run's reason."""
        name = name or func.__name__
        if self.skip_reason:
            self.suite.skip_case(name, self.skip_reason)
            return None
        return self.suite.run(func, name)

    def case(self, func: Callable[[], Any] | None = None, *, name: str | None = None) -> Any:
        """Decorator: runs the function now as a case (``@suite.case`` or ``@suite.case(name=...)``).

        Returns a ``Case``: calling it runs the case again (its new result replaces the old one).
        """
        if func is None:
            return lambda f: self.case(f, name=name)
        case_name = name or func.__name__
        self.run(func, case_name)
        return Case(self.suite, func, case_name, run=self.run)

    def skip_case(self, name: str, reason: str) -> None:
        self.suite.skip_case(name, reason)

    def block(self, func: Callable[[], Any]) -> Any:
        """Decorator for a notebook block that is not a case (shared data, throughput): runs it now
        unless the run is skipped; returns what it returned (None when skipped)."""
        if self.skip_reason:
            print(f"skipped: {self.skip_reason}")
            return None
        return func()

    def finish(self) -> Summary:
        """Closes shared datasets, prints the summary, raises ``CaseFailures`` naming failed cases."""
        self._shared.close()
        return self.suite.finish()

    # ---- datasets --------------------------------------------------------------------------

    @contextlib.contextmanager
    def dataset(self, part: str | None = None) -> Iterator[CaseDataset]:
        """A fresh dataset named after the running case (``<case>-<part>`` when a case needs several),
        removed when the block ends. Outside a case (a ``block``) ``part`` alone names it."""
        if self.suite.running is None and part is None:
            raise RuntimeError("no case is running: name the dataset, suite.dataset(label)")
        name = "-".join(n for n in (self.suite.running, part) if n)
        with self.store.dataset(_safe(name)) as ds:
            yield ds

    def shared(self, label: str) -> CaseDataset:
        """A dataset for several cases, removed by ``finish`` (not created when the run is skipped)."""
        if self.skip_reason:
            return CaseDataset(self.cfg.case_path(self.category, label), dict(self.cfg.properties))
        return self._shared.enter_context(self.store.dataset(label))

    def data_files(self, groups: ColumnGroups) -> list[StoredFile]:
        """Every data file of ``groups`` on this backend (``pq.ParquetFile(f.open())`` reads its metadata)."""
        return stored_files(groups, self.cfg.properties)

    def arrow_fs(self) -> Any:
        """A ``pyarrow.fs`` filesystem onto this backend, rooted where dataset paths start."""
        return self.store.arrow_fs()

    # ---- what the engine supports ----------------------------------------------------------

    @property
    def caps(self) -> Capabilities:
        if self._caps is None:
            self._caps = capabilities()
        return self._caps

    def supports(self, capability: str) -> bool:
        return self.caps.supports(capability)

    def backend_supports(self, feature: str) -> bool:
        """Whether the storage backend has ``feature`` (``loon.suite.backend.FEATURES``)."""
        return backend_features.missing_reason(self.cfg.properties, feature) is None

    def require_backend(self, *features: str) -> None:
        """Skips the running case unless the storage backend has every feature in ``features``."""
        for feature in features:
            reason = backend_features.missing_reason(self.cfg.properties, feature, self.cfg.backend)
            if reason:
                raise Skip(reason)

    @staticmethod
    def skip(reason: str) -> None:
        """Skips the running case with ``reason`` (a reason a user can act on)."""
        raise Skip(reason)

    def require(self, *names: str) -> None:
        """Skips the running case unless the engine supports every capability in ``names``."""
        for name in names:
            reason = self.caps.missing_reason(name)
            if reason:
                raise Skip(reason)

    def require_fault_injection(self, point: str | None = None) -> None:
        """Skips the running case unless fault injection works and the engine has ``point``."""
        if not fault_injection_enabled():
            raise Skip(NO_FAULT_INJECTION)
        if point is not None and not self.caps.has_fault_point(point):
            raise Skip(f"{point} is not a fault point of this engine (it exports no loon_fiukey for it)")


def _safe(name: str) -> str:
    """A case name as a path segment: ``test_x[100]`` -> ``test_x-100``."""
    return name.replace("[", "-").replace("]", "").replace("/", "-")

