"""PEP 249 (DB-API 2.0) conformance of ``paqdb``.

Every test here follows from the text of PEP 249 and from paqdb's documented choices where the PEP leaves
room (qmark parameters, InterfaceError for a closed cursor or connection, a context manager that commits,
rolls back and closes). Plain SQL is DuckDB's dialect.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import paqdb

EXCEPTION_NAMES = [
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
]

DATABASE_ERROR_SUBCLASSES = [
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
]

TICKS = 1_700_000_000  # 2023-11-14 22:13:20 UTC; whole seconds so *FromTicks has no sub-second part


# ---------------------------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    """A fresh database file path (the file itself does not exist yet)."""
    return str(tmp_path / "pep249.duckdb")


@pytest.fixture
def con(db_path: str) -> Iterator[Any]:
    """A connection on a temporary database file, closed at teardown."""
    connection = paqdb.connect(db_path)
    yield connection
    with contextlib.suppress(paqdb.Error):
        connection.close()


@pytest.fixture
def cur(con: Any) -> Any:
    """A cursor of ``con``."""
    return con.cursor()


@pytest.fixture
def people(con: Any) -> Any:
    """A committed table ``people(id INTEGER PRIMARY KEY, name VARCHAR)`` holding three rows."""
    cursor = con.cursor()
    cursor.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR)")
    cursor.execute("INSERT INTO people VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger')")
    con.commit()
    return cursor


def committed_count(db_path: str, table: str) -> int:
    """Rows of ``table`` as seen by a brand-new connection on ``db_path`` (the caller closed its own)."""
    with contextlib.closing(paqdb.connect(db_path)) as fresh:
        cursor = fresh.cursor()
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def committed_tables(db_path: str) -> set[str]:
    """Names of the user tables of ``db_path`` as seen by a brand-new connection."""
    with contextlib.closing(paqdb.connect(db_path)) as fresh:
        cursor = fresh.cursor()
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
        return {row[0] for row in cursor.fetchall()}


def create_committed_table(db_path: str, ddl: str) -> None:
    """Run ``ddl`` on its own connection, commit and close."""
    with contextlib.closing(paqdb.connect(db_path)) as setup:
        setup.cursor().execute(ddl)
        setup.commit()


# ---------------------------------------------------------------------------------------------------------
# Module interface: globals, constructor, exceptions
# ---------------------------------------------------------------------------------------------------------


def test_apilevel_is_2_0() -> None:
    assert paqdb.apilevel == "2.0", "PEP 249: apilevel is the string '2.0'"


def test_threadsafety_is_a_pep249_level() -> None:
    assert paqdb.threadsafety in {0, 1, 2, 3}, "PEP 249: threadsafety is an integer 0..3"


def test_paramstyle_is_qmark() -> None:
    assert paqdb.paramstyle == "qmark", "paqdb documents the qmark parameter style"


def test_connect_to_memory_database_executes_sql() -> None:
    with contextlib.closing(paqdb.connect(":memory:")) as memory:
        cursor = memory.cursor()
        cursor.execute("SELECT 42")
        assert cursor.fetchone()[0] == 42, "an in-memory connection should run a simple query"


def test_connect_accepts_database_keyword(db_path: str) -> None:
    with contextlib.closing(paqdb.connect(database=db_path)) as by_keyword:
        cursor = by_keyword.cursor()
        cursor.execute("SELECT 'ok'")
        assert cursor.fetchone()[0] == "ok", "connect(database=path) should open the file"


@pytest.mark.parametrize("name", EXCEPTION_NAMES)
def test_module_exposes_exception(name: str) -> None:
    exc_class = getattr(paqdb, name, None)
    assert isinstance(exc_class, type), f"PEP 249: the module must expose the exception class {name}"
    assert issubclass(exc_class, Exception), f"{name} must derive from Exception"


def test_warning_derives_from_exception_but_not_error() -> None:
    assert issubclass(paqdb.Warning, Exception), "PEP 249: Warning is a subclass of Exception"
    assert not issubclass(paqdb.Warning, paqdb.Error), "PEP 249: Warning is not part of the Error tree"


@pytest.mark.parametrize("name", ["InterfaceError", "DatabaseError"])
def test_interface_and_database_error_derive_from_error(name: str) -> None:
    assert issubclass(getattr(paqdb, name), paqdb.Error), f"PEP 249: {name} is a subclass of Error"


def test_interface_error_is_not_a_database_error() -> None:
    assert not issubclass(paqdb.InterfaceError, paqdb.DatabaseError), (
        "PEP 249: InterfaceError and DatabaseError are siblings under Error"
    )


@pytest.mark.parametrize("name", DATABASE_ERROR_SUBCLASSES)
def test_database_error_subclasses(name: str) -> None:
    assert issubclass(getattr(paqdb, name), paqdb.DatabaseError), (
        f"PEP 249: {name} is a subclass of DatabaseError"
    )


@pytest.mark.parametrize("name", EXCEPTION_NAMES)
def test_connection_exposes_exception_classes(con: Any, name: str) -> None:
    assert getattr(con, name, None) is getattr(paqdb, name), (
        f"PEP 249 extension: Connection.{name} is the module's {name}"
    )


# ---------------------------------------------------------------------------------------------------------
# Errors raised by statements
# ---------------------------------------------------------------------------------------------------------


def test_syntax_error_raises_programming_error(cur: Any) -> None:
    with pytest.raises(paqdb.ProgrammingError):
        cur.execute("SELEC 1")


def test_unknown_table_raises_programming_error(cur: Any) -> None:
    with pytest.raises(paqdb.ProgrammingError):
        cur.execute("SELECT * FROM no_such_table")


def test_creating_existing_table_raises_programming_error(people: Any) -> None:
    with pytest.raises(paqdb.ProgrammingError):
        people.execute("CREATE TABLE people (id INTEGER)")


def test_primary_key_violation_raises_integrity_error(people: Any) -> None:
    with pytest.raises(paqdb.IntegrityError):
        people.execute("INSERT INTO people VALUES (1, 'duplicate')")


def test_unique_violation_raises_integrity_error(cur: Any) -> None:
    cur.execute("CREATE TABLE tags (tag VARCHAR UNIQUE)")
    cur.execute("INSERT INTO tags VALUES ('a')")
    with pytest.raises(paqdb.IntegrityError):
        cur.execute("INSERT INTO tags VALUES ('a')")


def test_not_null_violation_raises_integrity_error(cur: Any) -> None:
    cur.execute("CREATE TABLE required (v INTEGER NOT NULL)")
    with pytest.raises(paqdb.IntegrityError):
        cur.execute("INSERT INTO required VALUES (NULL)")


def test_bad_cast_raises_data_error(cur: Any) -> None:
    with pytest.raises(paqdb.DataError):
        cur.execute("SELECT CAST('x' AS INTEGER)")


def test_out_of_range_cast_raises_data_error(cur: Any) -> None:
    with pytest.raises(paqdb.DataError):
        cur.execute("SELECT CAST(128 AS TINYINT)")


def test_integer_division_by_zero_raises_data_error(cur: Any) -> None:
    # PEP 249 names division by zero as its example of a DataError. DuckDB's ``/`` yields inf on zero,
    # its integer division ``//`` raises.
    with pytest.raises(paqdb.DataError):
        cur.execute("SELECT 1 // 0")


@pytest.mark.parametrize(
    ("sql", "params"),
    [("SELECT ?, ?", (1,)), ("SELECT ?", (1, 2))],
    ids=["too-few", "too-many"],
)
def test_wrong_number_of_parameters_raises_programming_error(cur: Any, sql: str, params: tuple) -> None:
    with pytest.raises(paqdb.ProgrammingError):
        cur.execute(sql, params)


def test_statement_errors_are_catchable_through_connection_error(con: Any, cur: Any) -> None:
    with pytest.raises(con.Error):
        cur.execute("SELECT * FROM no_such_table")


# ---------------------------------------------------------------------------------------------------------
# Connection: close, cursor, commit, rollback, context manager
# ---------------------------------------------------------------------------------------------------------


def test_cursor_returns_a_new_cursor_each_call(con: Any) -> None:
    assert con.cursor() is not con.cursor(), "PEP 249: .cursor() returns a new Cursor object"


@pytest.mark.parametrize("method", ["cursor", "commit", "rollback"])
def test_connection_method_after_close_raises_interface_error(con: Any, method: str) -> None:
    con.close()
    with pytest.raises(paqdb.InterfaceError):
        getattr(con, method)()


def test_existing_cursor_execute_after_connection_close_raises_interface_error(con: Any, cur: Any) -> None:
    con.close()
    with pytest.raises(paqdb.InterfaceError):
        cur.execute("SELECT 1")


def test_existing_cursor_fetch_after_connection_close_raises_interface_error(con: Any, cur: Any) -> None:
    cur.execute("SELECT * FROM range(3)")
    con.close()
    with pytest.raises(paqdb.InterfaceError):
        cur.fetchall()


def test_rollback_discards_uncommitted_insert(people: Any, con: Any) -> None:
    people.execute("INSERT INTO people VALUES (4, 'barbara')")
    con.rollback()
    people.execute("SELECT count(*) FROM people")
    assert people.fetchone()[0] == 3, "rollback() must undo the insert made since the last commit"


def test_rollback_keeps_committed_rows(people: Any, con: Any) -> None:
    people.execute("INSERT INTO people VALUES (4, 'barbara')")
    con.commit()
    people.execute("INSERT INTO people VALUES (5, 'donald')")
    con.rollback()
    people.execute("SELECT id FROM people ORDER BY id")
    assert [row[0] for row in people.fetchall()] == [1, 2, 3, 4], (
        "rollback() undoes only the work after the last commit()"
    )


def test_commit_persists_rows_across_reopen(people: Any, con: Any, db_path: str) -> None:
    people.execute("INSERT INTO people VALUES (4, 'barbara')")
    con.commit()
    con.close()
    assert committed_count(db_path, "people") == 4, "committed rows must be there after reopening the file"


def test_close_without_commit_rolls_back(people: Any, con: Any, db_path: str) -> None:
    people.execute("INSERT INTO people VALUES (4, 'barbara')")
    con.close()
    assert committed_count(db_path, "people") == 3, (
        "PEP 249: closing a connection without commit() performs an implicit rollback"
    )


def test_autocommit_is_off_by_default_for_ddl(con: Any, db_path: str) -> None:
    con.cursor().execute("CREATE TABLE never_committed (v INTEGER)")
    con.close()
    assert "never_committed" not in committed_tables(db_path), (
        "PEP 249: auto-commit is initially off, so uncommitted DDL is rolled back on close"
    )


def test_work_after_rollback_can_be_committed(people: Any, con: Any, db_path: str) -> None:
    people.execute("INSERT INTO people VALUES (4, 'discarded')")
    con.rollback()
    people.execute("INSERT INTO people VALUES (5, 'kept')")
    con.commit()
    con.close()
    with contextlib.closing(paqdb.connect(db_path)) as fresh:
        cursor = fresh.cursor()
        cursor.execute("SELECT id FROM people WHERE id > 3")
        assert [row[0] for row in cursor.fetchall()] == [5], "a new transaction starts after rollback()"


def test_commit_without_pending_work_is_harmless(con: Any) -> None:
    assert con.commit() is None
    assert con.commit() is None
    cursor = con.cursor()
    cursor.execute("SELECT 42")
    assert cursor.fetchone()[0] == 42, "the connection stays usable"


def test_rollback_without_pending_work_is_harmless(con: Any) -> None:
    assert con.rollback() is None
    assert con.rollback() is None
    cursor = con.cursor()
    cursor.execute("SELECT 42")
    assert cursor.fetchone()[0] == 42, "the connection stays usable"


def test_autocommit_true_persists_without_commit(db_path: str) -> None:
    create_committed_table(db_path, "CREATE TABLE auto (v INTEGER)")
    with contextlib.closing(paqdb.connect(db_path, autocommit=True)) as auto:
        auto.cursor().execute("INSERT INTO auto VALUES (1)")
    assert committed_count(db_path, "auto") == 1, "with autocommit=True each statement commits itself"


def test_read_only_connection_reads(db_path: str) -> None:
    create_committed_table(db_path, "CREATE TABLE frozen AS SELECT 7 AS v")
    with contextlib.closing(paqdb.connect(db_path, read_only=True)) as reader:
        cursor = reader.cursor()
        cursor.execute("SELECT v FROM frozen")
        assert cursor.fetchall() == [(7,)], "a read-only connection can read"


def test_read_only_connection_refuses_writes(db_path: str) -> None:
    create_committed_table(db_path, "CREATE TABLE frozen AS SELECT 7 AS v")
    with (
        contextlib.closing(paqdb.connect(db_path, read_only=True)) as reader,
        pytest.raises(paqdb.DatabaseError),
    ):
        reader.cursor().execute("INSERT INTO frozen VALUES (8)")


def test_context_manager_commits_on_clean_exit(db_path: str) -> None:
    create_committed_table(db_path, "CREATE TABLE ledger (v INTEGER)")
    with paqdb.connect(db_path) as managed:
        managed.cursor().execute("INSERT INTO ledger VALUES (1)")
    assert committed_count(db_path, "ledger") == 1, "leaving the with block cleanly commits"


def test_context_manager_rolls_back_on_exception(db_path: str) -> None:
    create_committed_table(db_path, "CREATE TABLE ledger (v INTEGER)")
    with pytest.raises(RuntimeError, match="boom"), paqdb.connect(db_path) as managed:
        managed.cursor().execute("INSERT INTO ledger VALUES (1)")
        raise RuntimeError("boom")
    assert committed_count(db_path, "ledger") == 0, "leaving the with block by an exception rolls back"


def test_context_manager_closes_connection(db_path: str) -> None:
    with paqdb.connect(db_path) as managed:
        pass
    with pytest.raises(paqdb.InterfaceError):
        managed.cursor()


def test_cursors_of_one_connection_see_uncommitted_changes(people: Any, con: Any) -> None:
    other = con.cursor()
    people.execute("INSERT INTO people VALUES (4, 'barbara')")
    other.execute("SELECT count(*) FROM people")
    assert other.fetchone()[0] == 4, (
        "PEP 249: cursors of the same connection are not isolated from each other"
    )


def test_cursors_of_one_connection_keep_separate_result_sets(people: Any, con: Any) -> None:
    first, second = con.cursor(), con.cursor()
    first.execute("SELECT id FROM people ORDER BY id")
    second.execute("SELECT name FROM people ORDER BY id")
    assert first.fetchall() == [(1,), (2,), (3,)], "a cursor's result must not be replaced by another's"
    assert second.fetchall() == [("ada",), ("grace",), ("edsger",)]


# ---------------------------------------------------------------------------------------------------------
# Cursor: description
# ---------------------------------------------------------------------------------------------------------


def test_description_is_none_before_execute(cur: Any) -> None:
    assert cur.description is None, "PEP 249: description is None before any .execute*()"


def test_description_has_seven_items_per_column(cur: Any) -> None:
    cur.execute("SELECT 1 AS a, 'x' AS b")
    assert len(cur.description) == 2, "one description entry per result column"
    assert all(len(column) == 7 for column in cur.description), "PEP 249: each entry has 7 items"


def test_description_names_columns_in_order(cur: Any) -> None:
    cur.execute("SELECT 1 AS first_col, 2 AS second_col, 3 AS third_col")
    assert [column[0] for column in cur.description] == ["first_col", "second_col", "third_col"]


def test_description_is_set_for_query_returning_no_rows(people: Any) -> None:
    people.execute("SELECT id, name FROM people WHERE false")
    assert people.description is not None, "a SELECT returns a (possibly empty) result set"
    assert [column[0] for column in people.description] == ["id", "name"]


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE created (v INTEGER)",
        "INSERT INTO people VALUES (9, 'x')",
        "UPDATE people SET name = 'y'",
        "DELETE FROM people",
    ],
    ids=["create", "insert", "update", "delete"],
)
def test_description_is_none_after_statement_without_rows(people: Any, statement: str) -> None:
    people.execute(statement)
    assert people.description is None, "PEP 249: description is None for operations that return no rows"


def test_description_is_reset_by_next_statement(people: Any) -> None:
    people.execute("SELECT id FROM people")
    people.execute("INSERT INTO people VALUES (4, 'barbara')")
    assert people.description is None, "a no-row statement after a query must clear description"


def test_description_follows_latest_query(cur: Any) -> None:
    cur.execute("SELECT 1 AS a")
    cur.execute("SELECT 1 AS b, 2 AS c")
    assert [column[0] for column in cur.description] == ["b", "c"]


# ---------------------------------------------------------------------------------------------------------
# Cursor: rowcount, lastrowid, arraysize
# ---------------------------------------------------------------------------------------------------------


def test_rowcount_is_minus_one_before_execute(cur: Any) -> None:
    assert cur.rowcount == -1, "PEP 249: rowcount is -1 when no .execute*() has been performed"


def test_rowcount_counts_inserted_rows(people: Any) -> None:
    people.execute("INSERT INTO people VALUES (4, 'a'), (5, 'b')")
    assert people.rowcount == 2


def test_rowcount_counts_rows_inserted_from_select(people: Any) -> None:
    people.execute("INSERT INTO people SELECT range + 100, 'n' FROM range(10)")
    assert people.rowcount == 10


def test_rowcount_counts_updated_rows(people: Any) -> None:
    people.execute("UPDATE people SET name = upper(name) WHERE id >= 2")
    assert people.rowcount == 2


def test_rowcount_counts_deleted_rows(people: Any) -> None:
    people.execute("DELETE FROM people WHERE id = 1")
    assert people.rowcount == 1


def test_rowcount_is_zero_when_nothing_matches(people: Any) -> None:
    people.execute("UPDATE people SET name = 'z' WHERE id > 100")
    assert people.rowcount == 0


def test_rowcount_for_select_is_unknown(people: Any) -> None:
    # PEP 249 allows the row count or -1; DuckDB streams a query's rows, so the count is not known
    people.execute("SELECT * FROM people")
    assert people.rowcount == -1
    assert len(people.fetchall()) == 3


def test_lastrowid_is_none(people: Any) -> None:
    people.execute("INSERT INTO people VALUES (4, 'barbara')")
    assert people.lastrowid is None, "DuckDB has no row ids to report, so lastrowid is None"


def test_arraysize_defaults_to_one(cur: Any) -> None:
    assert cur.arraysize == 1, "PEP 249: arraysize defaults to 1"


# ---------------------------------------------------------------------------------------------------------
# Cursor: fetching
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fetch", ["fetchone", "fetchmany", "fetchall"])
def test_fetch_before_execute_raises_error(cur: Any, fetch: str) -> None:
    with pytest.raises(paqdb.Error):
        getattr(cur, fetch)()


@pytest.mark.parametrize("fetch", ["fetchone", "fetchmany", "fetchall"])
def test_fetch_after_statement_without_result_set_raises_error(people: Any, fetch: str) -> None:
    people.execute("INSERT INTO people VALUES (4, 'barbara')")
    with pytest.raises(paqdb.Error):
        getattr(people, fetch)()


def test_fetchone_returns_rows_in_order_then_none(people: Any) -> None:
    people.execute("SELECT id FROM people ORDER BY id")
    fetched = [people.fetchone() for _ in range(3)]
    assert [tuple(row) for row in fetched] == [(1,), (2,), (3,)]
    assert people.fetchone() is None, "PEP 249: fetchone() returns None when no more data is available"


def test_rows_are_sequences(people: Any) -> None:
    people.execute("SELECT id, name FROM people WHERE id = 1")
    row = people.fetchone()
    assert isinstance(row, Sequence), "PEP 249: a row is a sequence"
    assert tuple(row) == (1, "ada")


def test_fetchall_returns_sequence_of_all_rows(people: Any) -> None:
    people.execute("SELECT id, name FROM people ORDER BY id")
    rows = people.fetchall()
    assert isinstance(rows, Sequence), "PEP 249: fetchall() returns a sequence of sequences"
    assert [tuple(row) for row in rows] == [(1, "ada"), (2, "grace"), (3, "edsger")]


def test_fetchall_returns_remaining_rows(people: Any) -> None:
    people.execute("SELECT id FROM people ORDER BY id")
    people.fetchone()
    assert [tuple(row) for row in people.fetchall()] == [(2,), (3,)], "fetchall() returns the rest"


def test_fetchall_when_exhausted_returns_empty_sequence(people: Any) -> None:
    people.execute("SELECT id FROM people")
    people.fetchall()
    assert len(people.fetchall()) == 0


def test_fetchall_of_empty_result_is_empty(people: Any) -> None:
    people.execute("SELECT id FROM people WHERE false")
    assert len(people.fetchall()) == 0


def test_fetchmany_defaults_to_arraysize_one(people: Any) -> None:
    people.execute("SELECT id FROM people ORDER BY id")
    assert [tuple(row) for row in people.fetchmany()] == [(1,)], "fetchmany() fetches arraysize (1) rows"


def test_fetchmany_uses_assigned_arraysize(people: Any) -> None:
    people.arraysize = 2
    people.execute("SELECT id FROM people ORDER BY id")
    assert [tuple(row) for row in people.fetchmany()] == [(1,), (2,)]
    assert [tuple(row) for row in people.fetchmany()] == [(3,)], "the last batch holds what remains"


def test_fetchmany_accepts_size_argument(people: Any) -> None:
    people.execute("SELECT id FROM people ORDER BY id")
    assert [tuple(row) for row in people.fetchmany(2)] == [(1,), (2,)]


def test_fetchmany_accepts_size_keyword(people: Any) -> None:
    people.execute("SELECT id FROM people ORDER BY id")
    assert len(people.fetchmany(size=3)) == 3


def test_fetchmany_larger_than_remaining_returns_the_rest(people: Any) -> None:
    people.execute("SELECT id FROM people ORDER BY id")
    assert len(people.fetchmany(10)) == 3


def test_fetchmany_when_exhausted_returns_empty_sequence(people: Any) -> None:
    people.execute("SELECT id FROM people")
    people.fetchall()
    assert len(people.fetchmany(5)) == 0, "PEP 249: fetchmany() returns an empty sequence when done"


def test_new_execute_discards_unfetched_rows(people: Any) -> None:
    people.execute("SELECT id FROM people ORDER BY id")
    people.fetchone()
    people.execute("SELECT 'fresh'")
    assert [tuple(row) for row in people.fetchall()] == [("fresh",)]


def test_fetching_after_other_cursors_ran_statements_gets_the_same_rows(people: Any, con: Any) -> None:
    people.execute("SELECT id, name FROM people ORDER BY id")
    assert people.fetchone() == (1, "ada")
    other = con.cursor()
    other.execute("INSERT INTO people VALUES (4, 'barbara')")
    other.execute("SELECT count(*) FROM people")
    assert other.fetchone() == (4,)
    assert people.fetchall() == [(2, "grace"), (3, "edsger")], "the first cursor's result is kept whole"


def test_fetched_values_are_duckdbs_own(cur: Any) -> None:
    cur.execute("SELECT sum(x) AS s, '24:00:00'::TIME AS t FROM range(5) r(x)")
    row = cur.fetchone()
    assert row == (10, "24:00:00") and type(row[0]) is int, "DuckDB gives an int for a HUGEINT sum"


def test_fetch_arrow_table_and_fetch_df_return_the_remaining_rows(people: Any) -> None:
    people.execute("SELECT id FROM people ORDER BY id")
    people.fetchone()
    assert people.fetch_arrow_table().column("id").to_pylist() == [2, 3]
    people.execute("SELECT id FROM people ORDER BY id")
    people.fetchone()
    assert people.fetch_df()["id"].tolist() == [2, 3]


def test_iterating_cursor_yields_all_rows(people: Any) -> None:
    people.execute("SELECT id FROM people ORDER BY id")
    assert [tuple(row) for row in people] == [(1,), (2,), (3,)], "PEP 249 extension: cursors are iterable"


def test_iterating_cursor_yields_remaining_rows(people: Any) -> None:
    people.execute("SELECT id FROM people ORDER BY id")
    people.fetchone()
    assert [tuple(row) for row in people] == [(2,), (3,)]


def test_iter_returns_the_cursor_itself(cur: Any) -> None:
    cur.execute("SELECT 1")
    assert iter(cur) is cur, "PEP 249 extension: __iter__ returns self"


def test_next_on_exhausted_cursor_raises_stop_iteration(cur: Any) -> None:
    cur.execute("SELECT 1")
    assert tuple(next(cur)) == (1,)
    with pytest.raises(StopIteration):
        next(cur)


# ---------------------------------------------------------------------------------------------------------
# Cursor: parameters, executemany
# ---------------------------------------------------------------------------------------------------------


def test_execute_binds_tuple_parameters(cur: Any) -> None:
    cur.execute("SELECT ? + ?, ?", (40, 2, "x"))
    assert tuple(cur.fetchone()) == (42, "x")


def test_execute_binds_list_parameters(cur: Any) -> None:
    cur.execute("SELECT ? * 2", [21])
    assert cur.fetchone()[0] == 42


def test_execute_with_explicit_none_parameters(cur: Any) -> None:
    cur.execute("SELECT 5", None)
    assert cur.fetchone()[0] == 5


def test_question_mark_inside_string_literal_is_not_a_parameter(cur: Any) -> None:
    cur.execute("SELECT 'what?'")
    assert cur.fetchone()[0] == "what?"


def test_parameters_are_not_interpolated_into_sql(people: Any) -> None:
    hostile = "x'); DROP TABLE people; --"
    people.execute("INSERT INTO people VALUES (?, ?)", (4, hostile))
    people.execute("SELECT name FROM people WHERE id = 4")
    assert people.fetchone()[0] == hostile, "a bound string is stored verbatim"
    people.execute("SELECT count(*) FROM people")
    assert people.fetchone()[0] == 4, "the table survives a hostile parameter"


def test_null_parameter_binds_sql_null(cur: Any) -> None:
    cur.execute("SELECT ? IS NULL", (None,))
    assert cur.fetchone()[0] is True


def test_executemany_inserts_every_parameter_set(people: Any) -> None:
    people.executemany("INSERT INTO people VALUES (?, ?)", [(4, "d"), (5, "e"), (6, "f")])
    people.execute("SELECT id, name FROM people WHERE id > 3 ORDER BY id")
    assert [tuple(row) for row in people.fetchall()] == [(4, "d"), (5, "e"), (6, "f")]


def test_executemany_accepts_lists_as_parameter_sets(people: Any) -> None:
    people.executemany("INSERT INTO people VALUES (?, ?)", [[4, "d"], [5, "e"]])
    people.execute("SELECT count(*) FROM people")
    assert people.fetchone()[0] == 5


def test_executemany_rowcount_is_total_of_inserts(people: Any) -> None:
    people.executemany("INSERT INTO people VALUES (?, ?)", [(4, "d"), (5, "e"), (6, "f")])
    assert people.rowcount == 3, "rowcount after executemany is the total of affected rows"


def test_executemany_rowcount_is_total_of_updates(people: Any) -> None:
    people.executemany("UPDATE people SET name = 'u' WHERE id <= ?", [(1,), (2,), (100,)])
    assert people.rowcount == 1 + 2 + 3, "rowcount after executemany adds the rows of every run"


# ---------------------------------------------------------------------------------------------------------
# Cursor: close, no-op and optional methods
# ---------------------------------------------------------------------------------------------------------


def test_cursor_connection_attribute(con: Any, cur: Any) -> None:
    assert cur.connection is con, "PEP 249 extension: Cursor.connection is the creating Connection"


def test_execute_on_closed_cursor_raises_interface_error(cur: Any) -> None:
    cur.close()
    with pytest.raises(paqdb.InterfaceError):
        cur.execute("SELECT 1")


def test_fetch_on_closed_cursor_raises_interface_error(cur: Any) -> None:
    cur.execute("SELECT * FROM range(3)")
    cur.close()
    with pytest.raises(paqdb.InterfaceError):
        cur.fetchone()


def test_executemany_on_closed_cursor_raises_interface_error(cur: Any) -> None:
    cur.execute("CREATE TABLE t (v INTEGER)")
    cur.close()
    with pytest.raises(paqdb.InterfaceError):
        cur.executemany("INSERT INTO t VALUES (?)", [(1,)])


def test_closing_a_cursor_leaves_the_connection_usable(con: Any, cur: Any) -> None:
    cur.close()
    other = con.cursor()
    other.execute("SELECT 1")
    assert other.fetchone()[0] == 1


def test_setinputsizes_is_accepted_and_ignored(cur: Any) -> None:
    assert cur.setinputsizes([None, 10]) is None
    cur.execute("SELECT ?, ?", (1, "a"))
    assert tuple(cur.fetchone()) == (1, "a")


@pytest.mark.parametrize("column", [None, 0], ids=["all-columns", "one-column"])
def test_setoutputsize_is_accepted_and_ignored(cur: Any, column: int | None) -> None:
    assert cur.setoutputsize(1024, column) is None
    cur.execute("SELECT 'abc'")
    assert cur.fetchone()[0] == "abc"


def test_callproc_raises_not_supported_error(cur: Any) -> None:
    with pytest.raises(paqdb.NotSupportedError):
        cur.callproc("some_procedure", (1,))


def test_nextset_raises_not_supported_error(cur: Any) -> None:
    # PEP 249 lets a driver without multiple result sets raise NotSupportedError; paqdb's cursor holds
    # only the last statement's result, so it does, and the current result set stays readable
    cur.execute("SELECT 1")
    with pytest.raises(paqdb.NotSupportedError, match="multiple result sets"):
        cur.nextset()
    assert cur.fetchone()[0] == 1


# ---------------------------------------------------------------------------------------------------------
# Type objects
# ---------------------------------------------------------------------------------------------------------

SQL_TYPE_EXPRESSIONS = {
    "VARCHAR": "'text'::VARCHAR",
    "BLOB": "'\\x00\\x01'::BLOB",
    "INTEGER": "1::INTEGER",
    "BIGINT": "1::BIGINT",
    "DOUBLE": "1.5::DOUBLE",
    "DECIMAL": "1.5::DECIMAL(10, 2)",
    "DATE": "DATE '2024-02-29'",
    "TIMESTAMP": "TIMESTAMP '2024-02-29 13:45:30'",
    "TIME": "TIME '13:45:30'",
}

MATCHING_TYPE_OBJECTS = [
    ("VARCHAR", "STRING"),
    ("BLOB", "BINARY"),
    ("INTEGER", "NUMBER"),
    ("BIGINT", "NUMBER"),
    ("DOUBLE", "NUMBER"),
    ("DECIMAL", "NUMBER"),
    ("DATE", "DATETIME"),
    ("TIMESTAMP", "DATETIME"),
    ("TIME", "DATETIME"),
]

MISMATCHING_TYPE_OBJECTS = [
    ("VARCHAR", "NUMBER"),
    ("VARCHAR", "BINARY"),
    ("VARCHAR", "DATETIME"),
    ("INTEGER", "STRING"),
    ("INTEGER", "DATETIME"),
    ("DOUBLE", "BINARY"),
    ("BLOB", "STRING"),
    ("DATE", "NUMBER"),
    ("TIMESTAMP", "STRING"),
]


def type_code_of(cursor: Any, sql_type: str) -> Any:
    """The description type_code DuckDB reports for a literal of ``sql_type``."""
    cursor.execute(f"SELECT {SQL_TYPE_EXPRESSIONS[sql_type]} AS v")
    return cursor.description[0][1]


@pytest.mark.parametrize("name", ["STRING", "BINARY", "NUMBER", "DATETIME", "ROWID"])
def test_module_exposes_type_object(name: str) -> None:
    assert hasattr(paqdb, name), f"PEP 249: the module must expose the type object {name}"


@pytest.mark.parametrize(("sql_type", "type_object"), MATCHING_TYPE_OBJECTS)
def test_type_object_equals_matching_type_code(cur: Any, sql_type: str, type_object: str) -> None:
    type_code = type_code_of(cur, sql_type)
    assert getattr(paqdb, type_object) == type_code, f"{type_object} should equal the code of {sql_type}"
    assert type_code == getattr(paqdb, type_object), "the comparison should hold in both directions"


@pytest.mark.parametrize(("sql_type", "type_object"), MISMATCHING_TYPE_OBJECTS)
def test_type_object_differs_from_other_type_code(cur: Any, sql_type: str, type_object: str) -> None:
    type_code = type_code_of(cur, sql_type)
    assert getattr(paqdb, type_object) != type_code, f"{type_object} must not equal the code of {sql_type}"


# ---------------------------------------------------------------------------------------------------------
# Type constructors and value round trips through parameters
# ---------------------------------------------------------------------------------------------------------

ROUND_TRIPS: list[tuple[str, str, Callable[[], Any], Any, type | None]] = [
    # id, column type, value to bind (built lazily), expected value read back, expected Python type
    ("str", "VARCHAR", lambda: "hello", "hello", str),
    ("str-unicode", "VARCHAR", lambda: "naïve ✓ 日本", "naïve ✓ 日本", str),
    ("str-quote", "VARCHAR", lambda: "O'Reilly", "O'Reilly", str),
    ("int", "INTEGER", lambda: -7, -7, int),
    ("int-bigint", "BIGINT", lambda: 2**62, 2**62, int),
    ("float", "DOUBLE", lambda: 3.25, 3.25, float),
    ("decimal", "DECIMAL(18, 4)", lambda: Decimal("12345.6789"), Decimal("12345.6789"), Decimal),
    ("bool-true", "BOOLEAN", lambda: True, True, bool),
    ("bool-false", "BOOLEAN", lambda: False, False, bool),
    ("none-varchar", "VARCHAR", lambda: None, None, type(None)),
    ("none-integer", "INTEGER", lambda: None, None, type(None)),
    ("Date", "DATE", lambda: paqdb.Date(2024, 2, 29), datetime.date(2024, 2, 29), datetime.date),
    ("Time", "TIME", lambda: paqdb.Time(13, 45, 30), datetime.time(13, 45, 30), datetime.time),
    (
        "Timestamp",
        "TIMESTAMP",
        lambda: paqdb.Timestamp(2024, 2, 29, 13, 45, 30),
        datetime.datetime(2024, 2, 29, 13, 45, 30),
        datetime.datetime,
    ),
    (
        "DateFromTicks",
        "DATE",
        lambda: paqdb.DateFromTicks(TICKS),
        datetime.date.fromtimestamp(TICKS),
        datetime.date,
    ),
    (
        "TimeFromTicks",
        "TIME",
        lambda: paqdb.TimeFromTicks(TICKS),
        datetime.time(*time.localtime(TICKS)[3:6]),
        datetime.time,
    ),
    (
        "TimestampFromTicks",
        "TIMESTAMP",
        lambda: paqdb.TimestampFromTicks(TICKS),
        datetime.datetime.fromtimestamp(TICKS),
        datetime.datetime,
    ),
    ("Binary", "BLOB", lambda: paqdb.Binary(b"\x00\xffbin\x10"), b"\x00\xffbin\x10", bytes),
    ("Binary-empty", "BLOB", lambda: paqdb.Binary(b""), b"", bytes),
]


@pytest.mark.parametrize(
    ("column_type", "make_value", "expected", "expected_type"),
    [case[1:] for case in ROUND_TRIPS],
    ids=[case[0] for case in ROUND_TRIPS],
)
def test_value_round_trips_through_parameters(
    cur: Any, column_type: str, make_value: Callable[[], Any], expected: Any, expected_type: type
) -> None:
    cur.execute(f"CREATE TABLE round_trip (v {column_type})")
    cur.execute("INSERT INTO round_trip VALUES (?)", (make_value(),))
    cur.execute("SELECT v FROM round_trip")
    value = cur.fetchone()[0]
    assert value == expected, f"{column_type} value should read back equal to what was bound"
    assert type(value) is expected_type, f"{column_type} should read back as {expected_type.__name__}"


def test_plain_bytes_parameter_binds_as_blob(cur: Any) -> None:
    cur.execute("SELECT ?::BLOB", (b"\x00\x01",))
    assert cur.fetchone()[0] == b"\x00\x01"
