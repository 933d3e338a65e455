"""Puts this checkout's ``lib/`` on the venv's import path with a plain path file (``make setup``).

Not ``pip install -e .``: scikit-build-core's editable install puts an import finder in front of
``sys.path``, so a venv shared by several checkouts (git worktrees linking one ``.venv``) imported the
``loon`` of whichever checkout ran ``make`` last, whatever ``PYTHONPATH`` said. A path file's entry comes
after ``PYTHONPATH``, so ``PYTHONPATH=$PWD/lib`` (and runner.py, which puts its own ``lib/`` first) always
wins. An editable install of that kind left by an earlier set-up is removed.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"
PTH_NAME = "loon-checkout.pth"


def main() -> int:
    site = Path(sysconfig.get_paths()["purelib"])
    if (site / "_editable_skbc_loon.py").exists():
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "loon"], check=True)
    (site / PTH_NAME).write_text(f"{LIB}\n")
    print(f"{site / PTH_NAME}: {LIB}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
