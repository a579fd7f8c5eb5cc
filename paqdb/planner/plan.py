"""Plan nodes: the logical plan (what a statement means) and the physical plan (how it runs).

A logical plan is a tree of :class:`LogicalNode` s, bound to real tables, columns and models. The
planner's rewrite rules turn it into a physical plan: a pipeline of :class:`PhysicalOperator` s that run
in order over a shared :class:`ExecutionState`, each talking to the engine only through its interface.
``EXPLAIN`` prints both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from paqdb.engines.base import ExecResult
    from paqdb.planner.context import ExecutionContext


@dataclass
class LogicalNode:
    """A node of the logical plan: a name, its properties, its inputs."""

    name: str
    properties: dict[str, Any] = field(default_factory=dict)
    inputs: list[LogicalNode] = field(default_factory=list)

    def render(self, indent: int = 0) -> list[str]:
        """The subtree as indented lines, for EXPLAIN."""
        props = ", ".join(
            f"{k}={_short(v)}" for k, v in self.properties.items() if v not in (None, "", [], {})
        )
        lines = [f"{'  ' * indent}{self.name}" + (f" [{props}]" if props else "")]
        for child in self.inputs:
            lines.extend(child.render(indent + 1))
        return lines


def _short(value: Any, limit: int = 100) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class ExecutionState:
    """What the operators of one pipeline hand each other, each under its own field.

    Attributes:
        training_data: the labeled rows a training scan read (an Arrow table).
        search_result: the model search's outcome (:class:`paqdb.search.SearchResult`); its ``model`` is
            the freshly trained model.
        models: catalog models decoded for the statement, by lower-case name.
        result: the statement's result.
        message: what the statement says to people (``model m version 2: ...``).
    """

    training_data: pa.Table | None = None
    search_result: Any = None
    models: dict[str, Any] = field(default_factory=dict)
    result: ExecResult | None = None
    message: str | None = None


class PhysicalOperator(ABC):
    """One step of a physical plan."""

    #: operator name shown by EXPLAIN
    name: str = "Operator"

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Properties shown by EXPLAIN (strategy, batch sizes, estimated cost...)."""

    def detail_lines(self) -> list[str]:
        """Further lines EXPLAIN prints under the step (a search's plan per model family)."""
        return []

    @abstractmethod
    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        """Execute the step, reading and writing ``state``."""


@dataclass
class Plan:
    """A planned statement: its logical tree, the rewrites applied, and the physical pipeline."""

    statement: str
    logical: LogicalNode
    physical: list[PhysicalOperator]
    rewrites: list[str] = field(default_factory=list)
    #: key in the execution state holding the statement's result
    result_key: str = "result"

    def explain_lines(self) -> list[str]:
        """The text EXPLAIN prints: logical plan, rewrites, physical plan."""
        lines = ["Logical plan:"]
        lines.extend("  " + line for line in self.logical.render())
        if self.rewrites:
            lines.append("Rewrites:")
            lines.extend(f"  - {r}" for r in self.rewrites)
        lines.append("Physical plan:")
        for step, operator in enumerate(self.physical, 1):
            props = ", ".join(
                f"{k}={_short(v)}" for k, v in operator.describe().items() if v not in (None, "", [], {})
            )
            lines.append(f"  {step}. {operator.name}" + (f" [{props}]" if props else ""))
            lines.extend(f"       {line}" for line in operator.detail_lines())
        return lines
