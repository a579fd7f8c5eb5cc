"""Scoring functions belong to the connection, and answer for the model the catalog names now
(issue 8, defects 2 and 3)."""

from __future__ import annotations

import pytest

import paqdb

_SEARCH = "USING SEARCH (families => ['logistic'], budget => '2 trials')"


@pytest.fixture
def con(database: str) -> paqdb.Connection:
    connection = paqdb.connect(database)
    connection.execute("LOAD DATASET iris")
    connection.execute(f"CREATE MODEL keep PREDICT species FROM iris {_SEARCH}")
    connection.commit()
    yield connection
    connection.close()


_SCORE = "SELECT PREDICT(species USING MODEL keep) FROM iris ORDER BY sepal_length_cm LIMIT 1"


def test_a_model_still_scores_after_a_rollback(con: paqdb.Connection) -> None:
    first = con.execute(_SCORE).fetchone()
    con.rollback()
    assert con.execute(_SCORE).fetchone() == first
    statement_form = con.execute("PREDICT species FROM iris USING MODEL keep").fetchall()
    assert len(statement_form) == 150


def test_a_model_still_scores_after_an_unrelated_error_rolls_back(con: paqdb.Connection) -> None:
    first = con.execute(_SCORE).fetchone()
    with pytest.raises(paqdb.ProgrammingError):
        con.execute("SELECT * FROM irsi")
    con.rollback()
    assert con.execute(_SCORE).fetchone() == first


def test_the_sql_rollback_keeps_scoring_in_autocommit_mode(database: str) -> None:
    with paqdb.connect(database, autocommit=True) as con:
        con.execute("LOAD DATASET iris")
        con.execute(f"CREATE MODEL keep PREDICT species FROM iris {_SEARCH}")
        con.execute("BEGIN")
        first = con.execute(_SCORE).fetchone()
        con.execute("ROLLBACK")
        assert con.execute(_SCORE).fetchone() == first
        con.execute("BEGIN")
        con.execute(_SCORE)
        con.execute("ROLLBACK")
        assert con.execute(_SCORE).fetchone() == first


def test_a_recreated_model_answers_with_its_own_classes(con: paqdb.Connection) -> None:
    assert con.execute(_SCORE).fetchone() in {("setosa",), ("versicolor",), ("virginica",)}
    con.execute("DROP MODEL keep")
    con.execute(
        "CREATE TABLE ab AS SELECT * EXCLUDE (species), "
        "CASE WHEN species = 'setosa' THEN 'A' ELSE 'B' END AS species FROM iris"
    )
    con.execute(f"CREATE MODEL keep PREDICT species FROM ab {_SEARCH}")
    predicted = {r[0] for r in con.execute("SELECT PREDICT(species USING MODEL keep) FROM ab").fetchall()}
    assert predicted == {"A", "B"}
    statement_form = {r[-2] for r in con.execute("PREDICT species FROM ab USING MODEL keep").fetchall()}
    assert statement_form == {"A", "B"}


def test_create_or_replace_answers_with_the_new_version(con: paqdb.Connection) -> None:
    con.execute(_SCORE)
    con.execute(
        "CREATE TABLE ab AS SELECT * EXCLUDE (species), "
        "CASE WHEN species = 'setosa' THEN 'A' ELSE 'B' END AS species FROM iris"
    )
    con.execute(f"CREATE OR REPLACE MODEL keep PREDICT species FROM ab {_SEARCH}")
    predicted = {r[0] for r in con.execute("SELECT PREDICT(species USING MODEL keep) FROM ab").fetchall()}
    assert predicted == {"A", "B"}
