"""PREDICT composes like a query (issue 10, item 5): in FROM, in a CTE, with ORDER BY / LIMIT, in
CREATE TABLE ... AS and INSERT INTO ... SELECT."""

from __future__ import annotations

import pytest

import paqdb
from paqdb import errors

_TRAIN_BRIEFLY = "USING SEARCH (families => ['logistic'], budget => '1 trials')"


@pytest.fixture
def scored(con: paqdb.Connection) -> paqdb.Connection:
    con.execute(f"CREATE MODEL m PREDICT species FROM iris_train {_TRAIN_BRIEFLY}")
    return con


def _statement_rows(con: paqdb.Connection) -> list[tuple[object, ...]]:
    return con.execute("PREDICT species FROM iris_test USING MODEL m").fetchall()


def test_predict_in_from(scored: paqdb.Connection) -> None:
    rows = scored.execute(
        "SELECT predicted_species, count(*) AS n FROM (PREDICT species FROM iris_test USING MODEL m) "
        "GROUP BY ALL ORDER BY 1"
    ).fetchall()
    expected: dict[object, int] = {}
    for row in _statement_rows(scored):
        expected[row[-2]] = expected.get(row[-2], 0) + 1
    assert dict(rows) == expected


def test_predict_in_a_cte_and_a_cte_feeding_predict(scored: paqdb.Connection) -> None:
    high = scored.execute(
        "WITH p AS (PREDICT species FROM iris_test USING MODEL m) "
        "SELECT count(*) FROM p WHERE confidence > 0.5"
    ).fetchone()
    assert high is not None and high[0] == sum(1 for r in _statement_rows(scored) if r[-1] > 0.5)
    rows = scored.execute(
        "WITH big AS (SELECT * FROM iris_test WHERE petal_length_cm > 5) "
        "PREDICT species FROM big USING MODEL m"
    ).fetchall()
    assert (
        len(rows) == scored.execute("SELECT count(*) FROM iris_test WHERE petal_length_cm > 5").fetchone()[0]
    )
    assert all(r[2] > 5 for r in rows)


def test_order_by_and_limit_apply_to_the_result(scored: paqdb.Connection) -> None:
    rows = scored.execute(
        "PREDICT species FROM iris_test USING MODEL m ORDER BY confidence DESC LIMIT 3"
    ).fetchall()
    best = sorted((r[-1] for r in _statement_rows(scored)), reverse=True)[:3]
    assert [r[-1] for r in rows] == best
    trained = scored.execute(
        f"PREDICT species FROM iris_test GIVEN iris_train {_TRAIN_BRIEFLY} ORDER BY sepal_length_cm LIMIT 2"
    ).fetchall()
    assert len(trained) == 2 and trained[0][0] <= trained[1][0]


def test_create_table_as_and_insert_from_predict(scored: paqdb.Connection) -> None:
    scored.execute("CREATE TABLE kept AS PREDICT species FROM iris_test USING MODEL m")
    expected = _statement_rows(scored)
    assert scored.execute("SELECT * FROM kept").fetchall() == expected
    scored.execute("INSERT INTO kept PREDICT species FROM iris_test USING MODEL m LIMIT 2")
    scored.execute(
        f"INSERT INTO kept SELECT * FROM (PREDICT species FROM iris_test GIVEN iris_train {_TRAIN_BRIEFLY})"
    )
    assert scored.execute("SELECT count(*) FROM kept").fetchone() == (2 * len(expected) + 2,)
    # The one-off scoring function of the inline training is gone after the statement.
    functions = scored.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name LIKE 'paqdb_score_tmp_%'"
    ).fetchone()
    assert functions == (0,)


def test_composed_errors_point_at_the_inner_statement(scored: paqdb.Connection) -> None:
    with pytest.raises(errors.UndefinedModelError) as unknown:
        scored.execute("SELECT * FROM (PREDICT species FROM iris_test USING MODEL ghost)")
    assert (unknown.value.line, unknown.value.column) == (1, 59)
    with pytest.raises(errors.NotSupportedError, match=r"only one PREDICT \.\.\. GIVEN"):
        scored.execute(
            f"SELECT * FROM (PREDICT species FROM iris_test GIVEN iris_train {_TRAIN_BRIEFLY}) "
            f"UNION ALL SELECT * FROM (PREDICT species FROM iris_test GIVEN iris_train {_TRAIN_BRIEFLY})"
        )


def test_a_column_called_predict_stays_plain_sql(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE t (predict INTEGER, x INTEGER)")
    con.execute("INSERT INTO t VALUES (1, 2)")
    assert con.execute("SELECT predict x FROM t").fetchall() == [(1,)]
