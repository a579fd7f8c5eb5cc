"""Fixtures of the search tests."""

from __future__ import annotations

import pyarrow as pa
import pytest
from ml.synthetic import synthetic_table


@pytest.fixture
def table() -> pa.Table:
    return synthetic_table()


@pytest.fixture
def classification_table(table: pa.Table) -> pa.Table:
    return table.drop_columns(["amount"])


@pytest.fixture
def regression_table(table: pa.Table) -> pa.Table:
    return table.drop_columns(["label"])
