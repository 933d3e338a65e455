"""Connecting to Ray (an optional dependency) for the runner's Ray executor and the cluster commit race.

``cluster(address)`` joins an existing Ray cluster (``ray://`` client or ``host:port`` of its head),
or, without an address, starts a local one on this machine and shuts it down when the block ends. If
Ray is already initialised in this process (a test fixture, a notebook), it is used as it is and left
running::

    with raycluster.cluster(address=None, num_cpus=2):
        ...  # ray.remote tasks and actors

Ray is installed by ``pip install '.[distributed]'`` (or ``pip install -r requirements-distributed.txt``;
``make test`` does it). Without it ``RayUnavailable`` says so.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["ADDRESS_ENV", "INSTALL_HINT", "RayUnavailable", "cluster", "import_ray"]

# The cluster a notebook's Ray work joins (set by runner.py --executor ray for its notebooks).
ADDRESS_ENV = "LOON_RAY_ADDRESS"

INSTALL_HINT = (
    "Ray is not installed: pip install '.[distributed]' (or pip install -r requirements-distributed.txt; "
    "make test installs it)"
)


class RayUnavailable(RuntimeError):
    """Ray is not installed (the message says how to install it)."""


def import_ray() -> Any:
    """The ``ray`` module, or ``RayUnavailable`` naming how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(INSTALL_HINT) from exc
    return ray


@contextlib.contextmanager
def cluster(
    address: str | None = None, num_cpus: int | None = None, runtime_env: Mapping[str, Any] | None = None
) -> Iterator[Any]:
    """Ray connected for the block (see the module docstring); yields the ``ray`` module.

    ``num_cpus`` applies to a local cluster only; ``runtime_env`` (e.g. ``{"working_dir": "."}`` or
    ``{"env_vars": {...}}``) becomes the job's default for every task and actor.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    options: dict[str, Any] = {
        # Worker output belongs in the job logs (the executor ships each notebook's log back), not on
        # the driver's console between progress lines.
        "log_to_driver": False,
        "runtime_env": dict(runtime_env) if runtime_env else None,
    }
    if address:
        ray.init(address=address, **options)
    else:
        # A fresh local cluster even when RAY_ADDRESS is set in the environment: "no address" means local.
        saved = os.environ.pop("RAY_ADDRESS", None)
        try:
            ray.init(num_cpus=num_cpus, include_dashboard=False, **options)
        finally:
            if saved is not None:
                os.environ["RAY_ADDRESS"] = saved
    try:
        yield ray
    finally:
        ray.shutdown()  # a local cluster stops; a remote one only loses this driver
