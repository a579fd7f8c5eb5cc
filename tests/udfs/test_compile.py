"""Models compiled to native SQL (issue 10, item 7): the compiled expression predicts exactly what the
model's Arrow UDF predicts (labels equal, probabilities within a few ulps), NULL features and categories
never seen in training included, and PREDICT takes the compiled path where a model compiles."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

import paqdb
from paqdb.ml.families import TrainingShape, get_family
from paqdb.ml.features import Featurizer
from paqdb.ml.model import TrainedModel
from paqdb.udfs.compile import NotCompilable, compile_model, planned_path

_ROWS = 600


def _training_table(rng: np.random.Generator, rows: int) -> pa.Table:
    colours = np.array(["red", "green", "blue", "grey", "teal"])
    age = rng.normal(40, 12, rows)
    age[rng.random(rows) < 0.1] = np.nan  # missing values make a missing-indicator column
    return pa.table(
        {
            "age": pa.array(age, mask=np.isnan(age)),
            "income": pa.array(rng.exponential(30_000, rows)),
            "member": pa.array(rng.random(rows) < 0.4),
            "colour": pa.array(colours[rng.integers(0, 5, rows)].tolist()),
        }
    )


def _scoring_table(rng: np.random.Generator) -> pa.Table:
    """Rows with NULLs in every column, NaN and infinities, and colours never seen in training."""
    table = _training_table(rng, 300)
    extra = pa.table(
        {
            "age": pa.array([None, float("nan"), float("inf"), 40.0, None, 18.0]),
            "income": pa.array([None, 1.0, float("-inf"), None, 5e5, 0.0]),
            "member": pa.array([None, True, False, None, True, None]),
            "colour": pa.array([None, "purple", "red", "", None, "GREEN"]),
        }
    )
    return pa.concat_tables([table, extra])


def _labels(table: pa.Table, task: str, n_classes: int) -> np.ndarray:
    age = np.nan_to_num(table.column("age").to_numpy(zero_copy_only=False), nan=40.0)
    score = age / 10 + np.log1p(table.column("income").to_numpy()) + np.asarray(table.column("member"), float)
    score += np.asarray(pa.compute.equal(table.column("colour"), "red").fill_null(False), float) * 2
    if task == "regression":
        return score
    edges = np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1])
    return np.digitize(score, edges)


def _model(
    family: str, task: str, n_classes: int = 2, max_categories: int = 100, **overrides: object
) -> TrainedModel:
    rng = np.random.default_rng(7)
    table = _training_table(rng, _ROWS)
    y = _labels(table, task, n_classes)
    featurizer = Featurizer(max_categories=max_categories).fit(table)
    spec = get_family(family)
    matrix = featurizer.transform(table, spec.encoding)
    configuration = {**spec.defaults, **overrides}
    shape = TrainingShape(
        n_samples=_ROWS,
        n_features=matrix.shape[1],
        n_classes=n_classes if task == "classification" else 0,
        categorical_features=featurizer.categorical_mask(spec.encoding),
    )
    estimator = spec.builder(task, configuration, 0, shape)
    estimator.fit(matrix, y)
    names = ["low", "mid", "high", "top"][:n_classes]
    return TrainedModel(
        task=task,  # type: ignore[arg-type]
        label="y",
        label_type=pa.string() if task == "classification" else pa.float64(),
        feature_schema=table.schema,
        family=family,
        hyperparameters=configuration,
        classes=pa.array(names) if task == "classification" else None,
        featurizer=featurizer,
        estimator=estimator,
    )


def _inputs(table: pa.Table) -> pa.Table:
    """The feature columns cast as the planner casts them for a model (DOUBLE, BOOLEAN, VARCHAR)."""
    return pa.table(
        {
            "age": table.column("age").cast(pa.float64()),
            "income": table.column("income"),
            "member": table.column("member"),
            "colour": table.column("colour"),
        }
    )


def _compare(model: TrainedModel, prediction_type: str) -> None:
    inputs = _inputs(_scoring_table(np.random.default_rng(11)))
    expected, confidence = model.predict_arrow(inputs)
    compiled = compile_model(model, prediction_type)
    con = duckdb.connect()
    con.register("inputs", inputs)
    con.execute(compiled.macro_sql("score"))
    result = con.sql(
        'SELECT s.prediction, s.confidence FROM (SELECT score("age", "income", "member", "colour") AS s '
        "FROM inputs)"
    ).to_arrow_table()
    con.close()
    predicted = result.column(0).to_pylist()
    if model.task == "classification":
        assert predicted == expected.to_pylist()
        assert confidence is not None
        np.testing.assert_allclose(result.column(1).to_numpy(), confidence.to_numpy(), rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_allclose(np.asarray(predicted, float), expected.to_numpy(), rtol=1e-12)
        assert result.column(1).null_count == len(result)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("family", ["logistic", "linear_svm"])
def test_linear_classifiers_compile_to_the_same_predictions(family: str, n_classes: int) -> None:
    _compare(_model(family, "classification", n_classes), "VARCHAR")


def test_ridge_compiles_to_the_same_predictions() -> None:
    _compare(_model("ridge", "regression"), "DOUBLE")


@pytest.mark.parametrize("task,n_classes", [("classification", 2), ("classification", 3), ("regression", 0)])
def test_gradient_boosting_compiles_to_the_same_predictions(task: str, n_classes: int) -> None:
    _compare(_model("gradient_boosting", task, n_classes, max_iter=30), "VARCHAR" if n_classes else "DOUBLE")


@pytest.mark.parametrize("task,n_classes", [("classification", 2), ("classification", 3), ("regression", 0)])
def test_random_forest_compiles_to_the_same_predictions(task: str, n_classes: int) -> None:
    model = _model("random_forest", task, n_classes, n_estimators=15, max_depth=6)
    _compare(model, "VARCHAR" if n_classes else "DOUBLE")


@pytest.mark.parametrize("family", ["logistic", "gradient_boosting", "random_forest"])
def test_a_capped_vocabulary_keeps_other_and_null_apart(family: str) -> None:
    """With an "other" slot, an unseen value and NULL take different slots, compiled as in the UDF."""
    _compare(_model(family, "classification", 3, max_categories=2, max_iter=20, n_estimators=10), "VARCHAR")


def test_float32_bounds_match_scikit_learns_rounding() -> None:
    from paqdb.udfs.compile import _float32_bound

    rng = np.random.default_rng(0)
    for threshold in [*rng.normal(0, 1e4, 200), 0.5, 1e30, -3.0, float(np.float32(0.1))]:
        bound, inclusive = _float32_bound(float(threshold))
        near = np.nextafter(bound, [-np.inf, np.inf])
        for x in [bound, *near, *rng.normal(threshold, abs(threshold) * 1e-6 + 1e-9, 50)]:
            expected = float(np.float32(x)) <= threshold
            assert expected == (x <= bound if inclusive else x < bound), (threshold, x)


def test_boosting_tree_sums_are_exact() -> None:
    """Trees add in scikit-learn's order on the same float64 values: equal to the last bit."""
    model = _model("gradient_boosting", "regression", max_iter=40)
    inputs = _inputs(_scoring_table(np.random.default_rng(3)))
    expected, _ = model.predict_arrow(inputs)
    con = duckdb.connect()
    con.register("inputs", inputs)
    con.execute(compile_model(model, "DOUBLE").macro_sql("score"))
    got = con.execute(
        'SELECT (score("age", "income", "member", "colour")).prediction AS prediction FROM inputs'
    ).fetchnumpy()
    con.close()
    assert np.array_equal(got["prediction"], expected.to_numpy())


def test_models_that_do_not_compile_say_why() -> None:
    assert planned_path("mlp", {}, {}) == "family mlp does not compile to SQL"
    assert planned_path("kernel_approximation", {}, {}) is not None
    assert planned_path("gradient_boosting", {"native_categorical": True}, {}) is not None
    assert planned_path("logistic", {}, {"pca": 5}) is not None
    assert planned_path("logistic", {}, {"text": ["notes"]}) is not None
    assert planned_path("logistic", {}, {}) is None
    with pytest.raises(NotCompilable, match="mlp"):
        compile_model(_model("mlp", "classification", max_iter=20), "VARCHAR")


def test_compiled_sql_renders_in_another_dialect() -> None:
    compiled = compile_model(_model("logistic", "classification"), "VARCHAR")
    assert "TRANSFORM(" in compiled.sql("spark")


def test_predict_uses_the_compiled_path_and_explain_says_so(database: str) -> None:
    with paqdb.connect(database) as con:
        con.execute("LOAD DATASET iris")
        for family in ("logistic", "mlp", "gradient_boosting"):
            con.execute(
                f"CREATE MODEL m_{family} PREDICT species FROM iris "
                f"USING SEARCH (families => ['{family}'], budget => '1 trials')"
            )
        con.commit()
        plan = "\n".join(
            r[0] for r in con.execute("EXPLAIN PREDICT species FROM iris USING MODEL m_logistic").fetchall()
        )
        assert "compiled SQL" in plan
        plan = "\n".join(
            r[0] for r in con.execute("EXPLAIN PREDICT species FROM iris USING MODEL m_mlp").fetchall()
        )
        assert "compiled SQL" not in plan and "Arrow" in plan
        explain = "EXPLAIN PREDICT species FROM iris USING MODEL m_gradient_boosting"
        plan = "\n".join(r[0] for r in con.execute(explain).fetchall())
        assert "Arrow UDF (tree ensembles score through the Arrow UDF" in plan
        model = con.session.context.models.load("m_logistic").model
        expected = model.predict_arrow(
            con.session.engine.query_arrow(
                "SELECT sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm FROM iris"
            )
        )[0].to_pylist()
        got = [
            r[0] for r in con.execute("SELECT PREDICT(species USING MODEL m_logistic) FROM iris").fetchall()
        ]
        assert got == expected
        # A rollback takes the macro with it; the next statement makes it again.
        con.rollback()
        again = [
            r[0] for r in con.execute("SELECT PREDICT(species USING MODEL m_logistic) FROM iris").fetchall()
        ]
        assert again == expected


def _compare_relation(model: TrainedModel, prediction_type: str) -> None:
    """The tree ensemble's chain of projections (:func:`compile_relation`) predicts what the model does,
    row for row (the rows carry an id through the chain)."""
    from sqlglot import exp

    from paqdb.udfs.compile import compile_relation

    inputs = _inputs(_scoring_table(np.random.default_rng(11)))
    expected, confidence = model.predict_arrow(inputs)
    relation = compile_relation(model, prediction_type)
    names = ["age", "income", "member", "colour"]
    query = relation.query(exp.to_table("inputs"), [exp.column(n) for n in names], "s")
    con = duckdb.connect()
    con.register("inputs", inputs.append_column("row_id", pa.array(np.arange(len(inputs)))))
    result = con.sql(
        f"SELECT (s).prediction, (s).confidence FROM ({query.sql(dialect='duckdb')}) ORDER BY row_id"
    ).to_arrow_table()
    con.close()
    predicted = result.column(0).to_pylist()
    if model.task == "classification":
        assert predicted == expected.to_pylist()
        assert confidence is not None
        np.testing.assert_allclose(result.column(1).to_numpy(), confidence.to_numpy(), rtol=1e-12, atol=1e-15)
    else:
        # boosting sums add the same leaves in the same order: equal to the last bit
        assert np.array_equal(np.asarray(predicted, float), expected.to_numpy())
        assert result.column(1).null_count == len(result)


@pytest.mark.parametrize("task,n_classes", [("classification", 2), ("classification", 3), ("regression", 0)])
@pytest.mark.parametrize("family", ["gradient_boosting", "random_forest"])
def test_tree_ensembles_compile_to_a_relation_with_the_same_predictions(
    family: str, task: str, n_classes: int
) -> None:
    model = _model(family, task, n_classes, max_iter=30, n_estimators=15, max_depth=6)
    _compare_relation(model, "VARCHAR" if n_classes else "DOUBLE")


@pytest.mark.parametrize("family", ["gradient_boosting", "random_forest"])
def test_relation_with_a_capped_vocabulary_keeps_other_and_null_apart(family: str) -> None:
    model = _model(family, "classification", 3, max_categories=2, max_iter=20, n_estimators=10, max_depth=6)
    _compare_relation(model, "VARCHAR")


@pytest.mark.parametrize("bounds,word_bits", [(2, 127), (255, 31), (0, 63)])
def test_relation_searches_wide_features_and_packs_words_of_any_size(
    monkeypatch: pytest.MonkeyPatch, bounds: int, word_bits: int
) -> None:
    """Features with more bounds than MAX_LOOKUP_BOUNDS are searched per tree; one tree per word or
    several: the same predictions either way."""
    import paqdb.udfs.compile as compile_module

    monkeypatch.setattr(compile_module, "MAX_LOOKUP_BOUNDS", bounds)
    monkeypatch.setattr(compile_module, "WORD_BITS", word_bits)
    _compare_relation(_model("gradient_boosting", "regression", max_iter=25), "DOUBLE")
    _compare_relation(_model("random_forest", "classification", 2, n_estimators=8, max_depth=4), "VARCHAR")


def test_relation_refuses_what_it_cannot_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    import paqdb.udfs.compile as compile_module

    with pytest.raises(NotCompilable, match="only tree ensembles"):
        compile_module.compile_relation(_model("logistic", "classification"), "VARCHAR")
    monkeypatch.setattr(compile_module, "MAX_TREE_LEAVES", 8)  # a leaf bitmask holds 127 leaves
    with pytest.raises(NotCompilable, match="leaves is more than 8"):
        compile_module.compile_relation(
            _model("random_forest", "classification", 3, n_estimators=2), "VARCHAR"
        )


def test_relation_sql_parses_as_spark_sql() -> None:
    import sqlglot
    from sqlglot.errors import ErrorLevel

    from paqdb.udfs.compile import compile_relation

    relation = compile_relation(_model("gradient_boosting", "classification", 2, max_iter=5), "VARCHAR")
    spark = relation.sql("spark")
    assert sqlglot.parse_one(spark, read="spark") is not None
    assert "BIT_COUNT" in spark
    assert sqlglot.transpile(
        relation.sql("duckdb"), read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
    )
