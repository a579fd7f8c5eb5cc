"""PREDICT, CREATE MODEL, SHOW/DESCRIBE/DROP MODEL and PREDICT(...) end to end on a real database."""

from __future__ import annotations

import pyarrow as pa
import pytest

import paqdb
from paqdb import errors

FAST = "USING SEARCH (budget => '3 trials', families => ['logistic', 'random_forest'])"


def test_predict_returns_input_rows_plus_prediction_and_confidence(con: paqdb.Connection) -> None:
    cur = con.execute(f"PREDICT species FROM iris_test GIVEN iris_train {FAST}")
    table = cur.fetch_arrow_table()
    test_rows = con.execute("SELECT count(*) FROM iris_test").fetchone()[0]
    assert table.num_rows == test_rows
    names = [d[0] for d in cur.description]
    assert names[:5] == ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm", "species"]
    assert names[5:] == ["predicted_species", "confidence"]
    assert table.schema.field("predicted_species").type == pa.string()
    confidence = table.column("confidence").to_pylist()
    assert all(0.0 <= c <= 1.0 for c in confidence)
    correct = sum(
        a == b
        for a, b in zip(
            table.column("species").to_pylist(), table.column("predicted_species").to_pylist(), strict=True
        )
    )
    assert correct / test_rows > 0.85, "iris is easy: a real model gets most rows right"


def test_one_shot_predict_leaves_no_model_and_no_function(con: paqdb.Connection) -> None:
    con.execute(f"PREDICT species FROM iris_test GIVEN iris_train {FAST}")
    assert con.execute("SHOW MODELS").fetchall() == []
    functions = con.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_name LIKE 'paqdb_score%'"
    ).fetchall()
    assert functions == []


def test_create_model_then_show_describe_predict_and_drop(con: paqdb.Connection) -> None:
    cur = con.execute(f"CREATE MODEL species_model PREDICT species FROM iris_train {FAST}")
    assert cur.message and "species_model version 1" in cur.message
    models = con.execute("SHOW MODELS").fetchall()
    assert [m[0] for m in models] == ["species_model"]
    trials = con.execute("DESCRIBE MODEL species_model")
    columns = [d[0] for d in trials.description]
    assert columns == [
        "trial",
        "family",
        "fate",
        "rounds",
        "score",
        "seconds",
        "reason",
        "hyperparameters",
        "resources",
    ]
    rows = trials.fetchall()
    assert len(rows) == 3
    assert {r[1] for r in rows} <= {"logistic", "random_forest"}
    assert all(r[2] in {"finished", "stopped", "cut short", "failed"} for r in rows)

    scored = con.execute("PREDICT species FROM iris_test USING MODEL species_model").fetch_arrow_table()
    assert "predicted_species" in scored.column_names

    agree = con.execute(
        "SELECT avg((PREDICT(species USING MODEL species_model) = species)::INT) FROM iris_test"
    ).fetchone()[0]
    assert agree > 0.85
    same = con.execute(
        "SELECT count(*) FROM iris_test WHERE PREDICT(species USING MODEL species_model) = 'setosa'"
    ).fetchone()[0]
    assert same == sum(1 for v in scored.column("predicted_species").to_pylist() if v == "setosa")

    con.execute("DROP MODEL species_model")
    assert con.execute("SHOW MODELS").fetchall() == []
    with pytest.raises(errors.UndefinedModelError):
        con.execute("PREDICT species FROM iris_test USING MODEL species_model")
    con.execute("DROP MODEL IF EXISTS species_model")


def test_replace_makes_a_new_version(con: paqdb.Connection) -> None:
    con.execute(f"CREATE MODEL m PREDICT species FROM iris_train {FAST}")
    with pytest.raises(errors.DuplicateModelError) as caught:
        con.execute(f"CREATE MODEL m PREDICT species FROM iris_train {FAST}")
    assert "CREATE OR REPLACE" in (caught.value.hint or "")
    con.execute(f"CREATE MODEL IF NOT EXISTS m PREDICT species FROM iris_train {FAST}")
    con.execute(
        "CREATE OR REPLACE MODEL m PREDICT species FROM iris_train USING SEARCH (budget => '1 trials')"
    )
    assert con.execute("SELECT version FROM paqdb.models WHERE name = 'm'").fetchone() == (2,)
    assert len(con.execute("DESCRIBE MODEL m").fetchall()) == 1
    con.execute("SELECT PREDICT(species USING MODEL m) FROM iris_test").fetchall()


def test_regression_task_is_inferred_and_has_no_confidence(con: paqdb.Connection) -> None:
    con.execute("LOAD DATASET diabetes")
    table = con.execute(
        "PREDICT progression FROM diabetes GIVEN diabetes "
        "USING SEARCH (budget => '2 trials', families => ['ridge'])"
    ).fetch_arrow_table()
    assert table.column_names[-1] == "predicted_progression"
    assert "confidence" not in table.column_names
    assert pa.types.is_floating(table.schema.field("predicted_progression").type)


def test_integer_and_boolean_labels_round_trip_their_type(con: paqdb.Connection) -> None:
    con.execute(
        "CREATE TABLE points AS SELECT range AS x, (range % 3)::INTEGER AS k, range % 2 = 0 AS even, "
        "(range * 7 % 11)::DOUBLE AS noise FROM range(300)"
    )
    for label, arrow_type in (("k", pa.int32()), ("even", pa.bool_())):
        table = con.execute(
            f"PREDICT {label} FROM points GIVEN points "
            "USING SEARCH (budget => '1 trials', families => ['random_forest'])"
        ).fetch_arrow_table()
        assert table.schema.field(f"predicted_{label}").type == arrow_type


def test_null_features_still_get_predictions(con: paqdb.Connection) -> None:
    con.execute(f"CREATE MODEL m PREDICT species FROM iris_train {FAST}")
    con.execute("CREATE TABLE holes AS SELECT * FROM iris_test")
    con.execute("UPDATE holes SET sepal_length_cm = NULL, petal_width_cm = NULL")
    values = [r[0] for r in con.execute("SELECT PREDICT(species USING MODEL m) FROM holes").fetchall()]
    assert values and all(v in {"setosa", "versicolor", "virginica"} for v in values)


def test_explain_shows_logical_and_physical_plans_without_running(con: paqdb.Connection) -> None:
    lines = [
        r[0]
        for r in con.execute(f"EXPLAIN PREDICT species FROM iris_test GIVEN iris_train {FAST}").fetchall()
    ]
    text = "\n".join(lines)
    assert "Logical plan:" in text and "Physical plan:" in text
    assert "ModelSearch" in text and "strategy=tupaq" in text and "3 trials" in text
    assert "ScoreInEngine" in text
    assert con.execute("SHOW MODELS").fetchall() == []


def test_explain_analyze_runs_and_times_each_step(con: paqdb.Connection) -> None:
    lines = [
        r[0]
        for r in con.execute(
            "EXPLAIN ANALYZE CREATE MODEL m PREDICT species FROM iris_train "
            "USING SEARCH (budget => '1 trials')"
        ).fetchall()
    ]
    assert any(line.startswith("Measured:") for line in lines)
    assert con.execute("SELECT name FROM paqdb.models").fetchall() == [("m",)]


def test_scoring_function_runs_once_per_vector_not_per_row(con: paqdb.Connection) -> None:
    """The prediction and confidence come from one struct-valued call; DuckDB calls it per vector."""
    from paqdb.udfs import scoring

    calls: list[int] = []

    class Counting:
        def predict_arrow(self, columns):
            calls.append(len(columns[0]))
            return pa.array(["a"] * len(columns[0])), pa.array([1.0] * len(columns[0]))

    con.execute("CREATE TABLE many AS SELECT range::DOUBLE AS x FROM range(10000)")
    scoring.register(con.session.engine, "count_me", Counting(), ["DOUBLE"], "VARCHAR")
    rows = con.execute(
        "SELECT * EXCLUDE (s), s.prediction, s.confidence FROM (SELECT *, count_me(x) AS s FROM many)"
    ).fetchall()
    assert len(rows) == 10000
    assert sum(calls) == 10000, "each row is scored exactly once"
    assert len(calls) <= 10, "rows arrive in vectors, not one by one"


def test_explain_shows_the_tupaq_allocation(con: paqdb.Connection) -> None:
    lines = [
        r[0]
        for r in con.execute(
            "EXPLAIN CREATE MODEL m PREDICT species FROM iris_train USING SEARCH (strategy => 'tupaq')"
        ).fetchall()
    ]
    search = next(line for line in lines if "ModelSearch" in line)
    assert "strategy=tupaq" in search and "TuPAQ rounds of" in search and "(1 + 0.5) x best" in search


def test_explain_shows_batches_rounds_and_the_estimated_cost(con: paqdb.Connection) -> None:
    def plan(search: str) -> tuple[str, list[str]]:
        lines = [
            r[0]
            for r in con.execute(
                f"EXPLAIN CREATE MODEL m PREDICT species FROM iris_train {search}"
            ).fetchall()
        ]
        at = next(i for i, line in enumerate(lines) if "ModelSearch" in line)
        details = [line.strip() for line in lines[at + 1 :] if line.strip().startswith("- ")]
        return lines[at], details

    search, families = plan(
        "USING SEARCH (strategy => 'tupaq', families => ['logistic', 'gradient_boosting'], "
        "budget => '12 trials', epsilon => 0.25)"
    )
    assert "(1 + 0.25) x best" in search and "configurations=12" in search and "batching=on" in search
    assert "estimated cost=~" in search and "to completion" in search
    # Iris is three classes of 150 rows: a batch holds the family's share of the 12 trials.
    assert families[0].startswith("- logistic (50 epochs, 10/round, batches of 6, ~")
    assert families[1].startswith("- gradient_boosting (500 iterations, 50/round, ~")

    search, families = plan(
        "USING SEARCH (strategy => 'hyperband', families => ['logistic'], batching => false)"
    )
    # Logistic alone trains at most 50 epochs, so the rungs stop there: [17, 50] from 10 with eta 3.
    assert "Hyperband brackets, eta=3, rungs of [17, 50] units" in search and "batching=off" in search
    assert "/round" not in families[0]

    search, families = plan("USING SEARCH (strategy => 'random', families => ['logistic'])")
    assert "every configuration trains to completion" in search and "batching" not in search
    assert families == [families[0]] and "500 iterations" in families[0] and "batches" not in families[0]
