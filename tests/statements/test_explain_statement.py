"""Explanations from SQL (issue 10, item 3): ``PREDICT ... WITH (explain => true)`` and ``DESCRIBE MODEL m
[VERSION n] FEATURES`` (and ``paqdb.feature_importance``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import paqdb
from paqdb import errors
from paqdb.engines.base import Column
from paqdb.ml import explain
from paqdb.ml.training import train_model
from paqdb.statements import grammar, parse_one

_FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


def _train(
    con: paqdb.Connection, name: str, family: str, source: str = "iris_train", label: str = "species"
) -> None:
    options = {"random_forest": ", n_estimators => [20]", "gradient_boosting": ", max_iter => [20]"}
    con.execute(
        f"CREATE OR REPLACE MODEL {name} PREDICT {label} FROM {source} "
        f"USING SEARCH (families => ['{family}'], budget => '1 trials'{options.get(family, '')})"
    )


@pytest.fixture
def flowers(con: paqdb.Connection) -> paqdb.Connection:
    """Binary flowers: is it a virginica (classes false, true)."""
    con.execute(
        "CREATE TABLE flowers AS SELECT * EXCLUDE (species), species = 'virginica' AS virginica FROM iris"
    )
    return con


def _raw(con: paqdb.Connection, model: str, table: str, explained: np.ndarray | None) -> np.ndarray:
    trained = con.session.context.models.load(model).model
    rows = con.execute(f"SELECT {', '.join(_FEATURES)} FROM {table}").fetch_arrow_table()
    matrix = trained.featurize([rows.column(n).cast(pa.float64()) for n in _FEATURES])
    return explain.raw_output(trained, matrix, explained)


@pytest.mark.parametrize("family", ["logistic", "random_forest", "gradient_boosting"])
def test_explain_adds_contributions_that_add_up_to_the_raw_output(
    flowers: paqdb.Connection, family: str
) -> None:
    _train(flowers, "b", family, "flowers", "virginica")
    cursor = flowers.execute("PREDICT virginica FROM flowers USING MODEL b WITH (explain => true)")
    names = [d[0] for d in cursor.description]
    assert names[-4:] == ["predicted_virginica", "confidence", "contributions", "base_value"]
    assert [d[1] for d in cursor.description][-2:] == ["MAP(VARCHAR, DOUBLE)", "DOUBLE"]
    rows = cursor.fetchall()
    assert all(sorted(row[-2]) == sorted(_FEATURES) for row in rows)
    total = np.array([row[-1] + sum(row[-2].values()) for row in rows])
    positive = np.ones(len(rows), dtype=np.int64)  # binary: the positive class (true)
    np.testing.assert_allclose(total, _raw(flowers, "b", "flowers", positive), atol=1e-9)
    if family != "random_forest":
        # A logit: positive when the model predicts true.
        assert all((t >= 0) == row[-4] for t, row in zip(total, rows, strict=True))
    else:
        # A forest's probability of true.
        assert all(
            abs(t - (row[-3] if row[-4] else 1 - row[-3])) < 1e-9 for t, row in zip(total, rows, strict=True)
        )


def test_explain_on_a_multiclass_model_explains_the_predicted_class(con: paqdb.Connection) -> None:
    _train(con, "m", "logistic")
    rows = con.execute("PREDICT species FROM iris_test USING MODEL m WITH (explain => true)").fetchall()
    trained = con.session.context.models.load("m").model
    codes = np.array([trained.classes.to_pylist().index(row[-4]) for row in rows])
    total = np.array([row[-1] + sum(row[-2].values()) for row in rows])
    np.testing.assert_allclose(total, _raw(con, "m", "iris_test", codes), atol=1e-9)


def test_explain_on_a_regression_model(con: paqdb.Connection) -> None:
    _train(con, "r", "ridge", label="petal_width_cm")
    cursor = con.execute("PREDICT petal_width_cm FROM iris_test USING MODEL r WITH (explain => true)")
    names = [d[0] for d in cursor.description]
    assert names[-3:] == ["predicted_petal_width_cm", "contributions", "base_value"]
    for row in cursor.fetchall():
        assert "petal_width_cm" not in row[-2]
        assert row[-1] + sum(row[-2].values()) == pytest.approx(row[-3], abs=1e-9)


def test_explain_composes_with_probabilities_order_by_limit_and_from(con: paqdb.Connection) -> None:
    _train(con, "m", "random_forest")
    cursor = con.execute(
        "PREDICT species FROM iris_test USING MODEL m WITH (probabilities => true, explain => true) "
        "ORDER BY confidence, sepal_length_cm LIMIT 4"
    )
    names = [d[0] for d in cursor.description]
    assert names[-6:] == [
        "confidence",
        "probability_setosa",
        "probability_versicolor",
        "probability_virginica",
        "contributions",
        "base_value",
    ]
    rows = cursor.fetchall()
    assert len(rows) == 4
    confidences = [row[names.index("confidence")] for row in rows]
    assert confidences == sorted(confidences)
    for row in rows:
        # A forest explains the probability of the predicted class: the confidence.
        assert row[-1] + sum(row[-2].values()) == pytest.approx(row[names.index("confidence")], abs=1e-9)
    counted = con.execute(
        "SELECT count(*), count(contributions['petal_length_cm']) FROM "
        "(PREDICT species FROM iris_test USING MODEL m WITH (explain => true))"
    ).fetchone()
    total = con.execute("SELECT count(*) FROM iris_test").fetchone()
    assert counted == (total[0], total[0])
    top = con.execute(
        "WITH small AS (SELECT * FROM iris_test WHERE petal_length_cm < 2) "
        "PREDICT species FROM small USING MODEL m WITH (explain => true) LIMIT 2"
    ).fetchall()
    assert len(top) == 2 and all(row[-4] == "setosa" for row in top)


def test_explain_with_a_model_trained_by_the_statement(con: paqdb.Connection) -> None:
    cursor = con.execute(
        "PREDICT species FROM iris_test GIVEN iris_train "
        "USING SEARCH (families => ['gradient_boosting'], budget => '1 trials', max_iter => [10]) "
        "WITH (explain => true)"
    )
    names = [d[0] for d in cursor.description]
    assert names[-2:] == ["contributions", "base_value"]
    assert all(sorted(row[-2]) == sorted(_FEATURES) for row in cursor.fetchall())
    plan = "\n".join(
        r[0]
        for r in con.execute(
            "EXPLAIN PREDICT species FROM iris_test GIVEN iris_train WITH (explain => true)"
        ).fetchall()
    )
    assert "contributions=exact for linear models, path-based (Saabas) for trees" in plan


def test_explain_names_the_method(con: paqdb.Connection) -> None:
    _train(con, "lin", "logistic")
    _train(con, "tree", "gradient_boosting")
    linear = "\n".join(
        r[0]
        for r in con.execute("EXPLAIN PREDICT species FROM iris_test USING MODEL lin WITH (explain => true)")
    )
    tree = "\n".join(
        r[0]
        for r in con.execute("EXPLAIN PREDICT species FROM iris_test USING MODEL tree WITH (explain => true)")
    )
    assert "contributions=exact linear" in linear
    assert "contributions=path-based (Saabas)" in tree
    assert "contributions" not in "\n".join(
        r[0] for r in con.execute("EXPLAIN PREDICT species FROM iris_test USING MODEL lin")
    )


def test_explain_errors(con: paqdb.Connection) -> None:
    _train(con, "m", "logistic")
    sql = "PREDICT species FROM iris_test USING MODEL m WITH (explain => 'yes')"
    with pytest.raises(errors.InvalidParameterError) as caught:
        con.execute(sql)
    assert "explain 'yes' is not true or false" in caught.value.message
    assert caught.value.column == sql.index("explain") + 1
    with pytest.raises(errors.InvalidParameterError) as unknown:
        con.execute("PREDICT species FROM iris_test USING MODEL m WITH (explian => true)")
    assert unknown.value.hint is not None and "explain" in unknown.value.hint
    con.execute(
        "CREATE MODEL net PREDICT species FROM iris_train "
        "USING SEARCH (families => ['mlp'], budget => '1 trials', max_iter => [5])"
    )
    sql = "PREDICT species FROM iris_test USING MODEL net WITH (probabilities => true, explain => true)"
    with pytest.raises(errors.NotSupportedError) as refused:
        con.execute(sql)
    assert "'mlp'" in refused.value.message
    assert refused.value.hint is not None and "logistic" in refused.value.hint
    assert refused.value.column == sql.index("explain") + 1


def test_describe_model_features_ranks_the_stored_importance(con: paqdb.Connection) -> None:
    con.execute(
        "CREATE TABLE synthetic AS SELECT (hash(i) % 1000) / 1000.0 AS signal, "
        "(hash(i * 7 + 3) % 1000) / 1000.0 AS noise, "
        "CASE WHEN (hash(i) % 1000) / 1000.0 > 0.5 THEN 'high' ELSE 'low' END AS level FROM range(2000) t(i)"
    )
    _train(con, "lv", "gradient_boosting", "synthetic", "level")
    cursor = con.execute("DESCRIBE MODEL lv FEATURES")
    assert [d[0] for d in cursor.description] == [
        "feature",
        "type",
        "kind",
        "importance",
        "importance_std",
        "rank",
    ]
    rows = cursor.fetchall()
    assert [row[0] for row in rows] == ["signal", "noise"]
    assert [row[5] for row in rows] == [1, 2]
    assert rows[0][1] == "DOUBLE"  # the SQL type the model was trained on
    assert rows[0][2] == "numeric"
    assert rows[0][3] > 0.3  # shuffling the signal costs a large share of the accuracy
    assert abs(rows[1][3]) < 0.02
    assert con.execute("DESCRIBE MODEL lv VERSION 1 FEATURES").fetchall() == rows
    from_python = paqdb.feature_importance(con, "lv")
    assert from_python.column("feature").to_pylist() == ["signal", "noise"]
    assert from_python.column("importance").to_pylist() == [row[3] for row in rows]
    assert paqdb.feature_importance(con, "lv", version=1).equals(from_python)
    with pytest.raises(errors.Error) as unknown:
        paqdb.feature_importance(con, "lv", version=7)
    assert unknown.value.hint is not None and "1" in unknown.value.hint


def test_a_model_stored_without_importance_shows_its_features_without_it(con: paqdb.Connection) -> None:
    table = con.execute("SELECT * FROM iris_train").fetch_arrow_table()
    trained = train_model(table, "species", family="logistic")  # no search: no validation rows
    assert explain.IMPORTANCE_KEY not in trained.info
    con.session.context.models.save(
        trained,
        name="plain",
        label="species",
        label_type="VARCHAR",
        features=[Column(n, "DOUBLE") for n in _FEATURES],
        metric="accuracy",
        validation_score=None,
        train_rows=table.num_rows,
    )
    cursor = con.execute("DESCRIBE MODEL plain FEATURES")
    rows = cursor.fetchall()
    assert [row[0] for row in rows] == _FEATURES
    assert all(row[3] is None and row[5] is None for row in rows)
    # Its rows are still explained (a linear reference stored by train_model).
    explained = con.execute(
        "PREDICT species FROM iris_test USING MODEL plain WITH (explain => true)"
    ).fetchall()
    assert all(len(row[-2]) == 4 for row in explained)


@pytest.mark.parametrize(
    "sql",
    [
        "DESCRIBE MODEL m FEATURES",
        "DESCRIBE MODEL m VERSION 2 FEATURES",
        "PREDICT y FROM t USING MODEL m WITH (explain => TRUE, probabilities => TRUE)",
    ],
)
def test_the_forms_round_trip(sql: str) -> None:
    node = parse_one(sql).ast
    assert node is not None
    assert node.sql(dialect=grammar().dialect) == sql


def test_a_misspelled_features_is_pointed_at(con: paqdb.Connection) -> None:
    sql = "DESCRIBE MODEL m FEATURE"
    with pytest.raises(errors.ParseError) as caught:
        con.execute(sql)
    assert "did you mean FEATURES?" in caught.value.message
    assert caught.value.column == sql.index("FEATURE") + 1
