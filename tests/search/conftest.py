"""Fixtures of the search tests: the same synthetic tables as the ml tests."""

from ml.conftest import classification_table, regression_table, table

__all__ = ["classification_table", "regression_table", "table"]
