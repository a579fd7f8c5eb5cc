"""The model store: load, save, list, describe and drop models, with decoded models cached by identity.

Everything that reads or writes a model goes through :class:`ModelStore`: the planner, and a server or a
DuckDB function that scores a model without parsing SQL. It reaches the data only through an
:class:`~paqdb.engines.base.Engine` and the catalog (:class:`~paqdb.catalog.store.ModelCatalog`), and
imports neither the planner nor the search; scikit-learn and skops load only when a model is decoded or
saved, so importing the store is cheap.

A model version's identity is its artifact's sha256 (:attr:`ModelRecord.identity`). It never names two
different artifacts, so decoded models are cached under it (:class:`ModelCache`) and a cached model can
never be stale: a model dropped and re-created, or replaced by a new version, has a new identity. A
statement reads a model's record once (:meth:`ModelStore.record`, metadata only) and then gets the
decoded model with :meth:`ModelStore.load_record`, which reads the artifact only when its identity is
not cached yet.

>>> from paqdb.engines.duckdb import DuckDBEngine
>>> store = ModelStore(DuckDBEngine(":memory:"))
>>> store.names()
[]
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from paqdb.catalog.store import OUTCOMES, ModelCatalog, ModelRecord, TrialRecord
from paqdb.engines.base import Column, Engine
from paqdb.errors import CatalogError, InvalidParameterError

if TYPE_CHECKING:
    from paqdb.ml.model import TrainedModel

#: The artifact format the store writes (``paqdb.artifacts.format``): a :meth:`TrainedModel.to_bytes` archive.
ARTIFACT_FORMAT = "paqdb-model-v1"

#: Default bounds of a store's own cache: a few models, and their artifacts' stored sizes in bytes.
DEFAULT_CACHE_MODELS = 8
DEFAULT_CACHE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class LoadedModel:
    """A model version's catalog record (metadata, without the artifact bytes) and the decoded model."""

    record: ModelRecord
    model: TrainedModel

    @property
    def name(self) -> str:
        """The model's name as the catalog spells it."""
        return self.record.name

    @property
    def version(self) -> int:
        """The version that was loaded."""
        return self.record.version

    @property
    def identity(self) -> str:
        """The version's immutable identity (its artifact's sha256)."""
        return self.record.identity


@dataclass
class _Entry:
    model: TrainedModel
    size: int
    name: str  # lower-case model name, so DROP MODEL can free the memory at once


class ModelCache:
    """Decoded models by identity; the least recently used go first when a bound is passed.

    Bounded by the number of models and by the stored size of their artifacts (a decoded model takes
    a few times that, trees compress well). The model used last always stays, even alone over the
    byte bound, so repeated statements on one large model do not decode it each time.

    One cache may serve several stores and several databases (a server's connections): an identity is
    a content hash, so one key always means one model. Thread-safe.

    >>> cache = ModelCache(max_models=1)
    >>> cache.put("a" * 64, "model a", size=10, name="a")
    >>> cache.put("b" * 64, "model b", size=10, name="b")
    >>> cache.get("a" * 64) is None, cache.get("b" * 64)
    (True, 'model b')
    """

    def __init__(self, max_models: int = DEFAULT_CACHE_MODELS, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if max_models < 1 or max_bytes < 0:
            raise InvalidParameterError(
                f"a model cache needs max_models >= 1 and max_bytes >= 0, got {max_models} and {max_bytes}"
            )
        self.max_models = max_models
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        #: lookups that found a model, and lookups that did not
        self.hits = 0
        self.misses = 0

    def get(self, identity: str) -> Any:
        """The decoded model with this identity, or None when it is not cached."""
        with self._lock:
            entry = self._entries.get(identity)
            if entry is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(identity)
            return entry.model

    def put(self, identity: str, model: Any, *, size: int, name: str) -> None:
        """Keep ``model`` under ``identity`` (``size``: its artifact's bytes; ``name``: its model's)."""
        with self._lock:
            old = self._entries.pop(identity, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[identity] = _Entry(model, size, name.lower())
            self._bytes += size
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_models or self._bytes > self.max_bytes
            ):
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    def discard_name(self, name: str) -> None:
        """Forget every cached version of model ``name`` (after DROP MODEL: only frees memory, since a
        dropped model's identities are never looked up again)."""
        with self._lock:
            for identity in [i for i, e in self._entries.items() if e.name == name.lower()]:
                self._bytes -= self._entries.pop(identity).size

    def clear(self) -> None:
        """Forget every cached model."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def size_bytes(self) -> int:
        """The stored size of the cached models' artifacts."""
        return self._bytes

    def __contains__(self, identity: object) -> bool:
        return identity in self._entries

    def __len__(self) -> int:
        return len(self._entries)


class ModelStore:
    """Loads, saves, lists, describes and drops the models of one database, through its engine.

    Args:
        engine: the database's engine (any :class:`~paqdb.engines.base.Engine`).
        cache: where decoded models are kept; by default a cache of this store's own
            (:data:`DEFAULT_CACHE_MODELS` models, :data:`DEFAULT_CACHE_BYTES` bytes). Pass one cache to
            several stores to share decoded models between connections.

    Every error is a :class:`paqdb.errors.Error`: :class:`~paqdb.errors.UndefinedModelError`,
    :class:`~paqdb.errors.DuplicateModelError`, :class:`~paqdb.errors.CatalogError` for a damaged or
    changed catalog, :class:`~paqdb.errors.ArtifactError` for an artifact the safe loader refuses.
    """

    def __init__(self, engine: Engine, *, cache: ModelCache | None = None) -> None:
        self.engine = engine
        self.catalog = ModelCatalog(engine)
        self.cache = cache if cache is not None else ModelCache()

    # -- reads ----------------------------------------------------------------------------------------

    def record(self, name: str, version: int | None = None) -> ModelRecord:
        """The metadata of model ``name`` at ``version`` (default: current), without the artifact bytes.

        One read of the model's catalog rows; bind a statement with it, then get the model with
        :meth:`load_record`.

        Raises:
            UndefinedModelError: there is no such model or version.
            CatalogError: the model's catalog rows are damaged.
        """
        return self.catalog.get(name, version=_version(version), with_artifact=False)

    def load(self, name: str, version: int | None = None) -> LoadedModel:
        """Model ``name`` at ``version`` (default: current): its record and the decoded model.

        Reads the record; when the record's identity is cached, nothing else (no artifact read, no
        decoding); otherwise reads the artifact once, checks its hash and decodes it safely.

        Raises:
            UndefinedModelError: there is no such model or version.
            CatalogError: the model's catalog rows are damaged.
            ArtifactError: the artifact is refused (hash mismatch, corrupt, a type not allowed).
        """
        return self.load_record(self.record(name, version))

    def load_record(self, record: ModelRecord) -> LoadedModel:
        """The decoded model of a record read before (by :meth:`record`, :meth:`save` or the catalog).

        From the cache when the record's identity is there (no engine call); else from the record's own
        artifact bytes when it carries them, or from one read of the artifact of exactly that identity.

        Raises:
            CatalogError: that identity's artifact is no longer in the catalog (the model was dropped or
                replaced since the record was read), or the record has no identity.
            ArtifactError: the artifact is refused.
        """
        identity = record.identity
        if not identity:
            raise CatalogError(
                f"model '{record.name}' version {record.version} has no artifact identity",
                hint="read the record from the model store",
            )
        model = self.cache.get(identity)
        if model is None:
            data = record.artifact or self.catalog.artifact(record.name, record.version, identity)
            from paqdb.ml.model import TrainedModel  # scikit-learn: only when a model is decoded

            model = TrainedModel.from_bytes(data, expected_sha256=identity, name=record.name)
            self.cache.put(identity, model, size=len(data), name=record.name)
        if record.artifact:
            record = dataclasses.replace(record, artifact=b"")  # the bytes stay with the catalog
        return LoadedModel(record, model)

    def exists(self, name: str) -> bool:
        """True when a model called ``name`` exists (names compare case-insensitively)."""
        return self.catalog.exists(name)

    def names(self) -> builtins.list[str]:
        """The names of all models, sorted."""
        return self.catalog.names()

    def versions(self, name: str) -> builtins.list[int]:
        """The versions of model ``name`` still stored, oldest first (empty for an unknown model)."""
        return self.catalog.versions(name)

    def list(self) -> pa.Table:
        """SHOW MODELS: one row per model, its current version's metadata."""
        return self.catalog.list_models()

    def describe(self, name: str, version: int | None = None) -> pa.Table:
        """DESCRIBE MODEL: the search trials of model ``name`` at ``version`` (default: current).

        Raises:
            UndefinedModelError: there is no such model or version.
        """
        return self.catalog.trials(name, version=_version(version))

    # -- writes ---------------------------------------------------------------------------------------

    def save(
        self,
        model: TrainedModel,
        *,
        name: str,
        label: str,
        label_type: str,
        features: Sequence[Column],
        metric: str,
        validation_score: float | None,
        train_rows: int,
        trials: Iterable[TrialRecord] = (),
        search: Mapping[str, Any] | None = None,
        source_sql: str = "",
        outcome: str = "complete",
        notes: str = "",
        replace: bool = False,
    ) -> ModelRecord:
        """Write ``model`` as a new version of model ``name``: its metadata, its trials (in one batch)
        and its artifact, in the caller's open transaction or, without one, in a transaction of its own.

        ``label_type`` and ``features`` are SQL types (what PREDICT binds against); task, family and
        hyperparameters come from ``model``. The saved model goes into the cache, so the next
        statement that uses it does not decode it again.

        Returns:
            The saved version's record (without the artifact bytes): its version number and identity.

        Raises:
            DuplicateModelError: the model exists and ``replace`` is False.
            InvalidParameterError: ``outcome`` is not one of :data:`paqdb.catalog.store.OUTCOMES`.
        """
        if outcome not in OUTCOMES:
            raise InvalidParameterError(
                f"a model's search outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}"
            )
        artifact = model.to_bytes()
        record = ModelRecord(
            name=name,
            version=0,
            task=model.task,
            label=label,
            label_type=label_type,
            features=builtins.list(features),
            family=model.family,
            hyperparameters=dict(model.hyperparameters),
            metric=metric,
            validation_score=validation_score,
            train_rows=train_rows,
            search=dict(search or {}),
            source_sql=source_sql,
            artifact_format=ARTIFACT_FORMAT,
            artifact=artifact,
            outcome=outcome,
            notes=notes,
        )
        version = self.catalog.save(record, builtins.list(trials), replace=replace)
        saved = dataclasses.replace(
            record, version=version, artifact=b"", sha256=hashlib.sha256(artifact).hexdigest()
        )
        # Cached even if the caller's transaction rolls back later: an identity names these exact
        # bytes, so the entry can never be mistaken for another model, only go unused.
        self.cache.put(saved.identity, model, size=len(artifact), name=name)
        return saved

    def drop(self, name: str, *, if_exists: bool = False) -> bool:
        """Delete model ``name`` with all its versions, trials and artifacts; return whether it existed.

        Raises:
            UndefinedModelError: there is no such model and ``if_exists`` is False.
        """
        dropped = self.catalog.drop(name, if_exists=if_exists)
        if dropped:
            self.cache.discard_name(name)
        return dropped


def _version(version: int | None) -> int | None:
    """A version number as given, checked: a positive integer, or None for the current version."""
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidParameterError(
            f"a model version is a positive integer, not {version!r}",
            hint="omit the version to use the model's current one",
        )
    return version


__all__ = [
    "ARTIFACT_FORMAT",
    "DEFAULT_CACHE_BYTES",
    "DEFAULT_CACHE_MODELS",
    "LoadedModel",
    "ModelCache",
    "ModelStore",
]
