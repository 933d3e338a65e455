"""Stress sizes: the seed's numbers (``SEED``) and how much of them each run profile runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import Profile, get_profile

MB = 1 << 20
GB = 1 << 30


# --------------------------------------------------------------------------------------------
# Scale
# --------------------------------------------------------------------------------------------

# The seed test design's stress sizes; ``full`` runs them as given.
SEED: dict[str, Any] = {
    "row_counts": (1_000_000, 10_000_000, 100_000_000),
    "column_counts": (10, 50, 100, 500),
    "thread_counts": (10, 25, 50, 75, 100),
    "data_bytes": 10 * GB,  # "medium scale (10GB data volume)"
    "vector_dim": 1536,  # 6 KB float32 vectors, ~1.7M rows = 10 GB
    "string_min": 1 << 10,  # large strings: 1 KB ...
    "string_max": 1 << 20,  # ... 1 MB
    "mixed_threads": 100,  # 50 readers + 50 writers
    "contention_threads": 100,
    "duration_s": 3600.0,
    "appends": 10_000,
    "fields": 100,  # gradual evolution: one field every 100 appends, 100 fields
    "appends_per_field": 100,
}


@dataclass(frozen=True)
class StressScale:
    """How much of the seed's stress sizes one profile runs.

    ``data`` scales row counts and byte volumes, ``time`` durations, ``count`` the number of appends
    and fields; ``max_threads`` caps thread counts (the seed's counts are used up to it).
    """

    profile: str
    data: float
    time: float
    count: float
    max_threads: int

    def rows(self, seed_rows: int) -> int:
        """``seed_rows`` scaled (at least 1)."""
        return max(1, int(round(seed_rows * self.data)))

    def bytes(self, seed_bytes: int) -> int:
        """``seed_bytes`` scaled (at least 64 KiB)."""
        return max(64 << 10, int(seed_bytes * self.data))

    def seconds(self, seed_seconds: float) -> float:
        return max(0.5, seed_seconds * self.time)

    def count_of(self, seed_count: int, minimum: int = 2) -> int:
        """A seed count of appends/fields scaled (at least ``minimum``)."""
        return max(minimum, int(round(seed_count * self.count)))

    def threads(self, seed_threads: int) -> int:
        return max(1, min(seed_threads, self.max_threads))

    def describe(self, seed_value: int | float, actual: int | float, unit: str) -> str:
        """A note such as ``"100,000 rows (seed: 100,000,000 rows, scaled for profile ci)"``; the value alone
        when it is the seed's."""
        if actual == seed_value:
            return f"{actual:,} {unit}"
        return f"{actual:,} {unit} (seed: {seed_value:,} {unit}, scaled for profile {self.profile})"


STRESS_SCALES: dict[str, StressScale] = {
    # seconds for the whole notebook
    "smoke": StressScale("smoke", data=1e-4, time=1 / 3600, count=0.01, max_threads=10),
    # about two minutes on two cores; the seed's thread counts run unchanged
    "ci": StressScale("ci", data=1e-2, time=10 / 3600, count=0.05, max_threads=100),
    # the seed: 100M rows, 10 GB, 100 threads, 1 hour, 10000 appends
    "full": StressScale("full", data=1.0, time=1.0, count=1.0, max_threads=100),
}


def stress_scale(profile: str | Profile) -> StressScale:
    """The stress scale of a run profile (``smoke``, ``ci`` or ``full``)."""
    name = get_profile(profile).name
    try:
        return STRESS_SCALES[name]
    except KeyError:
        raise ValueError(f"no stress scale for profile {name!r}; known: {', '.join(STRESS_SCALES)}") from None
