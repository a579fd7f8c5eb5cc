"""``CAUSAL FREQ x, y [, ...] FROM source TIME t [BY series] [WITH (...)]``: lead/lag and direction of
influence between irregularly sampled series in the frequency domain (Belletti et al., 2016), implemented
in :mod:`paqdb.causal`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from paqdb.capability import OptionSpec
from paqdb.statements.capability import CapabilityStatement

if TYPE_CHECKING:
    from paqdb.sql.dialect import PaqParser


class CausalFreq(CapabilityStatement):
    """``CAUSAL FREQ x, y [, ...] FROM source TIME t [BY series] [WITH (...)]``."""

    statement_name = "CAUSAL FREQ"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("CAUSAL", "FREQ"),)
    keywords: ClassVar[tuple[str, ...]] = ("FROM", "TIME", "BY", "WITH")
    usage = "CAUSAL FREQ <x>, <y> FROM <table> TIME <column> [BY <series>] [WITH (...)]"
    description = "frequency-domain causal analysis of irregular time series"
    arg_types = {"columns": True, "source": True, "time": True, "by": False, "options": False}
    option_specs = (
        OptionSpec("segments", int, 16, minimum=1, description="Welch segments the series are cut into"),
        OptionSpec("overlap", float, 0.5, minimum=0.0, maximum=0.95),
        OptionSpec("frequencies", int, 256, minimum=8),
        OptionSpec("taper", str, "hann", choices=("hann", "hamming", "none")),
        OptionSpec("surrogates", int, 100, minimum=0, description="surrogates for the significance test"),
        OptionSpec("seed", int, 0),
    )

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> CausalFreq:
        columns = parser._parse_csv(lambda: parser._parse_required_identifier("a value column"))
        parser._expect_word("FROM", "CAUSAL FREQ <x>, <y> FROM <table> TIME <column>")
        source = parser._parse_relation()
        parser._expect_word("TIME", "CAUSAL FREQ <x>, <y> FROM <table> TIME <column>")
        time = parser._parse_required_identifier("the time column")
        by = parser._parse_required_identifier("the series column") if parser._match_text_seq("BY") else None
        return parser.expression(
            cls(columns=columns, source=source, time=time, by=by, options=parser._parse_with_options())
        )

    def to_sql(self, gen: Any) -> str:
        by = f" BY {gen.sql(self, 'by')}" if self.args.get("by") else ""
        return (
            f"CAUSAL FREQ {gen.expressions(self, 'columns', flat=True)} FROM {gen.sql(self, 'source')}"
            f" TIME {gen.sql(self, 'time')}{by}{self.options_sql(gen)}"
        )
