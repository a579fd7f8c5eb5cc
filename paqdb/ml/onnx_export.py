"""A paqdb model as one ONNX graph: its featurizer written in ONNX operators, then the estimator's graph
from skl2onnx, then the class values (``EXPORT MODEL m TO 'm.onnx' WITH (format => 'onnx')``).

The graph reads the model's input columns themselves, one input per column, named as the column:

* numbers, booleans (0 or 1), dates and timestamps (epoch seconds, as paqdb casts them): ``double``,
  shape ``[N, 1]``; NULL is NaN;
* strings and enums: ``string``, shape ``[N, 1]``; a NULL is given as the empty string, which the graph
  reads as NULL unless the model saw ``''`` as a value in training. (Where the model kept every value of
  a column, NULL and a value never seen share one code, so any unseen string gives the same answer.)

It returns ``label`` (``[N]``, the predicted class as a string or an integer; booleans as 0 or 1) and
``probabilities`` (``[N, classes]``, in the order of :func:`class_values`) for classification, and
``variable`` (``[N, 1]``, float) for regression. The estimator computes in float32, as skl2onnx's
converters do: trees give exactly paqdb's predictions (scikit-learn's trees compare float32 values too),
linear models and networks agree to float32 precision.

What converts: logistic regression, linear SVM, ridge, random forests and MLPs on number, boolean, date
and category columns. Hashed text columns (``text => [...]``), gradient boosting (skl2onnx 1.20 has no
working converter for HistGradientBoosting's categorical splits) and kernel approximation (no converter
for RBFSampler) do not: :func:`to_onnx` raises :class:`~paqdb.errors.NotYetSupportedError` naming why.
``skl2onnx`` and ``onnx`` are imported only here, when a model is exported to ONNX.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from paqdb.errors import NotYetSupportedError

if TYPE_CHECKING:
    from paqdb.ml.model import TrainedModel

#: Families skl2onnx converts today (their estimators, as paqdb builds them).
CONVERTIBLE_FAMILIES = ("logistic", "linear_svm", "ridge", "random_forest", "mlp")

_OPSET = 18
_ML_OPSET = 3
_FEATURES = "paqdb_features"  # the featurizer's output and the estimator's input


def class_values(model: TrainedModel) -> list[Any]:
    """The class values in the order of the graph's ``probabilities`` columns (classification)."""
    assert model.classes is not None
    return list(model.classes.to_pylist())


def to_onnx(model: TrainedModel, name: str) -> bytes:
    """The serialized ONNX model of ``model`` (``name``: the model's name, for messages).

    Raises:
        NotYetSupportedError: the family or a column kind has no faithful ONNX form yet.
    """
    if model.family not in CONVERTIBLE_FAMILIES:
        raise _not_yet(
            name,
            f"family {model.family} does not convert to ONNX yet",
            f"ONNX export works for {', '.join(CONVERTIBLE_FAMILIES)}",
        )
    text = [state.name for state in model.featurizer.columns_ if state.kind == "text"]
    if text:
        raise _not_yet(name, f"hashed text column(s) {', '.join(text)} have no ONNX form", None)
    try:
        import onnx
        from onnx import TensorProto, helper
        from skl2onnx import to_onnx as skl_to_onnx
        from skl2onnx.common.data_types import FloatTensorType
    except ImportError as error:  # an installation without the optional packages
        raise _not_yet(name, f"{error.name} is not installed", "pip install skl2onnx onnx") from None

    nodes, inputs, initializers, width = _featurizer_graph(model, helper, TensorProto)
    options: dict[Any, Any] | None = None
    if model.task == "classification" and hasattr(model.estimator, "predict_proba"):
        options = {id(model.estimator): {"zipmap": False}}
    try:
        estimator_graph = skl_to_onnx(
            model.estimator,
            initial_types=[(_FEATURES, FloatTensorType([None, width]))],
            target_opset={"": _OPSET, "ai.onnx.ml": _ML_OPSET},
            options=options,
        )
    except Exception as error:  # skl2onnx raises many kinds: a missing converter, a shape problem ...
        raise _not_yet(
            name, f"skl2onnx cannot convert its {type(model.estimator).__name__} ({error})", None
        ) from None
    graph = estimator_graph.graph
    cast = helper.make_node("Cast", ["paqdb_features_double"], [_FEATURES], to=TensorProto.FLOAT)
    outputs = list(graph.output)
    tail: list[Any] = []
    if model.task == "classification":
        tail, outputs = _class_output(model, graph, helper, TensorProto)
    merged = helper.make_graph(
        [*nodes, cast, *graph.node, *tail],
        f"paqdb_{name}",
        inputs,
        outputs,
        [*initializers, *graph.initializer],
    )
    result = helper.make_model(
        merged,
        opset_imports=[helper.make_opsetid("", _OPSET), helper.make_opsetid("ai.onnx.ml", _ML_OPSET)],
        producer_name="paqdb",
    )
    result.ir_version = estimator_graph.ir_version
    result.doc_string = (
        f"paqdb model {name}: {model.family} {model.task} of {model.label}; inputs are the model's columns"
    )
    onnx.checker.check_model(result)
    return bytes(result.SerializeToString())


def _featurizer_graph(
    model: TrainedModel, helper: Any, tensor: Any
) -> tuple[list[Any], list[Any], list[Any], int]:
    """Nodes computing :meth:`Featurizer.transform` from the raw columns, as ``paqdb_features_double``."""
    encoding = model.encoding
    nodes: list[Any] = []
    inputs: list[Any] = []
    initializers: list[Any] = []
    parts: list[str] = []

    def constant(tag: str, value: Any, kind: Any, dims: list[int]) -> str:
        const_name = f"paqdb_c{len(initializers)}_{tag}"
        initializers.append(helper.make_tensor(const_name, kind, dims, np.asarray(value).ravel().tolist()))
        return const_name

    for i, state in enumerate(model.featurizer.columns_):
        column = state.name
        if state.kind == "categorical":
            inputs.append(helper.make_tensor_value_info(column, tensor.STRING, [None, 1]))
        else:
            inputs.append(helper.make_tensor_value_info(column, tensor.DOUBLE, [None, 1]))
        if state.width(encoding) == 0:
            continue  # all NULL in training: the model reads nothing of it
        tag = f"{i}"
        if state.kind == "categorical":
            keys = list(state.vocabulary)
            values = list(range(len(keys)))
            if state.other_slot != state.null_slot and "" not in keys:
                keys.append("")  # a capped vocabulary: NULL has its own slot, given as ''
                values.append(state.null_slot)
            codes = f"paqdb_codes_{tag}"
            nodes.append(
                helper.make_node(
                    "LabelEncoder",
                    [column],
                    [codes],
                    domain="ai.onnx.ml",
                    keys_strings=keys or ["\x00"],
                    values_int64s=values or [state.other_slot],
                    default_int64=state.other_slot,
                )
            )
            out = f"paqdb_part_{tag}"
            if encoding == "onehot":
                slots = constant(f"slots{tag}", list(range(state.n_slots)), tensor.INT64, [1, state.n_slots])
                nodes.append(helper.make_node("Equal", [codes, slots], [f"paqdb_hot_{tag}"]))
                nodes.append(helper.make_node("Cast", [f"paqdb_hot_{tag}"], [out], to=tensor.DOUBLE))
            else:
                nodes.append(helper.make_node("Cast", [codes], [out], to=tensor.DOUBLE))
            parts.append(out)
            continue
        # Numbers: NaN and infinities are missing (x - x is NaN exactly for those), filled with the median.
        zero = constant(f"zero{tag}", [0.0], tensor.DOUBLE, [])
        median = constant(f"median{tag}", [state.median], tensor.DOUBLE, [])
        nodes.append(helper.make_node("Sub", [column, column], [f"paqdb_diff_{tag}"]))
        nodes.append(helper.make_node("Equal", [f"paqdb_diff_{tag}", zero], [f"paqdb_finite_{tag}"]))
        nodes.append(
            helper.make_node("Where", [f"paqdb_finite_{tag}", column, median], [f"paqdb_filled_{tag}"])
        )
        value = f"paqdb_filled_{tag}"
        if encoding == "onehot":
            mean = constant(f"mean{tag}", [state.mean], tensor.DOUBLE, [])
            scale = constant(f"scale{tag}", [state.scale], tensor.DOUBLE, [])
            nodes.append(helper.make_node("Sub", [value, mean], [f"paqdb_centred_{tag}"]))
            nodes.append(helper.make_node("Div", [f"paqdb_centred_{tag}", scale], [f"paqdb_scaled_{tag}"]))
            value = f"paqdb_scaled_{tag}"
        parts.append(value)
        if state.has_missing:
            nodes.append(helper.make_node("Not", [f"paqdb_finite_{tag}"], [f"paqdb_missing_{tag}"]))
            nodes.append(
                helper.make_node(
                    "Cast", [f"paqdb_missing_{tag}"], [f"paqdb_indicator_{tag}"], to=tensor.DOUBLE
                )
            )
            parts.append(f"paqdb_indicator_{tag}")
    width = model.featurizer.n_output_features(encoding)
    nodes.append(helper.make_node("Concat", parts, ["paqdb_features_double"], axis=1))
    return nodes, inputs, initializers, width


def _class_output(model: TrainedModel, graph: Any, helper: Any, tensor: Any) -> tuple[list[Any], list[Any]]:
    """Nodes mapping the estimator's class codes (0 .. k-1) to the class values, and the graph outputs."""
    values = class_values(model)
    codes_name = graph.output[0].name
    probabilities = [o for o in graph.output[1:]]
    label_type = model.label_type
    keys = list(range(len(values)))
    if pa.types.is_string(label_type) or pa.types.is_large_string(label_type):
        mapping: dict[str, list[Any]] = {"values_strings": [str(v) for v in values]}
        kind = tensor.STRING
    else:  # integers, and booleans as 0 or 1
        mapping = {"values_int64s": [int(v) for v in values]}
        kind = tensor.INT64
    node = helper.make_node(
        "LabelEncoder",
        [codes_name],
        ["label"],
        domain="ai.onnx.ml",
        keys_int64s=keys,
        **({"default_string": ""} if kind == tensor.STRING else {"default_int64": -1}),
        **mapping,
    )
    if codes_name == "label":  # skl2onnx's own output is called label: rename it first
        graph_nodes = list(graph.node)
        for graph_node in graph_nodes:
            for j, output in enumerate(graph_node.output):
                if output == "label":
                    graph_node.output[j] = "paqdb_class_codes"
        node.input[0] = "paqdb_class_codes"
    outputs = [helper.make_tensor_value_info("label", kind, [None]), *probabilities]
    return [node], outputs


def _not_yet(name: str, why: str, hint: str | None) -> NotYetSupportedError:
    return NotYetSupportedError(
        f"model '{name}' cannot be exported as ONNX: {why}",
        hint=hint or "export it with the default format (format => 'paqdb') and load it with IMPORT MODEL",
    )


__all__ = ["CONVERTIBLE_FAMILIES", "class_values", "to_onnx"]
