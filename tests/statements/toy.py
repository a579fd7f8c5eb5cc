"""A toy statement, declared as a new statement is: this one module plus one registration line.

``SUMMARIZE COLUMN c FROM t [WITH (scale => x)]`` returns the column's count and scaled mean, through a
capability implementation with options and EXPLAIN lines.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from paqdb.capability import CapabilityContext, CapabilityRequest, OptionSpec
from paqdb.statements.capability import CapabilityStatement


class Summarize(CapabilityStatement):
    """``SUMMARIZE COLUMN label FROM source [WITH (scale => x, label => 'text')]``."""

    statement_name = "SUMMARIZE COLUMN"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("SUMMARIZE", "COLUMN"),)
    keywords: ClassVar[tuple[str, ...]] = ("FROM", "WITH")
    usage = "SUMMARIZE COLUMN <column> FROM <table> [WITH (scale => <number>)]"
    description = "a column's count and mean"
    implementation = f"{__name__}:Summarizer"  # this module, however the tests import it
    arg_types = {"label": True, "source": True, "options": False}
    option_specs = (
        OptionSpec("scale", float, 1.0, minimum=0.0, description="what the mean is multiplied by"),
        OptionSpec("title", str, "summary"),
    )

    @classmethod
    def parse_statement(cls, parser: Any) -> Summarize:
        label = parser._parse_required_identifier("a column")
        parser._expect_word("FROM", cls.usage)
        source = parser._parse_relation()
        return parser.expression(cls(label=label, source=source, options=parser._parse_with_options()))

    def to_sql(self, gen: Any) -> str:
        return (
            f"SUMMARIZE COLUMN {gen.sql(self, 'label')} FROM {gen.sql(self, 'source')}{self.options_sql(gen)}"
        )


class Summarizer:
    """The implementation: one query through the engine, progress reported."""

    def run(self, request: CapabilityRequest, context: CapabilityContext) -> pa.Table:
        context.report({"step": "summarizing", "column": request.label})
        table = context.engine.query_arrow(
            f'SELECT count("{request.label}") AS n, avg("{request.label}") AS mean FROM {request.source_sql}'
        )
        n, mean = table.column(0)[0].as_py(), table.column(1)[0].as_py()
        return pa.table(
            {
                "title": [request.options["title"]],
                "n": pa.array([n], pa.int64()),
                "scaled_mean": [mean * request.options["scale"]],
            }
        )

    def explain(self, request: CapabilityRequest, context: CapabilityContext) -> None:
        context.explain_line(f"one scan of {request.source_sql} for {request.label}")
        context.explain_line(f"scale {request.options['scale']:g}")
