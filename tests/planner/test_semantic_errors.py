"""Semantic errors say what is wrong, where, and how to fix it; a failed statement changes nothing."""

from __future__ import annotations

import pytest

import paqdb
from paqdb import errors


def _catalog_rows(con: paqdb.Connection) -> list[tuple[str, int]]:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'paqdb'"
    ).fetchone()[0]
    if not exists:
        return []
    return [
        (table, con.execute(f"SELECT count(*) FROM paqdb.{table}").fetchone()[0])
        for table in ("models", "model_versions", "trials", "artifacts")
    ]


@pytest.mark.parametrize(
    ("sql", "error", "column", "words", "hint_words"),
    [
        ("PREDICT species FROM nope GIVEN iris_train", errors.UndefinedTableError, 22, "nope", "SHOW TABLES"),
        ("PREDICT species FROM iris_test GIVEN nope", errors.UndefinedTableError, 38, "nope", "SHOW TABLES"),
        ("PREDICT kind FROM iris_test GIVEN iris_train", errors.UndefinedColumnError, 9, "kind", "species"),
        (
            "PREDICT species FROM iris_test USING MODEL nope",
            errors.UndefinedModelError,
            44,
            "nope",
            "CREATE MODEL",
        ),
        ("DESCRIBE MODEL nope", errors.UndefinedModelError, 16, "nope", "CREATE MODEL"),
        ("DROP MODEL nope", errors.UndefinedModelError, 12, "nope", "CREATE MODEL"),
        (
            "SELECT PREDICT(species USING MODEL nope) FROM iris_test",
            errors.UndefinedModelError,
            36,
            "nope",
            None,
        ),
        (
            "PREDICT species FROM iris_test GIVEN iris_train USING SEARCH (budget => 'soon')",
            errors.InvalidParameterError,
            63,
            "soon",
            "minutes",
        ),
        (
            "PREDICT species FROM iris_test GIVEN iris_train USING SEARCH (budget => 0)",
            errors.InvalidParameterError,
            63,
            "budget",
            None,
        ),
        (
            "PREDICT species FROM iris_test GIVEN iris_train USING SEARCH (families => ['deep_magic'])",
            errors.InvalidParameterError,
            63,
            "deep_magic",
            "logistic",
        ),
        (
            "PREDICT species FROM iris_test GIVEN iris_train USING SEARCH (C => RANGE(1, 1, LOG))",
            errors.InvalidParameterError,
            68,
            "empty",
            "single value",
        ),
        (
            "PREDICT species FROM iris_test GIVEN iris_train "
            "USING SEARCH (strategy => 'hyperband', eta => 1)",
            errors.InvalidParameterError,
            88,
            "eta 1",
            "eta = 3",
        ),
        (
            "PREDICT species FROM iris_test GIVEN iris_train "
            "USING SEARCH (strategy => 'random', epsilon => 0.2)",
            errors.InvalidParameterError,
            63,
            "epsilon applies to strategy 'tupaq'",
            None,
        ),
        (
            "PREDICT species FROM iris_test GIVEN iris_train USING SEARCH (colour => 'red')",
            errors.InvalidParameterError,
            63,
            "colour",
            None,
        ),
        (
            # 4 feature columns cannot give 1000 principal components: refused at the option, not
            # silently clamped (issue 8)
            "PREDICT species FROM iris_test GIVEN iris_train USING SEARCH (pca => 1000)",
            errors.InvalidParameterError,
            63,
            "pca => 1000",
            "or fewer",
        ),
        ("LOAD DATASET nothing_here", errors.InvalidParameterError, 14, "nothing_here", "adult"),
        (
            # the position inside the detect predicate's string where it stops parsing
            "CLEAN iris PREDICT species WITH (detect => 'petal_length_cm >', repair => 'manual', "
            "key => 'species')",
            errors.ParseError,
            61,
            "the detect predicate does not parse",
            "SQL condition",
        ),
        ("CROWD LABEL species FROM iris", errors.NotYetSupportedError, 1, "CROWD LABEL", None),
        (
            "CAUSAL FREQ sepal_length_cm, petal_length_cm FROM iris TIME sepal_width_cm",
            errors.NotYetSupportedError,
            1,
            "CAUSAL FREQ",
            None,
        ),
    ],
)
def test_semantic_error(
    con: paqdb.Connection,
    sql: str,
    error: type[errors.Error],
    column: int,
    words: str,
    hint_words: str | None,
) -> None:
    with pytest.raises(error) as caught:
        con.execute(sql)
    assert caught.value.line == 1
    assert caught.value.column == column, str(caught.value)
    assert words in caught.value.message
    if hint_words:
        assert hint_words in (caught.value.hint or "")
    assert _catalog_rows(con) == []


def test_label_all_null_is_a_training_error(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE unlabeled AS SELECT * REPLACE (NULL::VARCHAR AS species) FROM iris")
    with pytest.raises(errors.TrainingError) as caught:
        con.execute("CREATE MODEL m PREDICT species FROM unlabeled")
    assert "NULL in every row" in caught.value.message
    assert "CROWD LABEL" in (caught.value.hint or "")
    assert _catalog_rows(con) == []


def test_given_table_without_rows_is_a_training_error(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE empty AS SELECT * FROM iris LIMIT 0")
    with pytest.raises(errors.TrainingError) as caught:
        con.execute("PREDICT species FROM iris_test GIVEN empty")
    assert "has no rows" in caught.value.message
    assert caught.value.column == 38


def test_model_used_on_a_table_missing_its_features(con: paqdb.Connection) -> None:
    con.execute("CREATE MODEL m PREDICT species FROM iris_train USING SEARCH (budget => '1 trials')")
    con.execute("CREATE TABLE partial AS SELECT sepal_length_cm FROM iris")
    with pytest.raises(errors.UndefinedColumnError) as caught:
        con.execute("PREDICT species FROM partial USING MODEL m")
    assert "petal_width_cm" in caught.value.message


def test_model_asked_for_another_label(con: paqdb.Connection) -> None:
    con.execute("CREATE MODEL m PREDICT species FROM iris_train USING SEARCH (budget => '1 trials')")
    with pytest.raises(errors.InvalidParameterError) as caught:
        con.execute("PREDICT sepal_length_cm FROM iris_test USING MODEL m")
    assert "predicts 'species'" in caught.value.message


def test_failure_while_writing_the_catalog_leaves_nothing(
    con: paqdb.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = con.session.engine
    real_execute = engine.execute

    def failing_execute(sql: str, parameters=None):
        if sql.startswith("INSERT INTO paqdb.artifacts"):
            raise errors.OperationalError("disk full (injected)")
        return real_execute(sql, parameters)

    monkeypatch.setattr(engine, "execute", failing_execute)
    with pytest.raises(errors.OperationalError):
        con.execute("CREATE MODEL m PREDICT species FROM iris_train USING SEARCH (budget => '1 trials')")
    monkeypatch.undo()
    assert _catalog_rows(con) == []
    assert con.execute("SHOW MODELS").fetchall() == []
    con.execute("CREATE MODEL m PREDICT species FROM iris_train USING SEARCH (budget => '1 trials')")
    assert [r[0] for r in con.execute("SHOW MODELS").fetchall()] == ["m"]


def test_uncommitted_model_disappears_with_rollback(database: str) -> None:
    with paqdb.connect(database) as setup:
        setup.execute("LOAD DATASET iris")
    con = paqdb.connect(database)  # PEP 249: auto-commit off
    con.execute("CREATE MODEL m PREDICT species FROM iris USING SEARCH (budget => '1 trials')")
    assert [r[0] for r in con.execute("SHOW MODELS").fetchall()] == ["m"]
    con.rollback()
    assert con.execute("SHOW MODELS").fetchall() == []
    con.close()
