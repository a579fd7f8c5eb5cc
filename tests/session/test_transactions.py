"""PostgreSQL's transaction rules, through the DB-API (issue 8, defect 5).

A syntax error runs nothing and leaves the open transaction as it was; any other error inside a
transaction aborts it, and every later statement fails with SQLSTATE 25P02 until rollback().
"""

from __future__ import annotations

import pytest

import paqdb
from paqdb.errors import InFailedTransactionError, ParseError


@pytest.fixture
def con(database: str) -> paqdb.Connection:
    connection = paqdb.connect(database)  # auto-commit off, as PEP 249 wants
    yield connection
    connection.close()


def test_a_syntax_error_leaves_the_transaction_and_its_work(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("INSERT INTO t VALUES (1), (2)")
    with pytest.raises(ParseError):
        con.execute("SELEC 1")
    # The same transaction goes on: the table and its rows are there, and commit keeps them.
    assert con.execute("SELECT count(*) FROM t").fetchone() == (2,)
    con.commit()
    assert con.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_a_syntax_error_in_a_script_runs_none_of_it(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(ParseError) as caught:
        con.execute("INSERT INTO t VALUES (1);\nSELEC 2")
    assert caught.value.line == 2
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_paqdb_syntax_error_leaves_the_transaction(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(ParseError):
        con.execute("CREATE MODEL m PREDICT FROM t")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    assert con.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_an_execution_error_aborts_until_rollback(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    con.commit()
    con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(paqdb.ProgrammingError) as caught:
        con.execute("SELECT * FROM missing_table")
    assert "transaction is aborted" in (caught.value.hint or "")
    for statement in ("SELECT 1", "INSERT INTO t VALUES (2)", "SHOW MODELS", "SELECT * FROM t"):
        with pytest.raises(InFailedTransactionError) as aborted:
            con.execute(statement)
        assert aborted.value.sqlstate == "25P02"
        assert "current transaction is aborted" in aborted.value.message
    con.rollback()
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_paqdb_error_aborts_too(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(paqdb.ProgrammingError):
        con.execute("PREDICT a FROM t USING MODEL nothing_here")
    with pytest.raises(InFailedTransactionError):
        con.execute("SELECT 1")
    con.execute("ROLLBACK")  # the SQL form ends it as well
    assert con.execute("SELECT 1").fetchone() == (1,)


def test_commit_of_an_aborted_transaction_keeps_nothing_and_says_so(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE t (a INTEGER)")
    con.commit()
    con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(paqdb.Error):
        con.execute("SELECT 1 / 'x'")
    with pytest.raises(InFailedTransactionError, match="rolled back"):
        con.commit()
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_autocommit_is_unchanged(database: str) -> None:
    with paqdb.connect(database, autocommit=True) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(paqdb.ProgrammingError):
            con.execute("SELECT * FROM missing_table")
        con.execute("INSERT INTO t VALUES (2)")  # no transaction to abort
        assert con.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_an_explicit_transaction_in_autocommit_mode_follows_the_same_rules(database: str) -> None:
    with paqdb.connect(database, autocommit=True) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("BEGIN")
        con.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ParseError):
            con.execute("INSERT INTO t VALUE (2)")
        con.execute("INSERT INTO t VALUES (3)")
        with pytest.raises(paqdb.ProgrammingError):
            con.execute("SELECT nope FROM t")
        with pytest.raises(InFailedTransactionError):
            con.execute("SELECT 1")
        con.execute("ROLLBACK")
        assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
