"""Scoring with explanations: ``PREDICT ... WITH (explain => true)`` as one vectorised (Arrow) function.

The function is :mod:`paqdb.udfs.scoring`'s (``STRUCT(prediction, confidence[, probabilities])``, with the
statement's probabilities and threshold) with two more fields: ``contributions MAP(VARCHAR, DOUBLE)`` (input
column -> contribution) and ``base_value DOUBLE``, from :class:`paqdb.ml.explain.ModelExplainer`. One call
per engine vector, as scoring does.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from paqdb.engines.base import Engine
from paqdb.ml.model import TrainedModel
from paqdb.udfs import scoring

CONTRIBUTIONS_TYPE = "MAP(VARCHAR, DOUBLE)"
"""The SQL type of a row's contributions: input column -> contribution."""


def contribution_map(contributions: np.ndarray, names: Sequence[str]) -> pa.MapArray:
    """One ``MAP(VARCHAR, DOUBLE)`` per row of ``contributions`` (rows, columns), keyed by ``names``."""
    return scoring.probability_map(contributions, names)


def register(
    engine: Engine,
    name: str,
    model: TrainedModel,
    argument_types: Sequence[str],
    prediction_type: str,
    *,
    probabilities: bool = False,
    threshold: float | None = None,
) -> scoring.ScoringFunction:
    """Register ``model`` in ``engine`` as ``name(feature, ...) -> STRUCT(prediction, confidence[,
    probabilities], contributions, base_value)`` and describe it.

    Raises :class:`~paqdb.errors.NotSupportedError` for a model family that is not explained (see
    :data:`paqdb.ml.explain.EXPLAINABLE_FAMILIES`).
    """
    from paqdb.ml.explain import explainer_for

    explainer = explainer_for(model)
    arity = len(argument_types)
    inner: object
    if probabilities or threshold is not None:
        inner = scoring.make_probability_scoring_callable(
            model,
            prediction_type,
            arity,
            with_probabilities=probabilities,
            threshold=threshold,
        )
    else:
        inner = scoring.make_scoring_callable(model, prediction_type, arity)
    names = explainer.feature_names

    def score(*columns: pa.Array | pa.ChunkedArray) -> pa.Array:
        arrays = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
        scored: pa.StructArray = inner(*arrays)  # type: ignore[operator]
        fields = [scored.field(i) for i in range(scored.type.num_fields)]
        labels = [scored.type.field(i).name for i in range(scored.type.num_fields)]
        rows = len(scored)
        if rows == 0:
            contributions = np.zeros((0, len(names)))
            base = np.zeros(0)
        else:
            explained = explainer.explain(arrays)
            contributions, base = explained.contributions, explained.base_value
        fields += [contribution_map(contributions, names), pa.array(base, pa.float64())]
        labels += ["contributions", "base_value"]
        return pa.StructArray.from_arrays(fields, names=labels)

    score.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"feature_{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)]
    )
    base_type = scoring.ScoringFunction(
        name, tuple(argument_types), prediction_type, probabilities
    ).return_type
    returns = base_type[:-1] + f", contributions {CONTRIBUTIONS_TYPE}, base_value DOUBLE)"
    function = scoring.ScoringFunction(
        name, tuple(argument_types), prediction_type, probabilities, returns=returns
    )
    engine.register_function(name, score, function.argument_types, function.return_type)
    return function


__all__ = ["CONTRIBUTIONS_TYPE", "contribution_map", "register"]
