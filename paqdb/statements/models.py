"""``SHOW MODELS``, ``DESCRIBE MODEL model`` and ``DROP MODEL [IF EXISTS] model``: the model catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
from sqlglot.tokens import Token

from paqdb.catalog import ModelRecord
from paqdb.engines.base import Column, ExecResult
from paqdb.errors import Error
from paqdb.planner import operators as ops
from paqdb.planner.plan import ExecutionState, LogicalNode, PhysicalOperator, Plan
from paqdb.sql import ast

if TYPE_CHECKING:
    from paqdb.planner.context import ExecutionContext
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
    """``DESCRIBE MODEL model [VERSION n] [FEATURES]``: one row per search trial of its current version (or
    of n); with ``FEATURES``, one row per input column with its permutation importance."""

    statement_name = "DESCRIBE MODEL"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("DESCRIBE", "MODEL"), ("DESC", "MODEL"))
    keywords: ClassVar[tuple[str, ...]] = ("VERSION", "FEATURES")
    usage = "DESCRIBE MODEL <name> [VERSION <n>] [FEATURES]"
    arg_types = {"model": True, "version": False, "features": False}

    @classmethod
    def claims(cls, words: list[str], tokens: list[Token]) -> bool:
        # DESCRIBE model (alone) describes a table called "model", as in DuckDB.
        return super().claims(words, tokens) and len(tokens) > 2

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> DescribeModel | None:
        if parser._at_end():
            return None
        model = parser._parse_required_identifier("a model name")
        version = parser._parse_model_version()
        features = parser._match_text_seq("FEATURES")
        if not features and not parser._at_end():
            import difflib

            word = parser._curr.text
            if difflib.get_close_matches(word.upper(), ["FEATURES"], n=1, cutoff=0.75):
                parser.raise_error(f"unexpected '{word}': did you mean FEATURES?", parser._curr)
        return parser.expression(cls(model=model, version=version, features=features or None))

    def to_sql(self, gen: Any) -> str:
        version = self.args.get("version")
        return (
            f"DESCRIBE MODEL {gen.sql(self, 'model')}"
            + (f" VERSION {gen.sql(version)}" if version is not None else "")
            + (" FEATURES" if self.args.get("features") else "")
        )

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        version = self.args.get("version")
        if self.args.get("features"):
            record = planner.bind_model_record(statement, self.args["model"], version)
            return Plan(
                statement.text,
                LogicalNode("DescribeModelFeatures", {"model": record.name, "version": record.version}),
                [ops.LoadModel(record), FeatureImportanceOp(record)],
            )
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


@dataclass
class FeatureImportanceOp(PhysicalOperator):
    """``DESCRIBE MODEL m FEATURES``: the model's input columns with the permutation importance stored
    with it at training (:func:`paqdb.ml.explain.importance_rows`), most important first."""

    record: ModelRecord
    name = "FeatureImportance"

    def describe(self) -> dict[str, Any]:
        return {"model": self.record.name, "version": self.record.version, "source": "the model's artifact"}

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        from paqdb.ml.explain import importance_rows

        record = self.record
        model = state.models[record.name.lower()]
        rows, stored = importance_rows(model)
        sql_types = {c.name: c.type for c in record.features}
        table = pa.table(
            {
                "feature": pa.array([r.feature for r in rows], pa.string()),
                "type": pa.array([sql_types.get(r.feature, r.arrow_type) for r in rows], pa.string()),
                "kind": pa.array([r.kind for r in rows], pa.string()),
                "importance": pa.array([r.importance for r in rows], pa.float64()),
                "importance_std": pa.array([r.importance_std for r in rows], pa.float64()),
                "rank": pa.array([r.rank for r in rows], pa.int32()),
            }
        )
        columns = [Column(f.name, ops.sql_type_of(f.type)) for f in table.schema]
        state.result = ExecResult(table, table.num_rows, columns, "DESCRIBE MODEL")
        subject = f"model {record.name} version {record.version}"
        if stored is None:
            state.message = (
                f"{subject} has no stored feature importance (trained before paqdb computed it, without "
                "a search, or by a search that was interrupted); retrain it with CREATE OR REPLACE MODEL"
            )
        elif "features" not in stored:
            state.message = f"{subject}: its feature importance could not be computed ({stored.get('error')})"
        else:
            state.message = (
                f"{subject}: permutation importance, the mean drop in validation {stored.get('metric')} "
                f"when a column's values are shuffled, over {stored.get('repeats')} shuffles of "
                f"{stored.get('rows')} validation rows (baseline {stored.get('baseline', float('nan')):.4f})"
            )
            measured = _measured_version(context, record)
            if measured is not None:
                # CLEAN's versions carry the importance of the model they were cleaned from: the
                # coefficients changed since, and there are no validation rows to measure them again on.
                state.message += (
                    f"; measured for version {measured} when it was trained, not for this version's "
                    "coefficients, which CLEAN updated since (retrain with CREATE OR REPLACE MODEL to "
                    "measure them)"
                )


def _measured_version(context: ExecutionContext, record: ModelRecord) -> int | None:
    """The version a CLEAN-made version's stored importance was measured for (the trained version its
    chain of cleanings started from); None for a version that was trained (its own importance)."""
    cleaned = record.search.get("cleaned") if isinstance(record.search, dict) else None
    if not isinstance(cleaned, dict):
        return None
    version: int | None = None
    seen: set[int] = set()
    while isinstance(cleaned, dict) and isinstance(cleaned.get("from_version"), int):
        version = int(cleaned["from_version"])
        if version in seen:
            break
        seen.add(version)
        try:
            earlier = context.models.record(record.name, version)
        except Error:  # a version no longer readable: the earliest one known
            break
        cleaned = earlier.search.get("cleaned") if isinstance(earlier.search, dict) else None
    return version


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
