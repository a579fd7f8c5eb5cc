"""Small dirty tables and models for the CLEAN tests, built once and copied per test.

``donations`` (id, amount, hour, recipient, is_fraud): amounts of some records have their sign flipped
and some recipients are NULL (what the issue's first example's detector looks for);
``donations_fixed`` holds the corrected rows of every dirty record. ``sensors`` (id, temp, vibration,
failure): some temperatures were recorded ten times too high (``temp > 200``). ``fraud_model`` and
``failure_model`` are logistic regressions trained on the dirty tables.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import paqdb


def _donations(rng: np.random.Generator, n: int = 400) -> tuple[pa.Table, pa.Table]:
    amount = rng.gamma(2.0, 50.0, n).round(2)
    hour = rng.integers(0, 24, n)
    recipients = np.array(["red cross", "unicef", "oxfam", "msf"])
    recipient = recipients[rng.integers(0, 4, n)]
    score = amount / 60 - (hour >= 8) * 1.5 + rng.normal(0, 0.4, n)
    is_fraud = score > 1.0
    clean = pa.table(
        {
            "id": pa.array(np.arange(1, n + 1), pa.int64()),
            "amount": pa.array(amount, pa.float64()),
            "hour": pa.array(hour, pa.int64()),
            "recipient": pa.array(recipient.tolist(), pa.string()),
            "is_fraud": pa.array(is_fraud),
        }
    )
    flipped = rng.random(n) < 0.2
    missing = rng.random(n) < 0.05
    dirty_amount = np.where(flipped, -amount * 3, amount)
    dirty_recipient = [None if m else r for m, r in zip(missing, recipient.tolist(), strict=True)]
    dirty = clean.set_column(1, "amount", pa.array(dirty_amount, pa.float64()))
    dirty = dirty.set_column(3, "recipient", pa.array(dirty_recipient, pa.string()))
    fixed = clean.filter(pa.array(flipped | missing))
    return dirty, fixed


def _sensors(rng: np.random.Generator, n: int = 300) -> pa.Table:
    temp = rng.normal(60, 15, n)
    vibration = rng.gamma(2.0, 2.0, n)
    failure = (temp / 15 + vibration / 2 + rng.normal(0, 0.5, n)) > 6.5
    temp = np.where(rng.random(n) < 0.15, temp * 10, temp)
    return pa.table(
        {
            "id": pa.array(np.arange(1, n + 1), pa.int64()),
            "temp": pa.array(temp.round(3), pa.float64()),
            "vibration": pa.array(vibration.round(3), pa.float64()),
            "failure": pa.array(failure),
        }
    )


@pytest.fixture(scope="session")
def clean_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with the dirty tables and their models (trained once per test run)."""
    path = tmp_path_factory.mktemp("clean") / "template.duckdb"
    rng = np.random.default_rng(11)
    dirty, fixed = _donations(rng)
    sensors = _sensors(rng)
    with paqdb.connect(str(path), autocommit=True) as con:
        for name, table in (("donations", dirty), ("donations_fixed", fixed), ("sensors", sensors)):
            con.register("incoming", table)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
            con.unregister("incoming")
        search = "USING SEARCH (families => ['logistic'], budget => '2 trials', seed => 1)"
        con.execute(
            "CREATE MODEL fraud_model PREDICT is_fraud FROM "
            f"(SELECT amount, hour, recipient, is_fraud FROM donations) {search}"
        )
        con.execute(
            "CREATE MODEL failure_model PREDICT failure FROM "
            f"(SELECT temp, vibration, failure FROM sensors) {search}"
        )
    return path


@pytest.fixture
def clean_db(clean_template: Path, tmp_path: Path) -> str:
    """A fresh copy of the template database (its path)."""
    path = tmp_path / "clean.duckdb"
    shutil.copy(clean_template, path)
    return str(path)


@pytest.fixture
def cdb(clean_db: str) -> Iterator[paqdb.Connection]:
    """An autocommit connection on a fresh copy of the template."""
    with paqdb.connect(clean_db, autocommit=True) as con:
        yield con


def catalog_state(con: paqdb.Connection) -> tuple[object, ...]:
    """What a failed CLEAN must leave unchanged: model versions, runs, corrections, the tables' data."""
    versions = con.execute("SELECT name, version FROM paqdb.model_versions ORDER BY name, version").fetchall()
    has_runs = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'paqdb' "
        "AND table_name IN ('clean_runs', 'clean_corrections')"
    ).fetchone()
    runs = corrections = None
    if has_runs and has_runs[0]:
        runs = con.execute(
            "SELECT run, status, batches, cleaned FROM paqdb.clean_runs ORDER BY run"
        ).fetchall()
        corrections = con.execute("SELECT count(*) FROM paqdb.clean_corrections").fetchall()
    data = con.execute(
        "SELECT sum(amount), count(recipient) FROM donations "
        "UNION ALL SELECT sum(temp), count(*) FROM sensors"
    ).fetchall()
    return versions, runs, corrections, data
