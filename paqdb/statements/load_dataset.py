"""``LOAD DATASET name [AS table]``: a real dataset that ships inside an installed package, as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot.tokens import TokenType

from paqdb.errors import InvalidParameterError
from paqdb.planner import operators as ops
from paqdb.planner.plan import LogicalNode, Plan
from paqdb.sql import ast

if TYPE_CHECKING:
    from paqdb.planner.planner import Planner
    from paqdb.sql import Statement
    from paqdb.sql.dialect import PaqParser


class LoadDataset(ast.PaqStatement):
    """``LOAD DATASET dataset [AS target]``."""

    statement_name = "LOAD DATASET"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("LOAD", "DATASET"),)
    keywords: ClassVar[tuple[str, ...]] = ("AS",)
    usage = "LOAD DATASET <name> [AS <table>]"
    arg_types = {"dataset": True, "target": False}

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> LoadDataset:
        name = parser._parse_required_identifier("a dataset name")
        target = None
        if parser._match(TokenType.ALIAS):
            names = parser.ID_VAR_TOKENS | {TokenType.IDENTIFIER}
            if parser._at_end() or parser._curr.token_type not in names:
                parser.raise_error("expected a table name after AS: LOAD DATASET <name> AS <table>")
            target = parser._parse_table_parts()
            parser._check_not_empty(target)
        return parser.expression(cls(dataset=name, target=target))

    def to_sql(self, gen: Any) -> str:
        target = f" AS {gen.sql(self, 'target')}" if self.args.get("target") else ""
        return f"LOAD DATASET {gen.sql(self, 'dataset')}{target}"

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        from paqdb import datasets

        dataset = self.args["dataset"]
        name = dataset.name.lower()
        if name not in datasets.names():
            raise statement.locate(
                InvalidParameterError(
                    f"unknown dataset '{dataset.name}'",
                    hint=f"available datasets: {', '.join(datasets.names())}",
                ),
                dataset,
            )
        target = self.args["target"].sql(dialect=planner.engine.dialect) if self.args.get("target") else name
        if planner.engine.relation_exists(target, python_objects=False):
            raise statement.locate(
                InvalidParameterError(
                    f"table '{target}' already exists",
                    hint=f"choose another name: LOAD DATASET {name} AS {name}_2, or DROP TABLE {target}",
                ),
                self,
            )
        return Plan(
            statement.text,
            LogicalNode("LoadDataset", {"dataset": name, "table": target}),
            [ops.LoadDatasetOp(name, target)],
        )
