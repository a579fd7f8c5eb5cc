"""What a running plan can reach: the engine, the catalog, loaded models, and progress reporting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paqdb.catalog import ModelCatalog
from paqdb.engines.base import Engine

ProgressCallback = Callable[[Any], None]


@dataclass
class ExecutionContext:
    """Shared by every statement of a session.

    Attributes:
        engine: where data lives and SQL runs.
        catalog: the model catalog in the same database.
        progress: called with a progress object during long work (a model search), or None.
        loaded_models: models already decoded from the catalog, by (lower-case name, version).
        scoring_functions: scoring functions registered in the engine, by (lower-case name, version).
    """

    engine: Engine
    catalog: ModelCatalog
    progress: ProgressCallback | None = None
    loaded_models: dict[tuple[str, int], Any] = field(default_factory=dict)
    scoring_functions: dict[tuple[str, int], Any] = field(default_factory=dict)
