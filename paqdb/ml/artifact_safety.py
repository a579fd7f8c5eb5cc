"""Loading a stored estimator without running code from the file, and without trusting its indices.

What :func:`load_estimator` guarantees, in the order it checks (each failure is an
:class:`~paqdb.errors.ArtifactError` naming the model, raised before the next step starts):

1. The artifact's SHA-256 equals the one the catalog recorded when the model was stored (when the caller
   passes it): a file altered after training is refused before any byte of it is parsed.
2. The archives (the artifact and the skops file inside it) are zip files whose members are stored or
   deflated (no bzip2/LZMA, no encryption), at most :data:`MAX_MEMBERS` of them, each at most
   :data:`MAX_MEMBER_BYTES` and together at most :data:`MAX_TOTAL_BYTES` once decompressed, and none
   expanding more than :data:`MAX_RATIO` times (zip bombs). Sizes are read from the central directory;
   :mod:`zipfile` never decompresses past a member's declared size.
3. Every node of the skops file is on the generated allow-list of the model's family
   (:data:`~paqdb.ml.artifact_types.ALLOWED_NODES`: the exact loader and type or function each family's
   estimators use, not a prefix), and the estimator itself is one of the family's
   (:data:`~paqdb.ml.artifact_types.ALLOWED_ROOTS`). Only then is skops asked to build it, trusting
   exactly those names. Building calls nothing but what those allowed types define for it (``__new__``
   and ``__setstate__`` of the scikit-learn classes, NumPy's scalar types and ``RandomState``,
   ``Tree.__setstate__`` with its own dtype and shape checks): no call node is on any list. The only
   function on a list is ``sklearn.utils.validation.check_array``, held (not called) by the
   ``functools.partial`` HistGradientBoosting keeps for native categorical features and applied by it
   to the rows being scored.
4. The two allowed types that hold raw indices followed by compiled code without bounds checks
   (:data:`~paqdb.ml.artifact_types.VALIDATED_TYPES`) are checked before the estimator is returned,
   so no prediction ever runs on an unchecked one (:func:`validate_estimator`): every decision tree of a
   forest and every tree of a gradient boosting model must have child indices inside the tree and
   greater than the node's own (so every walk ends at a leaf), feature indices below the number of
   columns the estimator checks its input against, categorical bitsets inside their arrays, and each
   such tree must belong to the estimator that checks its input (a stray tree is refused).

What is not claimed: a well-formed artifact of an allowed type with wrong weights gives wrong answers
(the hash of step 1 is what detects tampering with the catalog), and a very large allowed model may be
slow to load or to score.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from paqdb.errors import ArtifactError
from paqdb.ml.artifact_types import ALLOWED_NODES, ALLOWED_ROOTS, node_name, schema_nodes

MAX_MEMBERS = 100_000
"""Most members of one zip archive (a forest of 1,000 trees stores about 4,000 arrays)."""

MAX_MEMBER_BYTES = 2 * 1024**3
"""Largest decompressed member of an archive."""

MAX_TOTAL_BYTES = 4 * 1024**3
"""Largest decompressed total of an archive's members."""

MAX_RATIO = 500
"""Largest decompression ratio of a member bigger than :data:`RATIO_FLOOR`. Stored estimators compress 1
to 20 times (measured: forests' node arrays 5, gradient boosting 17, network weights 1); the level-1
deflate :meth:`~paqdb.ml.model.TrainedModel.to_bytes` writes cannot exceed about 230 even on zeros, while
a deflate bomb reaches about 1,000."""

RATIO_FLOOR = 1024**2
"""Members at most this large may compress better than :data:`MAX_RATIO` (an array of zeros)."""

MAX_SCHEMA_BYTES = 256 * 1024**2
"""Largest ``schema.json`` of a skops file (the node tree; arrays are separate members)."""

_ALLOWED_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})


def _subject(name: str | None) -> str:
    return f"model '{name}'" if name is not None else "model artifact"


def refuse(name: str | None, problem: str, hint: str | None = None) -> ArtifactError:
    """An :class:`ArtifactError` saying that model ``name`` cannot be loaded and why."""
    return ArtifactError(
        f"{_subject(name)} cannot be loaded: {problem}",
        hint=hint or "the stored artifact was not written by this paqdb or was altered; retrain the model",
    )


def check_sha256(data: bytes, expected: str | None, name: str | None) -> None:
    """Raise unless ``data`` hashes to ``expected`` (a hex SHA-256; None skips the check)."""
    if expected is None:
        return
    if not isinstance(data, bytes | bytearray | memoryview):
        raise refuse(name, f"its artifact is a {type(data).__name__}, not bytes")
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected.strip().lower():
        raise refuse(
            name,
            f"its artifact's SHA-256 is {actual}, not the {expected} recorded when it was stored",
            hint="the artifact was altered after training; retrain the model or restore the database",
        )


def open_archive(data: bytes, what: str, name: str | None) -> zipfile.ZipFile:
    """``data`` opened as a zip archive after checking its members against the size limits."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise refuse(name, f"its {what} is a {type(data).__name__}, not bytes")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise refuse(name, f"its {what} is corrupt: not a zip archive ({error})") from error
    try:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise refuse(name, f"its {what} has {len(members):,} members (at most {MAX_MEMBERS:,})")
        total = 0
        for member in members:
            if member.compress_type not in _ALLOWED_COMPRESSION:
                raise refuse(
                    name, f"{what} member {member.filename!r} uses compression {member.compress_type}"
                )
            if member.flag_bits & 0x1:
                raise refuse(name, f"{what} member {member.filename!r} is encrypted")
            size = member.file_size
            if size > MAX_MEMBER_BYTES:
                raise refuse(name, f"{what} member {member.filename!r} expands to {size:,} bytes")
            if size > RATIO_FLOOR and size > MAX_RATIO * max(member.compress_size, 1):
                raise refuse(
                    name,
                    f"{what} member {member.filename!r} expands {size / max(member.compress_size, 1):,.0f} "
                    f"times (a zip bomb; at most {MAX_RATIO})",
                )
            total += size
        if total > MAX_TOTAL_BYTES:
            raise refuse(name, f"its {what} expands to {total:,} bytes (at most {MAX_TOTAL_BYTES:,})")
    except BaseException:
        archive.close()
        raise
    return archive


def read_json_object(
    archive: zipfile.ZipFile, member: str, what: str, name: str | None, limit: int
) -> dict[str, Any]:
    """Member ``member`` of ``archive`` (at most ``limit`` bytes) parsed as JSON, which must be an object."""
    try:
        size = archive.getinfo(member).file_size
    except KeyError as error:
        raise refuse(name, f"its {what} has no {member!r}") from error
    if size > limit:
        raise refuse(name, f"{member!r} in its {what} is larger than {limit:,} bytes")
    try:
        value = json.loads(archive.read(member))
    except (ValueError, RecursionError) as error:
        raise refuse(name, f"{member!r} in its {what} is not valid JSON ({error})") from error
    if not isinstance(value, dict):
        raise refuse(name, f"{member!r} in its {what} is a JSON {type(value).__name__}, not an object")
    return value


def check_nodes(schema: dict[str, Any], family: str, name: str | None) -> list[str]:
    """Raise unless every node of the skops ``schema`` is allowed for ``family``; the names to trust."""
    allowed = ALLOWED_NODES.get(family)
    if allowed is None:
        raise refuse(name, f"its family {family!r} is not one this paqdb stores")
    found = schema_nodes(schema)
    disallowed = sorted(found - allowed)
    if disallowed:
        shown = ", ".join(
            f"{entry.split(' ', 1)[1]} (as {entry.split(' ', 1)[0]})" for entry in disallowed[:10]
        )
        more = f" and {len(disallowed) - 10} more" if len(disallowed) > 10 else ""
        raise refuse(
            name, f"its estimator names types that are not allowed for a {family} model: {shown}{more}"
        )
    root = node_name(schema)
    if root not in ALLOWED_ROOTS[family]:
        raise refuse(name, f"its estimator is a {root.split(' ', 1)[1]}, which is not a {family} estimator")
    return sorted({entry.split(" ", 1)[1] for entry in found})


def load_estimator(data: bytes, family: str, name: str | None = None) -> Any:
    """The estimator stored as skops bytes ``data`` for a model of ``family``, checked as the module
    documentation says (steps 2 to 4)."""
    import skops.io as skops_io

    with open_archive(data, "estimator (skops file)", name) as archive:
        schema = read_json_object(archive, "schema.json", "estimator (skops file)", name, MAX_SCHEMA_BYTES)
    trusted = check_nodes(schema, family, name)
    try:
        estimator = skops_io.loads(bytes(data), trusted=trusted)
    except Exception as error:
        raise refuse(name, f"its estimator is corrupt ({type(error).__name__}: {error})") from error
    validate_estimator(estimator, name)
    return estimator


# Validation of the index-holding types.


def _reachable(root: Any) -> Iterator[Any]:
    """Every object reachable from ``root`` through attributes, containers, partials and object arrays."""
    seen: set[int] = set()
    pending = [root]
    while pending:
        value = pending.pop()
        if id(value) in seen or value is None or isinstance(value, str | bytes | int | float | bool):
            continue
        seen.add(id(value))
        yield value
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                pending.extend(value.ravel().tolist())
            continue
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple | set | frozenset):
            pending.extend(value)
        else:
            pending.extend((getattr(value, "func", None), getattr(value, "args", None)))
            pending.append(getattr(value, "keywords", None))
            attributes = getattr(value, "__dict__", None)
            if isinstance(attributes, dict):
                pending.extend(attributes.values())


def _whole(value: Any) -> int | None:
    """``value`` as a Python int when it is a whole number (not a bool), else None."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    return None


def _check_tree(tree: Any, owner: Any, n_features: int, name: str | None) -> None:
    """Raise unless ``tree`` (a ``sklearn.tree._tree.Tree``) can be walked safely on ``n_features``
    columns: counts consistent with its allocation, children inside the tree and after their parent,
    features below ``n_features``."""
    from sklearn.tree._tree import Tree

    what = f"the sklearn.tree._tree.Tree of a {type(owner).__name__} in its estimator"
    if type(tree) is not Tree:
        raise refuse(name, f"{what} is a {type(tree).__name__}, not a Tree")
    # node_count comes from the file and is not checked by Tree.__setstate__; every array view below
    # spans node_count nodes of a capacity-sized allocation, so compare before reading any of them.
    if not 1 <= tree.node_count == tree.capacity:
        raise refuse(name, f"{what} claims {tree.node_count} nodes in room for {tree.capacity}")
    if tree.n_features != n_features:
        raise refuse(name, f"{what} reads {tree.n_features} columns where its estimator has {n_features}")
    n_outputs = _whole(getattr(owner, "n_outputs_", None))
    if tree.n_outputs != 1 or n_outputs != 1:
        raise refuse(name, f"{what} has {tree.n_outputs} outputs; paqdb stores single-output trees")
    classes = getattr(owner, "n_classes_", None)
    if classes is not None and not np.array_equal(np.atleast_1d(classes), tree.n_classes):
        raise refuse(name, f"{what} holds {tree.n_classes} classes where its estimator has {classes}")
    left, right, feature = tree.children_left, tree.children_right, tree.feature
    count = tree.node_count
    index = np.arange(count)
    leaf = left == -1
    inner = ~leaf
    ok = (
        np.all(right[leaf] == -1)
        and np.all((left[inner] > index[inner]) & (left[inner] < count))
        and np.all((right[inner] > index[inner]) & (right[inner] < count))
        and np.all((feature[inner] >= 0) & (feature[inner] < n_features))
    )
    if not ok:
        raise refuse(name, f"{what} has node or feature indices outside the tree (a crafted tree)")
    if tree.value.shape[0] != count:
        raise refuse(name, f"{what} has {tree.value.shape[0]} node values for {count} nodes")


def _check_forest(forest: Any, checked_trees: set[int], name: str | None) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    n_features = _whole(getattr(forest, "n_features_in_", None))
    if n_features is None or n_features < 1:
        raise refuse(name, f"its {type(forest).__name__} has no valid n_features_in_")
    members = getattr(forest, "estimators_", None)
    kind = DecisionTreeClassifier if isinstance(forest, RandomForestClassifier) else DecisionTreeRegressor
    if not isinstance(members, list) or not members:
        raise refuse(name, f"its {type(forest).__name__} has no trees")
    for member in members:
        # The forest checks its input once, then calls each tree with check_input=False.
        if type(member) is not kind or _whole(getattr(member, "n_features_in_", None)) != n_features:
            raise refuse(
                name, f"its {type(forest).__name__} holds a {type(member).__name__} that does not fit it"
            )
        _check_tree(getattr(member, "tree_", None), member, n_features, name)
        checked_trees.add(id(member.tree_))


def _check_preprocessor(model: Any, n_features: int, name: str | None) -> None:
    """Raise unless HistGradientBoosting's native-categorical preprocessor is the one scikit-learn builds:
    an OrdinalEncoder on the categorical columns and ``check_array`` on the others, so that its output
    has exactly ``n_features`` columns."""
    from functools import partial

    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder
    from sklearn.utils.validation import check_array

    preprocessor = getattr(model, "_preprocessor", None)
    if preprocessor is None:
        return
    problem = f"its {type(model).__name__}'s categorical preprocessor is not the one scikit-learn builds"
    if type(preprocessor) is not ColumnTransformer:
        raise refuse(name, problem)
    steps = getattr(preprocessor, "transformers_", None)
    if (
        not isinstance(steps, list)
        or len(steps) not in (2, 3)
        or not all(isinstance(s, tuple) for s in steps)
    ):
        raise refuse(name, problem)
    if any(len(step) != 3 for step in steps):
        raise refuse(name, problem)
    (encoder_name, encoder, encoded), (numeric_name, numeric, passed) = steps[0], steps[1]
    function = getattr(numeric, "func", None)
    ok = (
        encoder_name == "encoder"
        and numeric_name == "numerical"
        and type(encoder) is OrdinalEncoder
        and type(numeric) is FunctionTransformer
        and type(function) is partial
        and function.func is check_array
        and getattr(numeric, "inverse_func", None) is None
        and getattr(numeric, "kw_args", None) is None
        and isinstance(encoded, np.ndarray)
        and isinstance(passed, np.ndarray)
        and encoded.dtype == bool
        and passed.dtype == bool
        and encoded.shape == passed.shape == (n_features,)
        and np.array_equal(encoded, ~passed)
        and _whole(getattr(preprocessor, "n_features_in_", None)) == n_features
        and (len(steps) == 2 or (steps[2][0] == "remainder" and steps[2][1] == "drop"))
    )
    if not ok:
        raise refuse(name, problem)


def _check_boosting(model: Any, checked_predictors: set[int], name: str | None) -> None:
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

    kind = type(model).__name__
    n_features = _whole(getattr(model, "n_features_in_", None))
    if n_features is None or n_features < 1:
        raise refuse(name, f"its {kind} has no valid n_features_in_")
    if getattr(model, "_in_fit", False) is not False:
        raise refuse(name, f"its {kind} is marked as fitting")
    _check_preprocessor(model, n_features, name)
    mapper = getattr(model, "_bin_mapper", None)
    categorical = getattr(mapper, "is_categorical_", None)
    thresholds = getattr(mapper, "bin_thresholds_", None)
    if (
        not isinstance(categorical, np.ndarray)
        or categorical.shape != (n_features,)
        or not isinstance(thresholds, list)
        or len(thresholds) != n_features
    ):
        raise refuse(name, f"its {kind}'s bin mapper does not match its {n_features} columns")
    categorical = categorical.astype(bool)
    for column in np.flatnonzero(categorical):
        known = thresholds[column]
        # Known categories become bit positions in a 256-bit set.
        if not (
            isinstance(known, np.ndarray)
            and known.ndim == 1
            and np.all(np.isfinite(known))
            and np.all((known >= 0) & (known <= 255) & (known == np.floor(known)))
        ):
            raise refuse(name, f"its {kind} has categories outside 0..255")
    iterations = getattr(model, "_predictors", None)
    if not isinstance(iterations, list) or not all(isinstance(row, list) for row in iterations):
        raise refuse(name, f"its {kind} has no list of trees")
    for row in iterations:
        for predictor in row:
            if type(predictor) is not TreePredictor:
                raise refuse(name, f"its {kind} holds a {type(predictor).__name__} among its trees")
            _check_predictor(predictor, n_features, categorical, PREDICTOR_RECORD_DTYPE, kind, name)
            checked_predictors.add(id(predictor))


def _check_predictor(
    predictor: Any, n_features: int, categorical: np.ndarray, dtype: np.dtype, kind: str, name: str | None
) -> None:
    what = f"a sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor of its {kind}"
    nodes = getattr(predictor, "nodes", None)
    if not isinstance(nodes, np.ndarray) or nodes.dtype != dtype or nodes.ndim != 1 or len(nodes) < 1:
        raise refuse(name, f"{what} has no valid node array")
    bitsets = []
    for attribute in ("raw_left_cat_bitsets", "binned_left_cat_bitsets"):
        bitset = getattr(predictor, attribute, None)
        # Category values are 8-bit, so each bitset is 8 words of 32 bits.
        if (
            not isinstance(bitset, np.ndarray)
            or bitset.dtype != np.uint32
            or bitset.ndim != 2
            or bitset.shape[1] != 8
            or not bitset.flags.c_contiguous
        ):
            raise refuse(name, f"{what} has a malformed {attribute}")
        bitsets.append(bitset.shape[0])
    count = len(nodes)
    index = np.arange(count)
    inner = nodes["is_leaf"] == 0
    left = nodes["left"].astype(np.int64)
    right = nodes["right"].astype(np.int64)
    feature = nodes["feature_idx"].astype(np.int64)
    ok = bool(
        np.all((left[inner] > index[inner]) & (left[inner] < count))
        and np.all((right[inner] > index[inner]) & (right[inner] < count))
        and np.all((feature[inner] >= 0) & (feature[inner] < n_features))
    )
    if ok:
        split_on_category = inner & (nodes["is_categorical"] != 0)
        ok = bool(
            np.all(nodes["bitset_idx"][split_on_category] < min(bitsets))
            and np.all(categorical[feature[split_on_category]])
        )
    if not ok:
        raise refuse(
            name, f"{what} has node, feature or category indices outside their arrays (a crafted tree)"
        )


def validate_estimator(estimator: Any, name: str | None = None) -> None:
    """Raise unless every index-holding object in ``estimator`` is consistent (see the module
    documentation, step 4); does nothing for estimators without trees."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

    objects = list(_reachable(estimator))
    checked_trees: set[int] = set()
    checked_predictors: set[int] = set()
    for value in objects:
        if type(value) in (RandomForestClassifier, RandomForestRegressor):
            _check_forest(value, checked_trees, name)
        elif type(value) in (HistGradientBoostingClassifier, HistGradientBoostingRegressor):
            _check_boosting(value, checked_predictors, name)
    for value in objects:
        if (type(value) is Tree and id(value) not in checked_trees) or (
            type(value) is TreePredictor and id(value) not in checked_predictors
        ):
            raise refuse(name, f"its estimator holds a {type(value).__name__} outside a checked model")


__all__ = [
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_RATIO",
    "MAX_SCHEMA_BYTES",
    "MAX_TOTAL_BYTES",
    "RATIO_FLOOR",
    "check_nodes",
    "check_sha256",
    "load_estimator",
    "open_archive",
    "read_json_object",
    "refuse",
    "validate_estimator",
]
