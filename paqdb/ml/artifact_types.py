"""The exact skops nodes a stored estimator of each model family may hold: the loader's allow-list.

A skops file is a tree of nodes, each naming a loader (how skops rebuilds it: ``ObjectNode`` makes an
instance without calling ``__init__``, ``FunctionNode`` looks a function up, ``TreeNode`` rebuilds a
decision tree...) and a type or function by its full name. An entry of :data:`ALLOWED_NODES` is the pair
``"<loader> <module>.<name>"``: ``"ObjectNode sklearn.linear_model._logistic.LogisticRegression"`` allows a
LogisticRegression instance and nothing else of that name (not a function of the same name, not a call).
:data:`ALLOWED_ROOTS` lists the nodes an artifact's estimator itself may be.

The lists are GENERATED, not written by hand: :func:`generate` fits a tiny estimator of every family, task
and configuration variant paqdb can store (every listed candidate of each family's search space, both ends
of its ranges, binary and multiclass labels, native categorical splits, internal early stopping, warm
starts, batched linear training, the ``pca`` pipeline, each solver the families choose) and records every
node of its skops dump. ``tests/ml/test_artifact_safety.py`` regenerates them and fails when they differ,
so a family that starts needing another type fails CI instead of failing to load; after reviewing the
difference, rewrite the block with::

    .venv/bin/python -m paqdb.ml.artifact_types

Two allowed types hold raw node indices that scikit-learn's compiled prediction code follows without
bounds checks, and which skops therefore never trusts by default: ``sklearn.tree._tree.Tree`` (random
forests) and ``sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor`` (gradient boosting).
They are in :data:`VALIDATED_TYPES`: the loader accepts them only after checking every index they hold
(:mod:`paqdb.ml.artifact_safety`).
"""

from __future__ import annotations

from typing import Any

VALIDATED_TYPES: frozenset[str] = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
)
"""Types skops leaves untrusted because a crafted instance can crash scikit-learn's prediction code; they
are loaded only together with the checks of :func:`paqdb.ml.artifact_safety.validate_estimator`."""

# BEGIN GENERATED (python -m paqdb.ml.artifact_types; do not edit by hand)
ALLOWED_NODES: dict[str, frozenset[str]] = {
    "gradient_boosting": frozenset(
        {
            "DictNode builtins.dict",
            "FunctionNode sklearn.utils.validation.check_array",
            "JsonNode builtins.str",
            "ListNode builtins.list",
            "LossNode sklearn._loss._loss.CyHalfBinomialLoss",
            "LossNode sklearn._loss._loss.CyHalfMultinomialLoss",
            "LossNode sklearn._loss._loss.CyHalfSquaredError",
            "NdArrayNode numpy.ndarray",
            "NdArrayNode numpy.uint64",
            "ObjectNode sklearn._loss.link.IdentityLink",
            "ObjectNode sklearn._loss.link.Interval",
            "ObjectNode sklearn._loss.link.LogitLink",
            "ObjectNode sklearn._loss.link.MultinomialLogit",
            "ObjectNode sklearn._loss.loss.HalfBinomialLoss",
            "ObjectNode sklearn._loss.loss.HalfMultinomialLoss",
            "ObjectNode sklearn._loss.loss.HalfSquaredError",
            "ObjectNode sklearn.compose._column_transformer.ColumnTransformer",
            "ObjectNode sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
            "ObjectNode sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",  # noqa: E501
            "ObjectNode sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",  # noqa: E501
            "ObjectNode sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
            "ObjectNode sklearn.preprocessing._encoders.OrdinalEncoder",
            "ObjectNode sklearn.preprocessing._function_transformer.FunctionTransformer",
            "ObjectNode sklearn.preprocessing._label.LabelEncoder",
            "PartialNode functools.partial",
            "RandomGeneratorNode numpy.random._generator.Generator",
            "SliceNode builtins.slice",
            "TupleNode builtins.tuple",
            "TypeNode builtins.str",
            "TypeNode numpy.float64",
        }
    ),
    "kernel_approximation": frozenset(
        {
            "DictNode builtins.dict",
            "JsonNode builtins.str",
            "ListNode builtins.list",
            "NdArrayNode numpy.float64",
            "NdArrayNode numpy.ndarray",
            "ObjectNode sklearn.decomposition._pca.PCA",
            "ObjectNode sklearn.kernel_approximation.RBFSampler",
            "ObjectNode sklearn.linear_model._logistic.LogisticRegression",
            "ObjectNode sklearn.linear_model._ridge.Ridge",
            "ObjectNode sklearn.pipeline.Pipeline",
            "TupleNode builtins.tuple",
            "TypeNode builtins.str",
        }
    ),
    "linear_svm": frozenset(
        {
            "DictNode builtins.dict",
            "JsonNode builtins.str",
            "ListNode builtins.list",
            "NdArrayNode numpy.float64",
            "NdArrayNode numpy.ndarray",
            "ObjectNode sklearn.decomposition._pca.PCA",
            "ObjectNode sklearn.pipeline.Pipeline",
            "ObjectNode sklearn.svm._classes.LinearSVC",
            "TupleNode builtins.tuple",
            "TypeNode builtins.str",
        }
    ),
    "logistic": frozenset(
        {
            "DictNode builtins.dict",
            "JsonNode builtins.str",
            "ListNode builtins.list",
            "NdArrayNode numpy.float64",
            "NdArrayNode numpy.ndarray",
            "ObjectNode sklearn.decomposition._pca.PCA",
            "ObjectNode sklearn.linear_model._logistic.LogisticRegression",
            "ObjectNode sklearn.pipeline.Pipeline",
            "TupleNode builtins.tuple",
            "TypeNode builtins.str",
        }
    ),
    "mlp": frozenset(
        {
            "DictNode builtins.dict",
            "JsonNode builtins.str",
            "ListNode builtins.list",
            "NdArrayNode numpy.float64",
            "NdArrayNode numpy.ndarray",
            "ObjectNode sklearn.decomposition._pca.PCA",
            "ObjectNode sklearn.neural_network._multilayer_perceptron.MLPClassifier",
            "ObjectNode sklearn.neural_network._multilayer_perceptron.MLPRegressor",
            "ObjectNode sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
            "ObjectNode sklearn.pipeline.Pipeline",
            "ObjectNode sklearn.preprocessing._label.LabelBinarizer",
            "RandomStateNode numpy.random.mtrand.RandomState",
            "TupleNode builtins.tuple",
            "TypeNode builtins.str",
        }
    ),
    "random_forest": frozenset(
        {
            "DictNode builtins.dict",
            "JsonNode builtins.str",
            "ListNode builtins.list",
            "NdArrayNode numpy.int64",
            "NdArrayNode numpy.ndarray",
            "ObjectNode sklearn.ensemble._forest.RandomForestClassifier",
            "ObjectNode sklearn.ensemble._forest.RandomForestRegressor",
            "ObjectNode sklearn.tree._classes.DecisionTreeClassifier",
            "ObjectNode sklearn.tree._classes.DecisionTreeRegressor",
            "TreeNode sklearn.tree._tree.Tree",
            "TupleNode builtins.tuple",
            "TypeNode builtins.str",
        }
    ),
    "ridge": frozenset(
        {
            "DictNode builtins.dict",
            "JsonNode builtins.str",
            "ListNode builtins.list",
            "NdArrayNode numpy.float64",
            "NdArrayNode numpy.ndarray",
            "ObjectNode sklearn.decomposition._pca.PCA",
            "ObjectNode sklearn.linear_model._ridge.Ridge",
            "ObjectNode sklearn.pipeline.Pipeline",
            "TupleNode builtins.tuple",
            "TypeNode builtins.str",
        }
    ),
}
"""Every skops node each family's stored estimator may hold (see the module documentation)."""

ALLOWED_ROOTS: dict[str, frozenset[str]] = {
    "gradient_boosting": frozenset(
        {
            "ObjectNode sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",  # noqa: E501
            "ObjectNode sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",  # noqa: E501
        }
    ),
    "kernel_approximation": frozenset(
        {
            "ObjectNode sklearn.pipeline.Pipeline",
        }
    ),
    "linear_svm": frozenset(
        {
            "ObjectNode sklearn.pipeline.Pipeline",
            "ObjectNode sklearn.svm._classes.LinearSVC",
        }
    ),
    "logistic": frozenset(
        {
            "ObjectNode sklearn.linear_model._logistic.LogisticRegression",
            "ObjectNode sklearn.pipeline.Pipeline",
        }
    ),
    "mlp": frozenset(
        {
            "ObjectNode sklearn.neural_network._multilayer_perceptron.MLPClassifier",
            "ObjectNode sklearn.neural_network._multilayer_perceptron.MLPRegressor",
            "ObjectNode sklearn.pipeline.Pipeline",
        }
    ),
    "random_forest": frozenset(
        {
            "ObjectNode sklearn.ensemble._forest.RandomForestClassifier",
            "ObjectNode sklearn.ensemble._forest.RandomForestRegressor",
        }
    ),
    "ridge": frozenset(
        {
            "ObjectNode sklearn.linear_model._ridge.Ridge",
            "ObjectNode sklearn.pipeline.Pipeline",
        }
    ),
}
"""The nodes each family's stored estimator may itself be (its skops root node)."""
# END GENERATED


def node_name(state: dict[str, Any]) -> str:
    """The allow-list entry of one skops node state: ``"<loader> <module>.<name>"``."""
    return f"{state.get('__loader__')} {state.get('__module__')}.{state.get('__class__')}"


def schema_nodes(schema: Any) -> set[str]:
    """Every node a skops ``schema.json`` (already parsed) holds, as :func:`node_name` entries.

    Every dict with a ``__loader__`` key is a node skops would build, wherever it sits (skops reads each
    node's children from its own keys, so a walk over every dict and list finds all of them, and perhaps
    more, which only makes the check stricter). Iterative, so a deeply nested schema cannot exhaust the
    stack.
    """
    found: set[str] = set()
    pending = [schema]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if "__loader__" in value and value.get("__loader__") != "CachedNode":
                found.add(node_name(value))
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return found


def generate() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Fit every family variant paqdb can store on tiny data; return the nodes and root nodes of each
    family's skops dumps (the values of :data:`ALLOWED_NODES` and :data:`ALLOWED_ROOTS`).

    Slow (seconds) and imports scikit-learn's estimators: run by the regeneration test and the module's
    ``__main__``, never on the loading path.
    """
    import io
    import json
    import zipfile

    import numpy as np
    import pyarrow as pa
    import skops.io as skops_io
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline

    from paqdb.ml.batched_linear import BATCHABLE_FAMILIES, BatchedLinearTrainer
    from paqdb.ml.families import FAMILIES, TrainingShape
    from paqdb.ml.features import Featurizer
    from paqdb.ml.training import fit_estimator, prepare_training_data
    from paqdb.options import Range
    from paqdb.search.arms import WARM_START_FAMILIES

    nodes: dict[str, set[str]] = {name: set() for name in FAMILIES}
    roots: dict[str, set[str]] = {name: set() for name in FAMILIES}

    def record(family: str, estimator: Any) -> None:
        with zipfile.ZipFile(io.BytesIO(skops_io.dumps(estimator))) as archive:
            schema = json.loads(archive.read("schema.json"))
        nodes[family] |= schema_nodes(schema)
        roots[family].add(node_name(schema))

    rng = np.random.default_rng(0)

    def table(rows: int, label: str, *, categorical: bool = True) -> pa.Table:
        x = rng.normal(size=rows)
        count = rng.integers(0, 50, rows)
        columns: dict[str, Any] = {
            "x": pa.array(x, mask=rng.random(rows) < 0.1),
            "count": pa.array(count),
            "flag": pa.array(rng.random(rows) < 0.4),
        }
        signal = x + count / 25
        if categorical:
            city = rng.choice(["paris", "oslo", "lima"], rows)
            columns["city"] = pa.array(city.tolist(), mask=rng.random(rows) < 0.1)
            signal = signal + (city == "oslo")
        if label == "binary":
            columns["y"] = pa.array(np.where(signal > 1.0, "yes", "no").tolist())
        elif label == "multiclass":
            columns["y"] = pa.array(np.digitize(signal, [0.5, 1.5]).astype(np.int64))
        else:
            columns["y"] = pa.array(signal + rng.normal(0, 0.1, rows))
        return pa.table(columns)

    # Small resources keep generation fast; they do not change which types an estimator holds.
    small = {
        "random_forest": {"n_estimators": 3},
        "gradient_boosting": {"max_iter": 5},
        "mlp": {"max_iter": 5},
    }
    datasets = [
        (label, categorical, rows)
        for label in ("binary", "multiclass", "regression")
        for categorical, rows in ((True, 200), (False, 200), (True, 1_200))
    ]
    for label, categorical, rows in datasets:
        data = prepare_training_data(table(rows, label, categorical=categorical), "y", seed=0)
        featurizer = Featurizer().fit(data.features)
        for family in FAMILIES.values():
            if not family.supports(data.task):
                continue
            matrix = featurizer.transform(data.features, family.encoding)
            shape = data.shape(categorical=featurizer.categorical_mask(family.encoding))
            base = dict(small.get(family.name, {}))
            variants: list[dict[str, Any]] = [base]
            if rows == 200 and categorical:
                # Each candidate of the search space, one at a time; both ends of a range.
                for name, candidates in family.space_for(data.task).items():
                    values = (
                        [candidates.low, candidates.high] if isinstance(candidates, Range) else candidates
                    )
                    variants += [{**base, name: value} for value in values]
                for name, value in family.defaults.items():
                    if isinstance(value, bool):
                        variants.append({**base, name: not value})
            if family.name == "gradient_boosting":
                variants.append({**base, "native_categorical": True})
            for hyperparameters in variants:
                estimator = fit_estimator(family, data.task, hyperparameters, 0, matrix, data.target, shape)
                record(family.name, estimator)
                if family.resource is not None and family.name in WARM_START_FAMILIES:
                    # A warm-started continuation, as the TuPAQ planner's arms train them.
                    more = (hyperparameters.get(family.resource) or 5) * 2
                    estimator.set_params(warm_start=True, **{family.resource: more})
                    estimator.fit(matrix, data.target)
                    if "n_jobs" in estimator.get_params():
                        estimator.set_params(n_jobs=None)
                    record(family.name, estimator)
            if family.encoding == "onehot":
                # The search's pca option: a fitted PCA ahead of the family's estimator.
                reducer = PCA(n_components=min(3, matrix.shape[1]), random_state=0)
                reduced = reducer.fit_transform(matrix)
                estimator = fit_estimator(family, data.task, base, 0, reduced, data.target)
                record(family.name, Pipeline([("pca", reducer), ("model", estimator)]))
            if family.name in BATCHABLE_FAMILIES:
                trainer = BatchedLinearTrainer(family.name, [{}], batch_size=64, seed=0)
                trainer.start(matrix, data.target)
                trainer.advance(2)
                record(family.name, trainer.estimator(0))
            if family.name == "ridge":
                # The iterative solver the ridge rule picks for a large system (see choose_solver).
                big = TrainingShape(n_samples=5_000, n_features=5_000)
                record(family.name, family.build(data.task, None, 0, big).fit(matrix, data.target))
    return nodes, roots


def _entry_line(entry: str) -> str:
    line = f'            "{entry}",'
    # Type names are not split across lines, so that each entry stays greppable.
    return line if len(line) <= 110 else f"{line}  # noqa: E501"


def render(nodes: dict[str, set[str]], roots: dict[str, set[str]]) -> str:
    """The generated block of this module's source for ``nodes`` and ``roots``."""
    lines = ["ALLOWED_NODES: dict[str, frozenset[str]] = {"]
    for family in sorted(nodes):
        lines.append(f'    "{family}": frozenset(')
        lines.append("        {")
        lines += [_entry_line(entry) for entry in sorted(nodes[family])]
        lines.append("        }")
        lines.append("    ),")
    lines.append("}")
    lines.append(
        '"""Every skops node each family\'s stored estimator may hold (see the module documentation)."""'
    )
    lines.append("")
    lines.append("ALLOWED_ROOTS: dict[str, frozenset[str]] = {")
    for family in sorted(roots):
        lines.append(f'    "{family}": frozenset(')
        lines.append("        {")
        lines += [_entry_line(entry) for entry in sorted(roots[family])]
        lines.append("        }")
        lines.append("    ),")
    lines.append("}")
    lines.append('"""The nodes each family\'s stored estimator may itself be (its skops root node)."""')
    return "\n".join(lines) + "\n"


def _rewrite() -> None:
    import pathlib

    path = pathlib.Path(__file__)
    source = path.read_text()
    begin = source.index("# BEGIN GENERATED")
    start = source.index("\n", begin) + 1
    end = source.index("# END GENERATED")
    path.write_text(source[:start] + render(*generate()) + source[end:])
    print(f"rewrote the generated block of {path}")


__all__ = ["ALLOWED_NODES", "ALLOWED_ROOTS", "VALIDATED_TYPES", "generate", "node_name", "schema_nodes"]


if __name__ == "__main__":
    _rewrite()
