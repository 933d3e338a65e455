"""Backend parameters and run profiles of the suite.

A params file (``params/<backend>.yaml``) describes one storage backend: the engine's ``fs.*``
properties plus the suite's ``format`` and ``base_path``. String values may reference environment
variables as ``${VAR}`` or ``${VAR:-default}`` (the default may itself hold ``${...}``).

Which file is used, first match wins:

1. an explicit ``path`` argument (the runner's ``--params``),
2. an explicit ``backend`` argument: ``params/<backend>.override.yaml`` if present, else
   ``params/<backend>.yaml``,
3. the ``TEST_CONFIG_FILE`` environment variable,
4. ``params/local.override.yaml`` (gitignored, a developer's persistent override),
5. ``params/local.yaml``.

Variables are substituted per value, so a cloud file loads even when its credentials are unset:
``try_load`` returns the config and ``BackendConfig.missing_env()`` names what is missing (a skip
reason), while ``load_config`` raises ``ConfigError`` naming the variable and the file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "PROFILES",
    "BackendConfig",
    "ConfigError",
    "Profile",
    "expand",
    "get_profile",
    "load_config",
    "params_dir",
    "resolve_params_file",
    "try_load",
]

DEFAULT_BACKEND = "local"
# "emulator": the local emulator the runner starts for this backend (loon.suite.emulators).
_KNOWN_KEYS = {"backend", "format", "base_path", "properties", "requires_env", "emulator"}


class ConfigError(ValueError):
    """A params file is missing, malformed, or references unset environment variables."""


# --------------------------------------------------------------------------------------------
# ${VAR} / ${VAR:-default} substitution
# --------------------------------------------------------------------------------------------


def _find_closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` whose content starts at ``start`` (nesting aware)."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ConfigError(f"unterminated '${{' in {text!r}")


def _expand(text: str, env: Mapping[str, str], missing: list[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        start = text.find("${", i)
        if start < 0:
            out.append(text[i:])
            break
        out.append(text[i:start])
        end = _find_closing_brace(text, start + 2)
        body = text[start + 2 : end]
        name, sep, default = body.partition(":-")
        if not name.isidentifier():
            raise ConfigError(f"bad variable reference '${{{body}}}' in {text!r}")
        value = env.get(name)
        if sep:
            # Shell semantics: the default applies when the variable is unset or empty; it is
            # expanded only when used, so an unused nested default cannot fail.
            out.append(value if value else _expand(default, env, missing))
        elif value is None:
            missing.append(name)
            out.append(text[start : end + 1])  # keep the reference visible in the raw value
        else:
            out.append(value)
        i = end + 1
    return "".join(out)


def expand(text: str, env: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """Substitutes ``${VAR}`` and ``${VAR:-default}`` in ``text``.

    Returns the expanded text and the names of referenced variables that are unset and have no
    default (their references are left in the text unchanged).
    """
    missing: list[str] = []
    result = _expand(text, os.environ if env is None else env, missing)
    return result, missing


def _to_str(value: Any) -> str:
    """Property values are strings for the engine; YAML booleans become ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


# --------------------------------------------------------------------------------------------
# BackendConfig
# --------------------------------------------------------------------------------------------


@dataclass
class BackendConfig:
    """One backend's parameters, with environment variables substituted where they are set."""

    backend: str
    format: str
    base_path: str
    properties: dict[str, str]
    source: Path
    requires_env: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = field(default=(), repr=False)
    """Variables referenced without default whose values are unset."""

    def missing_env(self, env: Mapping[str, str] | None = None) -> list[str]:
        """Names of environment variables this backend needs but that are unset (or empty).

        Covers ``${VAR}`` references without default and the file's ``requires_env`` list.
        """
        env = os.environ if env is None else env
        names = list(self.unresolved) + [name for name in self.requires_env if not env.get(name)]
        return list(dict.fromkeys(names))  # unique, in order of appearance

    def skip_reason(self) -> str | None:
        """A reason a user can act on when variables are missing, else None."""
        missing = self.missing_env()
        if not missing:
            return None
        return f"{self.backend} credentials not set: {', '.join(missing)} (params file {self.source})"

    def check(self) -> BackendConfig:
        """Raises ``ConfigError`` naming missing variables and the file; returns self otherwise."""
        missing = self.missing_env()
        if missing:
            raise ConfigError(
                f"environment variable(s) not set: {', '.join(missing)} (needed by {self.source})"
            )
        return self

    @property
    def storage_type(self) -> str:
        return self.properties.get("fs.storage_type", "local")

    @property
    def is_local(self) -> bool:
        return self.storage_type == "local"

    def case_path(self, category: str, case_name: str) -> str:
        """A fresh dataset path ``<base_path>/<category>/<case_name>-<short uuid>``.

        Fresh per call, so reruns and parallel notebooks never share a dataset.
        """
        parts = [self.base_path.strip("/"), category.strip("/"), f"{case_name}-{uuid.uuid4().hex[:8]}"]
        return "/".join(part for part in parts if part)

    def local_root(self) -> Path:
        """``fs.root_path`` of a local backend as a path."""
        if not self.is_local:
            raise ConfigError(f"backend {self.backend!r} is not local (fs.storage_type={self.storage_type})")
        root = self.properties.get("fs.root_path")
        if not root:
            raise ConfigError(f"fs.root_path is not set in {self.source}")
        return Path(root)


# --------------------------------------------------------------------------------------------
# Finding and loading params files
# --------------------------------------------------------------------------------------------


def params_dir() -> Path:
    """The params directory: ``$LOON_PARAMS_DIR``, else ``<repo>/params`` next to ``lib/``."""
    override = os.environ.get("LOON_PARAMS_DIR")
    if override:
        return Path(override)
    repo_params = Path(__file__).resolve().parents[3] / "params"
    if repo_params.is_dir():
        return repo_params
    # Installed as a regular package: fall back to the working directory (a repo checkout).
    return Path.cwd() / "params"


def resolve_params_file(path: str | os.PathLike[str] | None = None, backend: str | None = None) -> Path:
    """The params file chosen by the priority rules of this module (see the module docstring)."""
    if path:
        chosen = Path(path)
        if not chosen.is_file():
            raise ConfigError(f"params file not found: {chosen}")
        return chosen.resolve()
    directory = params_dir()
    if backend:
        for name in (f"{backend}.override.yaml", f"{backend}.yaml"):
            if (directory / name).is_file():
                return (directory / name).resolve()
        known = sorted(p.stem for p in directory.glob("*.yaml") if not p.stem.endswith(".override"))
        raise ConfigError(
            f"unknown backend {backend!r}: no {directory / (backend + '.yaml')}; known: {known}"
        )
    env_file = os.environ.get("TEST_CONFIG_FILE")
    if env_file:
        if not Path(env_file).is_file():
            raise ConfigError(f"TEST_CONFIG_FILE={env_file} does not exist")
        return Path(env_file).resolve()
    for name in (f"{DEFAULT_BACKEND}.override.yaml", f"{DEFAULT_BACKEND}.yaml"):
        if (directory / name).is_file():
            return (directory / name).resolve()
    raise ConfigError(f"no params file: {directory / (DEFAULT_BACKEND + '.yaml')} does not exist")


def _parse(source: Path, env: Mapping[str, str]) -> BackendConfig:
    try:
        raw = yaml.safe_load(source.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at top level")
    unknown = set(raw) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown keys {sorted(unknown)}; allowed: {sorted(_KNOWN_KEYS)}")
    properties = raw.get("properties") or {}
    if not isinstance(properties, dict):
        raise ConfigError(f"{source}: 'properties' must be a mapping of fs.* keys to values")
    requires_env = raw.get("requires_env") or []
    if not isinstance(requires_env, list) or not all(isinstance(name, str) for name in requires_env):
        raise ConfigError(f"{source}: 'requires_env' must be a list of variable names")

    unresolved: list[str] = []

    def sub(value: Any) -> str:
        try:
            text, missing = expand(_to_str(value), env)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        unresolved.extend(missing)
        return text

    return BackendConfig(
        backend=sub(raw.get("backend") or source.name.split(".")[0]),
        format=sub(raw.get("format") or "parquet"),
        base_path=sub(raw.get("base_path") or "integration-tests"),
        properties={str(key): sub(value) for key, value in properties.items()},
        source=source,
        requires_env=tuple(requires_env),
        unresolved=tuple(dict.fromkeys(unresolved)),
    )


def try_load(
    path: str | os.PathLike[str] | None = None,
    backend: str | None = None,
    env: Mapping[str, str] | None = None,
) -> BackendConfig:
    """Loads a params file without failing on unset variables.

    Check ``missing_env()`` / ``skip_reason()`` on the result before using a cloud backend.
    Raises ``ConfigError`` only for a missing or malformed file.
    """
    return _parse(resolve_params_file(path, backend), os.environ if env is None else env)


def load_config(
    path: str | os.PathLike[str] | None = None,
    backend: str | None = None,
    env: Mapping[str, str] | None = None,
) -> BackendConfig:
    """Loads a params file; raises ``ConfigError`` naming any unset variable and the file."""
    config = try_load(path, backend, env)
    missing = config.missing_env(os.environ if env is None else env)
    if missing:
        raise ConfigError(
            f"environment variable(s) not set: {', '.join(missing)} (needed by {config.source})"
        )
    return config


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How big a run is: ``scale`` multiplies data sizes; threads/processes size concurrency."""

    name: str
    scale: float
    threads: int
    processes: int

    def rows(self, base: int) -> int:
        """``base`` rows scaled by this profile (at least 1)."""
        return int(max(1, base * self.scale))


PROFILES: dict[str, Profile] = {
    # seconds per notebook: for "Run all" in Jupyter and quick checks
    "smoke": Profile("smoke", scale=0.1, threads=4, processes=2),
    # `make report` / `make test`: the whole non-stress suite in minutes on 2 cores
    "ci": Profile("ci", scale=1.0, threads=16, processes=8),
    # large data and high concurrency
    "full": Profile("full", scale=10.0, threads=100, processes=16),
}


def get_profile(name: str | Profile) -> Profile:
    """The profile called ``name`` (a ``Profile`` passes through)."""
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown profile {name!r}; known profiles: {', '.join(PROFILES)}") from None
