"""The model catalog: models, their versions, search trials and artifacts in a ``paqdb`` schema.

The catalog lives in the same database as the data, so a database file carries its models. Everything
a CREATE MODEL records is written inside one transaction (:meth:`ModelCatalog.save`), so a failure or a
killed process leaves no half-created model. The schema is created on the first write: opening a plain
DuckDB file with paqdb changes nothing.

The catalog stores artifacts as opaque bytes; turning them back into models is the planner's job.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from paqdb.engines.base import Column, Engine
from paqdb.errors import DuplicateModelError, UndefinedModelError

SCHEMA = "paqdb"

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.models (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.model_versions (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    task VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    label_type VARCHAR NOT NULL,
    features VARCHAR NOT NULL,
    family VARCHAR NOT NULL,
    hyperparameters VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    validation_score DOUBLE,
    train_rows BIGINT NOT NULL,
    search VARCHAR NOT NULL,
    source_sql VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.trials (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    trial INTEGER NOT NULL,
    family VARCHAR NOT NULL,
    hyperparameters VARCHAR NOT NULL,
    resources VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    validation_score DOUBLE,
    status VARCHAR NOT NULL,
    seconds DOUBLE NOT NULL,
    error VARCHAR
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.artifacts (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    format VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    data BLOB NOT NULL
);
"""


@dataclass
class TrialRecord:
    """One search trial as the catalog keeps it."""

    trial: int
    family: str
    hyperparameters: dict[str, Any]
    resources: dict[str, Any]
    metric: str
    validation_score: float | None
    status: str
    seconds: float
    error: str | None = None


@dataclass
class ModelRecord:
    """A model version's metadata, and (when loaded) its artifact bytes."""

    name: str
    version: int
    task: str
    label: str
    label_type: str
    features: list[Column]
    family: str
    hyperparameters: dict[str, Any]
    metric: str
    validation_score: float | None
    train_rows: int
    search: dict[str, Any] = field(default_factory=dict)
    source_sql: str = ""
    artifact_format: str = ""
    artifact: bytes = b""
    sha256: str = ""


class ModelCatalog:
    """Reads and writes the ``paqdb`` schema through an :class:`~paqdb.engines.base.Engine`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _initialised(self) -> bool:
        return self.engine.relation_exists(f"{SCHEMA}.models")

    def _ensure_schema(self) -> None:
        for statement in _DDL.split(";"):
            if statement.strip():
                self.engine.execute(statement)

    def _scalar(self, sql: str, parameters: list[Any]) -> Any:
        table = self.engine.execute(sql, parameters).table
        return table.column(0)[0].as_py() if table is not None and table.num_rows else None

    # -- reads ----------------------------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        """True when a model called ``name`` exists (names compare case-insensitively, like DuckDB's)."""
        return self.current_version(name) is not None

    def current_version(self, name: str) -> int | None:
        """The version PREDICT ... USING MODEL uses, or None when there is no such model."""
        if not self._initialised():
            return None
        version = self._scalar(f"SELECT version FROM {SCHEMA}.models WHERE lower(name) = lower(?)", [name])
        return int(version) if version is not None else None

    def names(self) -> list[str]:
        """Names of all models, sorted."""
        if not self._initialised():
            return []
        table = self.engine.execute(f"SELECT name FROM {SCHEMA}.models ORDER BY name").table
        return [str(v) for v in table.column(0).to_pylist()] if table is not None else []

    def get(self, name: str, *, with_artifact: bool = True) -> ModelRecord:
        """The current version of model ``name``.

        Raises:
            UndefinedModelError: there is no such model.
        """
        version = self.current_version(name)
        if version is None:
            raise self._undefined(name)
        table = self.engine.execute(
            f"""SELECT v.name, v.version, task, label, label_type, features, family, hyperparameters,
                       metric, validation_score, train_rows, search, source_sql
                FROM {SCHEMA}.model_versions v
                WHERE lower(v.name) = lower(?) AND v.version = ?""",
            [name, version],
        ).table
        assert table is not None and table.num_rows == 1, "catalog row missing for a listed model"
        row = {k: v[0] for k, v in table.to_pydict().items()}
        record = ModelRecord(
            name=row["name"],
            version=int(row["version"]),
            task=row["task"],
            label=row["label"],
            label_type=row["label_type"],
            features=[Column(c["name"], c["type"]) for c in json.loads(row["features"])],
            family=row["family"],
            hyperparameters=json.loads(row["hyperparameters"]),
            metric=row["metric"],
            validation_score=row["validation_score"],
            train_rows=int(row["train_rows"]),
            search=json.loads(row["search"]),
            source_sql=row["source_sql"],
        )
        if with_artifact:
            artifact = self.engine.execute(
                f"SELECT format, sha256, data FROM {SCHEMA}.artifacts "
                "WHERE lower(name) = lower(?) AND version = ?",
                [name, version],
            ).table
            assert artifact is not None and artifact.num_rows == 1, "artifact missing for a listed model"
            record.artifact_format = artifact.column("format")[0].as_py()
            record.sha256 = artifact.column("sha256")[0].as_py()
            record.artifact = artifact.column("data")[0].as_py()
        return record

    def list_models(self) -> pa.Table:
        """SHOW MODELS: one row per model, its current version's metadata."""
        if not self._initialised():
            return pa.table(
                {
                    "name": pa.array([], pa.string()),
                    "version": pa.array([], pa.int32()),
                    "task": pa.array([], pa.string()),
                    "label": pa.array([], pa.string()),
                    "family": pa.array([], pa.string()),
                    "metric": pa.array([], pa.string()),
                    "validation_score": pa.array([], pa.float64()),
                    "train_rows": pa.array([], pa.int64()),
                    "created_at": pa.array([], pa.timestamp("us")),
                }
            )
        return self.engine.query_arrow(
            f"""SELECT m.name, m.version, v.task, v.label, v.family, v.metric, v.validation_score,
                       v.train_rows, v.created_at
                FROM {SCHEMA}.models m JOIN {SCHEMA}.model_versions v
                  ON v.name = m.name AND v.version = m.version
                ORDER BY m.name"""
        )

    def trials(self, name: str) -> pa.Table:
        """DESCRIBE MODEL: one row per search trial of the current version."""
        version = self.current_version(name)
        if version is None:
            raise self._undefined(name)
        escaped = name.replace("'", "''")
        return self.engine.query_arrow(
            f"""SELECT trial, family, hyperparameters, resources, metric, validation_score, status,
                       round(seconds, 3) AS seconds, error
                FROM {SCHEMA}.trials
                WHERE lower(name) = lower('{escaped}') AND version = {version}
                ORDER BY trial"""
        )

    # -- writes ---------------------------------------------------------------------------------------

    def save(
        self,
        record: ModelRecord,
        trials: list[TrialRecord],
        *,
        replace: bool = False,
    ) -> int:
        """Write a model version, its trials and its artifact in one transaction; return the version.

        Raises:
            DuplicateModelError: the model exists and ``replace`` is False.
        """
        with self.engine.transaction():
            self._ensure_schema()
            current = self.current_version(record.name)
            if current is not None and not replace:
                raise DuplicateModelError(
                    f"model '{record.name}' already exists",
                    hint=f"use CREATE OR REPLACE MODEL {record.name} ... to train a new version, "
                    f"or DROP MODEL {record.name} first",
                )
            latest = self._scalar(
                f"SELECT max(version) FROM {SCHEMA}.model_versions WHERE lower(name) = lower(?)",
                [record.name],
            )
            version = int(latest or 0) + 1
            features = json.dumps([{"name": c.name, "type": c.type} for c in record.features])
            self.engine.execute(
                f"INSERT INTO {SCHEMA}.model_versions VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp::TIMESTAMP)",
                [
                    record.name,
                    version,
                    record.task,
                    record.label,
                    record.label_type,
                    features,
                    record.family,
                    json.dumps(record.hyperparameters, default=str),
                    record.metric,
                    record.validation_score,
                    record.train_rows,
                    json.dumps(record.search, default=str),
                    record.source_sql,
                ],
            )
            for t in trials:
                self.engine.execute(
                    f"INSERT INTO {SCHEMA}.trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        record.name,
                        version,
                        t.trial,
                        t.family,
                        json.dumps(t.hyperparameters, default=str),
                        json.dumps(t.resources, default=str),
                        t.metric,
                        t.validation_score,
                        t.status,
                        t.seconds,
                        t.error,
                    ],
                )
            self.engine.execute(
                f"INSERT INTO {SCHEMA}.artifacts VALUES (?, ?, ?, ?, ?, ?)",
                [
                    record.name,
                    version,
                    record.artifact_format,
                    hashlib.sha256(record.artifact).hexdigest(),
                    len(record.artifact),
                    record.artifact,
                ],
            )
            self.engine.execute(f"DELETE FROM {SCHEMA}.models WHERE lower(name) = lower(?)", [record.name])
            self.engine.execute(
                f"INSERT INTO {SCHEMA}.models VALUES (?, ?, current_timestamp::TIMESTAMP)",
                [record.name, version],
            )
        return version

    def drop(self, name: str, *, if_exists: bool = False) -> bool:
        """Delete a model with all its versions, trials and artifacts; return whether it existed."""
        if not self.exists(name):
            if if_exists:
                return False
            raise self._undefined(name)
        with self.engine.transaction():
            for table in ("models", "model_versions", "trials", "artifacts"):
                self.engine.execute(f"DELETE FROM {SCHEMA}.{table} WHERE lower(name) = lower(?)", [name])
        return True

    def _undefined(self, name: str) -> UndefinedModelError:
        known = self.names()
        hint = (
            f"known models: {', '.join(known)}"
            if known
            else "create one with CREATE MODEL <name> PREDICT ..."
        )
        return UndefinedModelError(f"model '{name}' does not exist", hint=hint)
