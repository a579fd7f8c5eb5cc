"""The model store (issue 9, item 4): loads, saves, lists, describes and drops models through an engine,
caches decoded models by identity, and imports neither the planner nor the search."""

from __future__ import annotations

import doctest
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from paqdb.catalog.store import TrialRecord
from paqdb.engines.base import Column, ExecResult
from paqdb.engines.duckdb import DuckDBEngine
from paqdb.errors import (
    ArtifactError,
    CatalogError,
    DuplicateModelError,
    Error,
    InvalidParameterError,
    UndefinedModelError,
)
from paqdb.ml.model import TrainedModel
from paqdb.ml.training import train_model
from paqdb.models import store as store_module
from paqdb.models.store import ARTIFACT_FORMAT, LoadedModel, ModelCache, ModelStore

ROOT = Path(__file__).resolve().parents[2]

TABLE = pa.table(
    {
        "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        "z": [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4],
        "y": ["a", "a", "a", "b", "a", "b", "b", "b"],
    }
)
FEATURES = [Column("x", "DOUBLE"), Column("z", "DOUBLE")]
NEW_ROWS = [pa.array([1.5, 7.5, 4.0]), pa.array([0.2, 0.6, 0.5])]


class CountingEngine:
    """A real engine that records every call that reaches the database (not a mock: it delegates)."""

    def __init__(self, engine: DuckDBEngine) -> None:
        self.inner = engine
        self.calls: list[str] = []

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> ExecResult:
        self.calls.append(sql)
        return self.inner.execute(sql, parameters)

    def query_arrow(self, sql: str) -> pa.Table:
        self.calls.append(sql)
        return self.inner.query_arrow(sql)

    def relation_exists(self, name: str) -> bool:
        self.calls.append(f"relation_exists({name})")
        return self.inner.relation_exists(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def artifact_reads(self) -> list[str]:
        """The calls that read artifact bytes (the only large column of the catalog)."""
        return [sql for sql in self.calls if "a.data" in sql or "SELECT data FROM" in sql]


def _model(family: str = "logistic") -> TrainedModel:
    return train_model(TABLE, "y", family=family)


def _trials(count: int) -> list[TrialRecord]:
    return [
        TrialRecord(
            trial=i,
            family="logistic",
            hyperparameters={"C": 10.0**i},
            resources={"rows": 8},
            metric="accuracy",
            validation_score=0.5 + i / 10,
            status="ok",
            seconds=0.01,
        )
        for i in range(count)
    ]


def _save(store: ModelStore, model: TrainedModel, name: str = "m", **fields: Any) -> Any:
    arguments: dict[str, Any] = {
        "name": name,
        "label": "y",
        "label_type": "VARCHAR",
        "features": FEATURES,
        "metric": "accuracy",
        "validation_score": 0.75,
        "train_rows": TABLE.num_rows,
        "trials": _trials(3),
        "search": {"families": ["logistic"], "budget": "3 trials"},
        "source_sql": "CREATE MODEL m PREDICT y FROM t",
    }
    arguments.update(fields)
    return store.save(model, **arguments)


def _predict(model: TrainedModel) -> list[Any]:
    return model.predict_arrow(NEW_ROWS)[0].to_pylist()


@pytest.fixture(params=["memory", "file"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DuckDBEngine]:
    database = ":memory:" if request.param == "memory" else str(tmp_path / "models.duckdb")
    engine = DuckDBEngine(database)
    yield engine
    engine.close()


def test_round_trip(engine: DuckDBEngine) -> None:
    store = ModelStore(engine)
    model = _model()
    saved = _save(store, model)
    assert (saved.name, saved.version, saved.family, saved.task) == ("m", 1, "logistic", "classification")
    assert len(saved.identity) == 64 and saved.artifact == b""
    assert saved.artifact_format == ARTIFACT_FORMAT

    record = store.record("M")  # names compare case-insensitively
    assert record.identity == saved.identity and record.artifact == b""
    assert record.features == FEATURES and record.label_type == "VARCHAR"
    assert record.search == {"families": ["logistic"], "budget": "3 trials"}

    # A fresh store (an empty cache) decodes the stored artifact; it scores as the trained model does.
    loaded = ModelStore(engine).load("m")
    assert isinstance(loaded, LoadedModel)
    assert loaded.model is not model and loaded.identity == saved.identity and loaded.version == 1
    assert _predict(loaded.model) == _predict(model)

    shown = store.list()
    assert shown.column("name").to_pylist() == ["m"] and shown.column("version").to_pylist() == [1]
    trials = store.describe("m")
    assert trials.column("trial").to_pylist() == [0, 1, 2]
    assert trials.column("score").to_pylist() == pytest.approx([0.5, 0.6, 0.7])
    assert store.names() == ["m"] and store.exists("m")

    assert store.drop("m") is True
    assert store.names() == [] and not store.exists("m")
    assert store.list().num_rows == 0
    with pytest.raises(UndefinedModelError):
        store.load("m")
    with pytest.raises(UndefinedModelError):
        store.drop("m")
    assert store.drop("m", if_exists=True) is False


def test_versions_replace_and_older_versions(engine: DuckDBEngine) -> None:
    store = ModelStore(engine)
    first = _save(store, _model("logistic"))
    with pytest.raises(DuplicateModelError) as duplicate:
        _save(store, _model("random_forest"))
    assert "CREATE OR REPLACE MODEL" in (duplicate.value.hint or "")
    second = _save(store, _model("random_forest"), replace=True, trials=_trials(2))
    assert (second.version, store.versions("m")) == (2, [1, 2])
    assert store.load("m").model.family == "random_forest"
    older = ModelStore(engine).load("m", version=1)
    assert (older.version, older.identity, older.model.family) == (1, first.identity, "logistic")
    assert store.describe("m").num_rows == 2
    assert store.describe("m", version=1).num_rows == 3
    with pytest.raises(UndefinedModelError) as missing:
        store.record("m", version=3)
    assert "no version 3" in missing.value.message and "1, 2" in (missing.value.hint or "")
    with pytest.raises(UndefinedModelError):
        store.describe("m", version=3)


def test_a_file_keeps_its_models(tmp_path: Path) -> None:
    path = str(tmp_path / "kept.duckdb")
    model = _model()
    writer = DuckDBEngine(path)
    saved = _save(ModelStore(writer), model)
    writer.close()
    reader = DuckDBEngine(path)
    try:
        loaded = ModelStore(reader).load("m")
        assert loaded.identity == saved.identity
        assert _predict(loaded.model) == _predict(model)
    finally:
        reader.close()


def test_a_cache_hit_reads_only_the_record(engine: DuckDBEngine) -> None:
    _save(ModelStore(engine), _model())
    counting = CountingEngine(engine)
    store = ModelStore(counting)  # type: ignore[arg-type]  # the Engine protocol, through a wrapper

    first = store.load("m")
    assert len(counting.artifact_reads()) == 1

    counting.calls.clear()
    store.record("m")
    record_calls = list(counting.calls)
    assert record_calls and not counting.artifact_reads()

    counting.calls.clear()
    again = store.load("m")
    assert counting.calls == record_calls  # the record's read and nothing else
    assert again.model is first.model  # not decoded again
    assert store.cache.hits >= 1

    # A record the statement already holds costs nothing at all.
    counting.calls.clear()
    assert store.load_record(again.record).model is first.model
    assert counting.calls == []


def test_a_saved_model_is_cached_and_its_trials_are_one_insert(engine: DuckDBEngine) -> None:
    counting = CountingEngine(engine)
    store = ModelStore(counting)  # type: ignore[arg-type]
    model = _model()
    _save(store, model, trials=_trials(7))
    inserts = [sql for sql in counting.calls if sql.startswith("INSERT INTO paqdb.trials")]
    assert len(inserts) == 1
    assert store.describe("m").num_rows == 7
    counting.calls.clear()
    assert store.load("m").model is model
    assert not counting.artifact_reads()


def test_drop_and_recreate_is_a_new_identity(engine: DuckDBEngine) -> None:
    store = ModelStore(engine)
    old = _save(store, _model("logistic"))
    held = store.record("m")
    assert store.load("m").model.family == "logistic"
    store.drop("m")
    assert old.identity not in store.cache

    # The same name, and the same version number, for another model.
    new = _save(ModelStore(engine), _model("random_forest"))
    assert new.version == old.version == 1
    assert new.identity != old.identity
    loaded = store.load("m")
    assert (loaded.identity, loaded.model.family) == (new.identity, "random_forest")

    # A statement that read the record before the DROP does not get the new model under the old record.
    with pytest.raises(CatalogError) as changed:
        store.load_record(held)
    assert "changed while the statement ran" in changed.value.message


def test_a_shared_cache_never_returns_a_dropped_model(engine: DuckDBEngine) -> None:
    """Two connections share one cache; the second drops and re-creates the model under its name."""
    cache = ModelCache()
    reader, writer = ModelStore(engine, cache=cache), ModelStore(engine, cache=cache)
    _save(writer, _model("logistic"))
    assert reader.load("m").model.family == "logistic"
    engine.execute("DELETE FROM paqdb.models")  # a drop the cache does not hear about
    engine.execute("DELETE FROM paqdb.model_versions")
    engine.execute("DELETE FROM paqdb.artifacts")
    _save(ModelStore(engine), _model("random_forest"))
    assert reader.load("m").model.family == "random_forest"


def test_a_rolled_back_transaction_leaves_nothing(engine: DuckDBEngine) -> None:
    store = ModelStore(engine)
    engine.begin()
    saved = _save(store, _model())
    assert store.exists("m") and store.describe("m").num_rows == 3  # visible inside the transaction
    engine.rollback()
    assert not store.exists("m") and store.names() == []
    assert not engine.relation_exists("paqdb.models")  # not even the schema
    with pytest.raises(UndefinedModelError):
        store.load("m")
    with pytest.raises(CatalogError):
        store.catalog.artifact("m", 1, saved.identity)
    assert _save(store, _model()).version == 1


def test_a_save_joins_the_callers_transaction_which_commits(engine: DuckDBEngine) -> None:
    store = ModelStore(engine)
    engine.begin()
    engine.execute("CREATE TABLE t AS SELECT 1 AS x")
    _save(store, _model())
    assert engine.in_transaction  # the store did not commit the caller's transaction
    engine.commit()
    assert store.exists("m") and engine.relation_exists("t")


def test_a_tampered_artifact_is_refused(engine: DuckDBEngine) -> None:
    _save(ModelStore(engine), _model())
    engine.execute("UPDATE paqdb.artifacts SET data = 'not a model'::BLOB")
    with pytest.raises(ArtifactError) as refused:
        ModelStore(engine).load("m")
    assert "'m'" in refused.value.message


@pytest.mark.parametrize("version", [0, -1, True, 1.0, "1"])
def test_a_version_is_a_positive_integer(engine: DuckDBEngine, version: Any) -> None:
    store = ModelStore(engine)
    with pytest.raises(InvalidParameterError):
        store.record("m", version)


def test_errors_are_paqdb_errors(engine: DuckDBEngine) -> None:
    store = ModelStore(engine)
    with pytest.raises(UndefinedModelError) as unknown:
        store.load("nothing")
    assert unknown.value.hint
    with pytest.raises(Error):
        store.describe("nothing")
    with pytest.raises(InvalidParameterError):
        _save(store, _model(), outcome="finished")
    assert not store.exists("m")
    with pytest.raises(InvalidParameterError):
        ModelCache(max_models=0)


def test_the_cache_is_bounded() -> None:
    cache = ModelCache(max_models=2, max_bytes=100)
    cache.put("a", "A", size=40, name="one")
    cache.put("b", "B", size=40, name="one")
    assert cache.get("a") == "A"  # now the most recently used
    cache.put("c", "C", size=10, name="two")  # over two models: "b", the least recently used, goes
    assert ("a" in cache, "b" in cache, "c" in cache) == (True, False, True)
    cache.put("d", "D", size=500, name="two")  # alone over the byte bound: kept, everything else goes
    assert (len(cache), cache.get("d"), cache.size_bytes) == (1, "D", 500)
    cache.put("e", "E", size=1, name="one")
    assert ("d" in cache, "e" in cache) == (False, True)
    cache.discard_name("ONE")
    assert len(cache) == 0 and cache.size_bytes == 0
    assert cache.misses == 0 and cache.hits == 2


def test_the_store_module_examples() -> None:
    result = doctest.testmod(store_module)
    assert result.attempted >= 2 and result.failed == 0


def test_the_store_imports_neither_planner_nor_search() -> None:
    """Issue 9's done-when: a server or a DuckDB function can use the store without the planner, the
    search or scikit-learn (checked in a fresh interpreter, through ``sys.modules``)."""
    code = (
        "import sys, paqdb.models.store\n"
        "heavy = ('paqdb.planner', 'paqdb.search', 'sklearn', 'scipy', 'skops', 'optuna')\n"
        "print(' '.join(sorted(m for m in sys.modules if m in heavy)))\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('paqdb.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    forbidden, paqdb_modules = [*result.stdout.splitlines(), "", ""][:2]
    assert forbidden.split() == [], (
        f"importing paqdb.models.store loaded {forbidden}; its paqdb modules: {paqdb_modules}"
    )
