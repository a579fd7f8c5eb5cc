"""Shared fixtures (sessions on temporary database files, small labeled tables) and the skip count.

Every run prints how many tests were skipped and fails when any was: a skipped test checks nothing, so a
missing dependency must fail with a message saying how to install it (see tests/test_suite_hygiene.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipCount(), "paqdb-skip-count")


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
