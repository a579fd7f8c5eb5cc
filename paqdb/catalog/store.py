"""The model catalog: models, their versions, search trials and artifacts in a ``paqdb`` schema.

The catalog lives in the same database as the data, so a database file carries its models. Everything
a CREATE MODEL records is written inside one transaction (:meth:`ModelCatalog.save`), so a failure or a
killed process leaves no half-created model. The schema is created on the first write: opening a plain
DuckDB file with paqdb changes nothing.

The catalog stores artifacts as opaque bytes, each with its sha256; turning them back into models (after
checking that hash) is the model loader's job. The hash is also the model's immutable identity: a
re-created model with a reused name and version number still has a different one, so nothing cached by it
can go stale.

A catalog edited by hand (a missing artifact, a version that points nowhere, JSON that does not parse) is
reported as a :class:`~paqdb.errors.CatalogError` naming the model and what is wrong, never as a traceback.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pyarrow as pa

from paqdb.engines.base import Column, Engine, ExecResult, render
from paqdb.errors import CatalogError, DuplicateModelError, UndefinedModelError

SCHEMA = "paqdb"

#: How a model's search ended (``paqdb.model_versions.outcome``).
OUTCOMES = ("complete", "interrupted", "time budget reached", "trial budget reached")

_T = TypeVar("_T")

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
ALTER TABLE {SCHEMA}.model_versions ADD COLUMN IF NOT EXISTS outcome VARCHAR DEFAULT 'complete';
ALTER TABLE {SCHEMA}.model_versions ADD COLUMN IF NOT EXISTS notes VARCHAR DEFAULT '';
"""
# The two ALTERs bring a catalog written by paqdb 0.1 up to date on its first write; reads of such a file
# (it may be opened read-only) fall back to the defaults.


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

    @classmethod
    def of(cls, trial: Any) -> TrialRecord:
        """The catalog's record of a search's trial (a :class:`paqdb.search.base.Trial`; the catalog sits
        below the search, so it reads the fields by name)."""
        return cls(
            trial=trial.trial_id,
            family=trial.family,
            hyperparameters=dict(trial.hyperparameters),
            resources=dict(trial.resources),
            metric=trial.metric,
            validation_score=trial.validation_score,
            status=trial.status,
            seconds=trial.seconds,
            error=trial.error,
        )


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
    #: how the search ended: one of :data:`OUTCOMES`
    outcome: str = "complete"
    #: what people should know about the search (families that got no time, budget overshoot ...)
    notes: str = ""

    @property
    def identity(self) -> str:
        """The model version's immutable identity: its artifact's sha256 (never reused, even after DROP)."""
        return self.sha256


class ModelCatalog:
    """Reads and writes the ``paqdb`` schema through an :class:`~paqdb.engines.base.Engine`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _execute(self, sql: str, parameters: list[Any] | None = None) -> ExecResult:
        """Run a catalog statement, written in the reference dialect, in the engine's dialect."""
        return self.engine.execute(render(sql, self.engine.dialect), parameters)

    def _query(self, sql: str) -> pa.Table:
        return self.engine.query_arrow(render(sql, self.engine.dialect))

    def _initialised(self) -> bool:
        return self.engine.relation_exists(f"{SCHEMA}.models")

    def _has_outcome(self) -> bool:
        """True when ``model_versions`` has the ``outcome``/``notes`` columns (catalogs since 0.2)."""
        return bool(
            self._scalar(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = 'model_versions' AND column_name = 'outcome'",
                [SCHEMA],
            )
        )

    def _ensure_schema(self) -> None:
        for statement in _DDL.split(";"):
            if statement.strip():
                self._execute(statement)

    def _scalar(self, sql: str, parameters: list[Any]) -> Any:
        table = self._execute(sql, parameters).table
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
        table = self._execute(f"SELECT name FROM {SCHEMA}.models ORDER BY name").table
        return [str(v) for v in table.column(0).to_pylist()] if table is not None else []

    def get(self, name: str, *, version: int | None = None, with_artifact: bool = True) -> ModelRecord:
        """Model ``name`` at ``version`` (default: its current version), read in one query (its artifact
        bytes when asked). Earlier versions stay in the catalog after CREATE OR REPLACE, until DROP.

        Raises:
            UndefinedModelError: there is no such model, or no such version of it.
            CatalogError: the catalog rows of the model are missing, duplicated or unreadable.
        """
        if not self._initialised():
            raise self._undefined(name)
        data = "a.data" if with_artifact else "NULL"
        wanted = "m.version" if version is None else "?"
        # v.* rather than a column list: a catalog written before outcome and notes existed has neither
        # (and may be open read-only), and reading what is there costs no query to ask.
        table = self._execute(
            f"""SELECT m.name AS found_name, {wanted} AS found_version, a.format AS artifact_format,
                       a.sha256 AS artifact_sha256, {data} AS artifact_data,
                       count(*) OVER () AS matches, v.*
                FROM {SCHEMA}.models m
                LEFT JOIN {SCHEMA}.model_versions v ON lower(v.name) = lower(m.name) AND v.version = {wanted}
                LEFT JOIN {SCHEMA}.artifacts a ON lower(a.name) = lower(m.name) AND a.version = {wanted}
                WHERE lower(m.name) = lower(?)""",
            [name] if version is None else [version, version, version, name],
        ).table
        if table is None or table.num_rows == 0:
            raise self._undefined(name)
        row = {
            name: column[0].as_py() for name, column in zip(table.column_names, table.columns, strict=True)
        }
        found, version, matches = row["found_name"], row["found_version"], row["matches"]
        artifact_format, sha256, artifact = (
            row["artifact_format"],
            row["artifact_sha256"],
            row["artifact_data"],
        )
        has_version = row["version"] is not None
        if matches != 1:
            raise _damaged(found, f"it has {matches} current-version rows or versions in the catalog")
        if not has_version and wanted == "?":
            raise self._no_version(found, int(version))
        if not has_version:
            raise _damaged(found, f"its current version {version} has no row in {SCHEMA}.model_versions")
        if sha256 is None:
            raise _damaged(found, f"version {version} has no artifact in {SCHEMA}.artifacts")
        if with_artifact and artifact is None:
            raise _damaged(found, f"version {version}'s artifact has no data")
        return ModelRecord(
            name=found,
            version=int(version),
            task=row["task"],
            label=row["label"],
            label_type=row["label_type"],
            features=_decode(found, "features", row["features"], _columns),
            family=row["family"],
            hyperparameters=_decode(found, "hyperparameters", row["hyperparameters"], _mapping),
            metric=row["metric"],
            validation_score=row["validation_score"],
            train_rows=int(row["train_rows"]),
            search=_decode(found, "search", row["search"], _mapping),
            source_sql=row["source_sql"],
            artifact_format=artifact_format,
            artifact=bytes(artifact) if with_artifact else b"",
            sha256=sha256,
            outcome=row.get("outcome") or "complete",
            notes=row.get("notes") or "",
        )

    def versions(self, name: str) -> list[int]:
        """The versions of model ``name`` the catalog still holds, oldest first (none for an unknown one)."""
        if not self._initialised():
            return []
        table = self._execute(
            f"SELECT version FROM {SCHEMA}.model_versions WHERE lower(name) = lower(?) ORDER BY version",
            [name],
        ).table
        return [int(v) for v in table.column(0).to_pylist()] if table is not None else []

    def artifact(self, name: str, version: int, sha256: str) -> bytes:
        """The artifact bytes of version ``version`` of model ``name``, read in one query, provided its
        recorded hash is still ``sha256`` (the identity a statement bound).

        Raises:
            CatalogError: that version's artifact is gone or is another one (the model was dropped or
                re-created after the statement read its record), or has no data.
        """
        rows: list[Any] = []
        if self._initialised():
            table = self._execute(
                f"SELECT data FROM {SCHEMA}.artifacts "
                "WHERE lower(name) = lower(?) AND version = ? AND sha256 = ?",
                [name, version, sha256],
            ).table
            rows = table.column(0).to_pylist() if table is not None else []
        if len(rows) != 1:
            raise CatalogError(
                f"model '{name}' version {version} changed while the statement ran",
                hint="run the statement again",
            )
        if rows[0] is None:
            raise _damaged(name, f"version {version}'s artifact has no data")
        return bytes(rows[0])

    def list_models(self) -> pa.Table:
        """SHOW MODELS: one row per model, its current version's metadata; the last column, ``features``,
        lists the features the model reads (name and type) as a JSON value."""
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
                    "outcome": pa.array([], pa.string()),
                    "created_at": pa.array([], pa.timestamp("us")),
                    "features": _json_array([]),
                }
            )
        outcome = "v.outcome" if self._has_outcome() else "'complete'"
        table = self._query(
            f"""SELECT m.name, m.version, v.task, v.label, v.family, v.metric, v.validation_score,
                       v.train_rows, {outcome} AS outcome, v.created_at, v.features
                FROM {SCHEMA}.models m JOIN {SCHEMA}.model_versions v
                  ON v.name = m.name AND v.version = m.version
                ORDER BY m.name"""
        )
        features = table.column("features").to_pylist()
        return table.set_column(table.num_columns - 1, "features", _json_array(features))

    def trials(self, name: str, *, version: int | None = None) -> pa.Table:
        """DESCRIBE MODEL: one row per search trial of the current version (or of ``version``).

        The columns put what people read first: the trial, its family, its fate
        (``finished``, ``stopped`` by the allocation rule, ``cut short`` by the budget, ``failed``), the
        rounds it trained, its validation score (4 significant digits; ``paqdb.trials`` keeps every
        digit), its seconds, and the reason it stopped or failed without the words the fate and rounds
        columns already say. The hyperparameters and resources come last, as JSON values (Arrow's JSON
        extension type, which DuckDB reads as its ``JSON`` type, so ``->>`` and the json functions query
        them).
        """
        current = self.current_version(name)
        if current is None:
            raise self._undefined(name)
        if version is not None and version not in self.versions(name):
            raise self._no_version(name, version)
        version = current if version is None else version
        table = self._execute(
            f"""SELECT trial, family, hyperparameters, resources, validation_score, status, seconds, error
                FROM {SCHEMA}.trials
                WHERE lower(name) = lower(?) AND version = ?
                ORDER BY trial""",
            [name, version],
        ).table
        assert table is not None  # a SELECT always has a result
        rows = table.to_pylist()
        resources = [_json_object(row["resources"]) for row in rows]
        fates = [_fate(row["status"], used) for row, used in zip(rows, resources, strict=True)]
        return pa.table(
            {
                "trial": pa.array([row["trial"] for row in rows], pa.int32()),
                "family": pa.array([row["family"] for row in rows], pa.string()),
                "fate": pa.array(fates, pa.string()),
                "rounds": pa.array([_rounds(used) for used in resources], pa.int32()),
                "score": pa.array([_significant(row["validation_score"]) for row in rows], pa.float64()),
                "seconds": pa.array([round(row["seconds"], 3) for row in rows], pa.float64()),
                "reason": pa.array([_reason(row["error"]) for row in rows], pa.string()),
                "hyperparameters": _json_array([row["hyperparameters"] for row in rows]),
                "resources": _json_array([row["resources"] for row in rows]),
            }
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
            self._execute(
                f"INSERT INTO {SCHEMA}.model_versions (name, version, task, label, label_type, features, "
                "family, hyperparameters, metric, validation_score, train_rows, search, source_sql, "
                "created_at, outcome, notes) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp::TIMESTAMP, ?, ?)",
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
                    record.outcome,
                    record.notes,
                ],
            )
            self._insert_trials(record.name, version, trials)
            self._execute(
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
            self._execute(f"DELETE FROM {SCHEMA}.models WHERE lower(name) = lower(?)", [record.name])
            self._execute(
                f"INSERT INTO {SCHEMA}.models VALUES (?, ?, current_timestamp::TIMESTAMP)",
                [record.name, version],
            )
        return version

    def _insert_trials(self, name: str, version: int, trials: list[TrialRecord]) -> None:
        """Write a search's trials in one INSERT per 500 trials (one statement, not one per trial)."""
        chunk = 500
        for start in range(0, len(trials), chunk):
            rows = trials[start : start + chunk]
            parameters: list[Any] = []
            for t in rows:
                parameters += [
                    name,
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
                ]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
            self._execute(f"INSERT INTO {SCHEMA}.trials VALUES {values}", parameters)

    def drop(self, name: str, *, if_exists: bool = False) -> bool:
        """Delete a model with all its versions, trials and artifacts; return whether it existed."""
        if not self.exists(name):
            if if_exists:
                return False
            raise self._undefined(name)
        with self.engine.transaction():
            for table in ("models", "model_versions", "trials", "artifacts"):
                self._execute(f"DELETE FROM {SCHEMA}.{table} WHERE lower(name) = lower(?)", [name])
        return True

    def _no_version(self, name: str, version: int) -> UndefinedModelError:
        versions = self.versions(name)
        return UndefinedModelError(
            f"model '{name}' has no version {version}",
            hint=f"its versions: {', '.join(map(str, versions))}" if versions else None,
        )

    def _undefined(self, name: str) -> UndefinedModelError:
        known = self.names()
        hint = (
            f"known models: {', '.join(known)}"
            if known
            else "create one with CREATE MODEL <name> PREDICT ..."
        )
        return UndefinedModelError(f"model '{name}' does not exist", hint=hint)


def _damaged(name: str, what: str) -> CatalogError:
    return CatalogError(
        f"the catalog entry of model '{name}' is damaged: {what}",
        hint=f"retrain it with CREATE OR REPLACE MODEL {name} ..., or remove it with DROP MODEL {name}",
    )


def _decode(name: str, column: str, text: Any, convert: Callable[[Any], _T]) -> _T:
    """Parse a JSON column of ``model_versions``; anything unreadable is a :class:`CatalogError`."""
    try:
        return convert(json.loads(text))
    except (TypeError, ValueError, KeyError) as error:
        raise _damaged(name, f"its {column} column does not hold valid JSON ({error})") from None


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, found {type(value).__name__}")
    return value


def _columns(value: Any) -> list[Column]:
    if not isinstance(value, list):
        raise TypeError(f"expected a JSON list, found {type(value).__name__}")
    return [Column(str(c["name"]), str(c["type"])) for c in value]


# -- DESCRIBE MODEL's columns ---------------------------------------------------------------------------

# What the fate and rounds columns already say ("stopped early at round 3: ", "cut short at round 1 (10
# units): "), and the allocation rule's sentence, said in fewer words with the same numbers.
_REASON_PREFIX = re.compile(r"^(?:stopped early|cut short|failed) at round \d+(?: \(\d+ units\))?: ")
_REASON_REWRITES = (
    (
        re.compile(r"^validation error (\S+) > \(1 \+ (\S+)\) x best error (\S+) = \S+$"),
        r"error \1 > (1 + \2) x best \3",
    ),
    (
        re.compile(
            r"^validation error (\S+) not among the best (\d+) of (\d+) .*; the worst kept has error (\S+)$"
        ),
        r"error \1 not in the best \2 of \3 (worst kept \4)",
    ),
    (re.compile(r"^the search's (.*)$"), r"\1"),
    (
        re.compile(r"^cut short by the time budget after (.*) \(the model it left is scored and usable\)$"),
        r"out of time at \1",
    ),
)


def _reason(error: str | None) -> str | None:
    """Why a trial stopped or failed, as DESCRIBE MODEL's ``reason`` column shows it."""
    if error is None:
        return None
    text = _REASON_PREFIX.sub("", error)
    for pattern, replacement in _REASON_REWRITES:
        text = pattern.sub(replacement, text)
    return text


def _json_object(text: Any) -> dict[str, Any]:
    """A trial's resources as a dict (empty when the catalog holds something else)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _fate(status: str, resources: dict[str, Any]) -> str:
    """``finished``, ``stopped`` (the allocation rule stopped it), ``cut short`` (the budget ran out before it
    ended, or the search was interrupted) or ``failed``."""
    fate = resources.get("fate")
    if resources.get("cut_short") or fate == "unfinished":
        return "cut short"
    return fate if fate in ("finished", "stopped", "failed") else status


def _rounds(resources: dict[str, Any]) -> int | None:
    """The rounds (or rungs) a trial trained; None for a search that trains each configuration at once."""
    rounds = resources.get("rounds")
    return rounds if isinstance(rounds, int) and not isinstance(rounds, bool) else None


def _significant(value: float | None) -> float | None:
    """``value`` to 4 significant digits: a score people compare at a glance."""
    if value is None or not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.4g}")


def _json_array(texts: list[Any]) -> pa.Array:
    """JSON texts as Arrow's JSON extension type, which DuckDB reads as its ``JSON`` type."""
    return pa.array(texts, pa.string()).cast(pa.json_())
