"""The planner: bind a parsed statement to tables, columns and models, and build its plans.

``Planner.plan`` turns a :class:`~paqdb.sql.Statement` into a :class:`~paqdb.planner.plan.Plan`:

1. **bind**: resolve the tables (or subqueries), the label column and the model names; every error says
   what is wrong, where in the SQL, and how to fix it;
2. **logical plan**: what the statement means (scan, train, score, store);
3. **rewrites**: column pruning (read only the features and the label), feature typing (cast every
   feature to the model's input type in SQL), dropping columns no model can use, scoring pushed into
   the engine as a vectorised function;
4. **physical plan**: the pipeline of operators that runs.

Semantic checks all happen in binding, before anything runs, so a failed statement changes nothing.
"""

from __future__ import annotations

import re
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from paqdb.catalog import ModelRecord
from paqdb.engines.base import REFERENCE_DIALECT, Column, ExecResult, base_type, render
from paqdb.errors import (
    Error,
    InvalidParameterError,
    NotSupportedError,
    TrainingError,
    UndefinedColumnError,
    UndefinedModelError,
    UndefinedTableError,
)
from paqdb.ml.tasks import MAX_CLASSIFICATION_INTEGERS
from paqdb.planner import operators as ops
from paqdb.planner import parameters as parameters_
from paqdb.planner.context import ExecutionContext
from paqdb.planner.parameters import Parameters
from paqdb.planner.plan import ExecutionState, LogicalNode, Plan
from paqdb.planner.typing import FeatureColumn, feature_column, label_model_type, quote
from paqdb.sql import Statement, ast
from paqdb.udfs.scoring import function_name

if TYPE_CHECKING:
    from paqdb.search.cost import DataShape

# The rewrite that lists the columns left out of the features; the statement's message repeats it.
_DROPPED = "dropped columns: "

IDENTIFIER_MIN_ROWS = 100
"""Training rows from which an integer or string feature with a distinct value in every row counts as an
identifier and is left out (``drop_identifiers``): on fewer rows, distinct values say too little (ten
ages of ten people all differ)."""

_IDENTIFIER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
    | {"UHUGEINT", "VARCHAR", "UUID", "CHAR", "TEXT", "STRING"}
)


@dataclass
class TrainingPlan:
    """The training half of PREDICT ... GIVEN and CREATE MODEL, bound and planned."""

    logical: LogicalNode
    physical: list[ops.PhysicalOperator]
    features: list[FeatureColumn]
    label: Column
    label_type: str
    spec: Any  # paqdb.search.SearchSpec
    options: dict[str, Any]
    rewrites: list[str]
    #: the task, as the search will infer it from the label (the spec's, when it names one)
    task: str = "classification"


class Planner:
    """Plans and runs statements for one session."""

    def __init__(self, context: ExecutionContext) -> None:
        self.context = context

    @property
    def engine(self) -> Any:
        return self.context.engine

    # -- entry points ---------------------------------------------------------------------------------

    def execute(
        self, statement: Statement, parameters: Parameters | None = None
    ) -> tuple[ExecResult, str | None]:
        """Plan and run a parsed paqdb statement; return its result and a message for the user.

        ``parameters`` bind the statement's ``?``, ``$1`` or ``$name`` markers: a query calling
        ``PREDICT(...)`` passes them to the engine, a paqdb statement has them bound before planning.
        """
        node = statement.ast
        assert node is not None
        engine_parameters = None
        embeds = any(isinstance(n, ast.PaqStatement) for n in node.walk())
        if isinstance(node, ast.PaqStatement | ast.Explain) or embeds:
            if parameters is not None:
                try:
                    node = parameters_.bind(node.copy(), parameters, self.engine)
                except Error as error:
                    raise statement.locate(error) from None
        else:
            engine_parameters = parameters
        if isinstance(node, ast.Explain):
            return self._explain(statement, node), None
        plan = self.plan(statement, node, engine_parameters)
        state = self.run(plan)
        assert state.result is not None, "every plan ends with an operator that sets the result"
        return state.result, state.message

    def run(self, plan: Plan, timings: list[float] | None = None) -> ExecutionState:
        """Run a plan's physical operators in order.

        Python warnings raised meanwhile (NumPy's overflow warnings on extreme labels, say) are caught,
        not printed, and summarised in one line: in the statement's message, or in the hint of the error
        it fails with. The message also names the columns the plan left out of the features, and why.
        """
        state = ExecutionState()
        with warnings.catch_warnings(record=True) as caught:
            try:
                for operator in plan.physical:
                    started = time.perf_counter()
                    operator.run(self.context, state)
                    if timings is not None:
                        timings.append(time.perf_counter() - started)
            except Error as error:
                summary = _warnings_summary(caught)
                if summary:
                    error.hint = f"{error.hint}. {summary}" if error.hint else summary
                raise
        notices = [
            f"not used as features: {rewrite.removeprefix(_DROPPED)}"
            for rewrite in plan.rewrites
            if rewrite.startswith(_DROPPED)
        ]
        lines = [m for m in (state.message, *notices, _warnings_summary(caught)) if m]
        state.message = "\n".join(lines) if lines else None
        return state

    def plan(self, statement: Statement, node: exp.Expr, parameters: Parameters | None = None) -> Plan:
        """Bind ``node`` and build its logical and physical plans.

        ``parameters`` are those of a query calling ``PREDICT(...)``, bound by the engine when it runs.
        """
        if isinstance(node, ast.PaqStatement):
            return node.build_plan(self, statement)
        return self._plan_query_with_predict(statement, node, parameters)

    # -- EXPLAIN --------------------------------------------------------------------------------------

    def _explain(self, statement: Statement, node: ast.Explain) -> ExecResult:
        plan = self.plan(statement, node.this)
        # A search's estimate, calibrated by the trials this database's catalog has measured. EXPLAIN is
        # the estimate's only reader, so only EXPLAIN reads the history.
        estimates: dict[int, Any] = {}
        searches = [op for op in plan.physical if isinstance(op, ops.ModelSearchOp) and op.shape is not None]
        if searches:
            from paqdb.search.arms import available_memory
            from paqdb.search.cost import history_from_catalog, plan_search

            history = history_from_catalog(self.context.models.catalog)
            for search in searches:
                estimate = plan_search(
                    search.spec, search.shape, memory_bytes=available_memory() // 4, history=history
                )
                search._cached_estimate = estimate  # what the operator's describe() prints
                estimates[id(search)] = estimate
        lines = plan.explain_lines()
        if node.args.get("analyze"):
            timings: list[float] = []
            state = self.run(plan, timings)
            lines.append("Measured:")
            for i, (op, seconds) in enumerate(zip(plan.physical, timings, strict=False), 1):
                estimated = estimates.get(id(op))
                lines.append(
                    f"  {i}. {op.name}: {seconds:.3f} s"
                    + (f" ({estimated.compare(seconds)})" if estimated is not None else "")
                )
                if estimated is not None and state.search_result is not None:
                    # Per family, what its configurations took: beside the estimate per configuration.
                    spent: dict[str, list[float]] = {}
                    for trial in state.search_result.trials:
                        spent.setdefault(trial.family, []).append(trial.seconds)
                    lines.extend(
                        f"       - {family}: {len(times)} configuration{'s' if len(times) > 1 else ''}, "
                        f"{sum(times):.2f} s "
                        f"({sum(times) / len(times):.3f} s each)"
                        for family, times in spent.items()
                    )
            result = state.result
            if result is not None and result.table is not None:
                lines.append(f"  rows: {result.table.num_rows}")
        import pyarrow as pa

        table = pa.table({"plan": lines})
        return ExecResult(table, table.num_rows, [Column("plan", "VARCHAR")], "EXPLAIN")

    # -- binding --------------------------------------------------------------------------------------

    def bind_relation(self, statement: Statement, node: exp.Expression) -> tuple[str, list[Column]]:
        """SQL text (in the reference dialect the plans are written in) and columns of a FROM/GIVEN
        relation; unknown table -> a positioned error."""
        sql = node.sql(dialect=REFERENCE_DIALECT)
        native = node.sql(dialect=self.engine.dialect)
        if isinstance(node, exp.Table) and not self.engine.relation_exists(native):
            raise statement.locate(
                UndefinedTableError(
                    f"table '{sql}' does not exist",
                    hint="check the name with SHOW TABLES; load sample data with LOAD DATASET adult",
                ),
                node,
            )
        try:
            return sql, self.engine.columns(native)
        except Error as error:
            raise statement.locate(error, node) from None

    def bind_column(
        self, statement: Statement, node: exp.Expression, columns: list[Column], where: str
    ) -> Column:
        name = node.name
        for column in columns:
            if column.name.lower() == name.lower():
                return column
        raise statement.locate(
            UndefinedColumnError(
                f"column '{name}' does not exist in {where}",
                hint=f"{where} has columns: {', '.join(c.name for c in columns)}",
            ),
            node,
        )

    def bind_model(self, statement: Statement, node: exp.Expression) -> str:
        """The name of the model ``node`` names; an unknown model -> a positioned error."""
        if not self.context.models.exists(node.name):
            raise self._unknown_model(statement, node)
        return node.name

    def bind_model_record(
        self, statement: Statement, node: exp.Expression, version: exp.Expression | None = None
    ) -> ModelRecord:
        """The record of the model ``node`` names, read once for the whole statement: its current
        version, or the version ``version`` (``VERSION n``'s literal) names.

        An unknown model is an error at its name; an unknown version of a known model is an error at the
        version number whose hint lists the model's versions.
        """
        number = int(version.name) if version is not None else None
        try:
            return self.context.models.record(node.name, number)
        except UndefinedModelError as error:
            if number is not None and self.context.models.exists(node.name):
                assert version is not None
                raise statement.locate(error, version) from None
            raise self._unknown_model(statement, node) from None
        except Error as error:
            raise statement.locate(error, node) from None

    def _unknown_model(self, statement: Statement, node: exp.Expression) -> Error:
        name = node.name
        known = self.context.models.names()
        return statement.locate(
            UndefinedModelError(
                f"model '{name}' does not exist",
                hint=(
                    f"known models: {', '.join(known)}"
                    if known
                    else f"create it with CREATE MODEL {name} PREDICT <column> FROM <table>"
                ),
            ),
            node,
        )

    def _features(
        self,
        statement: Statement,
        label: Column,
        training: list[Column],
        scoring: list[Column] | None,
        where: exp.Expression,
        exclude: tuple[str, ...] = (),
        search: ast.SearchClause | None = None,
    ) -> tuple[list[FeatureColumn], list[str]]:
        """Feature columns: training columns but the label and ``exclude`` (present in the scoring input,
        if any). A name in ``exclude`` that is no training column is an error at the ``exclude`` option."""
        known = {c.name.lower() for c in training}
        unknown = [name for name in exclude if name.lower() not in known]
        option = _option_node(search, "exclude") or where
        if unknown:
            raise statement.locate(
                UndefinedColumnError(
                    f"exclude names column(s) {', '.join(repr(n) for n in unknown)} that the training "
                    "relation does not have",
                    hint=f"its columns: {', '.join(c.name for c in training)}",
                ),
                option,
            )
        if label.name.lower() in {name.lower() for name in exclude}:
            raise statement.locate(
                InvalidParameterError(
                    f"exclude names the label '{label.name}', which is never a feature",
                    hint="leave the label out of exclude",
                ),
                option,
            )
        excluded = {name.lower() for name in exclude}
        scoring_names = {c.name.lower() for c in scoring} if scoring is not None else None
        features: list[FeatureColumn] = []
        dropped: list[str] = []
        for column in training:
            if column.name.lower() == label.name.lower():
                continue
            if column.name.lower() in excluded:
                dropped.append(f"{column.name} (excluded)")
                continue
            if scoring_names is not None and column.name.lower() not in scoring_names:
                dropped.append(f"{column.name} (not in the input)")
                continue
            feature = feature_column(column)
            if feature is None:
                # TIME, INTERVAL, BLOB, lists, structs, maps...: named with their type, in EXPLAIN's
                # rewrites and in the statement's message, so no column disappears without a word.
                dropped.append(f"{column.name} ({column.type}: no model reads this type)")
            else:
                features.append(feature)
        if not features:
            left_out = f"; left out: {', '.join(dropped)}" if dropped else ""
            raise statement.locate(
                TrainingError(
                    f"no column can serve as a feature{left_out}",
                    hint="features are the training table's columns other than the label, of numeric, "
                    "boolean, string, enum, date or timestamp type, that the input table also has; "
                    "cast other columns in a query, e.g. FROM (SELECT epoch(t) AS t, ... FROM table)",
                ),
                where,
            )
        return features, dropped

    def _nonempty_training(
        self,
        statement: Statement,
        relation_sql: str,
        label: Column,
        label_type: str,
        features: list[FeatureColumn],
        where: exp.Expression,
        drop_identifiers: bool = False,
    ) -> tuple[DataShape, list[FeatureColumn]]:
        """Check the training relation has labeled rows; its shape for the cost model, in one scan (row
        and label counts, distinct labels, approximate distinct values of each categorical feature).

        With ``drop_identifiers``, the same scan counts the exact distinct values of every integer and
        string feature; those with a distinct value in each of at least :data:`IDENTIFIER_MIN_ROWS` rows
        are identifier-like and returned (never every feature: at least one stays), and the shape is
        that of the other features."""
        candidates = (
            [f for f in features if base_type(f.sql_type) in _IDENTIFIER_TYPES] if drop_identifiers else []
        )
        categorical = [f for f in features if f.model_type == "VARCHAR"]
        exact = {f.name for f in candidates}
        distinct = "".join(
            f", approx_count_distinct({quote(f.name)})" for f in categorical if f.name not in exact
        ) + "".join(f", count(DISTINCT {quote(f.name)})" for f in candidates)
        table = self.engine.query_arrow(
            render(
                f"SELECT count(*) AS n, count({quote(label.name)}) AS labeled, "
                f"count(DISTINCT {quote(label.name)}) AS classes{distinct} FROM {relation_sql}",
                self.engine.dialect,
            )
        )
        values = [column[0].as_py() for column in table.columns]
        rows, labeled, classes = values[0], values[1], values[2]
        counted = [f.name for f in categorical if f.name not in exact] + [f.name for f in candidates]
        distinct_values = dict(zip(counted, values[3:], strict=True))
        identifiers = [
            f for f in candidates if rows >= IDENTIFIER_MIN_ROWS and int(distinct_values[f.name] or 0) == rows
        ]
        if len(identifiers) == len(features):
            identifiers = []  # a model needs a feature; with none left, keep them all
        kept = {f.name for f in identifiers}
        features = [f for f in features if f.name not in kept]
        categorical = [f for f in categorical if f.name not in kept]
        if rows == 0:
            raise statement.locate(
                TrainingError(
                    f"the training table {relation_sql} has no rows",
                    hint="train on a table with labeled rows",
                ),
                where,
            )
        if labeled == 0:
            raise statement.locate(
                TrainingError(
                    f"the label column '{label.name}' is NULL in every row of {relation_sql}",
                    hint="fill in labels for some rows, or use CROWD LABEL to collect them",
                ),
                where,
            )
        # One-hot: a column per numeric feature, a slot per category (up to the featurizer's 100) plus
        # one for NULL and unseen values.
        slots = sum(min(int(distinct_values[f.name] or 0), 100) + 1 for f in categorical)
        numeric = len(features) - len(categorical)
        discrete = label_type in ("VARCHAR", "BOOLEAN") or (
            label_type == "BIGINT" and int(classes or 0) <= MAX_CLASSIFICATION_INTEGERS
        )
        from paqdb.search.cost import DataShape  # the search loads with the first training

        shape = DataShape(
            rows=int(rows),
            onehot_columns=numeric + slots,
            ordinal_columns=len(features),
            classes=int(classes or 0) if discrete else 0,
        )
        return shape, identifiers

    def _search_spec(
        self, statement: Statement, search: ast.SearchClause | None
    ) -> tuple[Any, dict[str, Any]]:
        from paqdb.search import SearchSpec

        options = search.options() if search is not None else {}
        try:
            return SearchSpec.from_options(options), options
        except Error as error:
            node = search
            if search is not None and isinstance(error, InvalidParameterError):
                for option in search.expressions:
                    if option.option_name in error.message:
                        node = option
                        break
            raise statement.locate(error, node) from None

    def _check_pca(
        self,
        statement: Statement,
        spec: Any,
        shape: DataShape,
        features: list[FeatureColumn],
        search: ast.SearchClause | None,
    ) -> None:
        """``pca => n`` must not ask for more components than the one-hot features can have.

        The bound is generous (a NULL indicator for every numeric column, each text column's hashed
        width), so a pca that the data might allow is never refused; the search itself still keeps at
        most as many components as the fitted matrix has columns.
        """
        if spec.pca is None:
            return
        from paqdb.ml.features import DEFAULT_HASH_FEATURES

        text = {name.lower() for name in spec.text}
        numeric = sum(1 for f in features if f.model_type != "VARCHAR")
        hashed = sum(1 for f in features if f.name.lower() in text)
        bound = min(shape.onehot_columns + numeric + hashed * DEFAULT_HASH_FEATURES, shape.rows)
        if spec.pca <= bound:
            return
        node = next((o for o in search.expressions if o.option_name == "pca"), search) if search else None
        raise statement.locate(
            InvalidParameterError(
                f"pca => {spec.pca} asks for more principal components than the data has: "
                f"{len(features)} feature columns and {shape.rows} rows give at most {bound}",
                hint=f"choose pca => {bound} or fewer, or leave pca out",
            ),
            node,
        )

    # -- PREDICT / CREATE MODEL -----------------------------------------------------------------------

    def plan_training(
        self,
        statement: Statement,
        label_node: exp.Expression,
        given_node: exp.Expression,
        scoring_columns: list[Column] | None,
        search: ast.SearchClause | None,
    ) -> TrainingPlan:
        given_sql, given_columns = self.bind_relation(statement, given_node)
        label = self.bind_column(statement, label_node, given_columns, given_sql)
        label_type = label_model_type(label.type)
        if label_type is None:
            raise statement.locate(
                TrainingError(
                    f"column '{label.name}' has type {label.type}, which cannot be predicted",
                    hint="predict a numeric, boolean, string or enum column",
                ),
                label_node,
            )
        spec, options = self._search_spec(statement, search)
        features, dropped = self._features(
            statement, label, given_columns, scoring_columns, given_node, spec.exclude, search
        )
        shape, identifiers = self._nonempty_training(
            statement, given_sql, label, label_type, features, given_node, spec.drop_identifiers
        )
        if identifiers:
            # Unique per row, such a column teaches nothing that carries over to new rows (every value is
            # an unseen category, or a row number); said in EXPLAIN and in the statement's message.
            left_out = {f.name for f in identifiers}
            features = [f for f in features if f.name not in left_out]
            dropped.extend(
                f"{f.name} (identifier-like: a distinct value in every row; "
                "keep it with drop_identifiers => false)"
                for f in identifiers
            )
        self._check_pca(statement, spec, shape, features, search)
        rows = shape.rows
        rewrites = [
            f"column pruning: read {len(features)} feature columns and the label '{label.name}' "
            f"of {len(given_columns)} columns",
            "feature typing: numbers and dates -> DOUBLE, booleans -> BOOLEAN, strings and enums -> VARCHAR, "
            "cast in SQL so training and scoring read identical types",
        ]
        if dropped:
            rewrites.append(f"{_DROPPED}{', '.join(dropped)}")
        scan = LogicalNode(
            "Scan",
            {"relation": given_sql, "rows": rows, "columns": [f.name for f in features] + [label.name]},
        )
        train = LogicalNode(
            "TrainModel",
            {
                "label": label.name,
                "task": spec.task or "inferred from the label",
                "search": options or "defaults",
            },
            [scan],
        )
        physical: list[ops.PhysicalOperator] = [
            ops.TrainingScan(given_sql, features, label.name, label_type),
            ops.ModelSearchOp(label.name, spec, shape),
        ]
        # The search infers the task from the label as the shape query did: classes counted, or none.
        task = spec.task or ("classification" if shape.classes else "regression")
        return TrainingPlan(train, physical, features, label, label_type, spec, options, rewrites, task)

    def check_inputs(
        self,
        statement: Statement,
        model: str,
        features: list[Column],
        columns: list[Column],
        where: exp.Expression,
    ) -> None:
        present = {c.name.lower() for c in columns}
        missing = [f.name for f in features if f.name.lower() not in present]
        if missing:
            raise statement.locate(
                UndefinedColumnError(
                    f"model '{model}' needs column(s) {', '.join(missing)}, missing from the input",
                    hint="score a table with the columns the model was trained on (DESCRIBE MODEL shows it)",
                ),
                where,
            )

    def catalog_scorer(
        self, record: ModelRecord, features: list[FeatureColumn]
    ) -> tuple[str, list[ops.PhysicalOperator]]:
        """The scoring function of a catalog model and the operators that load and register it.

        Both are keyed by the model's identity, so a model dropped and re-created under the same name
        and version number never answers with the old one's function.
        """
        from paqdb.udfs.compile import planned_path

        # A model that compiles to SQL is scored by the engine itself, as a macro of the same signature
        # (issue 10, item 7); the rest keep the Arrow UDF. Macros are DuckDB's, hence the dialect check.
        why_not = planned_path(record.family, record.hyperparameters, record.search)
        if self.engine.dialect != "duckdb":
            why_not = f"compiled models run as DuckDB macros; this engine is {self.engine.name}"
        if why_not is None:
            function = function_name(record.name, record.identity) + "_sql"
            compiled = ops.RegisterCompiledScorer(
                function,
                features,
                label_model_type(record.label_type) or "VARCHAR",
                record.name.lower(),
                record.identity,
                record.family,
            )
            return function, [ops.LoadModel(record), compiled]
        key = (record.name.lower(), record.identity)
        known = self.context.scoring_functions.get(key)
        if known is not None and self.engine.has_function(known.name):
            return known.name, [ops.LoadModel(record)]
        # Not registered yet, or taken by a rollback: DuckDB never lets a name come back, so a new one.
        function = self.engine.unique_function_name(function_name(record.name, record.identity))
        register = ops.RegisterScorer(
            function,
            features,
            label_model_type(record.label_type) or "VARCHAR",
            record.name.lower(),
            key,
            why_not_compiled=why_not,
        )
        return function, [ops.LoadModel(record), register]

    # -- PREDICT(...) inside queries ------------------------------------------------------------------

    def _plan_query_with_predict(
        self, statement: Statement, node: exp.Expr, parameters: Parameters | None = None
    ) -> Plan:
        _name_predict_columns(node)
        calls = list(node.find_all(ast.PredictCall))
        physical: list[ops.PhysicalOperator] = []
        models: list[LogicalNode] = []
        prepared: dict[str, tuple[str, str, str, list[FeatureColumn]]] = {}
        first_call: dict[str, tuple[str, exp.Expression]] = {}  # function -> (model, where to point)
        for call in calls:
            name = call.args["model"].name
            version = call.args.get("version")
            # One scorer per model version a query names (m, and m VERSION 1, may both appear).
            key = name.lower() if version is None else f"{name.lower()} version {version.name}"
            if key not in prepared:
                record = self.bind_model_record(statement, call.args["model"], version)
                features = [f for f in (feature_column(c) for c in record.features) if f is not None]
                function, steps = self.catalog_scorer(record, features)
                physical.extend(steps)
                prepared[key] = (function, record.label, record.label_type, features)
                models.append(LogicalNode("Model", {"name": name, "version": record.version}))
            function, label, label_sql_type, features = prepared[key]
            _check_call_label(statement, call, "PREDICT", name, label)
            self._check_call_inputs(statement, node, call, name, features)
            first_call.setdefault(function, (name, call))
            args = ", ".join(f.expression for f in features)
            call.replace(
                exp.maybe_parse(
                    f"CAST(({function}({args})).prediction AS {label_sql_type})", dialect="duckdb"
                )
            )
        probability_calls = list(node.find_all(ast.PredictProbaCall))
        for proba in probability_calls:
            self._plan_probability_call(statement, node, proba, physical, models, prepared, first_call)
        drops = self._plan_embedded_statements(statement, node, physical, models)
        sql = node.sql(dialect="duckdb")
        physical.append(_PredictQuery(sql, parameters, statement, first_call, prepared, drops))
        logical = LogicalNode("Query", {"predict_calls": len(calls) + len(probability_calls)}, models)
        return Plan(
            statement.text,
            logical,
            physical,
            ["PREDICT(... USING MODEL m) -> the model's vectorised scoring function"],
        )

    def _plan_probability_call(
        self,
        statement: Statement,
        root: exp.Expr,
        call: ast.PredictProbaCall,
        physical: list[ops.PhysicalOperator],
        models: list[LogicalNode],
        prepared: dict[str, tuple[str, str, str, list[FeatureColumn]]],
        first_call: dict[str, tuple[str, exp.Expression]],
    ) -> None:
        """Rewrite ``PREDICT_PROBA(label USING MODEL m)`` into a call of the model's probability function
        (``MAP(VARCHAR, DOUBLE)``, registered once per session and model identity)."""
        name = call.args["model"].name
        version = call.args.get("version")
        key = f"probabilities of {name.lower()}" + ("" if version is None else f" version {version.name}")
        if key not in prepared:
            record = self.bind_model_record(statement, call.args["model"], version)
            if record.task != "classification":
                raise statement.locate(
                    InvalidParameterError(
                        f"PREDICT_PROBA needs a classification model; '{name}' predicts a number "
                        f"('{record.label}' is a regression label)",
                        hint=f"write PREDICT({record.label} USING MODEL {name}) for its prediction",
                    ),
                    call,
                )
            features = [f for f in (feature_column(c) for c in record.features) if f is not None]
            catalog_key = (record.name.lower(), f"{record.identity}:probabilities")
            known = self.context.scoring_functions.get(catalog_key)
            steps: list[ops.PhysicalOperator] = [ops.LoadModel(record)]
            if known is not None and self.engine.has_function(known.name):
                function = known.name
            else:
                function = self.engine.unique_function_name(
                    function_name(record.name, record.identity) + "_proba"
                )
                steps.append(
                    ops.RegisterScorer(
                        function,
                        features,
                        label_model_type(record.label_type) or "VARCHAR",
                        record.name.lower(),
                        catalog_key,
                        probability_map=True,
                    )
                )
            physical.extend(steps)
            prepared[key] = (function, record.label, record.label_type, features)
            models.append(LogicalNode("Model", {"name": name, "version": record.version}))
        function, label, _, features = prepared[key]
        _check_call_label(statement, call, "PREDICT_PROBA", name, label)
        self._check_call_inputs(statement, root, call, name, features)
        first_call.setdefault(function, (name, call))
        args = ", ".join(f.expression for f in features)
        call.replace(exp.maybe_parse(f"{function}({args})", dialect="duckdb"))

    def _plan_embedded_statements(
        self,
        statement: Statement,
        node: exp.Expr,
        physical: list[ops.PhysicalOperator],
        models: list[LogicalNode],
    ) -> list[str]:
        """Turn each PREDICT statement standing where a query does (``FROM (PREDICT ...)``, a CTE,
        ``CREATE TABLE t AS PREDICT ...``, ``INSERT INTO t PREDICT ...``) into its scoring query.

        Its plan's steps (load or train, register the scoring function) run first; the query then
        reads the scoring query in its place. Returns the one-off scoring functions to drop after.
        """
        embedded = [n for n in node.find_all(ast.PaqStatement) if n.embeddable]
        for inner in embedded:
            # Identity, not equality: sqlglot compares nodes by structure, and two PREDICTs may match.
            nested = next((n for n in embedded if n is not inner and any(x is inner for x in n.walk())), None)
            if nested is not None:
                raise statement.locate(
                    NotSupportedError(
                        f"{inner.statement_name} inside another {nested.statement_name} is not supported",
                        hint="store the inner result first: CREATE TABLE t AS PREDICT ...",
                    ),
                    inner,
                )
        training = [n for n in embedded if n.args.get("given") is not None]
        if len(training) > 1:
            raise statement.locate(
                NotSupportedError(
                    "only one PREDICT ... GIVEN in a query can train its model",
                    hint="train the others first with CREATE MODEL, then use PREDICT ... USING MODEL",
                ),
                training[1],
            )
        drops = []
        for inner in embedded:
            inner_plan = inner.build_plan(self, statement)
            *steps, score = inner_plan.physical
            assert isinstance(score, ops.ScoreQuery), "a PREDICT plan ends with its scoring query"
            if score.probabilities and score.classes is None:
                # The query's columns are fixed before the search names the classes.
                raise statement.locate(
                    NotSupportedError(
                        "probabilities of a model trained inside a query are not supported",
                        hint="train it first (CREATE MODEL m ...), then PREDICT ... USING MODEL m "
                        "WITH (probabilities => true)",
                    ),
                    inner,
                )
            physical.extend(steps)
            models.append(inner_plan.logical)
            query: exp.Expr = exp.maybe_parse(
                score.sql(score.task or "classification"), dialect=REFERENCE_DIALECT
            )
            inner.replace(query)
            if score.drop_function is not None:
                drops.append(score.drop_function)
        return drops

    def _check_call_inputs(
        self,
        statement: Statement,
        root: exp.Expr,
        call: ast.PredictCall | ast.PredictProbaCall,
        model: str,
        features: list[FeatureColumn],
    ) -> None:
        """Bind a ``PREDICT(...)`` call's feature columns before the call is rewritten.

        The columns a call can read are those of the FROM clause of its SELECT and of the SELECTs
        around it (a correlated subquery reads the outer query's). Each FROM clause is described by the
        engine (``DESCRIBE SELECT * FROM ...``: bound, not run). A missing feature is an error that names
        the model and every missing column, as the statement form does, instead of DuckDB's binder error
        about the rewritten call. Where a FROM clause cannot be described alone (it reads a CTE defined
        further out, holds parameters or another PREDICT call), nothing is checked here and
        :class:`_PredictQuery` maps the engine's error instead.
        """
        available: set[str] = set()
        select = call.find_ancestor(exp.Select)
        if select is None:
            return
        with_key = "with_" if "with_" in exp.Select.arg_types else "with"
        with_ = root.args.get(with_key)
        while select is not None:
            if select.args.get("from") is not None or select.args.get("from_") is not None:
                probe = exp.Select(
                    expressions=[exp.Star()],
                    **{k: select.args[k].copy() for k in ("from", "from_", "joins") if select.args.get(k)},
                )
                if with_ is not None:
                    probe.set(with_key, with_.copy())
                if any(True for _ in probe.find_all(ast.PredictCall, ast.PredictProbaCall)):
                    return
                for placeholder in list(probe.find_all(exp.Placeholder)):
                    placeholder.replace(exp.Null())  # a parameter's value does not change the columns
                try:
                    columns = self.engine.columns(f"({probe.sql(dialect=self.engine.dialect)})")
                except Error:
                    return
                available.update(c.name.lower() for c in columns)
            select = select.find_ancestor(exp.Select)
        missing = [f.name for f in features if f.name.lower() not in available]
        if missing:
            raise statement.locate(
                UndefinedColumnError(
                    f"model '{model}' needs column(s) {', '.join(missing)}, missing from the input",
                    hint="score rows with the columns the model was trained on (DESCRIBE MODEL shows it)",
                ),
                call,
            )


def _option_node(search: ast.SearchClause | None, name: str) -> exp.Expression | None:
    """The ``name => ...`` option of a ``USING SEARCH`` clause (to point an error at), or the clause."""
    if search is None:
        return None
    return next((o for o in search.expressions if o.option_name == name), search)


def _check_call_label(statement: Statement, call: exp.Expression, form: str, model: str, label: str) -> None:
    """A ``PREDICT(...)``/``PREDICT_PROBA(...)`` call names the label its model predicts, or is an error."""
    if call.this.name.lower() != label.lower():
        raise statement.locate(
            InvalidParameterError(
                f"model '{model}' predicts '{label}', not '{call.this.name}'",
                hint=f"write {form}({label} USING MODEL {model})",
            ),
            call.this,
        )


def _name_predict_columns(node: exp.Expr) -> None:
    """Name every unaliased select-list expression holding ``PREDICT(...)`` by its text as written.

    Without this the engine names the column by the rewritten expression (``CAST((paqdb_score_...``);
    as DuckDB names any expression column by its text, ``SELECT PREDICT(species USING MODEL m)`` gives
    a column called ``PREDICT(species USING MODEL m)``.
    """
    from paqdb.sql import Paq

    for select in list(node.find_all(exp.Select)):
        expressions = select.expressions
        if not any(
            not isinstance(e, exp.Alias)
            and any(True for _ in e.find_all(ast.PredictCall, ast.PredictProbaCall))
            for e in expressions
        ):
            continue
        select.set(
            "expressions",
            [
                e
                if isinstance(e, exp.Alias)
                or not any(True for _ in e.find_all(ast.PredictCall, ast.PredictProbaCall))
                else exp.alias_(e, e.sql(dialect=Paq), quoted=True, copy=False)
                for e in expressions
            ],
        )


_REFERENCED_COLUMN = re.compile(r'Referenced column "([^"]+)" not found', re.IGNORECASE)


class _PredictQuery(ops.RunQuery):
    """The rewritten query; an engine error about a rewritten call is told in the query's own terms.

    The planner binds the calls' columns beforehand where it can (``Planner._check_call_inputs``); this
    is for the rest: a missing feature column becomes "model 'm' needs column(s) ...", and no error
    shows the scoring function or the SQL it was rewritten into.
    """

    def __init__(
        self,
        sql: str,
        parameters: Any,
        statement: Statement,
        calls: dict[str, tuple[str, exp.Expression]],
        prepared: dict[str, tuple[str, str, str, list[FeatureColumn]]],
        drop_functions: list[str] | None = None,
    ) -> None:
        super().__init__(sql, parameters)
        self.drop_functions = drop_functions or []
        self.statement = statement
        self.calls = calls
        self.features = {function: features for function, _, _, features in prepared.values()}

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        try:
            super().run(context, state)
        except Error as error:
            raise self._explained(error) from None
        finally:
            for function in self.drop_functions:  # the one-off scorers of PREDICT ... GIVEN inside
                context.engine.unregister_function(function)

    def _explained(self, error: Error) -> Error:
        message = error.message
        referenced = _REFERENCED_COLUMN.search(message)
        if referenced is not None:
            for function, (model, call) in self.calls.items():
                if any(f.name.lower() == referenced.group(1).lower() for f in self.features[function]):
                    return self.statement.locate(
                        UndefinedColumnError(
                            f"model '{model}' needs column(s) {referenced.group(1)}, missing from the input",
                            hint="score rows with the columns the model was trained on "
                            "(DESCRIBE MODEL shows it)",
                        ),
                        call,
                    )
        # DuckDB quotes the rewritten SQL after "LINE n:", at positions of that SQL, not of the
        # statement written: keep only DuckDB's own sentences, naming the calls as written.
        text = message.split("\n\nLINE ")[0]
        for function, (model, _) in self.calls.items():
            text = re.sub(re.escape(function), f"PREDICT(... USING MODEL {model})", text, flags=re.IGNORECASE)
        if text == message:
            return error
        return type(error)(text, sqlstate=error.sqlstate, hint=error.hint)


def _warnings_summary(caught: list[warnings.WarningMessage]) -> str | None:
    """One line for the warnings a statement raised: how many, and the most frequent kinds."""
    if not caught:
        return None
    kinds = Counter(f"{w.category.__name__}: {next(iter(str(w.message).splitlines()), '')}" for w in caught)
    shown = [f"{kind} ({count}x)" if count > 1 else kind for kind, count in kinds.most_common(2)]
    more = f" and {len(kinds) - 2} other kinds" if len(kinds) > 2 else ""
    plural = "s" if len(caught) > 1 else ""
    return f"{len(caught)} warning{plural} while running: {'; '.join(shown)}{more}"
