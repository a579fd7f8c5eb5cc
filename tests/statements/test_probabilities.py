"""Per-class probabilities and thresholds (issue 10, item 2): ``PREDICT ... WITH (probabilities => true,
threshold => t)`` and the ``PREDICT_PROBA(label USING MODEL m)`` expression."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import paqdb
from paqdb import errors

_TRAIN_BRIEFLY = "USING SEARCH (families => ['logistic'], budget => '1 trials')"
_FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


@pytest.fixture
def iris_model(con: paqdb.Connection) -> paqdb.Connection:
    con.execute(f"CREATE MODEL m PREDICT species FROM iris_train {_TRAIN_BRIEFLY}")
    return con


@pytest.fixture
def binary_model(con: paqdb.Connection) -> paqdb.Connection:
    """A binary model: is the flower a virginica (a BOOLEAN label: classes false, true)."""
    con.execute(
        "CREATE TABLE flowers AS SELECT * EXCLUDE (species), species = 'virginica' AS virginica FROM iris"
    )
    con.execute(f"CREATE MODEL b PREDICT virginica FROM flowers {_TRAIN_BRIEFLY}")
    return con


def _expected_probabilities(con: paqdb.Connection, model: str, table: str) -> tuple[list[str], np.ndarray]:
    """The classes (as text) and TrainedModel.predict_probabilities on ``table``'s rows, in its order."""
    trained = con.session.context.models.load(model).model
    rows = con.execute(f"SELECT {', '.join(_FEATURES)} FROM {table}").fetch_arrow_table()
    matrix = trained.featurize([rows.column(name).cast(pa.float64()) for name in _FEATURES])
    classes = [str(v) for v in trained.classes.cast(pa.string()).to_pylist()]
    return classes, trained.predict_probabilities(matrix)


def test_probabilities_option_adds_a_column_per_class_equal_to_the_model(
    iris_model: paqdb.Connection,
) -> None:
    cursor = iris_model.execute("PREDICT species FROM iris_test USING MODEL m WITH (probabilities => true)")
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    classes, expected = _expected_probabilities(iris_model, "m", "iris_test")
    assert classes == ["setosa", "versicolor", "virginica"]  # the model's class order: sorted values
    assert names[-5:] == [
        "predicted_species",
        "confidence",
        "probability_setosa",
        "probability_versicolor",
        "probability_virginica",
    ]
    got = np.array([row[-3:] for row in rows], dtype=float)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    # The prediction and confidence are the most probable class and its probability, as without the option
    # (which may score through compiled SQL: the same numbers up to rounding).
    plain = iris_model.execute("PREDICT species FROM iris_test USING MODEL m").fetchall()
    assert [row[-5] for row in rows] == [row[-2] for row in plain]
    np.testing.assert_allclose([row[-4] for row in rows], [row[-1] for row in plain], rtol=1e-9)
    np.testing.assert_allclose([row[-4] for row in rows], expected.max(axis=1), rtol=1e-12)


def test_probabilities_of_a_model_the_statement_trains(con: paqdb.Connection) -> None:
    cursor = con.execute(
        f"PREDICT species FROM iris_test GIVEN iris_train {_TRAIN_BRIEFLY} WITH (probabilities => true)"
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert names[-3:] == ["probability_setosa", "probability_versicolor", "probability_virginica"]
    assert all(abs(sum(row[-3:]) - 1.0) < 1e-9 for row in rows)
    assert all(row[-4] == max(row[-3:]) for row in rows)  # confidence: the predicted class's probability


def test_probability_column_names_stay_unique(iris_model: paqdb.Connection) -> None:
    iris_model.execute("CREATE TABLE clash AS SELECT *, 0.0 AS probability_setosa FROM iris_test")
    cursor = iris_model.execute("PREDICT species FROM clash USING MODEL m WITH (probabilities => true)")
    names = [d[0] for d in cursor.description]
    assert names.count("probability_setosa") == 1
    assert "probability_setosa_2" in names
    assert all(row[names.index("probability_setosa")] == 0.0 for row in cursor.fetchall())


def test_predict_proba_returns_a_map_equal_to_the_model(iris_model: paqdb.Connection) -> None:
    cursor = iris_model.execute("SELECT PREDICT_PROBA(species USING MODEL m) FROM iris_test")
    assert [d[0] for d in cursor.description] == ["PREDICT_PROBA(species USING MODEL m)"]
    assert cursor.description[0][1] == "MAP(VARCHAR, DOUBLE)"
    maps = [row[0] for row in cursor.fetchall()]
    classes, expected = _expected_probabilities(iris_model, "m", "iris_test")
    assert all(list(m) == classes for m in maps)
    np.testing.assert_allclose([[m[c] for c in classes] for m in maps], expected, rtol=1e-12, atol=1e-12)
    # A key reads one probability, anywhere in a query.
    (count,) = iris_model.execute(
        "SELECT count(*) FROM iris_test WHERE PREDICT_PROBA(species USING MODEL m)['virginica'] >= 0.5"
    ).fetchone()
    assert count == int((expected[:, 2] >= 0.5).sum())


def test_threshold_decides_a_binary_prediction(binary_model: paqdb.Connection) -> None:
    classes, probabilities = _expected_probabilities(binary_model, "b", "flowers")
    assert classes == ["false", "true"]  # the positive class is the second: true
    for threshold in (0.05, 0.5, 0.95):
        rows = binary_model.execute(
            f"PREDICT virginica FROM flowers USING MODEL b WITH (threshold => {threshold})"
        ).fetchall()
        predicted = np.array([row[-2] for row in rows])
        np.testing.assert_array_equal(predicted, probabilities[:, 1] >= threshold)
        confidence = np.array([row[-1] for row in rows])
        np.testing.assert_allclose(confidence, np.where(predicted, probabilities[:, 1], probabilities[:, 0]))
    low = binary_model.execute(
        "SELECT count(*) FROM (PREDICT virginica FROM flowers USING MODEL b WITH (threshold => 0.05)) "
        "WHERE predicted_virginica"
    ).fetchone()
    high = binary_model.execute(
        "SELECT count(*) FROM (PREDICT virginica FROM flowers USING MODEL b WITH (threshold => 0.95)) "
        "WHERE predicted_virginica"
    ).fetchone()
    assert low is not None and high is not None and low[0] > high[0]


def test_threshold_of_a_trained_binary_model(binary_model: paqdb.Connection) -> None:
    rows = binary_model.execute(
        f"PREDICT virginica FROM flowers GIVEN flowers {_TRAIN_BRIEFLY} "
        "WITH (threshold => 0.0, probabilities => true)"
    ).fetchall()
    assert all(row[-4] is True for row in rows)  # every probability is >= 0
    assert all(row[-3] == row[-1] for row in rows)  # confidence: the probability of true


@pytest.mark.parametrize(
    ("sql", "error", "text", "fragment"),
    [
        (
            "PREDICT species FROM iris_test USING MODEL m WITH (threshold => 0.3)",
            errors.InvalidParameterError,
            "threshold => 0.3",
            "two classes; this one has 3",
        ),
        (
            f"PREDICT species FROM iris_test GIVEN iris_train {_TRAIN_BRIEFLY} WITH (threshold => 0.3)",
            errors.InvalidParameterError,
            "threshold => 0.3",
            "two classes; this one has 3",
        ),
        (
            "PREDICT species FROM iris_test USING MODEL m WITH (threshold => 1.5)",
            errors.InvalidParameterError,
            "threshold => 1.5",
            "between 0 and 1",
        ),
        (
            "PREDICT species FROM iris_test USING MODEL m WITH (probabilities => 'yes')",
            errors.InvalidParameterError,
            "probabilities => 'yes'",
            "not true or false",
        ),
        (
            "PREDICT species FROM iris_test USING MODEL m WITH (probability => true)",
            errors.InvalidParameterError,
            "probability => true",
            "unknown PREDICT option 'probability'",
        ),
        (
            "PREDICT petal_width_cm FROM iris_test USING MODEL r WITH (probabilities => true)",
            errors.InvalidParameterError,
            "probabilities => true",
            "applies to classification",
        ),
        (
            "SELECT PREDICT_PROBA(petal_width_cm USING MODEL r) FROM iris_test",
            errors.InvalidParameterError,
            "petal_width_cm USING",
            "needs a classification model",
        ),
    ],
)
def test_misuse_is_a_positioned_error(
    iris_model: paqdb.Connection, sql: str, error: type[errors.Error], text: str, fragment: str
) -> None:
    iris_model.execute(
        "CREATE MODEL r PREDICT petal_width_cm FROM iris_train USING SEARCH (families => ['ridge'], "
        "budget => '1 trials')"
    )
    with pytest.raises(error) as caught:
        iris_model.execute(sql)
    assert fragment in caught.value.message
    assert caught.value.line == 1 and caught.value.column == sql.index(text) + 1


def test_explain_names_the_probability_columns(iris_model: paqdb.Connection) -> None:
    lines = [
        row[0]
        for row in iris_model.execute(
            "EXPLAIN PREDICT species FROM iris_test USING MODEL m WITH (probabilities => true)"
        ).fetchall()
    ]
    assert any("probability_<class> column per class" in line for line in lines)
    assert any("probabilities=per class" in line for line in lines)


def test_probability_columns_compose_like_a_query(iris_model: paqdb.Connection) -> None:
    rows = iris_model.execute(
        "SELECT predicted_species, probability_virginica FROM "
        "(PREDICT species FROM iris_test USING MODEL m WITH (probabilities => true)) "
        "ORDER BY probability_virginica DESC LIMIT 3"
    ).fetchall()
    _, expected = _expected_probabilities(iris_model, "m", "iris_test")
    np.testing.assert_allclose([r[1] for r in rows], np.sort(expected[:, 2])[::-1][:3], rtol=1e-12)
    assert all(r[0] == "virginica" for r in rows)
