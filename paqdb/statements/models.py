"""``SHOW MODELS``, ``DESCRIBE MODEL model`` and ``DROP MODEL [IF EXISTS] model``: the model catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot.tokens import Token

from paqdb.planner import operators as ops
from paqdb.planner.plan import LogicalNode, Plan
from paqdb.sql import ast

if TYPE_CHECKING:
    from paqdb.planner.planner import Planner
    from paqdb.sql import Statement
    from paqdb.sql.dialect import PaqParser


class ShowModels(ast.PaqStatement):
    """``SHOW MODELS``: one row per model, its current version."""

    statement_name = "SHOW MODELS"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("SHOW", "MODELS"),)
    usage = "SHOW MODELS"
    arg_types = {}

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> ShowModels:
        return parser.expression(cls())

    def to_sql(self, gen: Any) -> str:
        return "SHOW MODELS"

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        return Plan(statement.text, LogicalNode("ShowModels"), [ops.CatalogQuery("models")])


class DescribeModel(ast.PaqStatement):
    """``DESCRIBE MODEL model [VERSION n]``: one row per search trial of its current version (or of n)."""

    statement_name = "DESCRIBE MODEL"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("DESCRIBE", "MODEL"), ("DESC", "MODEL"))
    keywords: ClassVar[tuple[str, ...]] = ("VERSION",)
    usage = "DESCRIBE MODEL <name> [VERSION <n>]"
    arg_types = {"model": True, "version": False}

    @classmethod
    def claims(cls, words: list[str], tokens: list[Token]) -> bool:
        # DESCRIBE model (alone) describes a table called "model", as in DuckDB.
        return super().claims(words, tokens) and len(tokens) > 2

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> DescribeModel | None:
        if parser._at_end():
            return None
        model = parser._parse_required_identifier("a model name")
        return parser.expression(cls(model=model, version=parser._parse_model_version()))

    def to_sql(self, gen: Any) -> str:
        version = self.args.get("version")
        return f"DESCRIBE MODEL {gen.sql(self, 'model')}" + (
            f" VERSION {gen.sql(version)}" if version is not None else ""
        )

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        version = self.args.get("version")
        if version is None:
            name = planner.bind_model(statement, self.args["model"])
            return Plan(
                statement.text,
                LogicalNode("DescribeModel", {"model": name}),
                [ops.CatalogQuery("trials", name)],
            )
        # A version is bound like PREDICT's: an unknown one is an error at its number listing the versions.
        record = planner.bind_model_record(statement, self.args["model"], version)
        return Plan(
            statement.text,
            LogicalNode("DescribeModel", {"model": record.name, "version": record.version}),
            [ops.CatalogQuery("trials", record.name, record.version)],
        )


class DropModel(ast.PaqStatement):
    """``DROP MODEL [IF EXISTS] model``: the model with all its versions, trials and artifacts."""

    statement_name = "DROP MODEL"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("DROP", "MODEL"),)
    keywords: ClassVar[tuple[str, ...]] = ("IF", "EXISTS")
    usage = "DROP MODEL [IF EXISTS] <name>"
    arg_types = {"model": True, "exists": False}

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> DropModel:
        exists = parser._match_text_seq("IF", "EXISTS")
        return parser.expression(cls(model=parser._parse_required_identifier("a model name"), exists=exists))

    def to_sql(self, gen: Any) -> str:
        return f"DROP MODEL {'IF EXISTS ' if self.args.get('exists') else ''}{gen.sql(self, 'model')}"

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        name = self.args["model"].name
        exists = bool(self.args.get("exists"))
        if not exists:
            planner.bind_model(statement, self.args["model"])
        return Plan(
            statement.text,
            LogicalNode("DropModel", {"model": name}),
            [ops.DropModelOp(name, exists)],
        )
