"""Start-up time: ``import paqdb`` and ``paqdb DB -c "SELECT 1;"`` in fresh processes.

Every PG-wire connection, HTTP worker and shell start pays the import, so issue 9 sets two targets on
this machine: ``import paqdb`` under 0.3 s and ``paqdb DB -c "SELECT 1;"`` under 1 s. Each arm runs in a
new Python process, ``--runs`` times after one unmeasured warm-up run (which fills the file cache and
creates the database file), and the median is reported:

- "import" arms time the import statement inside the child (``time.perf_counter`` around it), so the
  interpreter's own start is not counted; their "process" column is the whole child, start included.
- the shell arm times the whole ``paqdb`` command from the parent (interpreter start, imports, opening
  the database and its catalog, the query, printing), on a database the warm-up run created.

Context arms show what paqdb cannot avoid: the interpreter alone, and pyarrow and duckdb, which paqdb
imports at start-up on purpose (every statement needs them). The "heavy modules loaded" column lists
which of scikit-learn, SciPy, skops, optuna, pandas, prompt_toolkit and pygments each child had in
``sys.modules`` when it finished: none of them should appear for paqdb's arms.

Run: ``python bench/startup.py`` (under a minute). It prints markdown and rewrites its section of
BENCHMARKS.md (``--no-write`` to only print).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import machine_line, write_section

HEAVY = ("sklearn", "scipy", "skops", "optuna", "pandas", "prompt_toolkit", "pygments")
"""Top-level packages that paqdb's start-up must not load (the first four are issue 9's list)."""

IMPORT_TARGET_S = 0.3
SHELL_TARGET_S = 1.0

BEFORE = (
    "Before issue 9 (commit 1842fc7; this script, 7 runs, same machine, 2026-12-05): `import paqdb` "
    "1.790 s (process CPU 1.471 s; it loaded scikit-learn, SciPy and pandas, through the planner's import "
    'of one constant and of the search\'s cost model), `paqdb DB -c "SELECT 1;"` 2.702 s (CPU 1.391 s).'
)
"""The figures this script measured on the code before the fast-start work, kept for comparison."""

# The child prints one JSON line: the import's own time and which heavy packages it left loaded.
_CHILD = """
import json, sys, time
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
heavy = sorted(name for name in {heavy!r} if name in sys.modules)
print(json.dumps({{"seconds": elapsed, "heavy": heavy}}))
"""

# The shell arm reports its loaded packages through this hook: site runs it at interpreter exit.
_SHELL_PROBE = """
import atexit, json, os, sys
def _report():
    heavy = sorted(name for name in {heavy!r} if name in sys.modules)
    with open(os.environ["PAQDB_STARTUP_PROBE"], "w") as handle:
        json.dump(heavy, handle)
atexit.register(_report)
"""


@dataclass
class Arm:
    """One measured line of the table."""

    name: str
    inner: list[float]  # the import's own time, per run (empty for the shell arm)
    process: list[float]  # the whole child process, per run (wall clock)
    cpu: list[float]  # the child's CPU time (user + system), per run
    heavy: list[str]

    @property
    def median_inner(self) -> float | None:
        return statistics.median(self.inner) if self.inner else None

    @property
    def median_process(self) -> float:
        return statistics.median(self.process)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(
    command: list[str], *, check: bool = False, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run ``command``; its result, wall-clock seconds and CPU seconds (user + system)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=check, env=env)
    wall = time.perf_counter() - start
    return done, wall, _children_cpu() - cpu


def _python() -> str:
    return sys.executable


def measure_import(name: str, statement: str, runs: int) -> Arm:
    """Run ``statement`` in ``runs`` fresh interpreters (after a warm-up) and collect its timings."""
    code = _CHILD.format(statement=statement, heavy=HEAVY)
    inner: list[float] = []
    process: list[float] = []
    cpu: list[float] = []
    heavy: list[str] = []
    for attempt in range(runs + 1):
        done, wall, used = _run([_python(), "-c", code], check=True)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        if attempt == 0:
            continue  # the warm-up: file cache, .pyc files
        inner.append(report["seconds"])
        process.append(wall)
        cpu.append(used)
        heavy = report["heavy"]
    return Arm(name, inner, process, cpu, heavy)


def measure_shell(runs: int) -> Arm:
    """Time ``paqdb DB -c "SELECT 1;"`` as a user runs it: the installed console script."""
    script = Path(_python()).with_name("paqdb")
    command = [str(script)] if script.exists() else [_python(), "-m", "paqdb.cli"]
    process: list[float] = []
    cpu: list[float] = []
    heavy: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "startup.duckdb"
        probe_dir = Path(folder) / "probe"
        probe_dir.mkdir()
        (probe_dir / "sitecustomize.py").write_text(_SHELL_PROBE.format(heavy=HEAVY))
        probe_file = Path(folder) / "heavy.json"
        for attempt in range(runs + 2):
            env = dict(os.environ)
            probing = attempt == runs + 1  # one extra, unmeasured run with the probe installed
            if probing:
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(probe_dir), env.get("PYTHONPATH")]))
                env["PAQDB_STARTUP_PROBE"] = str(probe_file)
            done, wall, used = _run([*command, str(database), "-c", "SELECT 1;"], env=env)
            if done.returncode != 0 or "1 row" not in done.stdout:
                raise SystemExit(f"paqdb -c failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
            if probing:
                heavy = json.loads(probe_file.read_text())
            elif attempt > 0:  # attempt 0 is the warm-up, which also creates the database
                process.append(wall)
                cpu.append(used)
    return Arm('paqdb DB -c "SELECT 1;"', [], process, cpu, heavy)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def table(arms: list[Arm]) -> str:
    """The markdown table of medians."""
    lines = [
        "| arm | import itself, median (s) | whole process, median (s) | min-max process (s) "
        "| process CPU, median (s) | heavy modules loaded |",
        "|---|---|---|---|---|---|",
    ]
    for arm in arms:
        lines.append(
            f"| {arm.name} | {_seconds(arm.median_inner)} | {arm.median_process:.3f} "
            f"| {min(arm.process):.3f}-{max(arm.process):.3f} | {arm.median_cpu:.3f} "
            f"| {', '.join(arm.heavy) or 'none'} |"
        )
    return "\n".join(lines)


def verdicts(by_name: dict[str, Arm]) -> str:
    """One line per target: measured median against the target."""
    imported = by_name["import paqdb"].median_inner or 0.0
    shell = by_name['paqdb DB -c "SELECT 1;"'].median_process
    rows = [
        ("`import paqdb` (the import itself)", imported, IMPORT_TARGET_S),
        ('`paqdb DB -c "SELECT 1;"` (whole command)', shell, SHELL_TARGET_S),
    ]
    return "\n".join(
        f"- {what}: {value:.3f} s, target under {target:g} s: {'met' if value < target else 'NOT met'}"
        for what, value, target in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per arm (default 7)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()

    arms = [
        measure_import("python -c pass (interpreter only)", "pass", args.runs),
        measure_import("import pyarrow", "import pyarrow", args.runs),
        measure_import("import duckdb", "import duckdb", args.runs),
        measure_import("import paqdb", "import paqdb", args.runs),
        measure_import("import paqdb; paqdb.connect()", "import paqdb; paqdb.connect().close()", args.runs),
        measure_shell(args.runs),
        measure_import("import sklearn (context: what paqdb defers)", "import sklearn.ensemble", args.runs),
    ]
    by_name = {arm.name: arm for arm in arms}
    body = "\n\n".join(
        [
            machine_line(),
            f"Command: `python bench/startup.py`. Median of {args.runs} fresh processes per arm after one "
            "warm-up run. 'import itself' is timed inside the child around the import statement; 'whole "
            "process' is the child from the parent, interpreter start included. The shell arm is the "
            "installed `paqdb` command on an existing database file. pyarrow and duckdb are imported at "
            "start-up on purpose (every statement needs them); scikit-learn, SciPy, skops and optuna load "
            "only when a statement trains, searches or loads a model; DuckDB and the parser (sqlglot) with "
            "the first connection. The machine is shared: 'process CPU' (user + system time of the child) "
            "varies less with its load than the wall clock.",
            table(arms),
            verdicts(by_name),
            BEFORE,
        ]
    )
    print(body)
    if not args.no_write:
        write_section("Start-up (issue 9)", body)


if __name__ == "__main__":
    main()
