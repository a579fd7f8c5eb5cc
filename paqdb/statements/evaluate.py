"""``EVALUATE MODEL model ON relation [WITH (report => '...', threshold => p)]``: a stored model's quality
on labeled rows, as a table.

The relation must hold the model's features and its label. The default report is one row per metric
(accuracy, precision, recall, F1, AUC and log loss for classification; RMSE, MAE and R2 for regression);
``report => 'classes' | 'confusion' | 'roc' | 'pr'`` picks another table (:mod:`paqdb.ml.evaluation`
computes them all, with scikit-learn's metrics, and states the conventions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from paqdb.capability import OptionSpec, check_options
from paqdb.engines.base import Column, ExecResult
from paqdb.errors import InvalidParameterError, UndefinedColumnError
from paqdb.planner import operators as ops
from paqdb.planner.plan import ExecutionState, LogicalNode, PhysicalOperator, Plan
from paqdb.planner.typing import feature_column, label_model_type
from paqdb.sql import ast

if TYPE_CHECKING:
    from paqdb.planner.context import ExecutionContext
    from paqdb.planner.planner import Planner
    from paqdb.sql import Statement
    from paqdb.sql.dialect import PaqParser

#: Every report, in the order the README lists them (paqdb.ml.evaluation.REPORTS says which task has which;
#: kept here too so that parsing and planning load no learning code).
_REPORTS = ("metrics", "classes", "confusion", "roc", "pr")


class EvaluateModel(ast.PaqStatement):
    """``EVALUATE MODEL model ON relation [WITH (report => 'metrics', threshold => 0.5)]``."""

    statement_name = "EVALUATE MODEL"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("EVALUATE", "MODEL"),)
    keywords: ClassVar[tuple[str, ...]] = ("ON", "WITH")
    usage = "EVALUATE MODEL <name> ON <labeled table> [WITH (report => 'metrics', threshold => <p>)]"
    arg_types = {"model": True, "source": True, "options": False}
    option_specs: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec(
            "report",
            str,
            "metrics",
            choices=_REPORTS,
            description="the table to return: 'metrics', 'classes', 'confusion', 'roc' or 'pr' "
            "(regression models have 'metrics')",
        ),
        OptionSpec(
            "threshold",
            float,
            None,
            minimum=0.0,
            maximum=1.0,
            description="binary classification: predict the positive class (the second in sorted order) "
            "when its probability is at least this",
        ),
    )

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> EvaluateModel:
        model = parser._parse_required_identifier("a model name")
        parser._expect_word("ON", cls.usage)
        source = parser._parse_relation()
        return parser.expression(cls(model=model, source=source, options=parser._parse_with_options()))

    def to_sql(self, gen: Any) -> str:
        options = self.args.get("options") or []
        with_ = f" WITH ({', '.join(gen.sql(o) for o in options)})" if options else ""
        return f"EVALUATE MODEL {gen.sql(self, 'model')} ON {gen.sql(self, 'source')}{with_}"

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        record = planner.bind_model_record(statement, self.args["model"])
        source_node = self.args["source"]
        source_sql, source_columns = planner.bind_relation(statement, source_node)
        options = self._options(statement)
        if record.task == "regression" and (
            options["report"] != "metrics" or options["threshold"] is not None
        ):
            name = "report" if options["report"] != "metrics" else "threshold"
            message = (
                f"report '{options['report']}' is for classification models"
                if name == "report"
                else "option 'threshold' applies to binary classification"
            )
            raise statement.locate(
                InvalidParameterError(
                    f"{message}; model '{record.name}' does regression",
                    hint="regression models have report => 'metrics' (RMSE, MAE, R2)",
                ),
                self._option_node(name),
            )
        present = {c.name.lower() for c in source_columns}
        if record.label.lower() not in present:
            raise statement.locate(
                UndefinedColumnError(
                    f"the label column '{record.label}' of model '{record.name}' is missing from "
                    f"{source_sql}",
                    hint=f"evaluate on rows that hold the true '{record.label}'; {source_sql} has columns: "
                    + ", ".join(c.name for c in source_columns),
                ),
                source_node,
            )
        planner.check_inputs(statement, record.name, record.features, source_columns, source_node)
        features = [f for f in (feature_column(c) for c in record.features) if f is not None]
        label_type = label_model_type(record.label_type) or "VARCHAR"
        scan = LogicalNode("Scan", {"relation": source_sql, "columns": len(features) + 1})
        model_node = LogicalNode(
            "Model", {"name": record.name, "version": record.version, "family": record.family}
        )
        logical = LogicalNode(
            "Evaluate",
            {"report": options["report"], "threshold": options["threshold"], "label": record.label},
            [scan, model_node],
        )
        physical: list[PhysicalOperator] = [
            ops.LoadModel(record),
            EvaluationScan(source_sql, features, record.label, label_type),
            EvaluateOp(record.name, record.version, options["report"], options["threshold"]),
        ]
        rewrites = [
            f"model binding: {record.name} version {record.version} from the catalog",
            f"column pruning: read {len(features)} feature columns and the label '{record.label}' "
            f"of {len(source_columns)} columns",
        ]
        return Plan(statement.text, logical, physical, rewrites)

    def _options(self, statement: Statement) -> dict[str, Any]:
        given = {o.option_name: o.value() for o in self.args.get("options") or []}
        if isinstance(given.get("report"), str):
            given["report"] = given["report"].strip().lower()
        try:
            return check_options(self.option_specs, given, self.statement_name)
        except InvalidParameterError as error:
            at = next((name for name in given if f"'{name}'" in error.message), None)
            raise statement.locate(error, self._option_node(at) if at else self) from None

    def _option_node(self, name: str) -> Any:
        return next((o for o in self.args.get("options") or [] if o.option_name == name), self)


@dataclass
class EvaluationScan(ops.TrainingScan):
    """Read the test rows, features cast to the model's input types and the label as it trained on it."""

    name = "EvaluationScan"


@dataclass
class EvaluateOp(PhysicalOperator):
    """Score the scanned rows with the model and compute the report (paqdb.ml.evaluation)."""

    model_name: str
    version: int
    report: str
    threshold: float | None
    name = "Evaluate"

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_name, "report": self.report, "threshold": self.threshold}

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        from paqdb.ml.evaluation import evaluate

        model = state.models[self.model_name.lower()]
        assert state.training_data is not None, "an EvaluationScan runs first"
        evaluation = evaluate(model, state.training_data, report=self.report, threshold=self.threshold)
        table = evaluation.table
        columns = [Column(f.name, ops.sql_type_of(f.type)) for f in table.schema]
        state.result = ExecResult(table, table.num_rows, columns, "EVALUATE MODEL")
        said = [f"model {self.model_name} version {self.version} evaluated on {evaluation.rows} rows"]
        if evaluation.rows_without_label:
            said[0] += f" ({evaluation.rows_without_label} rows with a NULL label left out)"
        if evaluation.positive_class is not None:
            said.append(f"positive class {evaluation.positive_class!r}")
        if self.threshold is not None:
            said.append(f"threshold {self.threshold:g}")
        state.message = "; ".join([*said, *evaluation.notes])
