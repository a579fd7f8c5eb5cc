"""What CLEAN, CROWD LABEL and CAUSAL FREQ share: binding every name they hold, checking their options,
finding their implementation when it is needed, and the operator that runs it.

A capability statement declares its option specs and where its implementation lives (``"module:Class"``);
the implementation (a :class:`paqdb.capability.Capability`) receives the bound request and a
:class:`~paqdb.capability.CapabilityContext`. A statement whose implementation is not there yet parses,
binds, and then fails with :class:`~paqdb.errors.NotYetSupportedError`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
from sqlglot import exp

from paqdb.capability import CapabilityContext, CapabilityRequest, OptionSpec, check_options
from paqdb.engines.base import Column, ExecResult
from paqdb.errors import Error, InvalidParameterError, NotYetSupportedError
from paqdb.planner.operators import sql_type_of
from paqdb.planner.plan import ExecutionState, LogicalNode, PhysicalOperator, Plan
from paqdb.sql import ast

if TYPE_CHECKING:
    from paqdb.planner.context import ExecutionContext
    from paqdb.planner.planner import Planner
    from paqdb.sql import Statement


class CapabilityStatement(ast.PaqStatement):
    """A statement run by a capability package. Subclasses declare, besides the grammar:

    * ``implementation``: ``"module:Class"`` of the :class:`~paqdb.capability.Capability`, imported the
      first time the statement runs (an empty string: not built yet);
    * ``options``: the :class:`~paqdb.capability.OptionSpec` s of its ``WITH (...)``;
    * ``description``: what it does, for messages.

    AST fields, as every statement names them: ``source`` (the relation), ``label``, ``columns``,
    ``model``, ``given``, ``time``, ``by`` and ``options`` (the ``WITH`` list).
    """

    implementation: ClassVar[str] = ""
    option_specs: ClassVar[tuple[OptionSpec, ...]] = ()
    description: ClassVar[str] = ""

    def bind(self, planner: Planner, statement: Statement) -> CapabilityRequest:
        """Resolve every name against the engine and the catalog and check the options.

        Raises:
            paqdb.errors.Error: an unknown table, column or model, or a bad option, positioned in the SQL.
        """
        source_sql, source_columns = planner.bind_relation(statement, self.args["source"])
        where = f"{source_sql}"

        def column(node: exp.Expression | None) -> str | None:
            if node is None:
                return None
            return planner.bind_column(statement, node, source_columns, where).name

        given = self.args.get("given")
        model = self.args.get("model")
        options = {option.option_name: option for option in self.args.get("options") or []}
        try:
            checked = check_options(
                self.option_specs, {name: o.value() for name, o in options.items()}, self.statement_name
            )
        except InvalidParameterError as error:
            at = next((o for name, o in options.items() if f"'{name}'" in error.message), None)
            raise statement.locate(error, at if at is not None else self) from None
        return CapabilityRequest(
            statement=self.statement_name,
            source_sql=source_sql,
            source_columns=tuple(source_columns),
            label=column(self.args.get("label")),
            columns=tuple(str(column(c)) for c in self.args.get("columns") or []),
            model=planner.bind_model(statement, model) if model is not None else None,
            given_sql=planner.bind_relation(statement, given)[0] if given is not None else None,
            time=column(self.args.get("time")),
            by=column(self.args.get("by")),
            options=checked,
        )

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        request = self.bind(planner, statement)
        implementation = self.load_implementation()
        if implementation is None:
            raise statement.locate(
                NotYetSupportedError(
                    f"{self.statement_name} parses but does not run yet: {self.description} "
                    "arrives in a later paqdb release",
                    hint="see the README; PREDICT and CREATE MODEL run today",
                )
            )
        logical = LogicalNode(
            self.statement_name.title().replace(" ", ""),
            {"relation": request.source_sql, "options": dict(request.options)},
        )
        context = planner.context
        explain = getattr(implementation, "explain", None)
        lines: list[str] = []
        if explain is not None:
            explaining = CapabilityContext(
                context.engine, context.models, context.progress, cleaners=context.cleaners
            )
            explain(request, explaining)
            lines = [f"- {line}" for line in explaining.explain]
        operator = CapabilityOp(self.statement_name, implementation, request, lines)
        return Plan(statement.text, logical, [operator])

    @classmethod
    def load_implementation(cls) -> Any | None:
        """A new instance of the statement's implementation, or None while it has none."""
        if not cls.implementation:
            return None
        module_name, _, class_name = cls.implementation.partition(":")
        return getattr(importlib.import_module(module_name), class_name)()

    # -- shared grammar pieces ------------------------------------------------------------------------

    def options_sql(self, gen: Any) -> str:
        """`` WITH (name => value, ...)``, or nothing without options."""
        options = self.args.get("options") or []
        return f" WITH ({', '.join(gen.sql(o) for o in options)})" if options else ""


@dataclass
class CapabilityOp(PhysicalOperator):
    """Run a capability's implementation on its bound request; its table is the statement's result."""

    capability: str
    implementation: Any
    request: CapabilityRequest
    explained: list[str] = field(default_factory=list)  # the implementation's EXPLAIN lines
    name = "Capability"

    def describe(self) -> dict[str, Any]:
        return {
            "capability": self.capability,
            "implementation": type(self.implementation).__name__,
            "relation": self.request.source_sql,
        }

    def detail_lines(self) -> list[str]:
        return self.explained

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        capability_context = CapabilityContext(
            context.engine, context.models, context.progress, cleaners=context.cleaners
        )
        table = self.implementation.run(self.request, capability_context)
        if not isinstance(table, pa.Table):
            raise Error(f"{self.capability} returned {type(table).__name__}, not a table")
        columns = [Column(f.name, sql_type_of(f.type)) for f in table.schema]
        state.result = ExecResult(table, table.num_rows, columns, self.capability)
        if capability_context.messages:
            state.message = "\n".join(capability_context.messages)
