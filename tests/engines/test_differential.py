"""Plain SQL through paqdb gives exactly what DuckDB's own Python API gives: values, Python types, errors.

Every statement below (written here, not taken from elsewhere) runs side by side on a plain
``duckdb.connect()`` and on ``paqdb.connect(autocommit=True)``, after the same setup. For each one the
description, ``fetchone``/``fetchmany``/``fetchall`` and ``rowcount`` must agree: values compared with
their Python types, recursively (NaN equals NaN, -0.0 differs from 0.0). A statement that fails in
DuckDB must fail in paqdb, at the same step, with a ``paqdb.Error``; one that works in DuckDB must work
in paqdb. The shell's renderers must show every result without failing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

import paqdb
from paqdb.cli.render import OUTPUT_MODES, render_text
from paqdb.engines.duckdb import DuckDBResult

SETUP = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR, feeling mood, score DECIMAL(10, 2))",
    "INSERT INTO people VALUES (1, 'ada', 'happy', 9.5), (2, 'grace', 'ok', 7.25), (3, 'edsger', "
    "'sad', NULL)",
    "CREATE TABLE sales (city VARCHAR, year INTEGER, amount INTEGER)",
    "INSERT INTO sales VALUES ('Oslo', 2020, 10), ('Oslo', 2021, 20), ('Paris', 2020, 5), "
    "('Paris', 2021, 7), ('Paris', 2021, 8)",
]

VALUES = {
    # integers at their limits
    "tinyint": "SELECT (-128)::TINYINT, 127::TINYINT, NULL::TINYINT",
    "smallint": "SELECT (-32768)::SMALLINT, 32767::SMALLINT",
    "integer": "SELECT (-2147483648)::INTEGER, 2147483647::INTEGER",
    "bigint": "SELECT (-9223372036854775808)::BIGINT, 9223372036854775807::BIGINT",
    "hugeint": "SELECT (-170141183460469231731687303715884105728)::HUGEINT, "
    "170141183460469231731687303715884105727::HUGEINT, 0::HUGEINT",
    "unsigned": "SELECT 255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, 18446744073709551615::UBIGINT",
    "uhugeint": "SELECT 340282366920938463463374607431768211455::UHUGEINT, 0::UHUGEINT, 1::UHUGEINT",
    # decimals of every storage width
    "decimal": "SELECT 1.5::DECIMAL(4, 1), (-99.99)::DECIMAL(4, 2), 1234567.89::DECIMAL(9, 2), "
    "(-123456789012.345678)::DECIMAL(18, 6), 0.001::DECIMAL(3, 3), (-0.0)::DECIMAL(5, 2)",
    "decimal 38": "SELECT 9999999999999999999999999999.9999999999::DECIMAL(38, 10), "
    "(-99999999999999999999999999999999999999)::DECIMAL(38, 0)",
    # floating point specials
    "double": "SELECT 'inf'::DOUBLE, '-inf'::DOUBLE, 'nan'::DOUBLE, (-0.0)::DOUBLE, "
    "1.7976931348623157e308::DOUBLE, 5e-324::DOUBLE",
    "float": "SELECT 'inf'::FLOAT, 'nan'::FLOAT, (-0.0)::FLOAT, 3.4028235e38::FLOAT, 1.1754944e-38::FLOAT",
    "boolean": "SELECT true, false, NULL::BOOLEAN",
    # dates and timestamps: ordinary, infinite, BC, past year 9999
    "date": "SELECT DATE '0001-01-01', DATE '9999-12-31', DATE '2024-02-29'",
    "date infinity": "SELECT 'infinity'::DATE, '-infinity'::DATE",
    "date far": "SELECT '10000-01-01'::DATE, '0044-03-15 (BC)'::DATE, '5877642-06-25 (BC)'::DATE, "
    "'5881580-07-10'::DATE",
    "timestamp": "SELECT TIMESTAMP '2020-01-01 12:34:56.789012', 'infinity'::TIMESTAMP, "
    "'-infinity'::TIMESTAMP",
    "timestamp far": "SELECT '10000-01-01 00:00:00'::TIMESTAMP, '0044-03-15 (BC) 10:00:00'::TIMESTAMP, "
    "'294247-01-10 04:00:54.775806'::TIMESTAMP",
    "timestamp ns": "SELECT '2020-01-01 01:02:03.123456789'::TIMESTAMP_NS, "
    "'1677-09-22 00:00:00'::TIMESTAMP_NS, "
    "'infinity'::TIMESTAMP_NS",
    "timestamp ms s": "SELECT '2020-01-01 01:02:03.123'::TIMESTAMP_MS, '2020-01-01 01:02:03'::TIMESTAMP_S, "
    "'10000-01-01'::TIMESTAMP_S, 'infinity'::TIMESTAMP_MS",
    "timestamptz": "SELECT '2020-01-01 01:02:03+02'::TIMESTAMPTZ, 'infinity'::TIMESTAMPTZ, "
    "'-infinity'::TIMESTAMPTZ, '9999-12-31 23:59:59.999999+00'::TIMESTAMPTZ",
    "timestamptz far": "SELECT '10000-01-01 00:00:00+00'::TIMESTAMPTZ, "
    "'0044-03-15 (BC) 00:00:00+00'::TIMESTAMPTZ",
    "time": "SELECT TIME '00:00:00', TIME '23:59:59.999999', '24:00:00'::TIME",
    "time ns": "SELECT '12:00:00.123456789'::TIME_NS",
    "timetz": "SELECT '02:30:00+04'::TIMETZ, '23:59:59-15:59'::TIMETZ, '00:00:00+15:59'::TIMETZ, "
    "'24:00:00+00'::TIMETZ",
    "interval": "SELECT INTERVAL 1 MONTH, INTERVAL '-1 day', INTERVAL '1 microsecond', "
    "INTERVAL '2562047788 hours', INTERVAL '99999999 days', INTERVAL '-999999 years'",
    "interval mixed": "SELECT INTERVAL '1 year 2 months 3 days 04:05:06.789', INTERVAL '-1 month 1 day'",
    # other scalar types
    "uuid": "SELECT '00000000-0000-0000-0000-000000000000'::UUID, "
    "'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID, "
    "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID",
    "blob": "SELECT ''::BLOB, '\\x00\\xFF'::BLOB, 'abc'::BLOB",
    "bit": "SELECT '0'::BIT, '10101'::BIT, repeat('10', 50)::BIT",
    "varchar": "SELECT '', 'ü漢字🦆', 'a' || chr(0) || 'b', repeat('x', 100000), 'quote''s'",
    "enum": "SELECT 'ok'::mood, 'x'::ENUM('x', 'y'), feeling FROM people ORDER BY id",
    "json": "SELECT '{\"a\": [1, 2]}'::JSON, 'null'::JSON, '\"text\"'::JSON",
    # nested types
    "list": "SELECT [1, NULL, 3], []::INTEGER[], [[1], [2, 3]], ['a', NULL], [{'a': 1}], "
    "[1.5::DECIMAL(3, 1)]",
    "struct": "SELECT {'a': 1, 'b': [1, 2]}, {'a': NULL}, {'x': {'y': DATE '2020-01-01'}}, "
    "NULL::STRUCT(a INT)",
    "unnamed struct": "SELECT row(1, 'a'), row(NULL, [1]), (1, 2)",
    "map": "SELECT MAP {'a': 1, 'b': 2}, MAP {1: NULL}, map([], [])::MAP(INTEGER, INTEGER)",
    "map list keys": "SELECT map([[1, 2], [3]], ['a', 'b']), MAP {[1]: {'s': 1}}",
    "array": "SELECT [1, 2, 3]::INTEGER[3], [[1, 2], [3, 4]]::INTEGER[2][2], ['a', 'b']::VARCHAR[2]",
    "union": "SELECT union_value(k := 'x')::UNION(k VARCHAR, n INTEGER), "
    "union_value(n := 5)::UNION(k VARCHAR, n INTEGER)",
    "variant": "SELECT 1::VARIANT, 'x'::VARIANT, [1, 2]::VARIANT, {'a': 1}::VARIANT, NULL::VARIANT, "
    "1.5::VARIANT, DATE '2020-01-01'::VARIANT",
    "bignum": "SELECT 12345678901234567890123456789012345678901234567890::BIGNUM, (-1)::BIGNUM",
    "nulls": "SELECT NULL::HUGEINT, NULL::UHUGEINT, NULL::TIMETZ, NULL::INTERVAL, NULL::UUID, "
    "NULL::MAP(INT, INT), "
    "NULL::INTEGER[2], NULL::BIT, NULL::VARIANT",
    # aggregates, windows, pivots
    "sum int": "SELECT sum(x) FROM range(5) r(x)",
    "aggregates": "SELECT sum(x), sum(x::DOUBLE), avg(x), count(*), min(x), max(x), list(x ORDER BY x), "
    "string_agg(x::VARCHAR, ',' ORDER BY x), bit_and(x), histogram(x % 3), arg_max(x, -x), stddev_samp(x) "
    "FROM range(10) r(x)",
    "sum decimal": "SELECT sum(score), avg(score), sum(id::HUGEINT), sum(id::UBIGINT) FROM people",
    "group by": "SELECT city, sum(amount), count(*), "
    "list(year ORDER BY year) FROM sales GROUP BY city ORDER BY city",
    "window": "SELECT x, sum(x) OVER (ORDER BY x), row_number() OVER (), lag(x) OVER (ORDER BY x), "
    "avg(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), ntile(2) OVER (ORDER BY x) "
    "FROM range(6) r(x) ORDER BY x",
    "window partition": "SELECT city, year, sum(amount) OVER (PARTITION BY city ORDER BY year) FROM sales "
    "ORDER BY city, year, amount",
    "pivot": "PIVOT sales ON year USING sum(amount) GROUP BY city ORDER BY city",
    "pivot select": "SELECT * FROM (PIVOT sales ON city USING sum(amount), count(*)) ORDER BY year",
    "unpivot": "UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b INTO NAME k VALUE v",
    "many rows": "SELECT x, x::VARCHAR, x * 1.5, DATE '2020-01-01' + x::INTEGER FROM range(5000) r(x)",
    "empty": "SELECT 1 AS a WHERE false",
    "describe": "DESCRIBE people",
    "show": "SHOW TABLES",
    "summarize": "SUMMARIZE people",
    "set": "SET threads = 2",
    "values": "VALUES (1, 'a'), (2, 'b')",
}

ERRORS = {
    "interval overflow": "SELECT INTERVAL '-999999999 years'",
    # DuckDB's Python API raises OverflowError for intervals past timedelta's range: paqdb a paqdb.Error
    "interval past timedelta": "SELECT INTERVAL '178000000 years'",
    "interval days past timedelta": "SELECT INTERVAL 1 DAY, INTERVAL '-2147483647 days'",
    "error late": "SELECT CASE WHEN x = 3000000 THEN error('boom') ELSE x END FROM range(5000000) r(x)",
    "error function": "SELECT error('boom')",
    "bad cast": "SELECT 'abc'::INTEGER",
    "overflow": "SELECT 2147483647::INTEGER + 1",
    "missing table": "SELECT * FROM no_such_table",
    "syntax": "SELEC 1",
    "division": "SELECT 1 // 0",
}

DML = [
    "INSERT INTO people VALUES (4, 'barbara', 'ok', 1.00), (5, 'alan', NULL, 2.50)",
    "INSERT INTO people VALUES (6, 'x', NULL, NULL), (7, 'y', NULL, NULL) RETURNING id AS \"Count\"",
    "INSERT INTO people VALUES (8, 'z', 'sad', 3) RETURNING *",
    "UPDATE people SET score = score + 1 WHERE id > 3",
    "UPDATE people SET name = upper(name) WHERE id > 5 RETURNING name, score",
    "DELETE FROM people WHERE id = 8 RETURNING *",
    "DELETE FROM people WHERE id > 5",
    "DELETE FROM people WHERE id > 100",
    "INSERT INTO people SELECT 10 + x, 'n' || x, NULL, x FROM range(3) r(x)",
    "INSERT INTO people VALUES (1, 'dup', NULL, NULL)",
]


# -- comparison -----------------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """``a`` and ``b`` are the same value of the same Python type, compared recursively."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return bool(a == b) and repr(a) == repr(b)  # repr: a time's offset, a Decimal's digits


def duck_steps(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, Any]]:
    """What DuckDB's API gives for ``sql``: each step's outcome, or ``"raises"`` for the step that failed."""
    steps: list[tuple[str, Any]] = []

    def step(name: str, action: Callable[[], Any]) -> bool:
        try:
            steps.append((name, action()))
        except (duckdb.Error, OverflowError, TypeError, ValueError):  # its conversion raises these too
            steps.append((name, "raises"))
            return False
        return True

    if not step("execute", lambda: con.execute(sql) and None):
        return steps
    description = con.description
    steps.append(("description", None if description is None else [(d[0], str(d[1])) for d in description]))
    if description is not None and con.rowcount < 0:
        _ = step("fetchone", con.fetchone) and step("fetchmany", lambda: con.fetchmany(2))
        _ = _ and step("fetchall", con.fetchall)
    else:
        steps.append(("rowcount", con.rowcount))
        con.fetchall()
    return steps


def paqdb_steps(cursor: Any, sql: str, duck: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The same steps through a paqdb cursor; every exception must be a paqdb.Error."""
    steps: list[tuple[str, Any]] = []

    def step(name: str, action: Callable[[], Any]) -> bool:
        try:
            steps.append((name, action()))
        except paqdb.Error:
            steps.append((name, "raises"))
            return False
        return True

    if not step("execute", lambda: cursor.execute(sql) and None):
        return steps
    duck_description = dict(duck).get("description")
    if cursor.description is None and duck_description is not None and dict(duck).get("rowcount", -1) >= 0:
        # DML without RETURNING: PEP 249 wants the count as rowcount and no result set
        steps.append(("description", duck_description))
        steps.append(("rowcount", cursor.rowcount))
        return steps
    description = cursor.description
    steps.append(("description", None if description is None else [(d[0], str(d[1])) for d in description]))
    if description is not None:
        _ = step("fetchone", cursor.fetchone) and step("fetchmany", lambda: cursor.fetchmany(2))
        _ = _ and step("fetchall", cursor.fetchall)
    else:
        steps.append(("rowcount", cursor.rowcount))
    return steps


def assert_same_steps(duck: list[tuple[str, Any]], paq: list[tuple[str, Any]], sql: str) -> None:
    assert [name for name, _ in paq] == [name for name, _ in duck], f"{sql}: {paq} vs {duck}"
    for (name, expected), (_, got) in zip(duck, paq, strict=True):
        assert same(got, expected), f"{sql}: {name} differs:\n paqdb:  {got!r}\n duckdb: {expected!r}"


@pytest.fixture
def pair() -> Any:
    duck = duckdb.connect()
    con = paqdb.connect(autocommit=True)
    for statement in SETUP:
        duck.execute(statement)
        con.execute(statement)
    yield duck, con
    duck.close()
    con.close()


# -- values ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sql", list(VALUES.values()), ids=list(VALUES))
def test_values_and_types_are_duckdbs(pair: Any, sql: str) -> None:
    duck, con = pair
    expected = duck_steps(duck, sql)
    assert_same_steps(expected, paqdb_steps(con.cursor(), sql, expected), sql)


@pytest.mark.parametrize("sql", list(ERRORS.values()), ids=list(ERRORS))
def test_paqdb_raises_a_paqdb_error_exactly_where_duckdb_raises(pair: Any, sql: str) -> None:
    duck, con = pair
    expected = duck_steps(duck, sql)
    assert "raises" in [outcome for _, outcome in expected], "the statement must fail in DuckDB"
    assert_same_steps(expected, paqdb_steps(con.cursor(), sql, expected), sql)


def test_dml_counts_and_returning_rows_are_duckdbs(pair: Any) -> None:
    duck, con = pair
    cursor = con.cursor()
    for sql in DML:
        expected = duck_steps(duck, sql)
        assert_same_steps(expected, paqdb_steps(cursor, sql, expected), sql)
    final = "SELECT * FROM people ORDER BY id"
    assert same(con.execute(final).fetchall(), duck.execute(final).fetchall())


def test_returning_a_column_called_count_keeps_its_rows(pair: Any) -> None:
    _, con = pair
    cursor = con.execute(
        "INSERT INTO people VALUES (20, 'a', NULL, NULL), (21, 'b', NULL, NULL) RETURNING id AS \"Count\""
    )
    assert cursor.description is not None and cursor.description[0][0] == "Count"
    assert cursor.fetchall() == [(20,), (21,)]
    assert cursor.rowcount == -1, "a RETURNING result is rows, not a count"
    cursor.execute("INSERT INTO people VALUES (22, 'c', NULL, NULL), (23, 'd', NULL, NULL)")
    assert cursor.description is None and cursor.rowcount == 2


@pytest.mark.parametrize("sql", [VALUES[k] for k in ("many rows", "uhugeint", "timetz", "sum int")])
def test_a_result_survives_statements_on_other_cursors(pair: Any, sql: str) -> None:
    duck, con = pair
    expected = duck.execute(sql).fetchall()
    first = con.cursor().execute(sql)
    head = first.fetchmany(3)
    other = con.cursor()
    other.execute("SELECT 42")  # DuckDB drops an unread result; paqdb reads it into Python first
    con.execute("CREATE TABLE IF NOT EXISTS elsewhere (a INTEGER)")
    assert other.fetchall() == [(42,)]
    assert same(head + first.fetchall(), expected)


def test_an_unread_result_of_a_dropped_cursor_is_let_go(pair: Any) -> None:
    _, con = pair
    for _ in range(3):
        con.execute("SELECT * FROM range(10000000)")  # never fetched: the next statement cancels it
    assert con.execute("SELECT count(*) FROM people").fetchone() == (3,)


def test_an_unread_returning_result_still_writes(pair: Any) -> None:
    _, con = pair
    con.execute("INSERT INTO people VALUES (30, 'r', NULL, NULL) RETURNING id")
    assert con.execute("SELECT name FROM people WHERE id = 30").fetchall() == [("r",)]


# -- Arrow and pandas -----------------------------------------------------------------------------------


ARROW = ["integer", "hugeint", "decimal", "double", "date", "timestamp ns", "timestamptz", "interval", "list",
         "struct", "map", "array", "enum", "many rows", "aggregates", "pivot", "uuid", "blob"]  # fmt: skip


@pytest.mark.parametrize("key", ARROW)
def test_arrow_and_pandas_are_duckdbs(pair: Any, key: str) -> None:
    duck, con = pair
    sql = VALUES[key]
    expected_table = duck.sql(sql).to_arrow_table()
    got = con.execute(sql).fetch_arrow_table()
    assert isinstance(got, pa.Table) and got.schema.equals(expected_table.schema), sql
    if not got.equals(expected_table):  # Arrow's equality fails on NaN
        assert same(got.to_pylist(), expected_table.to_pylist()), sql
    try:
        expected_frame = duck.sql(sql).df()
    except duckdb.Error:  # DuckDB's pandas conversion refuses some values (months as nanoseconds)
        with pytest.raises(paqdb.Error):
            con.execute(sql).fetch_df()
        return
    frame = con.execute(sql).fetch_df()
    pd.testing.assert_frame_equal(frame, expected_frame)


def test_arrow_after_a_partial_fetch_holds_the_remaining_rows(pair: Any) -> None:
    _, con = pair
    cursor = con.execute("SELECT x FROM range(10) r(x)")
    assert cursor.fetchmany(4) == [(0,), (1,), (2,), (3,)]
    assert cursor.fetch_arrow_table().column(0).to_pylist() == list(range(4, 10))
    assert cursor.fetchall() == []


def test_arrow_after_another_statement_is_built_from_the_rows(pair: Any) -> None:
    _, con = pair
    cursor = con.execute(
        "SELECT x, x::VARCHAR AS s, 340282366920938463463374607431768211455::UHUGEINT AS u FROM range(3) r(x)"
    )
    con.execute("SELECT 1")
    table = cursor.fetch_arrow_table()
    assert table.column_names == ["x", "s", "u"] and table.num_rows == 3
    assert table.column("x").to_pylist() == [0, 1, 2]
    assert table.column("u").to_pylist() == ["340282366920938463463374607431768211455"] * 3  # kept as text
    frame = con.execute("SELECT 1 AS a").fetch_df()
    assert list(frame.columns) == ["a"]


# -- failures while fetching ----------------------------------------------------------------------------


def test_a_conversion_failure_is_a_paqdb_data_error(pair: Any) -> None:
    _, con = pair
    cursor = con.execute("SELECT 1 AS a, DATE '2020-01-01' AS d")
    result = cursor._result.rows
    assert isinstance(result, DuckDBResult)

    def broken() -> Any:
        raise OverflowError("date value out of range")

    with pytest.raises(paqdb.DataError, match=r"a INTEGER, d DATE.*out of range"):
        result._read(broken)
    with pytest.raises(paqdb.DataError):
        cursor.fetchall()  # the failure stays with the result
    assert con.execute("SELECT 2").fetchone() == (2,), "the connection is still usable"


def test_a_failure_while_fetching_is_a_paqdb_error(pair: Any) -> None:
    _, con = pair
    cursor = con.execute(ERRORS["error late"])
    with pytest.raises(paqdb.Error, match="boom"):
        cursor.fetchall()
    assert con.execute("SELECT 3").fetchone() == (3,)


# -- the shell's rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", OUTPUT_MODES)
def test_the_shell_renders_every_value(pair: Any, mode: str) -> None:
    _, con = pair
    session = con.session
    for key, sql in VALUES.items():
        if key in ("set",):
            continue
        try:
            text = render_text(session.execute(sql), mode, max_width=120)
            arrow_text = render_text(session.execute(sql).table, mode, max_width=120)  # Arrow's path too
        except paqdb.Error:  # a value DuckDB cannot convert: the shell reports the error
            continue
        assert isinstance(text, str) and isinstance(arrow_text, str)


def test_the_shell_shows_duckdbs_values() -> None:
    session = paqdb.Session(autocommit=True)
    sql = (
        "SELECT 340282366920938463463374607431768211455::UHUGEINT AS u, '02:30:00+04'::TIMETZ AS tz, "
        "'24:00:00'::TIME AS t, sum(1) AS s"
    )
    text = render_text(session.execute(sql), "csv")
    assert text == "u,tz,t,s\n340282366920938463463374607431768211455,02:30:00+04:00,24:00:00,1\n"
    session.close()


def test_the_box_of_a_long_result_shows_its_first_and_last_rows() -> None:
    session = paqdb.Session(autocommit=True)
    text = render_text(session.execute("SELECT range AS i FROM range(1000)"), "box", max_rows=6)
    body = [line.strip("│ ") for line in text.splitlines() if line.startswith("│")][2:]
    assert body == ["0", "1", "2", "·", "997", "998", "999"]
    assert text.endswith("(1000 rows, 6 shown)\n")
    short = render_text(session.execute("SELECT range AS i FROM range(3)"), "box", max_rows=6)
    assert short.endswith("(3 rows)\n") and "·" not in short
    session.close()
