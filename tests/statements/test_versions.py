"""``VERSION n`` wherever a stored model is named: PREDICT ... USING MODEL m VERSION n, the expression
PREDICT(y USING MODEL m VERSION n), DESCRIBE MODEL m VERSION n (issue 10, item 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import paqdb
from paqdb.errors import ParseError, UndefinedModelError
from paqdb.models import ModelStore

_V1 = "USING SEARCH (families => ['logistic'], budget => '1 trials')"
_V2 = "USING SEARCH (families => ['random_forest'], budget => '1 trials', n_estimators => [5])"


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[paqdb.Connection]:
    """Model m: version 1 logistic, version 2 (current) a random forest, both on iris."""
    path = tmp_path_factory.mktemp("versions") / "v.duckdb"
    connection = paqdb.connect(str(path), autocommit=True)
    connection.execute("LOAD DATASET iris")
    connection.execute(f"CREATE MODEL m PREDICT species FROM iris {_V1}")
    connection.execute(f"CREATE OR REPLACE MODEL m PREDICT species FROM iris {_V2}")
    yield connection
    connection.close()


def _expected(con: paqdb.Connection, version: int) -> list[str]:
    """Version ``version``'s predictions on iris, from the model store directly (no SQL)."""
    loaded = con.session.models.load("m", version)
    table = con.execute("SELECT * EXCLUDE (species) FROM iris ORDER BY rowid").fetch_arrow_table()
    prediction, _ = loaded.model.predict_arrow(table)
    return [str(v) for v in prediction.to_pylist()]


def _store(con: paqdb.Connection) -> ModelStore:
    return con.session.models


def test_the_fixture_has_two_versions_of_different_families(con: paqdb.Connection) -> None:
    store = _store(con)
    assert store.versions("m") == [1, 2]
    assert (store.record("m", 1).family, store.record("m").family) == ("logistic", "random_forest")


def test_statement_form_scores_with_the_version_named(con: paqdb.Connection) -> None:
    rows = con.execute(
        "SELECT predicted_species FROM (PREDICT species FROM (SELECT *, rowid AS r FROM iris) "
        "USING MODEL m VERSION 1) ORDER BY r"
    ).fetchall()
    assert [r[0] for r in rows] == _expected(con, 1)


def test_statement_form_version_shows_in_explain(con: paqdb.Connection) -> None:
    lines = [
        r[0] for r in con.execute("EXPLAIN PREDICT species FROM iris USING MODEL m VERSION 1").fetchall()
    ]
    assert any("Model [name=m, version=1, family=logistic]" in line for line in lines)
    current = [r[0] for r in con.execute("EXPLAIN PREDICT species FROM iris USING MODEL m").fetchall()]
    assert any("version=2, family=random_forest" in line for line in current)


def test_expression_form_scores_with_each_version_in_one_query(con: paqdb.Connection) -> None:
    cursor = con.execute(
        "SELECT PREDICT(species USING MODEL m VERSION 1), PREDICT(species USING MODEL m VERSION 2), "
        "PREDICT(species USING MODEL m) FROM iris ORDER BY rowid"
    )
    assert [d[0] for d in cursor.description] == [
        "PREDICT(species USING MODEL m VERSION 1)",
        "PREDICT(species USING MODEL m VERSION 2)",
        "PREDICT(species USING MODEL m)",
    ]
    rows = cursor.fetchall()
    assert [r[0] for r in rows] == _expected(con, 1)
    assert [r[1] for r in rows] == _expected(con, 2)
    assert [r[2] for r in rows] == _expected(con, 2)


def test_describe_model_version_lists_that_versions_trials(con: paqdb.Connection) -> None:
    old = con.execute("DESCRIBE MODEL m VERSION 1").fetch_arrow_table()
    current = con.execute("DESCRIBE MODEL m").fetch_arrow_table()
    assert set(old.column("family").to_pylist()) == {"logistic"}
    assert set(current.column("family").to_pylist()) == {"random_forest"}
    assert con.execute("DESCRIBE MODEL m VERSION 2").fetch_arrow_table().equals(current)


@pytest.mark.parametrize(
    ("sql", "column"),
    [
        ("PREDICT species FROM iris USING MODEL m VERSION 7", 49),
        ("SELECT PREDICT(species USING MODEL m VERSION 7) FROM iris", 46),
        ("DESCRIBE MODEL m VERSION 7", 26),
        ("EXPORT MODEL m VERSION 7 TO 'never_written.paqdb'", 24),
    ],
)
def test_an_unknown_version_points_at_it_and_lists_the_versions(
    con: paqdb.Connection, sql: str, column: int
) -> None:
    with pytest.raises(UndefinedModelError) as caught:
        con.execute(sql)
    error = caught.value
    assert error.message == "model 'm' has no version 7"
    assert (error.line, error.column) == (1, column)
    assert error.hint == "its versions: 1, 2"
    assert not Path("never_written.paqdb").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "PREDICT species FROM iris USING MODEL nope VERSION 1",
        "SELECT PREDICT(species USING MODEL nope VERSION 1) FROM iris",
        "DESCRIBE MODEL nope VERSION 1",
    ],
)
def test_an_unknown_model_with_a_version_points_at_the_name(con: paqdb.Connection, sql: str) -> None:
    with pytest.raises(UndefinedModelError) as caught:
        con.execute(sql)
    assert caught.value.message == "model 'nope' does not exist"
    assert caught.value.column == sql.index("nope") + 1
    assert caught.value.hint == "known models: m"


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("PREDICT species FROM iris USING MODEL m VERSION 0", "versions start at 1"),
        ("PREDICT species FROM iris USING MODEL m VERSION", "expected a version number"),
        ("SELECT PREDICT(species USING MODEL m VERSION two) FROM iris", "expected a version number"),
        ("SELECT PREDICT(species USING MODEL m VERSION 1.5) FROM iris", "expected a version number"),
        ("DESCRIBE MODEL m VERSION -1", "expected a version number"),
    ],
)
def test_a_version_that_is_not_a_positive_integer_is_a_syntax_error(
    con: paqdb.Connection, sql: str, words: str
) -> None:
    with pytest.raises(ParseError) as caught:
        con.execute(sql)
    assert words in caught.value.message
    assert caught.value.column is not None and caught.value.column > sql.index("VERSION")
