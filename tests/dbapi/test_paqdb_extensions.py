"""paqdb's DB-API extensions beyond PEP 249.

Arrow and pandas fetches, the sqlite3-style ``Connection.execute`` shortcut, the structured fields every
paqdb error carries (SQLSTATE, message, position, hint), and the documented behaviour after an error inside a
transaction: the transaction is rolled back and the connection stays usable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import paqdb
import paqdb.errors


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    """A fresh database file path (the file itself does not exist yet)."""
    return str(tmp_path / "extensions.duckdb")


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
def scores(con: Any) -> Any:
    """A committed table ``scores(id INTEGER, score DOUBLE)`` holding three rows."""
    cursor = con.cursor()
    cursor.execute("CREATE TABLE scores (id INTEGER PRIMARY KEY, score DOUBLE)")
    cursor.execute("INSERT INTO scores VALUES (1, 0.5), (2, 1.5), (3, 2.5)")
    con.commit()
    return cursor


def committed_count(db_path: str, table: str) -> int:
    """Rows of ``table`` as seen by a brand-new connection on ``db_path`` (the caller closed its own)."""
    with contextlib.closing(paqdb.connect(db_path)) as fresh:
        cursor = fresh.cursor()
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def raised_by(cursor: Any, sql: str) -> paqdb.Error:
    """The paqdb error that executing ``sql`` on ``cursor`` raises."""
    with pytest.raises(paqdb.Error) as excinfo:
        cursor.execute(sql)
    return excinfo.value


# ---------------------------------------------------------------------------------------------------------
# Arrow and pandas fetches
# ---------------------------------------------------------------------------------------------------------


def test_fetch_arrow_table_returns_pyarrow_table(scores: Any) -> None:
    scores.execute("SELECT id, score FROM scores ORDER BY id")
    table = scores.fetch_arrow_table()
    assert isinstance(table, pa.Table), "fetch_arrow_table() must return a pyarrow.Table"
    assert table.column_names == ["id", "score"]
    assert table.to_pydict() == {"id": [1, 2, 3], "score": [0.5, 1.5, 2.5]}


def test_fetch_arrow_table_returns_only_remaining_rows(scores: Any) -> None:
    scores.execute("SELECT id FROM scores ORDER BY id")
    scores.fetchone()
    assert scores.fetch_arrow_table().column("id").to_pylist() == [2, 3], (
        "rows already fetched must not come back in the Arrow table"
    )


def test_fetch_arrow_table_of_empty_result_keeps_schema(scores: Any) -> None:
    scores.execute("SELECT id, score FROM scores WHERE false")
    table = scores.fetch_arrow_table()
    assert table.num_rows == 0
    assert table.column_names == ["id", "score"], "an empty result still has its columns"


def test_fetch_arrow_table_of_large_result_has_every_row(cur: Any) -> None:
    cur.execute("SELECT * FROM range(1000000)")
    table = cur.fetch_arrow_table()
    assert table.num_rows == 1_000_000, "a large result must come out whole through Arrow"
    assert pc.sum(table.column(0)).as_py() == sum(range(1_000_000))


def test_fetch_df_returns_pandas_dataframe(scores: Any) -> None:
    scores.execute("SELECT id, score FROM scores ORDER BY id")
    frame = scores.fetch_df()
    assert isinstance(frame, pd.DataFrame), "fetch_df() must return a pandas DataFrame"
    assert list(frame.columns) == ["id", "score"]
    assert frame["id"].tolist() == [1, 2, 3]
    assert frame["score"].tolist() == [0.5, 1.5, 2.5]


def test_fetch_df_returns_only_remaining_rows(scores: Any) -> None:
    scores.execute("SELECT id FROM scores ORDER BY id")
    scores.fetchone()
    assert scores.fetch_df()["id"].tolist() == [2, 3]


# ---------------------------------------------------------------------------------------------------------
# Connection.execute shortcut
# ---------------------------------------------------------------------------------------------------------


def test_connection_execute_returns_cursor_with_result(con: Any) -> None:
    cursor = con.execute("SELECT 1 AS one, 'a' AS letter")
    assert [column[0] for column in cursor.description] == ["one", "letter"]
    assert [tuple(row) for row in cursor.fetchall()] == [(1, "a")]


def test_connection_execute_binds_parameters(con: Any) -> None:
    cursor = con.execute("SELECT ? + ?", [40, 2])
    assert cursor.fetchone()[0] == 42


def test_connection_execute_takes_params_keyword(con: Any) -> None:
    cursor = con.execute("SELECT ?", params=("kw",))
    assert cursor.fetchone()[0] == "kw"


def test_connection_execute_takes_part_in_the_transaction(scores: Any, con: Any) -> None:
    con.execute("INSERT INTO scores VALUES (4, 3.5)")
    con.rollback()
    assert con.execute("SELECT count(*) FROM scores").fetchone()[0] == 3, (
        "a statement run through Connection.execute is undone by rollback()"
    )


def test_connection_execute_after_close_raises_interface_error(con: Any) -> None:
    con.close()
    with pytest.raises(paqdb.InterfaceError):
        con.execute("SELECT 1")


# ---------------------------------------------------------------------------------------------------------
# Error fields
# ---------------------------------------------------------------------------------------------------------


def test_dbapi_exceptions_are_paqdb_errors_hierarchy() -> None:
    for name in ["Error", "InterfaceError", "DatabaseError", "DataError", "ProgrammingError"]:
        assert getattr(paqdb, name) is getattr(paqdb.errors, name), (
            f"paqdb.{name} must be the one class defined in paqdb.errors"
        )


@pytest.mark.parametrize(
    "sql",
    ["SELEC 1", "SELECT * FROM no_such_table", "SELECT CAST('x' AS INTEGER)"],
    ids=["syntax", "unknown-table", "bad-cast"],
)
def test_error_carries_structured_fields(cur: Any, sql: str) -> None:
    error = raised_by(cur, sql)
    assert isinstance(error.sqlstate, str), "every paqdb error carries a SQLSTATE"
    assert len(error.sqlstate) == 5, "a SQLSTATE has five characters"
    assert error.sqlstate.isalnum() and error.sqlstate == error.sqlstate.upper()
    assert isinstance(error.message, str) and error.message, "every paqdb error carries a message"
    assert error.line is None or (isinstance(error.line, int) and error.line >= 1)
    assert error.column is None or (isinstance(error.column, int) and error.column >= 1)
    assert error.hint is None or isinstance(error.hint, str)


def test_error_str_contains_message(cur: Any) -> None:
    error = raised_by(cur, "SELECT * FROM no_such_table")
    assert error.message in str(error), "str(error) starts from the message"


def test_syntax_error_sqlstate_is_class_42(cur: Any) -> None:
    assert raised_by(cur, "SELEC 1").sqlstate.startswith("42"), "syntax errors are SQLSTATE class 42"


def test_integrity_error_sqlstate_is_class_23(scores: Any) -> None:
    assert raised_by(scores, "INSERT INTO scores VALUES (1, 9.9)").sqlstate.startswith("23"), (
        "integrity violations are SQLSTATE class 23"
    )


def test_data_error_sqlstate_is_class_22(cur: Any) -> None:
    assert raised_by(cur, "SELECT CAST('x' AS INTEGER)").sqlstate.startswith("22"), (
        "data exceptions are SQLSTATE class 22"
    )


def test_error_position_points_at_second_line(cur: Any) -> None:
    error = raised_by(cur, "SELECT 1\nFROM no_such_table")
    assert error.line in (None, 2), "when known, the position is the line of the offending token"


def test_interface_error_on_closed_cursor_carries_sqlstate(cur: Any) -> None:
    cur.close()
    error = raised_by(cur, "SELECT 1")
    assert isinstance(error, paqdb.InterfaceError)
    assert isinstance(error.sqlstate, str) and len(error.sqlstate) == 5


# ---------------------------------------------------------------------------------------------------------
# Behaviour after an error
# ---------------------------------------------------------------------------------------------------------


def test_cursor_is_usable_after_failed_statement_and_rollback(cur: Any) -> None:
    raised_by(cur, "SELECT * FROM no_such_table")
    with pytest.raises(paqdb.OperationalError) as aborted:
        cur.execute("SELECT 1")
    assert aborted.value.sqlstate == "25P02", "the failed statement aborted the transaction"
    cur.connection.rollback()
    cur.execute("SELECT 1")
    assert cur.fetchone()[0] == 1, "a failed execute must not break the cursor"


def test_connection_is_usable_after_failed_statement(con: Any, cur: Any) -> None:
    raised_by(cur, "SELEC 1")
    other = con.cursor()
    other.execute("SELECT 2")
    assert other.fetchone()[0] == 2, "a failed statement must not break the connection"


def test_error_in_transaction_rolls_back_earlier_uncommitted_work(
    scores: Any, con: Any, db_path: str
) -> None:
    scores.execute("INSERT INTO scores VALUES (4, 3.5)")
    raised_by(scores, "INSERT INTO scores VALUES (1, 9.9)")
    with pytest.raises(paqdb.OperationalError, match="rolled back"):
        con.commit()  # says so rather than pretending to keep the work
    con.close()
    assert committed_count(db_path, "scores") == 3, (
        "after an error the transaction is aborted, so the following commit() commits nothing"
    )


def test_work_after_error_and_rollback_can_be_committed(scores: Any, con: Any, db_path: str) -> None:
    scores.execute("INSERT INTO scores VALUES (4, 3.5)")
    raised_by(scores, "SELECT CAST('x' AS INTEGER)")
    with pytest.raises(paqdb.OperationalError):
        scores.execute("INSERT INTO scores VALUES (5, 4.5)")  # ignored: the transaction is aborted
    con.rollback()
    scores.execute("INSERT INTO scores VALUES (5, 4.5)")
    con.commit()
    con.close()
    with contextlib.closing(paqdb.connect(db_path)) as fresh:
        cursor = fresh.cursor()
        cursor.execute("SELECT id FROM scores ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == [1, 2, 3, 5], (
            "the work before the error is gone, the work after the rollback commits"
        )
