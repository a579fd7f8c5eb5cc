"""The learning library: featurisation, model families, metrics, trained models and their safe storage.

Pure NumPy / scikit-learn over pyarrow; nothing here imports DuckDB.
"""

from paqdb.ml.families import FAMILIES, ModelFamily, Task, families_for, get_family
from paqdb.ml.features import Encoding, Featurizer
from paqdb.ml.metrics import METRICS, Metric, get_metric
from paqdb.ml.model import FeatureSpec, TrainedModel
from paqdb.ml.training import infer_task, prepare_training_data, train_model

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
