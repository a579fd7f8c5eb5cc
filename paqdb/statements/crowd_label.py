"""``CROWD LABEL label FROM source [GIVEN labeled] [WITH (...)]``: labels from people and a model together
(bootstrap active learning, Mozafari et al., VLDB 2014), implemented in :mod:`paqdb.crowd`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from paqdb.capability import OptionSpec
from paqdb.statements.capability import CapabilityStatement

if TYPE_CHECKING:
    from paqdb.sql.dialect import PaqParser


class CrowdLabel(CapabilityStatement):
    """``CROWD LABEL label FROM source [GIVEN labeled] [WITH (...)]``."""

    statement_name = "CROWD LABEL"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("CROWD", "LABEL"),)
    keywords: ClassVar[tuple[str, ...]] = ("FROM", "GIVEN", "WITH")
    usage = "CROWD LABEL <column> FROM <table> [GIVEN <labeled>] [WITH (...)]"
    description = "crowd plus model labeling (bootstrap active learning)"
    arg_types = {"label": True, "source": True, "given": False, "options": False}
    option_specs = (
        OptionSpec("budget", int, 200, minimum=1, description="questions to ask people in all"),
        OptionSpec("batch_size", int, 10, minimum=1, description="items asked per round"),
        OptionSpec("workers_per_item", int, 3, minimum=1),
        OptionSpec("bootstrap", int, 10, minimum=2, description="models trained on resamples"),
        OptionSpec("seed", int, 0),
    )

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> CrowdLabel:
        label = parser._parse_required_identifier("the column to label")
        parser._expect_word("FROM", "CROWD LABEL <column> FROM <table> [GIVEN <labeled>] [WITH (...)]")
        source = parser._parse_relation()
        given = parser._parse_relation() if parser._match_text_seq("GIVEN") else None
        return parser.expression(
            cls(label=label, source=source, given=given, options=parser._parse_with_options())
        )

    def to_sql(self, gen: Any) -> str:
        given = f" GIVEN {gen.sql(self, 'given')}" if self.args.get("given") else ""
        source = gen.sql(self, "source")
        return f"CROWD LABEL {gen.sql(self, 'label')} FROM {source}{given}{self.options_sql(gen)}"
