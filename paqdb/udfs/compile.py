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
  tree (:func:`compile_model`, a scalar expression), or as a chain of projections over the rows
  (:func:`compile_relation`: features computed once, leaf bitmasks read from constant lists, no branch
  per node), which scores several times faster but needs a relation to wrap.

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
    "tree ensembles score through the Arrow UDF in DuckDB: compiled to SQL (leaf bitmasks in projections "
    "over the rows) boosting ran no faster than the UDF, forests slower, see BENCHMARKS.md, Scoring"
)


def planned_path(family: str, hyperparameters: dict[str, Any], search: dict[str, Any]) -> str | None:
    """Why DuckDB scores a model of this family through the Arrow UDF rather than compiled SQL (None: it
    scores the compiled SQL). Trees compile (:func:`compile_model`, :func:`compile_relation`), but were
    not faster than the UDF in DuckDB."""
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

    def _binary(self, q: exp.Expression) -> exp.Expression:
        """:meth:`_classification` of ``[1 - q, q]`` without a list: the second class when ``q > 1 - q``
        (a tie goes to the first, as ``list_position`` of the maximum), confidence the larger of both."""
        assert self.model.classes is not None
        first, second = self._class_values()
        return _parse(
            "struct_pack(prediction := CASE WHEN __q__ > 1e0 - __q__ THEN __b__ ELSE __a__ END, "
            "confidence := greatest(1e0 - __q__, __q__))",
            q=q,
            a=_value(first),
            b=_value(second),
        )

    def _class_values(self) -> list[Any]:
        assert self.model.classes is not None
        target = {
            "VARCHAR": pa.string(),
            "BOOLEAN": pa.bool_(),
            "BIGINT": pa.int64(),
            "DOUBLE": pa.float64(),
        }[self.prediction_type]
        return list(self.model.classes.cast(target).to_pylist())

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
    body)[1]``, a lambda over a one-element list (a scalar expression has no LET); a column is simply
    written in ``name``'s place."""
    if isinstance(value, exp.Column):

        def substitute(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and not node.table and node.name == name:
                return value.copy()
            return node

        return body.transform(substitute, copy=True)
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


# -- tree ensembles as a chain of projections ----------------------------------------------------------

MAX_LOOKUP_BOUNDS = 255
"""A feature with at most this many distinct split bounds (HistGradientBoosting's 255 bins at most) is
coded once per row as its interval among them, and each tree reads its leaf bitmask for that feature from a
list indexed by the interval; a feature with more (a forest's continuous column) is tested per tree by a
binary search over that tree's own bounds."""

MAX_TREE_LEAVES = 127
"""Most leaves of one tree compiled as a leaf bitmask (a HUGEINT holds 127 bits without the sign)."""

WORD_BITS = 127
"""Bits of one mask word, several trees' masks side by side (a HUGEINT less its sign bit)."""

_PREFIX = "__paqdb_"


@dataclass(frozen=True)
class CompiledRelation:
    """A tree ensemble compiled to a chain of projections over the rows to score (QuickScorer's leaf
    bitmasks, Lucchese et al. 2015, written as SQL): featurise each input once, code each feature as its
    interval among the ensemble's split bounds, AND per tree one bitmask per feature it splits on (read
    from a constant list by the interval), take the lowest set bit as the leaf, and sum the leaves' values
    in the estimator's order. Branch-free apart from the per-feature binary searches: measured faster in
    DuckDB than one nested CASE per tree (BENCHMARKS.md, Scoring).

    ``layers`` add columns (``__paqdb_*``) to the rows one projection at a time; :meth:`query` writes the
    chain over a relation and returns ``SELECT *, <struct> AS name``.
    """

    layers: tuple[tuple[tuple[str, exp.Expression], ...], ...]
    output: exp.Expression
    parameters: tuple[str, ...]
    form: str

    def query(
        self, source: exp.Expression, inputs: Sequence[exp.Expression], name: str = "prediction"
    ) -> exp.Select:
        """``SELECT *, <prediction struct> AS name FROM (... FROM source)``: the rows of ``source`` (a table,
        or a subquery) with the model's prediction of each; ``inputs`` are the feature values over
        ``source``'s columns, in the model's order (cast as the planner casts them)."""
        if len(inputs) != len(self.parameters):
            raise ValueError(f"expected {len(self.parameters)} inputs, got {len(inputs)}")
        first = [
            exp.alias_(value.copy(), parameter)
            for parameter, value in zip(self.parameters, inputs, strict=True)
        ]
        query = exp.select(exp.Star(), *first).from_(source.copy())
        for depth, layer in enumerate(self.layers):
            columns = [exp.alias_(value.copy(), column) for column, value in layer]
            query = exp.select(exp.Star(), *columns).from_(query.subquery(f"{_PREFIX}l{depth}"))
        last = exp.alias_(self.output.copy(), name)
        return exp.select(exp.Star(), last).from_(query.subquery(f"{_PREFIX}l{len(self.layers)}"))

    def sql(self, dialect: str = "duckdb") -> str:
        """The chain over a relation named ``rows`` (for sizes and reading)."""
        inputs = [exp.column(p) for p in self.parameters]
        return self.query(exp.to_table("rows"), inputs).sql(dialect=dialect)


@dataclass
class _Tree:
    """One tree in a common form: ``right[i] > 0`` at internal nodes; a row goes right at node ``i`` when
    its feature ``feature[i]`` is greater than ``bound[i]``; ``values[i]`` the leaf's outputs."""

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    bound: np.ndarray
    values: np.ndarray  # (nodes, outputs)

    def leaves(self) -> list[int]:
        """Leaf node indices left to right (the bit order of the masks)."""
        order: list[int] = []
        stack = [0]
        while stack:
            index = stack.pop()
            if self.right[index] <= 0:
                order.append(index)
            else:
                stack.extend((int(self.right[index]), int(self.left[index])))
        return order


def _hgb_trees(estimator: Any) -> list[list[_Tree]]:
    """HistGradientBoosting's predictors as ``[iteration][output]`` trees (left when ``x <= threshold``)."""
    trees = []
    for iteration in estimator._predictors:
        row = []
        for predictor in iteration:
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise NotCompilable("native categorical splits do not compile to SQL")
            leaf = nodes["is_leaf"].astype(bool)
            row.append(
                _Tree(
                    np.where(leaf, -1, nodes["left"].astype(np.int64)),
                    np.where(leaf, -1, nodes["right"].astype(np.int64)),
                    nodes["feature_idx"].astype(np.int64),
                    nodes["num_threshold"].astype(np.float64),
                    nodes["value"].astype(np.float64).reshape(-1, 1),
                )
            )
        trees.append(row)
    return trees


def _forest_trees(estimator: Any) -> list[_Tree]:
    """A random forest's trees; scikit-learn goes left when ``float32(x) <= threshold``, i.e. right when
    the float64 ``x`` is above a bound (:func:`_float32_bound`)."""
    trees = []
    for fitted in estimator.estimators_:
        tree = fitted.tree_
        bounds = np.zeros(tree.node_count)
        for index in np.flatnonzero(tree.children_left >= 0):
            bound, inclusive = _float32_bound(float(tree.threshold[index]))
            # x <= bound goes left: right when x > bound; x < bound goes left: right when x >= bound, that
            # is when x is above the float64 just below the bound.
            bounds[index] = bound if inclusive else float(np.nextafter(bound, -np.inf))
        trees.append(
            _Tree(
                tree.children_left.astype(np.int64),
                tree.children_right.astype(np.int64),
                tree.feature.astype(np.int64),
                bounds,
                np.asarray(tree.value[:, 0, :], np.float64),
            )
        )
    return trees


def compile_relation(model: TrainedModel, prediction_type: str) -> CompiledRelation:
    """Compile a tree ensemble into a chain of projections (:class:`CompiledRelation`) whose last column is
    the ``STRUCT(prediction <prediction_type>, confidence DOUBLE)`` of
    :func:`paqdb.udfs.scoring.make_scoring_callable`, equal to the estimator's (labels and boosting sums
    to the last bit).

    Raises :class:`NotCompilable` naming the part that does not compile.
    """
    if model.family not in TREE_FAMILIES:
        raise NotCompilable(f"family {model.family} does not compile to a relation (only tree ensembles do)")
    reason = compile_reason(model.family, model.hyperparameters, {})
    if reason is not None:
        raise NotCompilable(reason)
    states = model.featurizer.columns_
    if any(state.kind == "text" for state in states):
        raise NotCompilable("hashed text columns do not compile to SQL")
    if model.task == "classification":
        assert model.classes is not None
        if len(np.asarray(getattr(model.estimator, "classes_", []))) != len(model.classes):
            raise NotCompilable("a class absent from the training rows does not compile to SQL")
    estimator = model.estimator
    kind = type(estimator).__name__
    parameters = tuple(f"{_PREFIX}p{i}" for i in range(len(states)))
    features = _featurise(states, [exp.column(p) for p in parameters])
    if kind.startswith("HistGradientBoosting"):
        grid = _hgb_trees(estimator)
        baseline = np.asarray(estimator._baseline_prediction, np.float64).reshape(-1)
        outputs = len(grid[0])
        trees = [tree for row in grid for tree in row]
        owner = [k for row in grid for k in range(len(row))]
    elif kind.startswith("RandomForest"):
        trees = _forest_trees(estimator)
        outputs = trees[0].values.shape[1] if model.task == "classification" else 1
        owner = [0] * len(trees)
    else:
        raise NotCompilable(f"estimator {kind} does not compile to SQL")
    nodes = sum(len(t.left) for t in trees)
    if nodes * (outputs if kind.startswith("RandomForest") else 1) > MAX_TREE_NODES:
        raise NotCompilable(f"{nodes:,} tree nodes are more than {MAX_TREE_NODES:,} to compile")
    bounds: dict[int, list[float]] = {}
    for tree in trees:
        inner = tree.right > 0
        for j, b in zip(tree.feature[inner], tree.bound[inner], strict=True):
            bounds.setdefault(int(j), []).append(float(b))
    sorted_bounds = {j: sorted(set(values)) for j, values in bounds.items()}
    coded = {j for j, values in sorted_bounds.items() if len(values) <= MAX_LOOKUP_BOUNDS}
    slots = _category_slots(states)
    intervals = [
        (f"{_PREFIX}i{j}", _interval(exp.column(f"{_PREFIX}f{j}"), sorted_bounds[j], slots.get(j)))
        for j in sorted(coded)
    ]
    # Trees share words of WORD_BITS bits (several trees' masks side by side): one lookup per feature and
    # word instead of one per feature and tree.
    shapes: list[_TreeMasks | None] = []
    words: list[list[tuple[int, int]]] = []  # per word: (tree, bit offset)
    used = 0
    for t, tree in enumerate(trees):
        order = tree.leaves()
        if len(order) > MAX_TREE_LEAVES:
            raise NotCompilable(f"a tree of {len(order)} leaves is more than {MAX_TREE_LEAVES} to compile")
        if len(order) == 1:
            shapes.append(None)
            continue
        shapes.append(_tree_masks(tree, order, sorted_bounds, coded))
        if not words or used + len(order) > WORD_BITS:
            words.append([])
            used = 0
        words[-1].append((t, used))
        used += len(order)
    masks: list[tuple[str, exp.Expression]] = []
    leaves: list[tuple[str, exp.Expression]] = []
    for w, members in enumerate(words):
        masks.append((f"{_PREFIX}m{w}", _word_mask([(shapes[t], offset) for t, offset in members], coded)))
        word = exp.column(f"{_PREFIX}m{w}")
        for t, offset in members:
            shape = shapes[t]
            assert shape is not None
            mask: exp.Expression = word.copy()
            if len(members) > 1:
                mask = exp.Paren(this=exp.BitwiseAnd(this=mask, expression=_integer(shape.full << offset)))
            # bits up to the lowest set one, less the tree's offset: the leaf's 1-based position
            lowest = exp.BitwiseXor(this=mask, expression=exp.Sub(this=mask.copy(), expression=_integer(1)))
            position: exp.Expression = exp.Anonymous(this="bit_count", expressions=[lowest])
            if offset:
                position = exp.Sub(this=position, expression=_integer(offset))
            leaves.append((f"{_PREFIX}x{t}", position))
    lookups: list[list[exp.Expression]] = [[] for _ in range(outputs)]
    for t, tree in enumerate(trees):
        order = tree.leaves()
        ks = [owner[t]] if kind.startswith("HistGradientBoosting") else range(outputs)
        for k in ks:
            column = 0 if kind.startswith("HistGradientBoosting") else k
            values = [float(tree.values[i, column]) for i in order]
            if shapes[t] is None:
                lookups[k].append(_number(values[0]))
            else:
                index = exp.column(f"{_PREFIX}x{t}")
                lookups[k].append(
                    exp.Bracket(this=exp.Array(expressions=[_number(v) for v in values]), expressions=[index])
                )
    scores: list[tuple[str, exp.Expression]] = []
    for k in range(outputs):
        if kind.startswith("HistGradientBoosting"):
            total = _add_all([_number(baseline[k]), *lookups[k]])
        else:
            total = exp.Div(this=exp.Paren(this=_add_all(lookups[k])), expression=_number(float(len(trees))))
        scores.append((f"{_PREFIX}s{k}", total))
    builder = _Builder(model, prediction_type)
    raw = [exp.column(name) for name, _ in scores]
    # Probabilities in a projection of their own, so the struct reads columns (no per-row lambda).
    probabilities: list[tuple[str, exp.Expression]] = []
    probability = exp.column(f"{_PREFIX}q")
    if kind.startswith("HistGradientBoosting") and model.task == "regression":
        loss = getattr(estimator, "loss", "squared_error")
        if loss != "squared_error":
            raise NotCompilable(f"boosting loss {loss!r} does not compile to SQL")
        output = builder._regression(raw[0])
    elif model.task == "regression":
        output = builder._regression(raw[0])
    elif kind.startswith("HistGradientBoosting") and outputs == 1:
        probabilities.append((probability.name, _parse("1e0 / (1e0 + exp(-(__s__)))", s=raw[0])))
        output = builder._binary(probability)
    elif kind.startswith("HistGradientBoosting"):
        probabilities.append((probability.name, builder._softmax(exp.Array(expressions=raw))))
        output = builder._classification(probability)
    else:
        probabilities.append((probability.name, exp.Array(expressions=raw)))
        output = builder._classification(probability)
    chain = (features, intervals, masks, leaves, scores, probabilities)
    layers = tuple(tuple(layer) for layer in chain if layer)
    form = (
        f"tree ensemble ({len(trees)} trees, {nodes:,} nodes; leaf bitmasks over {len(coded)} "
        "interval-coded features, in projections over the rows)"
    )
    return CompiledRelation(layers, output, parameters, form)


def _integer(value: int) -> exp.Expression:
    return exp.Literal.number(str(int(value)))


def _featurise(states: list[ColumnState], inputs: list[exp.Expression]) -> list[tuple[str, exp.Expression]]:
    """The ordinal matrix's columns ``__paqdb_f{j}``: imputed numbers, missing indicators, category slots."""
    columns: list[tuple[str, exp.Expression]] = []
    for state, value in zip(states, inputs, strict=True):
        if state.width("ordinal") == 0:
            continue
        name = f"{_PREFIX}f{len(columns)}"
        if state.kind == "categorical":
            if state.vocabulary:
                vocabulary = exp.Array(expressions=[exp.Literal.string(v) for v in state.vocabulary])
                slot = _parse(
                    "coalesce(list_position(__v__, __x__), __o__) - 1",
                    v=vocabulary,
                    x=value,
                    o=_integer(state.other_slot + 1),
                )
            else:
                slot = _integer(state.other_slot)
            code = _parse(
                "CASE WHEN __x__ IS NULL THEN __n__ ELSE __s__ END",
                x=value,
                n=_integer(state.null_slot),
                s=slot,
            )
            columns.append((name, code))
            continue
        imputed, missing = _Builder._numeric(state, value)
        columns.append((name, imputed))
        if state.has_missing:
            columns.append((f"{_PREFIX}f{len(columns)}", missing))
    return columns


def _category_slots(states: list[ColumnState]) -> dict[int, int]:
    """Ordinal column -> number of slots, for the columns that hold category slots."""
    slots: dict[int, int] = {}
    column = 0
    for state in states:
        width = state.width("ordinal")
        if width and state.kind == "categorical":
            slots[column] = state.n_slots
        column += width
    return slots


def _interval(value: exp.Expression, bounds: list[float], slots: int | None = None) -> exp.Expression:
    """``1 +`` the number of ``bounds`` (sorted) below ``value``: read from a list by the slot for a
    category slot (``slots`` of them), else a binary search of nested CASE."""
    if slots is not None:
        counts = [_integer(1 + sum(b < slot for b in bounds)) for slot in range(slots)]
        return exp.Bracket(
            this=exp.Array(expressions=counts),
            expressions=[exp.Add(this=value.copy(), expression=_integer(1))],
        )

    def search(low: int, high: int) -> exp.Expression:
        if low == high:
            return _integer(low + 1)
        middle = (low + high + 1) // 2  # at least ``middle`` bounds below: value > bounds[middle - 1]
        test = exp.GT(this=value.copy(), expression=_number(bounds[middle - 1]))
        return exp.Case(ifs=[exp.If(this=test, true=search(middle, high))], default=search(low, middle - 1))

    return search(0, len(bounds))


@dataclass
class _TreeMasks:
    """One tree's bitmasks per feature it splits on: ``coded[j][p]`` for an interval-coded feature (``p``
    of the ensemble's bounds below the value), or the ``(bound, cleared bits)`` of its nodes on ``j``."""

    full: int
    coded: dict[int, list[int]]
    searched: dict[int, list[tuple[float, int]]]


def _tree_masks(tree: _Tree, order: list[int], bounds: dict[int, list[float]], coded: set[int]) -> _TreeMasks:
    """The tree's surviving-leaves bitmasks: each node the row goes right at clears its left subtree's
    leaves, so the AND over the features it splits on leaves the row's leaf as the lowest set bit."""
    bit = {node: position for position, node in enumerate(order)}
    full = (1 << len(order)) - 1
    below: dict[int, int] = {}  # node -> bits of the leaves under it

    def collect(index: int) -> int:
        if tree.right[index] <= 0:
            below[index] = 1 << bit[index]
        else:
            below[index] = collect(int(tree.left[index])) | collect(int(tree.right[index]))
        return below[index]

    collect(0)
    per_feature: dict[int, list[tuple[float, int]]] = {}
    for index in np.flatnonzero(tree.right > 0):
        cleared = full & ~below[int(tree.left[index])]
        per_feature.setdefault(int(tree.feature[index]), []).append((float(tree.bound[index]), cleared))
    shape = _TreeMasks(full, {}, {})
    for j, nodes in per_feature.items():
        if j not in coded:
            shape.searched[j] = sorted(nodes)
            continue
        # The value's interval p (0 .. len(bounds)) says how many of the ensemble's bounds on the feature
        # lie below it: the row goes right at each node whose bound's rank is below p.
        rank = {b: r for r, b in enumerate(bounds[j])}
        masks = []
        for p in range(len(bounds[j]) + 1):
            mask = full
            for b, cleared in nodes:
                if rank[b] < p:
                    mask &= cleared
            masks.append(mask)
        shape.coded[j] = masks
    return shape


def _word_mask(members: list[tuple[_TreeMasks | None, int]], coded: set[int]) -> exp.Expression:
    """The AND of one word's per-feature masks (each tree's at its bit offset; all ones where a tree does
    not split on the feature)."""
    word_full = 0
    for shape, offset in members:
        assert shape is not None
        word_full |= shape.full << offset
    terms: list[exp.Expression] = []
    for j in sorted({j for shape, _ in members if shape is not None for j in shape.coded}):
        length = len(next(shape.coded[j] for shape, _ in members if shape is not None and j in shape.coded))
        values = []
        for p in range(length):
            value = word_full
            for shape, offset in members:
                assert shape is not None
                if j in shape.coded:
                    value &= ~(shape.full << offset) | (shape.coded[j][p] << offset)
            values.append(_integer(value))
        terms.append(
            exp.Bracket(this=exp.Array(expressions=values), expressions=[exp.column(f"{_PREFIX}i{j}")])
        )
    for shape, offset in members:
        assert shape is not None
        others = word_full & ~(shape.full << offset)
        for j, nodes in sorted(shape.searched.items()):
            terms.append(_local_search(exp.column(f"{_PREFIX}f{j}"), nodes, shape.full, offset, others))
    mask_expression = terms[0]
    for term in terms[1:]:
        mask_expression = exp.BitwiseAnd(this=mask_expression, expression=term)
    return mask_expression


def _local_search(
    value: exp.Expression, nodes: list[tuple[float, int]], full: int, offset: int, others: int
) -> exp.Expression:
    """One tree's mask for a feature by a binary search over that tree's own bounds on it, at ``offset``
    in a word whose ``others`` bits stay set."""
    distinct = sorted({b for b, _ in nodes})
    prefix = [full]
    for b in distinct:
        mask = prefix[-1]
        for bound, cleared in nodes:
            if bound == b:
                mask &= cleared
        prefix.append(mask)

    def search(low: int, high: int) -> exp.Expression:
        if low == high:
            return _integer((prefix[low] << offset) | others)
        middle = (low + high + 1) // 2
        test = exp.GT(this=value.copy(), expression=_number(distinct[middle - 1]))
        return exp.Case(ifs=[exp.If(this=test, true=search(middle, high))], default=search(low, middle - 1))

    return search(0, len(distinct))


__all__ = [
    "COMPILED_FAMILIES",
    "MAX_TREE_NODES",
    "CompiledModel",
    "CompiledRelation",
    "NotCompilable",
    "cached_compile",
    "compile_model",
    "compile_reason",
    "compile_relation",
    "planned_path",
]
