"""The learning library: featurisation, model families, metrics, trained models and their safe storage.

Pure NumPy / scikit-learn over pyarrow; nothing here imports DuckDB.

The names below load their module when first used (PEP 562), so importing one light submodule
(:mod:`paqdb.ml.tasks` at planning time) does not load the others, and none of them loads scikit-learn,
SciPy or skops at import: those come with the first fit, score or model load (issue 9, fast start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paqdb.ml.families import FAMILIES, ModelFamily, families_for, get_family
    from paqdb.ml.features import Encoding, Featurizer
    from paqdb.ml.metrics import METRICS, Metric, get_metric
    from paqdb.ml.model import FeatureSpec, TrainedModel
    from paqdb.ml.tasks import Task, infer_task
    from paqdb.ml.training import prepare_training_data, train_model

# Each public name and the submodule that defines it.
_HOMES = {
    "FAMILIES": "families",
    "ModelFamily": "families",
    "families_for": "families",
    "get_family": "families",
    "Encoding": "features",
    "Featurizer": "features",
    "METRICS": "metrics",
    "Metric": "metrics",
    "get_metric": "metrics",
    "FeatureSpec": "model",
    "TrainedModel": "model",
    "Task": "tasks",
    "infer_task": "tasks",
    "prepare_training_data": "training",
    "train_model": "training",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'paqdb.ml' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"paqdb.ml.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = [
    "FAMILIES",
    "METRICS",
    "Encoding",
    "FeatureSpec",
    "Featurizer",
    "Metric",
    "ModelFamily",
    "Task",
    "TrainedModel",
    "families_for",
    "get_family",
    "get_metric",
    "infer_task",
    "prepare_training_data",
    "train_model",
]
