"""The embedded engine: one DuckDB connection, its transactions, and its errors in paqdb's hierarchy."""

from __future__ import annotations

import contextlib
import re
import sys
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from paqdb import errors
from paqdb.engines.base import Column, ExecResult, ScalarFunction
from paqdb.engines.rows import arrow_from_rows

_DML_WORDS = {"INSERT", "UPDATE", "DELETE", "MERGE"}
_COUNT_WORDS = _DML_WORDS | {"CREATE", "COPY", "DROP", "ALTER"}
_BEGIN_WORDS = {"BEGIN", "START"}
_END_WORDS = {"COMMIT", "END", "ROLLBACK", "ABORT"}
# Statements that never write: an unread result of theirs may be cancelled rather than run to its end.
_DRAINED_WORDS = {"CREATE"} | _BEGIN_WORDS | _END_WORDS
_READ_ONLY_WORDS = {"SELECT", "FROM", "VALUES", "TABLE", "DESCRIBE", "SHOW", "SUMMARIZE", "EXPLAIN"}
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


def is_scannable(value: object) -> bool:
    """True for the Python objects DuckDB reads as tables: pandas and Polars DataFrames (and Polars
    LazyFrames), Arrow tables, record batches, batch readers, datasets and scanners, DuckDB relations.

    Only modules already imported are asked: an object of a library nobody imported cannot exist.
    """
    if isinstance(value, pa.Table | pa.RecordBatch | pa.RecordBatchReader | duckdb.DuckDBPyRelation):
        return True
    kinds: list[type] = []
    if (pandas := sys.modules.get("pandas")) is not None:
        kinds.append(pandas.DataFrame)
    if (polars := sys.modules.get("polars")) is not None:
        kinds += [polars.DataFrame, polars.LazyFrame]
    if (dataset := sys.modules.get("pyarrow.dataset")) is not None:
        kinds += [dataset.Dataset, dataset.Scanner]
    return isinstance(value, tuple(kinds))


# DuckDB resolves a table name it does not know (a replacement scan) to a DataFrame or Arrow object
# named so in the Python frame that called it: its locals, then its globals. Inside paqdb that frame
# is the engine's, many calls below the user's, so a statement run for a caller is sent from a frame
# made of the caller's names (see DuckDBEngine.python_scope): DuckDB then sees exactly what the
# caller sees, and a table or view of the database still wins, as in DuckDB.
_CALL, _ARGUMENTS, _RESULT = "__paqdb_call__", "__paqdb_arguments__", "__paqdb_result__"
_CALL_FROM_SCOPE = compile(f"{_RESULT} = {_CALL}(*{_ARGUMENTS})", "<paqdb: the caller's scope>", "exec")


class DuckDBResult:
    """A statement's rows, converted to Python by DuckDB itself, exactly as DuckDB's Python API gives them.

    The rows stay in DuckDB, on the engine's connection, until they are fetched: ``fetchmany`` reads
    them with DuckDB's ``fetchmany``/``fetchall``, :meth:`arrow` and :meth:`df` with DuckDB's own
    Arrow and pandas conversion. Before the engine runs anything else on the connection, it reads the
    rest of the result into Python rows (:meth:`_materialise`), since DuckDB cannot keep it; from then
    on rows come from that list, and Arrow and pandas are built from those Python rows (scalar columns
    get the Arrow type DuckDB gives them, others the type Arrow infers, or text where Arrow cannot hold
    the values). A query calling a function paqdb registers (``PREDICT(...)``) is read this way, since
    the function is removed after the statement.

    A failure while fetching (DuckDB evaluates a query as it is read) raises a :class:`paqdb.Error`.
    """

    def __init__(
        self, engine: DuckDBEngine, columns: list[Column], rows: list[tuple[Any, ...]] | None = None
    ) -> None:
        self._engine = engine
        self.columns = columns
        self._live = rows is None  # the rows are still in DuckDB (or were read already: ``rows``)
        self._rows: list[tuple[Any, ...]] = rows or []
        self._position = 0
        self._error: errors.Error | None = None
        #: the DuckDB batch reader handed out by record_batch_reader, while it holds the connection
        self._reader: pa.RecordBatchReader | None = None
        self._kept: list[pa.RecordBatch] = []  # its batches, read when another statement came

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """The next ``size`` rows (all remaining when None), as DuckDB's ``fetchmany``/``fetchall``."""
        if self._error is not None:
            raise self._error
        if size is not None and size <= 0:
            return []
        if self._live:
            con = self._engine._con
            rows = self._read(lambda: con.fetchall() if size is None else con.fetchmany(size))
            if size is None or len(rows) < size:
                self._end()  # DuckDB has closed the result
            return rows
        end = len(self._rows) if size is None else min(len(self._rows), self._position + size)
        rows = self._rows[self._position : end]
        self._position = end
        return rows

    def arrow(self) -> pa.Table:
        """The remaining rows as an Arrow table: DuckDB's own conversion while the rows are in DuckDB."""
        if self._error is not None:
            raise self._error
        if self._live:
            con = self._engine._con
            with warnings.catch_warnings():
                # DuckDB warns that this path copies; measured, it is the faster one here.
                warnings.simplefilter("ignore", UserWarning)
                table = self._read(con.to_arrow_table)
            self._end()
            return table
        return arrow_from_rows(
            self.fetchmany(None), [c.name for c in self.columns], [c.type for c in self.columns]
        )

    def df(self) -> Any:
        """The remaining rows as a pandas DataFrame: DuckDB's own ``df()`` while the rows are in DuckDB."""
        if self._error is not None:
            raise self._error
        if self._live:
            frame = self._read(self._engine._con.df)
            self._end()
            return frame
        return self.arrow().to_pandas()

    def record_batch_reader(self, batch_rows: int) -> pa.RecordBatchReader:
        """The remaining rows as a ``pyarrow.RecordBatchReader`` of up to ``batch_rows`` rows a batch.

        The batches are DuckDB's own Arrow (``to_arrow_reader``), handed on as they come, never through
        Python values. DuckDB 2.0 gives a DB-API result's reader the rows it still holds: it computes
        them before the first batch (the reader streams to its reader, not from the query). Until it is
        read out the reader holds the connection; when another statement runs first, the batches not
        yet read are kept in Arrow and the reader goes on with them.
        """
        if self._error is not None:
            raise self._error
        if not self._live:
            return self.arrow().to_reader(max_chunksize=batch_rows)
        con = self._engine._con
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # DuckDB's note that this reader copies
            reader = self._read(lambda: con.to_arrow_reader(batch_rows))
        if reader is None:  # DuckDB had nothing left to give
            self._end()
            names, types = [c.name for c in self.columns], [c.type for c in self.columns]
            return arrow_from_rows([], names, types).to_reader()
        # The rows are the reader's now; the result stays pending on the engine until the reader is
        # read out, so another statement first keeps the reader's batches (see _materialise).
        self._reader, self._live, self._rows = reader, False, []
        return pa.RecordBatchReader.from_batches(reader.schema, self._reader_batches(reader))

    def _reading(self, reader: pa.RecordBatchReader) -> bool:
        return self._reader is reader

    def _reader_batches(self, reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
        while True:
            if not self._reading(reader):  # another statement came: the rest was read into _kept
                kept, self._kept = self._kept, []
                yield from kept
                if self._error is not None:
                    raise self._error
                return
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                self._reader = None
                self._engine._result_ended(self)
                return
            except (duckdb.Error, pa.ArrowException) as error:
                self._reader = None
                failure = (
                    translate_error(error)
                    if isinstance(error, duckdb.Error)
                    else errors.DataError(str(error), sqlstate="22000")
                )
                self._fail(failure)
                raise failure from None
            yield batch

    def _materialise(self) -> None:
        """Read every remaining row into Python; a failure is kept and raised by the next fetch."""
        if self._reader is not None:  # a batch reader is out: keep its batches, in Arrow, for it
            reader, self._reader = self._reader, None
            try:
                self._kept = list(reader)
            except (duckdb.Error, pa.ArrowException) as error:
                self._kept = []
                self._fail(
                    translate_error(error)
                    if isinstance(error, duckdb.Error)
                    else errors.DataError(str(error), sqlstate="22000")
                )
            self._live = False
            return
        if not self._live:
            return
        try:
            self._rows = self.fetchmany(None)
        except errors.Error:
            self._rows = []
        self._position = 0
        self._live = False

    def _end(self) -> None:
        self._live = False
        self._engine._result_ended(self)

    def _read(self, fetch: Callable[[], Any]) -> Any:
        """Run one of DuckDB's fetch calls, every failure turned into a paqdb.Error."""
        try:
            return fetch()
        except duckdb.Error as error:
            failure = translate_error(error)
        except (OverflowError, TypeError, ValueError) as error:
            described = ", ".join(f"{c.name} {c.type}" for c in self.columns[:20])
            failure = errors.DataError(
                f"a value of the result cannot be converted to Python ({described}): {error}",
                sqlstate="22000",
                hint="cast the column to VARCHAR in the query to read it as text",
            )
        except RuntimeError as error:
            if "interrupted" in str(error).lower():  # Ctrl-C while DuckDB computed the rows
                self._fail(errors.OperationalError("the query was cancelled", sqlstate="57014"))
                raise KeyboardInterrupt from None
            raise
        self._fail(failure)
        raise failure from None

    def _fail(self, error: errors.Error) -> None:
        self._error = error
        self._end()
        if self._engine.on_fetch_error is not None:
            self._engine.on_fetch_error(error)


class DuckDBEngine:
    """The default engine: an embedded DuckDB database, in memory or in a file.

    Args:
        database: a file path, or ``":memory:"``.
        read_only: open the file read-only.
        connection: an existing DuckDB connection to use instead of opening one (it is not closed by
            :meth:`close`).
    """

    name = "duckdb"
    dialect = "duckdb"
    #: the result DuckDB holds unread on the connection (see DuckDBResult), and its statement's first word
    _pending: tuple[weakref.ref[DuckDBResult], str] | None = None
    #: called with the error when fetching a result fails (an error that aborts an open transaction)
    on_fetch_error: Callable[[errors.Error], None] | None = None

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
        #: every function name registered on this connection, live or lost in a rollback: DuckDB's
        #: Python API keeps a name it registered even after a rollback removed the function, so such a
        #: name can never be registered again and a fresh one is needed (see unique_function_name).
        self._used_function_names: set[str] = set()
        #: Python objects registered as views (register), and names unregistered since the last
        #: transaction ended: a rollback must not undo either (see _restore_registrations)
        self._registered: dict[str, object] = {}
        self._unregistered: set[str] = set()
        #: the caller's names while a statement runs for it (python_scope), as one namespace
        self._scope: dict[str, Any] | None = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection (free of any unread result, see :class:`DuckDBResult`)."""
        self._settle()
        return self._con

    # -- statements -----------------------------------------------------------------------------------

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> ExecResult:
        """Run one statement; a result set stays in DuckDB and is fetched through a :class:`DuckDBResult`.

        INSERT, UPDATE, DELETE and MERGE without RETURNING report the rows they changed as ``rowcount``
        and have no result set (DuckDB's own ``rowcount`` says which statements these are, so a
        RETURNING clause always keeps its rows, whatever its columns are called); so do COPY and CREATE
        (with ``rowcount`` -1). Anything else (SELECT, RETURNING, SHOW, SET ...) keeps DuckDB's result.
        """
        self._settle()
        word = first_word(sql)
        try:
            self._in_scope(self._con.execute, sql, *(() if parameters is None else (parameters,)))
            description = self._con.description
            changed = self._con.rowcount if description is not None else -1
            drained = None
            if description is not None and (changed >= 0 or word in _DRAINED_WORDS):
                # A row count, or an empty status result: read now, before the transaction bookkeeping
                # below runs a statement of its own.
                drained = self._con.fetchall()
        except duckdb.Error as error:
            if word in _END_WORDS:  # a failed COMMIT rolls back as well
                self._transaction_ended()
            raise translate_error(error) from None
        except RuntimeError as error:
            if "interrupted" in str(error).lower():  # DuckDB's answer to Ctrl-C during a query
                raise KeyboardInterrupt from None
            raise
        if word in _BEGIN_WORDS:
            self._in_transaction = True
        elif word in _END_WORDS:
            self._transaction_ended()
        if description is None:
            return ExecResult(None, -1, [], word)
        if changed >= 0 or word == "CREATE":
            return ExecResult(None, changed if word in _DML_WORDS else -1, [], word)
        columns = [Column(str(d[0]), str(d[1])) for d in description]
        result = DuckDBResult(self, columns, drained)
        if drained is None:
            self._pending = (weakref.ref(result), word)
        return ExecResult(None, -1, columns, word or "SELECT", rows=result)

    def query_arrow(self, sql: str) -> pa.Table:
        self._settle()
        try:
            return self._in_scope(self._con.sql, sql).to_arrow_table()
        except duckdb.Error as error:
            raise translate_error(error) from None

    def scan_batches(self, sql: str, batch_rows: int = 122_880) -> Iterator[pa.RecordBatch]:
        self._settle()
        try:
            reader = self._in_scope(self._con.sql, sql).to_arrow_reader(batch_rows)
            yield from reader
        except duckdb.Error as error:
            raise translate_error(error) from None

    def _settle(self, *, keep: bool = True) -> None:
        """Free the connection of an unread result before anything else runs on it.

        DuckDB keeps one statement's result on the connection until it is read to the end, and refuses
        or replaces it when other work comes. A result still referenced (a cursor may fetch from it) is
        read whole into Python rows, through DuckDB's own conversion; one nobody holds any more is
        cancelled (a read-only query) or run to its end unread (a statement that may write), as are
        all of them when ``keep`` is false (the engine is closing).
        """
        pending, self._pending = self._pending, None
        if pending is None:
            return
        reference, word = pending
        result = reference()
        if result is not None and keep:
            result._materialise()
            return
        if result is not None:
            result._end()
        try:
            self._con.abort() if word in _READ_ONLY_WORDS else self._con.complete()
        except duckdb.Error as error:
            if self.on_fetch_error is not None:
                self.on_fetch_error(translate_error(error))

    def _result_ended(self, result: DuckDBResult) -> None:
        if self._pending is not None and self._pending[0]() is result:
            self._pending = None

    def columns(self, relation_sql: str) -> list[Column]:
        self._settle()
        try:
            rows = self._in_scope(self._con.execute, f"DESCRIBE SELECT * FROM {relation_sql}").fetchall()
        except duckdb.Error as error:
            raise translate_error(error) from None
        return [Column(str(r[0]), str(r[1])) for r in rows]

    def create_table(self, name: str, data: pa.Table) -> None:
        # DuckDB reads the Arrow table in place through a view registered for the one statement.
        view = f"__paqdb_arrow_{uuid.uuid4().hex}"
        with self.transaction():
            self._settle()
            self._con.register(view, data)
            try:
                self.execute(f"CREATE TABLE {name} AS SELECT * FROM {view}")
            finally:
                self._settle()
                self._con.unregister(view)

    def check_syntax(self, sql: str) -> None:
        # DuckDB's own parser, without running anything: a parser error here leaves an open transaction
        # as it was (sent as a statement, it would abort it).
        try:
            self._con.extract_statements(sql)
        except duckdb.Error as error:
            raise translate_error(error) from None

    def relation_exists(self, name: str, *, python_objects: bool = True) -> bool:
        """True for a table or view called ``name``, or (``python_objects``) a DataFrame or Arrow
        object of the caller's that DuckDB would read under that name (see :meth:`python_scope`)."""
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
        self._settle()
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
        if rows and rows[0][0]:
            return True
        # Not in the catalog: a DataFrame or Arrow object of the caller's, as DuckDB would find it.
        scope = self._scope if python_objects else None
        return scope is not None and not table.db and table.name in scope and is_scannable(scope[table.name])

    # -- Python objects as tables ---------------------------------------------------------------------

    @contextmanager
    def python_scope(self, names: Mapping[str, Any] | None) -> Iterator[None]:
        """While open, a table name the database does not know resolves to the pandas or Polars
        DataFrame, Arrow table, dataset or record batch reader called so in ``names`` (the variables
        of the code that sent the statement), as DuckDB's own replacement scans do: tables and views
        of the database win. :meth:`relation_exists` answers for those objects too.

        Args:
            names: the caller's variables (its locals over its globals), or None for none.
        """
        previous = self._scope
        self._scope = (
            {k: v for k, v in names.items() if k not in (_CALL, _ARGUMENTS, _RESULT)} if names else None
        )
        try:
            yield
        finally:
            self._scope = previous

    def _in_scope(self, method: Callable[..., Any], *arguments: Any) -> Any:
        """``method(*arguments)``, a call into DuckDB, made from a frame whose names are the caller's."""
        scope = self._scope
        if scope is None:
            return method(*arguments)
        scope[_CALL], scope[_ARGUMENTS] = method, arguments
        try:
            exec(_CALL_FROM_SCOPE, scope)  # fixed code; the namespace is what DuckDB reads
            return scope.pop(_RESULT)
        finally:
            for name in (_CALL, _ARGUMENTS, _RESULT):
                scope.pop(name, None)

    def register(self, name: str, value: object) -> None:
        """Make ``value`` (a pandas or Polars DataFrame, an Arrow table, dataset or batch reader) a
        temporary view called ``name`` for this connection, replacing a view of that name, as DuckDB's
        ``register`` does. It is read in place, never copied, and lasts until :meth:`unregister` or
        :meth:`close`; a rollback does not undo it.

        Raises:
            ProgrammingError: ``value`` is not something DuckDB reads as a table.
        """
        if not is_scannable(value):
            raise errors.ProgrammingError(
                f"cannot register a {type(value).__name__} as '{name}'",
                sqlstate="22023",
                hint="register a pandas or Polars DataFrame, or an Arrow Table, Dataset or RecordBatchReader",
            )
        self._settle()
        self._registered[name] = value
        self._unregistered.discard(name)
        try:
            self._con.register(name, value)
        except duckdb.TransactionException:
            pass  # the transaction is aborted: the view is created when it is rolled back
        except duckdb.Error as error:
            del self._registered[name]
            raise translate_error(error) from None

    def unregister(self, name: str) -> None:
        """Remove the view :meth:`register` made under ``name`` (no error when there is none)."""
        self._settle()
        if self._registered.pop(name, None) is None:
            return
        self._unregistered.add(name)
        try:
            self._con.unregister(name)
        except duckdb.TransactionException:
            pass  # the transaction is aborted: the view is dropped when it is rolled back
        except duckdb.Error as error:
            raise translate_error(error) from None

    def _restore_registrations(self) -> None:
        """After a transaction ends: views registered in it come back, ones unregistered stay gone.

        DuckDB's register makes a temporary view in the open transaction, so a rollback would drop the
        view (or bring back an unregistered one); a registration belongs to the connection instead.
        """
        dropped, self._unregistered = self._unregistered, set()
        for name in dropped:
            with contextlib.suppress(duckdb.Error):
                self._con.unregister(name)
        for name, value in self._registered.items():
            with contextlib.suppress(duckdb.Error):
                self._con.register(name, value)

    # -- functions ------------------------------------------------------------------------------------

    def register_function(
        self,
        name: str,
        function: ScalarFunction,
        argument_types: Sequence[str],
        return_type: str,
    ) -> None:
        self.unregister_function(name)
        self._used_function_names.add(name)
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
        self._settle()
        if name in self._functions:
            self._functions.discard(name)
            with contextlib.suppress(duckdb.Error):  # already gone with its connection state
                self._con.remove_function(name)

    def has_function(self, name: str) -> bool:
        """True when this engine registered a function called ``name`` and it is still there."""
        return name in self._functions

    def unique_function_name(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3`` ... : a name never registered on this connection."""
        candidate, n = base, 1
        while candidate in self._used_function_names:
            n += 1
            candidate = f"{base}_{n}"
        return candidate

    def _transaction_ended(self) -> None:
        """Forget the functions that a rollback took with it (those registered inside the transaction)."""
        self._in_transaction = False
        if self._registered or self._unregistered:
            self._restore_registrations()
        if not self._functions:
            return
        try:
            rows = self._con.execute(
                "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_name IN "
                f"({', '.join('?' * len(self._functions))})",
                sorted(self._functions),
            ).fetchall()
        except duckdb.Error:  # the connection cannot answer: trust nothing registered
            rows = []
        self._functions &= {str(row[0]) for row in rows}

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
                if self._in_transaction:
                    self._transaction_ended()

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
        self._settle(keep=False)
        for name in list(self._functions):
            self.unregister_function(name)
        if self._owns_connection:
            self._con.close()
