"""Shared fixtures (sessions on temporary database files, small labeled tables), the skip count and the
engine-SQL check.

Every run prints how many tests were skipped and fails when any was: a skipped test checks nothing, so a
missing dependency must fail with a message saying how to install it (see tests/test_suite_hygiene.py).

Every run also records each SQL text the planner, the catalog and the model store send to an engine, and
fails unless each one parses in sqlglot's Spark dialect and renders for Spark (issue 9: plans that are
engine-neutral, so the Spark engine starts from a planner that already speaks its SQL). Plain SQL a user
wrote goes to DuckDB as written and is not recorded: only calls made from paqdb's planning layers count.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import paqdb

pytest_plugins = ["pytester"]  # tests of this file's hooks run small pytest sessions of their own


class SkipCount:
    """Counts skipped tests, prints the count at the end of every run and fails a run that skipped any."""

    def __init__(self) -> None:
        self.skipped: list[str] = []

    def _record(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        # an xfail is reported as skipped too; it is no skip (xfail_strict makes an unexpected pass fail)
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skipped.append(report.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)  # a whole module skipped while importing, e.g. by pytest.importorskip

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # a run that failed otherwise keeps its status; a module skipped whole leaves "no tests collected"
        if self.skipped and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_line(f"skipped tests: {len(self.skipped)}")
        if self.skipped:
            terminalreporter.write_line(
                "the run fails: a skipped test checks nothing; make it fail with a message saying how to "
                "install what it needs:\n  " + "\n  ".join(self.skipped),
                red=True,
            )


#: The layers whose SQL must be engine-neutral.
PLANNING_MODULES = (
    "paqdb.planner",
    "paqdb.catalog",
    "paqdb.models",
    "paqdb.statements",
    "paqdb.capability",
    "paqdb.clean",
)


class EngineSqlRecorder:
    """Wraps the DuckDB engine's entry points for the run and checks what they were sent."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}  # text -> the module that sent it
        self._originals: dict[str, Callable[..., Any]] = {}

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from paqdb.engines.duckdb import DuckDBEngine

        for method, as_query in (
            ("execute", str),
            ("query_arrow", str),
            ("scan_batches", str),
            ("columns", _relation),
        ):
            original = getattr(DuckDBEngine, method)
            self._originals[method] = original
            setattr(DuckDBEngine, method, self._recording(original, as_query))

    def _recording(self, original: Callable[..., Any], as_query: Callable[[str], str]) -> Callable[..., Any]:
        texts = self.texts

        def recorded(engine: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if caller.startswith(PLANNING_MODULES):
                texts.setdefault(as_query(sql), caller)
            return original(engine, sql, *args, **kwargs)

        return recorded

    def failures(self) -> list[str]:
        """The recorded texts that do not parse in Spark's dialect or cannot be rendered for it."""
        import sqlglot
        from sqlglot.errors import ErrorLevel

        failed = []
        for text, caller in sorted(self.texts.items()):
            try:
                sqlglot.parse(text, read="spark")
                sqlglot.transpile(text, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)
            except sqlglot.errors.SqlglotError as error:
                failed.append(f"{caller}: {text[:200]!r}: {str(error).splitlines()[0]}")
        return failed

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from paqdb.engines.duckdb import DuckDBEngine

        for method, original in self._originals.items():
            setattr(DuckDBEngine, method, original)
        self.failed = self.failures()
        if self.failed and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_line(
            f"engine SQL from the planner, catalog and model store: {len(self.texts)} texts, "
            f"{len(self.failed)} not Spark SQL"
        )
        for line in self.failed:
            terminalreporter.write_line(f"  {line}", red=True)


def _relation(sql: str) -> str:
    return f"SELECT * FROM {sql}"  # Engine.columns takes a relation: a name or a (query)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipCount(), "paqdb-skip-count")
    config.pluginmanager.register(EngineSqlRecorder(), "paqdb-engine-sql")


@pytest.fixture
def database(tmp_path: Path) -> str:
    """Path of a fresh database file."""
    return str(tmp_path / "test.duckdb")


@pytest.fixture
def con(database: str) -> Iterator[paqdb.Connection]:
    """An autocommit connection on a fresh file with iris loaded and split into labeled/new tables."""
    connection = paqdb.connect(database, autocommit=True)
    connection.execute("LOAD DATASET iris")
    fold = "hash(sepal_length_cm, petal_width_cm, petal_length_cm) % 4"
    connection.execute(f"CREATE TABLE iris_train AS SELECT * FROM iris WHERE {fold} <> 0")
    connection.execute(f"CREATE TABLE iris_test AS SELECT * FROM iris WHERE {fold} = 0")
    yield connection
    connection.close()
