"""A Session: the one object every door (shell, DB-API, servers) sends SQL text to.

It splits the text into statements, hands plain DuckDB SQL to the engine untouched, and sends paqdb
statements through the planner. It also owns the transaction rules: in autocommit mode each statement
commits on its own (paqdb statements that write the catalog open and commit their own transaction);
otherwise, as PEP 249 requires, a transaction opens before the first statement and lasts until
``commit()`` or ``rollback()``. A failed statement inside such a transaction rolls it back, since DuckDB
cannot continue an aborted transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from paqdb.catalog import ModelCatalog
from paqdb.engines.base import ExecResult
from paqdb.engines.duckdb import DuckDBEngine, first_word
from paqdb.errors import Error, NotSupportedError
from paqdb.planner.context import ExecutionContext, ProgressCallback
from paqdb.planner.planner import Planner
from paqdb.sql import Statement, parse

_TRANSACTION_WORDS = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"}


@dataclass
class StatementResult:
    """One statement's outcome, with the statement and an optional message for people."""

    statement: Statement
    result: ExecResult
    message: str | None = None


class Session:
    """Runs SQL text against one database.

    Args:
        database: a DuckDB file path or ``":memory:"``.
        read_only: open the file read-only.
        autocommit: commit after every statement (True), or keep a transaction open until
            :meth:`commit` / :meth:`rollback` (False, the PEP 249 default).
        progress: called with progress objects during long work such as a model search.
        connection: use this existing DuckDB connection instead of opening ``database``.
    """

    def __init__(
        self,
        database: str = ":memory:",
        *,
        read_only: bool = False,
        autocommit: bool = True,
        progress: ProgressCallback | None = None,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.engine = DuckDBEngine(database, read_only=read_only, connection=connection)
        self.catalog = ModelCatalog(self.engine)
        self.context = ExecutionContext(self.engine, self.catalog, progress)
        self.planner = Planner(self.context)
        self.autocommit = autocommit
        self.closed = False

    @property
    def progress(self) -> ProgressCallback | None:
        return self.context.progress

    @progress.setter
    def progress(self, callback: ProgressCallback | None) -> None:
        self.context.progress = callback

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> ExecResult:
        """Run every statement of ``sql``; return the last one's result.

        Raises:
            paqdb.errors.Error: the first statement that fails; the statements before it stay done.
        """
        last: ExecResult | None = None
        for outcome in self.run(sql, parameters):
            last = outcome.result
        return last if last is not None else ExecResult(None, -1, [], "")

    def run(self, sql: str, parameters: Sequence[Any] | None = None) -> Iterator[StatementResult]:
        """Run the statements of ``sql`` one by one, yielding each result as it completes."""
        statements = parse(sql)
        if parameters is not None and len(statements) > 1:
            raise NotSupportedError(
                "parameters need a single statement", hint="run the statements one at a time"
            )
        for statement in statements:
            yield self._run_one(statement, parameters)

    def _run_one(self, statement: Statement, parameters: Sequence[Any] | None) -> StatementResult:
        word = first_word(statement.text) if statement.is_plain else ""
        if not self.autocommit and not self.engine.in_transaction and word not in _TRANSACTION_WORDS:
            self.engine.begin()
        try:
            if statement.is_plain:
                return StatementResult(statement, self.engine.execute(statement.text, parameters))
            if parameters:
                raise statement.locate(
                    NotSupportedError(
                        "parameters are not supported in paqdb statements",
                        hint="write the values into the statement",
                    )
                )
            result, message = self.planner.execute(statement)
            return StatementResult(statement, result, message)
        except Error:
            if not self.autocommit:
                self.engine.rollback()
            raise
        except KeyboardInterrupt:
            if not self.autocommit:
                self.engine.rollback()
            raise

    def commit(self) -> None:
        """Commit the open transaction, if any."""
        self.engine.commit()

    def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        self.engine.rollback()

    def close(self) -> None:
        """Roll back what is uncommitted and close the database."""
        if self.closed:
            return
        try:
            if not self.autocommit:
                self.engine.rollback()
        finally:
            self.engine.close()
            self.closed = True

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
