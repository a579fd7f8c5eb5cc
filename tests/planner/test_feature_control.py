"""Feature control (issue 10, item 6): ``exclude => [...]``, identifier-like columns left out by default,
and ``class_weight => 'balanced'`` in every family that takes class weights."""

from __future__ import annotations

import numpy as np
import pytest

import paqdb
from paqdb import errors
from paqdb.ml.batched_linear import BatchedLinearTrainer
from paqdb.ml.families import FAMILIES, TrainingShape, get_family
from paqdb.planner.planner import IDENTIFIER_MIN_ROWS
from paqdb.search import SearchSpec

_BRIEF = "families => ['logistic'], budget => '1 trials'"


def _features(con: paqdb.Connection, model: str) -> list[str]:
    return list(con.session.context.models.load(model).model.feature_names)


def _explain(con: paqdb.Connection, sql: str) -> list[str]:
    return [row[0] for row in con.execute(f"EXPLAIN {sql}").fetchall()]


@pytest.fixture
def people(con: paqdb.Connection) -> paqdb.Connection:
    """300 rows with an integer id, a string key (both unique per row), two features and a label."""
    con.execute(
        "CREATE TABLE people AS SELECT range AS id, 'key-' || range AS customer_key, "
        "(range * 7919) % 13 AS x, (range * 31) % 7 AS z, "
        "CASE WHEN (range * 7919) % 13 > 8 THEN 'yes' ELSE 'no' END AS y FROM range(300)"
    )
    return con


# -- exclude ------------------------------------------------------------------------------------------


def test_exclude_removes_columns(con: paqdb.Connection) -> None:
    con.execute(f"CREATE MODEL m PREDICT species FROM iris_train USING SEARCH ({_BRIEF})")
    assert "sepal_width_cm" in _features(con, "m")
    con.execute(
        "CREATE OR REPLACE MODEL m PREDICT species FROM iris_train "
        f"USING SEARCH ({_BRIEF}, exclude => ['sepal_width_cm', 'PETAL_WIDTH_CM'])"
    )
    assert _features(con, "m") == ["sepal_length_cm", "petal_length_cm"]
    without_width = (
        f"PREDICT species FROM iris_test GIVEN iris_train "
        f"USING SEARCH ({_BRIEF}, exclude => ['sepal_width_cm'])"
    )
    lines = _explain(con, without_width)
    assert any("dropped columns: sepal_width_cm (excluded)" in line for line in lines)
    # The scored rows keep every input column: exclude only leaves the column out of the features.
    cursor = con.execute(without_width)
    assert "sepal_width_cm" in [d[0] for d in cursor.description]


@pytest.mark.parametrize(
    ("option", "error", "fragment"),
    [
        ("exclude => ['sepal_width_cm', 'nope']", errors.UndefinedColumnError, "'nope'"),
        ("exclude => ['species']", errors.InvalidParameterError, "the label 'species'"),
        ("exclude => []", errors.InvalidParameterError, "not a list of column names"),
        ("exclude => 3", errors.InvalidParameterError, "not a list of column names"),
    ],
)
def test_a_bad_exclude_is_a_positioned_error(
    con: paqdb.Connection, option: str, error: type[errors.Error], fragment: str
) -> None:
    sql = f"PREDICT species FROM iris_test GIVEN iris_train USING SEARCH ({_BRIEF}, {option})"
    with pytest.raises(error) as caught:
        con.execute(sql)
    assert fragment in caught.value.message
    assert caught.value.line == 1 and caught.value.column == sql.index(option) + 1


# -- identifier-like columns --------------------------------------------------------------------------


def test_identifier_like_columns_are_left_out_with_a_notice(people: paqdb.Connection) -> None:
    sql = f"PREDICT y FROM people GIVEN people USING SEARCH ({_BRIEF})"
    lines = _explain(people, sql)
    dropped = next(line for line in lines if "dropped columns:" in line)
    assert "id (identifier-like" in dropped and "customer_key (identifier-like" in dropped
    assert "x (" not in dropped and "z (" not in dropped
    cursor = people.execute(sql)
    assert "not used as features: id (identifier-like" in cursor.message
    people.execute(f"CREATE MODEL m PREDICT y FROM people USING SEARCH ({_BRIEF})")
    assert _features(people, "m") == ["x", "z"]


def test_drop_identifiers_false_keeps_them(people: paqdb.Connection) -> None:
    people.execute(f"CREATE MODEL m PREDICT y FROM people USING SEARCH ({_BRIEF}, drop_identifiers => false)")
    assert _features(people, "m") == ["id", "customer_key", "x", "z"]


def test_small_tables_and_repeated_values_keep_their_columns(people: paqdb.Connection) -> None:
    # Below IDENTIFIER_MIN_ROWS rows, every value of a few rows may differ without being an id.
    people.execute(f"CREATE TABLE few AS SELECT * FROM people LIMIT {IDENTIFIER_MIN_ROWS - 1}")
    people.execute(f"CREATE MODEL small PREDICT y FROM few USING SEARCH ({_BRIEF})")
    assert "id" in _features(people, "small")
    # One repeated value makes a column no identifier.
    people.execute("UPDATE people SET id = 0 WHERE id = 1")
    people.execute(f"CREATE MODEL repeated PREDICT y FROM people USING SEARCH ({_BRIEF})")
    assert _features(people, "repeated") == ["id", "x", "z"]


def test_a_model_keeps_one_feature_even_if_it_looks_like_an_identifier(people: paqdb.Connection) -> None:
    people.execute(f"CREATE MODEL lone PREDICT y FROM (SELECT id, y FROM people) USING SEARCH ({_BRIEF})")
    assert _features(people, "lone") == ["id"]


# -- class_weight -------------------------------------------------------------------------------------

_WEIGHTED = ("logistic", "linear_svm", "random_forest", "gradient_boosting", "kernel_approximation")


@pytest.mark.parametrize("family", _WEIGHTED)
def test_class_weight_reaches_every_family_that_takes_it(family: str) -> None:
    spec = SearchSpec.from_options({"families": [family], "class_weight": "balanced"})
    plan = spec.resolve("classification")
    assert plan.spaces[family]["class_weight"] == ["balanced"]
    estimator = get_family(family).build(
        "classification", {"class_weight": "balanced"}, 0, TrainingShape(1000, 100, n_features=4, n_classes=2)
    )
    params = estimator.get_params()
    assert params.get("class_weight", params.get("model__class_weight")) == "balanced"
    # Without the option nothing changes: scikit-learn's own default.
    plain = get_family(family).build("classification", None, 0, TrainingShape(1000, 100))
    plain_params = plain.get_params()
    assert plain_params.get("class_weight", plain_params.get("model__class_weight")) is None


def test_class_weight_families() -> None:
    assert {f.name for f in FAMILIES.values() if f.class_weighted} == set(_WEIGHTED)
    plan = SearchSpec.from_options({"class_weight": "balanced"}).resolve("classification")
    # mlp cannot weigh classes: a weighted search leaves it out rather than compare it on other terms.
    assert "mlp" not in {f.name for f in plan.families}
    assert {f.name for f in plan.families} == set(_WEIGHTED)
    assert "class_weight" not in SearchSpec().resolve("classification").spaces["logistic"]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ("class_weight => 'heavy'", "not one of: balanced"),
        ("class_weight => 'balanced', families => ['mlp']", "does not apply to family 'mlp'"),
        ("class_weight => 'balanced', task => 'regression'", "applies to classification"),
    ],
)
def test_a_bad_class_weight_is_a_positioned_error(con: paqdb.Connection, options: str, fragment: str) -> None:
    sql = f"PREDICT species FROM iris_test GIVEN iris_train USING SEARCH ({options})"
    with pytest.raises(errors.InvalidParameterError) as caught:
        con.execute(sql)
    assert fragment in caught.value.message
    assert caught.value.column == sql.index("class_weight") + 1


def test_class_weight_on_a_regression_label_is_an_error(con: paqdb.Connection) -> None:
    with pytest.raises(errors.InvalidParameterError, match="applies to classification"):
        con.execute(
            "PREDICT petal_width_cm FROM iris_test GIVEN iris_train "
            "USING SEARCH (families => ['random_forest'], class_weight => 'balanced', budget => '1 trials')"
        )


@pytest.fixture
def imbalanced(con: paqdb.Connection) -> paqdb.Connection:
    """1,000 rows, about 9% positive, the positive class overlapping the negative one."""
    con.execute(
        "CREATE TABLE skewed AS SELECT x, w, x + 0.5 * noise > 1.2 AS y FROM ("
        "SELECT (hash(range, 1) % 10000) / 10000.0 AS x, (hash(range, 2) % 10000) / 10000.0 AS w, "
        "(hash(range, 3) % 10000) / 10000.0 AS noise FROM range(1000))"
    )
    return con


@pytest.mark.parametrize(
    ("family", "strategy", "extra"),
    [
        ("logistic", "tupaq", ""),  # the batched trainer weighs its rows
        ("logistic", "random", ""),  # scikit-learn's estimator takes class_weight
        ("linear_svm", "tupaq", ""),
        ("linear_svm", "random", ""),
        ("random_forest", "random", ", n_estimators => [20], min_samples_leaf => [10]"),
        ("gradient_boosting", "tupaq", ", max_iter => [30]"),
    ],
)
def test_class_weight_changes_the_fitted_model(
    imbalanced: paqdb.Connection, family: str, strategy: str, extra: str
) -> None:
    """Balanced weights predict the rare class more often, and the stored model records them."""
    search = f"families => ['{family}'], budget => '1 trials', strategy => '{strategy}'{extra}"
    counts = {}
    for name, weights in (("plain", ""), ("weighted", ", class_weight => 'balanced'")):
        imbalanced.execute(f"CREATE MODEL {name} PREDICT y FROM skewed USING SEARCH ({search}{weights})")
        (counts[name],) = imbalanced.execute(
            f"SELECT count(*) FROM skewed WHERE PREDICT(y USING MODEL {name})"
        ).fetchone()
    (positives,) = imbalanced.execute("SELECT count(*) FROM skewed WHERE y").fetchone()
    assert 0 < positives < 150
    assert counts["weighted"] > counts["plain"]
    model = imbalanced.session.context.models.load("weighted").model
    assert model.hyperparameters["class_weight"] == "balanced"
    assert "class_weight" not in imbalanced.session.context.models.load("plain").model.hyperparameters


def test_batched_trainer_weighs_rows_like_scikit_learn_and_alone_as_in_a_batch() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 4))
    y = ((X[:, 0] + 0.5 * rng.standard_normal(2000)) > 1.6).astype(int)
    batch = BatchedLinearTrainer(
        "logistic", [{"C": 1.0}, {"C": 1.0, "class_weight": "balanced"}], batch_size=None
    ).start(X, y)
    batch.advance(400)
    alone = BatchedLinearTrainer("logistic", [{"C": 1.0, "class_weight": "balanced"}], batch_size=None).start(
        X, y
    )
    alone.advance(400)
    np.testing.assert_allclose(alone.estimator(0).coef_, batch.estimator(1).coef_, rtol=1e-9)
    reference = LogisticRegression(C=1.0, class_weight="balanced").fit(X, y)
    weighted = batch.estimator(1)
    assert weighted.get_params()["class_weight"] == "balanced"
    np.testing.assert_allclose(weighted.coef_, reference.coef_, rtol=0.1)
    np.testing.assert_allclose(weighted.intercept_, reference.intercept_, rtol=0.1)
    assert weighted.predict(X).mean() > batch.estimator(0).predict(X).mean()
    with pytest.raises(errors.InvalidParameterError, match="class_weight"):
        BatchedLinearTrainer("ridge", [{"alpha": 1.0, "class_weight": "balanced"}]).start(X, X[:, 0])
