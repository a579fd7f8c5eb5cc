"""The interface the planner uses to reach data: an :class:`Engine`.

The planner sees engines only through this interface. The embedded DuckDB engine is the default; a
Spark engine implements the same methods. Results cross the interface as Arrow tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

if TYPE_CHECKING:
    from paqdb.engines.rows import ResultRows
    from paqdb.errors import Error


REFERENCE_DIALECT = "duckdb"
"""The SQL dialect the planner and the catalog write their queries in; :func:`render` turns a query into an
engine's dialect."""


def render(sql: str, dialect: str) -> str:
    """``sql``, written in the reference dialect, as ``dialect`` (an engine's, a sqlglot dialect name)
    spells it: parsed into sqlglot expressions and generated for that dialect. The reference dialect's
    own text is returned unchanged (nothing to translate, nothing to pay).

    >>> render("SELECT CAST(x AS DOUBLE) FROM t WHERE name = ?", "spark")
    'SELECT CAST(x AS DOUBLE) FROM t WHERE name = ?'
    """
    if dialect == REFERENCE_DIALECT:
        return sql
    import sqlglot

    return ";\n".join(sqlglot.transpile(sql, read=REFERENCE_DIALECT, write=dialect))


def base_type(sql_type: str) -> str:
    """The type name without parameters: ``DECIMAL(18,3)`` -> ``DECIMAL``, ``ENUM('a')`` -> ``ENUM``."""
    return re.sub(r"\(.*\)$", "", sql_type.strip()).upper()


@dataclass(frozen=True)
class Column:
    """A column of a relation: its name and its engine type, spelled as in SQL (``VARCHAR``, ``BIGINT``)."""

    name: str
    type: str


class ExecResult:
    """The outcome of one statement.

    Args:
        table: the rows as an Arrow table (results paqdb builds itself), or None.
        rowcount: rows affected by INSERT/UPDATE/DELETE, the row count of ``table``, or -1 when unknown.
        columns: name and SQL type of each result column (empty for a statement without rows).
        status: a short status word for doors that show one (``SELECT``, ``CREATE MODEL``).
        rows: the rows as a cursor that converts them itself (plain SQL: DuckDB's own result), instead
            of ``table``.

    A result has rows when it has either; :attr:`rows` reads them as Python values, :attr:`table` as
    Arrow. Read one of them: reading :attr:`table` of a DuckDB result converts its remaining rows to
    Arrow, after which :attr:`rows` reads that table.
    """

    def __init__(
        self,
        table: pa.Table | None = None,
        rowcount: int = -1,
        columns: list[Column] | None = None,
        status: str = "",
        *,
        rows: ResultRows | None = None,
    ) -> None:
        self._table = table
        self._rows = rows
        self._arrow_rows: ResultRows | None = None
        self.rowcount = rowcount
        self.columns = list(columns) if columns is not None else []
        self.status = status

    @property
    def has_rows(self) -> bool:
        """True for a statement that returns a result set (possibly empty)."""
        return self._rows is not None or self._table is not None

    @property
    def table(self) -> pa.Table | None:
        """The rows as an Arrow table, or None for a statement without rows (DDL, DML without RETURNING)."""
        if self._table is None and self._rows is not None:
            self._table = self._rows.arrow()
            self._rows = None
        return self._table

    @table.setter
    def table(self, table: pa.Table | None) -> None:
        self._table, self._rows, self._arrow_rows = table, None, None

    @property
    def rows(self) -> ResultRows | None:
        """The rows as a forward-only cursor of Python values, or None for a statement without rows."""
        if self._rows is not None:
            return self._rows
        if self._table is None:
            return None
        if self._arrow_rows is None:
            from paqdb.engines.rows import ArrowRows  # here: rows.py imports the planner's typing

            self._arrow_rows = ArrowRows(self._table, [c.type for c in self.columns])
        return self._arrow_rows

    def __repr__(self) -> str:
        kind = "rows" if self._rows is not None else "table" if self._table is not None else "no rows"
        return f"ExecResult({self.status or '?'}, {kind}, rowcount={self.rowcount}, columns={self.columns})"


ScalarFunction = Callable[..., pa.Array]


class Engine(Protocol):
    """What the planner needs from an execution engine."""

    name: str
    #: what the engine opened, for people (a file path, ``:memory:``, a cluster's address)
    database: str
    #: the sqlglot dialect of the engine's SQL; the planner and the catalog render their queries in it
    dialect: str
    #: called with the error when rows fail while they are read, after :meth:`execute` returned
    #: (an engine that computes results lazily); the session marks its transaction aborted
    on_fetch_error: Callable[[Error], None] | None

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> ExecResult:
        """Run one statement of the engine's own SQL, binding ``parameters``, and return its result."""
        ...

    def query_arrow(self, sql: str) -> pa.Table:
        """Run a query and return all its rows as an Arrow table."""
        ...

    def scan_batches(self, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Run a query and stream its rows in Arrow record batches."""
        ...

    def columns(self, relation_sql: str) -> list[Column]:
        """The columns of a relation: a table name or a parenthesised query."""
        ...

    def create_table(self, name: str, data: pa.Table) -> None:
        """Create table ``name`` (SQL text: a name, possibly qualified) holding the rows of ``data``,
        in the caller's transaction or one of its own."""
        ...

    def check_syntax(self, sql: str) -> None:
        """Parse ``sql`` in the engine's dialect without running it; raise ParseError if it does not parse.

        Nothing runs and an open transaction is left as it was.
        """
        ...

    def relation_exists(self, name: str, *, python_objects: bool = True) -> bool:
        """True when a table or view called ``name`` exists, or (``python_objects``) when ``name``
        reads a DataFrame or Arrow object of the caller's (:meth:`python_scope`); pass
        ``python_objects=False`` to ask whether a table of that name may be created."""
        ...

    def python_scope(self, names: Mapping[str, Any] | None) -> AbstractContextManager[None]:
        """While open, table names the database does not know resolve to the DataFrames and Arrow
        objects called so in ``names`` (a caller's variables), as DuckDB's replacement scans do, in
        the engine's SQL and in :meth:`relation_exists` and :meth:`columns`."""
        ...

    def register(self, name: str, value: object) -> None:
        """Make a DataFrame or Arrow object readable as the view ``name`` until :meth:`unregister`."""
        ...

    def unregister(self, name: str) -> None:
        """Remove what :meth:`register` made under ``name`` (no error when there is none)."""
        ...

    def register_function(
        self,
        name: str,
        function: ScalarFunction,
        argument_types: Sequence[str],
        return_type: str,
    ) -> None:
        """Register a vectorised scalar function taking and returning Arrow arrays."""
        ...

    def unregister_function(self, name: str) -> None:
        """Remove a function registered with :meth:`register_function` (no error if absent)."""
        ...

    def has_function(self, name: str) -> bool:
        """True while a function registered under ``name`` is still there (a rollback may remove it)."""
        ...

    def unique_function_name(self, base: str) -> str:
        """``base`` or a variant of it that was never registered on this engine's connection."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """A transaction: joins the caller's open transaction, or opens and commits its own."""
        ...

    @property
    def in_transaction(self) -> bool:
        """True while an explicit transaction is open."""
        ...

    def begin(self) -> None:
        """Open a transaction."""
        ...

    def commit(self) -> None:
        """Commit the open transaction (no-op without one)."""
        ...

    def rollback(self) -> None:
        """Roll back the open transaction (no-op without one)."""
        ...

    def close(self) -> None:
        """Release the engine's resources."""
        ...
