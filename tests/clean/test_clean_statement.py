"""CLEAN as the issue writes it: every detector and repair, the result, the model versions, corrections."""

from __future__ import annotations

from typing import Any

import pytest

import paqdb
from paqdb.clean.capability import CleanProgress
from paqdb.statements import grammar

from .conftest import catalog_state

FIRST = """CLEAN donations PREDICT is_fraud USING MODEL fraud_model
  WITH (detect => 'amount < 0 OR recipient IS NULL', repair => 'donations_fixed', key => 'id',
        budget => 500, batch_size => 50)"""
SECOND = """CLEAN sensors PREDICT failure USING MODEL failure_model
  WITH (detect => 'temp > 200', repair => 'temp = temp / 10', key => 'id', budget => 200)"""


def _versions(con: paqdb.Connection, model: str) -> list[int]:
    rows = con.execute("SELECT version FROM paqdb.model_versions WHERE name = ? ORDER BY version", [model])
    return [r[0] for r in rows.fetchall()]


def test_the_first_example_cleans_from_a_table_of_corrected_rows(cdb: paqdb.Connection) -> None:
    flagged = cdb.execute("SELECT count(*) FROM donations WHERE amount < 0 OR recipient IS NULL").fetchone()
    before = cdb.execute("SELECT sum(amount), count(recipient) FROM donations").fetchone()
    cursor = cdb.execute(FIRST)
    rows = cursor.fetchall()
    names = [d[0] for d in cursor.description]
    assert names == ["batch", "cleaned", "changed", "accuracy", "accuracy_change", "still_flagged"]
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    cleaned = [r[1] for r in rows]
    assert cleaned == sorted(cleaned) and cleaned[-1] == flagged[0]  # budget 500 > flagged: all of them
    assert rows[-1][5] == 0 and all(0.0 <= r[3] <= 1.0 for r in rows)
    assert cursor.message is not None and "budget 500 is more than the" in cursor.message
    assert "fraud_model version 2" in cursor.message
    # the model: a new version, listed and used
    assert _versions(cdb, "fraud_model") == [1, 2]
    shown = {r[0]: r for r in cdb.execute("SHOW MODELS").fetchall()}
    assert shown["fraud_model"][1] == 2 and "amount" in shown["fraud_model"][-1]
    assert cdb.execute("DESCRIBE MODEL fraud_model").fetchall() == []  # no search trials: cleaned
    predictions = cdb.execute("PREDICT is_fraud FROM donations USING MODEL fraud_model").fetch_arrow_table()
    earlier = cdb.execute(
        "PREDICT is_fraud FROM donations USING MODEL fraud_model VERSION 1"
    ).fetch_arrow_table()
    assert predictions.num_rows == 400 and predictions.column("confidence") != earlier.column("confidence")
    # nothing lost: the table is as it was, the corrections are recorded
    assert cdb.execute("SELECT sum(amount), count(recipient) FROM donations").fetchone() == before
    corrections = cdb.execute(
        "SELECT c.row_key, c.column_name, c.old_value, c.new_value, c.batch, c.applied "
        "FROM paqdb.clean_corrections c WHERE run = 1"
    ).fetchall()
    fixed = {
        (str(r[0]), r[1]): r[2]
        for r in cdb.execute(
            "SELECT id, 'amount', CAST(amount AS VARCHAR) FROM donations_fixed UNION ALL "
            "SELECT id, 'recipient', recipient FROM donations_fixed"
        ).fetchall()
    }
    assert corrections and all(not r[5] for r in corrections)
    for key, column, _old, new, batch, _ in corrections:
        assert (
            float(fixed[(key, column)]) == float(new) if column == "amount" else fixed[(key, column)] == new
        )
        assert 1 <= batch <= len(rows)
    run = cdb.execute(
        "SELECT source, label, model, key_column, status, cleaned, model_version FROM paqdb.clean_runs"
    )
    assert run.fetchall() == [("donations", "is_fraud", "fraud_model", "id", "finished", flagged[0], 2)]


def test_apply_and_undo_corrections(cdb: paqdb.Connection) -> None:
    original = cdb.execute("SELECT * FROM donations ORDER BY id").fetchall()
    cdb.execute(FIRST)
    applied = cdb.execute("CLEAN donations APPLY CORRECTIONS")
    outcomes = applied.fetchall()
    assert outcomes and {r[5] for r in outcomes} == {"applied"}
    assert applied.message is not None and f"{len(outcomes)} correction(s) applied" in applied.message
    joined = cdb.execute(
        "SELECT count(*) FROM donations d JOIN donations_fixed f USING (id) "
        "WHERE d.amount = f.amount AND d.recipient IS NOT DISTINCT FROM f.recipient"
    ).fetchone()
    assert joined == cdb.execute("SELECT count(*) FROM donations_fixed").fetchone()
    assert cdb.execute("SELECT count(*) FROM paqdb.clean_corrections WHERE NOT applied").fetchone() == (0,)
    again = cdb.execute("CLEAN donations APPLY CORRECTIONS")
    assert again.fetchall() == [] and "no corrections to apply" in str(again.message)
    # undo one batch, then the rest
    undone = cdb.execute("CLEAN donations UNDO CORRECTIONS RUN 1 BATCH 2").fetchall()
    assert undone and {r[1] for r in undone} == {2} and {r[5] for r in undone} == {"undone"}
    cdb.execute("CLEAN donations UNDO CORRECTIONS")
    assert cdb.execute("SELECT * FROM donations ORDER BY id").fetchall() == original


def test_a_value_changed_since_is_a_conflict_left_alone(cdb: paqdb.Connection) -> None:
    cdb.execute(SECOND)
    key = cdb.execute("SELECT row_key FROM paqdb.clean_corrections LIMIT 1").fetchone()[0]
    cdb.execute("UPDATE sensors SET temp = -1 WHERE id = CAST(? AS BIGINT)", [key])
    outcome = {r[2]: r[5] for r in cdb.execute("CLEAN sensors APPLY CORRECTIONS").fetchall()}
    assert outcome[key] == "conflict" and list(outcome.values()).count("conflict") == 1
    assert cdb.execute("SELECT temp FROM sensors WHERE id = CAST(? AS BIGINT)", [key]).fetchone() == (-1.0,)
    assert cdb.execute("SELECT max(temp) FROM sensors").fetchone()[0] < 200  # the others are applied


def test_the_second_example_repairs_by_sql_assignments(cdb: paqdb.Connection) -> None:
    dirty = dict(cdb.execute("SELECT id, temp FROM sensors WHERE temp > 200").fetchall())
    cursor = cdb.execute(SECOND)
    rows = cursor.fetchall()
    assert rows[-1][1] == len(dirty) and rows[-1][5] == 0
    assert f"cleaning at most {len(dirty)}" in str(cursor.message)
    corrections = cdb.execute(
        "SELECT row_key, column_name, new_value FROM paqdb.clean_corrections"
    ).fetchall()
    assert len(corrections) == len(dirty)
    for key, column, new in corrections:
        assert column == "temp" and float(new) == pytest.approx(dirty[int(key)] / 10)


def test_a_registered_python_function_repairs_each_record(cdb: paqdb.Connection) -> None:
    seen: list[dict[str, Any]] = []

    def fix_donation(row: dict[str, Any]) -> dict[str, Any] | None:
        seen.append(row)
        fixed: dict[str, Any] = {}
        if row["amount"] < 0:
            fixed["amount"] = -row["amount"] / 3
        if row["recipient"] is None:
            fixed["recipient"] = "unknown"
        return fixed or None

    cdb.register_cleaner("fix_donation", fix_donation)
    rows = cdb.execute(
        "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (detect => 'amount < 0 OR recipient "
        "IS NULL', repair => 'fix_donation', key => 'id', budget => 60, batch_size => 20)"
    ).fetchall()
    assert rows[-1][1] <= 60 and len(seen) == rows[-1][1]
    assert set(seen[0]) == {"id", "amount", "hour", "recipient", "is_fraud"}
    news = cdb.execute("SELECT column_name, new_value FROM paqdb.clean_corrections").fetchall()
    assert news and all(v == "unknown" for c, v in news if c == "recipient")
    assert all(float(v) > 0 for c, v in news if c == "amount")
    cdb.unregister_cleaner("FIX_DONATION")
    with pytest.raises(paqdb.ProgrammingError, match="not 'manual', a SQL assignment list"):
        cdb.execute(
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model "
            "WITH (detect => 'amount < 0', repair => 'fix_donation', key => 'id')"
        )


@pytest.mark.parametrize("detector", ["learned", "both"])
def test_the_learned_detector(cdb: paqdb.Connection, detector: str) -> None:
    rows = cdb.execute(
        "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (detect => 'amount < 0 OR recipient "
        f"IS NULL', detector => '{detector}', repair => 'donations_fixed', key => 'id', budget => 60, "
        "batch_size => 20)"
    ).fetchall()
    assert len(rows) >= 1 and rows[-1][1] <= 60
    assert cdb.execute("SELECT detector FROM paqdb.clean_runs").fetchone() == (detector,)
    assert _versions(cdb, "fraud_model") == [1, 2]


def test_the_learned_detector_alone_starts_from_every_record(cdb: paqdb.Connection) -> None:
    # Without rules every record is a candidate; the repair table only covers the dirty ones, so the
    # records it lacks are an error, and an assignment list covers every record.
    rows = cdb.execute(
        "CLEAN sensors PREDICT failure USING MODEL failure_model WITH (detector => 'learned', "
        "repair => 'temp = CASE WHEN temp > 200 THEN temp / 10 ELSE temp END', key => 'id', budget => 40, "
        "batch_size => 20)"
    ).fetchall()
    assert rows[-1][1] <= 40 and len(rows) >= 2


def test_without_using_model_clean_trains_one_first(cdb: paqdb.Connection) -> None:
    cursor = cdb.execute(
        "CLEAN sensors PREDICT failure "
        "WITH (detect => 'temp > 200', repair => 'temp = temp / 10', key => 'id')"
    )
    assert cursor.fetchall()
    message = str(cursor.message)
    assert "sensors_failure_clean did not exist: CLEAN trained it first" in message
    assert _versions(cdb, "sensors_failure_clean") == [1, 2]
    family = cdb.execute("SELECT family FROM paqdb.model_versions WHERE name = 'sensors_failure_clean'")
    assert {r[0] for r in family.fetchall()} == {"logistic"}
    trials = cdb.execute("DESCRIBE MODEL sensors_failure_clean VERSION 1").fetchall()
    assert trials
    features = cdb.execute("SELECT features FROM paqdb.model_versions WHERE name = 'sensors_failure_clean'")
    assert all('"id"' not in r[0] for r in features.fetchall())  # the key is no feature
    # a second CLEAN uses the model it trained
    cdb.execute(
        "CLEAN sensors PREDICT failure WITH (detect => 'temp > 150', repair => 'temp = 1', key => 'id')"
    )
    assert _versions(cdb, "sensors_failure_clean") == [1, 2, 3]


def test_explain_says_what_would_run_and_runs_nothing(cdb: paqdb.Connection) -> None:
    before = catalog_state(cdb)
    plan = "\n".join(r[0] for r in cdb.execute("EXPLAIN " + FIRST).fetchall())
    flagged = cdb.execute("SELECT count(*) FROM donations WHERE amount < 0 OR recipient IS NULL").fetchone()[
        0
    ]
    assert "detector: rules: amount < 0 OR recipient IS NULL" in plan
    assert f"flagged now: {flagged} records" in plan
    assert "repair: corrected rows from donations_fixed" in plan
    assert f"budget: {flagged} records in" in plan and "batches of up to 50" in plan
    assert "model: fraud_model version 1 (logistic)" in plan
    manual = "\n".join(
        r[0]
        for r in cdb.execute(
            "EXPLAIN CLEAN sensors PREDICT failure "
            "WITH (detect => 'temp > 200', repair => 'manual', key => 'id')"
        ).fetchall()
    )
    assert "sensors_failure_clean does not exist: train a logistic model first" in manual
    assert "interactive: start a run" in manual
    assert catalog_state(cdb) == before


def test_progress_is_reported_between_batches(cdb: paqdb.Connection) -> None:
    events: list[Any] = []
    cdb.session.progress = events.append
    rows = cdb.execute(FIRST).fetchall()
    steps = [e for e in events if isinstance(e, CleanProgress)]
    assert [e.batch for e in steps] == [r[0] for r in rows] and [e.cleaned for e in steps] == [
        r[1] for r in rows
    ]
    assert str(steps[0]).startswith("cleaning: batch 1, ")


def test_a_caller_transaction_decides(clean_db: str) -> None:
    with paqdb.connect(clean_db) as con:  # autocommit off: PEP 249
        before = catalog_state(con)
        con.rollback()
        con.execute(SECOND).fetchall()
        assert _versions(con, "failure_model") == [1, 2]
        con.rollback()
        assert catalog_state(con) == before
        con.execute(SECOND).fetchall()
        con.commit()
    with paqdb.connect(clean_db) as con:
        assert _versions(con, "failure_model") == [1, 2]


@pytest.mark.parametrize(
    "sql",
    [
        "CLEAN donations APPLY CORRECTIONS",
        "CLEAN donations UNDO CORRECTIONS RUN 2 BATCH 3",
        "CLEAN donations APPLY CORRECTIONS BATCH 1",
        "CLEAN donations PREDICT is_fraud USING MODEL m WITH (detect => 'a > 1', repair => 'manual', "
        "key => 'id')",
    ],
)
def test_the_forms_print_back_as_written(sql: str) -> None:
    statement = grammar().parse(sql)[0]
    assert (
        statement.is_paq
        and grammar().parse(statement.ast.sql(dialect=grammar().dialect))[0].ast == statement.ast
    )
    assert statement.ast.sql(dialect=grammar().dialect) == sql


def test_a_misspelt_corrections_form_says_what_it_reads() -> None:
    with pytest.raises(paqdb.ProgrammingError, match="CORRECTIONS") as caught:
        grammar().parse("CLEAN donations APPLY CORECTIONS")
    assert caught.value.column is not None
