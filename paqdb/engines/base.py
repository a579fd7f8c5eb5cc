"""The interface the planner uses to reach data: an :class:`Engine`.

The planner sees engines only through this interface. The embedded DuckDB engine is the default; a
Spark engine implements the same methods. Results cross the interface as Arrow tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    """A column of a relation: its name and its engine type, spelled as in SQL (``VARCHAR``, ``BIGINT``)."""

    name: str
    type: str


@dataclass
class ExecResult:
    """The outcome of one statement.

    Attributes:
        table: the rows, or None for a statement that returns none (DDL, SET).
        rowcount: rows affected by INSERT/UPDATE/DELETE, the row count of ``table``, or -1 when unknown.
        columns: name and SQL type of each result column (empty when ``table`` is None).
        status: a short status word for doors that show one (``SELECT``, ``CREATE MODEL``).
    """

    table: pa.Table | None
    rowcount: int = -1
    columns: list[Column] = field(default_factory=list)
    status: str = ""


ScalarFunction = Callable[..., pa.Array]


class Engine(Protocol):
    """What the planner needs from an execution engine."""

    name: str

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> ExecResult:
        """Run one statement of the engine's own SQL and return its result."""
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

    def relation_exists(self, name: str) -> bool:
        """True when a table or view called ``name`` exists."""
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
