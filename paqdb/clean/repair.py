"""How CLEAN repairs a batch of dirty records, and the SQL texts its options hold.

``repair => ...`` names one of four repairs (:func:`classify` tells which):

``'manual'``
    people fix the records: each CLEAN hands out the next batch, they correct it with UPDATE, the next
    CLEAN folds the changes in (:class:`ManualRepair`).
a SQL assignment list, ``'temp = temp / 10, unit = ''C'''``
    each assignment's expression is evaluated by the engine on the batch's rows (:class:`AssignmentRepair`).
a Python function registered with ``Connection.register_cleaner('name', fn)``
    called once per record: a dict of the dirty record in, the corrected columns out
    (:class:`FunctionRepair`).
a table (or view) of corrected rows keyed like the cleaned table
    its columns that the cleaned table has replace the dirty values (:class:`TableRepair`).

Each repair's :meth:`~Repair.repair` takes the dirty rows of a batch (every column of the cleaned table)
and returns the corrected rows in the same order and schema; it raises a
:class:`~paqdb.errors.DataError` naming the records it could not repair, and then nothing of the batch
is used.

The detector predicate and the assignment list are parsed here (:func:`parse_predicate`,
:func:`parse_assignments`); a text that does not parse is a :class:`TextError` carrying the offset in the
text, which the statement turns into a position inside the string literal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError as SqlglotParseError
from sqlglot.errors import TokenError

from paqdb.engines.base import Column, Engine, render
from paqdb.errors import DataError, Error, InvalidParameterError

#: How many failing keys an error names before it says "and N more".
SHOWN_KEYS = 10

REFERENCE = "duckdb"


class TextError(Exception):
    """A SQL text in an option that does not parse: the message and the offset inside the text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _offset(text: str, line: int, column: int, highlight: str) -> int:
    """The 0-based offset in ``text`` of sqlglot's (1-based line, end column) of ``highlight``."""
    lines = text.split("\n")
    line = max(1, min(line, len(lines)))
    start = sum(len(part) + 1 for part in lines[: line - 1])
    end = start + max(0, column)
    return max(0, min(len(text), end - len(highlight) if highlight else end - 1))


def _parse(text: str, into: Any, what: str) -> exp.Expr:
    try:
        node = (
            sqlglot.parse_one(text, read=REFERENCE)
            if into is None
            else sqlglot.parse_one(text, read=REFERENCE, into=into)
        )
    except SqlglotParseError as error:
        detail = error.errors[0] if error.errors else {}
        offset = _offset(
            text,
            int(detail.get("line") or 1),
            int(detail.get("col") or 1),
            str(detail.get("highlight") or ""),
        )
        description = _readable(str(detail.get("description") or error).split("\n")[0])
        raise TextError(f"{what} does not parse: {description}", offset) from None
    except TokenError as error:
        raise TextError(f"{what} does not parse: {error}", 0) from None
    if node is None:
        raise TextError(f"{what} is empty", 0)
    return node


_MISSING = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]*?(\w+)'>")


def _readable(description: str) -> str:
    """sqlglot's description without its class names: ``an incomplete Add expression``."""
    return _MISSING.sub(lambda m: f"an incomplete {m.group(1)} expression", description)


def parse_predicate(text: str) -> exp.Expr:
    """The detector predicate ``text`` (DuckDB's SQL) as a sqlglot expression.

    Raises:
        TextError: it does not parse, or it is not one boolean expression.
    """
    node = _parse(text, exp.Condition, "the detect predicate")
    if isinstance(node, exp.Alias):
        raise TextError("the detect predicate does not parse: a word follows the condition", len(text))
    return node


@dataclass(frozen=True)
class Assignment:
    """``column = expression`` of an assignment list."""

    column: str
    expression: exp.Expr


def parse_assignments(text: str) -> list[Assignment]:
    """``col = expr, ...`` as assignments.

    Raises:
        TextError: it does not parse as an assignment list.
    """
    prefix = "UPDATE __paqdb_clean SET "
    try:
        node = _parse(prefix + text, None, "the repair assignment list")
    except TextError as error:
        raise TextError(error.message, max(0, error.offset - len(prefix))) from None
    if not isinstance(node, exp.Update):
        raise TextError("the repair assignment list does not parse: only col = expr, ... may stand here", 0)
    assignments: list[Assignment] = []
    if node.args.get("where") is not None or node.args.get("from") is not None:
        raise TextError("the repair assignment list does not parse: only col = expr, ... may stand here", 0)
    for item in node.expressions:
        if not isinstance(item, exp.EQ) or not isinstance(item.this, exp.Column) or item.this.table:
            raise TextError("the repair assignment list does not parse: each item is column = expression", 0)
        assignments.append(Assignment(item.this.name, item.expression))
    if not assignments:
        raise TextError("the repair assignment list is empty", 0)
    return assignments


def looks_like_assignments(text: str) -> bool:
    """True when ``text`` holds an ``=`` outside quotes: an assignment list, not a name."""
    quote: str | None = None
    for character in text:
        if quote is not None:
            if character == quote:
                quote = None
        elif character in "'\"":
            quote = character
        elif character == "=":
            return True
    return False


# -- the repairs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Repair:
    """A repair of a batch of records keyed by ``key``."""

    key: str

    kind = "repair"

    def describe(self) -> str:
        """The repair in words, for EXPLAIN and messages."""
        return self.kind

    def repair(
        self, engine: Engine, source_sql: str, rows: pa.Table, batch: int, types: Mapping[str, str]
    ) -> pa.Table:
        """The corrected ``rows`` (same order and schema); ``types``: each column's SQL type.

        Raises:
            DataError: records it cannot repair, named by key.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class ManualRepair(Repair):
    """People repair the records with UPDATE between two CLEAN statements."""

    kind = "manual"

    def describe(self) -> str:
        return "manual: each CLEAN hands out a batch to fix with UPDATE; the next folds it in"


@dataclass(frozen=True)
class AssignmentRepair(Repair):
    """``col = expr, ...`` evaluated by the engine on the batch's rows."""

    assignments: tuple[Assignment, ...] = ()
    text: str = ""

    kind = "assignments"

    def describe(self) -> str:
        return f"SQL assignments: {self.text}"

    def repair(
        self, engine: Engine, source_sql: str, rows: pa.Table, batch: int, types: Mapping[str, str]
    ) -> pa.Table:
        keys = rows.column(self.key).to_pylist()
        if not keys:
            return rows
        select = ", ".join(
            f"CAST(({a.expression.sql(dialect=REFERENCE)}) AS {types[a.column]}) AS {_quote(a.column)}"
            for a in self.assignments
        )
        try:
            table = _rows_by_key(engine, _quote(self.key), self.key, select, source_sql, keys)
        except Error as error:
            raise DataError(
                f"the repair assignments failed on batch {batch}: {error.message}",
                hint="check the expressions of repair => '...' on the flagged rows",
            ) from None
        return merge(rows, table, self.key, f"the repair assignments (batch {batch})")


def _rows_by_key(
    engine: Engine, key_sql: str, key: str, select: str, relation: str, keys: Sequence[Any]
) -> pa.Table:
    """``SELECT key_sql AS key, select FROM relation`` for the rows whose key is one of ``keys``."""
    marks = ", ".join("?" * len(keys))
    sql = f"SELECT {key_sql} AS {_quote(key)}, {select} FROM {relation} WHERE {key_sql} IN ({marks})"
    table = engine.execute(render(sql, engine.dialect), list(keys)).table
    assert table is not None
    return table


@dataclass(frozen=True)
class TableRepair(Repair):
    """A table of corrected rows: its columns that the cleaned table has replace the dirty values."""

    table: str = ""
    columns: tuple[str, ...] = ()

    kind = "table"

    def describe(self) -> str:
        return f"corrected rows from {self.table} ({', '.join(self.columns)})"

    def repair(
        self, engine: Engine, source_sql: str, rows: pa.Table, batch: int, types: Mapping[str, str]
    ) -> pa.Table:
        keys = rows.column(self.key).to_pylist()
        if not keys:
            return rows
        select = ", ".join(f"CAST({_quote(c)} AS {types[c]}) AS {_quote(c)}" for c in self.columns)
        # The key is read as the cleaned table's type, so a repair table keyed by text finds its rows.
        key = f"CAST({_quote(self.key)} AS {types[self.key]})"
        try:
            table = _rows_by_key(engine, key, self.key, select, self.table, keys)
        except Error as error:
            raise DataError(
                f"the repair table {self.table} cannot be read as corrected rows of the cleaned table "
                f"(batch {batch}): {error.message.splitlines()[0]}",
                hint=f"give {self.table}'s columns values of the cleaned table's types "
                f"({', '.join(f'{c} {types[c]}' for c in (self.key, *self.columns))})",
            ) from None
        found = table.column(self.key).to_pylist()
        duplicated = sorted({k for k in found if found.count(k) > 1}, key=str)
        if duplicated:
            raise DataError(
                f"the repair table {self.table} has more than one row for {_keys(self.key, duplicated)}",
                hint=f"keep one corrected row per {self.key} in {self.table}",
            )
        present = set(found)
        missing = [k for k in keys if k not in present]
        if missing:
            raise DataError(
                f"the repair table {self.table} has no row for {_keys(self.key, missing)} "
                f"(batch {batch} needs {len(keys)} records, {len(missing)} are missing)",
                hint=f"add the corrected rows to {self.table} (every record the detector flags needs one), "
                "or narrow detect => '...' to the records it holds",
            )
        return merge(rows, table, self.key, f"the repair table {self.table}")


@dataclass(frozen=True)
class FunctionRepair(Repair):
    """A Python function registered with ``Connection.register_cleaner``, called once per record."""

    name: str = ""
    function: Callable[[dict[str, Any]], Any] | None = None

    kind = "function"

    def describe(self) -> str:
        return f"the Python function registered as '{self.name}' (one call per record)"

    def repair(
        self, engine: Engine, source_sql: str, rows: pa.Table, batch: int, types: Mapping[str, str]
    ) -> pa.Table:
        assert self.function is not None
        columns = {name.lower(): name for name in rows.column_names}
        corrected: list[dict[str, Any]] = []
        failures: list[tuple[Any, str]] = []
        for row in rows.to_pylist():
            key = row[self.key]
            try:
                result = self.function(dict(row))
            except Exception as error:  # the user's code: any exception fails the record
                failures.append((key, f"{type(error).__name__}: {error}"))
                continue
            if result is None:
                corrected.append(row)
                continue
            if not isinstance(result, Mapping):
                failures.append((key, f"it returned {type(result).__name__}, not a dict of columns or None"))
                continue
            fixed = dict(row)
            problem = None
            for name, value in result.items():
                column = columns.get(str(name).lower())
                if column is None:
                    problem = f"it returned column '{name}', which {source_sql} does not have"
                    break
                if column == self.key and value != key:
                    problem = f"it changed the key column {self.key} (to {value!r})"
                    break
                fixed[column] = value
            if problem is None:
                try:
                    pa.Table.from_pylist([fixed], schema=rows.schema)
                except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as error:
                    problem = f"a value does not fit its column ({error})"
            if problem is not None:
                failures.append((key, problem))
            else:
                corrected.append(fixed)
        if failures:
            first_key, first = failures[0]
            raise DataError(
                f"the repair function '{self.name}' failed for {len(failures)} of {rows.num_rows} records of "
                f"batch {batch}: {_keys(self.key, [k for k, _ in failures])}; for {self.key} = "
                f"{first_key!r}: {first}",
                hint="fix the function (it gets a dict of the record and returns a dict of the corrected "
                "columns, or None to keep the record) and run CLEAN again; nothing of the batch was applied",
            )
        return pa.Table.from_pylist(corrected, schema=rows.schema)


def merge(rows: pa.Table, corrected: pa.Table, key: str, what: str) -> pa.Table:
    """``rows`` with the columns of ``corrected`` (rows matched by ``key``) replacing theirs."""
    positions = {k: i for i, k in enumerate(corrected.column(key).to_pylist())}
    keys = rows.column(key).to_pylist()
    missing = [k for k in keys if k not in positions]
    if missing:
        raise DataError(f"{what} gave no row for {_keys(key, missing)}", hint="check the key column")
    order = pa.array([positions[k] for k in keys], pa.int64())
    result = rows
    for name in corrected.column_names:
        if name == key:
            continue
        index = rows.schema.get_field_index(name)
        values = corrected.column(name).take(order)
        result = result.set_column(
            index, rows.schema.field(index), values.cast(rows.schema.field(index).type)
        )
    return result


def classify(
    text: str,
    *,
    key: str,
    columns: Sequence[Column],
    cleaners: Mapping[str, Callable[..., Any]],
    engine: Engine,
) -> Repair:
    """The repair ``repair => text`` names: 'manual', an assignment list (it holds ``=``), a registered
    cleaner, or a table. Checks what can be checked without running it.

    Raises:
        TextError: an assignment list that does not parse.
        InvalidParameterError: an assignment to an unknown column or to the key, a repair table without
            the key column or without any column of the cleaned table, or a name that is none of these.
    """
    stripped = text.strip()
    if stripped.lower() == "manual":
        return ManualRepair(key)
    by_name = {c.name.lower(): c.name for c in columns}
    if looks_like_assignments(stripped):
        assignments = parse_assignments(stripped)
        fixed: list[Assignment] = []
        for a in assignments:
            name = by_name.get(a.column.lower())
            if name is None:
                raise InvalidParameterError(
                    f"the repair assigns column '{a.column}', which the cleaned table does not have",
                    hint=f"its columns: {', '.join(c.name for c in columns)}",
                )
            if name == key:
                raise InvalidParameterError(
                    f"the repair assigns the key column {key}",
                    hint="the key identifies a record; repair the other columns",
                )
            fixed.append(Assignment(name, a.expression))
        return AssignmentRepair(key, tuple(fixed), stripped)
    function = cleaners.get(stripped.lower())
    if function is not None:
        return FunctionRepair(key, stripped, function)
    try:
        table_node = sqlglot.parse_one(stripped, read=REFERENCE, into=exp.Table)
    except (SqlglotParseError, TokenError):
        table_node = None
    if table_node is not None and engine.relation_exists(table_node.sql(dialect=engine.dialect)):
        table_sql = table_node.sql(dialect=REFERENCE)
        repair_columns = engine.columns(table_node.sql(dialect=engine.dialect))
        names = {c.name.lower() for c in repair_columns}
        if key.lower() not in names:
            raise InvalidParameterError(
                f"the repair table {table_sql} has no key column {key}",
                hint=f"it needs the key and the corrected columns; it has: "
                f"{', '.join(c.name for c in repair_columns)}",
            )
        shared = tuple(c.name for c in columns if c.name.lower() in names and c.name != key)
        if not shared:
            raise InvalidParameterError(
                f"the repair table {table_sql} has no column of the cleaned table besides the key",
                hint="give it the key and the corrected columns, named as in the cleaned table",
            )
        return TableRepair(key, table_sql, shared)
    known = ", ".join(sorted(cleaners)) or "none registered"
    raise InvalidParameterError(
        f"repair '{text}' is not 'manual', a SQL assignment list, a registered cleaner or a table",
        hint="repair => 'manual', 'col = expr, ...', a table of corrected rows, or a function registered "
        f"with con.register_cleaner('{stripped}', fn) (registered: {known})",
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _keys(key: str, keys: Sequence[Any]) -> str:
    """``id 3, 7, 9 and 4 more``."""
    shown = ", ".join(repr(k) if isinstance(k, str) else str(k) for k in keys[:SHOWN_KEYS])
    more = f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
    return f"{key} {shown}{more}"
