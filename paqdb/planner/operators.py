"""Physical operators: each is one step of a pipeline, talking to the engine through its interface.

Model search, training and scoring are here for PREDICT and CREATE MODEL. The capabilities that arrive
later (cleaning, crowd labeling, causal analysis) plug in as operators of their own; until they exist the
planner refuses those statements with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from paqdb.catalog import ModelRecord, TrialRecord
from paqdb.engines.base import Column, ExecResult, render
from paqdb.errors import InvalidParameterError
from paqdb.models import ARTIFACT_FORMAT
from paqdb.planner.context import ExecutionContext
from paqdb.planner.plan import ExecutionState, PhysicalOperator
from paqdb.planner.typing import FeatureColumn, label_model_type, quote
from paqdb.udfs import scoring

TRAINING_BATCH_ROWS = 122_880
"""Rows per Arrow batch of a training scan (DuckDB's row group size)."""


@dataclass
class TrainingScan(PhysicalOperator):
    """Read the labeled rows, features cast to the model's input types, into an Arrow table."""

    relation_sql: str
    features: list[FeatureColumn]
    label: str
    label_model_type: str
    name = "TrainingScan"

    @property
    def sql(self) -> str:
        columns = [f"{f.expression} AS {quote(f.name)}" for f in self.features]
        columns.append(f"CAST({quote(self.label)} AS {self.label_model_type}) AS {quote(self.label)}")
        return f"SELECT {', '.join(columns)} FROM {self.relation_sql}"

    def describe(self) -> dict[str, Any]:
        return {"source": self.relation_sql, "features": len(self.features), "label": self.label}

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        # Streamed in Arrow batches through the engine interface (a Spark engine sends them from its
        # executors); the search then holds the featurised matrix, not the engine's result.
        engine = context.engine
        sql = render(self.sql, engine.dialect)
        batches = list(engine.scan_batches(sql, TRAINING_BATCH_ROWS))
        table = pa.Table.from_batches(batches) if batches else engine.query_arrow(sql)
        state.training_data = table


@dataclass
class ModelSearchOp(PhysicalOperator):
    """Search model families and hyperparameters within a budget; keep the best model."""

    label: str
    spec: Any  # paqdb.search.SearchSpec
    shape: Any = None  # paqdb.search.cost.DataShape, for the cost model
    _cached_estimate: Any = field(default=None, init=False, repr=False, compare=False)
    name = "ModelSearch"

    def _estimate(self) -> Any:
        """The cost model's plan (paqdb.search.cost.SearchEstimate), computed once per operator."""
        from paqdb.search.arms import available_memory
        from paqdb.search.cost import plan_search

        if self.shape is None:
            return None
        if self._cached_estimate is None:
            self._cached_estimate = plan_search(self.spec, self.shape, memory_bytes=available_memory() // 4)
        return self._cached_estimate

    def describe(self) -> dict[str, Any]:
        # A budget of trials alone shows the default time cap that ends it too: "20 trials (capped at 600 s)".
        budget = self.spec.budget.describe()
        properties: dict[str, Any] = {"strategy": self.spec.strategy}
        estimate = self._estimate()
        if estimate is not None:
            properties.update(estimate.describe())
        properties.update(
            {
                "budget": budget,
                "metric": self.spec.metric or "task default",
                "seed": self.spec.seed,
                "validation": self.spec.validation_fraction,
            }
        )
        if self.spec.strategy in ("tupaq", "successive_halving", "hyperband"):
            properties["batching"] = "on" if self.spec.batching else "off"
        if self.spec.pca is not None:
            # A fixed pipeline step, computed once per search (one-hot families only).
            properties["pca"] = self.spec.pca
        return properties

    def detail_lines(self) -> list[str]:
        estimate = self._estimate()
        if estimate is None:
            return []
        return [f"- {family.describe()}" for family in estimate.families]

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        from paqdb.search import search_for

        search = search_for(self.spec)
        assert state.training_data is not None, "a TrainingScan runs before the search"
        state.search_result = search.run(
            state.training_data, self.label, self.spec, progress=context.progress
        )


@dataclass
class StoreModel(PhysicalOperator):
    """Write the model version, its trials and its artifact to the catalog in one transaction."""

    model_name: str
    label: str
    label_type: str
    features: list[FeatureColumn]
    search_options: dict[str, Any]
    source_sql: str
    replace: bool
    name = "StoreModel"

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_name, "replace": self.replace, "artifact": ARTIFACT_FORMAT}

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        result = state.search_result
        assert state.training_data is not None and result is not None
        model = result.model
        trials = [TrialRecord.of(t) for t in result.trials]
        saved = context.models.save(
            model,
            name=self.model_name,
            label=self.label,
            label_type=self.label_type,
            features=[Column(f.name, f.sql_type) for f in self.features],
            metric=result.metric,
            validation_score=result.validation_score,
            train_rows=state.training_data.num_rows,
            trials=trials,
            search={k: _jsonable(v) for k, v in self.search_options.items()},
            source_sql=self.source_sql,
            outcome=result.outcome,
            notes="; ".join(result.notes),
            replace=self.replace,
        )
        version = saved.version
        message = summary_message(self.model_name, version, result)
        state.result = ExecResult(
            pa.table(
                {
                    "model": [self.model_name],
                    "version": [version],
                    "family": [model.family],
                    "metric": [result.metric],
                    "validation_score": [result.validation_score],
                    "trials": [len(trials)],
                }
            ),
            1,
            [
                Column("model", "VARCHAR"),
                Column("version", "INTEGER"),
                Column("family", "VARCHAR"),
                Column("metric", "VARCHAR"),
                Column("validation_score", "DOUBLE"),
                Column("trials", "BIGINT"),
            ],
            "CREATE MODEL",
        )
        state.message = message


def summary_message(model_name: str, version: int, result: Any) -> str:
    """The message of CREATE MODEL, read from the search result: the model's family and score (its best
    trial's), the trials, how the search ended and its notes. ``result`` is a
    :class:`paqdb.search.SearchResult`.

    >>> from types import SimpleNamespace
    >>> summary_message("m", 1, SimpleNamespace(model=SimpleNamespace(family="logistic"), metric="accuracy",
    ...     validation_score=0.9, trials=[1, 2], outcome="interrupted", notes=["no trials for mlp"]))
    'model m version 1: logistic, validation accuracy 0.9000, interrupted after 2 trials; no trials for mlp'
    """
    best = f"{result.validation_score:.4f}" if result.validation_score is not None else "n/a"
    count = len(result.trials)
    trials = f"{count} trial" + ("" if count == 1 else "s")
    head = f"model {model_name} version {version}: {result.model.family}, validation {result.metric} {best}"
    if result.outcome == "interrupted":
        text = f"{head}, interrupted after {trials}"
        # The interrupt is said once: the note repeating it is for the catalog.
        notes = [note for note in result.notes if not note.startswith("interrupted after")]
    else:
        text = f"{head} after {trials}"
        if result.outcome != "complete":
            text += f" ({result.outcome})"
        notes = list(result.notes)
    return "; ".join([text, *notes])


def probability_column_names(classes: list[str], taken: set[str]) -> list[str]:
    """``probability_<class>`` for each class (its value as text, as written: ``probability_>50K``,
    ``probability_true``), made unique against ``taken`` (lower-case names) and each other."""
    names: list[str] = []
    seen = set(taken)
    for value in classes:
        name = _fresh(f"probability_{value}", seen)
        seen.add(name.lower())
        names.append(name)
    return names


def _fresh(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


@dataclass
class LoadModel(PhysicalOperator):
    """Decode a catalog model bound at planning (its record read once) through the model store, which
    caches it by identity and checks the artifact's hash before anything in it is parsed."""

    record: ModelRecord
    name = "LoadModel"

    def describe(self) -> dict[str, Any]:
        record = self.record
        return {"model": record.name, "version": record.version, "identity": record.identity[:16]}

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        loaded = context.models.load_record(self.record)
        state.models[self.record.name.lower()] = loaded.model


@dataclass
class RegisterScorer(PhysicalOperator):
    """Register a model in the engine as a vectorised scoring function.

    The prediction is in the label's model type (BIGINT for an integer label, DOUBLE for a decimal or
    floating one, VARCHAR or BOOLEAN for a class); a regression on any other label type gives DOUBLE.
    A catalog model's function stays registered for the session (``catalog_key`` remembers it); a
    freshly trained one is dropped after its statement.

    ``probabilities`` adds the per-class probabilities to the struct and ``threshold`` decides a binary
    model's prediction (PREDICT ... WITH (...)); ``probability_map`` registers ``PREDICT_PROBA``'s
    function instead, which returns only the ``MAP(VARCHAR, DOUBLE)`` of probabilities.
    """

    function: str
    features: list[FeatureColumn]
    label_type: str
    model_name: str | None  # the catalog model's lower-case name; None: the search's fresh model
    catalog_key: tuple[str, str] | None = None  # (lower-case name, identity) of a catalog model
    probabilities: bool = False
    threshold: float | None = None
    probability_map: bool = False
    why_not_compiled: str | None = None  # why a catalog model is not scored as compiled SQL (for EXPLAIN)
    explain: bool = False  # adds contributions and base_value (paqdb.udfs.explaining)
    explain_method: str | None = None  # how, when the family is known at planning (for EXPLAIN)
    name = "RegisterScoringFunction"

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "function": self.function,
            "inputs": len(self.features),
            "path": "Arrow UDF" + (f" ({self.why_not_compiled})" if self.why_not_compiled else ""),
            "vectorised": "Arrow, one call per 2048-row vector",
            "lifetime": "session" if self.catalog_key else "this statement",
        }
        if self.probability_map:
            described["returns"] = scoring.PROBABILITIES_TYPE
        if self.probabilities:
            described["probabilities"] = "per class"
        if self.threshold is not None:
            described["threshold"] = f"second class when its probability >= {self.threshold:g}"
        if self.explain:
            described["contributions"] = self.explain_method or (
                "exact for linear models, path-based (Saabas) for trees: the family the search keeps decides"
            )
        return described

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        # A catalog model LoadModel decoded, or the one the statement's search just trained.
        model = state.models[self.model_name] if self.model_name else state.search_result.model
        prediction_type = self.label_type
        if model.task == "regression" and self.label_type not in ("BIGINT", "DOUBLE"):
            prediction_type = "DOUBLE"
        argument_types = [f.model_type for f in self.features]
        if self.probability_map:
            function = scoring.register_probabilities(context.engine, self.function, model, argument_types)
        elif self.explain:
            from paqdb.udfs import explaining

            if (self.probabilities or self.threshold is not None) and model.task != "classification":
                raise InvalidParameterError(
                    "probabilities and threshold apply to classification; this model predicts a number",
                    hint="leave probabilities and threshold out for a regression model",
                )
            function = explaining.register(
                context.engine,
                self.function,
                model,
                argument_types,
                prediction_type,
                probabilities=self.probabilities,
                threshold=self.threshold,
            )
        else:
            if (self.probabilities or self.threshold is not None) and model.task != "classification":
                # The planner refuses these for a model known to predict numbers; a search's model is
                # known only now.
                raise InvalidParameterError(
                    "probabilities and threshold apply to classification; this model predicts a number",
                    hint="leave the WITH options out for a regression model",
                )
            function = scoring.register(
                context.engine,
                self.function,
                model,
                argument_types,
                prediction_type,
                probabilities=self.probabilities,
                threshold=self.threshold,
            )
        if self.catalog_key is not None:
            context.scoring_functions[self.catalog_key] = function


@dataclass
class ScoreQuery(PhysicalOperator):
    """Run the scoring query in the engine and return its rows; drop a one-off scoring function after.

    The output is every input column, then ``predicted_<label>`` and, for classification,
    ``confidence`` (the probability of the predicted class); with ``probabilities``, then one
    ``probability_<class>`` column per class in the model's class order (the class value as text: see
    :func:`probability_column_names`).
    """

    source_sql: str
    source_columns: list[Column]
    function: str
    features: list[FeatureColumn]
    label: str
    label_sql_type: str
    task: str | None  # None: the task the search inferred
    drop_function: str | None = None
    modifiers: str = ""  # " ORDER BY ... LIMIT ..." of the result rows, as written
    probabilities: bool = False  # one probability_<class> column per class
    model_name: str | None = None  # the catalog model's lower-case name; None: the search's fresh model
    classes: list[str] | None = None  # the classes as text when known at planning (a catalog model)
    explain: bool = False  # contributions and base_value columns
    name = "ScoreInEngine"

    def describe(self) -> dict[str, Any]:
        classes = (self.classes or ["<class>"]) if self.probabilities else None
        return {"sql": self.sql(self.task or "classification", classes)}

    def sql(self, task: str, classes: list[str] | None = None) -> str:
        """The scoring query for a model of ``task``; ``classes`` (as text): a probability column each
        (by default those known at planning, when the statement asked for probabilities)."""
        if classes is None and self.probabilities:
            classes = self.classes
        args = ", ".join(f.expression for f in self.features)
        taken = {c.name.lower() for c in self.source_columns}
        output = _fresh(f"predicted_{self.label}", taken)
        confidence = _fresh("confidence", taken | {output.lower()})
        prediction = "__paqdb_score.prediction"
        columns = []
        named: list[str] = []  # the probability columns' names
        if task == "regression":
            # In the label's own type (an INTEGER label gives INTEGER predictions, DECIMAL(10,2) gives
            # DECIMAL(10,2)), as the expression form does; other labels keep DOUBLE.
            numeric = label_model_type(self.label_sql_type) in ("BIGINT", "DOUBLE")
            value = f"CAST({prediction} AS {self.label_sql_type})" if numeric else prediction
            columns.append(f"{value} AS {quote(output)}")
        else:
            columns.append(f"CAST({prediction} AS {self.label_sql_type}) AS {quote(output)}")
            columns.append(f"__paqdb_score.confidence AS {quote(confidence)}")
            if classes is not None:
                taken |= {output.lower(), confidence.lower()}
                named = probability_column_names(classes, taken)
                for value, column in zip(classes, named, strict=True):
                    key = "'" + value.replace("'", "''") + "'"
                    columns.append(f"__paqdb_score.probabilities[{key}] AS {quote(column)}")
        if self.explain:
            taken |= {output.lower(), confidence.lower()} | {name.lower() for name in named}
            contributions = _fresh("contributions", taken)
            base_value = _fresh("base_value", taken | {contributions.lower()})
            columns.append(f"__paqdb_score.contributions AS {quote(contributions)}")
            columns.append(f"__paqdb_score.base_value AS {quote(base_value)}")
        # The input's columns by name (no engine-specific "* EXCLUDE"), then the prediction's.
        inputs = [quote(c.name) for c in self.source_columns]
        query = (
            f"SELECT {', '.join([*inputs, *columns])} "
            f"FROM (SELECT *, {self.function}({args}) AS __paqdb_score FROM {self.source_sql}) "
            "AS __paqdb_input"
        )
        if self.modifiers:
            query = f"SELECT * FROM ({query}) AS __paqdb_predicted{self.modifiers}"
        return query

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        task = self.task
        if task is None:
            task = state.search_result.model.task
        classes = self.classes if self.probabilities else None
        if self.probabilities and classes is None:
            model = state.models[self.model_name] if self.model_name else state.search_result.model
            classes = scoring.class_names(model)
        try:
            result = context.engine.execute(render(self.sql(task, classes), context.engine.dialect))
        finally:
            if self.drop_function is not None:
                context.engine.unregister_function(self.drop_function)
        result.status = "PREDICT"
        state.result = result


@dataclass
class CatalogQuery(PhysicalOperator):
    """SHOW MODELS / DESCRIBE MODEL: read the catalog."""

    what: str  # "models" or "trials"
    model_name: str | None = None
    version: int | None = None  # DESCRIBE MODEL m VERSION n; None: the current version
    name = "CatalogScan"

    def describe(self) -> dict[str, Any]:
        return {
            "table": "paqdb.models" if self.what == "models" else "paqdb.trials",
            "model": self.model_name,
            **({"version": self.version} if self.version is not None else {}),
        }

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        if self.what == "models":
            table = context.models.list()
            status = "SHOW MODELS"
        else:
            assert self.model_name is not None
            table = context.models.describe(self.model_name, self.version)
            status = "DESCRIBE MODEL"
        columns = [Column(f.name, sql_type_of(f.type)) for f in table.schema]
        state.result = ExecResult(table, table.num_rows, columns, status)


@dataclass
class DropModelOp(PhysicalOperator):
    """DROP MODEL: delete the model's catalog rows in one transaction."""

    model_name: str
    if_exists: bool
    name = "CatalogDelete"

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_name, "if_exists": self.if_exists}

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        existed = context.models.drop(self.model_name, if_exists=self.if_exists)
        for key in [k for k in context.scoring_functions if k[0] == self.model_name.lower()]:
            context.engine.unregister_function(context.scoring_functions.pop(key).name)
        state.result = ExecResult(None, 1 if existed else 0, [], "DROP MODEL")


@dataclass
class LoadDatasetOp(PhysicalOperator):
    """LOAD DATASET: read a dataset shipped inside an installed package into a new table."""

    dataset: str
    target: str
    name = "LoadDataset"
    info: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "table": self.target, **self.info}

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        from paqdb import datasets

        table = datasets.load(self.dataset)
        context.engine.create_table(self.target, table)
        state.result = ExecResult(None, table.num_rows, [], "LOAD DATASET")
        state.message = f"loaded {table.num_rows} rows into {self.target}"


@dataclass
class RunQuery(PhysicalOperator):
    """Run a query in the engine (a rewritten query whose PREDICT(...) calls became scoring functions)."""

    sql: str
    parameters: Any = None  # the statement's parameters, bound by the engine
    name = "EngineQuery"

    def describe(self) -> dict[str, Any]:
        return {"sql": self.sql}

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        engine = context.engine
        state.result = engine.execute(render(self.sql, engine.dialect), self.parameters)


class Nothing(PhysicalOperator):
    """A statement with nothing to do (CREATE MODEL IF NOT EXISTS of a model that exists): its status and
    a message saying why."""

    name = "Nothing"

    def __init__(self, status: str, message: str) -> None:
        self.status, self.message = status, message

    def describe(self) -> dict[str, Any]:
        return {"reason": self.message}

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        state.result = ExecResult(None, 0, [], self.status)
        state.message = self.message


def sql_type_of(arrow_type: pa.DataType) -> str:
    """The SQL type name a door shows for a column of an Arrow table paqdb builds."""
    if isinstance(arrow_type, pa.JsonType):  # DESCRIBE MODEL's hyperparameters and resources
        return "JSON"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "VARCHAR"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_int32(arrow_type):
        return "INTEGER"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    return str(arrow_type).upper()


@dataclass
class RegisterCompiledScorer(PhysicalOperator):
    """Register a catalog model compiled to native SQL (:mod:`paqdb.udfs.compile`) as a temporary macro
    ``function(feature, ...) -> STRUCT(prediction, confidence)``, the signature of the Arrow UDF, so the
    engine scores with its own vectorised, parallel execution.

    The macro is created again on every statement that calls it (``CREATE OR REPLACE``, the compiled SQL
    cached by the model's identity): a rollback takes a macro created in its transaction with it. A model
    that turns out not to compile once loaded (a forest too large, a PCA step) is registered as the Arrow
    UDF under the same name instead, and the reason kept for EXPLAIN ANALYZE.
    """

    function: str
    features: list[FeatureColumn]
    label_type: str
    model_name: str
    identity: str
    family: str
    name = "RegisterCompiledScorer"
    fallback: str | None = field(default=None, init=False)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "function": self.function,
            "inputs": len(self.features),
            "path": f"compiled SQL ({self.family}: one SQL expression, run by the engine)",
            "lifetime": "session",
        }
        if self.fallback is not None:
            described["path"] = f"Arrow UDF ({self.fallback})"
        return described

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        from paqdb.udfs import compile as compile_sql

        model = state.models[self.model_name]
        prediction_type = self.label_type
        if model.task == "regression" and self.label_type not in ("BIGINT", "DOUBLE"):
            prediction_type = "DOUBLE"
        compiled = compile_sql.cached_compile(self.identity, model, prediction_type)
        if isinstance(compiled, str):
            self.fallback = compiled
            scoring.register(
                context.engine, self.function, model, [f.model_type for f in self.features], prediction_type
            )
            return
        context.engine.execute(compiled.macro_sql(self.function))
