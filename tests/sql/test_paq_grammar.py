"""Golden tests of the paqdb grammar: node classes, canonical text, round trips and error positions."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import split_entries
from hypothesis import given, settings
from hypothesis import strategies as st

from paqdb import statements
from paqdb.errors import Error, InvalidParameterError, ParseError, ProgrammingError
from paqdb.options import Range
from paqdb.sql import ast
from paqdb.statements import grammar, parse, parse_one
from paqdb.statements.predict import Predict

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "paq_statements.sql"


def _golden() -> list[tuple[str, str, str]]:
    cases = []
    for entry in split_entries(GOLDEN.read_text()):
        lines = entry.splitlines()
        if not lines[0].startswith("-- node:"):
            continue
        node = lines[0].removeprefix("-- node:").strip()
        canonical = lines[1].removeprefix("-- canonical:").strip()
        cases.append((node, canonical, "\n".join(lines[2:])))
    return cases


CASES = _golden()


def test_golden_file_covers_every_statement_kind() -> None:
    kinds = {node for node, _, _ in CASES}
    assert {c.__name__ for c in statements.declarations()} | {"Explain"} <= kinds


@pytest.mark.parametrize(("node", "canonical", "sql"), CASES, ids=[c[1][:60] for c in CASES])
def test_golden_parse(node: str, canonical: str, sql: str) -> None:
    statement = parse_one(sql)
    assert statement.ast is not None
    assert type(statement.ast).__name__ == node
    assert statement.ast.sql(dialect=grammar().dialect) == canonical
    again = parse_one(canonical)
    assert again.ast is not None and type(again.ast) is type(statement.ast)
    # The canonical text is a fixed point of parse + generate.
    assert again.ast.sql(dialect=grammar().dialect) == canonical


def test_predict_train_and_predict_fields() -> None:
    node = parse_one("PREDICT income FROM adult_test GIVEN adult_train").ast
    assert isinstance(node, Predict)
    assert node.args["label"].name == "income"
    assert node.args["source"].name == "adult_test"
    assert node.args["given"].name == "adult_train"
    assert node.args.get("model") is None


def test_search_options_become_python_values() -> None:
    node = parse_one(
        "PREDICT income FROM a GIVEN b USING SEARCH (families => ['logistic', 'random_forest'], "
        "budget => '2 minutes', learning_rate => RANGE(1e-4, 1e-1, LOG), max_depth => [4, 8, 16], "
        "seed => 3, shrink => -0.5, on => TRUE, none => NULL, ident => my_table)"
    ).ast
    assert isinstance(node, Predict)
    options = node.args["search"].options()
    assert options == {
        "families": ["logistic", "random_forest"],
        "budget": "2 minutes",
        "learning_rate": Range(1e-4, 1e-1, "log"),
        "max_depth": [4, 8, 16],
        "seed": 3,
        "shrink": -0.5,
        "on": True,
        "none": None,
        "ident": "my_table",
    }


def test_predict_call_in_expression() -> None:
    node = parse_one("SELECT name FROM t WHERE PREDICT(income USING MODEL m) = '>50K'").ast
    calls = list(node.find_all(ast.PredictCall))
    assert len(calls) == 1
    assert calls[0].this.name == "income" and calls[0].args["model"].name == "m"


def test_explain_wraps_the_statement() -> None:
    node = parse_one("EXPLAIN ANALYZE PREDICT y FROM t USING MODEL m").ast
    assert isinstance(node, ast.Explain) and node.args["analyze"]
    assert isinstance(node.this, Predict)


def test_explain_of_an_explain_is_a_positioned_parse_error() -> None:
    with pytest.raises(ParseError, match="EXPLAIN cannot explain an EXPLAIN") as caught:
        parse_one("EXPLAIN EXPLAIN PREDICT y FROM t USING MODEL m")
    assert (caught.value.line, caught.value.column) == (1, 9)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT predict FROM t",
        "CREATE TABLE predict (given INTEGER, model VARCHAR)",
        "SELECT predict(x) FROM t",
        "SELECT 'PREDICT income FROM a GIVEN b'",
        "DESCRIBE model",
        "CREATE TABLE model (a INT)",
        "EXPLAIN SELECT 1",
        "LOAD parquet",
        "-- PREDICT x FROM y GIVEN z\nSELECT 1",
        "SELECT * FROM t AS clean",
    ],
)
def test_look_alikes_stay_plain(sql: str) -> None:
    statement = parse_one(sql)
    assert statement.is_plain
    assert statement.text == sql


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("SHOW MODLES", "SHOW MODELS"),
        ("show model", "SHOW MODELS"),
        ("PREDCT species FROM iris USING MODEL m", "PREDICT"),
        ("PERDICT species FROM iris GIVEN t", "PREDICT"),
        ("CRATE MODEL m PREDICT y FROM t", "CREATE MODEL"),
        ("CREATE MODLE m PREDICT y FROM t", "CREATE MODEL"),
        ("CREATE OR REPLACE MODLE m PREDICT y FROM t", "CREATE OR REPLACE MODEL"),
        ("DROP MODELS m", "DROP MODEL"),
        ("DESCRIBE MODLE m", "DESCRIBE MODEL"),
        ("LOAD DATASETS iris", "LOAD DATASET"),
    ],
)
def test_misspelt_paq_statement_fails_with_a_did_you_mean(text: str, meant: str) -> None:
    statement = parse_one(text)
    assert statement.is_plain, "a misspelling is not guessed at: DuckDB runs it and reports the failure"
    error = grammar().explain_failure(
        statement, ProgrammingError("Catalog Error: Table with name MODLES does not exist!")
    )
    assert f"did you mean paqdb's {meant}?" in (error.hint or "")


@pytest.mark.parametrize(
    "text",
    [
        "SHOW TABLES",
        "CREATE TABLE t (a INT)",
        "CREATE MACRO f(a) AS a",
        "DROP VIEW v",
        "LOAD httpfs",
        "SELECT 1",
        "CALL pragma_version()",
        'SHOW "MODLES"',
        "DESCRIBE models_table",
    ],
)
def test_other_failing_sql_gets_no_suggestion(text: str) -> None:
    error = grammar().explain_failure(parse_one(text), ProgrammingError("Catalog Error: something"))
    assert error.hint is None


def test_describe_model_without_a_name_says_so() -> None:
    statement = parse_one("DESCRIBE MODEL")
    assert statement.is_plain, "DESCRIBE model alone describes a table called model, if there is one"
    error = grammar().explain_failure(
        statement, ProgrammingError("Catalog Error: Table with name MODEL does not exist!")
    )
    assert isinstance(error, ParseError)
    assert error.message == "DESCRIBE MODEL needs a model name"
    assert (error.line, error.column) == (1, 15)
    assert "SHOW MODELS" in (error.hint or "")


def test_script_splits_at_top_level_semicolons_only() -> None:
    script = "SELECT ';' AS a; /* ; */ PREDICT y FROM t GIVEN u;\n-- just a comment;\nSELECT 2;"
    statements = parse(script)
    assert [s.is_plain for s in statements] == [True, False, True]
    assert statements[0].text == "SELECT ';' AS a"
    assert statements[2].text == "-- just a comment;\nSELECT 2", "comments stay with their statement"


# -- errors ----------------------------------------------------------------------------------------------

SYNTAX_ERRORS = [
    # (sql, line, column, words in the message)
    ("PREDICT income FROM", 1, 20, "table name"),
    ("PREDICT FROM t GIVEN u", 1, 9, "column to predict"),
    ("PREDICT y FROM t", 1, 17, "GIVEN"),
    ("PREDICT y FROM t GIVEN u USING MODEL m", 1, 1, "not both"),
    ("PREDICT y t GIVEN u", 1, 11, "FROM"),
    ("SELECT 1;\nPREDICT income\n  FROM t GIVEN u USING SEARCH (budget '2 min')", 3, 39, "'=>'"),
    ("PREDICT y FROM t GIVEN u USING SEARCH budget => 1", 1, 39, "'('"),
    ("PREDICT y FROM t GIVEN u USING SEARCH (budget => 1", 1, 51, "')'"),
    ("PREDICT y FROM t GIVEN u USING SEARCH (, a => 1)", 1, 40, "option name"),
    ("PREDICT y FROM t GIVEN u USING WHATEVER", 1, 32, "MODEL or SEARCH"),
    ("CREATE MODEL PREDICT y FROM t", 1, 22, "PREDICT"),
    ("CREATE MODEL m y FROM t", 1, 16, "PREDICT"),
    ("CREATE MODEL m PREDICT y FROM t extra", 1, 33, "after the end"),
    ("DROP MODEL", 1, 11, "model name"),
    ("SELECT a,\n       PREDICT(income USING MODEL) FROM t", 2, 34, "model name"),
    ("CAUSAL FREQ x, y FROM t", 1, 24, "TIME"),
    ("  \n\tPREDICT y FROM t GIVEN", 2, 24, "table name"),
    # issue 8: a name cannot be empty; sqlglot's token reprs never reach the message
    ('CREATE MODEL "" PREDICT y FROM t', 1, 14, "cannot be empty"),
    ('PREDICT "" FROM t GIVEN u', 1, 9, "cannot be empty"),
    ('LOAD DATASET iris AS ""', 1, 22, "cannot be empty"),
    ("LOAD DATASET iris AS", 1, 21, "table name after AS"),
    ("LOAD DATASET iris AS (SELECT 1)", 1, 22, "table name after AS"),
]


@pytest.mark.parametrize(("sql", "line", "column", "words"), SYNTAX_ERRORS, ids=[e[0] for e in SYNTAX_ERRORS])
def test_syntax_error_position(sql: str, line: int, column: int, words: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(sql)
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert words in error.message
    assert "<Token" not in error.message and "SENTINEL" not in error.message
    assert error.sqlstate == "42601"
    text = str(error)
    assert "\x1b[" not in text, "no terminal colour codes"
    caret_line = text.splitlines()[2]
    assert caret_line == " " * (column - 1) + "^"


@pytest.mark.parametrize(
    ("sql", "column", "words"),
    [
        ("PREDICT y FROM t GIVEN u USING SEARCH (a => 1, a => 2)", 48, "given twice"),
        ("PREDICT y FROM t GIVEN u USING SEARCH (x => RANGE(3, 1))", 45, "RANGE"),
        ("PREDICT y FROM t GIVEN u USING SEARCH (x => RANGE(0, 1, LOG))", 45, "RANGE"),
        ("PREDICT y FROM t GIVEN u USING SEARCH (x => RANGE('a', 1))", 45, "RANGE"),
        ("PREDICT y FROM t GIVEN u USING SEARCH (x => 1 + a)", 45, "literal"),
    ],
)
def test_bad_option_values_are_positioned(sql: str, column: int, words: str) -> None:
    with pytest.raises(Error) as caught:
        parse(sql)
    assert isinstance(caught.value, InvalidParameterError | ParseError)
    assert caught.value.column == column
    assert words in caught.value.message


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("PREDICTFROMGIVENUSINGMODEL ();,'\"[]=>-.0123abc\n")), max_size=60)
)
def test_parse_never_crashes(text: str) -> None:
    """Any text either parses or raises a paqdb Error (never an internal exception)."""
    try:
        statements = parse(text)
    except Error as error:
        assert error.line is None or error.line >= 1
        assert "<Token" not in error.message, "sqlglot's token reprs are internals"
        return
    for statement in statements:
        assert statement.text.strip() == statement.text


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "SELECT 1",
                "SELECT ';'",
                "PREDICT y FROM t GIVEN u",
                "SHOW MODELS",
                "SELECT /* ; */ 2",
                "CREATE TABLE x (a INT)",
            ]
        ),
        min_size=1,
        max_size=6,
    )
)
def test_split_round_trips(pieces: list[str]) -> None:
    statements = parse(";\n".join(pieces))
    assert [s.text for s in statements] == pieces
