"""What a running plan can reach: the engine, the catalog, loaded models, and progress reporting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paqdb.engines.base import Engine
from paqdb.models import ModelStore

ProgressCallback = Callable[[Any], None]


@dataclass
class ExecutionContext:
    """Shared by every statement of a session.

    Attributes:
        engine: where data lives and SQL runs.
        models: the model store (the catalog in the same database, and decoded models cached by identity).
        progress: called with a progress object during long work (a model search), or None.
        scoring_functions: scoring functions registered in the engine, by (lower-case model name,
            identity). The engine keeps them across transactions (a rollback re-registers them).
        cleaners: Python functions CLEAN's ``repair => 'name'`` calls, by lower-case name
            (``Connection.register_cleaner``).
    """

    engine: Engine
    models: ModelStore
    progress: ProgressCallback | None = None
    scoring_functions: dict[tuple[str, str], Any] = field(default_factory=dict)
    cleaners: dict[str, Callable[..., Any]] = field(default_factory=dict)
