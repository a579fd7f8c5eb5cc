"""What CLEAN keeps in the catalog: its runs, the corrections it recorded, and applying or undoing them.

Three tables in the ``paqdb`` schema of the same database (created on the first CLEAN that writes):

``paqdb.clean_runs``
    one row per cleaning run: the table, label, model, key and options it ran with, how far it got
    (``batches``, ``cleaned``, the model version it saved last), its ``status`` (``open``: an interactive
    run waiting for the batch it handed out; ``finished``), the algorithm's state as JSON and the dirty
    rows it handed out (``snapshots``, an Arrow IPC stream), so an interactive run continues after the
    database is closed and reopened.
``paqdb.clean_pending``
    the keys of the records an open interactive run handed out and waits for (``run``, ``batch``,
    ``source``, ``key_column``, ``row_key``), so people can select or update them by key.
``paqdb.clean_corrections``
    one row per corrected value: ``run``, ``batch``, ``id`` (its number in the run), the table, the key
    column and the row's key, the column, its ``old_value`` and ``new_value`` (as text, cast back to the
    column's type when written), and ``applied``: whether the table holds the new value (an interactive
    run's corrections are made in the table by people, so they are recorded applied; the other repairs
    leave the table as it was until ``CLEAN t APPLY CORRECTIONS``).

``CLEAN t APPLY CORRECTIONS [RUN n] [BATCH b]`` writes the new values of the corrections not applied yet
into the table, ``CLEAN t UNDO CORRECTIONS [RUN n] [BATCH b]`` writes the old values of the applied ones
back, newest first (:class:`CorrectionsCapability`). A value that changed since the correction was
recorded is left alone and counted as a conflict, so neither overwrites someone else's work.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from paqdb.capability import CapabilityContext, CapabilityRequest
from paqdb.engines.base import Engine, render
from paqdb.errors import CatalogError, InvalidParameterError

SCHEMA = "paqdb"
RUNS = f"{SCHEMA}.clean_runs"
CORRECTIONS = f"{SCHEMA}.clean_corrections"
PENDING = f"{SCHEMA}.clean_pending"

_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {RUNS} (
    run INTEGER NOT NULL,
    source VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    key_column VARCHAR NOT NULL,
    detect VARCHAR,
    detector VARCHAR NOT NULL,
    repair VARCHAR NOT NULL,
    budget INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status VARCHAR NOT NULL,
    batches INTEGER NOT NULL,
    cleaned INTEGER NOT NULL,
    model_version INTEGER,
    state VARCHAR NOT NULL,
    snapshots BLOB,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
)""",
    f"""CREATE TABLE IF NOT EXISTS {PENDING} (
    run INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    source VARCHAR NOT NULL,
    key_column VARCHAR NOT NULL,
    row_key VARCHAR NOT NULL
)""",
    f"""CREATE TABLE IF NOT EXISTS {CORRECTIONS} (
    run INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    id INTEGER NOT NULL,
    source VARCHAR NOT NULL,
    key_column VARCHAR NOT NULL,
    row_key VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    old_value VARCHAR,
    new_value VARCHAR,
    applied BOOLEAN NOT NULL,
    recorded_at TIMESTAMP NOT NULL
)""",
)

_NOW = "CAST(current_timestamp AS TIMESTAMP)"


def quote(name: str) -> str:
    """An identifier quoted for SQL, its double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def value_text(value: Any) -> str | None:
    """A value as the text the catalog stores and ``CAST(text AS type)`` reads back; None for NULL.

    >>> value_text(2.5), value_text(True), value_text(None), value_text(float("nan"))
    ('2.5', 'true', None, 'nan')
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time | decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)


def same_value(a: Any, b: Any) -> bool:
    """True when two cell values are equal (NaN equals NaN, NULL equals NULL)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b) if (a is None) == (b is None) else False


@dataclass(frozen=True)
class Correction:
    """One corrected value of one record."""

    batch: int
    key: Any
    column: str
    old: Any
    new: Any


def diff(dirty: pa.Table, clean: pa.Table, key: str, batch: int) -> list[Correction]:
    """The values ``clean`` changes in ``dirty`` (the same rows, in the same order, the same columns).

    The key column is never a correction (a repair cannot change it; the caller checks).
    """
    corrections: list[Correction] = []
    keys = dirty.column(key).to_pylist()
    for name in dirty.column_names:
        if name == key:
            continue
        old_values = dirty.column(name).to_pylist()
        new_values = clean.column(name).to_pylist()
        for row_key, old, new in zip(keys, old_values, new_values, strict=True):
            if not same_value(old, new):
                corrections.append(Correction(batch, row_key, name, old, new))
    return corrections


@dataclass
class RunRecord:
    """A row of ``paqdb.clean_runs``."""

    run: int
    source: str
    label: str
    model: str
    key_column: str
    detect: str | None
    detector: str
    repair: str
    budget: int
    batch_size: int
    seed: int
    status: str = "open"
    batches: int = 0
    cleaned: int = 0
    model_version: int | None = None
    state: dict[str, Any] = field(default_factory=dict)
    snapshots: bytes | None = None


_RUN_COLUMNS = (
    "run, source, label, model, key_column, detect, detector, repair, budget, batch_size, seed, status, "
    "batches, cleaned, model_version, state, snapshots"
)


class CleanCatalog:
    """Reads and writes CLEAN's tables through an engine (SQL in the engine's dialect)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _execute(self, sql: str, parameters: Sequence[Any] | None = None) -> pa.Table | None:
        return self.engine.execute(render(sql, self.engine.dialect), list(parameters or [])).table

    def exists(self) -> bool:
        """True once a CLEAN has written its tables in this database."""
        return self.engine.relation_exists(RUNS, python_objects=False) and self.engine.relation_exists(
            CORRECTIONS, python_objects=False
        )

    def ensure(self) -> None:
        """Create the schema and the tables (inside the caller's transaction)."""
        for statement in _DDL:
            self._execute(statement)

    # -- runs -----------------------------------------------------------------------------------------

    def open_run(self, source: str, label: str, model: str) -> RunRecord | None:
        """The open interactive run on ``source`` for ``label`` and ``model``, or None."""
        if not self.exists():
            return None
        table = self._execute(
            f"SELECT {_RUN_COLUMNS} FROM {RUNS} WHERE lower(source) = lower(?) AND lower(label) = lower(?) "
            "AND lower(model) = lower(?) AND status = 'open' ORDER BY run DESC LIMIT 1",
            [source, label, model],
        )
        rows = table.to_pylist() if table is not None else []
        return _run_record(rows[0]) if rows else None

    def next_run(self) -> int:
        """The number the next run gets."""
        if not self.exists():
            return 1
        table = self._execute(f"SELECT max(run) FROM {RUNS}")
        latest = table.column(0)[0].as_py() if table is not None and table.num_rows else None
        return int(latest or 0) + 1

    def save_run(self, run: RunRecord, *, new: bool) -> None:
        """Insert (``new``) or update the run's row."""
        state = json.dumps(run.state, default=str)
        if new:
            self._execute(
                f"INSERT INTO {RUNS} ({_RUN_COLUMNS}, created_at, updated_at) VALUES "
                f"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {_NOW}, {_NOW})",
                [
                    run.run,
                    run.source,
                    run.label,
                    run.model,
                    run.key_column,
                    run.detect,
                    run.detector,
                    run.repair,
                    run.budget,
                    run.batch_size,
                    run.seed,
                    run.status,
                    run.batches,
                    run.cleaned,
                    run.model_version,
                    state,
                    run.snapshots,
                ],
            )
            return
        self._execute(
            f"UPDATE {RUNS} SET detect = ?, detector = ?, budget = ?, batch_size = ?, status = ?, "
            f"batches = ?, cleaned = ?, model_version = ?, state = ?, snapshots = ?, "
            f"updated_at = {_NOW} WHERE run = ?",
            [
                run.detect,
                run.detector,
                run.budget,
                run.batch_size,
                run.status,
                run.batches,
                run.cleaned,
                run.model_version,
                state,
                run.snapshots,
                run.run,
            ],
        )

    def set_pending(self, run: RunRecord, batch: int, keys: Sequence[Any]) -> None:
        """Replace the run's rows in ``paqdb.clean_pending`` by ``keys``, the records of ``batch`` handed
        out to be fixed (none when the run is finished)."""
        self._execute(f"DELETE FROM {PENDING} WHERE run = ?", [run.run])
        for start in range(0, len(keys), 200):
            part = keys[start : start + 200]
            values = ", ".join(["(?, ?, ?, ?, ?)"] * len(part))
            parameters: list[Any] = []
            for key in part:
                parameters += [run.run, batch, run.source, run.key_column, value_text(key)]
            self._execute(f"INSERT INTO {PENDING} VALUES {values}", parameters)

    # -- corrections ----------------------------------------------------------------------------------

    def record(self, run: RunRecord, corrections: Sequence[Correction], *, applied: bool) -> None:
        """Append ``corrections`` of ``run`` (numbered after the run's earlier ones), 200 rows per INSERT."""
        if not corrections:
            return
        table = self._execute(f"SELECT max(id) FROM {CORRECTIONS} WHERE run = ?", [run.run])
        first = int((table.column(0)[0].as_py() if table is not None and table.num_rows else 0) or 0) + 1
        chunk = 200
        for start in range(0, len(corrections), chunk):
            rows = corrections[start : start + chunk]
            parameters: list[Any] = []
            for number, c in enumerate(rows, start=first + start):
                parameters += [
                    run.run,
                    c.batch,
                    number,
                    run.source,
                    run.key_column,
                    value_text(c.key),
                    c.column,
                    value_text(c.old),
                    value_text(c.new),
                    applied,
                ]
            values = ", ".join([f"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {_NOW})"] * len(rows))
            self._execute(f"INSERT INTO {CORRECTIONS} VALUES {values}", parameters)

    def corrections(self, source: str, *, run: int | None, batch: int | None, applied: bool) -> list[dict]:
        """The corrections of ``source`` (of one run and batch when given) whose ``applied`` is as given,
        oldest first."""
        if not self.exists():
            return []
        where = ["lower(source) = lower(?)", "applied = ?"]
        parameters: list[Any] = [source, applied]
        if run is not None:
            where.append("run = ?")
            parameters.append(run)
        if batch is not None:
            where.append("batch = ?")
            parameters.append(batch)
        table = self._execute(
            f"SELECT run, batch, id, key_column, row_key, column_name, old_value, new_value "
            f"FROM {CORRECTIONS} WHERE {' AND '.join(where)} ORDER BY run, batch, id",
            parameters,
        )
        return table.to_pylist() if table is not None else []

    def mark(self, run: int, ids: Iterable[int], applied: bool) -> None:
        """Set ``applied`` of corrections ``ids`` of ``run``, 500 per statement."""
        numbers = sorted(set(ids))
        for start in range(0, len(numbers), 500):
            part = numbers[start : start + 500]
            marks = ", ".join("?" * len(part))
            self._execute(
                f"UPDATE {CORRECTIONS} SET applied = ? WHERE run = ? AND id IN ({marks})",
                [applied, run, *part],
            )


def _run_record(row: dict[str, Any]) -> RunRecord:
    try:
        state = json.loads(row["state"])
    except (TypeError, ValueError) as error:
        raise CatalogError(
            f"the state of cleaning run {row['run']} in {RUNS} is not valid JSON ({error})",
            hint=f"finish the run by deleting its row: DELETE FROM {RUNS} WHERE run = {row['run']}",
        ) from None
    snapshots = row["snapshots"]
    return RunRecord(
        run=int(row["run"]),
        source=row["source"],
        label=row["label"],
        model=row["model"],
        key_column=row["key_column"],
        detect=row["detect"],
        detector=row["detector"],
        repair=row["repair"],
        budget=int(row["budget"]),
        batch_size=int(row["batch_size"]),
        seed=int(row["seed"]),
        status=row["status"],
        batches=int(row["batches"]),
        cleaned=int(row["cleaned"]),
        model_version=row["model_version"],
        state=state,
        snapshots=bytes(snapshots) if snapshots is not None else None,
    )


def ipc_bytes(table: pa.Table) -> bytes:
    """``table`` as an Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def ipc_table(data: bytes) -> pa.Table:
    """The table of an Arrow IPC stream written by :func:`ipc_bytes`."""
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


class CorrectionsCapability:
    """``CLEAN t APPLY CORRECTIONS`` and ``CLEAN t UNDO CORRECTIONS`` (``request.options``: ``action``,
    ``run``, ``batch``): write recorded corrections into the table, or take them back out.

    Returns one row per correction considered: run, batch, key, column, the value written, and what
    happened (``applied``, ``undone``, or ``conflict``: the table holds neither value the correction
    knows, so it was left alone).
    """

    def run(self, request: CapabilityRequest, context: CapabilityContext) -> pa.Table:
        action = request.options["action"]
        catalog = CleanCatalog(context.engine)
        applying = action == "apply"
        pending = catalog.corrections(
            request.source_sql, run=request.options.get("run"), batch=request.options.get("batch"),
            applied=not applying,
        )  # fmt: skip
        if not applying:
            pending.reverse()  # newest first, so a value corrected twice returns to the oldest one
        types = {c.name.lower(): c for c in request.source_columns}
        rows: list[dict[str, Any]] = []
        done: dict[int, list[int]] = {}
        with context.engine.transaction():
            for correction in pending:
                context.check_cancelled()
                column = types.get(str(correction["column_name"]).lower())
                key = types.get(str(correction["key_column"]).lower())
                if column is None or key is None:
                    missing = correction["column_name"] if column is None else correction["key_column"]
                    raise InvalidParameterError(
                        f"{request.source_sql} has no column '{missing}' any more, which a recorded "
                        f"correction (run {correction['run']}) changes",
                        hint=f"see SELECT * FROM {CORRECTIONS} WHERE run = {correction['run']}",
                    )
                wanted, expected = (
                    (correction["new_value"], correction["old_value"])
                    if applying
                    else (correction["old_value"], correction["new_value"])
                )
                parameters = [wanted, correction["row_key"]]
                if expected is None:
                    holds = f"{quote(column.name)} IS NULL"
                else:
                    holds = f"{quote(column.name)} = CAST(? AS {column.type})"
                    parameters.append(expected)
                result = context.engine.execute(
                    render(
                        f"UPDATE {request.source_sql} SET {quote(column.name)} = CAST(? AS {column.type}) "
                        f"WHERE {quote(key.name)} = CAST(? AS {key.type}) AND {holds}",
                        context.engine.dialect,
                    ),
                    parameters,
                )
                ok = result.rowcount != 0
                if ok:
                    done.setdefault(int(correction["run"]), []).append(int(correction["id"]))
                rows.append(
                    {
                        "run": correction["run"],
                        "batch": correction["batch"],
                        "key": correction["row_key"],
                        "column": correction["column_name"],
                        "value": wanted,
                        "outcome": ("applied" if applying else "undone") if ok else "conflict",
                    }
                )
            for run, ids in done.items():
                catalog.mark(run, ids, applying)
        conflicts = sum(1 for r in rows if r["outcome"] == "conflict")
        verb = "applied" if applying else "undone"
        if not rows:
            context.say(
                f"no corrections to {action} on {request.source_sql}"
                + (" (every recorded one is applied)" if applying else " (none is applied)")
            )
        else:
            context.say(
                f"{len(rows) - conflicts} correction(s) {verb} on {request.source_sql}"
                + (
                    f"; {conflicts} left alone: the value changed since it was recorded (outcome 'conflict')"
                    if conflicts
                    else ""
                )
            )
        return pa.table(
            {
                "run": pa.array([r["run"] for r in rows], pa.int32()),
                "batch": pa.array([r["batch"] for r in rows], pa.int32()),
                "key": pa.array([r["key"] for r in rows], pa.string()),
                "column": pa.array([r["column"] for r in rows], pa.string()),
                "value": pa.array([r["value"] for r in rows], pa.string()),
                "outcome": pa.array([r["outcome"] for r in rows], pa.string()),
            }
        )

    def explain(self, request: CapabilityRequest, context: CapabilityContext) -> None:
        action = request.options["action"]
        count = len(
            CleanCatalog(context.engine).corrections(
                request.source_sql,
                run=request.options.get("run"),
                batch=request.options.get("batch"),
                applied=action != "apply",
            )
        )
        verb = "write the new values of" if action == "apply" else "write back the old values of"
        context.explain_line(f"{verb} {count} recorded correction(s) into {request.source_sql}")
