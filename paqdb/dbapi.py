"""PEP 249 (DB-API 2.0) over a paqdb :class:`~paqdb.session.Session`.

paqdb statements and plain DuckDB SQL go through the same cursor. Plain SQL's rows stay in DuckDB
until they are fetched, and ``fetchone``/``fetchmany``/``fetchall`` return them exactly as DuckDB's own
Python API does (its types and its conversion); ``fetch_arrow_table()`` and ``fetch_df()`` use DuckDB's
Arrow and pandas conversion. Results paqdb builds itself (SHOW MODELS, EXPLAIN ...) are Arrow tables,
converted to rows only as they are fetched.

As PEP 249 requires, auto-commit is off by default: call ``commit()`` to keep changes. Pass
``autocommit=True`` to commit each statement as DuckDB's own Python API does.
"""

from __future__ import annotations

import contextlib
import datetime
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from paqdb.engines.base import ExecResult, base_type
from paqdb.engines.rows import ResultRows
from paqdb.engines.rows import python_rows as python_rows  # its home before; tests import it here
from paqdb.errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from paqdb.session import Session

if TYPE_CHECKING:
    from paqdb.engines.base import Engine
    from paqdb.planner.context import ProgressCallback

apilevel = "2.0"
threadsafety = 1  # threads may share the module, not connections
#: ``?`` markers; DuckDB's numeric (``$1``) and named (``$name``, with a mapping) styles work as well
paramstyle = "qmark"


# -- type constructors and type objects (PEP 249) ------------------------------------------------------

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime


def DateFromTicks(ticks: float) -> datetime.date:
    """The date of a POSIX timestamp, in local time."""
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:
    """The time of day of a POSIX timestamp, in local time."""
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:
    """The local date and time of a POSIX timestamp."""
    return Timestamp(*time.localtime(ticks)[:6])


def Binary(value: bytes | bytearray | memoryview | str) -> bytes:
    """A value to bind to a BLOB parameter."""
    return value.encode() if isinstance(value, str) else bytes(value)


class DBAPITypeObject:
    """Compares equal to every ``type_code`` (a DuckDB type name) of its group."""

    def __init__(self, name: str, *type_names: str) -> None:
        self.name = name
        self.type_names = frozenset(type_names)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self is other
        if isinstance(other, str):
            return base_type(other) in self.type_names
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<DB-API type {self.name}>"


STRING = DBAPITypeObject("STRING", "VARCHAR", "CHAR", "TEXT", "STRING", "UUID", "ENUM", "JSON")
BINARY = DBAPITypeObject("BINARY", "BLOB", "BYTEA", "BIT")
NUMBER = DBAPITypeObject(
    "NUMBER", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "REAL", "DOUBLE", "DECIMAL", "BOOLEAN",
)  # fmt: skip
DATETIME = DBAPITypeObject(
    "DATETIME", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS",
    "TIMESTAMP_NS", "TIME WITH TIME ZONE", "INTERVAL",
)  # fmt: skip
ROWID = DBAPITypeObject("ROWID")


# -- connection and cursor -----------------------------------------------------------------------------


class Connection:
    """A connection to one paqdb database (PEP 249)."""

    Warning = Warning
    Error = Error
    InterfaceError = InterfaceError
    DatabaseError = DatabaseError
    DataError = DataError
    OperationalError = OperationalError
    IntegrityError = IntegrityError
    InternalError = InternalError
    ProgrammingError = ProgrammingError
    NotSupportedError = NotSupportedError

    def __init__(self, session: Session) -> None:
        self._session: Session | None = session

    @property
    def session(self) -> Session:
        """The session behind this connection; InterfaceError once closed."""
        if self._session is None:
            raise InterfaceError("the connection is closed", hint="open a new one with paqdb.connect()")
        return self._session

    @property
    def closed(self) -> bool:
        return self._session is None

    @property
    def autocommit(self) -> bool:
        return self.session.autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        session = self.session
        if value and not session.autocommit:
            session.commit()
        session.autocommit = value

    def cursor(self) -> Cursor:
        """A new cursor on this connection."""
        self.session  # noqa: B018 - raises InterfaceError when closed
        return Cursor(self)

    def execute(self, operation: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Cursor:
        """Shortcut: a new cursor that has executed ``operation`` (as in sqlite3)."""
        return self.cursor().execute(operation, params)

    def executemany(
        self, operation: str, seq_of_parameters: Sequence[Sequence[Any] | Mapping[str, Any]]
    ) -> Cursor:
        """Shortcut: a new cursor that has run ``operation`` once per parameter set (as in sqlite3)."""
        return self.cursor().executemany(operation, seq_of_parameters)

    def register(self, name: str, value: object) -> Connection:
        """Make ``value`` readable in SQL as the view ``name``, as DuckDB's ``register`` does.

        ``value`` is a pandas or Polars DataFrame, or a pyarrow Table, RecordBatch, Dataset or
        RecordBatchReader; it is read in place, never copied. The view is temporary (this connection
        only), shadows a table of the same name, and lasts until :meth:`unregister` or :meth:`close`;
        a rollback does not undo it. Returns the connection, as DuckDB's does.

        Raises:
            ProgrammingError: ``value`` is not something DuckDB reads as a table.
        """
        self.session.engine.register(name, value)
        return self

    def unregister(self, name: str) -> Connection:
        """Remove the view :meth:`register` made under ``name`` (no error when there is none)."""
        self.session.engine.unregister(name)
        return self

    def register_cleaner(self, name: str, function: Callable[[dict[str, Any]], Any]) -> Connection:
        """Make ``function`` the repair CLEAN calls for ``repair => 'name'`` (names compare
        case-insensitively; registering a name again replaces its function).

        ``function`` gets one dirty record as a dict (column name to value, every column of the cleaned
        table) and returns the corrected record: a dict of the columns it changes (or the whole record;
        a column it leaves out keeps its value), or None when the record is right as it is. It must
        not change the key column. If it raises for any record of a batch, CLEAN applies nothing and its
        error names the failing keys. Lasts until :meth:`unregister_cleaner` or :meth:`close`.

        Raises:
            ProgrammingError: ``function`` is not callable or ``name`` is empty.
        """
        if not callable(function) or not isinstance(name, str) or not name.strip():
            raise ProgrammingError(
                f"register_cleaner needs a name and a function, got {name!r} and {function!r}",
                hint="con.register_cleaner('fix_row', lambda row: {'amount': abs(row['amount'])})",
            )
        self.session.context.cleaners[name.strip().lower()] = function
        return self

    def unregister_cleaner(self, name: str) -> Connection:
        """Forget the cleaner registered as ``name`` (no error when there is none)."""
        self.session.context.cleaners.pop(str(name).strip().lower(), None)
        return self

    def commit(self) -> None:
        """Commit the current transaction."""
        self.session.commit()

    def rollback(self) -> None:
        """Roll back the current transaction."""
        self.session.rollback()

    def close(self) -> None:
        """Close the connection; uncommitted changes are rolled back. Closing twice is harmless."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if self._session is not None:
            try:
                if exc_type is None:
                    self.commit()
                else:
                    self.rollback()
            finally:
                self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # nothing to report to at interpreter shutdown
            self.close()


class Cursor:
    """A cursor (PEP 249). Results are held as an Arrow table and converted to rows on demand."""

    def __init__(self, connection: Connection) -> None:
        self._connection: Connection | None = connection
        self.arraysize = 1
        self._result: ExecResult | None = None
        self._position = 0
        self._executed = False
        self.rowcount = -1
        self.lastrowid = None
        #: the message of the last paqdb statement ("model m version 1: ..."), if any
        self.message: str | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise InterfaceError("the cursor is closed", hint="create a new one with connection.cursor()")
        if self._connection.closed:
            raise InterfaceError(
                "the cursor's connection is closed", hint="open a new one with paqdb.connect()"
            )
        return self._connection

    @property
    def description(self) -> list[tuple[str, str, None, None, None, None, None]] | None:
        """Name and type code (a DuckDB type name) of each result column; None without a result set."""
        if self._result is None or not self._result.has_rows:
            return None
        return [(c.name, c.type, None, None, None, None, None) for c in self._result.columns]

    def execute(self, operation: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> Cursor:
        """Run ``operation``: one or more statements.

        Parameters bind as DuckDB binds them: a sequence for ``?`` (qmark) or ``$1`` (numeric) markers, a
        mapping for ``$name`` markers. They work in plain SQL, in queries calling ``PREDICT(...)`` and in
        the relations of paqdb statements (``PREDICT y FROM (SELECT * FROM t WHERE day = ?) USING MODEL m``).

        A table name the database does not know reads the pandas or Polars DataFrame or Arrow object of
        that name in the calling code (its local variables, then its globals), as DuckDB's replacement
        scans do: ``SELECT * FROM df``, ``PREDICT income FROM df USING MODEL m``.
        """
        session = self.connection.session
        self._result, self._position, self.rowcount, self.message = None, 0, -1, None
        last = None
        if parameters is not None and not isinstance(parameters, Mapping):
            parameters = list(parameters)
        with session.engine.python_scope(_caller_names()):
            for outcome in session.run(operation, parameters):
                last = outcome
        self._executed = True
        if last is not None:
            self._result = last.result
            self.rowcount = last.result.rowcount
            self.message = last.message
        return self

    def executemany(
        self, operation: str, seq_of_parameters: Sequence[Sequence[Any] | Mapping[str, Any]]
    ) -> Cursor:
        """Run ``operation`` once per parameter sequence; ``rowcount`` is the total affected."""
        total = 0
        known = True
        for parameters in seq_of_parameters:
            self.execute(operation, parameters)
            if self.rowcount < 0:
                known = False
            total += max(self.rowcount, 0)
        self.rowcount = total if known else -1
        return self

    def _source(self) -> ResultRows:
        self.connection  # noqa: B018 - raises InterfaceError when closed
        if not self._executed:
            raise ProgrammingError("nothing to fetch: execute a statement first")
        rows = self._result.rows if self._result is not None else None
        if rows is None:
            raise ProgrammingError("the last statement returned no rows to fetch")
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None when there are no more."""
        rows = self._source().fetchmany(1)
        return rows[0] if rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """The next ``size`` rows (default ``arraysize``)."""
        return self._source().fetchmany(max(self.arraysize if size is None else size, 0))

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All remaining rows."""
        return self._source().fetchmany(None)

    def fetch_arrow_table(self) -> pa.Table:
        """The remaining rows as a ``pyarrow.Table``, converted by DuckDB (paqdb's own results: a slice)."""
        return self._source().arrow()

    def fetch_df(self) -> Any:
        """The remaining rows as a pandas DataFrame, converted by DuckDB as its ``df()`` does."""
        return self._source().df()

    def fetch_polars(self) -> Any:
        """The remaining rows as a Polars DataFrame, made from DuckDB's Arrow without a copy (as
        DuckDB's ``pl()`` does).

        Raises:
            InterfaceError: Polars is not installed.
        """
        try:
            import polars
        except ImportError:
            raise InterfaceError(
                "Polars is not installed", hint="pip install polars, or use fetch_arrow_table() or fetch_df()"
            ) from None
        return polars.from_arrow(self.fetch_arrow_table())

    pl = fetch_polars  # DuckDB's name

    def fetch_record_batch(self, rows_per_batch: int = 1_000_000) -> pa.RecordBatchReader:
        """The remaining rows as a ``pyarrow.RecordBatchReader`` of up to ``rows_per_batch`` rows a batch.

        The batches are DuckDB's Arrow, passed on without going through Python values. DuckDB (2.0)
        computes a statement's remaining rows before the first batch; read the batches one at a time
        to convert and hold only one at a time. Running another statement on the connection before the
        reader is read out keeps its batches for it.
        """
        if rows_per_batch < 1:
            raise ProgrammingError(
                f"rows_per_batch must be at least 1, not {rows_per_batch}", hint="pass a positive row count"
            )
        source = self._source()
        batches = getattr(source, "record_batch_reader", None)
        if batches is not None:  # DuckDB's own result
            return batches(rows_per_batch)
        table: pa.Table = source.arrow()
        return table.to_reader(max_chunksize=rows_per_batch)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self

    def __next__(self) -> tuple[Any, ...]:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def setinputsizes(self, sizes: Sequence[Any]) -> None:
        """Accepted and ignored, as PEP 249 allows."""
        self.connection  # noqa: B018

    def setoutputsize(self, size: int, column: int | None = None) -> None:
        """Accepted and ignored, as PEP 249 allows."""
        self.connection  # noqa: B018

    def callproc(self, procname: str, parameters: Sequence[Any] | None = None) -> None:
        """DuckDB has no stored procedures."""
        raise NotSupportedError("DuckDB has no stored procedures", hint="call a macro or function in SELECT")

    def nextset(self) -> None:
        """Multiple result sets are not supported: the cursor holds the last statement's result."""
        raise NotSupportedError("multiple result sets are not supported")

    def close(self) -> None:
        """Close the cursor; later use raises InterfaceError."""
        self._connection = None
        self._result = None


def _caller_names() -> dict[str, Any] | None:
    """The variables of the code that called into paqdb (the first frame outside the package): its
    globals with its locals over them, where DuckDB's replacement scans look for DataFrames."""
    frame = sys._getframe(1)
    try:
        while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "paqdb":
            frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return None
        return {**frame.f_globals, **frame.f_locals}
    finally:
        del frame  # a frame held in a local would keep the caller's variables alive


def connect(
    database: str = ":memory:",
    *,
    autocommit: bool = False,
    read_only: bool = False,
    progress: ProgressCallback | None = None,
    engine: Engine | str = "duckdb",
) -> Connection:
    """Open a paqdb database: a DuckDB file path (created if missing) or ``":memory:"``.

    Args:
        database: file path or ``":memory:"``.
        autocommit: commit after each statement; off by default, as PEP 249 requires.
        read_only: open the file read-only.
        progress: called with progress objects during long work (model search).
        engine: where data lives and SQL runs: an engine's name (``"duckdb"``, the default) or an
            :class:`~paqdb.engines.base.Engine` object.

    Example:
        >>> import paqdb
        >>> con = paqdb.connect()
        >>> con.execute("SELECT 42").fetchone()
        (42,)
    """
    return Connection(
        Session(str(database), read_only=read_only, autocommit=autocommit, progress=progress, engine=engine)
    )
