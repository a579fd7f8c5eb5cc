"""connect() and Session take the engine as a parameter (issue 9, item 1)."""

from __future__ import annotations

import pytest

import paqdb
from paqdb.engines.duckdb import DuckDBEngine
from paqdb.session import ENGINES, Session


def test_connect_takes_an_engine_object_and_runs_everything_on_it(tmp_path: object) -> None:
    engine = DuckDBEngine(":memory:")
    with paqdb.connect(engine=engine, autocommit=True) as con:
        assert con.session.engine is engine
        con.execute("LOAD DATASET iris")
        con.execute("CREATE MODEL m PREDICT species FROM iris USING SEARCH (budget => '1 trials')")
        assert con.execute(
            "SELECT count(*) FROM iris WHERE PREDICT(species USING MODEL m) IS NOT NULL"
        ).fetchone() == (150,)
        # The catalog lives where the engine put it.
        assert engine.query_arrow("SELECT count(*) AS n FROM paqdb.models").column(0)[0].as_py() == 1


def test_an_engine_by_name() -> None:
    assert ENGINES == ("duckdb",)
    with Session(engine="DuckDB") as session:
        assert isinstance(session.engine, DuckDBEngine)
        assert session.execute("SELECT 41 + 1 AS x").rows is not None


def test_an_unknown_engine_says_which_exist() -> None:
    with pytest.raises(paqdb.NotSupportedError, match="no engine called 'oracle'") as caught:
        paqdb.connect(engine="oracle")
    assert caught.value.hint and "duckdb" in caught.value.hint
