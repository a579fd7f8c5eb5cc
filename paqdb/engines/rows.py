"""Result rows as Python values: the cursor interface every door fetches through.

A statement's rows reach a door (the DB-API cursor, the shell) through a :class:`ResultRows`. Plain SQL
gets DuckDB's own result object (:class:`paqdb.engines.duckdb.DuckDBResult`), which converts values
exactly as DuckDB's Python API does. Results that paqdb builds itself (SHOW MODELS, EXPLAIN, CLEAN ...)
are Arrow tables; :class:`ArrowRows` reads them with :func:`python_rows`, which gives the values
DuckDB's API gives for the types those tables hold.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import pyarrow as pa

from paqdb.engines.base import base_type


class ResultRows(Protocol):
    """A forward-only cursor over one statement's rows."""

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """The next ``size`` rows (all remaining rows when ``size`` is None); ``[]`` when none are left."""
        ...

    def arrow(self) -> pa.Table:
        """The remaining rows as an Arrow table; the cursor is exhausted afterwards."""
        ...

    def df(self) -> Any:
        """The remaining rows as a pandas DataFrame; the cursor is exhausted afterwards."""
        ...


class ArrowRows:
    """A :class:`ResultRows` over an Arrow table, converting only the rows asked for.

    Args:
        table: the rows.
        sql_types: the SQL type of each column (UUID and BIT columns are converted by it).
    """

    def __init__(self, table: pa.Table, sql_types: Sequence[str] | None = None) -> None:
        self.table = table
        self.sql_types = list(sql_types) if sql_types is not None else None
        self.position = 0

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        total = self.table.num_rows
        end = total if size is None else min(total, self.position + max(size, 0))
        if end <= self.position:
            return []
        chunk = self.table.slice(self.position, end - self.position)
        self.position = end
        return python_rows(chunk, self.sql_types)

    def arrow(self) -> pa.Table:
        rest = self.table.slice(self.position)
        self.position = self.table.num_rows
        return rest

    def df(self) -> Any:
        return self.arrow().to_pandas()


def python_rows(table: pa.Table, sql_types: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
    """Rows of ``table`` as tuples of the Python values DuckDB's own API gives.

    Arrow's conversion differs from DuckDB's for a few types; they are converted to DuckDB's form:
    MAP -> dict, unnamed STRUCT -> tuple, fixed-size ARRAY -> tuple, INTERVAL -> timedelta (a month
    counts 30 days, as in DuckDB), UUID -> uuid.UUID. This serves tables paqdb builds itself; plain SQL's
    rows come from DuckDB's own conversion instead (Arrow cannot hold every DuckDB value: UHUGEINT,
    TIMETZ offsets, ``TIME '24:00:00'``, dates past year 9999).
    """
    types = list(sql_types) if sql_types is not None else [""] * table.num_columns
    columns = []
    for column, sql_type in zip(table.columns, types, strict=True):
        values = column.to_pylist()
        if base_type(sql_type) == "UUID":
            values = [None if v is None else uuid.UUID(str(v)) for v in values]
        elif base_type(sql_type) == "BIT":
            values = [None if v is None else _bit_string(v) for v in values]
        elif _needs_conversion(column.type):
            values = [_python_value(column.type, v) for v in values]
        columns.append(values)
    return list(zip(*columns, strict=True)) if columns else [() for _ in range(table.num_rows)]


_ARROW_TYPES: dict[str, pa.DataType] = {
    "BOOLEAN": pa.bool_(),
    "TINYINT": pa.int8(),
    "SMALLINT": pa.int16(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "UTINYINT": pa.uint8(),
    "USMALLINT": pa.uint16(),
    "UINTEGER": pa.uint32(),
    "UBIGINT": pa.uint64(),
    "HUGEINT": pa.decimal128(38, 0),
    "FLOAT": pa.float32(),
    "DOUBLE": pa.float64(),
    "VARCHAR": pa.string(),
    "BLOB": pa.binary(),
    "DATE": pa.date32(),
    "TIME": pa.time64("us"),
    "TIMESTAMP": pa.timestamp("us"),
    "TIMESTAMP_S": pa.timestamp("s"),
    "TIMESTAMP_MS": pa.timestamp("ms"),
    "TIMESTAMP_NS": pa.timestamp("ns"),
}
"""The Arrow type DuckDB gives each scalar SQL type (other types are inferred from the values)."""

_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)", re.IGNORECASE)


def _arrow_type(sql_type: str) -> pa.DataType | None:
    match = _DECIMAL.fullmatch(sql_type.strip())
    if match:
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    return _ARROW_TYPES.get(sql_type.strip().upper())


def arrow_from_rows(
    rows: Sequence[tuple[Any, ...]], names: Sequence[str], sql_types: Sequence[str] | None = None
) -> pa.Table:
    """An Arrow table built from Python rows: each column of the Arrow type DuckDB gives its SQL type.

    A column of another type (nested, TIMESTAMPTZ) has its type inferred by Arrow from the values; one
    Arrow cannot hold (integers past 64 bits, UUIDs, times with an offset, values DuckDB returns as
    text) is kept as text, so building never fails.
    """
    types = list(sql_types) if sql_types is not None else [""] * len(names)
    arrays = []
    for index, sql_type in enumerate(types):
        values = [row[index] for row in rows]
        arrow_type = _arrow_type(sql_type)
        array = None
        for attempt in (arrow_type, None) if arrow_type is not None else (None,):
            try:
                array = pa.array(values, attempt)
                break
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                continue
        if array is None:
            array = pa.array([None if v is None else str(v) for v in values], pa.string())
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=[str(n) for n in names])


def _bit_string(data: bytes) -> str:
    # DuckDB's BIT layout: the first byte counts the padding bits that lead the second byte.
    return "".join(f"{byte:08b}" for byte in data[1:])[data[0] :]


def _is_list(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type))


def _needs_conversion(arrow_type: pa.DataType) -> bool:
    if (
        pa.types.is_map(arrow_type)
        or pa.types.is_fixed_size_list(arrow_type)
        or pa.types.is_interval(arrow_type)
    ):
        return True
    if _is_list(arrow_type):
        return _needs_conversion(arrow_type.value_type)
    if pa.types.is_struct(arrow_type):
        return _unnamed(arrow_type) or any(_needs_conversion(f.type) for f in arrow_type)
    return False


def _unnamed(struct_type: pa.StructType) -> bool:
    # DuckDB names the fields of an unnamed STRUCT (row(...), list_zip) element1, element2, ...
    return struct_type.num_fields > 0 and all(f.name == f"element{i}" for i, f in enumerate(struct_type, 1))


def _python_value(arrow_type: pa.DataType, value: Any) -> Any:
    if value is None:
        return None
    if pa.types.is_map(arrow_type):
        return {
            _python_value(arrow_type.key_type, k): _python_value(arrow_type.item_type, v) for k, v in value
        }
    if pa.types.is_fixed_size_list(arrow_type):
        return tuple(_python_value(arrow_type.value_type, v) for v in value)
    if _is_list(arrow_type):
        return [_python_value(arrow_type.value_type, v) for v in value]
    if pa.types.is_struct(arrow_type):
        if _unnamed(arrow_type):
            return tuple(_python_value(f.type, value[f.name]) for f in arrow_type)
        return {f.name: _python_value(f.type, value[f.name]) for f in arrow_type}
    if pa.types.is_interval(arrow_type):
        return datetime.timedelta(days=value.months * 30 + value.days, microseconds=value.nanoseconds // 1000)
    return value
