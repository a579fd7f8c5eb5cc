"""A Session: the one object every door (shell, DB-API, servers) sends SQL text to.

It splits the text into statements, hands plain DuckDB SQL to the engine untouched, and sends paqdb
statements through the planner. It also owns the transaction rules, which are PostgreSQL's (so the
PostgreSQL-protocol server can pass them on unchanged):

* in autocommit mode each statement commits on its own; otherwise, as PEP 249 requires, a transaction
  opens before the first statement and lasts until :meth:`commit` or :meth:`rollback`;
* every statement of a script is syntax-checked before any of them runs, so a syntax error runs nothing
  and leaves an open transaction as it was;
* any other error inside a transaction aborts it: the error says so, and every later statement fails with
  SQLSTATE 25P02 until :meth:`rollback` (or ``ROLLBACK``). A ``COMMIT`` of an aborted transaction rolls it
  back and says so, rather than pretending to keep its work.

Parameters (``?``, ``$1``, ``$name``, as DuckDB accepts them) are bound wherever a value may stand: plain
SQL and ``PREDICT(...)`` queries bind them in the engine, paqdb statements before planning
(:mod:`paqdb.planner.parameters`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paqdb.engines.base import ExecResult
from paqdb.errors import Error, InFailedTransactionError, NotSupportedError, ParseError
from paqdb.models import ModelStore

if TYPE_CHECKING:
    import duckdb

    from paqdb.engines.base import Engine
    from paqdb.planner.context import ProgressCallback
    from paqdb.planner.parameters import Parameters
    from paqdb.sql import Grammar, Statement


ENGINES = ("duckdb",)
"""The engines a session opens by name (a Spark engine joins with its issue)."""


def open_engine(
    engine: Engine | str,
    database: str,
    *,
    read_only: bool = False,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> Engine:
    """The engine a session runs on: ``engine`` itself, or the engine called ``engine`` on ``database``.

    Raises:
        NotSupportedError: no engine has that name.
    """
    if not isinstance(engine, str):
        return engine
    if engine.lower() == "duckdb":
        from paqdb.engines.duckdb import DuckDBEngine

        return DuckDBEngine(database, read_only=read_only, connection=connection)
    raise NotSupportedError(
        f"no engine called '{engine}'", hint=f"engines: {', '.join(ENGINES)}, or pass an Engine object"
    )


def grammar() -> Grammar:
    """paqdb's grammar (:func:`paqdb.statements.grammar`), loaded with the parser (sqlglot) by the first
    statement rather than by ``import paqdb`` (issue 9, fast start)."""
    from paqdb.statements import grammar as statements_grammar

    return statements_grammar()


_TRANSACTION_WORDS = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"}
_ROLLBACK_WORDS = {"ROLLBACK", "ABORT"}
_COMMIT_WORDS = {"COMMIT", "END"}


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
        engine: where data lives and SQL runs: an :class:`~paqdb.engines.base.Engine` (``database``,
            ``read_only`` and ``connection`` are then the engine's business), or an engine's name from
            :data:`ENGINES`; the embedded DuckDB engine by default.
    """

    def __init__(
        self,
        database: str = ":memory:",
        *,
        read_only: bool = False,
        autocommit: bool = True,
        progress: ProgressCallback | None = None,
        connection: duckdb.DuckDBPyConnection | None = None,
        engine: Engine | str = "duckdb",
    ) -> None:
        # The engine and the planner (with sqlglot) load with the first session, not with ``import paqdb``
        # (issue 9, fast start).
        from paqdb.planner.context import ExecutionContext
        from paqdb.planner.planner import Planner

        self.engine = open_engine(engine, database, read_only=read_only, connection=connection)
        self.models = ModelStore(self.engine)
        self.context = ExecutionContext(self.engine, self.models, progress)
        self.planner = Planner(self.context)
        self.autocommit = autocommit
        self.closed = False
        #: the error that aborted the open transaction, until it is rolled back
        self.aborted_by: Error | None = None
        # DuckDB computes a query as its rows are read, so an error can come after execute returned.
        self.engine.on_fetch_error = self._abort

    @property
    def progress(self) -> ProgressCallback | None:
        return self.context.progress

    @progress.setter
    def progress(self, callback: ProgressCallback | None) -> None:
        self.context.progress = callback

    def execute(self, sql: str, parameters: Parameters | None = None) -> ExecResult:
        """Run every statement of ``sql``; return the last one's result.

        Raises:
            paqdb.errors.Error: the first statement that fails; the statements before it stay done.
        """
        last: ExecResult | None = None
        for outcome in self.run(sql, parameters):
            last = outcome.result
        return last if last is not None else ExecResult(None, -1, [], "")

    def run(self, sql: str, parameters: Parameters | None = None) -> Iterator[StatementResult]:
        """Run the statements of ``sql`` one by one, yielding each result as it completes.

        Every statement is parsed (paqdb's) or syntax-checked (the engine's) before the first one runs.
        """
        statements = grammar().parse(sql)
        for statement in statements:
            if statement.is_plain:
                self._check_syntax(statement)
        if parameters is not None and len(statements) > 1:
            raise NotSupportedError(
                "parameters need a single statement", hint="run the statements one at a time"
            )
        for statement in statements:
            yield self._run_one(statement, parameters)

    def _check_syntax(self, statement: Statement) -> None:
        try:
            self.engine.check_syntax(statement.text)
        except ParseError as error:
            if error.line is None:
                error.message, offset = _engine_position(error.message, statement.text)
                error.args = (error.message,)
                error.with_position(*statement.position(offset), statement.script)
            explained = grammar().explain_failure(statement, error)  # "did you mean PREDICT?" for PREDCT ...
            if explained is not error:
                raise explained from error
            raise

    def _run_one(self, statement: Statement, parameters: Parameters | None) -> StatementResult:
        from paqdb.engines.duckdb import first_word  # loaded with the session's engine already

        word = first_word(statement.text) if statement.is_plain else ""
        if self.aborted_by is not None:
            return self._in_aborted_transaction(statement, word)
        if not self.autocommit and not self.engine.in_transaction and word not in _TRANSACTION_WORDS:
            self.engine.begin()
        try:
            if statement.is_plain:
                return StatementResult(statement, self.engine.execute(statement.text, parameters))
            result, message = self.planner.execute(statement, parameters)
            return StatementResult(statement, result, message)
        except Error as error:
            # A misspelt paqdb statement fails in DuckDB: say which statement was meant.
            explained = grammar().explain_failure(statement, error)
            self._abort(explained)
            if explained is not error:
                raise explained from error
            raise
        except KeyboardInterrupt:
            self._abort(InFailedTransactionError("the statement was cancelled", sqlstate="57014"))
            raise

    def _abort(self, error: Error) -> None:
        """Mark the open transaction aborted by ``error`` (and say so in the error's hint)."""
        if not self.engine.in_transaction:
            return  # autocommit: the engine already undid the statement
        self.aborted_by = error
        note = "The transaction is aborted: call rollback() (or run ROLLBACK) before anything else."
        hint = (error.hint or "").rstrip()
        error.hint = f"{hint}{' ' if hint.endswith(('.', '?', '!')) else '. '}{note}" if hint else note

    def _in_aborted_transaction(self, statement: Statement, word: str) -> StatementResult:
        if word in _ROLLBACK_WORDS:
            self.rollback()
            return StatementResult(statement, ExecResult(None, -1, [], "ROLLBACK"))
        if word in _COMMIT_WORDS:
            self.commit()  # raises: it rolls back and says so
        cause = self.aborted_by
        raise statement.locate(
            InFailedTransactionError(
                "current transaction is aborted, commands ignored until end of transaction block",
                hint="call rollback() (or run ROLLBACK), then run the statements again; it was aborted by: "
                + (cause.message if cause is not None else "an earlier error"),
            )
        )

    def commit(self) -> None:
        """Commit the open transaction, if any.

        Raises:
            InFailedTransactionError: an earlier error aborted the transaction; it is rolled back instead,
                and nothing of it is kept.
        """
        if self.aborted_by is not None:
            cause = self.aborted_by
            self.rollback()
            raise InFailedTransactionError(
                "the transaction was aborted by an earlier error and has been rolled back; nothing was "
                "committed",
                hint=f"run its statements again; the error was: {cause.message}",
            )
        self.engine.commit()

    def rollback(self) -> None:
        """Roll back the open transaction, if any (this also ends an aborted one)."""
        self.aborted_by = None
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


_ENGINE_CARET = re.compile(r"\n+LINE (\d+): (.*)\n( *)\^+\s*$")


def _engine_position(message: str, text: str) -> tuple[str, int]:
    """Split an engine's own ``LINE n: ...`` caret excerpt off ``message``; return the message and the
    offset in ``text`` it points at (the statement's start when the excerpt does not match ``text``).

    The error then shows one excerpt, paqdb's, positioned in the whole script.
    """
    match = _ENGINE_CARET.search(message)
    if match is None:
        return message, len(text) - len(text.lstrip())
    number, shown, caret = int(match.group(1)), match.group(2), match.group(3)
    lines = text.split("\n")
    column = len(caret) - len(f"LINE {number}: ")
    if not 1 <= number <= len(lines) or lines[number - 1] != shown or not 0 <= column <= len(shown):
        return message, len(text) - len(text.lstrip())  # the engine shortened the line: keep its excerpt
    offset = sum(len(line) + 1 for line in lines[: number - 1]) + column
    return message[: match.start()], offset
