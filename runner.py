#!/usr/bin/env python3
"""Runs the suite's notebooks with papermill and writes the report.

    python runner.py [--backend local] [--params FILE] [--categories write_read,...]
                     [--profile smoke|ci|full] [--jobs N] [--output reports/latest]
                     [--notebooks-dir notebooks/] [--timeout SECONDS]

Each notebook gets the parameters ``backend``, ``params_file``, ``profile`` and ``output_dir``.
The output directory keeps every executed notebook (``<category>.ipynb``) and its HTML, plus
``index.html`` and ``junit.xml``. Exit code: 0 when every case passed or was skipped and no notebook
died, 1 otherwise, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent
LIB = REPO / "lib"
if str(LIB) not in sys.path:
    sys.path.insert(0, str(LIB))  # the suite library, whether or not it is pip-installed

from loon.suite import config, emulators, report  # noqa: E402  (needs the sys.path entry above)

# The order of the report; notebooks not listed here follow alphabetically.
CATEGORY_ORDER = [
    "write_read",
    "transaction",
    "manifest",
    "schema_evolution",
    "external_table",
    "recovery",
    "error_handling",
]
# Run only when asked for by name: long and machine-hungry.
EXPLICIT_ONLY = {"stress"}
KERNEL_NAME = "loon-suite-python"


class UsageError(Exception):
    """Bad command line: reported with exit code 2."""


@dataclass
class Job:
    """One notebook to execute (picklable: it crosses into worker processes)."""

    category: str
    source: Path
    output: Path
    parameters: dict[str, str]
    timeout: float | None


@dataclass
class Outcome:
    category: str
    ipynb: Path
    seconds: float
    run_error: str | None


def discover(notebooks_dir: Path) -> dict[str, Path]:
    """Category name -> notebook, in report order (stress last)."""
    found = {p.stem: p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith(".")}
    ordered = [name for name in CATEGORY_ORDER if name in found]
    ordered += sorted(name for name in found if name not in CATEGORY_ORDER)
    return {name: found[name] for name in ordered}


def select_categories(available: dict[str, Path], requested: str | None) -> list[str]:
    """The categories to run: the requested ones, or every one except ``EXPLICIT_ONLY``."""
    if not requested:
        return [name for name in available if name not in EXPLICIT_ONLY]
    names = [name.strip() for name in requested.split(",") if name.strip()]
    unknown = [name for name in names if name not in available]
    if unknown:
        raise UsageError(
            f"unknown categories: {', '.join(unknown)}; known: {', '.join(available) or '(none)'}"
        )
    return list(dict.fromkeys(names))


def prepare_kernel(lib_dir: Path, data_dir: Path) -> None:
    """Makes papermill's kernel run this interpreter with ``lib/`` importable.

    A private kernel spec (in ``data_dir``, put on ``JUPYTER_PATH``) pins ``sys.executable``, so a user-level
    ``python3`` kernel pointing at another Python cannot hijack the run. ``PYTHONPATH`` is set in
    the environment every kernel inherits.
    """
    spec_dir = data_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        # --log-level=ERROR: keeps kernel start-up chatter (e.g. ipykernel 7's warning about
        # unencrypted local TCP) out of the runner's output; cell output is unaffected.
        "argv": [sys.executable, "-m", "ipykernel_launcher", "--log-level=ERROR", "-f", "{connection_file}"],
        "display_name": "loon suite (Python 3)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(data_dir), os.environ.get("JUPYTER_PATH")])
    )
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(lib_dir), os.environ.get("PYTHONPATH")]))
    # The kernel shows figures inline; a stray MPLBACKEND (e.g. from CI) must not override that.
    os.environ.pop("MPLBACKEND", None)


def run_notebook(job: Job) -> Outcome:
    """Executes one notebook and renders its HTML; never raises for a failing notebook."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    run_error = None
    try:
        papermill.execute_notebook(
            str(job.source),
            str(job.output),
            parameters=job.parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(job.source.parent),  # as in Jupyter: relative paths start at the notebook
            execution_timeout=job.timeout,
            progress_bar=False,
        )
    except PapermillExecutionError:
        pass  # the executed notebook holds the failing cell and its traceback
    except Exception as exc:  # timeouts, dead kernels, kernels that never started
        run_error = f"{type(exc).__name__}: {exc}".strip()
    seconds = time.perf_counter() - start
    if job.output.exists():
        try:
            report.export_html(job.output)
        except Exception as exc:
            print(f"warning: HTML export of {job.output} failed: {exc}", file=sys.stderr)
    return Outcome(job.category, job.output, seconds, run_error)


def _execute(jobs: list[Job], workers: int) -> list[report.NotebookResult]:
    """Runs the jobs, printing a progress line as each finishes; results in job order."""
    results: dict[str, report.NotebookResult] = {}

    def done(outcome: Outcome) -> None:
        result = report.collect(outcome.ipynb, outcome.category, outcome.run_error, outcome.seconds)
        results[outcome.category] = result
        print(
            f"[{len(results)}/{len(jobs)}] {outcome.category} ... {result.summary_line()} "
            f"({outcome.seconds:.1f} s)",
            flush=True,
        )

    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            done(run_notebook(job))
    else:
        # fork after importing papermill and nbconvert here: workers start with them loaded (about
        # 2 s saved per worker). Safe because this process has no threads or zmq sockets yet.
        import nbconvert  # noqa: F401
        import papermill  # noqa: F401

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(run_notebook, job): job for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # a worker process that crashed
                    outcome = Outcome(job.category, job.output, 0.0, f"runner worker failed: {exc!r}")
                done(outcome)
    return [results[job.category] for job in jobs]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", help="backend name: picks params/<backend>.yaml (default: local)")
    parser.add_argument("--params", help="params file (overrides --backend and TEST_CONFIG_FILE)")
    parser.add_argument("--categories", help="comma-separated notebooks to run (default: all but stress)")
    parser.add_argument(
        "--profile", default="ci", choices=sorted(config.PROFILES), help="data size (default: ci)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run in parallel (default: 1)")
    parser.add_argument(
        "--output", default="reports/latest", help="report directory (default: reports/latest)"
    )
    parser.add_argument("--notebooks-dir", default=str(REPO / "notebooks"), help="where the notebooks are")
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds one cell may run; <= 0 for none (default: 900)"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        notebooks_dir = Path(args.notebooks_dir).resolve()
        if not notebooks_dir.is_dir():
            raise UsageError(f"notebooks directory not found: {notebooks_dir}")
        available = discover(notebooks_dir)
        categories = select_categories(available, args.categories)
        if not categories:
            raise UsageError(f"no notebooks to run in {notebooks_dir}")
        params_file = config.resolve_params_file(args.params, args.backend)
        emulators.start_for_params(params_file)  # the emulator the file names; stopped at exit
        backend_config = config.try_load(params_file)
    except (UsageError, config.ConfigError, emulators.EmulatorError) as exc:
        print(f"runner.py: error: {exc}", file=sys.stderr)
        return 2

    output_dir = Path(args.output).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    skip_reason = backend_config.skip_reason()
    print(
        f"backend {backend_config.backend} ({params_file}), profile {args.profile}, "
        f"{len(categories)} notebooks, {args.jobs} at a time -> {output_dir}"
    )
    if skip_reason:
        print(f"note: {skip_reason}; cases needing it will be skipped")

    parameters = {
        "backend": backend_config.backend,
        "params_file": str(params_file),
        "profile": args.profile,
        "output_dir": str(output_dir),
    }
    timeout = args.timeout if args.timeout and args.timeout > 0 else None
    jobs = [
        Job(name, available[name], output_dir / f"{name}.ipynb", dict(parameters), timeout)
        for name in categories
    ]
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    wall_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="loon-kernel-") as kernel_dir:
        prepare_kernel(LIB, Path(kernel_dir))
        results = _execute(jobs, args.jobs)
    run = report.RunInfo(
        backend=backend_config.backend,
        profile=args.profile,
        params_file=str(params_file),
        wall_seconds=time.perf_counter() - wall_start,
        started=started,
        skip_reason=skip_reason,
    )
    index = report.write_report(results, output_dir, run)

    counts = report.totals(results)
    died = [nb.category for nb in results if nb.died]
    print(
        f"{counts.passed} passed, {counts.failed} failed, {counts.skipped} skipped"
        + (f"; notebooks died: {', '.join(died)}" if died else "")
        + f" in {run.wall_seconds:.1f} s"
    )
    print(f"report: {index}")
    print(f"junit:  {output_dir / 'junit.xml'}")
    return 0 if all(nb.ok for nb in results) else 1


if __name__ == "__main__":
    sys.exit(main())
