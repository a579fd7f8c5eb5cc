"""The result renderers of the shell: box, csv, json, markdown and line text from Arrow tables."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from paqdb.cli.render import (
    OUTPUT_MODES,
    cell_text,
    display_width,
    fit_text,
    python_values,
    render_text,
)
from paqdb.engines.base import Column


def query(sql: str) -> pa.Table:
    return duckdb.connect().sql(sql).to_arrow_table()


# -- values ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "NULL"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (2.5, "2.5"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
        (Decimal("1.50"), "1.50"),
        ("x", "x"),
        (b"a\x00\\", "a\\x00\\x5C"),
        ([1, None, "a"], "[1, NULL, 'a']"),
        ({"a": 1, "b": [2]}, "{'a': 1, 'b': [2]}"),
        ([(1, "x")], "[1='x']"),
        (datetime.date(2020, 1, 2), "2020-01-02"),
        (datetime.datetime(2020, 1, 2, 3, 4, 5), "2020-01-02 03:04:05"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_values_beyond_python_datetime_are_kept_as_text() -> None:
    table = query("SELECT 'infinity'::TIMESTAMP AS t, '-infinity'::DATE AS d, TIMESTAMP '2020-01-01' AS ok")
    assert [python_values(c)[0] for c in table.columns[:2]] == ["infinity", "-infinity"]
    assert python_values(table.column("ok")) == [datetime.datetime(2020, 1, 1)]


def test_fit_text_cuts_by_terminal_width() -> None:
    assert fit_text("abcdef", 10) == "abcdef"
    assert fit_text("abcdef", 4) == "abc…"
    assert display_width("漢字") == 4
    assert fit_text("漢字漢字", 5) == "漢字…"


# -- box ------------------------------------------------------------------------------------------------


def test_box_aligns_numbers_right_text_left_and_shows_null() -> None:
    table = query("SELECT * FROM (VALUES (1, 'a', 2.5), (100, NULL, NULL)) v(n, s, f)")
    columns = [Column("n", "INTEGER"), Column("s", "VARCHAR"), Column("f", "DECIMAL(2,1)")]
    assert render_text(table, "box", columns=columns) == (
        "┌─────────┬─────────┬──────────────┐\n"
        "│    n    │    s    │      f       │\n"
        "│ integer │ varchar │ decimal(2,1) │\n"
        "├─────────┼─────────┼──────────────┤\n"
        "│       1 │ a       │          2.5 │\n"
        "│     100 │ NULL    │         NULL │\n"
        "└─────────┴─────────┴──────────────┘\n"
        "(2 rows)\n"
    )


def test_box_of_an_empty_result_has_the_header_and_a_zero_footer() -> None:
    text = render_text(query("SELECT 1 AS a WHERE false"), "box")
    assert text == "┌───────┐\n│   a   │\n│ int32 │\n├───────┤\n└───────┘\n(0 rows)\n"


def test_box_keeps_the_first_and_last_rows_of_a_long_result() -> None:
    text = render_text(query("SELECT range AS i FROM range(1000)"), "box", max_rows=6)
    body = [line for line in text.splitlines() if line.startswith("│") and "int64" not in line][1:]
    assert [line.strip("│ ") for line in body] == ["0", "1", "2", "·", "997", "998", "999"]
    assert text.endswith("(1000 rows, 6 shown)\n")


def test_box_max_rows_zero_shows_every_row() -> None:
    text = render_text(query("SELECT range AS i FROM range(100)"), "box", max_rows=0)
    assert "│    99 │" in text
    assert text.endswith("(100 rows)\n")


def test_box_fits_the_width_by_narrowing_text_columns() -> None:
    text = render_text(query("SELECT repeat('x', 200) AS long, 123456789 AS n"), "box", max_width=40)
    assert all(display_width(line) <= 40 for line in text.splitlines())
    assert "xxx…" in text
    assert "123456789" in text  # numbers are never cut


def test_box_hides_middle_columns_when_too_many() -> None:
    columns = ", ".join(f"'value {i}' AS column_{i}" for i in range(30))
    text = render_text(query(f"SELECT {columns}"), "box", max_width=80)
    lines = text.splitlines()
    assert all(display_width(line) <= 80 for line in lines)
    assert "column_0" in lines[1] and "column_29" in lines[1] and "…" in lines[1]
    assert "column_15" not in text
    assert lines[-1].startswith("(1 row, ") and "of 30 columns shown" in lines[-1]


def test_box_draws_multi_line_cells_on_several_lines() -> None:
    text = render_text(query("SELECT 'one' || chr(10) || 'two' AS s, 1 AS n"), "box")
    assert "│ one    │     1 │\n│ two    │       │\n" in text


# -- the other modes --------------------------------------------------------------------------------


SAMPLE = "SELECT * FROM (VALUES (1, 'a,b', NULL), (2, 'c|d', 1.5)) v(id, name, score)"


def test_csv() -> None:
    assert render_text(query(SAMPLE), "csv") == 'id,name,score\n1,"a,b",\n2,c|d,1.5\n'


def test_json_is_an_array_of_objects_with_null() -> None:
    text = render_text(query(SAMPLE), "json")
    assert json.loads(text) == [
        {"id": 1, "name": "a,b", "score": None},
        {"id": 2, "name": "c|d", "score": 1.5},
    ]
    assert text.count("\n") == 2  # one row per line


def test_json_converts_dates_nan_and_nested_values() -> None:
    table = query("SELECT DATE '2020-01-02' AS d, 'nan'::DOUBLE AS f, [1, 2] AS l, {'k': 'v'} AS s")
    assert json.loads(render_text(table, "json")) == [
        {"d": "2020-01-02", "f": None, "l": [1, 2], "s": {"k": "v"}}
    ]
    assert render_text(query("SELECT 1 AS a WHERE false"), "json") == "[]\n"


def test_markdown_escapes_pipes_and_right_aligns_numbers() -> None:
    assert render_text(query(SAMPLE), "markdown") == (
        "| id  | name | score |\n|----:|------|------:|\n|   1 | a,b  |  NULL |\n|   2 | c\\|d |   1.5 |\n"
    )


def test_line() -> None:
    assert render_text(query(SAMPLE), "line") == (
        "   id = 1\n name = a,b\nscore = NULL\n\n   id = 2\n name = c|d\nscore = 1.5\n"
    )


EMPTY_RESULTS = {  # mode: (a table without columns, a column without rows)
    "box": ("(0 rows)\n", "┌───────┐\n│   a   │\n│ int32 │\n├───────┤\n└───────┘\n(0 rows)\n"),
    "csv": ("\n", "a\n"),
    "json": ("[]\n", "[]\n"),
    "markdown": ("", "| a   |\n|----:|\n"),
    "line": ("", ""),
}


def test_every_mode_has_an_expected_empty_result() -> None:
    assert sorted(EMPTY_RESULTS) == sorted(OUTPUT_MODES)


@pytest.mark.parametrize("mode", OUTPUT_MODES)
def test_every_mode_renders_a_table_without_columns_or_rows(mode: str) -> None:
    no_columns, no_rows = EMPTY_RESULTS[mode]
    assert render_text(pa.table({}), mode) == no_columns
    assert render_text(query("SELECT 1 AS a WHERE false"), mode) == no_rows


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown output mode"):
        render_text(query("SELECT 1"), "html")
