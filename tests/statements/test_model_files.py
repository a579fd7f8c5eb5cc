"""EXPORT MODEL m [VERSION n] TO 'file' and IMPORT [OR REPLACE] MODEL m FROM 'file' (issue 10, item 4):
a model moves between databases, and IMPORT verifies everything before it writes anything."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import paqdb
from paqdb.errors import (
    ArtifactError,
    DuplicateModelError,
    InvalidParameterError,
    NotYetSupportedError,
    UndefinedModelError,
)
from paqdb.statements import model_files

_V1 = "USING SEARCH (families => ['logistic'], budget => '1 trials')"
_V2 = "USING SEARCH (families => ['random_forest'], budget => '1 trials', n_estimators => [5])"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model_files")


@pytest.fixture(scope="module")
def source(folder: Path) -> Iterator[paqdb.Connection]:
    """A database with model m: version 1 logistic, version 2 (current) a random forest."""
    connection = paqdb.connect(str(folder / "source.duckdb"), autocommit=True)
    connection.execute("LOAD DATASET iris")
    connection.execute(f"CREATE MODEL m PREDICT species FROM iris {_V1}")
    connection.execute(f"CREATE OR REPLACE MODEL m PREDICT species FROM iris {_V2}")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def exported(source: paqdb.Connection, folder: Path) -> Path:
    """Version 1 of m, exported."""
    path = folder / "m1.paqdb"
    source.execute(f"EXPORT MODEL m VERSION 1 TO '{path}'")
    return path


@pytest.fixture
def target(tmp_path: Path) -> Iterator[paqdb.Connection]:
    """Another, fresh database with iris loaded."""
    connection = paqdb.connect(str(tmp_path / "target.duckdb"), autocommit=True)
    connection.execute("LOAD DATASET iris")
    yield connection
    connection.close()


def _predictions(con: paqdb.Connection, model: str) -> list[tuple[str, float]]:
    return con.execute(f"PREDICT species FROM iris USING MODEL {model}").fetchall()


def _rewrite(
    original: Path, destination: Path, manifest: dict | None = None, artifact: bytes | None = None
) -> Path:
    """A copy of an export file with its manifest or artifact member replaced."""
    with zipfile.ZipFile(original) as archive:
        old_manifest = json.loads(archive.read("paqdb_export.json"))
        old_artifact = archive.read("model.paqdb")
    with zipfile.ZipFile(destination, "w") as archive:
        archive.writestr("paqdb_export.json", json.dumps(manifest if manifest is not None else old_manifest))
        archive.writestr("model.paqdb", artifact if artifact is not None else old_artifact)
    return destination


def _manifest(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("paqdb_export.json"))  # type: ignore[no-any-return]


def test_export_writes_one_file_with_metadata_trials_and_the_artifact(
    source: paqdb.Connection, exported: Path
) -> None:
    manifest = _manifest(exported)
    assert (manifest["format"], manifest["version"]) == ("paqdb-model-export", 1)
    model = manifest["model"]
    assert (model["name"], model["version"], model["family"], model["label"]) == (
        "m",
        1,
        "logistic",
        "species",
    )
    assert model["label_type"] == "VARCHAR"
    assert [f["name"] for f in model["features"]] == [
        "sepal_length_cm",
        "sepal_width_cm",
        "petal_length_cm",
        "petal_width_cm",
    ]
    assert len(manifest["trials"]) == 1 and manifest["trials"][0]["family"] == "logistic"
    with zipfile.ZipFile(exported) as archive:
        artifact = archive.read("model.paqdb")
    stored = source.session.models.catalog.get("m", version=1)
    assert artifact == stored.artifact  # the catalog's artifact, byte for byte
    assert manifest["artifact"]["sha256"] == hashlib.sha256(artifact).hexdigest() == stored.sha256


def test_export_returns_a_row_and_the_current_version_by_default(
    source: paqdb.Connection, folder: Path
) -> None:
    path = folder / "current.paqdb"
    row = source.execute(f"EXPORT MODEL m TO '{path}'").fetchone()
    assert row is not None
    assert row[:4] == ("m", 2, str(path), "paqdb")
    assert row[4] == path.stat().st_size
    assert row[5] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert _manifest(path)["model"]["family"] == "random_forest"


def test_import_into_another_database_predicts_as_the_original(
    source: paqdb.Connection, target: paqdb.Connection, exported: Path
) -> None:
    row = target.execute("IMPORT MODEL flowers FROM ?", [str(exported)]).fetchone()
    assert row == (
        "flowers",
        1,
        "logistic",
        "accuracy",
        source.session.models.record("m", 1).validation_score,
        1,
    )
    assert _predictions(target, "flowers") == _predictions(source, "m VERSION 1")
    shown = target.execute("SHOW MODELS").fetch_arrow_table().to_pylist()[0]
    original = source.session.models.record("m", 1)
    assert (shown["label"], shown["family"], shown["metric"], shown["train_rows"], shown["outcome"]) == (
        original.label,
        original.family,
        original.metric,
        original.train_rows,
        original.outcome,
    )
    described = target.execute("DESCRIBE MODEL flowers").fetch_arrow_table()
    assert described.column("family").to_pylist() == ["logistic"]
    record = target.session.models.record("flowers")
    assert [(c.name, c.type) for c in record.features] == [(c.name, c.type) for c in original.features]
    assert (record.label_type, record.search, record.source_sql) == (
        original.label_type,
        original.search,
        original.source_sql,
    )


def test_import_or_replace_adds_a_version(
    source: paqdb.Connection, target: paqdb.Connection, exported: Path, folder: Path
) -> None:
    target.execute(f"IMPORT MODEL m FROM '{exported}'")
    current = folder / "current_for_replace.paqdb"
    source.execute(f"EXPORT MODEL m TO '{current}'")
    row = target.execute(f"IMPORT OR REPLACE MODEL m FROM '{current}'").fetchone()
    assert row is not None and row[:3] == ("m", 2, "random_forest")
    assert target.session.models.versions("m") == [1, 2]
    assert _predictions(target, "m VERSION 1") == _predictions(source, "m VERSION 1")
    assert _predictions(target, "m") == _predictions(source, "m")


def test_importing_over_an_existing_model_is_refused_at_its_name(
    target: paqdb.Connection, exported: Path
) -> None:
    target.execute(f"IMPORT MODEL m FROM '{exported}'")
    sql = f"IMPORT MODEL m FROM '{exported}'"
    with pytest.raises(DuplicateModelError) as caught:
        target.execute(sql)
    assert caught.value.message == "model 'm' already exists"
    assert caught.value.column == sql.index(" m ") + 2
    assert caught.value.hint is not None and "IMPORT OR REPLACE MODEL m" in caught.value.hint
    assert target.session.models.versions("m") == [1]


def _assert_nothing_written(con: paqdb.Connection) -> None:
    assert con.session.models.names() == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"hello, not a model", "is not a paqdb model export: it is not a zip archive"),
        (b"PK\x03\x04 truncated", "is not a paqdb model export"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused(
    target: paqdb.Connection, tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "junk.paqdb"
    path.write_bytes(content)
    sql = f"IMPORT MODEL m FROM '{path}'"
    with pytest.raises(ArtifactError) as caught:
        target.execute(sql)
    assert words in caught.value.message
    assert caught.value.column == sql.index("'") + 1
    assert caught.value.hint is not None and "EXPORT MODEL" in caught.value.hint
    _assert_nothing_written(target)


def test_a_bare_model_artifact_or_another_zip_is_not_an_export(
    source: paqdb.Connection, target: paqdb.Connection, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.zip"
    bare.write_bytes(source.session.models.catalog.get("m", version=1).artifact)  # no export manifest
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("paqdb_export.json", json.dumps({"format": "something-else"}))
    for path in (bare, other):
        with pytest.raises(ArtifactError, match="is not a paqdb model export"):
            target.execute(f"IMPORT MODEL m FROM '{path}'")
    _assert_nothing_written(target)


def test_an_altered_artifact_is_refused_before_anything_is_written(
    target: paqdb.Connection, exported: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(exported) as archive:
        artifact = bytearray(archive.read("model.paqdb"))
    artifact[len(artifact) // 2] ^= 0xFF
    tampered = _rewrite(exported, tmp_path / "tampered.paqdb", artifact=bytes(artifact))
    with pytest.raises(ArtifactError) as caught:
        target.execute(f"IMPORT MODEL m FROM '{tampered}'")
    assert "was altered or damaged after export" in caught.value.message
    _assert_nothing_written(target)


def test_a_file_damaged_in_place_is_refused(target: paqdb.Connection, exported: Path, tmp_path: Path) -> None:
    data = bytearray(exported.read_bytes())
    with zipfile.ZipFile(exported) as archive:
        info = archive.getinfo("model.paqdb")
    # A byte of the stored artifact itself, past its local header: the member's CRC no longer holds.
    data[info.header_offset + 30 + len(info.filename) + 100] ^= 0xFF
    damaged = tmp_path / "damaged.paqdb"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ArtifactError) as caught:
        target.execute(f"IMPORT MODEL m FROM '{damaged}'")
    assert "damaged" in caught.value.message or "altered" in caught.value.message
    _assert_nothing_written(target)


def test_a_rewritten_artifact_with_a_matching_hash_still_meets_the_safe_loader(
    target: paqdb.Connection, exported: Path, tmp_path: Path
) -> None:
    # Whoever rewrites the file can fix the recorded hash too; the safe loader still reads the artifact.
    artifact = io.BytesIO()
    with zipfile.ZipFile(artifact, "w") as archive:
        archive.writestr("paqdb_model.json", json.dumps({"format": "paqdb-model", "version": 1}))
    manifest = _manifest(exported)
    manifest["artifact"]["sha256"] = hashlib.sha256(artifact.getvalue()).hexdigest()
    forged = _rewrite(exported, tmp_path / "forged.paqdb", manifest=manifest, artifact=artifact.getvalue())
    with pytest.raises(ArtifactError, match="cannot be loaded"):
        target.execute(f"IMPORT MODEL m FROM '{forged}'")
    _assert_nothing_written(target)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"label_type": "VARCHAR) AS x FROM iris; DROP TABLE iris; --"}, "is not a SQL type name"),
        ({"label": "petal_width_cm"}, "disagrees with its model"),
        ({"family": "mlp"}, "disagrees with its model"),
        ({"features": [{"name": "a", "type": "DOUBLE"}]}, "disagrees with its model"),
        ({"outcome": "whatever"}, "incomplete or of the wrong type"),
        ({"label_type": None}, "is not a SQL type name"),
    ],
)
def test_metadata_that_disagrees_with_the_model_is_refused(
    target: paqdb.Connection, exported: Path, tmp_path: Path, change: dict, words: str
) -> None:
    manifest = _manifest(exported)
    manifest["model"].update(change)
    edited = _rewrite(exported, tmp_path / "edited.paqdb", manifest=manifest)
    with pytest.raises(ArtifactError) as caught:
        target.execute(f"IMPORT MODEL m FROM '{edited}'")
    assert words in caught.value.message
    _assert_nothing_written(target)
    assert target.execute("SELECT count(*) FROM iris").fetchone() == (150,)


def test_an_enum_or_decimal_label_type_is_accepted_as_a_type(exported: Path) -> None:
    for value in ("ENUM('setosa', 'versi''color')", "DECIMAL(10,2)", "TIMESTAMP WITH TIME ZONE"):
        assert model_files._sql_type(value, "the label", str(exported)) == value


def test_a_missing_file_is_an_error_at_the_path(target: paqdb.Connection) -> None:
    sql = "IMPORT MODEL m FROM 'no_such_file.paqdb'"
    with pytest.raises(InvalidParameterError) as caught:
        target.execute(sql)
    assert caught.value.message == "file 'no_such_file.paqdb' does not exist"
    assert caught.value.column == sql.index("'") + 1
    _assert_nothing_written(target)


def test_export_errors_point_at_what_is_wrong(source: paqdb.Connection, folder: Path) -> None:
    sql = "EXPORT MODEL m TO 'no_such_folder/m.paqdb'"
    with pytest.raises(InvalidParameterError) as caught:
        source.execute(sql)
    assert "the folder 'no_such_folder' does not exist" in caught.value.message
    assert caught.value.column == sql.index("'") + 1
    sql = f"EXPORT MODEL m TO '{folder / 'x.pmml'}' WITH (format => 'pmml')"
    with pytest.raises(InvalidParameterError) as caught:
        source.execute(sql)
    assert caught.value.column == sql.index("format") + 1
    with pytest.raises(InvalidParameterError, match="has no option 'colour'"):
        source.execute(f"EXPORT MODEL m TO '{folder / 'x'}' WITH (colour => 'red')")
    with pytest.raises(InvalidParameterError, match="it is a folder"):
        source.execute(f"EXPORT MODEL m TO '{folder}'")
    with pytest.raises(UndefinedModelError, match="model 'nope' does not exist"):
        source.execute(f"EXPORT MODEL nope TO '{folder / 'x'}'")
    assert not (folder / "x").exists() and not (folder / "x.pmml").exists()


@pytest.fixture(scope="module")
def mixed(folder: Path) -> Iterator[paqdb.Connection]:
    """Adult rows to train on, and test rows with NULL numbers, NULL strings and a category never seen."""
    connection = paqdb.connect(str(folder / "mixed.duckdb"), autocommit=True)
    connection.execute("LOAD DATASET adult")
    connection.execute("CREATE TABLE train AS SELECT * FROM adult USING SAMPLE 2000 ROWS (reservoir, 1)")
    connection.execute("CREATE TABLE test AS SELECT * FROM adult USING SAMPLE 400 ROWS (reservoir, 2)")
    connection.execute("UPDATE test SET age = NULL WHERE rowid % 7 = 0")
    connection.execute("UPDATE test SET occupation = NULL WHERE rowid % 5 = 0")
    connection.execute("UPDATE test SET workclass = 'never seen' WHERE rowid % 6 = 0")
    yield connection
    connection.close()


def _onnx_run(con: paqdb.Connection, model: str, path: Path) -> tuple[list[Any], Any, Any]:
    """The ONNX graph's outputs on the test rows (the columns as paqdb casts them; NULL as NaN or '')."""
    import onnxruntime

    from paqdb.planner.typing import feature_column

    features = [feature_column(c) for c in con.session.models.record(model).features]
    columns = ", ".join(f'{f.expression} AS "{f.name}"' for f in features if f is not None)
    table = con.execute(f"SELECT {columns} FROM test ORDER BY rowid").fetch_arrow_table()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {}
    for graph_input in session.get_inputs():
        values = table.column(graph_input.name).to_pylist()
        if graph_input.type == "tensor(string)":
            feed[graph_input.name] = np.array(["" if v is None else v for v in values], dtype=object)
        else:
            feed[graph_input.name] = np.array([np.nan if v is None else float(v) for v in values])
        feed[graph_input.name] = feed[graph_input.name].reshape(-1, 1)
    return session.run(None, feed), table, session


@pytest.mark.parametrize("family", ["logistic", "linear_svm", "random_forest", "mlp"])
def test_onnx_export_predicts_as_paqdb_with_nulls_and_unseen_values(
    mixed: paqdb.Connection, folder: Path, family: str
) -> None:
    name = f"onnx_{family}"
    mixed.execute(
        f"CREATE MODEL {name} PREDICT income FROM train USING SEARCH (families => ['{family}'], "
        "budget => '1 trials')"
    )
    path = folder / f"{name}.onnx"
    row = mixed.execute(f"EXPORT MODEL {name} TO '{path}' WITH (format => 'onnx')").fetchone()
    assert row is not None and row[3] == "onnx" and row[4] == path.stat().st_size
    (labels, probabilities), table, session = _onnx_run(mixed, name, path)
    assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
    expected = [
        r[0] for r in mixed.execute(f"SELECT PREDICT(income USING MODEL {name}) FROM test ORDER BY rowid")
    ]
    model = mixed.session.models.load(name).model
    reference = model.predict_probabilities(model.featurize(table))
    # A forest's vote can tie exactly (0.5, 0.5); float32 sums break such ties either way.
    decided = np.abs(reference[:, 0] - reference[:, 1]) > 1e-6
    assert decided.sum() > 350
    assert list(np.asarray(labels)[decided]) == list(np.asarray(expected, dtype=object)[decided])
    if family != "linear_svm":  # LinearSVC's graph returns its decision scores, not probabilities
        np.testing.assert_allclose(probabilities, reference, atol=1e-4)


def test_onnx_export_of_a_regression_gives_the_estimators_values(
    mixed: paqdb.Connection, folder: Path
) -> None:
    mixed.execute(
        "CREATE MODEL onnx_ridge PREDICT hours_per_week FROM (SELECT * EXCLUDE (hours_per_week), "
        "hours_per_week::DOUBLE AS hours_per_week FROM train) USING SEARCH (families => ['ridge'], "
        "budget => '1 trials')"
    )
    path = folder / "ridge.onnx"
    mixed.execute(f"EXPORT MODEL onnx_ridge TO '{path}' WITH (format => 'onnx')")
    (values,), _, _ = _onnx_run(mixed, "onnx_ridge", path)
    expected = [
        r[0]
        for r in mixed.execute(
            "SELECT PREDICT(hours_per_week USING MODEL onnx_ridge) FROM test ORDER BY rowid"
        )
    ]
    np.testing.assert_allclose(np.asarray(values).ravel(), expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("family", ["gradient_boosting", "kernel_approximation"])
def test_onnx_export_of_a_family_that_does_not_convert_is_refused_at_the_option(
    source: paqdb.Connection, folder: Path, family: str
) -> None:
    source.execute(
        f"CREATE OR REPLACE MODEL {family} PREDICT species FROM iris USING SEARCH (families => ['{family}'], "
        "budget => '1 trials')"
    )
    path = folder / f"{family}.onnx"
    sql = f"EXPORT MODEL {family} TO '{path}' WITH (format => 'onnx')"
    with pytest.raises(NotYetSupportedError) as caught:
        source.execute(sql)
    assert f"family {family} does not convert to ONNX yet" in caught.value.message
    assert caught.value.column == sql.index("format") + 1
    assert caught.value.hint is not None and "format => 'paqdb'" in caught.value.hint
    assert not path.exists()


def test_onnx_export_of_hashed_text_is_refused(mixed: paqdb.Connection, folder: Path) -> None:
    mixed.execute(
        "CREATE MODEL onnx_text PREDICT income FROM train USING SEARCH (families => ['logistic'], "
        "budget => '1 trials', text => ['occupation'])"
    )
    path = folder / "text.onnx"
    with pytest.raises(NotYetSupportedError, match="hashed text column"):
        mixed.execute(f"EXPORT MODEL onnx_text TO '{path}' WITH (format => 'onnx')")
    assert not path.exists()


def test_export_replaces_a_file_whole_and_leaves_no_temporary_file(
    source: paqdb.Connection, folder: Path
) -> None:
    path = folder / "again.paqdb"
    path.write_bytes(b"old content")
    source.execute(f"EXPORT MODEL m VERSION 1 TO '{path}'")
    assert _manifest(path)["model"]["version"] == 1
    assert not [p for p in os.listdir(folder) if p.endswith(".tmp")]


def test_python_functions_export_and_import(
    source: paqdb.Connection, target: paqdb.Connection, folder: Path
) -> None:
    path = folder / "python.paqdb"
    written = model_files.export_model(source.session.models, "m", path, version=1)
    assert written == path.stat().st_size
    saved, trials = model_files.import_file(target.session.models, "copied", path)
    assert (saved.name, saved.version, saved.family, trials) == ("copied", 1, "logistic", 1)
    assert _predictions(target, "copied") == _predictions(source, "m VERSION 1")
