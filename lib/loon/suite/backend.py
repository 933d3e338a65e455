"""What a storage backend can do, and a pyarrow filesystem onto it built from the same ``fs.*`` keys.

Cases never reach data files through local paths: the same case runs on the local disk and on an
object store. Two things follow from a backend configuration alone:

- ``FEATURES``: properties of the storage itself that some cases need (e.g. POSIX permission bits
  exist only on a local filesystem). ``features(properties)`` answers for one configuration and
  ``missing_reason`` gives the skip reason; the session's ``require_backend`` uses it.
- ``arrow_filesystem(properties)``: a ``pyarrow.fs`` filesystem rooted where the engine's paths
  start (``fs.root_path`` locally, the bucket or container on an object store), for independent
  readers and writers (pyarrow.parquet, pyarrow.dataset, the throughput baselines)::

      fs = arrow_filesystem(ds.properties())
      pq.ParquetFile(fs.open_input_file(path)).metadata
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyarrow.fs as pafs

__all__ = ["FEATURES", "Feature", "arrow_filesystem", "external_uri", "features", "missing_reason"]

S3_PROVIDERS = ("aws", "aliyun", "tencent", "huawei")


@dataclass(frozen=True)
class Feature:
    """One property of a storage backend: what it is (completes "this backend has ...")."""

    name: str
    description: str


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("posix_files", "local POSIX files (permission bits and RLIMIT_FSIZE apply to them)"),
        Feature("s3_protocol", "the S3 protocol (the engine's s3fs.* fault points fire only there)"),
        # Object stores publish an object when its upload completes: a writer killed mid-file
        # leaves nothing behind, where a local file keeps the bytes written so far.
        Feature("directories", "directories (a path below a file is refused: 'Not a directory')"),
        Feature("partial_files", "files visible while they are written (a killed writer leaves a torn file)"),
    )
}


def _is_true(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def _provider(properties: Mapping[str, Any]) -> str:
    return str(properties.get("fs.cloud_provider", "")).lower()


def _remote(properties: Mapping[str, Any]) -> bool:
    return str(properties.get("fs.storage_type", "local")) == "remote"


def _speaks_s3(properties: Mapping[str, Any]) -> bool:
    provider = _provider(properties)
    if provider in S3_PROVIDERS:
        return True
    # GCS through its S3-compatible XML API: HMAC keys and no native credentials.
    return (
        provider == "gcp"
        and bool(properties.get("fs.access_key_id"))
        and not _is_true(properties.get("fs.gcp_native_without_auth", "false"))
        and not properties.get("fs.gcp_credential_json")
    )


def features(properties: Mapping[str, Any]) -> frozenset[str]:
    """The ``FEATURES`` the backend configured by ``properties`` has."""
    found = set()
    if not _remote(properties):
        found.update(("posix_files", "partial_files", "directories"))
    elif _speaks_s3(properties):
        found.add("s3_protocol")
    elif _provider(properties) == "azure":
        # Arrow's Azure filesystem creates the blob when a stream opens (empty until it closes) and
        # refuses a path below an existing blob, as directories would.
        found.update(("partial_files", "directories"))
    elif _provider(properties) == "gcp":
        # Native GCS: Arrow's GCS filesystem refuses a directory below an existing object.
        found.add("directories")
    return frozenset(found)


def missing_reason(properties: Mapping[str, Any], name: str, backend: str = "") -> str | None:
    """Why a case needing feature ``name`` cannot run on this backend (a skip reason), or None."""
    if name not in FEATURES:
        raise KeyError(f"unknown backend feature {name!r}; known: {', '.join(FEATURES)}")
    if name in features(properties):
        return None
    what = f"backend {backend}" if backend else "this backend"
    kind = _provider(properties) + " object store" if _remote(properties) else "local filesystem"
    return f"{what} ({kind}) does not have {FEATURES[name].description}"


def _endpoint(properties: Mapping[str, Any]) -> tuple[str, str]:
    """(scheme, host[:port]) of ``fs.address``; a scheme written there wins over ``fs.use_ssl``."""
    address = str(properties.get("fs.address", ""))
    scheme = "https" if _is_true(properties.get("fs.use_ssl", "true")) else "http"
    if "://" in address:
        scheme, address = address.split("://", 1)
    return scheme, address.rstrip("/")


def _s3(properties: Mapping[str, Any]) -> pafs.FileSystem:
    scheme, host = _endpoint(properties)
    options: dict[str, Any] = {
        "scheme": scheme,
        "region": str(properties.get("fs.region") or "us-east-1"),
        "force_virtual_addressing": _is_true(properties.get("fs.use_virtual_host", "false")),
    }
    if host and host != "s3.amazonaws.com":
        options["endpoint_override"] = host
    if properties.get("fs.access_key_id"):
        options["access_key"] = str(properties["fs.access_key_id"])
        options["secret_key"] = str(properties.get("fs.access_key_value", ""))
    timeout = properties.get("fs.request_timeout_ms")
    if timeout:
        options["connect_timeout"] = options["request_timeout"] = int(timeout) / 1000
    return pafs.S3FileSystem(**options)


def _gcs(properties: Mapping[str, Any]) -> pafs.FileSystem:
    scheme, host = _endpoint(properties)
    options: dict[str, Any] = {"scheme": scheme, "retry_time_limit": timedelta(seconds=30)}
    if host and host != "storage.googleapis.com":
        options["endpoint_override"] = host
    if _is_true(properties.get("fs.gcp_native_without_auth", "false")):
        options["anonymous"] = True
    return pafs.GcsFileSystem(**options)


def _azure(properties: Mapping[str, Any]) -> pafs.FileSystem:
    scheme, host = _endpoint(properties)
    account = str(properties.get("fs.access_key_id", ""))
    name = host.split(":", 1)[0]
    # Emulators (an IP, localhost or an explicit port) are addressed path-style at the address itself.
    path_style = ":" in host or name == "localhost" or name.replace(".", "").isdigit()
    authority = host if path_style else f"{account}.blob.{host}"
    options: dict[str, Any] = {
        "account_name": account,
        "blob_storage_authority": authority,
        "dfs_storage_authority": authority if path_style else f"{account}.dfs.{host}",
        "blob_storage_scheme": scheme,
        "dfs_storage_scheme": scheme,
    }
    if properties.get("fs.access_key_value"):
        options["account_key"] = str(properties["fs.access_key_value"])
    return pafs.AzureFileSystem(**options)


def external_uri(properties: Mapping[str, Any], path: str) -> str:
    """The URI an external-table explore records for root-relative ``path`` on this backend:
    ``local:///local/<path>`` locally, ``<s3|gcs|abfs>://<host[:port]>/<bucket>/<path>`` on object stores."""
    path = path.strip("/")
    if not _remote(properties):
        return f"local:///local/{path}"
    scheme = "s3" if _speaks_s3(properties) else {"gcp": "gcs", "azure": "abfs"}[_provider(properties)]
    return f"{scheme}://{_endpoint(properties)[1]}/{properties.get('fs.bucket_name', '')}/{path}"


def arrow_filesystem(properties: Mapping[str, Any]) -> pafs.FileSystem:
    """A ``pyarrow.fs`` filesystem over the backend of ``properties``, rooted where engine paths start."""
    if not _remote(properties):
        root = str(properties.get("fs.root_path", ""))
        if not root:
            raise ValueError("fs.root_path is not set for the local backend")
        local = pafs.LocalFileSystem()
        local.create_dir(root, recursive=True)
        return pafs.SubTreeFileSystem(root, local)
    provider = _provider(properties)
    bucket = str(properties.get("fs.bucket_name", ""))
    if not bucket:
        raise ValueError("fs.bucket_name is not set")
    if _speaks_s3(properties):
        base = _s3(properties)
    elif provider == "gcp":
        base = _gcs(properties)
    elif provider == "azure":
        base = _azure(properties)
    else:
        raise ValueError(f"no pyarrow filesystem for fs.cloud_provider={provider!r}")
    return pafs.SubTreeFileSystem(bucket, base)
