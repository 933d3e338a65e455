"""``junit.xml`` in the dialect CI tools read (the Jenkins xUnit ``junit-10.xsd``, which pytest's own
JUnit output is checked against).

One ``<testsuite>`` per notebook, named ``<backend>.<category>`` like every ``classname`` in it, so runs
on two backends merged into one CI view never collide. Each suite carries ``timestamp``, ``hostname``
and ``<properties>`` (engine, engine version and build, backend, profile, params file, git revision);
each case its captured output as ``<system-out>``. A failing case is a ``<failure>``; a case that could
not run (its kernel died, its notebook stopped, a cell timed out) is an ``<error>``; deselected cases
are left out, as pytest leaves them out.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from .cases import DESELECTED, ERROR, FAIL, SKIP
from .report import NotebookResult, RunInfo

__all__ = ["XSD_PATH", "classname", "validate", "write_junit"]

# Where `make setup` puts the schema (tools/junit_xsd.py takes it from the sdist of the installed pytest).
XSD_PATH = Path(sys.prefix) / "share" / "loon" / "junit-10.xsd"

# XML 1.0 has no way to carry most control characters, even escaped: a case's output may have them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", value)


_EXCEPTION = re.compile(r"(?:^|: )([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Failures|Failure))\b")


def _type(status: str, message: str) -> str:
    """The ``type`` of a failure or error: the exception class when the message names one."""
    if message.startswith("not run"):
        return "NotRun"
    found = _EXCEPTION.search(message)
    return found.group(1) if found else status


def classname(run: RunInfo, category: str) -> str:
    return f"{run.backend}.{category}"


def _properties(run: RunInfo, nb: NotebookResult) -> dict[str, str]:
    engine = dict(run.engine)
    engine.update(nb.engine or {})
    return {
        "engine": engine.get("kind", ""),
        "engine.version": engine.get("info", ""),
        "engine.path": engine.get("path", ""),
        "engine.build": run.engine.get("build", ""),
        "backend": run.backend,
        "profile": run.profile,
        "params_file": run.params_file,
        "git.revision": run.git_revision,
        "selection": run.selection,
    }


def write_junit(results: Sequence[NotebookResult], path: str | Path, run: RunInfo) -> Path:
    """Writes the JUnit XML of ``results`` (notebooks never started are left out)."""
    path = Path(path)
    timestamp = run.started or dt.datetime.now().astimezone().isoformat(timespec="seconds")
    root = ET.Element("testsuites", name=f"loon suite ({run.backend}, {run.profile})")
    for nb in results:
        if nb.cancelled:
            continue
        cases = [c for c in nb.all_cases if c.status != DESELECTED]
        name = classname(run, nb.category)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(cases)),
            failures=str(sum(c.status == FAIL for c in cases)),
            errors=str(sum(c.status == ERROR for c in cases)),
            skipped=str(sum(c.status == SKIP for c in cases)),
            time=f"{nb.seconds:.3f}",
            timestamp=timestamp,
            hostname=run.hostname,
        )
        props = ET.SubElement(suite, "properties")
        for key, value in _properties(run, nb).items():
            ET.SubElement(props, "property", name=key, value=_text(str(value)))
        for case in cases:
            element = ET.SubElement(suite, "testcase", classname=name, name=case.name, time=f"{case.seconds:.3f}")
            if case.status in (FAIL, ERROR):
                tag = "failure" if case.status == FAIL else "error"
                detail = ET.SubElement(element, tag, message=_text(case.message), type=_type(case.status, case.message))
                detail.text = _text(case.traceback or case.message)
            elif case.status == SKIP:
                ET.SubElement(element, "skipped", message=_text(case.message))
            output = case.output
            if case.data:
                output += "".join(f"dataset kept: {p}\n" for p in case.data)
            if output:
                ET.SubElement(element, "system-out").text = _text(output)
        if nb.stopped:
            ET.SubElement(suite, "system-err").text = _text(f"notebook stopped: {nb.stopped}")
    ran = [c for nb in results if not nb.cancelled for c in nb.all_cases if c.status != DESELECTED]
    root.set("tests", str(len(ran)))
    root.set("failures", str(sum(c.status == FAIL for c in ran)))
    root.set("errors", str(sum(c.status == ERROR for c in ran)))
    root.set("time", f"{run.wall_seconds:.3f}")
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def validate(path: str | Path, xsd: str | Path = XSD_PATH) -> None:
    """Raises ``xmlschema.XMLSchemaValidationError`` (with the offending element) if ``path`` is not
    valid against the JUnit schema; ``FileNotFoundError`` if the schema was not installed."""
    import xmlschema

    xsd = Path(xsd)
    if not xsd.is_file():
        raise FileNotFoundError(f"JUnit schema {xsd} not installed: run `make setup` (tools/junit_xsd.py)")
    xmlschema.XMLSchema(str(xsd)).validate(str(path))
