"""``CREATE [OR REPLACE] MODEL [IF NOT EXISTS] model PREDICT label FROM source [USING SEARCH (...)]``:
search, train and store a model (a new version of it with OR REPLACE)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot.tokens import TokenType

from paqdb.errors import DuplicateModelError
from paqdb.planner import operators as ops
from paqdb.planner.plan import LogicalNode, Plan
from paqdb.sql import ast

if TYPE_CHECKING:
    from paqdb.planner.planner import Planner
    from paqdb.sql import Statement
    from paqdb.sql.dialect import PaqParser


class CreateModel(ast.PaqStatement):
    """``CREATE [OR REPLACE] MODEL [IF NOT EXISTS] model PREDICT label FROM source [USING SEARCH (...)]``."""

    statement_name = "CREATE MODEL"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("CREATE", "MODEL"), ("CREATE", "OR", "REPLACE", "MODEL"))
    keywords: ClassVar[tuple[str, ...]] = ("IF", "NOT", "EXISTS", "PREDICT", "FROM", "USING", "SEARCH")
    usage = "CREATE [OR REPLACE] MODEL [IF NOT EXISTS] <name> PREDICT <column> FROM <table>"
    arg_types = {
        "model": True,
        "label": True,
        "source": True,
        "search": False,
        "replace": False,
        "exists": False,
    }

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> CreateModel | None:
        # The parser stands after CREATE MODEL or CREATE OR REPLACE MODEL.
        replace = parser._tokens[parser._index - 2].text.upper() == "REPLACE"
        start = parser._tokens[parser._index - (4 if replace else 2)]
        exists = parser._match_text_seq("IF", "NOT", "EXISTS")
        name = parser._parse_required_identifier("a model name")
        parser._expect_word("PREDICT", "CREATE MODEL <name> PREDICT <column> FROM <table>")
        label = parser._parse_required_identifier("the column to predict")
        parser._expect_word("FROM", "CREATE MODEL <name> PREDICT <column> FROM <table>")
        source = parser._parse_relation()
        search = None
        if parser._match(TokenType.USING):
            parser._expect_word("SEARCH", "CREATE MODEL ... USING SEARCH (families => [...])")
            search = parser._parse_search_clause()
        return parser.expression(
            cls(model=name, label=label, source=source, search=search, replace=replace, exists=exists),
            token=start,
        )

    def to_sql(self, gen: Any) -> str:
        head = "CREATE OR REPLACE MODEL" if self.args.get("replace") else "CREATE MODEL"
        if self.args.get("exists"):
            head += " IF NOT EXISTS"
        text = (
            f"{head} {gen.sql(self, 'model')} PREDICT {gen.sql(self, 'label')} FROM {gen.sql(self, 'source')}"
        )
        if self.args.get("search") is not None:
            text += " " + gen.sql(self, "search")
        return text

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        name = self.args["model"].name
        replace = bool(self.args.get("replace"))
        if not replace and planner.context.models.exists(name):
            if self.args.get("exists"):
                return Plan(
                    statement.text,
                    LogicalNode("CreateModel", {"model": name, "skipped": "exists"}),
                    [ops.Nothing("CREATE MODEL", f"model {name} already exists; nothing done")],
                )
            raise statement.locate(
                DuplicateModelError(
                    f"model '{name}' already exists",
                    hint=f"use CREATE OR REPLACE MODEL {name} ... for a new version, or DROP MODEL {name}",
                ),
                self.args["model"],
            )
        training = planner.plan_training(
            statement, self.args["label"], self.args["source"], None, self.args.get("search")
        )
        label = training.label
        physical = [
            *training.physical,
            ops.StoreModel(
                name, label.name, label.type, training.features, training.options, statement.text, replace
            ),
        ]
        logical = LogicalNode(
            "CreateModel",
            {"model": name, "replace": replace},
            [LogicalNode("StoreModel", {"catalog": "paqdb schema, one transaction"}, [training.logical])],
        )
        return Plan(statement.text, logical, physical, training.rewrites)
