"""Installs the JUnit XML schema the suite's ``junit.xml`` is validated against.

The schema is the Jenkins xUnit plugin's ``junit-10.xsd``, the dialect CI tools read. pytest validates
its own JUnit output against it and ships it in its source distribution
(``testing/example_scripts/junit-10.xsd``); this script downloads the sdist of the installed pytest with
pip and extracts that one file, so the schema stays maintained upstream and nothing is copied into
this repository.

    python tools/junit_xsd.py [DEST]     # default: <venv>/share/loon/junit-10.xsd
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

MEMBER = "testing/example_scripts/junit-10.xsd"
DEFAULT_DEST = Path(sys.prefix) / "share" / "loon" / "junit-10.xsd"


def fetch(dest: Path) -> Path:
    pytest_version = version("pytest")
    with tempfile.TemporaryDirectory(prefix="junit-xsd-") as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--dest", tmp, f"pytest=={pytest_version}"],
            check=True,
        )  # fmt: skip
        sdist = next(Path(tmp).glob("pytest-*.tar.gz"))
        with tarfile.open(sdist) as archive:
            member = next(m for m in archive.getmembers() if m.name.endswith("/" + MEMBER))
            data = archive.extractfile(member).read()
    if b"<xs:schema" not in data:
        raise SystemExit(f"{MEMBER} of pytest {pytest_version} is not an XML schema")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return dest


def main() -> int:
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DEST
    print(f"JUnit schema: {fetch(dest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
