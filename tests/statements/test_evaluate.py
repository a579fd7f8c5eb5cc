"""EVALUATE MODEL (issue 10, item 1): every figure equals scikit-learn's ``metrics`` on the same predictions.

The reference predictions come from the stored model itself (loaded through the model store, as PREDICT
loads it) and agree with PREDICT's output; scikit-learn then computes each figure from the raw labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as sk

import paqdb
from paqdb import errors

FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[paqdb.Connection]:
    """Iris split in train and test, with three small models: multiclass, binary and regression."""
    path = Path(tmp_path_factory.mktemp("evaluate")) / "evaluate.duckdb"
    connection = paqdb.connect(str(path), autocommit=True)
    connection.execute("LOAD DATASET iris")
    fold = "hash(sepal_length_cm, petal_width_cm, petal_length_cm) % 4"
    connection.execute(f"CREATE TABLE iris_train AS SELECT * FROM iris WHERE {fold} <> 0")
    connection.execute(f"CREATE TABLE iris_test AS SELECT * FROM iris WHERE {fold} = 0")
    # Versicolor and virginica overlap: the binary model makes mistakes, so the figures are not all 1.
    pair = "species IN ('versicolor', 'virginica')"
    connection.execute(f"CREATE TABLE pair_train AS SELECT * FROM iris_train WHERE {pair}")
    connection.execute(f"CREATE TABLE pair_test AS SELECT * FROM iris_test WHERE {pair}")
    connection.execute(
        "INSERT INTO pair_test VALUES (6.0, 3.0, 4.8, 1.8, NULL), (5.0, 2.5, 3.9, 1.1, NULL)"
    )  # two rows without a label
    one = "USING SEARCH (budget => '1 trials', families => ['random_forest'], seed => 1)"
    connection.execute(f"CREATE MODEL species_model PREDICT species FROM iris_train {one}")
    connection.execute(f"CREATE MODEL pair_model PREDICT species FROM pair_train {one}")
    connection.execute(
        "CREATE MODEL width_model PREDICT petal_width_cm FROM iris_train "
        "USING SEARCH (budget => '1 trials', families => ['ridge'], seed => 1)"
    )
    yield connection
    connection.close()


def _metrics(con: paqdb.Connection, sql: str) -> dict[str, float]:
    rows = con.execute(sql).fetchall()
    return {name: value for name, value in rows}


def _reference(con: paqdb.Connection, model_name: str, table: str) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The labeled test rows, the model's class probabilities for them, and its classes."""
    data = con.execute(f"SELECT * FROM {table} WHERE species IS NOT NULL").fetch_arrow_table()
    model = con.session.models.load(model_name).model
    probabilities = model.predict_probabilities(model.featurize(data.select(FEATURES)))
    return data, probabilities, np.asarray(model.classes.to_pylist())


def _labels(data: pa.Table) -> np.ndarray:
    return np.asarray(data.column("species").to_pylist())


def test_multiclass_metrics_equal_sklearn(con: paqdb.Connection) -> None:
    data, proba, classes = _reference(con, "species_model", "iris_test")
    y_true = _labels(data)
    y_pred = classes[proba.argmax(axis=1)]
    scored = con.execute("PREDICT species FROM iris_test USING MODEL species_model").fetch_arrow_table()
    assert scored.column("predicted_species").to_pylist() == list(y_pred), "the predictions PREDICT makes"

    got = _metrics(con, "EVALUATE MODEL species_model ON iris_test")
    assert list(got) == [
        "accuracy", "precision_macro", "recall_macro", "f1_macro", "auc", "log_loss",
        "rows", "rows_without_label",
    ]  # fmt: skip
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert got["precision_macro"] == pytest.approx(sk.precision_score(y_true, y_pred, average="macro"))
    assert got["recall_macro"] == pytest.approx(sk.recall_score(y_true, y_pred, average="macro"))
    assert got["f1_macro"] == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"))
    assert got["auc"] == pytest.approx(sk.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))
    assert got["log_loss"] == pytest.approx(sk.log_loss(y_true, proba, labels=classes))
    assert got["rows"] == data.num_rows and got["rows_without_label"] == 0


def test_binary_metrics_use_the_second_class_as_positive_and_skip_null_labels(con: paqdb.Connection) -> None:
    data, proba, classes = _reference(con, "pair_model", "pair_test")
    assert list(classes) == ["versicolor", "virginica"]
    y_true = _labels(data)
    y_pred = classes[proba.argmax(axis=1)]
    cur = con.execute("EVALUATE MODEL pair_model ON pair_test")
    got = dict(cur.fetchall())
    assert cur.message is not None
    assert "2 rows with a NULL label left out" in cur.message and "positive class 'virginica'" in cur.message
    assert got["rows"] == data.num_rows and got["rows_without_label"] == 2
    positive = {"pos_label": "virginica"}
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert got["precision"] == pytest.approx(sk.precision_score(y_true, y_pred, **positive))
    assert got["recall"] == pytest.approx(sk.recall_score(y_true, y_pred, **positive))
    assert got["f1"] == pytest.approx(sk.f1_score(y_true, y_pred, **positive))
    assert got["f1_macro"] == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"))
    assert got["auc"] == pytest.approx(sk.roc_auc_score(y_true == "virginica", proba[:, 1]))
    assert got["log_loss"] == pytest.approx(sk.log_loss(y_true, proba, labels=classes))
    assert 0 < got["accuracy"] < 1, "the pair overlaps: a test with mistakes to count"


def test_a_threshold_moves_the_binary_predictions(con: paqdb.Connection) -> None:
    data, proba, _ = _reference(con, "pair_model", "pair_test")
    y_true = _labels(data)
    for threshold in (0.1, 0.9):
        y_pred = np.where(proba[:, 1] >= threshold, "virginica", "versicolor")
        got = _metrics(con, f"EVALUATE MODEL pair_model ON pair_test WITH (threshold => {threshold})")
        assert got["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred))
        assert got["precision"] == pytest.approx(sk.precision_score(y_true, y_pred, pos_label="virginica"))
        assert got["recall"] == pytest.approx(sk.recall_score(y_true, y_pred, pos_label="virginica"))
    low = _metrics(con, "EVALUATE MODEL pair_model ON pair_test WITH (threshold => 0.1)")
    high = _metrics(con, "EVALUATE MODEL pair_model ON pair_test WITH (threshold => 0.9)")
    assert low["recall"] >= high["recall"]


def test_per_class_rows_equal_sklearn(con: paqdb.Connection) -> None:
    data, proba, classes = _reference(con, "species_model", "iris_test")
    y_true, y_pred = _labels(data), classes[proba.argmax(axis=1)]
    cur = con.execute("EVALUATE MODEL species_model ON iris_test WITH (report => 'classes')")
    assert [d[0] for d in cur.description] == ["class", "precision", "recall", "f1", "support"]
    rows = cur.fetchall()
    labels = sorted(set(y_true) | set(y_pred))
    p, r, f, s = sk.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    assert [row[0] for row in rows] == labels
    assert [row[1] for row in rows] == pytest.approx(list(p))
    assert [row[2] for row in rows] == pytest.approx(list(r))
    assert [row[3] for row in rows] == pytest.approx(list(f))
    assert [row[4] for row in rows] == list(s)


def test_confusion_matrix_equals_sklearn(con: paqdb.Connection) -> None:
    data, proba, classes = _reference(con, "pair_model", "pair_test")
    y_true, y_pred = _labels(data), classes[proba.argmax(axis=1)]
    cur = con.execute("EVALUATE MODEL pair_model ON pair_test WITH (report => 'confusion')")
    assert [d[0] for d in cur.description] == ["actual", "predicted", "count"]
    cells = {(a, p): n for a, p, n in cur.fetchall()}
    labels = sorted(set(y_true) | set(y_pred))
    matrix = sk.confusion_matrix(y_true, y_pred, labels=labels)
    assert cells == {(a, p): matrix[i, j] for i, a in enumerate(labels) for j, p in enumerate(labels)}
    assert sum(cells.values()) == data.num_rows


def test_roc_and_pr_points_equal_sklearn(con: paqdb.Connection) -> None:
    data, proba, _ = _reference(con, "pair_model", "pair_test")
    positive = _labels(data) == "virginica"
    roc = con.execute("EVALUATE MODEL pair_model ON pair_test WITH (report => 'roc')").fetch_arrow_table()
    assert roc.column_names == ["class", "threshold", "false_positive_rate", "true_positive_rate"]
    assert set(roc.column("class").to_pylist()) == {"virginica"}, "one curve: the positive class's"
    fpr, tpr, thresholds = sk.roc_curve(positive, proba[:, 1])
    assert roc.column("false_positive_rate").to_pylist() == pytest.approx(list(fpr))
    assert roc.column("true_positive_rate").to_pylist() == pytest.approx(list(tpr))
    assert roc.column("threshold").to_pylist() == pytest.approx(list(thresholds))

    pr = con.execute("EVALUATE MODEL pair_model ON pair_test WITH (report => 'pr')").fetch_arrow_table()
    assert pr.column_names == ["class", "threshold", "recall", "precision"]
    precision, recall, thresholds = sk.precision_recall_curve(positive, proba[:, 1])
    assert pr.column("precision").to_pylist() == pytest.approx(list(precision))
    assert pr.column("recall").to_pylist() == pytest.approx(list(recall))
    assert pr.column("threshold").to_pylist()[:-1] == pytest.approx(list(thresholds))
    assert pr.column("threshold").to_pylist()[-1] is None, "scikit-learn's last point has no threshold"


def test_multiclass_curves_are_one_vs_rest_per_class(con: paqdb.Connection) -> None:
    data, proba, classes = _reference(con, "species_model", "iris_test")
    y_true = _labels(data)
    roc = con.execute("EVALUATE MODEL species_model ON iris_test WITH (report => 'roc')").fetch_arrow_table()
    assert sorted(set(roc.column("class").to_pylist())) == list(classes)
    for k, name in enumerate(classes):
        mine = roc.filter(pa.compute.equal(roc.column("class"), name))
        fpr, tpr, _ = sk.roc_curve(y_true == name, proba[:, k])
        assert mine.column("false_positive_rate").to_pylist() == pytest.approx(list(fpr))
        assert mine.column("true_positive_rate").to_pylist() == pytest.approx(list(tpr))


def test_labels_the_model_never_saw_count_for_accuracy_not_for_auc(con: paqdb.Connection) -> None:
    # The binary model never saw setosa: every setosa row is a mistake, and has no probability column.
    data, proba, classes = _reference(con, "pair_model", "iris_test")
    y_true, y_pred = _labels(data), classes[proba.argmax(axis=1)]
    cur = con.execute("EVALUATE MODEL pair_model ON iris_test")
    got = dict(cur.fetchall())
    assert cur.message is not None and "labels the model never saw" in cur.message
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert got["f1_macro"] == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"))
    known = y_true != "setosa"
    assert got["auc"] == pytest.approx(sk.roc_auc_score(y_true[known] == "virginica", proba[known, 1]))
    classes_rows = con.execute("EVALUATE MODEL pair_model ON iris_test WITH (report => 'classes')").fetchall()
    assert classes_rows[0][0] == "setosa" and classes_rows[0][2] == 0.0  # recall of a class never predicted


def test_regression_metrics_equal_sklearn(con: paqdb.Connection) -> None:
    scored = con.execute("PREDICT petal_width_cm FROM iris_test USING MODEL width_model").fetch_arrow_table()
    y_true = np.asarray(scored.column("petal_width_cm").to_pylist())
    y_pred = np.asarray(scored.column("predicted_petal_width_cm").to_pylist())
    got = _metrics(con, "EVALUATE MODEL width_model ON iris_test")
    assert list(got) == ["rmse", "mae", "r2", "rows", "rows_without_label"]
    assert got["rmse"] == pytest.approx(sk.root_mean_squared_error(y_true, y_pred))
    assert got["mae"] == pytest.approx(sk.mean_absolute_error(y_true, y_pred))
    assert got["r2"] == pytest.approx(sk.r2_score(y_true, y_pred))


def test_python_evaluate_is_the_statement(con: paqdb.Connection) -> None:
    table = paqdb.evaluate(con, "species_model", "iris_test", report="confusion")
    assert isinstance(table, pa.Table)
    same = con.execute("EVALUATE MODEL species_model ON iris_test WITH (report => 'confusion')")
    assert table.equals(same.fetch_arrow_table())
    subset = paqdb.evaluate(
        con, "pair_model", "SELECT * FROM pair_test WHERE sepal_length_cm > 6", threshold=0.5
    )
    rows = dict(zip(subset.column("metric").to_pylist(), subset.column("value").to_pylist(), strict=True))
    expected = con.execute("SELECT count(*) FROM pair_test WHERE sepal_length_cm > 6 AND species IS NOT NULL")
    assert rows["rows"] == expected.fetchone()[0]


def test_explain_shows_the_plan(con: paqdb.Connection) -> None:
    lines = [
        r[0] for r in con.execute("EXPLAIN EVALUATE MODEL pair_model ON pair_test WITH (report => 'roc')")
    ]
    text = "\n".join(lines)
    assert "Evaluate [report=roc" in text and "EvaluationScan" in text and "LoadModel" in text


# -- errors ---------------------------------------------------------------------------------------------


def _error(con: paqdb.Connection, sql: str, kind: type[errors.Error]) -> errors.Error:
    with pytest.raises(kind) as caught:
        con.execute(sql)
    return caught.value


def test_unknown_model_is_positioned(con: paqdb.Connection) -> None:
    sql = "EVALUATE MODEL nope ON iris_test"
    error = _error(con, sql, errors.UndefinedModelError)
    assert error.column == sql.index("nope") + 1 and "species_model" in (error.hint or "")


def test_unknown_table_is_positioned(con: paqdb.Connection) -> None:
    sql = "EVALUATE MODEL species_model ON iris_tset"
    error = _error(con, sql, errors.UndefinedTableError)
    assert error.column == sql.index("iris_tset") + 1


def test_missing_label_column_is_positioned(con: paqdb.Connection) -> None:
    con.execute(f"CREATE OR REPLACE TABLE unlabeled AS SELECT {', '.join(FEATURES)} FROM iris_test")
    sql = "EVALUATE MODEL species_model ON unlabeled"
    error = _error(con, sql, errors.UndefinedColumnError)
    assert "label column 'species'" in error.message
    assert error.column == sql.index("unlabeled") + 1
    # In a query, at the query.
    sql = f"EVALUATE MODEL species_model ON (SELECT {', '.join(FEATURES)} FROM iris_test)"
    error = _error(con, sql, errors.UndefinedColumnError)
    assert error.column is not None and error.column > sql.index("(SELECT")


def test_missing_feature_column_is_positioned(con: paqdb.Connection) -> None:
    con.execute("CREATE OR REPLACE TABLE narrow AS SELECT species, petal_width_cm FROM iris_test")
    sql = "EVALUATE MODEL species_model ON narrow"
    error = _error(con, sql, errors.UndefinedColumnError)
    assert "sepal_length_cm" in error.message and error.column == sql.index("narrow") + 1


@pytest.mark.parametrize("report", ["confusion", "roc", "pr", "classes"])
def test_a_report_regression_does_not_have(con: paqdb.Connection, report: str) -> None:
    sql = f"EVALUATE MODEL width_model ON iris_test WITH (report => '{report}')"
    error = _error(con, sql, errors.InvalidParameterError)
    assert f"report '{report}' is for classification" in error.message
    assert error.column == sql.index("report =>") + 1


def test_unknown_report_and_bad_threshold(con: paqdb.Connection) -> None:
    sql = "EVALUATE MODEL pair_model ON pair_test WITH (report => 'lift')"
    error = _error(con, sql, errors.InvalidParameterError)
    assert "'metrics'" in error.message and error.column == sql.index("report") + 1
    sql = "EVALUATE MODEL pair_model ON pair_test WITH (threshold => 1.5)"
    error = _error(con, sql, errors.InvalidParameterError)
    assert "at most 1" in error.message and error.column == sql.index("threshold") + 1
    sql = "EVALUATE MODEL pair_model ON pair_test WITH (curves => true)"
    error = _error(con, sql, errors.InvalidParameterError)
    assert "unknown option 'curves'" in error.message
    error = _error(
        con, "EVALUATE MODEL species_model ON iris_test WITH (threshold => 0.5)", errors.InvalidParameterError
    )
    assert "3 classes" in error.message
    sql = "EVALUATE MODEL width_model ON iris_test WITH (threshold => 0.5)"
    error = _error(con, sql, errors.InvalidParameterError)
    assert "does regression" in error.message and error.column == sql.index("threshold") + 1


def test_no_labeled_row_is_a_data_error(con: paqdb.Connection) -> None:
    error = _error(
        con,
        "EVALUATE MODEL pair_model ON (SELECT * FROM pair_test WHERE species IS NULL)",
        errors.DataError,
    )
    assert "NULL in all 2 rows" in error.message


def test_syntax_errors_say_what_the_statement_reads(con: paqdb.Connection) -> None:
    error = _error(con, "EVALUATE MODEL species_model iris_test", errors.ParseError)
    assert "expected ON" in error.message
