"""Python data in and out (issue 10, item 8).

DataFrames and Arrow objects in the caller's scope read as tables, as DuckDB's replacement scans read
them (``SELECT * FROM df``, ``CREATE TABLE t AS SELECT * FROM df``, ``PREDICT y FROM df USING MODEL m``);
``register`` / ``unregister``; results as pandas, Polars, Arrow tables and Arrow batch readers, which
never pass through Python values.
"""

# ruff: noqa: F841 - the frames these tests assign are read by the SQL that names them

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

import paqdb
from paqdb.engines.duckdb import DuckDBResult

#: a module global: found when no local of the calling function has its name
module_frame = pd.DataFrame({"g": [1, 2, 3]})
shadowed = pd.DataFrame({"where": ["global"]})


@pytest.fixture
def con(tmp_path: Path) -> Iterator[paqdb.Connection]:
    """A connection with auto-commit off (PEP 249's default), so transactions are real."""
    connection = paqdb.connect(str(tmp_path / "python_data.duckdb"))
    yield connection
    with contextlib.suppress(paqdb.Error):
        connection.close()


def _labeled(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "z": rng.normal(size=n), "y": np.where(x > 0, "pos", "neg")})


# -- replacement scans ---------------------------------------------------------------------------------


def test_a_local_pandas_frame_reads_as_a_table(con: paqdb.Connection) -> None:
    people = pd.DataFrame({"name": ["ada", "bo"], "age": [36, 41]})
    assert con.execute("SELECT name FROM people WHERE age > 40").fetchall() == [("bo",)]
    cursor = con.cursor()
    assert cursor.execute("SELECT sum(age) FROM people").fetchone() == (77,)


def test_globals_are_seen_and_locals_win(con: paqdb.Connection) -> None:
    assert con.execute("SELECT sum(g) FROM module_frame").fetchone() == (6,)
    assert con.execute("SELECT * FROM shadowed").fetchall() == [("global",)]
    shadowed = pd.DataFrame({"where": ["local"]})
    assert con.execute("SELECT * FROM shadowed").fetchall() == [("local",)]


def test_polars_and_arrow_objects_read_as_tables(con: paqdb.Connection, tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": [1, 2, 3]})
    lazy = frame.lazy()
    arrow_table = pa.table({"a": [4, 5]})
    batch = pa.record_batch({"a": [6]})
    reader = pa.table({"a": [7, 8]}).to_reader()
    dataset = ds.dataset(pa.table({"a": [9]}))
    for name, expected in [
        ("frame", 6),
        ("lazy", 6),
        ("arrow_table", 9),
        ("batch", 6),
        ("reader", 15),
        ("dataset", 9),
    ]:
        assert con.execute(f"SELECT sum(a) FROM {name}").fetchone() == (expected,), name


def test_create_table_as_from_a_frame_follows_the_transaction(con: paqdb.Connection) -> None:
    frame = pd.DataFrame({"k": [1, 2, 3], "v": ["a", "b", "c"]})
    con.execute("CREATE TABLE copied AS SELECT * FROM frame")
    assert con.execute("SELECT count(*) FROM copied").fetchone() == (3,)
    con.rollback()
    with pytest.raises(paqdb.ProgrammingError, match="copied"):
        con.execute("SELECT * FROM copied")
    con.rollback()
    con.execute("CREATE TABLE copied AS SELECT * FROM frame")  # the frame reads after a rollback too
    con.commit()
    assert con.execute("SELECT v FROM copied ORDER BY k").fetchall() == [("a",), ("b",), ("c",)]
    frame.loc[0, "v"] = "changed"  # the table holds a copy; the frame is read only when named
    assert con.execute("SELECT v FROM copied WHERE k = 1").fetchone() == ("a",)
    assert con.execute("SELECT v FROM frame WHERE k = 1").fetchone() == ("changed",)


def test_a_table_wins_over_a_frame_of_the_same_name(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE people AS SELECT 'table' AS source")
    people = pd.DataFrame({"source": ["frame"]})
    assert con.execute("SELECT source FROM people").fetchall() == [("table",)]
    con.execute("DROP TABLE people")
    assert con.execute("SELECT source FROM people").fetchall() == [("frame",)]
    assert people is not None


def test_names_that_are_not_tables_fail_as_before(con: paqdb.Connection) -> None:
    with pytest.raises(paqdb.ProgrammingError, match="nowhere"):
        con.execute("SELECT * FROM nowhere")
    con.rollback()
    number = 42
    with pytest.raises(paqdb.Error, match="number"):
        con.execute("SELECT * FROM number")
    assert number == 42


def test_parameters_and_executemany_with_a_frame(con: paqdb.Connection) -> None:
    source = pd.DataFrame({"k": [1, 2, 3]})
    con.execute("CREATE TABLE picked (k INTEGER)")
    con.executemany("INSERT INTO picked SELECT k FROM source WHERE k = ?", [[1], [3]])
    assert con.execute("SELECT k FROM picked ORDER BY k").fetchall() == [(1,), (3,)]
    assert con.execute("SELECT count(*) FROM source WHERE k > $low", {"low": 1}).fetchone() == (2,)


# -- paqdb statements over frames ----------------------------------------------------------------------


def test_predict_reads_frames_in_every_form(con: paqdb.Connection) -> None:
    labeled = _labeled()
    new_rows = pl.DataFrame({"x": [-2.0, 2.0], "z": [0.0, 0.0]})
    search = "USING SEARCH (families => ['logistic'], budget => '2 trials', seed => 1)"
    con.execute(f"CREATE MODEL m PREDICT y FROM labeled {search}")
    scored = con.execute("PREDICT y FROM new_rows USING MODEL m").fetch_arrow_table()
    assert scored.column("predicted_y").to_pylist() == ["neg", "pos"]
    assert con.execute("SELECT x, PREDICT(y USING MODEL m) AS p FROM new_rows ORDER BY x").fetchall() == [
        (-2.0, "neg"),
        (2.0, "pos"),
    ]
    given = con.execute(f"PREDICT y FROM new_rows GIVEN labeled {search}").fetchall()
    assert [row[2] for row in given] == ["neg", "pos"]
    plan = [row[0] for row in con.execute("EXPLAIN PREDICT y FROM new_rows USING MODEL m").fetchall()]
    assert any("relation=new_rows" in line for line in plan)


def test_predict_from_a_name_that_is_also_a_table_reads_the_table(con: paqdb.Connection) -> None:
    labeled = _labeled()
    con.execute(
        "CREATE MODEL m PREDICT y FROM labeled USING SEARCH (families => ['logistic'], budget => '2 trials')"
    )
    con.execute("CREATE TABLE new_rows AS SELECT -3.0 AS x, 0.0 AS z")
    new_rows = pd.DataFrame({"x": [3.0, 4.0], "z": [0.0, 0.0]})
    assert con.execute("PREDICT y FROM new_rows USING MODEL m").fetchall()[0][:3] == (-3.0, 0.0, "neg")
    assert len(new_rows) == 2


def test_predict_from_an_unknown_name_still_says_where(con: paqdb.Connection) -> None:
    labeled = _labeled()
    con.execute(
        "CREATE MODEL m PREDICT y FROM labeled USING SEARCH (families => ['logistic'], budget => '2 trials')"
    )
    with pytest.raises(paqdb.errors.UndefinedTableError) as raised:
        con.execute("PREDICT y FROM missing_frame USING MODEL m")
    assert (raised.value.line, raised.value.column) == (1, 16)
    not_a_frame = [1, 2]
    con.rollback()
    with pytest.raises(paqdb.errors.UndefinedTableError):
        con.execute("PREDICT y FROM not_a_frame USING MODEL m")
    assert not_a_frame


# -- register / unregister -----------------------------------------------------------------------------


def test_register_and_unregister(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE t AS SELECT 'table' AS source")
    assert con.register("t", pl.DataFrame({"source": ["registered"]})) is con
    assert con.execute("SELECT source FROM t").fetchall() == [("registered",)]  # as in DuckDB: a temp view
    con.unregister("t")
    assert con.execute("SELECT source FROM t").fetchall() == [("table",)]
    con.unregister("t")  # nothing registered: no error
    con.register("arrow_data", pa.table({"a": [1, 2]}))
    assert con.cursor().execute("SELECT sum(a) FROM arrow_data").fetchone() == (3,)


def test_register_refuses_what_is_not_a_table(con: paqdb.Connection) -> None:
    with pytest.raises(paqdb.ProgrammingError, match="cannot register a list as 'rows'") as raised:
        con.register("rows", [1, 2, 3])
    assert raised.value.hint is not None and "DataFrame" in raised.value.hint


def test_registrations_survive_a_rollback(con: paqdb.Connection) -> None:
    con.execute("SELECT 1")  # a transaction is open (auto-commit is off)
    con.register("kept", pd.DataFrame({"a": [1]}))
    con.rollback()
    assert con.execute("SELECT a FROM kept").fetchall() == [(1,)]
    con.unregister("kept")  # inside the transaction the SELECT opened
    con.rollback()
    with pytest.raises(paqdb.ProgrammingError, match="kept"):
        con.execute("SELECT a FROM kept")  # a rollback does not bring it back either
    con.rollback()


def test_register_in_an_aborted_transaction_takes_effect_after_the_rollback(con: paqdb.Connection) -> None:
    with pytest.raises(paqdb.Error):
        con.execute("SELECT 1 / 'x'")
    con.register("late", pa.table({"a": [5]}))
    with pytest.raises(paqdb.errors.InFailedTransactionError):
        con.execute("SELECT * FROM late")
    con.rollback()
    assert con.execute("SELECT a FROM late").fetchall() == [(5,)]


def test_predict_from_a_registered_frame(con: paqdb.Connection) -> None:
    con.register("training", _labeled())
    con.execute(
        "CREATE MODEL m PREDICT y FROM training USING SEARCH (families => ['logistic'], budget => '2 trials')"
    )
    con.register("scoring", pa.table({"x": [-2.0], "z": [0.0]}))
    assert con.execute("PREDICT y FROM scoring USING MODEL m").fetchone()[:3] == (-2.0, 0.0, "neg")


# -- results -------------------------------------------------------------------------------------------

QUERY = "SELECT range AS n, range::VARCHAR AS s, range / 2 AS h FROM range(10)"


def test_results_as_pandas_polars_and_arrow(con: paqdb.Connection) -> None:
    frame = con.execute(QUERY).fetch_df()
    assert isinstance(frame, pd.DataFrame) and frame["n"].tolist() == list(range(10))
    table = con.execute(QUERY).fetch_arrow_table()
    assert table.schema.names == ["n", "s", "h"] and table.column("s").to_pylist()[3] == "3"
    polars_frame = con.execute(QUERY).fetch_polars()
    assert isinstance(polars_frame, pl.DataFrame)
    assert polars_frame.schema == pl.Schema({"n": pl.Int64, "s": pl.String, "h": pl.Float64})
    assert polars_frame.equals(pl.from_arrow(table))
    assert con.execute(QUERY).pl().equals(polars_frame)
    rest = con.execute(QUERY)
    assert rest.fetchmany(4)[-1][0] == 3
    assert rest.fetch_polars()["n"].to_list() == list(range(4, 10))  # the remaining rows


def test_a_record_batch_reader_yields_batches_of_the_size_asked(con: paqdb.Connection) -> None:
    reader = con.execute("SELECT range AS n FROM range(25000)").fetch_record_batch(10_000)
    assert isinstance(reader, pa.RecordBatchReader)
    assert reader.schema == pa.schema([("n", pa.int64())])
    sizes = [batch.num_rows for batch in reader]
    assert sum(sizes) == 25000 and max(sizes) <= 10_000 and len(sizes) >= 3
    assert con.execute("SELECT 1").fetchone() == (1,)  # the connection is free again


def test_a_reader_keeps_its_batches_when_another_statement_runs(con: paqdb.Connection) -> None:
    reader = con.execute("SELECT range AS n FROM range(1000)").fetch_record_batch(100)
    first = reader.read_next_batch()
    assert con.execute("SELECT 42").fetchone() == (42,)
    rest = reader.read_all()
    assert first.num_rows + rest.num_rows == 1000
    assert rest.column("n").to_pylist()[-1] == 999


def test_a_dropped_reader_frees_the_connection(con: paqdb.Connection) -> None:
    reader = con.execute("SELECT range AS n FROM range(1000)").fetch_record_batch(100)
    reader.read_next_batch()
    del reader
    gc.collect()
    assert con.execute("SELECT 7").fetchone() == (7,)
    assert con.session.aborted_by is None


def test_a_reader_after_some_rows_gives_the_rest(con: paqdb.Connection) -> None:
    cursor = con.execute("SELECT range AS n FROM range(5)")
    assert cursor.fetchone() == (0,)
    assert cursor.fetch_record_batch(2).read_all().column("n").to_pylist() == [1, 2, 3, 4]
    assert cursor.fetchall() == []


def test_a_reader_over_a_result_paqdb_built(con: paqdb.Connection) -> None:
    reader = con.execute("EXPLAIN SELECT 1").fetch_record_batch(1)
    assert isinstance(reader, pa.RecordBatchReader) and reader.read_all().num_rows >= 1
    reader = con.execute("SHOW MODELS").fetch_record_batch(5)
    assert reader.read_all().num_rows == 0


def test_a_failing_query_fails_with_a_paqdb_error_when_read(con: paqdb.Connection) -> None:
    with pytest.raises(paqdb.ProgrammingError, match="boom"):
        con.execute(
            "SELECT CASE WHEN range < 5 THEN 1 ELSE error('boom') END FROM range(10000)"
        ).fetch_record_batch(10)
    assert con.session.aborted_by is not None  # as any error inside a transaction
    con.rollback()


def test_rows_per_batch_must_be_positive(con: paqdb.Connection) -> None:
    with pytest.raises(paqdb.ProgrammingError, match="rows_per_batch"):
        con.execute("SELECT 1").fetch_record_batch(0)


def test_arrow_results_never_pass_through_python_values(
    con: paqdb.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("rows were converted to Python values")

    monkeypatch.setattr(DuckDBResult, "fetchmany", refuse)
    monkeypatch.setattr(DuckDBResult, "_materialise", refuse)
    frame = pd.DataFrame({"a": np.arange(100_000)})
    assert con.execute("SELECT * FROM frame").fetch_arrow_table().num_rows == 100_000
    assert con.execute("SELECT * FROM frame").fetch_polars().height == 100_000
    assert con.execute("SELECT * FROM frame").fetch_record_batch(50_000).read_all().num_rows == 100_000
    assert len(con.execute("SELECT * FROM frame").fetch_df()) == 100_000


def test_the_engine_answers_for_frames_only_inside_a_scope(con: paqdb.Connection) -> None:
    engine = con.session.engine
    frame = pd.DataFrame({"a": [1]})
    assert not engine.relation_exists("frame")
    with engine.python_scope({"frame": frame, "number": 3}):
        assert engine.relation_exists("frame")
        assert not engine.relation_exists("frame", python_objects=False)  # creating a table: none there
        assert not engine.relation_exists("number") and not engine.relation_exists("main.frame")
        assert [c.name for c in engine.columns("frame")] == ["a"]
    assert not engine.relation_exists("frame")
