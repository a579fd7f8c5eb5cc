"""Models compiled to native SQL: a trained model's featurisation and estimator as one SQL expression.

The expression is a sqlglot AST over the model's feature inputs (already cast by the planner to DOUBLE,
BOOLEAN or VARCHAR, exactly as the Arrow UDF of :mod:`paqdb.udfs.scoring` receives them) and returns the
same ``STRUCT(prediction, confidence)``: the engine then scores with its own vectorised, parallel
execution instead of calling Python once per 2,048-row vector. Rendered for DuckDB it is registered as a
temporary macro under the scoring function's name, so a query calls it exactly as it would call the UDF.

What compiles
-------------
* linear models (``logistic``, ``linear_svm``, ``ridge``) on the one-hot featurisation: standardised,
  median-imputed numerics with missing indicators, and per category ``w * CAST(x = 'value' AS DOUBLE)``
  sums (branch-free: measured 4x faster in DuckDB than CASE chains for the same model);
* tree ensembles (``random_forest``, ``gradient_boosting`` on category codes) as one nested ``CASE`` per
  tree over features computed once per row (a lambda over a one-element list is DuckDB's "let").

Trees sum in the estimator's own order (baseline, then tree 1, 2 ...), and thresholds compare the same
values scikit-learn compares (float32-rounded inputs for forests, float64 for HistGradientBoosting), so
tree predictions match exactly; linear sums may differ from BLAS in the last ulp. Class ties go to the
first class, as NumPy's argmax does.

What does not compile, and keeps the Arrow UDF: kernel approximation, MLP, hashed text columns, PCA
pipelines, native categorical splits, and forests with more than :data:`MAX_TREE_NODES` nodes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import sqlglot
from sqlglot import exp

from paqdb.ml.features import ColumnState

if TYPE_CHECKING:
    from paqdb.ml.model import TrainedModel

LINEAR_FAMILIES = frozenset({"logistic", "linear_svm", "ridge"})
TREE_FAMILIES = frozenset({"random_forest", "gradient_boosting"})
COMPILED_FAMILIES = LINEAR_FAMILIES | TREE_FAMILIES

MAX_TREE_NODES = 60_000
"""Largest ensemble (nodes over all trees, times outputs) compiled; beyond it the SQL would run to
megabytes and bind slowly, and the Arrow UDF scores instead. 200 boosting trees of 31 leaves hold
12,200 nodes."""


class NotCompilable(Exception):
    """The model has a part that does not compile to SQL; ``str(error)`` says which."""


@dataclass(frozen=True)
class CompiledModel:
    """A model as one SQL expression over parameters ``p0 .. p{n-1}`` (the feature inputs in order)."""

    expression: exp.Expression
    parameters: tuple[str, ...]
    form: str  # for EXPLAIN: "linear (116 features, branch-free one-hot sums)"...

    def sql(self, dialect: str = "duckdb") -> str:
        """The expression rendered in ``dialect``."""
        return self.expression.sql(dialect=dialect)

    def macro_sql(self, name: str) -> str:
        """``CREATE OR REPLACE TEMPORARY MACRO name(p0, ...) AS <expression>`` in DuckDB's SQL."""
        return f"CREATE OR REPLACE TEMPORARY MACRO {name}({', '.join(self.parameters)}) AS {self.sql()}"


def compile_reason(family: str, hyperparameters: dict[str, Any], search: dict[str, Any]) -> str | None:
    """Why a model of this family and search cannot compile to SQL (None when it can), read from the
    catalog record before the artifact is loaded."""
    if family not in COMPILED_FAMILIES:
        return f"family {family} does not compile to SQL"
    if hyperparameters.get("native_categorical"):
        return "native categorical splits do not compile to SQL"
    if search.get("text"):
        return "hashed text columns do not compile to SQL"
    if search.get("pca") and family in LINEAR_FAMILIES:
        return "PCA pipelines do not compile to SQL"
    return None


TREES_IN_DUCKDB = (
    "tree ensembles score faster through the Arrow UDF in DuckDB: their compiled SQL (a nested CASE per "
    "tree) ran 2-5x slower than scikit-learn's predict, see BENCHMARKS.md, Scoring"
)


def planned_path(family: str, hyperparameters: dict[str, Any], search: dict[str, Any]) -> str | None:
    """Why DuckDB scores a model of this family through the Arrow UDF rather than compiled SQL (None: it
    scores the compiled SQL). Trees compile (:func:`compile_model`), but the UDF is faster in DuckDB."""
    reason = compile_reason(family, hyperparameters, search)
    if reason is None and family in TREE_FAMILIES:
        return TREES_IN_DUCKDB
    return reason


def compile_model(model: TrainedModel, prediction_type: str) -> CompiledModel:
    """Compile ``model`` into an expression returning ``STRUCT(prediction <prediction_type>, confidence
    DOUBLE)`` exactly as :func:`paqdb.udfs.scoring.make_scoring_callable` does.

    Raises :class:`NotCompilable` naming the part that does not compile.
    """
    reason = compile_reason(model.family, model.hyperparameters, {})
    if reason is not None:
        raise NotCompilable(reason)
    states = model.featurizer.columns_
    if any(state.kind == "text" for state in states):
        raise NotCompilable("hashed text columns do not compile to SQL")
    if model.task == "classification":
        assert model.classes is not None
        fitted = np.asarray(getattr(model.estimator, "classes_", []))
        if len(fitted) != len(model.classes):
            raise NotCompilable("a class absent from the training rows does not compile to SQL")
    parameters = tuple(f"p{i}" for i in range(len(states)))
    inputs: list[exp.Expression] = [exp.column(p) for p in parameters]
    builder = _Builder(model, prediction_type)
    if model.family in LINEAR_FAMILIES:
        expression, form = builder.linear(states, inputs)
    else:
        expression, form = builder.trees(states, inputs)
    return CompiledModel(expression, parameters, form)


_CACHE: dict[tuple[str, str], CompiledModel | str] = {}
_CACHE_SIZE = 32


def cached_compile(identity: str, model: TrainedModel, prediction_type: str) -> CompiledModel | str:
    """:func:`compile_model` remembered by the model's identity: the compiled model, or why it does not
    compile (compiling a large ensemble takes a noticeable fraction of a second)."""
    key = (identity, prediction_type)
    found = _CACHE.get(key)
    if found is None:
        try:
            found = compile_model(model, prediction_type)
        except NotCompilable as error:
            found = str(error)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = found
    return found


# -- literals --------------------------------------------------------------------------------------------


def _number(value: float) -> exp.Expression:
    """A DOUBLE literal that round-trips exactly (``1.5e0``: DuckDB reads ``1.5`` as a DECIMAL)."""
    value = float(value)
    if not math.isfinite(value):
        return exp.cast(exp.Literal.string(str(value)), "DOUBLE")
    text = repr(value)
    if "e" not in text:
        text += "e0"
    if value < 0 or text.startswith("-"):
        return exp.Paren(this=exp.Neg(this=exp.Literal.number(text.lstrip("-"))))
    return exp.Literal.number(text)


def _as_double(expression: exp.Expression) -> exp.Expression:
    return exp.Cast(this=expression, to=exp.DataType.build("DOUBLE"))


def _parse(template: str, **parts: exp.Expression) -> exp.Expression:
    """A DuckDB expression with identifiers ``__name__`` replaced by the given ASTs."""
    tree = sqlglot.parse_one(template, read="duckdb")

    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name.startswith("__") and node.name.endswith("__"):
            return parts[node.name.strip("_")].copy()
        return node

    return tree.transform(substitute, copy=False)


def _add_all(terms: Sequence[exp.Expression]) -> exp.Expression:
    """``t0 + t1 + ...`` left to right: the order NumPy accumulates trees in."""
    total = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return total


# -- the model ---------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, model: TrainedModel, prediction_type: str) -> None:
        self.model = model
        self.prediction_type = prediction_type
        self.estimator = model.estimator

    # featurisation

    @staticmethod
    def _numeric(state: ColumnState, value: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
        """The imputed value and the 0/1 missing indicator of a numeric or boolean input."""
        if state.kind == "boolean":
            value = _as_double(value)
        imputed = _parse(
            "CASE WHEN isfinite(__x__) THEN __x__ ELSE __m__ END", x=value, m=_number(state.median)
        )
        missing = _parse("CAST(NOT coalesce(isfinite(__x__), FALSE) AS DOUBLE)", x=value)
        return imputed, missing

    # linear models

    def linear(self, states: list[ColumnState], inputs: list[exp.Expression]) -> tuple[exp.Expression, str]:
        estimator = self.estimator
        if type(estimator).__name__ not in ("LogisticRegression", "LinearSVC", "Ridge"):
            raise NotCompilable(f"estimator {type(estimator).__name__} does not compile to SQL")
        coef = np.atleast_2d(np.asarray(estimator.coef_, np.float64))
        intercept = np.atleast_1d(np.asarray(estimator.intercept_, np.float64))
        scores = [self._linear_score(states, inputs, coef[k], float(intercept[k])) for k in range(len(coef))]
        form = f"linear ({coef.shape[1]} features, branch-free one-hot sums)"
        if self.model.task == "regression":
            return self._regression(scores[0]), form
        if len(scores) == 1:
            probabilities = self._expit_pair(scores[0])
        else:
            probabilities = self._softmax(exp.Array(expressions=scores))
        return self._classification(probabilities), form

    @staticmethod
    def _linear_score(
        states: list[ColumnState], inputs: list[exp.Expression], weights: np.ndarray, intercept: float
    ) -> exp.Expression:
        terms: list[exp.Expression] = [_number(intercept)]
        offset = 0
        for state, value in zip(states, inputs, strict=True):
            width = state.width("onehot")
            if width == 0:
                continue
            w = weights[offset : offset + width]
            offset += width
            if state.kind == "categorical":
                terms.append(_one_hot_sum(state, value, w))
                continue
            imputed, missing = _Builder._numeric(state, value)
            standardised = exp.Div(
                this=exp.Paren(this=exp.Sub(this=imputed, expression=_number(state.mean))),
                expression=_number(state.scale),
            )
            terms.append(exp.Mul(this=_number(w[0]), expression=exp.Paren(this=standardised)))
            if state.has_missing:
                terms.append(exp.Mul(this=_number(w[1]), expression=missing))
        return _add_all(terms)

    # tree ensembles

    def trees(self, states: list[ColumnState], inputs: list[exp.Expression]) -> tuple[exp.Expression, str]:
        estimator = self.estimator
        kind = type(estimator).__name__
        # One test per column of the ordinal matrix: "column <= threshold" written on the input itself, so
        # no node recomputes an imputed value or a category code (a lambda over a one-element list, DuckDB's
        # only "let" in a scalar expression, ran 5x slower than repeating expressions).
        float32 = kind.startswith("RandomForest")  # scikit-learn's trees read float32; HGB reads float64
        tests: list[Callable[[float], exp.Expression | bool]] = []
        for state, value in zip(states, inputs, strict=True):
            if state.width("ordinal") == 0:
                continue
            if state.kind == "categorical":
                tests.append(functools.partial(_category_test, state, value))
                continue
            number = _as_double(value) if state.kind == "boolean" else value
            tests.append(functools.partial(_numeric_test, state, number, float32=float32))
            if state.has_missing:
                tests.append(functools.partial(_missing_test, number))

        def feature(index: int, threshold: float) -> exp.Expression | bool:
            return tests[index](float(threshold))

        if kind.startswith("HistGradientBoosting"):
            body, form = self._boosting(feature)
        elif kind.startswith("RandomForest"):
            body, form = self._forest(feature)
        else:
            raise NotCompilable(f"estimator {kind} does not compile to SQL")
        return body, form

    def _boosting(self, feature: Callable[[int, float], exp.Expression | bool]) -> tuple[exp.Expression, str]:
        estimator = self.estimator
        predictors = estimator._predictors
        per_iteration = estimator.n_trees_per_iteration_
        nodes = sum(len(p.nodes) for iteration in predictors for p in iteration)
        if nodes > MAX_TREE_NODES:
            raise NotCompilable(f"{nodes:,} tree nodes are more than {MAX_TREE_NODES:,} to compile")
        baseline = np.asarray(estimator._baseline_prediction, np.float64).reshape(-1)
        raw: list[exp.Expression] = []
        for k in range(per_iteration):
            terms = [_number(baseline[k])]
            for iteration in predictors:
                predictor = iteration[k]
                if predictor.nodes["is_categorical"].any():
                    raise NotCompilable("native categorical splits do not compile to SQL")
                terms.append(_hgb_tree(predictor.nodes, feature))
            raw.append(_add_all(terms))
        form = f"tree ensemble ({len(predictors) * per_iteration} trees, {nodes:,} nodes, nested CASE)"
        if self.model.task == "regression":
            loss = getattr(estimator, "loss", "squared_error")
            if loss != "squared_error":
                raise NotCompilable(f"boosting loss {loss!r} does not compile to SQL")
            return self._regression(raw[0]), form
        if per_iteration == 1:
            return self._classification(self._expit_pair(raw[0])), form
        return self._classification(self._softmax(exp.Array(expressions=raw))), form

    def _forest(self, feature: Callable[[int, float], exp.Expression | bool]) -> tuple[exp.Expression, str]:
        estimator = self.estimator
        trees = [tree.tree_ for tree in estimator.estimators_]
        outputs = trees[0].value.shape[2] if self.model.task == "classification" else 1
        nodes = sum(tree.node_count for tree in trees)
        if nodes * outputs > MAX_TREE_NODES:
            raise NotCompilable(
                f"{len(trees)} trees of {nodes:,} nodes ({outputs} outputs) are more than "
                f"{MAX_TREE_NODES:,} nodes to compile"
            )
        count = _number(float(len(trees)))
        sums = [
            exp.Div(this=exp.Paren(this=_add_all([_sk_tree(t, k, feature) for t in trees])), expression=count)
            for k in range(outputs)
        ]
        form = f"tree ensemble ({len(trees)} trees, {nodes:,} nodes, nested CASE)"
        if self.model.task == "regression":
            return self._regression(sums[0]), form
        return self._classification(exp.Array(expressions=sums)), form

    # from scores to the prediction struct

    @staticmethod
    def _expit_pair(score: exp.Expression) -> exp.Expression:
        """``[1 - q, q]`` with ``q = 1 / (1 + exp(-score))``: scikit-learn's binary probabilities."""
        q = _parse("1e0 / (1e0 + exp(-(__s__)))", s=score)
        return _let(q, "q", _parse("[1e0 - q, q]"))

    @staticmethod
    def _softmax(scores: exp.Expression) -> exp.Expression:
        """scikit-learn's softmax: ``exp(d - max(d)) / sum``."""
        exps = _parse("list_transform(d, x -> exp(x - list_max(d)))")
        return _let(scores, "d", _let(exps, "e", _parse("list_transform(e, x -> x / list_sum(e))")))

    def _classification(self, probabilities: exp.Expression) -> exp.Expression:
        """The struct for a list of class probabilities: the first most probable class and its
        probability (NumPy's argmax keeps the first of equal maxima, as ``list_position`` does)."""
        assert self.model.classes is not None
        target = {
            "VARCHAR": pa.string(),
            "BOOLEAN": pa.bool_(),
            "BIGINT": pa.int64(),
            "DOUBLE": pa.float64(),
        }[self.prediction_type]
        values = self.model.classes.cast(target).to_pylist()
        classes = exp.Array(expressions=[_value(v) for v in values])
        body = _parse(
            "struct_pack(prediction := __classes__[list_position(p, list_max(p))], "
            "confidence := list_max(p))",
            classes=classes,
        )
        return _let(probabilities, "p", body)

    def _regression(self, score: exp.Expression) -> exp.Expression:
        """The struct for a regression score, rounded and clipped as :func:`paqdb.ml.model._values_as`."""
        label_type = self.model.label_type
        if pa.types.is_integer(label_type):
            info = np.iinfo(label_type.to_pandas_dtype())
            high = np.nextafter(float(info.max), 0.0) if info.bits == 64 else float(info.max)
            value = _parse(
                "CASE WHEN isnan(y) THEN NULL ELSE CAST(round_even(least(greatest(y, __low__), __high__), 0) "
                "AS BIGINT) END",
                low=_number(float(info.min)),
                high=_number(high),
            )
        elif pa.types.is_decimal(label_type):
            value = _parse(f"round_even(y, {int(label_type.scale)})")
        else:
            value = exp.column("y")
        if self.prediction_type != "BIGINT" or not pa.types.is_integer(label_type):
            value = exp.Cast(this=value, to=exp.DataType.build(self.prediction_type))
        body = _parse("struct_pack(prediction := __v__, confidence := CAST(NULL AS DOUBLE))", v=value)
        return _let(score, "y", body)


def _let(value: exp.Expression, name: str, body: exp.Expression) -> exp.Expression:
    """``body`` with ``name`` bound to ``value`` computed once per row: ``list_transform([value], name ->
    body)[1]``, a lambda over a one-element list (a scalar expression has no LET)."""
    return _parse(
        f"list_transform([__value__], {name} -> __body__)[1]",
        value=value,
        body=body,
    )


def _value(value: Any) -> exp.Expression:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(str(value))
    if isinstance(value, float):
        return _number(value)
    return exp.Literal.string(str(value))


def _one_hot_sum(state: ColumnState, value: exp.Expression, weights: np.ndarray) -> exp.Expression:
    """One categorical column's contribution: its slot's weight, looked up by the value's position in the
    vocabulary (``[w_a, w_b, ..., w_other][coalesce(list_position(['a', 'b', ...], x), n + 1)]``); one
    lookup per column ran 2x faster in DuckDB than a sum of ``w * CAST(x = 'v' AS DOUBLE)`` per value.
    A value outside the vocabulary gets the "other" slot's weight, NULL the NULL slot's."""
    vocabulary = exp.Array(expressions=[exp.Literal.string(v) for v in state.vocabulary])
    slots = [_number(w) for w in weights[: len(state.vocabulary)]] + [_number(weights[state.other_slot])]
    lookup = _parse(
        "__weights__[coalesce(list_position(__vocabulary__, __x__), __other__)]",
        weights=exp.Array(expressions=slots),
        vocabulary=vocabulary,
        x=value,
        other=exp.Literal.number(str(len(state.vocabulary) + 1)),
    )
    if state.null_slot == state.other_slot:
        return lookup  # list_position of NULL is NULL: the shared "other"/NULL slot
    return _parse(
        "CASE WHEN __x__ IS NULL THEN __n__ ELSE __l__ END",
        x=value,
        n=_number(weights[state.null_slot]),
        l=lookup,
    )


def _branch(
    condition: exp.Expression | bool,
    left: Callable[[], exp.Expression],
    right: Callable[[], exp.Expression],
) -> exp.Expression:
    """``CASE WHEN condition THEN left ELSE right END``, or one side when the test is decided already."""
    if condition is True:
        return left()
    if condition is False:
        return right()
    return exp.Case(ifs=[exp.If(this=condition, true=left())], default=right())


def _float32_bound(threshold: float) -> tuple[float, bool]:
    """``(bound, inclusive)`` with ``float32(x) <= threshold`` exactly when ``x <= bound`` (inclusive) or
    ``x < bound``: scikit-learn's trees round their input to float32 before comparing, and rounding is
    monotone, so the test is one comparison of the float64 input (no cast that overflows)."""
    below = np.float32(threshold)
    if float(below) > threshold:
        below = np.nextafter(below, np.float32(-np.inf))
    above = np.nextafter(below, np.float32(np.inf))
    if np.isinf(above):
        above_value = float(below) + (float(below) - float(np.nextafter(below, np.float32(-np.inf))))
    else:
        above_value = float(above)
    bound = (float(below) + above_value) / 2  # exact: float32 values add exactly in float64
    # A tie rounds to the float32 with an even mantissa.
    inclusive = int(np.array(below, np.float32).view(np.int32)) % 2 == 0
    return bound, inclusive


def _numeric_test(
    state: ColumnState, value: exp.Expression, threshold: float, *, float32: bool
) -> exp.Expression | bool:
    """``imputed(value) <= threshold``: the input when finite, else the training median."""
    median = state.median
    if float32:
        bound, inclusive = _float32_bound(threshold)
        median_goes_left = float(np.float32(median)) <= threshold
    else:
        bound, inclusive = threshold, True
        median_goes_left = median <= threshold
    literal = _number(bound)
    if median_goes_left:
        right = (
            exp.GT(this=value.copy(), expression=literal)
            if inclusive
            else exp.GTE(this=value.copy(), expression=literal)
        )
        return _parse("coalesce(NOT (isfinite(__x__) AND __r__), TRUE)", x=value, r=right)
    left = (
        exp.LTE(this=value.copy(), expression=literal)
        if inclusive
        else exp.LT(this=value.copy(), expression=literal)
    )
    return _parse("coalesce(isfinite(__x__) AND __l__, FALSE)", x=value, l=left)


def _missing_test(value: exp.Expression, threshold: float) -> exp.Expression | bool:
    """``missing indicator (0 or 1) <= threshold``."""
    if threshold >= 1.0:
        return True
    if threshold < 0.0:
        return False
    return _parse("coalesce(isfinite(__x__), FALSE)", x=value)


def _category_test(state: ColumnState, value: exp.Expression, threshold: float) -> exp.Expression | bool:
    """``slot(value) <= threshold`` for the featurizer's ordinal slots: the vocabulary (most frequent
    first), then "other" when the vocabulary was capped, then NULL/unseen (see ``ColumnState``)."""
    last = math.floor(threshold)
    if last >= state.null_slot:
        return True
    if last < 0:
        return False
    if last >= len(state.vocabulary):  # the "other" slot (capped vocabulary): anything but NULL
        return exp.Not(this=exp.Is(this=value.copy(), expression=exp.null()))
    members = [exp.Literal.string(v) for v in state.vocabulary[: last + 1]]
    return exp.Coalesce(this=exp.In(this=value.copy(), expressions=members), expressions=[exp.false()])


def _hgb_tree(nodes: np.ndarray, feature: Callable[[int, float], exp.Expression | bool]) -> exp.Expression:
    """One HistGradientBoosting predictor as nested CASE: ``x <= threshold`` goes left."""

    def node(index: int) -> exp.Expression:
        current = nodes[index]
        if current["is_leaf"]:
            return _number(current["value"])
        condition = feature(int(current["feature_idx"]), float(current["num_threshold"]))
        return _branch(condition, lambda: node(int(current["left"])), lambda: node(int(current["right"])))

    return node(0)


def _sk_tree(
    tree: Any, output: int, feature: Callable[[int, float], exp.Expression | bool]
) -> exp.Expression:
    """One scikit-learn tree's value for ``output`` (a class fraction, or the regression value)."""
    left, right = tree.children_left, tree.children_right
    features, thresholds = tree.feature, tree.threshold
    values = tree.value[:, 0, :]

    def node(index: int) -> exp.Expression:
        if left[index] == -1:
            return _number(values[index, output])
        condition = feature(int(features[index]), float(thresholds[index]))
        return _branch(condition, lambda: node(int(left[index])), lambda: node(int(right[index])))

    return node(0)


__all__ = [
    "COMPILED_FAMILIES",
    "MAX_TREE_NODES",
    "CompiledModel",
    "NotCompilable",
    "cached_compile",
    "compile_model",
    "compile_reason",
    "planned_path",
]
