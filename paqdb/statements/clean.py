"""``CLEAN``: progressive, model-aware cleaning of dirty records (ActiveClean, Krishnan et al., VLDB 2016),
implemented in :mod:`paqdb.clean`. Three forms::

    CLEAN <table> PREDICT <label> [USING MODEL <model>] WITH (detect => ..., repair => ..., key => ..., ...)
    CLEAN <table> APPLY CORRECTIONS [RUN <n>] [BATCH <b>]
    CLEAN <table> UNDO CORRECTIONS [RUN <n>] [BATCH <b>]

The first cleans (see :mod:`paqdb.clean.capability`); the other two write the corrections CLEAN recorded
into the table, or take them back out (:mod:`paqdb.clean.corrections`). Every name and option is checked
here, before anything runs, and an error points at what is wrong: a detect predicate or repair assignment
that does not parse at the place inside its string, a key that is not a column or not unique at the key,
a model of a family ActiveClean cannot update at the model's name.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp
from sqlglot.tokens import TokenType

from paqdb.capability import CapabilityRequest, OptionSpec
from paqdb.engines.base import render
from paqdb.errors import Error, InvalidParameterError, ParseError, UndefinedColumnError
from paqdb.sql import ast
from paqdb.statements.capability import CapabilityStatement

if TYPE_CHECKING:
    from paqdb.planner.planner import Planner
    from paqdb.sql import Statement
    from paqdb.sql.dialect import PaqParser

_CLEAN_FORM = "CLEAN <table> PREDICT <column> [USING MODEL m] [WITH (...)]"
_CORRECTIONS_FORM = "CLEAN <table> APPLY|UNDO CORRECTIONS [RUN n] [BATCH b]"


class Clean(CapabilityStatement):
    """``CLEAN source PREDICT label [USING MODEL model] [WITH (...)]`` and
    ``CLEAN source APPLY|UNDO CORRECTIONS [RUN n] [BATCH b]``."""

    statement_name = "CLEAN"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("CLEAN",),)
    keywords: ClassVar[tuple[str, ...]] = (
        "PREDICT", "USING", "MODEL", "WITH", "APPLY", "UNDO", "CORRECTIONS", "RUN", "BATCH",
    )  # fmt: skip
    usage = (
        "CLEAN <table> PREDICT <column> [USING MODEL <name>] WITH (detect => '...', repair => '...', "
        "key => '...'), or CLEAN <table> APPLY|UNDO CORRECTIONS [RUN <n>] [BATCH <b>]"
    )
    description = "progressive, model-aware cleaning (ActiveClean)"
    implementation = "paqdb.clean.capability:CleanCapability"
    arg_types = {
        "source": True,
        "label": False,
        "model": False,
        "options": False,
        "action": False,
        "run": False,
        "batch": False,
    }
    option_specs = (
        OptionSpec("budget", int, 500, minimum=1, description="records to clean in all"),
        OptionSpec("batch_size", int, 50, minimum=1, description="records cleaned per batch"),
        OptionSpec("detect", str, description="a SQL predicate that flags dirty records, e.g. 'amount < 0'"),
        OptionSpec(
            "detector",
            str,
            "rules",
            choices=("rules", "learned", "both"),
            description="rules: the detect predicate; learned: a classifier trained on the records cleaned "
            "so far; both: either flags",
        ),
        OptionSpec(
            "repair",
            str,
            description="'manual', a SQL assignment list 'col = expr, ...', a table of corrected rows, or a "
            "function registered with con.register_cleaner",
        ),
        OptionSpec("key", str, description="the column that identifies a record (unique, not NULL)"),
        OptionSpec("seed", int, 0, description="seeds the sampler"),
    )

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> Clean:
        source = parser._parse_relation()
        for action in ("APPLY", "UNDO"):
            if parser._match_text_seq(action):
                parser._expect_word("CORRECTIONS", _CORRECTIONS_FORM)
                run = _number(parser, "RUN", "a cleaning run's number after RUN, e.g. RUN 2")
                batch = _number(parser, "BATCH", "a batch number after BATCH, e.g. BATCH 3")
                return parser.expression(
                    cls(source=source, action=exp.Var(this=action), run=run, batch=batch)
                )
        parser._match(TokenType.FOR)
        parser._expect_word("PREDICT", _CLEAN_FORM)
        label = parser._parse_required_identifier("the column the model predicts")
        model = None
        if parser._match(TokenType.USING):
            parser._expect_word("MODEL", "CLEAN <table> PREDICT <column> USING MODEL <name>")
            model = parser._parse_required_identifier("a model name")
        return parser.expression(
            cls(source=source, label=label, model=model, options=parser._parse_with_options())
        )

    def to_sql(self, gen: Any) -> str:
        action = self.args.get("action")
        if action is not None:
            run = f" RUN {gen.sql(self, 'run')}" if self.args.get("run") is not None else ""
            batch = f" BATCH {gen.sql(self, 'batch')}" if self.args.get("batch") is not None else ""
            return f"CLEAN {gen.sql(self, 'source')} {action.name} CORRECTIONS{run}{batch}"
        model = f" USING MODEL {gen.sql(self, 'model')}" if self.args.get("model") else ""
        label = gen.sql(self, "label")
        return f"CLEAN {gen.sql(self, 'source')} PREDICT {label}{model}{self.options_sql(gen)}"

    # -- binding --------------------------------------------------------------------------------------

    def bind(self, planner: Planner, statement: Statement) -> CapabilityRequest:
        """Bind and check everything the statement names, each error at its place in the SQL."""
        source = self.args["source"]
        if not isinstance(source, exp.Table):
            raise statement.locate(
                InvalidParameterError(
                    "CLEAN cleans a table, not a query",
                    hint="create a table from the query first (CREATE TABLE t AS ...), then CLEAN t",
                ),
                source,
            )
        request = super().bind(planner, statement)
        action = self.args.get("action")
        if action is not None:
            numbers = {
                name: int(node.name) for name in ("run", "batch") if (node := self.args.get(name)) is not None
            }
            return dataclasses.replace(request, options={"action": action.name.lower(), **numbers})
        options = {o.option_name: o for o in self.args.get("options") or []}
        engine = planner.context.engine
        columns = {c.name.lower(): c for c in request.source_columns}
        key = request.options.get("key")
        if key is not None and str(key).lower() not in columns:
            raise statement.locate(
                UndefinedColumnError(
                    f"option 'key': column '{key}' does not exist in {request.source_sql}",
                    hint=f"{request.source_sql} has columns: "
                    f"{', '.join(c.name for c in request.source_columns)}",
                ),
                options["key"].expression,
            )
        detect = request.options.get("detect")
        if detect is not None:
            self._check_detect(planner, statement, request, str(detect), options["detect"])
        repair = request.options.get("repair")
        if repair is not None and key is not None:
            from paqdb.clean.repair import TextError, classify

            try:
                classify(
                    str(repair),
                    key=columns[str(key).lower()].name,
                    columns=request.source_columns,
                    cleaners=planner.context.cleaners,
                    engine=engine,
                )
            except TextError as error:
                hint = "write the repair as column = expression, ... (e.g. 'temp = temp / 10')"
                parse_error = ParseError(f"option 'repair': {error.message}", hint=hint)
                raise _in_literal(statement, options["repair"], parse_error, error.offset) from None
            except Error as error:
                raise statement.locate(error, options["repair"].expression) from None
        if request.model is not None:
            from paqdb.clean.capability import check_family

            record = planner.context.models.record(request.model)
            try:
                check_family(record.family, record.name)
            except Error as error:
                raise statement.locate(error, self.args["model"]) from None
        if key is not None:
            name = columns[str(key).lower()].name
            quoted = '"' + name.replace('"', '""') + '"'
            table = engine.query_arrow(
                render(
                    f"SELECT count(*) - count({quoted}) AS nulls, count({quoted}) - count(DISTINCT {quoted}) "
                    f"AS repeats FROM {request.source_sql}",
                    engine.dialect,
                )
            )
            nulls, repeats = (int(table.column(i)[0].as_py() or 0) for i in range(2))
            if nulls or repeats:
                what = f"NULL in {nulls} records" if nulls else f"not unique ({repeats} repeated values)"
                raise statement.locate(
                    InvalidParameterError(
                        f"option 'key': {name} is {what} in {request.source_sql}; a key names one record",
                        hint="name a column whose values are unique and not NULL (an id)",
                    ),
                    options["key"].expression,
                )
        return request

    def _check_detect(
        self,
        planner: Planner,
        statement: Statement,
        request: CapabilityRequest,
        detect: str,
        option: ast.Option,
    ) -> None:
        """The detect predicate parses (else an error inside its string) and runs on the table."""
        from paqdb.clean.repair import TextError, parse_predicate

        try:
            node = parse_predicate(detect)
        except TextError as error:
            raise _in_literal(
                statement,
                option,
                ParseError(
                    f"option 'detect': {error.message}",
                    hint="write a SQL condition over the table's columns, e.g. detect => 'amount < 0 OR "
                    "recipient IS NULL'",
                ),
                error.offset,
            ) from None
        engine = planner.context.engine
        try:
            engine.query_arrow(
                render(
                    f"SELECT count(*) FROM {request.source_sql} WHERE {node.sql(dialect='duckdb')} LIMIT 1",
                    engine.dialect,
                )
            )
        except Error as error:
            raise statement.locate(
                InvalidParameterError(
                    f"option 'detect': the predicate fails on {request.source_sql}: "
                    f"{error.message.splitlines()[0]}",
                    hint=f"{request.source_sql} has columns: "
                    f"{', '.join(c.name for c in request.source_columns)}",
                ),
                option.expression,
            ) from None


def _number(parser: PaqParser, word: str, what: str) -> exp.Literal | None:
    """``WORD n`` (n a positive integer literal), or None when the word is absent."""
    if not parser._match_text_seq(word):
        return None
    token = parser._curr
    if (
        parser._at_end()
        or token.token_type != TokenType.NUMBER
        or not token.text.isdigit()
        or int(token.text) < 1
    ):
        error = ParseError(f"expected {what}", hint=f"numbers start at 1: {_CORRECTIONS_FORM}")
        parser._raise_at(error.message, token, error)
    parser._advance()
    return parser.expression(exp.Literal(this=str(int(token.text)), is_string=False), token=token)


def _in_literal(statement: Statement, option: ast.Option, error: Error, offset: int) -> Error:
    """``error`` positioned at character ``offset`` of the option's string value (quotes doubled in the
    SQL counted)."""
    start = option.expression.meta.get("start")
    if start is None:
        return statement.locate(error, option)
    raw = statement.text[int(start) + 1 :]
    position, seen = 0, 0
    while seen < offset and position < len(raw):
        position += 2 if raw.startswith("''", position) else 1
        seen += 1
    line, column = statement.position(int(start) + 1 + position)
    return error.with_position(line, column, statement.script)
