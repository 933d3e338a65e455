"""loon.suite: the integration suite's harness, built on the ``loon`` engine binding.

The binding (``loon``) is what any Python user of milvus-storage needs and never imports this
package. The harness adds what the notebooks, the runner and the tests share: the notebook session
(``session``: one call in a notebook's setup cell), backend configuration (``config``, ``storage``),
the case protocol (``cases``), data generators (``data``), checks and
validation of datasets on storage (``checks``, ``validation``), damage and fault scenarios
(``corrupt``, ``fault_cases``, ``crash_child``), concurrent workloads (``workloads``), process
resources (``resources``), stress scenarios (``stress``), throughput records, plots and the report.
"""

from .validation import ValidationReport, validate

__all__ = ["ValidationReport", "validate"]
