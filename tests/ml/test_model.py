"""TrainedModel: Arrow predictions in the label's type, safe artifacts that round-trip exactly."""

from __future__ import annotations

import decimal
import io
import json
import zipfile

import numpy as np
import pyarrow as pa
import pytest

from paqdb.errors import ArtifactError
from paqdb.ml.families import FAMILIES
from paqdb.ml.model import TrainedModel
from paqdb.ml.training import train_model

FAMILY_TASKS = [(name, task) for name, family in FAMILIES.items() for task in family.tasks]
# Small models keep the round-trip tests fast.
SMALL = {
    "random_forest": {"n_estimators": 10},
    "gradient_boosting": {"max_iter": 20, "native_categorical": True},
    "kernel_approximation": {"n_components": 64},
}


def _features(table: pa.Table, label: str) -> list[pa.Array]:
    return [table.column(name).combine_chunks() for name in table.column_names if name != label]


@pytest.mark.parametrize(("family", "task"), FAMILY_TASKS)
def test_artifact_round_trip_gives_identical_predictions(family: str, task: str, table: pa.Table) -> None:
    label = "label" if task == "classification" else "amount"
    data = table.drop_columns(["amount" if label == "label" else "label"])
    model = train_model(data, label, family=family, hyperparameters=SMALL.get(family))
    restored = TrainedModel.from_bytes(model.to_bytes())
    features = _features(data, label)
    prediction, confidence = model.predict_arrow(features)
    restored_prediction, restored_confidence = restored.predict_arrow(features)
    assert restored_prediction.equals(prediction)
    assert (confidence is None and restored_confidence is None) or (
        confidence is not None and restored_confidence is not None and restored_confidence.equals(confidence)
    )
    assert restored.family == model.family and restored.task == model.task == task
    assert restored.hyperparameters == model.hyperparameters
    assert restored.features == model.features
    assert restored.label_type == model.label_type


def test_artifact_is_a_zip_of_json_arrow_and_skops(classification_table: pa.Table) -> None:
    model = train_model(classification_table, "label", family="logistic")
    with zipfile.ZipFile(io.BytesIO(model.to_bytes())) as archive:
        assert set(archive.namelist()) == {
            "paqdb_model.json",
            "schema.arrow",
            "classes.arrow",
            "estimator.skops",
        }
        manifest = json.loads(archive.read("paqdb_model.json"))
    assert manifest["format"] == "paqdb-model" and manifest["family"] == "logistic"


class NotAllowed:
    """A type outside the allow-list, as a tampered artifact would carry."""


def test_artifact_naming_a_disallowed_type_is_rejected(classification_table: pa.Table) -> None:
    model = train_model(classification_table, "label", family="logistic")
    model.estimator.smuggled_ = NotAllowed()
    with pytest.raises(ArtifactError, match="not allowed") as caught:
        TrainedModel.from_bytes(model.to_bytes())
    assert "NotAllowed" in caught.value.message


def test_artifact_naming_a_disallowed_function_is_rejected(classification_table: pa.Table) -> None:
    model = train_model(classification_table, "label", family="logistic")
    model.estimator.smuggled_ = print
    with pytest.raises(ArtifactError, match=r"builtins\.print"):
        TrainedModel.from_bytes(model.to_bytes())


def test_corrupt_or_foreign_artifacts_are_rejected(classification_table: pa.Table) -> None:
    with pytest.raises(ArtifactError, match="corrupt"):
        TrainedModel.from_bytes(b"definitely not a model")
    original = train_model(classification_table, "label", family="logistic").to_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "paqdb_model.json":
                manifest = json.loads(content)
                manifest["version"] = 99
                content = json.dumps(manifest).encode()
            target.writestr(name, content)
    with pytest.raises(ArtifactError, match="version 99"):
        TrainedModel.from_bytes(buffer.getvalue())


@pytest.mark.parametrize(
    "label",
    [
        pa.array(["no", "yes"] * 30),
        pa.array(["no", "yes"] * 30, pa.large_string()),
        pa.array(["no", "yes"] * 30).dictionary_encode(),
        pa.array([True, False] * 30),
        pa.array([3, 7] * 30, pa.int64()),
        pa.array([3, 7] * 30, pa.int16()),
    ],
    ids=["string", "large_string", "dictionary", "bool", "int64", "int16"],
)
def test_classification_predictions_come_back_in_the_label_type(label: pa.Array) -> None:
    x = np.arange(60, dtype=float) % 2
    table = pa.table({"x": x, "y": label})
    model = train_model(table, "y", family="logistic")
    prediction, confidence = model.predict_arrow([pa.array(x)])
    assert prediction.type == label.type
    assert prediction.to_pylist() == label.to_pylist()
    assert confidence is not None and confidence.type == pa.float64()
    assert all(0.5 <= c <= 1.0 for c in confidence.to_pylist())


@pytest.mark.parametrize(
    "label",
    [
        pa.array(np.linspace(0, 10, 60)),
        pa.array(np.linspace(0, 10, 60), pa.float32()),
        pa.array(np.arange(0, 120, 2), pa.int64()),
        pa.array([decimal.Decimal(f"{v:.2f}") for v in np.linspace(0, 10, 60)], pa.decimal128(6, 2)),
    ],
    ids=["float64", "float32", "int64", "decimal"],
)
def test_regression_predictions_come_back_in_the_label_type(label: pa.Array) -> None:
    x = np.arange(60, dtype=float)
    table = pa.table({"x": x, "y": label})
    model = train_model(table, "y", family="ridge", hyperparameters={"alpha": 1e-6})
    assert model.task == "regression"
    prediction, confidence = model.predict_arrow([pa.array(x)])
    assert prediction.type == label.type and confidence is None
    np.testing.assert_allclose(
        np.array(prediction.to_pylist(), dtype=float), np.array(label.to_pylist(), dtype=float), atol=0.02
    )


def test_rows_with_null_features_still_get_predictions(classification_table: pa.Table) -> None:
    model = train_model(classification_table, "label", family="gradient_boosting")
    nulls = [pa.nulls(3, field.type) for field in model.feature_schema]
    prediction, confidence = model.predict_arrow(nulls)
    assert prediction.null_count == 0 and len(prediction) == 3
    assert confidence is not None and confidence.null_count == 0


def test_empty_input_gives_empty_output(classification_table: pa.Table) -> None:
    model = train_model(classification_table, "label", family="logistic")
    prediction, confidence = model.predict_arrow([pa.array([], f.type) for f in model.feature_schema])
    assert len(prediction) == 0 and prediction.type == pa.string()
    assert confidence is not None and len(confidence) == 0


def test_confidence_is_the_probability_of_the_predicted_class(classification_table: pa.Table) -> None:
    model = train_model(
        classification_table, "label", family="random_forest", hyperparameters={"n_estimators": 10}
    )
    matrix = model.featurize(classification_table)
    probabilities = model.estimator.predict_proba(matrix)
    prediction, confidence = model.predict_arrow(classification_table)
    assert confidence is not None
    np.testing.assert_allclose(confidence.to_numpy(), probabilities.max(axis=1))
    codes = model.predict_matrix(matrix)
    assert prediction.to_pylist() == [model.classes[int(c)].as_py() for c in codes]  # type: ignore[index]


def test_linear_svm_confidence_comes_from_its_margin(classification_table: pa.Table) -> None:
    model = train_model(classification_table, "label", family="linear_svm")
    _, confidence = model.predict_arrow(classification_table)
    assert confidence is not None
    values = confidence.to_numpy()
    assert ((values >= 0.5) & (values <= 1.0)).all()


def test_multiclass_prediction(table: pa.Table) -> None:
    data = table.drop_columns(["label", "amount"])
    model = train_model(data, "city", family="gradient_boosting", hyperparameters={"max_iter": 10})
    assert model.classes is not None and model.classes.to_pylist() == [
        "kyoto",
        "lima",
        "oslo",
        "paris",
        "quito",
    ]
    prediction, _ = model.predict_arrow(data)
    assert set(prediction.to_pylist()) <= set(model.classes.to_pylist())
