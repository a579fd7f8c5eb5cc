"""Scoring inside the engine: a trained model as a vectorised (Arrow) scalar function.

The function takes the model's feature columns, already cast by the planner to the types the model was
trained on (DOUBLE, BOOLEAN or VARCHAR), one Arrow array per column and one call per engine vector,
and returns ``STRUCT(prediction <type>, confidence DOUBLE)``. Nothing is converted row by row.

A classifier's per-class probabilities come from two more forms of it: :func:`register_probabilities`
(``PREDICT_PROBA(...)``: ``MAP(VARCHAR, DOUBLE)``, class value as text -> probability) and
:func:`register` with ``probabilities`` or ``threshold`` (the statement's ``WITH (probabilities => true,
threshold => t)``: the struct gains the same map, and a binary model predicts its second class when that
class's probability is at least ``t``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paqdb.engines.base import Engine
from paqdb.errors import InvalidParameterError

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
}


class Scorer(Protocol):
    """What scoring needs from a model: predictions (and confidences) for Arrow feature columns."""

    def predict_arrow(self, columns: Sequence[pa.Array]) -> tuple[pa.Array, pa.Array | None]: ...


class ProbabilityScorer(Scorer, Protocol):
    """What per-class probabilities need: a classifier's features, probabilities and classes
    (:class:`paqdb.ml.model.TrainedModel` is one)."""

    @property
    def task(self) -> str: ...

    @property
    def classes(self) -> pa.Array | None: ...

    @property
    def label_type(self) -> pa.DataType: ...

    def featurize(self, columns: Sequence[pa.Array]) -> np.ndarray: ...

    def predict_probabilities(self, matrix: np.ndarray) -> np.ndarray: ...


PROBABILITIES_TYPE = "MAP(VARCHAR, DOUBLE)"
"""The SQL type of per-class probabilities: class value cast to VARCHAR -> probability."""


@dataclass(frozen=True)
class ScoringFunction:
    """A model registered in an engine as ``name(feature, ...) -> STRUCT(prediction, confidence)``."""

    name: str
    argument_types: tuple[str, ...]
    prediction_type: str
    #: the struct also holds ``probabilities MAP(VARCHAR, DOUBLE)``
    probabilities: bool = False
    #: a return type other than the struct (``PREDICT_PROBA``'s map)
    returns: str | None = None

    @property
    def return_type(self) -> str:
        if self.returns is not None:
            return self.returns
        extra = f", probabilities {PROBABILITIES_TYPE}" if self.probabilities else ""
        return f"STRUCT(prediction {self.prediction_type}, confidence DOUBLE{extra})"


def function_name(model_name: str, identity: str | None = None) -> str:
    """The engine function name for a catalog model: ``paqdb_score_<model>_<identity prefix>``.

    ``identity`` is the model version's immutable identity (its artifact's sha256): a model dropped and
    created again under the same name and version number gets another function, never the old one's.
    """
    safe = re.sub(r"[^0-9a-zA-Z_]", "_", model_name.lower())
    return f"paqdb_score_{safe}" + (f"_{identity[:16]}" if identity else "")


def make_scoring_callable(model: Scorer, prediction_type: str, arity: int) -> object:
    """Wrap ``model`` as an Arrow UDF body of ``arity`` columns returning the prediction/confidence struct."""
    target = _ARROW_TYPES[prediction_type]

    def score(*columns: pa.Array | pa.ChunkedArray) -> pa.Array:
        arrays = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
        prediction, confidence = model.predict_arrow(arrays)
        if isinstance(prediction, pa.ChunkedArray):
            prediction = prediction.combine_chunks()
        if prediction.type != target:
            prediction = prediction.cast(target)
        rows = len(prediction)
        if confidence is None:
            confidence = pa.nulls(rows, pa.float64())
        elif isinstance(confidence, pa.ChunkedArray):
            confidence = confidence.combine_chunks()
        return pa.StructArray.from_arrays([prediction, confidence], names=["prediction", "confidence"])

    # DuckDB checks the Python signature against the declared argument count.
    score.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"feature_{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)]
    )
    return score


def register(
    engine: Engine,
    name: str,
    model: Scorer,
    argument_types: Sequence[str],
    prediction_type: str,
    *,
    probabilities: bool = False,
    threshold: float | None = None,
) -> ScoringFunction:
    """Register ``model`` in ``engine`` as a scoring function called ``name`` and describe it.

    With ``probabilities`` (a classifier) the struct also holds the per-class probabilities; with
    ``threshold`` (a binary classifier) the prediction is the model's second class (in its class order,
    the sorted label values) when that class's probability is at least ``threshold``, else the first.
    """
    function = ScoringFunction(name, tuple(argument_types), prediction_type, probabilities)
    body: object
    if probabilities or threshold is not None:
        body = make_probability_scoring_callable(
            model,  # type: ignore[arg-type]
            prediction_type,
            len(function.argument_types),
            with_probabilities=probabilities,
            threshold=threshold,
        )
    else:
        body = make_scoring_callable(model, prediction_type, len(function.argument_types))
    engine.register_function(
        name,
        body,  # type: ignore[arg-type]
        function.argument_types,
        function.return_type,
    )
    return function


def class_names(model: ProbabilityScorer) -> list[str]:
    """A classifier's classes as text, in its class order: the keys of its probability map (a class value
    cast to VARCHAR as the engine casts it: ``true``, ``1``, ``>50K``)."""
    classes = model.classes
    if classes is None:
        raise InvalidParameterError(
            "per-class probabilities need a classification model; this one predicts a number",
            hint="use PREDICT(...) for a regression model's prediction",
        )
    return [str(value) for value in pc.cast(classes, pa.string()).to_pylist()]


def class_probabilities(model: ProbabilityScorer, arrays: Sequence[pa.Array]) -> np.ndarray:
    """Probabilities of shape (rows, classes) for one vector of feature columns."""
    assert model.classes is not None
    if len(arrays) == 0 or len(arrays[0]) == 0:
        return np.zeros((0 if not arrays else len(arrays[0]), len(model.classes)))
    return model.predict_probabilities(model.featurize(arrays))


def probability_map(probabilities: np.ndarray, names: Sequence[str]) -> pa.MapArray:
    """One ``MAP(VARCHAR, DOUBLE)`` per row of ``probabilities``, keyed by ``names`` in their order."""
    rows, width = probabilities.shape
    offsets = pa.array(np.arange(0, rows * width + 1, width, dtype=np.int32))
    keys = pa.array(np.tile(np.asarray(names, dtype=object), rows), pa.string())
    values = pa.array(probabilities.reshape(-1), pa.float64())
    return pa.MapArray.from_arrays(offsets, keys, values)


def make_probabilities_callable(model: ProbabilityScorer, arity: int) -> object:
    """Wrap a classifier as an Arrow UDF body of ``arity`` columns returning its per-class probabilities
    as ``MAP(VARCHAR, DOUBLE)`` (``PREDICT_PROBA``)."""
    names = class_names(model)

    def probabilities(*columns: pa.Array | pa.ChunkedArray) -> pa.Array:
        arrays = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
        return probability_map(class_probabilities(model, arrays), names)

    probabilities.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"feature_{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)]
    )
    return probabilities


def make_probability_scoring_callable(
    model: ProbabilityScorer,
    prediction_type: str,
    arity: int,
    *,
    with_probabilities: bool = True,
    threshold: float | None = None,
) -> object:
    """Wrap a classifier as an Arrow UDF body returning ``STRUCT(prediction, confidence[,
    probabilities])``: the prediction is the most probable class, or with ``threshold`` (two classes only)
    the second class when its probability is at least ``threshold``; confidence is the probability of
    the predicted class."""
    names = class_names(model)
    assert model.classes is not None
    if threshold is not None and len(names) != 2:
        raise InvalidParameterError(
            f"threshold applies to a model of two classes; this one has {len(names)}",
            hint="leave threshold out, or read the probabilities with probabilities => true",
        )
    target = _ARROW_TYPES[prediction_type]
    classes = model.classes

    def score(*columns: pa.Array | pa.ChunkedArray) -> pa.Array:
        arrays = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
        probabilities = class_probabilities(model, arrays)
        if threshold is None:
            codes = probabilities.argmax(axis=1)
        else:
            codes = (probabilities[:, 1] >= threshold).astype(np.int64)
        prediction = classes.take(pa.array(codes, pa.int64()))
        if prediction.type != model.label_type:
            prediction = pc.cast(prediction, model.label_type)
        if prediction.type != target:
            prediction = prediction.cast(target)
        confidence = pa.array(probabilities[np.arange(len(codes)), codes], pa.float64())
        fields = [prediction, confidence]
        labels = ["prediction", "confidence"]
        if with_probabilities:
            fields.append(probability_map(probabilities, names))
            labels.append("probabilities")
        return pa.StructArray.from_arrays(fields, names=labels)

    score.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"feature_{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)]
    )
    return score


def register_probabilities(
    engine: Engine, name: str, model: ProbabilityScorer, argument_types: Sequence[str]
) -> ScoringFunction:
    """Register a classifier in ``engine`` as ``name(feature, ...) -> MAP(VARCHAR, DOUBLE)``, its
    per-class probabilities (``PREDICT_PROBA``), and describe it."""
    function = ScoringFunction(name, tuple(argument_types), "DOUBLE", returns=PROBABILITIES_TYPE)
    engine.register_function(
        name,
        make_probabilities_callable(model, len(function.argument_types)),  # type: ignore[arg-type]
        function.argument_types,
        function.return_type,
    )
    return function
