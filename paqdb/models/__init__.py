"""The model store: one place that loads, saves, lists, describes and drops models (see :mod:`.store`).

Importing it loads neither the planner nor the search nor scikit-learn, so a server or a DuckDB
function can score a model with ``ModelStore(engine).load(name).model``.
"""

from paqdb.catalog.store import ModelRecord, TrialRecord
from paqdb.models.store import ARTIFACT_FORMAT, LoadedModel, ModelCache, ModelStore

__all__ = ["ARTIFACT_FORMAT", "LoadedModel", "ModelCache", "ModelRecord", "ModelStore", "TrialRecord"]
