"""Crafted model artifacts run no code and crash nothing (issue 8, defect 1).

Every artifact here is built in the test from a real one: the two exploits of the issue (a reduce node
calling ``numpy.testing._private.utils.runstring``, which ``exec``s its argument, and one calling
``sklearn.utils._testing.assert_run_python_script_without_output``, which starts a Python process), trees
with indices outside their arrays, a pickle, zip bombs, truncated and foreign files, a changed hash.
Each exploit would ``touch`` a file in ``tmp_path``; the tests check that the file never appears and that
the :class:`~paqdb.errors.ArtifactError` names what was refused.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import skops.io as skops_io

import paqdb
from paqdb.errors import ArtifactError
from paqdb.ml import artifact_safety, artifact_types
from paqdb.ml.families import FAMILIES
from paqdb.ml.model import TrainedModel
from paqdb.ml.training import train_model

# Small models keep the tests fast.
SMALL: dict[str, dict[str, Any]] = {
    "random_forest": {"n_estimators": 3},
    "gradient_boosting": {"max_iter": 5, "native_categorical": True},
    "kernel_approximation": {"n_components": 32},
    "mlp": {"max_iter": 20},
}


def _train(table: pa.Table, family: str, task: str = "classification") -> TrainedModel:
    label = "label" if task == "classification" else "amount"
    data = table.drop_columns(["amount" if label == "label" else "label"])
    return train_model(data, label, family=family, hyperparameters=SMALL.get(family))


# Rewriting archives.


def _rezip(data: bytes, replace: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """``data`` (a zip) with the members of ``replace`` substituted or added."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", compression) as target:
        for name in source.namelist():
            target.writestr(name, replace.get(name, source.read(name)))
        for name in set(replace) - set(source.namelist()):
            target.writestr(name, replace[name])
    return buffer.getvalue()


def _member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def _with_estimator(artifact: bytes, estimator: bytes) -> bytes:
    return _rezip(artifact, {"estimator.skops": estimator})


def _edit_schema(skops_bytes: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    schema = json.loads(_member(skops_bytes, "schema.json"))
    edit(schema)
    return _rezip(skops_bytes, {"schema.json": json.dumps(schema).encode()})


def _state_of(value: Any) -> dict[str, Any]:
    """The skops node state of ``value`` (plain data: strings, dicts, tuples)."""
    state = json.loads(_member(skops_io.dumps(value), "schema.json"))
    state.pop("protocol", None)
    return state


def _reduce_node(module: str, function: str, arguments: tuple[Any, ...]) -> dict[str, Any]:
    """A node that makes skops call ``module.function(*arguments)`` while loading."""
    return {
        "__class__": function,
        "__module__": module,
        "__loader__": "ConstructorFromReduceNode",
        "content": _state_of(arguments),
    }


def _smuggle(skops_bytes: bytes, node: dict[str, Any]) -> bytes:
    """The estimator with ``node`` added as one more of its attributes."""

    def edit(schema: dict[str, Any]) -> None:
        attributes = schema["content"]
        attributes["content"]["smuggled_"] = node
        # skops pairs each key with its type, in order: the new key needs one too.
        key_types = attributes["key_types"]["content"]
        key_types.append(dict(key_types[0]))

    return _edit_schema(skops_bytes, edit)


def _runstring_exploit(target: Path) -> dict[str, Any]:
    code = f"import pathlib; pathlib.Path({str(target)!r}).touch()"
    return _reduce_node("numpy.testing._private.utils", "runstring", (code, {}))


def _subprocess_exploit(target: Path) -> dict[str, Any]:
    # The script prints nothing, so the function would return normally after the process ran.
    script = f"import pathlib; pathlib.Path({str(target)!r}).touch()"
    return _reduce_node("sklearn.utils._testing", "assert_run_python_script_without_output", (script, "(?!)"))


EXPLOITS = {
    "runstring": ("numpy.testing._private.utils.runstring", _runstring_exploit),
    "subprocess": ("sklearn.utils._testing.assert_run_python_script_without_output", _subprocess_exploit),
}


@pytest.fixture(scope="module")
def logistic_artifact() -> bytes:
    from .synthetic import synthetic_table

    return _train(synthetic_table(), "logistic").to_bytes()


@pytest.fixture(scope="module")
def forest_artifact() -> bytes:
    from .synthetic import synthetic_table

    return _train(synthetic_table(), "random_forest").to_bytes()


@pytest.fixture(scope="module")
def boosting_artifact() -> bytes:
    from .synthetic import synthetic_table

    return _train(synthetic_table(), "gradient_boosting").to_bytes()


# The allow-list.


@pytest.mark.slow
def test_allow_list_is_what_the_families_need() -> None:
    """Regenerating the allow-list from the families gives the committed one: a family that starts
    needing another type fails here (rerun ``python -m paqdb.ml.artifact_types`` after review)."""
    nodes, roots = artifact_types.generate()
    assert {family: frozenset(entries) for family, entries in nodes.items()} == artifact_types.ALLOWED_NODES
    assert {family: frozenset(entries) for family, entries in roots.items()} == artifact_types.ALLOWED_ROOTS
    assert set(artifact_types.ALLOWED_NODES) == set(FAMILIES)


def test_allow_list_is_exact() -> None:
    """No prefixes, nothing that runs code, the partial's function named exactly; the index-holding types
    skops leaves untrusted appear only in the families that need them, and are validated."""
    everything = set().union(*artifact_types.ALLOWED_NODES.values())
    names = {entry.split(" ", 1)[1] for entry in everything}
    assert not any(name.endswith((".", "*")) for name in names)
    loaders = {entry.split(" ", 1)[0] for entry in everything}
    assert "ConstructorFromReduceNode" not in loaders and "MethodNode" not in loaders
    assert {entry for entry in everything if entry.startswith("FunctionNode ")} == {
        "FunctionNode sklearn.utils.validation.check_array"
    }
    assert "numpy.testing._private.utils.runstring" not in names
    assert "sklearn.utils._testing.assert_run_python_script_without_output" not in names
    holders = {
        family
        for family, entries in artifact_types.ALLOWED_NODES.items()
        if any(entry.split(" ", 1)[1] in artifact_types.VALIDATED_TYPES for entry in entries)
    }
    assert holders == {"random_forest", "gradient_boosting"}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_round_trips_under_the_allow_list(family: str, table: pa.Table) -> None:
    for task in FAMILIES[family].tasks:
        model = _train(table, family, task)
        data = model.to_bytes()
        restored = TrainedModel.from_bytes(data, expected_sha256=hashlib.sha256(data).hexdigest(), name="m")
        features = [table.column(name).combine_chunks() for name in model.feature_names]
        assert restored.predict_arrow(features)[0].equals(model.predict_arrow(features)[0]), (family, task)


# The two exploits of the issue.


@pytest.mark.parametrize("exploit", sorted(EXPLOITS))
def test_crafted_reduce_node_runs_nothing(exploit: str, logistic_artifact: bytes, tmp_path: Path) -> None:
    function, craft = EXPLOITS[exploit]
    target = tmp_path / "pwned"
    skops_bytes = _smuggle(_member(logistic_artifact, "estimator.skops"), craft(target))
    artifact = _with_estimator(logistic_artifact, skops_bytes)
    with pytest.raises(ArtifactError) as caught:
        TrainedModel.from_bytes(artifact, name="m")
    assert function in caught.value.message and "model 'm'" in caught.value.message
    assert not target.exists()


def test_the_runstring_exploit_is_real(logistic_artifact: bytes, tmp_path: Path) -> None:
    """Control: a loader that trusts what the file names (the old ``sklearn.``/``numpy.`` prefix rule
    let both through) does run the crafted node, so the refusal above is what keeps the file away."""
    target = tmp_path / "pwned"
    skops_bytes = _smuggle(_member(logistic_artifact, "estimator.skops"), _runstring_exploit(target))
    untrusted = skops_io.get_untrusted_types(data=skops_bytes)
    assert untrusted == ["numpy.testing._private.utils.runstring"]
    skops_io.loads(skops_bytes, trusted=untrusted)
    assert target.exists()


def test_an_allowed_type_used_as_a_call_is_refused(logistic_artifact: bytes) -> None:
    """An allowed name under another loader (a call instead of an instance) is not allowed."""
    node = _reduce_node("sklearn.linear_model._logistic", "LogisticRegression", ())
    skops_bytes = _smuggle(_member(logistic_artifact, "estimator.skops"), node)
    with pytest.raises(ArtifactError, match=r"LogisticRegression \(as ConstructorFromReduceNode\)"):
        TrainedModel.from_bytes(_with_estimator(logistic_artifact, skops_bytes))


def test_another_familys_estimator_is_refused(logistic_artifact: bytes, forest_artifact: bytes) -> None:
    """A forest stored under a logistic manifest: its types are not the logistic family's."""
    artifact = _with_estimator(logistic_artifact, _member(forest_artifact, "estimator.skops"))
    with pytest.raises(ArtifactError, match=r"sklearn\.tree\._tree\.Tree"):
        TrainedModel.from_bytes(artifact)


# Trees: the types skops leaves untrusted.


def _tree_arrays(skops_bytes: bytes) -> list[str]:
    """Names of the node-array members of every Tree in a skops file."""
    schema = json.loads(_member(skops_bytes, "schema.json"))
    found: list[str] = []
    pending: list[Any] = [schema]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if value.get("__loader__") == "TreeNode":
                found.append(value["content"]["content"]["nodes"]["file"])
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return found


def _edit_array(skops_bytes: bytes, member: str, edit: Callable[[np.ndarray], None]) -> bytes:
    array = np.load(io.BytesIO(_member(skops_bytes, member)), allow_pickle=False)
    edit(array)
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return _rezip(skops_bytes, {member: buffer.getvalue()})


@pytest.mark.parametrize(
    ("field", "value"),
    [("left_child", 10**9), ("right_child", -5), ("feature", 10**6), ("left_child", 0)],
    ids=["child-past-the-end", "negative-child", "feature-past-the-end", "cycle"],
)
def test_crafted_forest_tree_is_refused(forest_artifact: bytes, field: str, value: int) -> None:
    skops_bytes = _member(forest_artifact, "estimator.skops")
    member = _tree_arrays(skops_bytes)[0]

    def edit(nodes: np.ndarray) -> None:
        nodes[field][0] = value

    crafted = _with_estimator(forest_artifact, _edit_array(skops_bytes, member, edit))
    with pytest.raises(ArtifactError, match=r"sklearn\.tree\._tree\.Tree.*outside") as caught:
        TrainedModel.from_bytes(crafted, name="forest")
    assert "model 'forest'" in caught.value.message


def test_crafted_tree_node_count_is_refused(forest_artifact: bytes) -> None:
    """A ``node_count`` other than the number of stored nodes (scikit-learn lowers a larger one to the
    allocation, but a smaller one would hide nodes that prediction still walks into) is refused."""

    def edit(schema: dict[str, Any]) -> None:
        pending: list[Any] = [schema]
        while pending:
            value = pending.pop()
            if isinstance(value, dict):
                if value.get("__loader__") == "TreeNode":
                    # A fresh id: skops reuses the first node of an id, and equal counts share one.
                    value["content"]["content"]["node_count"].update(content="2", __id__=1)
                    return
                pending.extend(value.values())
            elif isinstance(value, list):
                pending.extend(value)

    crafted = _with_estimator(
        forest_artifact, _edit_schema(_member(forest_artifact, "estimator.skops"), edit)
    )
    with pytest.raises(ArtifactError, match=r"sklearn\.tree\._tree\.Tree"):
        TrainedModel.from_bytes(crafted)


def _predictor_arrays(skops_bytes: bytes) -> list[str]:
    schema = json.loads(_member(skops_bytes, "schema.json"))
    found: list[str] = []
    pending: list[Any] = [schema]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if value.get("__class__") == "TreePredictor":
                found.append(value["content"]["content"]["nodes"]["file"])
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return found


@pytest.mark.parametrize(
    ("field", "value"),
    [("left", 4_000_000_000), ("feature_idx", 10**6), ("bitset_idx", 10**6), ("right", 0)],
    ids=["child-past-the-end", "feature-past-the-end", "bitset-past-the-end", "cycle"],
)
def test_crafted_boosting_tree_is_refused(boosting_artifact: bytes, field: str, value: int) -> None:
    skops_bytes = _member(boosting_artifact, "estimator.skops")
    member = _predictor_arrays(skops_bytes)[0]

    def edit(nodes: np.ndarray) -> None:
        inner = np.flatnonzero(nodes["is_leaf"] == 0)[0]
        if field == "bitset_idx":
            nodes["is_categorical"][inner] = 1
        nodes[field][inner] = value

    crafted = _with_estimator(boosting_artifact, _edit_array(skops_bytes, member, edit))
    with pytest.raises(ArtifactError, match=r"TreePredictor.*outside"):
        TrainedModel.from_bytes(crafted)


def test_tree_outside_a_checked_model_is_refused(forest_artifact: bytes) -> None:
    """A Tree hung somewhere the forest does not read it from is refused too."""
    from sklearn.ensemble import RandomForestClassifier

    estimator = TrainedModel.from_bytes(forest_artifact).estimator
    assert isinstance(estimator, RandomForestClassifier)
    estimator.spare_tree_ = copy.deepcopy(estimator.estimators_[0].tree_)
    with pytest.raises(ArtifactError, match="outside a checked model"):
        artifact_safety.validate_estimator(estimator)


# Not a model at all.


def test_pickle_is_refused_without_running(tmp_path: Path, logistic_artifact: bytes) -> None:
    target = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {target}",))

    payload = pickle.dumps(Exploit())
    with pytest.raises(ArtifactError, match="not a zip archive"):
        TrainedModel.from_bytes(payload, name="m")
    with pytest.raises(ArtifactError, match="not a zip archive"):
        TrainedModel.from_bytes(_with_estimator(logistic_artifact, payload), name="m")
    assert not target.exists()


def test_truncated_artifacts_are_refused(logistic_artifact: bytes) -> None:
    for cut in (0, 10, len(logistic_artifact) // 2, len(logistic_artifact) - 1):
        with pytest.raises(ArtifactError):
            TrainedModel.from_bytes(logistic_artifact[:cut])
    skops_bytes = _member(logistic_artifact, "estimator.skops")
    with pytest.raises(ArtifactError):
        TrainedModel.from_bytes(_with_estimator(logistic_artifact, skops_bytes[: len(skops_bytes) // 2]))


def test_zip_bombs_are_refused(logistic_artifact: bytes) -> None:
    zeros = bytes(64 * 1024**2)  # deflates about 1,000 times
    with pytest.raises(ArtifactError, match="zip bomb"):
        TrainedModel.from_bytes(_rezip(logistic_artifact, {"padding.bin": zeros}))
    skops_bytes = _rezip(_member(logistic_artifact, "estimator.skops"), {"padding.npy": zeros})
    with pytest.raises(ArtifactError, match="zip bomb"):
        TrainedModel.from_bytes(_with_estimator(logistic_artifact, skops_bytes))
    # Better compressors than deflate are not accepted at all.
    with pytest.raises(ArtifactError, match="compression"):
        TrainedModel.from_bytes(_rezip(logistic_artifact, {}, compression=zipfile.ZIP_BZIP2))


def test_declared_sizes_over_the_limits_are_refused(logistic_artifact: bytes, monkeypatch: Any) -> None:
    monkeypatch.setattr(artifact_safety, "MAX_MEMBER_BYTES", 1_000)
    with pytest.raises(ArtifactError, match="expands to"):
        TrainedModel.from_bytes(logistic_artifact)


@pytest.mark.parametrize("manifest", [b"[1, 2]", b"null", b'"text"', b"{not json", b"[" * 100_000])
def test_manifest_that_is_not_a_json_object_is_refused(logistic_artifact: bytes, manifest: bytes) -> None:
    with pytest.raises(ArtifactError, match=r"paqdb_model\.json"):
        TrainedModel.from_bytes(_rezip(logistic_artifact, {"paqdb_model.json": manifest}))


def test_skops_schema_that_is_not_a_json_object_is_refused(logistic_artifact: bytes) -> None:
    skops_bytes = _rezip(_member(logistic_artifact, "estimator.skops"), {"schema.json": b"[]"})
    with pytest.raises(ArtifactError, match=r"schema\.json"):
        TrainedModel.from_bytes(_with_estimator(logistic_artifact, skops_bytes))


def test_hash_mismatch_is_refused_before_parsing(logistic_artifact: bytes) -> None:
    expected = hashlib.sha256(b"another artifact").hexdigest()
    with pytest.raises(ArtifactError, match="SHA-256") as caught:
        TrainedModel.from_bytes(logistic_artifact, expected_sha256=expected, name="m")
    assert "model 'm'" in caught.value.message
    # Not parsed at all: even bytes that are not an archive fail on the hash first.
    with pytest.raises(ArtifactError, match="SHA-256"):
        TrainedModel.from_bytes(b"junk", expected_sha256=expected)
    good = hashlib.sha256(logistic_artifact).hexdigest()
    assert TrainedModel.from_bytes(logistic_artifact, expected_sha256=good.upper()).family == "logistic"


# End to end: a tampered catalog.

_SEARCH = "USING SEARCH (families => ['logistic'], budget => '1 trials')"
_STATEMENTS = [
    "PREDICT species FROM iris_test USING MODEL m",
    "SELECT PREDICT(species USING MODEL m) FROM iris_test",
]


def _tamper(database: str, edit: Callable[[bytes], bytes], *, fix_hash: bool) -> None:
    """Rewrite model m's stored artifact in the database file, as someone with write access could."""
    with duckdb.connect(database) as raw:
        row = raw.execute("SELECT data FROM paqdb.artifacts WHERE name = 'm'").fetchone()
        assert row is not None
        data = edit(bytes(row[0]))
        if fix_hash:
            raw.execute(
                "UPDATE paqdb.artifacts SET data = ?, sha256 = ?, size = ? WHERE name = 'm'",
                [data, hashlib.sha256(data).hexdigest(), len(data)],
            )
        else:
            raw.execute("UPDATE paqdb.artifacts SET data = ? WHERE name = 'm'", [data])


@pytest.fixture
def trained_database(database: str) -> str:
    with paqdb.connect(database, autocommit=True) as connection:
        connection.execute("LOAD DATASET iris")
        connection.execute("CREATE TABLE iris_test AS SELECT * FROM iris LIMIT 20")
        connection.execute(f"CREATE MODEL m PREDICT species FROM iris {_SEARCH}")
    return database


@pytest.mark.parametrize("exploit", sorted(EXPLOITS))
@pytest.mark.parametrize("statement", _STATEMENTS, ids=["statement", "expression"])
def test_tampered_catalog_with_matching_hash_runs_nothing(
    trained_database: str, tmp_path: Path, exploit: str, statement: str
) -> None:
    function, craft = EXPLOITS[exploit]
    target = tmp_path / "pwned"

    def edit(artifact: bytes) -> bytes:
        return _with_estimator(artifact, _smuggle(_member(artifact, "estimator.skops"), craft(target)))

    _tamper(trained_database, edit, fix_hash=True)
    with paqdb.connect(trained_database, autocommit=True) as connection, pytest.raises(paqdb.Error) as caught:
        connection.execute(statement).fetchall()
    assert isinstance(caught.value, ArtifactError)
    assert function in caught.value.message and "'m'" in caught.value.message
    assert not target.exists()


@pytest.mark.parametrize("statement", _STATEMENTS, ids=["statement", "expression"])
def test_tampered_catalog_hash_mismatch_runs_nothing(
    trained_database: str, tmp_path: Path, statement: str
) -> None:
    """The artifact changed but not its recorded hash: refused on the hash (needs the planner to pass
    ``expected_sha256``), before the exploit could even be found by the allow-list."""
    target = tmp_path / "pwned"

    def edit(artifact: bytes) -> bytes:
        return _with_estimator(
            artifact, _smuggle(_member(artifact, "estimator.skops"), _runstring_exploit(target))
        )

    _tamper(trained_database, edit, fix_hash=False)
    with (
        paqdb.connect(trained_database, autocommit=True) as connection,
        pytest.raises(paqdb.Error, match="SHA-256") as caught,
    ):
        connection.execute(statement).fetchall()
    assert "'m'" in caught.value.message
    assert not target.exists()


def test_untampered_catalog_still_predicts(trained_database: str) -> None:
    with paqdb.connect(trained_database, autocommit=True) as connection:
        rows = connection.execute(_STATEMENTS[1]).fetchall()
    assert len(rows) == 20 and all(isinstance(row[0], str) for row in rows)
