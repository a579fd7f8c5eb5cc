"""``CLEAN source PREDICT label [USING MODEL model] [WITH (...)]``: progressive, model-aware cleaning of
dirty records (ActiveClean, Krishnan et al., VLDB 2016), implemented in :mod:`paqdb.clean`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot.tokens import TokenType

from paqdb.capability import OptionSpec
from paqdb.statements.capability import CapabilityStatement

if TYPE_CHECKING:
    from paqdb.sql.dialect import PaqParser


class Clean(CapabilityStatement):
    """``CLEAN source PREDICT label [USING MODEL model] [WITH (...)]``."""

    statement_name = "CLEAN"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("CLEAN",),)
    keywords: ClassVar[tuple[str, ...]] = ("PREDICT", "USING", "MODEL", "WITH")
    usage = "CLEAN <table> PREDICT <column> [USING MODEL <name>] [WITH (...)]"
    description = "progressive, model-aware cleaning (ActiveClean)"
    arg_types = {"source": True, "label": True, "model": False, "options": False}
    option_specs = (
        OptionSpec("budget", int, 500, minimum=1, description="records to clean in all"),
        OptionSpec("batch_size", int, 50, minimum=1, description="records cleaned per batch"),
        OptionSpec("detect", str, description="a SQL predicate that flags dirty records"),
        OptionSpec("detector", str, "rules", choices=("rules", "learned", "both")),
        OptionSpec("repair", str, description="a table of corrected rows, SQL assignments, or 'manual'"),
        OptionSpec("key", str, description="the column that identifies a record"),
        OptionSpec("seed", int, 0),
    )

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> Clean:
        source = parser._parse_relation()
        parser._match(TokenType.FOR)
        parser._expect_word("PREDICT", "CLEAN <table> PREDICT <column> [USING MODEL m] [WITH (...)]")
        label = parser._parse_required_identifier("the column the model predicts")
        model = None
        if parser._match(TokenType.USING):
            parser._expect_word("MODEL", "CLEAN <table> PREDICT <column> USING MODEL <name>")
            model = parser._parse_required_identifier("a model name")
        return parser.expression(
            cls(source=source, label=label, model=model, options=parser._parse_with_options())
        )

    def to_sql(self, gen: Any) -> str:
        model = f" USING MODEL {gen.sql(self, 'model')}" if self.args.get("model") else ""
        label = gen.sql(self, "label")
        return f"CLEAN {gen.sql(self, 'source')} PREDICT {label}{model}{self.options_sql(gen)}"
