"""Shared fixtures: sessions on temporary database files and small labeled tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import paqdb


@pytest.fixture
def database(tmp_path: Path) -> str:
    """Path of a fresh database file."""
    return str(tmp_path / "test.duckdb")


@pytest.fixture
def con(database: str) -> Iterator[paqdb.Connection]:
    """An autocommit connection on a fresh file with iris loaded and split into labeled/new tables."""
    connection = paqdb.connect(database, autocommit=True)
    connection.execute("LOAD DATASET iris")
    fold = "hash(sepal_length_cm, petal_width_cm, petal_length_cm) % 4"
    connection.execute(f"CREATE TABLE iris_train AS SELECT * FROM iris WHERE {fold} <> 0")
    connection.execute(f"CREATE TABLE iris_test AS SELECT * FROM iris WHERE {fold} = 0")
    yield connection
    connection.close()
