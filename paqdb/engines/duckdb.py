"""The embedded engine: one DuckDB connection, its transactions, and its errors in paqdb's hierarchy."""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from paqdb import errors
from paqdb.engines.base import Column, ExecResult, ScalarFunction

_DML_WORDS = {"INSERT", "UPDATE", "DELETE", "MERGE"}
_COUNT_WORDS = _DML_WORDS | {"CREATE", "COPY", "DROP", "ALTER"}
_BEGIN_WORDS = {"BEGIN", "START"}
_END_WORDS = {"COMMIT", "END", "ROLLBACK", "ABORT"}
_FIRST_WORD = re.compile(r"\s*(?:(?:--[^\n]*\n)|(?:/\*.*?\*/)|\s)*\(*\s*([A-Za-z]+)", re.S)


def first_word(sql: str) -> str:
    """The first keyword of a statement, upper-cased, skipping comments and opening parentheses."""
    match = _FIRST_WORD.match(sql)
    return match.group(1).upper() if match else ""


def translate_error(error: duckdb.Error) -> errors.Error:
    """Map a DuckDB exception to the paqdb class that PEP 249 and SQLSTATE call for.

    The message is DuckDB's own (it already shows the statement and a caret where DuckDB has one).
    """
    message = str(error)
    table: list[tuple[type[BaseException], type[errors.Error], str | None]] = [
        (duckdb.ParserException, errors.ParseError, "42601"),
        (duckdb.CatalogException, errors.ProgrammingError, "42P01"),
        (duckdb.BinderException, errors.ProgrammingError, "42703"),
        (duckdb.ConversionException, errors.DataError, "22P02"),
        (duckdb.OutOfRangeException, errors.DataError, "22003"),
        (duckdb.ConstraintException, errors.IntegrityError, "23505"),
        (duckdb.TransactionException, errors.OperationalError, "25000"),
        (duckdb.NotImplementedException, errors.NotSupportedError, "0A000"),
        (duckdb.InternalException, errors.InternalError, "XX000"),
        (duckdb.IOException, errors.OperationalError, "58030"),
        (duckdb.InvalidInputException, errors.ProgrammingError, "22023"),
        (duckdb.DataError, errors.DataError, None),
        (duckdb.IntegrityError, errors.IntegrityError, None),
        (duckdb.NotSupportedError, errors.NotSupportedError, None),
        (duckdb.InternalError, errors.InternalError, None),
        (duckdb.OperationalError, errors.OperationalError, None),
        (duckdb.ProgrammingError, errors.ProgrammingError, None),
    ]
    for duck_class, paq_class, sqlstate in table:
        if isinstance(error, duck_class):
            if "Division by zero" in message or "division by zero" in message:
                return errors.DataError(message, sqlstate="22012")
            return paq_class(message, sqlstate=sqlstate)
    return errors.DatabaseError(message)


class DuckDBEngine:
    """The default engine: an embedded DuckDB database, in memory or in a file.

    Args:
        database: a file path, or ``":memory:"``.
        read_only: open the file read-only.
        connection: an existing DuckDB connection to use instead of opening one (it is not closed by
            :meth:`close`).
    """

    name = "duckdb"

    def __init__(
        self,
        database: str = ":memory:",
        *,
        read_only: bool = False,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.database = database
        self._owns_connection = connection is None
        try:
            self._con = connection or duckdb.connect(database, read_only=read_only)
        except duckdb.Error as error:
            raise translate_error(error) from None
        self._in_transaction = False
        self._functions: set[str] = set()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection."""
        return self._con

    # -- statements -----------------------------------------------------------------------------------

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> ExecResult:
        word = first_word(sql)
        try:
            self._con.execute(sql, parameters) if parameters is not None else self._con.execute(sql)
            description = self._con.description
            table = None
            if description is not None:
                with warnings.catch_warnings():
                    # DuckDB warns that this path copies; measured, it is the faster one here.
                    warnings.simplefilter("ignore", UserWarning)
                    table = self._con.to_arrow_table()
        except duckdb.Error as error:
            raise translate_error(error) from None
        except RuntimeError as error:
            if "interrupted" in str(error).lower():  # DuckDB's answer to Ctrl-C during a query
                raise KeyboardInterrupt from None
            raise
        if word in _BEGIN_WORDS:
            self._in_transaction = True
        elif word in _END_WORDS:
            self._in_transaction = False
        if table is None:
            return ExecResult(None, -1, [], word)
        columns = [Column(str(d[0]), str(d[1])) for d in description or []]
        if word in _COUNT_WORDS and table.num_columns == 1 and table.column_names[0] == "Count":
            # DuckDB reports affected rows as a one-row "Count" result; DB-API wants a rowcount.
            count = table.column(0)[0].as_py() if table.num_rows else 0
            return ExecResult(None, int(count or 0) if word in _DML_WORDS else -1, [], word)
        return ExecResult(table, table.num_rows, columns, word or "SELECT")

    def query_arrow(self, sql: str) -> pa.Table:
        try:
            return self._con.sql(sql).to_arrow_table()
        except duckdb.Error as error:
            raise translate_error(error) from None

    def scan_batches(self, sql: str, batch_rows: int = 122_880) -> Iterator[pa.RecordBatch]:
        try:
            reader = self._con.sql(sql).to_arrow_reader(batch_rows)
            yield from reader
        except duckdb.Error as error:
            raise translate_error(error) from None

    def columns(self, relation_sql: str) -> list[Column]:
        try:
            rows = self._con.execute(f"DESCRIBE SELECT * FROM {relation_sql}").fetchall()
        except duckdb.Error as error:
            raise translate_error(error) from None
        return [Column(str(r[0]), str(r[1])) for r in rows]

    def relation_exists(self, name: str) -> bool:
        # A catalog lookup, not a probing query: a failed query would abort the caller's transaction.
        try:
            table = exp.to_table(name, dialect="duckdb")
        except Exception:
            return False
        conditions = ["lower(name) = lower(?)"]
        parameters: list[str] = [table.name]
        if table.catalog:
            conditions.append("lower(database_name) = lower(?) AND lower(schema_name) = lower(?)")
            parameters += [table.catalog, table.db]
        elif table.db:
            conditions.append("(lower(schema_name) = lower(?) OR lower(database_name) = lower(?))")
            parameters += [table.db, table.db]
        sql = (
            "SELECT count(*) FROM (SELECT database_name, schema_name, table_name AS name "
            "FROM duckdb_tables() UNION ALL "
            "SELECT database_name, schema_name, view_name FROM duckdb_views()) "
            f"WHERE {' AND '.join(conditions)}"
        )
        try:
            rows = self._con.execute(sql, parameters).fetchall()
        except duckdb.Error as error:
            raise translate_error(error) from None
        return bool(rows and rows[0][0])

    # -- functions ------------------------------------------------------------------------------------

    def register_function(
        self,
        name: str,
        function: ScalarFunction,
        argument_types: Sequence[str],
        return_type: str,
    ) -> None:
        self.unregister_function(name)
        try:
            self._con.create_function(  # type: ignore[call-overload]
                name,
                function,
                list(argument_types),
                return_type,
                type="arrow",
                null_handling="special",  # NULL features still get a prediction
            )
        except duckdb.Error as error:
            raise translate_error(error) from None
        self._functions.add(name)

    def unregister_function(self, name: str) -> None:
        if name in self._functions:
            self._functions.discard(name)
            with contextlib.suppress(duckdb.Error):  # already gone with its connection state
                self._con.remove_function(name)

    def has_function(self, name: str) -> bool:
        """True when this engine registered a function called ``name``."""
        return name in self._functions

    # -- transactions ---------------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    def begin(self) -> None:
        if not self._in_transaction:
            self.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        if self._in_transaction:
            self.execute("COMMIT")

    def rollback(self) -> None:
        if self._in_transaction:
            try:
                self.execute("ROLLBACK")
            finally:
                self._in_transaction = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            yield  # the caller's transaction: its COMMIT or ROLLBACK decides
            return
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def close(self) -> None:
        for name in list(self._functions):
            self.unregister_function(name)
        if self._owns_connection:
            self._con.close()
