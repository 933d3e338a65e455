#!/usr/bin/env python3
"""Runs the suite's notebooks with papermill and writes the report.

    python runner.py [--backend local ...] [--params FILE] [--categories write_read,...]
                     [--profile smoke|ci|full] [--jobs N] [--output reports/latest]
                     [--executor local|ray] [--ray-address ADDR] [--ray-runtime-env JSON]
                     [-k EXPRESSION] [-x] [--lf [REPORT_DIR]] [--keep-data]
                     [--notebooks-dir notebooks/] [--timeout SECONDS] [--history FILE | --no-history]
    python runner.py compare REPORT_A REPORT_B [--output FILE]

Each notebook gets the parameters ``backend``, ``params_file``, ``profile`` and ``output_dir``. The output
directory (emptied first: a report never mixes with an earlier one) keeps every executed notebook
(``<category>.ipynb``) and its HTML, ``index.html``, ``junit.xml``, ``results.json`` and the notebooks'
progress files. Each run is also added to the history (``history.sqlite`` beside the output directory),
and the index page shows what changed against the previous comparable run.

Several ``--backend`` values (repeated or comma-separated) run the matrix in one go: every notebook on
every backend, all queued at once. Each backend then gets its own report in ``<output>/<backend>/``
(the same files as a one-backend run, recorded in the history as a run of that backend), and
``<output>/index.html`` and ``<output>/junit.xml`` put the backends side by side.

``--executor ray`` runs each (notebook, backend) execution as a task on a Ray cluster: the one at
``--ray-address``, or a local one started for the run and shut down after it (see
``loon.suite.ray_executor``; Ray is an optional dependency: ``pip install '.[distributed]'``).

Selecting cases, as with pytest: ``-k`` takes a pytest expression over case names (a word matches a
case whose name or category contains it), ``--lf`` runs the cases that failed in a report directory
(default: the output directory), ``-x`` stops at the first failing case, ``--keep-data`` keeps a
failing case's dataset and prints where it is.

Exit codes: 0 every case passed or was skipped; 1 a case failed; 2 usage or configuration error (bad
option, unknown category, params file, output directory that cannot be written); 3 a notebook or its
kernel died (an exception outside a case, a dead kernel, a timeout); 130 interrupted (Ctrl-C): the
index and JUnit still cover what finished.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent
LIB = REPO / "lib"
if str(LIB) not in sys.path:
    sys.path.insert(0, str(LIB))  # the suite library, whether or not it is pip-installed

from loon.suite import config, control, emulators, matrix, plan, raycluster, report  # noqa: E402  (needs the sys.path entry above)
from loon.suite.executor import KERNEL_NAME, Executor, Job, LocalProcessExecutor, Outcome  # noqa: E402

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
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DIED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
# Seconds a stopped notebook gets to shut its kernel down and save what it ran.
STOP_GRACE = 30.0
# A case running this long without news gets a "still running" line.
QUIET_WARNING = 60.0
REPORT_MARKER = ".loon-report"


class UsageError(Exception):
    """Bad command line or configuration: reported with exit code 2."""


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
        raise UsageError(f"unknown categories: {', '.join(unknown)}; known: {', '.join(available) or '(none)'}")
    return list(dict.fromkeys(names))


def prepare_kernel(lib_dir: Path, data_dir: Path) -> None:
    """Makes papermill's kernel run this interpreter with ``lib/`` importable and asserts rewritten.

    A private kernel spec (in ``data_dir``, put on ``JUPYTER_PATH``) pins ``sys.executable``, so a user-level
    ``python3`` kernel pointing at another Python cannot hijack the run. It loads ``loon.suite.cases`` as an
    IPython extension, so pytest's assertion rewriting covers every cell from the first. ``PYTHONPATH`` is
    set in the environment every kernel inherits.
    """
    spec_dir = data_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = kernel_spec(sys.executable)
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(data_dir), os.environ.get("JUPYTER_PATH")]))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(lib_dir), os.environ.get("PYTHONPATH")]))
    # The kernel shows figures inline; a stray MPLBACKEND (e.g. from CI) must not override that.
    os.environ.pop("MPLBACKEND", None)


def kernel_spec(python: str, display_name: str = "loon suite (Python 3)") -> dict[str, object]:
    """The kernel the suite runs in (also installed for JupyterLab by ``make lab``)."""
    return {
        # --log-level=ERROR: keeps kernel start-up chatter (e.g. ipykernel 7's warning about
        # unencrypted local TCP) out of the runner's output; cell output is unaffected.
        "argv": [python, "-m", "ipykernel_launcher", "--log-level=ERROR", "--ext=loon.suite.cases",
                 "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
    }  # fmt: skip


def git_revision() -> str:
    """``<short hash>`` of the checkout, ``-dirty`` when tracked files changed; ``unknown`` outside git."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True, timeout=10).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def prepare_output(output_dir: Path) -> None:
    """Empties (or creates) the report directory; ``UsageError`` if it cannot be written or is not one.

    Only a directory this runner wrote (or an empty one) is emptied: files of an earlier run must never
    mix into a new report, and a mistyped ``--output`` must never delete someone's files.
    """
    try:
        if output_dir.exists():
            if not output_dir.is_dir():
                raise UsageError(f"output {output_dir} exists and is not a directory")
            entries = list(output_dir.iterdir())
            is_report = any((output_dir / name).exists() for name in (REPORT_MARKER, "junit.xml", "index.html"))
            if entries and not is_report:
                raise UsageError(f"output directory {output_dir} is not empty and holds no report; "
                                 "refusing to empty it (choose another --output)")  # fmt: skip
            for entry in entries:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / REPORT_MARKER).write_text("written by runner.py; emptied at the start of every run\n")
        (output_dir / "progress").mkdir()
        (output_dir / "logs").mkdir()
    except OSError as exc:
        raise UsageError(f"cannot write the report directory {output_dir}: {exc.strerror or exc}") from exc


class Console:
    """Live per-case progress: reads the notebooks' progress files and prints each case as it ends."""

    def __init__(self, jobs: list[Job]) -> None:
        self.offsets = {job.category: 0 for job in jobs}
        self.running: dict[str, tuple[str, float, float]] = {}  # category -> (case, since, last warned)
        self.width = max([len(job.category) for job in jobs] + [8])
        self.first_failure: str | None = None

    def poll(self, job: Job) -> None:
        events, self.offsets[job.category] = control.read_events(job.progress, self.offsets[job.category])
        for event in events:
            if event.get("event") == "start":
                self.running[job.category] = (event["case"], time.monotonic(), time.monotonic())
            elif event.get("event") == "end":
                self.running.pop(job.category, None)
                self.case_line(job.category, event["result"])

    def case_line(self, category: str, result: dict) -> None:
        status, name, message = result["status"], result["name"], result.get("message", "")
        text = f"  {category:<{self.width}} {status.upper():<4} {name}"
        if status == "pass":
            text += f" ({result.get('seconds', 0):.2f} s)"
        elif message:
            lines = message.splitlines()
            text += f": {lines[0]}" + "".join(f"\n  {'':<{self.width}}      {line}" for line in lines[1:12])
        for path in result.get("data", []):
            text += f"\n  {'':<{self.width}}      dataset kept: {path}"
        print(text, flush=True)
        if status == "fail" and self.first_failure is None:
            self.first_failure = f"{category}::{name}"

    def still_running(self) -> None:
        now = time.monotonic()
        for category, (case, since, warned) in list(self.running.items()):
            if now - warned >= QUIET_WARNING:
                print(f"  {category:<{self.width}} .... {case} running for {now - since:.0f} s", flush=True)
                self.running[category] = (case, since, now)


class Interrupt:
    """Ctrl-C (SIGINT) or SIGTERM: the first stops the run gracefully, the second at once."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, signum: int, frame: object) -> None:
        self.count += 1
        if self.count == 1:
            print("\ninterrupted: cancelling queued notebooks, stopping running ones (Ctrl-C again: at once)",
                  flush=True)  # fmt: skip


def execute(
    jobs: list[Job], executor: Executor, exitfirst: bool, summarize: Callable[[Job, Outcome], report.NotebookResult]
) -> tuple[dict[str, report.NotebookResult], list[Job], str]:
    """Runs ``jobs``; returns the results of started jobs (by job label, from ``summarize``), the jobs never
    started, and why the run stopped early (empty when it did not).

    Each notebook's summary line is printed as it finishes, whichever executor runs it.
    """
    console = Console(jobs)
    interrupt = Interrupt()
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    pending = deque(jobs)
    started: list[Job] = []
    results: dict[str, report.NotebookResult] = {}
    stopped = ""

    def finished(outcome: Outcome) -> None:
        job = next(j for j in jobs if j.category == outcome.category)
        console.poll(job)
        result = results[job.category] = summarize(job, outcome)
        print(f"[{len(results)}/{len(jobs)}] {job.category} ... {result.summary_line()} ({outcome.seconds:.1f} s)",
              flush=True)  # fmt: skip
        if result.crashed:
            print(f"  kernel log: {job.log}", flush=True)

    try:
        while pending or executor.active():
            if interrupt.count or (exitfirst and console.first_failure):
                stopped = "interrupted (Ctrl-C)" if interrupt.count else (
                    f"stopped after the first failure (-x): {console.first_failure}")  # fmt: skip
                for outcome in executor.stop_all(0.0 if interrupt.count > 1 else STOP_GRACE):
                    outcome.stop_reason = stopped
                    finished(outcome)
                break
            while pending and executor.active() < executor.capacity:
                job = pending.popleft()
                executor.start(job)
                started.append(job)
            for outcome in executor.poll():
                finished(outcome)
            for job in started:
                console.poll(job)
            console.still_running()
            time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return results, list(pending), stopped


def selection_text(args: argparse.Namespace, lf_dir: Path | None) -> str:
    parts = []
    if args.categories:
        parts.append(f"categories {args.categories}")
    if args.keyword:
        parts.append(f"-k {args.keyword!r}")
    if lf_dir is not None:
        parts.append(f"--lf {lf_dir}")
    if args.exitfirst:
        parts.append("-x")
    return ", ".join(parts)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes:\n  0 passed\n  1 a case failed\n  2 usage or configuration error\n"
        "  3 a notebook died\n  130 interrupted",
    )
    parser.add_argument(
        "--backend",
        action="append",
        help="backend name: picks params/<backend>.yaml (default: local); repeat or comma-separate for several",
    )
    parser.add_argument("--params", help="params file (overrides --backend and TEST_CONFIG_FILE)")
    parser.add_argument("--categories", help="comma-separated notebooks to run (default: all but stress)")
    parser.add_argument("--profile", default="ci", choices=sorted(config.PROFILES), help="data size (default: ci)")
    parser.add_argument(
        "--jobs", type=int, help="notebooks run in parallel (default: 1; with --executor ray: all, as the cluster fits)"
    )
    parser.add_argument(
        "--executor", choices=("local", "ray"), default="local",
        help="where notebooks run: processes on this machine (default) or tasks on a Ray cluster",
    )  # fmt: skip
    parser.add_argument("--ray-address", help="Ray cluster to use (default: start a local one for the run)")
    parser.add_argument(
        "--ray-runtime-env", metavar="JSON", help='Ray runtime_env for the tasks, e.g. \'{"working_dir": "."}\''
    )
    parser.add_argument("--output", default="reports/latest", help="report directory (default: reports/latest)")
    parser.add_argument(
        "-k",
        dest="keyword",
        metavar="EXPRESSION",
        help="run only cases matching this pytest-style expression, e.g. 'rolling and not small'",
    )
    parser.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failing case")
    parser.add_argument(
        "--lf",
        "--last-failed",
        dest="last_failed",
        nargs="?",
        const="",
        metavar="REPORT_DIR",
        help="run only the cases that failed in REPORT_DIR (default: the output directory)",
    )
    parser.add_argument("--keep-data", action="store_true",
                        help="keep a failing case's dataset and print where it is")  # fmt: skip
    parser.add_argument("--notebooks-dir", default=str(REPO / "notebooks"), help="where the notebooks are")
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds one cell may run; <= 0 for none (default: 900)"
    )
    parser.add_argument("--history", help="history file (default: history.sqlite beside the output directory)")
    parser.add_argument("--no-history", action="store_true", help="do not record the run in the history")
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be >= 1")
    args.backends = list(dict.fromkeys(b.strip() for v in args.backend or [] for b in v.split(",") if b.strip()))
    if args.params and len(args.backends) > 1:
        parser.error("--params names one backend's file; use --backend names for several")
    if args.last_failed is not None and len(args.backends) > 1:
        parser.error("--lf takes one backend (its report directory)")
    if args.executor != "ray" and (args.ray_address or args.ray_runtime_env):
        parser.error("--ray-address and --ray-runtime-env need --executor ray")
    if args.ray_runtime_env:
        try:
            args.ray_runtime_env = json.loads(args.ray_runtime_env)
        except json.JSONDecodeError as exc:
            parser.error(f"--ray-runtime-env is not JSON: {exc}")
    return args


def plan_run(args: argparse.Namespace, output_dir: Path) -> tuple[dict[str, Path], list[str], Path | None, dict | None]:
    """Notebooks, categories to run, ``--lf`` directory and its failed cases; ``UsageError`` if impossible."""
    notebooks_dir = Path(args.notebooks_dir).resolve()
    if not notebooks_dir.is_dir():
        raise UsageError(f"notebooks directory not found: {notebooks_dir}")
    available = discover(notebooks_dir)
    categories = select_categories(available, args.categories)
    if not categories:
        raise UsageError(f"no notebooks to run in {notebooks_dir}")
    lf_dir, only = None, None
    if args.last_failed is not None:
        lf_dir = Path(args.last_failed).resolve() if args.last_failed else output_dir
        only = plan.failed_cases(lf_dir)
        if only is None:
            raise UsageError(f"--lf: no earlier report in {lf_dir} (no results.json)")
        if only:
            categories = [c for c in categories if c in only]
            if args.categories is None:  # explicit-only notebooks (stress) count when they failed
                categories += [c for c in only if c in available and c not in categories]
            print(f"--lf: {sum(map(len, only.values()))} failed cases of {lf_dir}")
        else:
            print(f"--lf: no failed cases in {lf_dir}: running everything")
            only = None
    if args.keyword:
        try:
            control.compile_keyword(args.keyword)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        categories = [c for c in categories if plan.notebook_may_match(c, available[c], args.keyword)]
        if not categories:
            raise UsageError(f"-k {args.keyword!r} matches no case of the selected notebooks")
    return available, categories, lf_dir, only


@dataclass
class BackendRun:
    """One backend of the run: its params, the environment its notebooks need, its report directory."""

    name: str
    params_file: Path
    config: config.BackendConfig
    env: dict[str, str]
    output_dir: Path
    jobs: list[Job] = field(default_factory=list)
    results: list[report.NotebookResult] = field(default_factory=list)
    written: report.Written | None = None


def referenced_env(params_file: Path) -> dict[str, str]:
    """The variables a params file references (``${NAME}``, ``requires_env``) that are set here.

    They travel with each job, so a notebook on another machine (a Ray node) sees this run's values.
    """
    text = params_file.read_text()
    names = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        raw = None  # config.try_load reports it
    if isinstance(raw, dict) and isinstance(raw.get("requires_env"), list):
        names.update(str(name) for name in raw["requires_env"])
    return {name: os.environ[name] for name in sorted(names) if name in os.environ}


def prepare_backends(args: argparse.Namespace, output_dir: Path) -> list[BackendRun]:
    """Resolves each backend's params file and starts the emulator it names (stopped at exit).

    One backend reports into ``output_dir``, several into ``output_dir/<backend>``. The emulator's address
    and bucket go into that backend's environment (with the variables its params file references), so
    two emulator backends can run side by side.
    """
    names = args.backends or [None]
    runs = []
    for name in names:
        params_file = config.resolve_params_file(args.params, name)
        env = referenced_env(params_file)
        kind = emulators.emulator_of_params(params_file)
        if kind is not None:
            emu = emulators.start(kind)
            env = {emulators.ADDRESS_ENV: emu.address, emulators.BUCKET_ENV: emu.bucket}
        backend_config = config.try_load(params_file, env={**os.environ, **env})
        label = name or backend_config.backend
        runs.append(BackendRun(label, params_file, backend_config, env,
                               output_dir if len(names) == 1 else output_dir / label))  # fmt: skip
    return runs


def make_executor(args: argparse.Namespace, jobs: list[Job], stack: contextlib.ExitStack) -> Executor:
    """The local process pool, or a Ray executor on the cluster joined (or started) for the run.

    With Ray, notebooks get the cluster's address as ``LOON_RAY_ADDRESS`` (the stress notebook's
    cluster commit race joins it).
    """
    if args.executor == "ray":
        from loon.suite.ray_executor import RayExecutor

        ray = stack.enter_context(raycluster.cluster(args.ray_address, runtime_env=args.ray_runtime_env))
        for job in jobs:
            job.env.setdefault(raycluster.ADDRESS_ENV, ray.get_runtime_context().gcs_address)
        return RayExecutor(args.jobs or len(jobs), kernel_spec(sys.executable))
    return LocalProcessExecutor(args.jobs or 1)


def summarize(job: Job, outcome: Outcome, category: str) -> report.NotebookResult:
    """The result of a finished (or stopped) notebook: its executed notebook, progress and source."""
    return report.collect(
        outcome.ipynb, category, outcome.run_error, outcome.seconds, progress=job.progress,
        planned=plan.planned_cases(job.source), selection=control.RunControl.from_json(job.control_file.read_text()),
        interrupted=outcome.interrupted, stop_reason=outcome.stop_reason,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["compare"]:
        from loon.suite import compare

        return compare.main(argv[1:])
    args = parse_args(argv)
    output_dir = Path(args.output).resolve()
    try:
        if args.executor == "ray":
            raycluster.import_ray()  # before anything starts: says how to install it
        available, categories, lf_dir, only = plan_run(args, output_dir)
        prepare_output(output_dir)
        backends = prepare_backends(args, output_dir)
        for b in backends:
            if b.output_dir != output_dir:
                prepare_output(b.output_dir)
    except (UsageError, config.ConfigError, emulators.EmulatorError, raycluster.RayUnavailable) as exc:
        print(f"runner.py: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    several = len(backends) > 1
    where = f"on Ray ({args.ray_address or 'local cluster'})" if args.executor == "ray" else (
        f"{args.jobs or 1} at a time")  # fmt: skip
    for b in backends:
        print(f"backend {b.config.backend} ({b.params_file}), profile {args.profile}, "
              f"{len(categories)} notebooks {where} -> {b.output_dir}")  # fmt: skip
        if b.config.skip_reason():
            print(f"note: {b.name}: {b.config.skip_reason()}; cases needing it will be skipped")

    timeout = args.timeout if args.timeout and args.timeout > 0 else None
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    wall_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="loon-kernel-") as kernel_dir, contextlib.ExitStack() as stack:
        prepare_kernel(LIB, Path(kernel_dir))
        jobs = []
        for b in backends:
            parameters = {"backend": b.config.backend, "params_file": str(b.params_file), "profile": args.profile,
                          "output_dir": str(b.output_dir)}  # fmt: skip
            for name in categories:
                label = f"{b.name}.{name}" if several else name  # the JUnit name; unique across backends
                run_control = control.RunControl(
                    keyword=args.keyword, only=only, exitfirst=args.exitfirst, keep_data=args.keep_data,
                    progress=str(b.output_dir / "progress" / f"{name}.jsonl"),
                )  # fmt: skip
                control_file = run_control.write(Path(kernel_dir) / f"{label}.control.json")
                b.jobs.append(Job(label, available[name], b.output_dir / f"{name}.ipynb", dict(parameters), timeout,
                                  control_file, Path(run_control.progress), b.output_dir / "logs" / f"{name}.log",
                                  dict(b.env)))  # fmt: skip
            jobs += b.jobs
        try:
            executor = make_executor(args, jobs, stack)
        except Exception as exc:  # e.g. a Ray address nobody answers on
            print(f"runner.py: error: cannot start the {args.executor} executor: {exc}", file=sys.stderr)
            return EXIT_USAGE
        categories_of = {job.category: name for b in backends for job, name in zip(b.jobs, categories)}
        finished, never_started, stopped = execute(
            jobs, executor, args.exitfirst, lambda job, outcome: summarize(job, outcome, categories_of[job.category])
        )
        for b in backends:
            b.results = [finished.get(job.category) or report.cancelled(name, job.output)
                         for job, name in zip(b.jobs, categories)]  # fmt: skip

    interrupted = stopped.startswith("interrupted")
    all_results = [nb for b in backends for nb in b.results]
    crashed = [f"{b.name}.{nb.category}" if several else nb.category for b in backends for nb in b.results
               if nb.crashed]  # fmt: skip
    if interrupted:
        code = EXIT_INTERRUPTED
    elif crashed:
        code = EXIT_DIED
    else:
        code = EXIT_OK if all(nb.ok for nb in all_results) else EXIT_FAILED
    wall_seconds = time.perf_counter() - wall_start
    history_path = None
    if not args.no_history:
        history_path = Path(args.history).resolve() if args.history else output_dir.parent / "history.sqlite"
    for b in backends:
        run = report.RunInfo(
            backend=b.config.backend, profile=args.profile, params_file=str(b.params_file),
            wall_seconds=wall_seconds, started=started, skip_reason=b.config.skip_reason(),
            hostname=socket.gethostname(), git_revision=git_revision(), selection=selection_text(args, lf_dir),
            stopped=stopped, exit_code=code,
        )  # fmt: skip
        b.written = report.write_report(b.results, b.output_dir, run, history_path)

    print(
        f"{report.totals(all_results).line()}"
        + (f"; notebooks died: {', '.join(crashed)}" if crashed else "")
        + (f"; not started: {', '.join(j.category for j in never_started)}" if never_started else "")
        + f" in {wall_seconds:.1f} s"
    )
    if stopped:
        print(f"run {stopped}")
    if several:
        entries = [(b.name, b.output_dir, b.results) for b in backends]
        index, junit = matrix.write_matrix(entries, output_dir, args.executor, wall_seconds, started)
        print(f"report: {index}")
        print(f"junit:  {junit}")
        for b in backends:
            print(f"  {b.name}: {b.written.index}")
    else:
        print(f"report: {backends[0].written.index}")
        print(f"junit:  {backends[0].written.junit}")
    for b in backends:
        if b.written.changes is not None:
            print(f"history: {history_path}: {b.name + ': ' if several else ''}{b.written.changes.summary()}")
    return code


if __name__ == "__main__":
    sys.exit(main())
