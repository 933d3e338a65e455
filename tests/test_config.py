"""loon.suite.config: params file priority, ${VAR} substitution, cloud credentials, profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from loon.suite import config
from loon.suite.config import ConfigError

REPO_PARAMS = Path(__file__).resolve().parents[1] / "params"
CLOUD_BACKENDS = ["aws", "gcs", "azure", "aliyun", "tencent", "huawei"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def local_yaml(root: str, backend: str = "local") -> str:
    return f"backend: {backend}\nproperties:\n  fs.storage_type: local\n  fs.root_path: {root}\n"


@pytest.fixture
def params(tmp_path, monkeypatch) -> Path:
    """An isolated params dir with a local.yaml; no TEST_CONFIG_FILE in the environment."""
    directory = tmp_path / "params"
    write(directory / "local.yaml", local_yaml("/from/local"))
    monkeypatch.setenv("LOON_PARAMS_DIR", str(directory))
    monkeypatch.delenv("TEST_CONFIG_FILE", raising=False)
    return directory


# --- priority ---------------------------------------------------------------------------------


def test_default_is_local_yaml(params):
    cfg = config.load_config()
    assert cfg.source == (params / "local.yaml").resolve()
    assert cfg.properties["fs.root_path"] == "/from/local"


def test_override_beats_local(params):
    write(params / "local.override.yaml", local_yaml("/from/override"))
    assert config.load_config().properties["fs.root_path"] == "/from/override"


def test_env_file_beats_override(params, tmp_path, monkeypatch):
    write(params / "local.override.yaml", local_yaml("/from/override"))
    env_file = write(tmp_path / "elsewhere.yaml", local_yaml("/from/env"))
    monkeypatch.setenv("TEST_CONFIG_FILE", str(env_file))
    assert config.load_config().properties["fs.root_path"] == "/from/env"


def test_explicit_path_beats_everything(params, tmp_path, monkeypatch):
    write(params / "local.override.yaml", local_yaml("/from/override"))
    monkeypatch.setenv("TEST_CONFIG_FILE", str(write(tmp_path / "env.yaml", local_yaml("/from/env"))))
    explicit = write(tmp_path / "explicit.yaml", local_yaml("/from/explicit"))
    cfg = config.load_config(explicit, backend="local")
    assert cfg.properties["fs.root_path"] == "/from/explicit"
    assert cfg.source == explicit.resolve()


def test_backend_picks_its_file_before_env_file(params, tmp_path, monkeypatch):
    write(params / "minio.yaml", local_yaml("/from/minio", backend="minio"))
    monkeypatch.setenv("TEST_CONFIG_FILE", str(write(tmp_path / "env.yaml", local_yaml("/from/env"))))
    assert config.load_config(backend="minio").backend == "minio"
    write(params / "minio.override.yaml", local_yaml("/from/minio-override", backend="minio"))
    assert config.load_config(backend="minio").properties["fs.root_path"] == "/from/minio-override"


def test_unknown_backend_lists_known(params):
    write(params / "minio.yaml", local_yaml("/x", backend="minio"))
    with pytest.raises(ConfigError, match=r"unknown backend 'nope'.*local.*minio"):
        config.load_config(backend="nope")


def test_missing_files_are_errors(params, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="params file not found"):
        config.load_config(tmp_path / "absent.yaml")
    monkeypatch.setenv("TEST_CONFIG_FILE", str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="TEST_CONFIG_FILE"):
        config.load_config()


def test_params_dir_defaults_to_repo(monkeypatch):
    monkeypatch.delenv("LOON_PARAMS_DIR", raising=False)
    assert config.params_dir() == REPO_PARAMS


# --- substitution -------------------------------------------------------------------------------


def test_expand_forms():
    env = {"A": "1", "EMPTY": "", "HOME_DIR": "/h"}
    assert config.expand("x${A}y", env) == ("x1y", [])
    assert config.expand("${MISSING:-dflt}", env) == ("dflt", [])
    assert config.expand("${EMPTY:-dflt}", env) == ("dflt", [])  # shell semantics: empty uses default
    assert config.expand("${EMPTY}", env) == ("", [])
    assert config.expand("${MISSING:-${HOME_DIR}/sub}", env) == ("/h/sub", [])
    assert config.expand("${MISSING:-${NOPE:-/tmp}/loon}", env) == ("/tmp/loon", [])
    assert config.expand("${A:-${NOPE}}", env) == ("1", [])  # an unused default is not expanded
    assert config.expand("${NOPE}/x", env) == ("${NOPE}/x", ["NOPE"])
    assert config.expand("no refs, $HOME", env) == ("no refs, $HOME", [])


@pytest.mark.parametrize("bad", ["${A", "${1BAD}", "${}"])
def test_expand_rejects_malformed(bad):
    with pytest.raises(ConfigError):
        config.expand(bad, {"A": "1"})


def test_missing_variable_names_variable_and_file(params, monkeypatch):
    path = write(params / "cloud.yaml", "backend: cloud\nproperties:\n  fs.access_key_id: ${MY_KEY}\n")
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(ConfigError) as info:
        config.load_config(path)
    assert "MY_KEY" in str(info.value)
    assert str(path.resolve()) in str(info.value)

    cfg = config.try_load(path)  # loads anyway, for a skip reason
    assert cfg.missing_env() == ["MY_KEY"]
    assert "MY_KEY" in cfg.skip_reason()
    monkeypatch.setenv("MY_KEY", "secret")
    assert config.load_config(path).properties["fs.access_key_id"] == "secret"


def test_env_mapping_argument(params):
    path = write(params / "e.yaml", "backend: e\nbase_path: ${BASE:-b}\nproperties:\n  k: ${V}\n")
    cfg = config.load_config(path, env={"V": "v", "BASE": "base"})
    assert (cfg.base_path, cfg.properties["k"]) == ("base", "v")


def test_requires_env(params, monkeypatch):
    path = write(params / "r.yaml", "backend: r\nproperties: {}\nrequires_env: [NEEDED_VAR]\n")
    monkeypatch.delenv("NEEDED_VAR", raising=False)
    assert config.try_load(path).missing_env() == ["NEEDED_VAR"]
    with pytest.raises(ConfigError, match="NEEDED_VAR"):
        config.load_config(path)
    monkeypatch.setenv("NEEDED_VAR", "")
    assert config.try_load(path).missing_env() == ["NEEDED_VAR"]  # empty counts as unset
    monkeypatch.setenv("NEEDED_VAR", "x")
    assert config.load_config(path).missing_env() == []


def test_values_become_strings(params):
    path = write(
        params / "types.yaml",
        "backend: t\nproperties:\n  fs.use_ssl: true\n  fs.use_iam: false\n  n: 1048576\n  f: 0.5\n  e:\n",
    )
    props = config.load_config(path).properties
    assert props == {"fs.use_ssl": "true", "fs.use_iam": "false", "n": "1048576", "f": "0.5", "e": ""}
    assert all(isinstance(value, str) for value in props.values())


def test_malformed_files(params):
    for text, match in [
        ("- a list\n", "mapping at top level"),
        ("backend: x\nproperties: [1]\n", "properties"),
        ("backend: x\nbogus_key: 1\n", "unknown keys"),
        ("backend: x\nrequires_env: NOT_A_LIST\n", "requires_env"),
        ("backend: [unclosed\n", "invalid YAML"),
    ]:
        with pytest.raises(ConfigError, match=match):
            config.load_config(write(params / "bad.yaml", text))


def test_defaults_for_optional_keys(params):
    cfg = config.load_config(write(params / "minimal.yaml", "properties: {}\n"))
    assert (cfg.backend, cfg.format, cfg.base_path) == ("minimal", "parquet", "integration-tests")


# --- BackendConfig helpers ------------------------------------------------------------------------


def test_case_path_is_fresh(params):
    cfg = config.load_config()
    first = cfg.case_path("write_read", "test_x")
    second = cfg.case_path("write_read", "test_x")
    assert first.startswith("integration-tests/write_read/test_x-")
    assert len(first.rsplit("-", 1)[1]) == 8
    assert first != second


def test_local_root(params):
    assert config.load_config().local_root() == Path("/from/local")
    remote = config.load_config(
        write(params / "remote.yaml", "backend: s3\nproperties:\n  fs.storage_type: remote\n")
    )
    with pytest.raises(ConfigError, match="not local"):
        remote.local_root()


# --- the repository's params files ----------------------------------------------------------------


def test_repo_local_yaml(monkeypatch):
    monkeypatch.delenv("LOON_PARAMS_DIR", raising=False)
    monkeypatch.delenv("TEST_CONFIG_FILE", raising=False)
    monkeypatch.setenv("LOON_TEST_ROOT", "/data/loon")
    cfg = config.load_config(REPO_PARAMS / "local.yaml")
    assert cfg.properties == {"fs.storage_type": "local", "fs.root_path": "/data/loon"}
    monkeypatch.delenv("LOON_TEST_ROOT")
    monkeypatch.setenv("TMPDIR", "/scratch")
    assert config.load_config(REPO_PARAMS / "local.yaml").local_root() == Path("/scratch/loon-suite")


def test_repo_minio_yaml_has_defaults(monkeypatch):
    for name in ["MINIO_ADDRESS", "MINIO_BUCKET_NAME", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"]:
        monkeypatch.delenv(name, raising=False)
    props = config.load_config(REPO_PARAMS / "minio.yaml").properties
    assert props["fs.address"] == "127.0.0.1:9000"
    assert props["fs.access_key_id"] == props["fs.access_key_value"] == "minioadmin"
    assert props["fs.storage_type"] == "remote"
    monkeypatch.setenv("MINIO_ADDRESS", "minio:9000")
    assert config.load_config(REPO_PARAMS / "minio.yaml").properties["fs.address"] == "minio:9000"


@pytest.mark.parametrize("backend", CLOUD_BACKENDS)
def test_repo_cloud_yaml_reports_missing_credentials(backend, monkeypatch):
    prefix = backend.upper()
    for suffix in ["ACCESS_KEY", "SECRET_KEY", "BUCKET_NAME", "REGION", "ADDRESS"]:
        monkeypatch.delenv(f"{prefix}_{suffix}", raising=False)
    monkeypatch.delenv("LOON_PARAMS_DIR", raising=False)
    cfg = config.try_load(backend=backend)
    assert cfg.backend == backend
    assert cfg.properties["fs.storage_type"] == "remote"
    assert cfg.properties["fs.cloud_provider"] in {"aws", "gcp", "azure", "aliyun", "tencent", "huawei"}
    assert f"{prefix}_ACCESS_KEY" in cfg.missing_env()
    assert f"credentials not set: {prefix}_" in cfg.skip_reason()
    with pytest.raises(ConfigError, match=f"{prefix}_ACCESS_KEY"):
        config.load_config(backend=backend)

    for name in cfg.missing_env():
        monkeypatch.setenv(name, f"value-of-{name}")
    cfg = config.load_config(backend=backend)
    assert cfg.properties["fs.access_key_id"] == f"value-of-{prefix}_ACCESS_KEY"
    assert cfg.skip_reason() is None


# --- profiles -------------------------------------------------------------------------------------


def test_profiles():
    smoke, ci, full = (config.get_profile(name) for name in ["smoke", "ci", "full"])
    assert smoke.scale < ci.scale < full.scale
    assert full.threads == 100
    assert ci.rows(10_000) == 10_000
    assert smoke.rows(10_000) == 1_000
    assert smoke.rows(1) == 1  # never zero rows
    assert config.get_profile(ci) is ci
    with pytest.raises(ConfigError, match="unknown profile 'huge'.*smoke, ci, full"):
        config.get_profile("huge")
