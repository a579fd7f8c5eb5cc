"""Scoring inside the engine: a trained model as a vectorised (Arrow) scalar function.

The function takes the model's feature columns, already cast by the planner to the types the model was
trained on (DOUBLE, BOOLEAN or VARCHAR), one Arrow array per column and one call per engine vector,
and returns ``STRUCT(prediction <type>, confidence DOUBLE)``. Nothing is converted row by row.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from paqdb.engines.base import Engine

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
}


class Scorer(Protocol):
    """What scoring needs from a model: predictions (and confidences) for Arrow feature columns."""

    def predict_arrow(self, columns: Sequence[pa.Array]) -> tuple[pa.Array, pa.Array | None]: ...


@dataclass(frozen=True)
class ScoringFunction:
    """A model registered in an engine as ``name(feature, ...) -> STRUCT(prediction, confidence)``."""

    name: str
    argument_types: tuple[str, ...]
    prediction_type: str

    @property
    def return_type(self) -> str:
        return f"STRUCT(prediction {self.prediction_type}, confidence DOUBLE)"


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
    engine: Engine, name: str, model: Scorer, argument_types: Sequence[str], prediction_type: str
) -> ScoringFunction:
    """Register ``model`` in ``engine`` as a scoring function called ``name`` and describe it."""
    function = ScoringFunction(name, tuple(argument_types), prediction_type)
    engine.register_function(
        name,
        make_scoring_callable(model, prediction_type, len(function.argument_types)),  # type: ignore[arg-type]
        function.argument_types,
        function.return_type,
    )
    return function
