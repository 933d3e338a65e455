"""Installs the suite's Jupyter kernel into the venv for JupyterLab (``make lab``).

The kernel is the one the runner uses (``runner.kernel_spec``): this venv's Python with ``lib/`` on its
path and pytest's assertion rewriting loaded at start, so a case debugged in JupyterLab fails with the
same values as under the runner.

    python tools/lab_kernel.py      # writes <venv>/share/jupyter/kernels/loon-suite-python/kernel.json
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    spec = importlib.util.spec_from_file_location("runner", REPO / "runner.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    kernel = runner.kernel_spec(sys.executable)
    kernel["env"] = {"PYTHONPATH": str(REPO / "lib")}
    target = Path(sys.prefix) / "share" / "jupyter" / "kernels" / runner.KERNEL_NAME / "kernel.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(kernel, indent=1))
    print(f"kernel {runner.KERNEL_NAME!r}: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
