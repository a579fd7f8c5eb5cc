"""Readable models (issue 10, item 9): DESCRIBE MODEL's typed columns, and the shell fitting wide results to
the terminal with ``.maxwidth`` (nested values give way first, long values end in an ellipsis)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pytest

from paqdb.catalog import ModelRecord, TrialRecord
from paqdb.cli.render import display_width, render_text
from paqdb.cli.shell import DotCommandError, Shell
from paqdb.engines.base import Column, ExecResult
from paqdb.session import Session

_BANDIT = {"max_epochs": 50, "search_rounds": [1, 2, 3], "allocation": "tupaq", "train_rows": 20822}
_TUPAQ_STOP = "stopped early at round 3: validation error 0.1489 > (1 + 0.5) x best error 0.1291 = 0.1937"
_HYPERPARAMETERS = {"C": 0.0011759832668476532, "max_iter": 500, "tol": 0.0001, "penalty": "l2"}

# Trials as the searches write them: what DESCRIBE MODEL showed as 500-character JSON strings.
TRIALS = [
    TrialRecord(0, "logistic", _HYPERPARAMETERS,
                {**_BANDIT, "epochs": 50, "rounds": 5, "fate": "finished", "round_scores": [0.85] * 5},
                "accuracy", 0.8522574447646494, "finished", 0.1764),
    TrialRecord(1, "gradient_boosting", {"max_iter": 500, "learning_rate": 0.1},
                {**_BANDIT, "max_iter": 150, "rounds": 3, "fate": "stopped", "ended_round": 3,
                 "threshold_error": 0.1937},
                "accuracy", 0.8511, "stopped", 1.25, _TUPAQ_STOP),
    TrialRecord(2, "kernel_approximation", {"gamma": 0.0955052824853761, "n_components": 512},
                {**_BANDIT, "resource": 1, "rounds": 1, "fate": "unfinished", "ended_round": 1},
                "accuracy", 0.8511, "stopped", 1.111,
                "cut short at round 1 (10 units): the search's time budget ran out"),
    TrialRecord(3, "mlp", {"hidden_layer_sizes": [64]}, {**_BANDIT, "rounds": 2, "fate": "failed"},
                "accuracy", None, "failed", 0.5, "failed at round 2: RuntimeError: diverged"),
    TrialRecord(4, "random_forest", {"n_estimators": 100}, {"n_estimators": 37, "cut_short": True},
                "accuracy", 0.8547550432276657, "stopped", 3.0,
                "cut short by the time budget after 37 of 100 n_estimators (the model it left is scored and "
                "usable)"),
]  # fmt: skip


def _store(session: Session) -> None:
    record = ModelRecord(
        name="income_model",
        version=0,
        task="classification",
        label="income",
        label_type="VARCHAR",
        features=[Column("age", "DOUBLE"), Column("occupation", "VARCHAR")],
        family="gradient_boosting",
        hyperparameters={"max_iter": 500},
        metric="accuracy",
        validation_score=0.87,
        train_rows=26027,
        artifact_format="test",
        artifact=b"not read by DESCRIBE MODEL",
    )
    session.models.catalog.save(record, TRIALS)


class Console:
    """A shell writing to a string."""

    def __init__(self, session: Session) -> None:
        self.out = io.StringIO()
        self.shell = Shell(session, out=self.out, err=io.StringIO(), color=False)

    def run(self, script: str) -> str:
        self.out.seek(0)
        self.out.truncate()
        self.shell.run_script(script)
        return self.out.getvalue()


@pytest.fixture
def console() -> Iterator[Console]:
    with Session(":memory:") as session:
        _store(session)
        yield Console(session)


def _widest(text: str) -> int:
    return max(display_width(line) for line in text.splitlines())


def test_describe_model_fits_120_columns_with_the_reasons_whole(console: Console) -> None:
    output = console.run(".maxwidth 120\nDESCRIBE MODEL income_model;")
    assert _widest(output) <= 120
    header = output.splitlines()[1]
    for column in ("trial", "family", "fate", "rounds", "score", "seconds", "reason"):
        assert f" {column} " in header
    # Why each trial ended, whole: the rule with its numbers, the budget, the error.
    for reason in (
        "error 0.1489 > (1 + 0.5) x best 0.1291",
        "time budget ran out",
        "RuntimeError: diverged",
        "out of time at 37 of 100 n_estimators",
    ):
        assert f" {reason} " in output, reason
    for fate in ("finished", "stopped", "cut short", "failed"):
        assert f" {fate} " in output
    assert " kernel_approximation " in output and " 0.8523 " in output
    # The JSON columns gave way: hidden behind a "…" column, and the footer says so.
    assert "of 9 columns shown" in output and " … " in header


def test_describe_model_at_160_columns_shows_every_column(console: Console) -> None:
    output = console.run(".maxwidth 160\nDESCRIBE MODEL income_model;")
    assert _widest(output) <= 160
    assert " hyperparameters " in output and " resources " in output and "columns shown" not in output
    assert " error 0.1489 > (1 + 0.5) x best 0.1291 " in output
    types = [cell.strip() for cell in output.splitlines()[2].split("│")]
    assert types.count("json") == 2  # the type header names DuckDB's JSON type
    assert '{"C": 0.00117' in output and "…" in output  # long JSON values end in an ellipsis


def test_maxwidth_zero_is_no_limit_and_the_default_is_the_terminal(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert console.run(".maxwidth") == "100 (the terminal's)\n"
    assert _widest(console.run("DESCRIBE MODEL income_model;")) <= 100
    console.run(".maxwidth 0")
    assert console.run(".maxwidth") == "0\n"
    wide = console.run("DESCRIBE MODEL income_model;")
    assert _widest(wide) > 200 and '"penalty": "l2"}' in wide and "columns shown" not in wide
    console.run(".maxwidth 90")
    assert console.shell.max_width == 90 and _widest(console.run("DESCRIBE MODEL income_model;")) <= 90


@pytest.mark.parametrize("arguments", ["wide", "-5", "80 100"])
def test_maxwidth_rejects_what_is_not_a_width(console: Console, arguments: str) -> None:
    with pytest.raises(DotCommandError, match=r"usage: \.maxwidth N"):
        console.run(f".maxwidth {arguments}")


def test_the_command_line_takes_max_width(capsys: pytest.CaptureFixture[str]) -> None:
    from paqdb.cli.shell import main

    assert main(["--max-width", "40", "-c", "SELECT repeat('x', 100) AS long_text, 1 AS n;"]) == 0
    output = capsys.readouterr().out
    assert _widest(output) <= 40 and "…" in output


def test_nested_columns_give_way_before_text_is_cut() -> None:
    table = pa.table(
        {
            "name": ["a sentence people need to read whole"],
            "details": pa.array(['{"key": "' + "v" * 200 + '"}']).cast(pa.json_()),
            "n": [1],
        }
    )
    narrow = render_text(table, "box", max_width=60)
    assert "a sentence people need to read whole" in narrow and _widest(narrow) <= 60
    assert "2 of 3 columns shown" in narrow and "│ … │" in narrow
    roomy = render_text(table, "box", max_width=90)
    assert "a sentence people need to read whole" in roomy and '{"key": "vvv' in roomy
    assert _widest(roomy) <= 90 and "columns shown" not in roomy


def test_describe_model_columns_are_typed_and_the_json_is_queryable(console: Console) -> None:
    result = console.shell.session.execute("DESCRIBE MODEL income_model")
    table = _arrow(result)
    assert (
        table.schema.field("rounds").type == pa.int32() and table.schema.field("score").type == pa.float64()
    )
    assert table.column("fate").to_pylist() == ["finished", "stopped", "cut short", "failed", "cut short"]
    assert table.column("rounds").to_pylist() == [5, 3, 1, 2, None]
    assert table.column("reason").to_pylist()[0] is None
    # DuckDB reads Arrow's JSON extension type as its JSON type: the json functions and ->> query it.
    con = duckdb.connect()
    con.register("trials", table)
    assert con.execute("SELECT typeof(hyperparameters) FROM trials LIMIT 1").fetchone() == ("JSON",)
    assert con.execute("SELECT trial FROM trials WHERE (resources->>'max_iter')::INT = 150").fetchall() == [
        (1,)
    ]
    assert con.execute("SELECT json_extract(hyperparameters, '$.C')::DOUBLE FROM trials LIMIT 1").fetchone()[
        0
    ] == pytest.approx(0.0011759832668476532)


def test_show_models_lists_the_label_and_the_features(console: Console) -> None:
    table = _arrow(console.shell.session.execute("SHOW MODELS"))
    assert table.column("label").to_pylist() == ["income"]
    assert table.column_names[-1] == "features" and table.schema.field("features").type == pa.json_()
    con = duckdb.connect()
    con.register("models", table)
    assert con.execute(
        "SELECT list(f->>'name' ORDER BY f->>'name') FROM models, unnest(features::JSON[]) AS t(f)"
    ).fetchone() == (["age", "occupation"],)


def _arrow(result: ExecResult) -> pa.Table:
    rows = result.rows
    if rows is not None and hasattr(rows, "arrow"):
        return rows.arrow()
    assert result.table is not None
    return result.table


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (_TUPAQ_STOP, "error 0.1489 > (1 + 0.5) x best 0.1291"),
        (
            "stopped early at round 2: validation error 0.3 not among the best 3 of 9 (ceil(n / 3)) "
            "at rung 2 "
            "(30 units); the worst kept has error 0.2",
            "error 0.3 not in the best 3 of 9 (worst kept 0.2)",
        ),
        ("cut short at round 4 (40 units): the search was interrupted", "the search was interrupted"),
        ("failed at round 1: ValueError: bad input", "ValueError: bad input"),
        (
            "metric 'auc' is undefined on the validation rows",
            "metric 'auc' is undefined on the validation rows",
        ),
        (None, None),
    ],
)
def test_the_reason_drops_what_the_fate_and_rounds_say(error: str | None, reason: str | None) -> None:
    from paqdb.catalog.store import _reason

    assert _reason(error) == reason
