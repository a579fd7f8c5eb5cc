"""How SQL column types become model inputs and outputs.

Every feature reaches a model as one of three types, whatever its SQL type: DOUBLE (numbers, and dates
and times as epoch seconds), BOOLEAN, or VARCHAR (strings, enums, UUIDs). The planner casts in SQL, so
training and scoring see exactly the same types. Columns of other types (lists, structs, blobs) are not
used as features; EXPLAIN lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from paqdb.engines.base import Column, base_type

_INTEGER = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
_FLOAT = {"FLOAT", "DOUBLE", "REAL"}
_TEMPORAL = {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}
_STRING = {"VARCHAR", "UUID", "CHAR", "TEXT", "STRING"}


def quote(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class FeatureColumn:
    """A column used as a model input: its SQL name and type, and the expression that feeds the model."""

    name: str
    sql_type: str
    model_type: str  # DOUBLE, BOOLEAN or VARCHAR

    @property
    def expression(self) -> str:
        """SQL that turns the column into the model's input type."""
        column = quote(self.name)
        if base_type(self.sql_type) in _TEMPORAL:
            return f"CAST(epoch({column}) AS DOUBLE)"
        return f"CAST({column} AS {self.model_type})"


def feature_column(column: Column) -> FeatureColumn | None:
    """The model input for ``column``, or None when its type cannot be a feature."""
    kind = base_type(column.type)
    if kind in _INTEGER or kind in _FLOAT or kind == "DECIMAL" or kind in _TEMPORAL:
        return FeatureColumn(column.name, column.type, "DOUBLE")
    if kind == "BOOLEAN":
        return FeatureColumn(column.name, column.type, "BOOLEAN")
    if kind in _STRING or kind == "ENUM":
        return FeatureColumn(column.name, column.type, "VARCHAR")
    return None


def label_model_type(sql_type: str) -> str | None:
    """The type a label reaches the model as: VARCHAR, BOOLEAN, BIGINT or DOUBLE (None: unusable)."""
    kind = base_type(sql_type)
    if kind in _INTEGER:
        return "BIGINT"
    if kind in _FLOAT or kind == "DECIMAL":
        return "DOUBLE"
    if kind == "BOOLEAN":
        return "BOOLEAN"
    if kind in _STRING or kind == "ENUM":
        return "VARCHAR"
    return None
