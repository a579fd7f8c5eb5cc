"""The interfaces later capabilities implement, and the registry the planner finds them in.

Model search (``paqdb.search``) and scoring (``paqdb.udfs``) are implemented. Cleaning (``paqdb.clean``),
crowd labeling (``paqdb.crowd``) and causal analysis (``paqdb.causal``) plug in here: an implementation
registers itself under its statement's capability name, and the planner builds the statement's operator
from it. The parser and the planner's binding never change for that. Until a capability is registered,
its statement parses and then fails with :class:`~paqdb.errors.NotYetSupportedError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from paqdb.engines.base import Engine


@dataclass(frozen=True)
class CapabilityRequest:
    """What a capability receives from the planner: bound relation SQL, column names and options."""

    relation_sql: str
    columns: tuple[str, ...]
    options: Mapping[str, Any]
    label: str | None = None
    model: str | None = None
    given_sql: str | None = None
    time_column: str | None = None
    series_column: str | None = None


class Cleaner(Protocol):
    """CLEAN: progressive, model-aware cleaning of dirty records (ActiveClean)."""

    def clean(
        self, engine: Engine, request: CapabilityRequest, progress: Callable[[Any], None] | None
    ) -> pa.Table: ...


class Labeler(Protocol):
    """CROWD LABEL: labels from people and a model, asking people where it helps most."""

    def label(
        self, engine: Engine, request: CapabilityRequest, progress: Callable[[Any], None] | None
    ) -> pa.Table: ...


class CausalAnalyzer(Protocol):
    """CAUSAL FREQ: lead/lag and direction of influence between irregularly sampled series."""

    def analyze(
        self, engine: Engine, request: CapabilityRequest, progress: Callable[[Any], None] | None
    ) -> pa.Table: ...


@dataclass(frozen=True)
class Capability:
    """A statement capability: its name in messages and what it does."""

    name: str
    description: str


CLEANING = Capability("CLEAN", "progressive, model-aware cleaning (ActiveClean)")
LABELING = Capability("CROWD LABEL", "crowd plus model labeling (bootstrap active learning)")
CAUSAL = Capability("CAUSAL FREQ", "frequency-domain causal analysis of irregular time series")

_REGISTRY: dict[str, Any] = {}


def register(capability: Capability, implementation: Cleaner | Labeler | CausalAnalyzer) -> None:
    """Make ``implementation`` the one the planner uses for ``capability``'s statement."""
    _REGISTRY[capability.name] = implementation


def unregister(capability: Capability) -> None:
    """Remove the implementation of ``capability`` (its statement fails as not yet supported again)."""
    _REGISTRY.pop(capability.name, None)


def implementation(capability: Capability) -> Any | None:
    """The registered implementation of ``capability``, or None."""
    return _REGISTRY.get(capability.name)
