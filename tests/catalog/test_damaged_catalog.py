"""A catalog edited by hand is a paqdb error with a hint, never a traceback (issue 8, defect 8)."""

from __future__ import annotations

import pytest

import paqdb
from paqdb.errors import CatalogError

_SEARCH = "USING SEARCH (families => ['logistic'], budget => '1 trials')"


@pytest.fixture
def con(database: str) -> paqdb.Connection:
    connection = paqdb.connect(database, autocommit=True)
    connection.execute("LOAD DATASET iris")
    connection.execute(f"CREATE MODEL m PREDICT species FROM iris {_SEARCH}")
    yield connection
    connection.close()


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("UPDATE paqdb.models SET version = 99", "no row in paqdb.model_versions"),
        ("DELETE FROM paqdb.artifacts", "has no artifact"),
        ("UPDATE paqdb.model_versions SET features = '{not json'", "features column"),
        ("UPDATE paqdb.model_versions SET hyperparameters = '[1, 2]'", "hyperparameters column"),
        ("INSERT INTO paqdb.models SELECT * FROM paqdb.models", "current-version rows"),
    ],
)
@pytest.mark.parametrize(
    "statement",
    [
        "PREDICT species FROM iris USING MODEL m",
        "SELECT PREDICT(species USING MODEL m) FROM iris",
    ],
)
def test_damaged_rows_are_a_catalog_error(
    con: paqdb.Connection, damage: str, words: str, statement: str
) -> None:
    con.execute(damage)
    with pytest.raises(CatalogError) as caught:
        con.execute(statement)
    assert words in caught.value.message
    assert "model 'm'" in caught.value.message
    assert caught.value.hint and "DROP MODEL m" in caught.value.hint
    assert isinstance(caught.value, paqdb.Error)


def test_a_damaged_model_can_be_dropped_and_others_still_work(con: paqdb.Connection) -> None:
    con.execute(f"CREATE MODEL other PREDICT species FROM iris {_SEARCH}")
    con.execute("DELETE FROM paqdb.artifacts WHERE name = 'm'")
    assert con.execute("SELECT count(*) FROM iris WHERE PREDICT(species USING MODEL other) IS NOT NULL")
    con.execute("DROP MODEL m")
    assert [r[0] for r in con.execute("SHOW MODELS").fetchall()] == ["other"]


def test_trials_are_written_in_one_batch_and_read_back(con: paqdb.Connection) -> None:
    con.execute(
        "CREATE MODEL many PREDICT species FROM iris "
        "USING SEARCH (families => ['logistic', 'linear_svm'], budget => '6 trials', strategy => 'random')"
    )
    trials = con.execute("DESCRIBE MODEL many").fetchall()
    assert [t[0] for t in trials] == sorted(t[0] for t in trials)
    assert len(trials) >= 2
