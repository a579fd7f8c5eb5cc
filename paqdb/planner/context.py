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
        loaded_models: models already decoded from the catalog, by identity (the artifact's sha256,
            never reused: a dropped and re-created model is another identity).
        scoring_functions: scoring functions registered in the engine, by (lower-case model name,
            identity). The engine keeps them across transactions (a rollback re-registers them).
    """

    engine: Engine
    catalog: ModelCatalog
    progress: ProgressCallback | None = None
    loaded_models: dict[str, Any] = field(default_factory=dict)
    scoring_functions: dict[tuple[str, str], Any] = field(default_factory=dict)
