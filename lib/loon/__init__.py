"""loon: Python helper library of the milvus-storage integration suite.

The engine API (cffi bindings of the loon C ABI) is exported here. The suite's harness (case
protocol, configuration, data generators, checks, report) is the separate package ``loon.suite``,
which builds on this one; this package never imports it.
"""

from . import formats
from ._ffi import LibraryInfo, LibraryNotFoundError, library, library_info
from .capability import CAPABILITIES, Capabilities, capabilities
from .column_groups import ColumnGroup, ColumnGroupFile, ColumnGroups
from .errors import (
    ArrowError,
    EngineTextError,
    FaultInjectedError,
    GotExceptionError,
    InvalidArgumentError,
    InvalidPropertiesError,
    LogicalError,
    LoonError,
    LoonFileNotFoundError,
    LoonMemoryError,
    NotSupportedError,
    ObjectStoreError,
    StreamReadError,
    TransactionConflictError,
    TransactionExhaustedRetryError,
    TransientError,
    error_class,
    is_retryable,
)
from .external_table import ExternalTable
from .faults import FaultInjector, fault_injection_enabled, fault_points, injected
from .filesystem import FileInfo, Filesystem, close_filesystems
from .manifest import DeltaLog, Index, LobFile, Manifest, Stat, read_manifest_file
from .properties import Properties
from .reader import ALL_METADATA, ESTIMATED_MEMORY, NUM_OF_ROWS, ChunkReader, Reader
from .threads import thread_pool
from .transaction import LATEST, Resolve, Transaction, commit_groups, latest_version, open_manifest, read_dataset
from .writer import Writer, write_dataset

__all__ = [
    "CAPABILITIES",
    "Capabilities",
    "capabilities",
    "LATEST",
    "DeltaLog",
    "ExternalTable",
    "FaultInjector",
    "FileInfo",
    "Filesystem",
    "Index",
    "LobFile",
    "Manifest",
    "Resolve",
    "Stat",
    "Transaction",
    "close_filesystems",
    "commit_groups",
    "fault_injection_enabled",
    "fault_points",
    "formats",
    "injected",
    "latest_version",
    "open_manifest",
    "read_dataset",
    "read_manifest_file",
    "ALL_METADATA",
    "ESTIMATED_MEMORY",
    "NUM_OF_ROWS",
    "ArrowError",
    "EngineTextError",
    "ChunkReader",
    "ColumnGroup",
    "ColumnGroupFile",
    "ColumnGroups",
    "FaultInjectedError",
    "GotExceptionError",
    "InvalidArgumentError",
    "InvalidPropertiesError",
    "LibraryInfo",
    "LibraryNotFoundError",
    "LogicalError",
    "LoonError",
    "LoonFileNotFoundError",
    "LoonMemoryError",
    "NotSupportedError",
    "StreamReadError",
    "ObjectStoreError",
    "Properties",
    "Reader",
    "TransactionConflictError",
    "TransactionExhaustedRetryError",
    "TransientError",
    "Writer",
    "error_class",
    "is_retryable",
    "library",
    "library_info",
    "thread_pool",
    "write_dataset",
]
