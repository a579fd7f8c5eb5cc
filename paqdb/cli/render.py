"""Result tables as text: one renderer per output mode of the shell (box, csv, json, markdown, line).

Every renderer takes a :class:`pyarrow.Table`, or a statement's :class:`~paqdb.engines.base.ExecResult`
(whose rows come from DuckDB's own conversion, so a ``UHUGEINT``, a ``TIMETZ`` offset or a date past
year 9999 reads as DuckDB gives it), and yields text pieces (lines or small blocks, each ending in a
newline), so a long CSV or JSON result streams to the terminal without being built in memory first.
Values are shown the way DuckDB's own shell shows them: ``NULL`` for a missing value, ``true``/``false``
for booleans, lists as ``[1, 2]``.

>>> import pyarrow as pa
>>> print(render_text(pa.table({"answer": [42]}), "box"), end="")
┌────────┐
│ answer │
│ int64  │
├────────┤
│     42 │
└────────┘
(1 row)
"""

from __future__ import annotations

import csv
import datetime
import decimal
import functools
import io
import json
import math
import re
import unicodedata
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import pyarrow as pa

from paqdb.engines.base import Column, ExecResult

OUTPUT_MODES: tuple[str, ...] = ("box", "csv", "json", "markdown", "line")
"""The output formats ``.mode`` and ``--mode`` accept."""

DEFAULT_MAX_ROWS = 40
"""Rows the box format shows before it keeps only the first and last half of them."""

MIN_COLUMN_WIDTH = 10
"""Box columns are narrowed down to this width before whole columns are hidden to fit the terminal."""

NULL_TEXT = "NULL"
ELLIPSIS = "…"
ROW_GAP = "·"

_BATCH_ROWS = 2048
_ARROW_JSON = str(pa.json_())
_TEMPORAL_INFINITY = {2**63 - 1: "infinity", -(2**63 - 1): "-infinity", 2**31 - 1: "infinity"}
_TEMPORAL_INFINITY[-(2**31 - 1)] = "-infinity"


class RawText(str):
    """A value that has no Python equivalent (a timestamp beyond year 9999), kept as display text."""

    __slots__ = ()


# -- values -------------------------------------------------------------------------------------------


def python_values(column: pa.ChunkedArray | pa.Array) -> list[Any]:
    """The values of an Arrow column as Python objects, with text for values Python cannot hold.

    DuckDB's ``'infinity'::TIMESTAMP`` and dates past year 9999 have no :mod:`datetime` equivalent; they
    come back as :class:`RawText` (``infinity``, ``-infinity`` or Arrow's description of the value).
    """
    try:
        return column.to_pylist()
    except (OverflowError, ValueError, pa.ArrowException):
        return [_scalar_value(scalar) for scalar in column]


def _scalar_value(scalar: pa.Scalar) -> Any:
    try:
        return scalar.as_py()
    except (OverflowError, ValueError, pa.ArrowException):
        pass
    if pa.types.is_timestamp(scalar.type) or pa.types.is_date(scalar.type):
        width = (
            pa.int64()
            if pa.types.is_timestamp(scalar.type) or pa.types.is_date64(scalar.type)
            else pa.int32()
        )
        try:
            raw = scalar.cast(width).as_py()
        except pa.ArrowException:
            raw = None
        if raw in _TEMPORAL_INFINITY:
            return RawText(_TEMPORAL_INFINITY[raw])
    import pyarrow.compute as pc  # only for these rare values: it is slow to import

    try:
        return RawText(pc.cast(pa.array([scalar]), pa.string())[0].as_py())
    except pa.ArrowException:
        return RawText(repr(scalar))


def cell_text(value: Any, *, null: str = NULL_TEXT) -> str:
    """How a value reads in a table cell: ``NULL``, ``true``, ``3.5``, ``[1, 2]``, ``{'a': 1}``.

    Args:
        value: a Python value as :func:`python_values` returns it.
        null: the text for a missing value (the CSV format uses an empty string).
    """
    if value is None:
        return null
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return _bytes_text(bytes(value))
    if isinstance(value, list):
        return "[" + ", ".join(_nested_text(v) for v in value) + "]"
    if isinstance(value, tuple) and len(value) == 2:  # a map entry
        return f"{_nested_text(value[0])}={_nested_text(value[1])}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_nested_text(k)}: {_nested_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def value_text(value: Any, *, null: str = NULL_TEXT) -> str:
    """How a value from DuckDB's own Python conversion reads in a cell.

    As :func:`cell_text`, except for the types DuckDB converts differently from Arrow: a MAP is a dict
    (``{k: v}``), an unnamed STRUCT or an ARRAY a tuple (``(1, 'a')``).
    """
    if isinstance(value, tuple):
        return "(" + ", ".join(_nested_value_text(v) for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_nested_value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{_nested_value_text(k)}: {_nested_value_text(v)}" for k, v in value.items())
            + "}"
        )
    return cell_text(value, null=null)


def _nested_value_text(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return value_text(value)


def _nested_text(value: Any) -> str:
    if isinstance(value, str) and not isinstance(value, RawText):
        return "'" + value.replace("'", "''") + "'"
    return cell_text(value)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _bytes_text(value: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 and b != 0x5C else f"\\x{b:02X}" for b in value)


def json_value(value: Any) -> Any:
    """A value made JSON-safe: dates as ISO text, decimals as numbers, NaN and infinities as null."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return _bytes_text(bytes(value))
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):  # a map
            return {cell_text(k): json_value(v) for k, v in value}
        return [json_value(v) for v in value]
    if isinstance(value, tuple):
        return [json_value(v) for v in value]
    if isinstance(value, uuid.UUID | datetime.timedelta):
        return str(value)
    return cell_text(value)


def is_numeric(data_type: pa.DataType) -> bool:
    """True for the Arrow types the box and markdown formats right-align: integers, floats, decimals."""
    return pa.types.is_integer(data_type) or pa.types.is_floating(data_type) or pa.types.is_decimal(data_type)


_NUMERIC_SQL = re.compile(
    r"(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|INT\d*|FLOAT\d*|REAL|DOUBLE|DECIMAL|NUMERIC)(\(.*\))?",
    re.IGNORECASE,
)


def _is_numeric_sql(sql_type: str) -> bool:
    return _NUMERIC_SQL.fullmatch(sql_type.strip()) is not None


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes (wide East Asian characters count two, combining marks none)."""
    return len(text) if text.isascii() else sum(_char_width(char) for char in text)


@functools.lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def fit_text(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns, ending in ``…`` when something was cut."""
    if display_width(text) <= width:
        return text
    if width <= 0:
        return ""
    kept: list[str] = []
    used = 0
    for char in text:
        char_width = display_width(char)
        if used + char_width > width - 1:
            break
        kept.append(char)
        used += char_width
    return "".join(kept) + ELLIPSIS


def _pad(text: str, width: int, align: str) -> str:
    gap = max(0, width - display_width(text))
    if align == "right":
        return " " * gap + text
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def _cell_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")


def _type_names(table: pa.Table, columns: Sequence[Column] | None) -> list[str]:
    if columns is not None and len(columns) == table.num_columns:
        names = [c.type.strip('"').lower() for c in columns]
    else:
        names = [str(t) for t in table.schema.types]
    # Arrow's JSON extension type is DuckDB's JSON (it reads back as JSON), and is shown so.
    return ["json" if name == _ARROW_JSON else name for name in names]


def _rows(table: pa.Table) -> Iterator[list[Any]]:
    """Every row of ``table`` as a list of Python values, converted a batch at a time."""
    for start in range(0, table.num_rows, _BATCH_ROWS):
        chunk = table.slice(start, _BATCH_ROWS)
        yield from (list(row) for row in zip(*(python_values(c) for c in chunk.columns), strict=True))


Renderable: TypeAlias = pa.Table | ExecResult
"""What the renderers take: an Arrow table, or a statement's result."""


class _Source:
    """The rows to render, their column names and types, and how a value reads as text."""

    def __init__(self, data: Renderable, columns: Sequence[Column] | None = None) -> None:
        self.table: pa.Table | None = None
        self.result_rows = None
        if isinstance(data, ExecResult):
            columns = data.columns
            rows = data.rows
            if rows is not None:
                from paqdb.engines.rows import ArrowRows  # paqdb's own results stay Arrow

                if isinstance(rows, ArrowRows):
                    self.table = rows.arrow()
                else:
                    self.result_rows = rows
            else:
                self.table = pa.table({})
        else:
            self.table = data
        if self.table is not None:
            self.names = list(self.table.column_names)
            self.types = _type_names(self.table, columns)
            self.numeric = [is_numeric(t) for t in self.table.schema.types]
            self.text: Callable[..., str] = cell_text
        else:
            assert columns is not None
            self.names = [c.name for c in columns]
            self.types = [c.type.strip('"').lower() for c in columns]
            self.numeric = [_is_numeric_sql(c.type) for c in columns]
            self.text = value_text

    def rows(self) -> Iterator[list[Any]]:
        """Every row, converted a batch at a time."""
        if self.table is not None:
            yield from _rows(self.table)
            return
        assert self.result_rows is not None
        while batch := self.result_rows.fetchmany(_BATCH_ROWS):
            yield from (list(row) for row in batch)

    def head_tail(self, max_rows: int) -> tuple[list[list[Any]], list[list[Any]], int]:
        """The first and last rows that a box of ``max_rows`` rows shows (0: all), and the row count."""
        head_count = (max_rows + 1) // 2
        if self.table is not None:
            total = self.table.num_rows
            if max_rows > 0 and total > max_rows:
                head = list(_rows(self.table.slice(0, head_count)))
                return head, list(_rows(self.table.slice(total - (max_rows - head_count)))), total
            return list(_rows(self.table)), [], total
        kept: list[list[Any]] = []
        tail: deque[list[Any]] = deque()
        total = 0
        for row in self.rows():  # streamed: only the rows shown are kept
            total += 1
            if max_rows <= 0 or len(kept) < head_count:
                kept.append(row)
            else:
                tail.append(row)
                if len(tail) > max_rows - head_count:
                    tail.popleft()
        if max_rows > 0 and total <= max_rows:  # everything fits: no gap
            kept.extend(tail)
            tail.clear()
        return kept, list(tail), total


# -- box ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Which columns a box shows, how wide each is, and where the hidden-columns markers go."""

    shown: list[int]
    widths: list[int]
    gaps: tuple[int, ...] = ()  # positions in ``shown`` before which a "…" column stands (len: at the end)


_GAP_WIDTH = 4  # the "…" column with its padding and border


def _fitted_widths(natural: Sequence[int], minimum: Sequence[int], budget: int) -> list[int] | None:
    """Column widths that fit ``budget``: the widest columns cut to a common cap, none below its minimum.

    Returns None when even the minimums do not fit.
    """

    def widths(cap: int) -> list[int]:
        return [max(low, min(w, cap)) for w, low in zip(natural, minimum, strict=True)]

    if sum(natural) <= budget:
        return list(natural)
    if sum(minimum) > budget:
        return None
    low, high = 0, max(natural, default=0)
    while low < high:  # the largest cap whose widths fit
        middle = (low + high + 1) // 2
        if sum(widths(middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    return widths(low)


def _gaps(shown: Sequence[int], count: int) -> tuple[int, ...]:
    """Where ``…`` columns stand among ``shown`` (sorted indices of ``count`` columns): one per hidden run."""
    gaps = [k for k, index in enumerate(shown) if index - (shown[k - 1] if k else -1) > 1]
    if shown and shown[-1] < count - 1:
        gaps.append(len(shown))
    return tuple(gaps)


def _budget(max_width: int, shown: Sequence[int], count: int) -> int:
    """Terminal columns left for the values of ``shown`` once borders, padding and ``…`` columns are drawn."""
    return max_width - 3 * len(shown) - 1 - _GAP_WIDTH * len(_gaps(shown, count))


def _layout(natural: list[int], minimum: list[int], max_width: int | None, nested: list[bool]) -> _Layout:
    """Fit the columns to ``max_width``, as DuckDB's shell does and in this order: nested values (JSON,
    STRUCT, MAP, lists) give up their width first, then are hidden from the right; then the widest other
    columns narrow to a common cap; then middle columns are hidden behind ``…`` columns. A cut nested value
    says little at any width, while a cut sentence (why a trial stopped) says less than the whole."""
    count = len(natural)
    everything = list(range(count))
    if max_width is None or sum(natural) + 3 * count + 1 <= max_width:
        return _Layout(everything, natural, ())
    visible = list(everything)
    to_hide = [i for i in reversed(everything) if nested[i]]
    while True:
        flat = sum(natural[i] for i in visible if not nested[i])
        inner = [i for i in visible if nested[i]]
        room = _budget(max_width, visible, count) - flat
        fitted = _fitted_widths([natural[i] for i in inner], [minimum[i] for i in inner], room)
        if fitted is not None:
            by_index = dict(zip(inner, fitted, strict=True))
            return _Layout(visible, [by_index.get(i, natural[i]) for i in visible], _gaps(visible, count))
        if not to_hide:
            break
        visible.remove(to_hide.pop(0))
    widths = _fitted_widths(
        [natural[i] for i in visible], [minimum[i] for i in visible], _budget(max_width, visible, count)
    )
    if widths is not None:
        return _Layout(visible, widths, _gaps(visible, count))
    # Still too wide: keep columns alternately from the left and the right end, hide the middle.
    left: list[int] = []
    right: list[int] = []
    low, high = 0, len(visible) - 1
    take_left = True
    while low <= high:
        index = visible[low] if take_left else visible[high]
        chosen = sorted([*left, *right, index])
        if sum(minimum[i] for i in chosen) > _budget(max_width, chosen, count):
            break
        if take_left:
            left.append(index)
            low += 1
        else:
            right.insert(0, index)
            high -= 1
        take_left = not take_left
    if not left:  # not even one column fits: show the first, cut to the terminal
        return _Layout([0], [max(1, max_width - 4 - 5)], (1,) if count > 1 else ())
    shown = left + right
    widths = _fitted_widths(
        [natural[i] for i in shown], [minimum[i] for i in shown], _budget(max_width, shown, count)
    )
    return _Layout(shown, widths or [minimum[i] for i in shown], _gaps(shown, count))


_NESTED_TYPE = re.compile(r"(json|struct|map|union|list|large_list|fixed_size_list)\b|.*\]$", re.IGNORECASE)


def _is_nested(type_name: str) -> bool:
    """True for the types whose values are nested: JSON, STRUCT, MAP, UNION, lists and arrays."""
    return _NESTED_TYPE.match(type_name.strip()) is not None


def render_box(
    table: Renderable,
    *,
    columns: Sequence[Column] | None = None,
    max_width: int | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Iterator[str]:
    """Yield the lines of ``table`` drawn as a box with a name and a type header and a row-count footer.

    Numbers are right-aligned, other values left-aligned, missing values read ``NULL``. A result longer
    than ``max_rows`` (0: no limit) shows its first and last rows around a ``·`` row; a result wider than
    ``max_width`` terminal columns (None: no limit) narrows its widest columns, then hides middle columns
    behind a ``…`` column. Cells may hold several lines (an EXPLAIN plan).

    Args:
        table: the rows: an Arrow table or a statement's result.
        columns: the SQL name and type of each column, for the type header (Arrow types otherwise).
        max_width: the terminal width to fit.
        max_rows: the most rows to show.
    """
    source = _Source(table, columns)
    head, tail, total_rows = source.head_tail(max_rows)
    names, types, numeric, text = source.names, source.types, source.numeric, source.text
    aligns = ["right" if n else "left" for n in numeric]
    head_rows = [[_cell_lines(text(v)) for v in row] for row in head]
    tail_rows = [[_cell_lines(text(v)) for v in row] for row in tail]

    values_width = [1] * len(names)
    for row in head_rows + tail_rows:
        for i, lines in enumerate(row):
            values_width[i] = max(values_width[i], *(display_width(line) for line in lines))
    natural = [
        max(v, display_width(n), display_width(t)) for v, n, t in zip(values_width, names, types, strict=True)
    ]
    # Numbers are never cut (a cut number reads as another number); text narrows to a minimum.
    minimum = [
        v if n else min(w, MIN_COLUMN_WIDTH) for v, n, w in zip(values_width, numeric, natural, strict=True)
    ]
    nested = [_is_nested(t) for t in types]
    layout = _layout(natural, minimum, max_width, nested) if names else _Layout([], [], ())

    def draw(cells: Sequence[list[str]], align_of: Callable[[int], str]) -> Iterator[str]:
        pieces = [(cells[i], layout.widths[k], align_of(i)) for k, i in enumerate(layout.shown)]
        for gap in reversed(layout.gaps):
            pieces.insert(gap, ([ELLIPSIS], 1, "center"))
        height = max((len(lines) for lines, _, _ in pieces), default=1)
        for line_no in range(height):
            parts = [
                _pad(fit_text(lines[line_no] if line_no < len(lines) else "", width), width, align)
                for lines, width, align in pieces
            ]
            yield "│ " + " │ ".join(parts) + " │\n"

    def rule(left: str, middle: str, right: str) -> str:
        widths = list(layout.widths)
        for gap in reversed(layout.gaps):
            widths.insert(gap, 1)
        return left + middle.join("─" * (w + 2) for w in widths) + right + "\n"

    if names:
        yield rule("┌", "┬", "┐")
        yield from draw([[n] for n in names], lambda i: "center")
        yield from draw([[t] for t in types], lambda i: "center")
        yield rule("├", "┼", "┤")
        for row in head_rows:
            yield from draw(row, lambda i: aligns[i])
        if tail_rows or total_rows > len(head_rows):
            yield from draw([[ROW_GAP]] * len(names), lambda i: "center")
        for row in tail_rows:
            yield from draw(row, lambda i: aligns[i])
        yield rule("└", "┴", "┘")
    yield _footer(total_rows, len(head_rows) + len(tail_rows), len(names), len(layout.shown)) + "\n"


def _footer(total_rows: int, shown_rows: int, total_columns: int, shown_columns: int) -> str:
    parts = [f"{total_rows} row" + ("" if total_rows == 1 else "s")]
    if shown_rows < total_rows:
        parts.append(f"{shown_rows} shown")
    if shown_columns < total_columns:
        parts.append(f"{shown_columns} of {total_columns} columns shown")
    return "(" + ", ".join(parts) + ")"


# -- csv, json, markdown, line ------------------------------------------------------------------------


def render_csv(table: Renderable) -> Iterator[str]:
    """Yield ``table`` as CSV: a header line, then one line per row; NULL is an empty field."""
    source = _Source(table)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(source.names)
    for count, row in enumerate(source.rows(), 1):
        writer.writerow([source.text(v, null="") for v in row])
        if count % _BATCH_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def render_json(table: Renderable) -> Iterator[str]:
    """Yield ``table`` as a JSON array of objects, one row per line; NULL, NaN and infinities are null."""
    source = _Source(table)
    names = source.names
    first = True
    for row in source.rows():
        record = {name: json_value(value) for name, value in zip(names, row, strict=True)}
        yield ("[" if first else ",\n") + json.dumps(record, ensure_ascii=False)
        first = False
    yield "[]\n" if first else "]\n"


def _markdown_cell(value: Any, text: Callable[..., str] = cell_text) -> str:
    return text(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")


def render_markdown(table: Renderable) -> Iterator[str]:
    """Yield ``table`` as a GitHub-flavoured Markdown table with aligned columns (numbers to the right)."""
    source = _Source(table)
    names = [_markdown_cell(n) for n in source.names]
    if not names:
        return
    aligns = ["right" if n else "left" for n in source.numeric]
    rows = [[_markdown_cell(v, source.text) for v in row] for row in source.rows()]
    widths = [max(3, display_width(n), *(display_width(r[i]) for r in rows)) for i, n in enumerate(names)]
    yield "| " + " | ".join(_pad(n, w, "left") for n, w in zip(names, widths, strict=True)) + " |\n"
    yield (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if a == "right" else ("-" * (w + 2))
            for w, a in zip(widths, aligns, strict=True)
        )
        + "|\n"
    )
    for row in rows:
        yield "| " + " | ".join(_pad(c, w, a) for c, w, a in zip(row, widths, aligns, strict=True)) + " |\n"


def render_line(table: Renderable) -> Iterator[str]:
    """Yield ``table`` one ``column = value`` line per column and row, rows separated by a blank line."""
    source = _Source(table)
    names = source.names
    width = max((display_width(n) for n in names), default=0)
    for index, row in enumerate(source.rows()):
        lines = ["\n"] if index else []
        for name, value in zip(names, row, strict=True):
            text = source.text(value).replace("\n", "\n" + " " * (width + 3))
            lines.append(f"{_pad(name, width, 'right')} = {text}\n")
        yield "".join(lines)


def render(
    table: Renderable,
    mode: str,
    *,
    columns: Sequence[Column] | None = None,
    max_width: int | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Iterator[str]:
    """Yield ``table`` (an Arrow table or a statement's result) rendered in output mode ``mode``.

    ``mode`` is one of :data:`OUTPUT_MODES`. A result's rows are read as they are rendered.

    ``columns``, ``max_width`` and ``max_rows`` apply to the box format only; the others show every row.

    Raises:
        ValueError: an unknown mode.
    """
    if mode == "box":
        return render_box(table, columns=columns, max_width=max_width, max_rows=max_rows)
    if mode == "csv":
        return render_csv(table)
    if mode == "json":
        return render_json(table)
    if mode == "markdown":
        return render_markdown(table)
    if mode == "line":
        return render_line(table)
    raise ValueError(f"unknown output mode {mode!r}; the modes are {', '.join(OUTPUT_MODES)}")


def render_text(table: Renderable, mode: str, **options: Any) -> str:
    """:func:`render` joined into one string."""
    return "".join(render(table, mode, **options))


__all__ = [
    "DEFAULT_MAX_ROWS",
    "OUTPUT_MODES",
    "RawText",
    "cell_text",
    "display_width",
    "fit_text",
    "is_numeric",
    "json_value",
    "python_values",
    "render",
    "render_box",
    "render_csv",
    "render_json",
    "render_line",
    "render_markdown",
    "render_text",
    "value_text",
]
