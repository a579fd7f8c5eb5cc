"""Errors and messages in the user's terms (issue 8): no warnings printed, no rewritten SQL, no
megabyte echoes, a word for every column left out, predictions in the label's own type."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import paqdb
from paqdb import errors
from paqdb.engines.base import ExecResult
from paqdb.ml.model import _values_as
from paqdb.planner.plan import ExecutionState, LogicalNode, PhysicalOperator, Plan


@pytest.fixture
def model(con: paqdb.Connection) -> str:
    con.execute(
        "CREATE MODEL m PREDICT species FROM iris_train USING SEARCH (budget => '1 trials', "
        "families => ['logistic'])"
    )
    return "m"


# -- warnings -------------------------------------------------------------------------------------------


def test_numpy_warnings_of_a_search_are_summarised_not_printed(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE huge AS SELECT i::DOUBLE * 1e300 AS y, i AS x FROM range(200) r(i)")
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        with pytest.raises(errors.Error) as caught:
            con.execute(
                "CREATE MODEL m PREDICT y FROM huge "
                "USING SEARCH (budget => '2 trials', families => ['ridge'])"
            )
    assert [str(w.message) for w in escaped if issubclass(w.category, RuntimeWarning)] == []
    assert "RuntimeWarning: overflow" in (caught.value.hint or ""), "summarised once, in the error"
    assert (caught.value.hint or "").count("\n") == 0


class _Warns(PhysicalOperator):
    name = "Warns"

    def describe(self) -> dict[str, Any]:
        return {}

    def run(self, context: Any, state: ExecutionState) -> None:
        for _ in range(3):
            warnings.warn("overflow encountered in square", RuntimeWarning, stacklevel=1)
        warnings.warn("did not converge", UserWarning, stacklevel=1)
        state.result = ExecResult(None, 0, [], "TEST")
        state.message = "done"


def test_a_statements_warnings_become_one_line_of_its_message(con: paqdb.Connection) -> None:
    planner = con.session.planner
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        state = planner.run(Plan("test", LogicalNode("Test"), [_Warns()]))
    assert escaped == []
    first, summary = state.message.split("\n")
    assert first == "done"
    assert summary.startswith("4 warnings while running: RuntimeWarning: overflow encountered in square (3x)")
    assert "UserWarning: did not converge" in summary


# -- PREDICT(...) in the user's terms -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "missing"),
    [
        ("SELECT PREDICT(species USING MODEL m) FROM (SELECT 1 AS a)", "sepal_length_cm, sepal_width_cm"),
        (
            "WITH c AS (SELECT sepal_length_cm FROM iris) SELECT PREDICT(species USING MODEL m) FROM c",
            "sepal_width_cm, petal_length_cm, petal_width_cm",
        ),
        ("SELECT count(*) FROM (SELECT 1 AS a) WHERE PREDICT(species USING MODEL m) = 'x'", "petal_width_cm"),
    ],
)
def test_expression_form_names_the_model_and_the_missing_columns(
    con: paqdb.Connection, model: str, sql: str, missing: str
) -> None:
    with pytest.raises(errors.UndefinedColumnError) as caught:
        con.execute(sql)
    error = caught.value
    assert f"model '{model}' needs column(s) " in error.message
    assert missing in error.message
    assert "paqdb_score" not in str(error).lower() and "CAST(" not in str(error)
    assert error.column == sql.index("PREDICT(") + len("PREDICT(") + 1


def test_expression_form_with_parameters_in_its_input_is_bound_too(con: paqdb.Connection, model: str) -> None:
    with pytest.raises(errors.UndefinedColumnError) as caught:
        con.execute(
            "SELECT PREDICT(species USING MODEL m) "
            "FROM (SELECT sepal_length_cm FROM iris WHERE sepal_length_cm > ?)",
            [5.0],
        )
    assert "sepal_width_cm, petal_length_cm, petal_width_cm" in caught.value.message


def test_engine_errors_of_a_rewritten_query_never_show_the_rewrite(con: paqdb.Connection, model: str) -> None:
    con.execute("CREATE TABLE scored AS SELECT 1 AS a, 'x' AS species")
    with pytest.raises(errors.UndefinedColumnError) as caught:  # no SELECT to bind: mapped from DuckDB
        con.execute("UPDATE scored SET species = PREDICT(species USING MODEL m)")
    assert "model 'm' needs column(s) sepal_length_cm" in caught.value.message
    with pytest.raises(errors.ProgrammingError) as caught:
        con.execute("SELECT PREDICT(species USING MODEL m) + 1 FROM iris")
    assert "paqdb_score" not in str(caught.value).lower() and "CAST(" not in str(caught.value)


def test_unaliased_predict_columns_are_named_as_written(con: paqdb.Connection, model: str) -> None:
    cursor = con.execute(
        "SELECT PREDICT(species USING MODEL m), PREDICT(species USING MODEL m) = 'setosa', "
        "PREDICT(species USING MODEL m) AS mine FROM iris LIMIT 1"
    )
    assert [d[0] for d in cursor.description] == [
        "PREDICT(species USING MODEL m)",
        "PREDICT(species USING MODEL m) = 'setosa'",
        "mine",
    ]
    inner = con.execute("SELECT * FROM (SELECT PREDICT(species USING MODEL m) FROM iris) LIMIT 1")
    assert inner.description[0][0] == "PREDICT(species USING MODEL m)"


# -- long statements ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_unknown_model_in_a_huge_statement_shows_an_excerpt(con: paqdb.Connection) -> None:
    padding = " OR ".join(["sepal_length_cm > 1"] * 40_000)  # about 900,000 characters on one line
    sql = f"SELECT * FROM iris WHERE {padding} OR PREDICT(species USING MODEL nope) = 'x'"
    with pytest.raises(errors.UndefinedModelError) as caught:
        con.execute(sql)
    text = str(caught.value)
    assert len(text) < 400
    excerpt, caret = text.splitlines()[1:3]
    assert excerpt.startswith("...") and "MODEL nope" in excerpt
    assert excerpt[caret.index("^") :].startswith("nope")


def test_long_lines_are_cut_around_the_column() -> None:
    line = "x" * 300 + "HERE" + "y" * 300
    error = errors.Error("bad", line=1, column=301, statement=line)
    excerpt, caret = error.caret_excerpt().splitlines()  # type: ignore[union-attr]
    assert excerpt == "..." + "x" * errors.EXCERPT_RADIUS + "HERE" + "y" * (errors.EXCERPT_RADIUS - 3) + "..."
    assert excerpt[caret.index("^") :].startswith("HERE")
    short = errors.Error("bad", line=1, column=3, statement="SELECT 1")
    assert short.caret_excerpt() == "SELECT 1\n  ^"


def test_huge_engine_messages_are_cut(con: paqdb.Connection) -> None:
    name = "t" * 500_000
    with pytest.raises(errors.ProgrammingError) as caught:
        con.execute(f'SELECT * FROM "{name}"')
    assert len(str(caught.value)) <= errors.MAX_MESSAGE + 100
    assert "characters omitted" in caught.value.message


# -- misspellings that fall through to DuckDB ---------------------------------------------------------


def test_misspelt_statements_suggest_the_paqdb_one(con: paqdb.Connection, model: str) -> None:
    with pytest.raises(errors.ProgrammingError) as caught:
        con.execute("SHOW MODLES")
    assert "did you mean paqdb's SHOW MODELS?" in (caught.value.hint or "")
    with pytest.raises(errors.ParseError) as caught:
        con.execute("PREDCT species FROM iris USING MODEL m")
    assert "did you mean paqdb's PREDICT?" in (caught.value.hint or "")
    with pytest.raises(errors.ParseError) as caught:
        con.execute("DESCRIBE MODEL")
    assert caught.value.message == "DESCRIBE MODEL needs a model name"


def test_look_alike_sql_that_works_is_left_alone(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE modles (a INTEGER)")
    con.execute("CREATE TABLE model (b INTEGER)")
    assert con.execute("SHOW MODLES").fetchall()[0][0] == "a"
    assert con.execute("DESCRIBE MODEL").fetchall()[0][0] == "b"


@pytest.mark.parametrize("sql", ["PREDICT(species USING MODEL m)", "PREDICT ( species USING MODEL m"])
def test_a_bare_predict_expression_is_a_syntax_error(con: paqdb.Connection, sql: str) -> None:
    # Found by tests/session/test_statement_fuzz.py: it raised sqlglot's ValueError.
    with pytest.raises(errors.ParseError, match="is an expression") as caught:
        con.execute(sql)
    assert caught.value.hint and "SELECT PREDICT(species USING MODEL m) FROM" in caught.value.hint


def test_an_empty_model_name_is_refused(con: paqdb.Connection) -> None:
    with pytest.raises(errors.ParseError) as caught:
        con.execute('CREATE MODEL "" PREDICT species FROM iris_train')
    assert "cannot be empty" in caught.value.message
    assert con.execute("SHOW MODELS").fetchall() == []


# -- columns left out -----------------------------------------------------------------------------------


def test_columns_no_model_reads_are_named_in_explain_and_the_message(con: paqdb.Connection) -> None:
    con.execute(
        "CREATE TABLE odd AS SELECT *, TIME '10:00:00' AS at_time, INTERVAL 1 DAY AS gap, 'a'::BLOB AS raw, "
        "[1, 2] AS numbers, {'a': 1} AS pair FROM iris_train"
    )
    sql = "PREDICT species FROM odd GIVEN odd USING SEARCH (budget => '1 trials', families => ['logistic'])"
    plan = "\n".join(row[0] for row in con.execute(f"EXPLAIN {sql}").fetchall())
    cursor = con.execute(sql)
    for column, kind in [
        ("at_time", "TIME"),
        ("gap", "INTERVAL"),
        ("raw", "BLOB"),
        ("numbers", "INTEGER[]"),
        ("pair", "STRUCT"),
    ]:
        assert f"{column} ({kind}" in plan
        assert f"{column} ({kind}" in (cursor.message or "")
    assert "not used as features" in (cursor.message or "")


# -- regression predictions in the label's type -------------------------------------------------------


@pytest.mark.parametrize(
    ("sql_type", "arrow_type"),
    [("INTEGER", pa.int32()), ("DECIMAL(10,2)", pa.decimal128(10, 2)), ("DOUBLE", pa.float64())],
)
def test_regression_predictions_come_back_in_the_label_type(
    con: paqdb.Connection, sql_type: str, arrow_type: pa.DataType
) -> None:
    con.execute(
        f"CREATE TABLE amounts AS SELECT i AS x, (i % 7)::DOUBLE AS z, (i * 1.25)::{sql_type} AS y "
        "FROM range(200) r(i)"
    )
    search = "USING SEARCH (task => 'regression', budget => '1 trials', families => ['ridge'])"
    con.execute(f"CREATE MODEL amount PREDICT y FROM amounts {search}")
    for sql in (
        "PREDICT y FROM amounts USING MODEL amount",
        f"PREDICT y FROM amounts GIVEN amounts {search}",
    ):
        cursor = con.execute(sql)
        assert cursor.description[-1][:2] == ("predicted_y", sql_type)
    expression = con.execute("SELECT PREDICT(y USING MODEL amount) AS p FROM amounts")
    assert expression.description[0][:2] == ("p", sql_type)


def test_integer_regression_output_handles_diverged_predictions() -> None:
    values = _values_as(np.array([1.4, np.nan, np.inf, -np.inf, 2.5]), pa.int64())
    assert values.to_pylist()[:2] == [1, None]
    assert values[2].as_py() > 9e18 and values[3].as_py() == np.iinfo(np.int64).min
    assert _values_as(np.array([300.0, -1e9]), pa.int8()).to_pylist() == [127, -128]
