"""CLEAN as a demanding user runs it: repairs that take records out of the model's data, a detector that
flags nothing, a repair table of other types."""

from __future__ import annotations

from typing import Any

import pytest

import paqdb

from .conftest import catalog_state


def _versions(con: paqdb.Connection, model: str) -> list[int]:
    rows = con.execute("SELECT version FROM paqdb.model_versions WHERE name = ? ORDER BY version", [model])
    return [r[0] for r in rows.fetchall()]


def test_a_repair_that_gives_every_record_a_null_label_ends_and_records_each_value_once(
    cdb: paqdb.Connection,
) -> None:
    # The model cannot learn from a record whose repaired label is NULL: it used to be drawn again and
    # again (the loop never ended when a whole batch was such records).
    cdb.register_cleaner("unlabel", lambda row: {"is_fraud": None, "amount": abs(row["amount"])})
    cursor = cdb.execute(
        "CLEAN donations PREDICT is_fraud USING MODEL fraud_model "
        "WITH (detect => 'amount < 0', repair => 'unlabel', key => 'id', budget => 12, batch_size => 4)"
    )
    rows = cursor.fetchall()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[-1][1] == 12
    assert "12 repaired records have a label the model does not know" in (cursor.message or "")
    counts = cdb.execute(
        "SELECT count(*), count(DISTINCT row_key || '/' || column_name), count(DISTINCT row_key) "
        "FROM paqdb.clean_corrections"
    ).fetchone()
    assert counts == (24, 24, 12)
    assert cdb.execute("SELECT cleaned, batches FROM paqdb.clean_runs").fetchone() == (12, len(rows))


def test_records_left_out_of_the_model_are_not_cleaned_twice(cdb: paqdb.Connection) -> None:
    def fix(row: dict[str, Any]) -> dict[str, Any]:
        return {"is_fraud": None} if row["id"] % 3 == 0 else {"amount": abs(row["amount"])}

    cdb.register_cleaner("fix", fix)
    flagged = cdb.execute("SELECT count(*) FROM donations WHERE amount < 0").fetchone()[0]
    cdb.execute(
        "CLEAN donations PREDICT is_fraud USING MODEL fraud_model "
        "WITH (detect => 'amount < 0', repair => 'fix', key => 'id', budget => 1000, batch_size => 7)"
    ).fetchall()
    keys = cdb.execute("SELECT row_key, column_name, count(*) FROM paqdb.clean_corrections GROUP BY ALL")
    per_value = keys.fetchall()
    assert per_value and all(count == 1 for _, _, count in per_value)
    assert len({key for key, _, _ in per_value}) == flagged


def test_a_detector_that_flags_nothing_saves_no_version_and_no_run(cdb: paqdb.Connection) -> None:
    before = _versions(cdb, "fraud_model")
    cursor = cdb.execute(
        "CLEAN donations PREDICT is_fraud USING MODEL fraud_model "
        "WITH (detect => 'amount > 1e12', repair => 'amount = abs(amount)', key => 'id')"
    )
    assert cursor.fetchall() == []
    assert "nothing cleaned, no run recorded" in (cursor.message or "")
    assert "budget" not in (cursor.message or "")
    assert _versions(cdb, "fraud_model") == before
    runs = cdb.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'paqdb' AND table_name = 'clean_runs'"
    ).fetchone()[0]
    assert runs == 0 or cdb.execute("SELECT count(*) FROM paqdb.clean_runs").fetchone()[0] == 0


def test_a_repair_table_keyed_by_text_finds_its_rows(cdb: paqdb.Connection) -> None:
    cdb.execute(
        "CREATE TABLE fixed_text AS SELECT CAST(id AS VARCHAR) AS id, CAST(-amount / 3 AS VARCHAR) AS amount "
        "FROM donations WHERE amount < 0"
    )
    cdb.execute(
        "CLEAN donations PREDICT is_fraud USING MODEL fraud_model "
        "WITH (detect => 'amount < 0', repair => 'fixed_text', key => 'id', budget => 10, batch_size => 5)"
    ).fetchall()
    new_values = cdb.execute("SELECT CAST(new_value AS DOUBLE) FROM paqdb.clean_corrections").fetchall()
    assert len(new_values) == 10 and all(v > 0 for (v,) in new_values)


def test_a_repair_table_of_values_that_do_not_convert_is_a_clear_error_that_changes_nothing(
    cdb: paqdb.Connection,
) -> None:
    cdb.execute("CREATE TABLE fixed_words AS SELECT id, 'abc' AS amount FROM donations WHERE amount < 0")
    before = catalog_state(cdb)
    with pytest.raises(paqdb.DataError) as caught:
        cdb.execute(
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model "
            "WITH (detect => 'amount < 0', repair => 'fixed_words', key => 'id', budget => 10)"
        )
    assert "fixed_words" in str(caught.value) and "'abc'" in str(caught.value)
    assert caught.value.hint is not None and "amount DOUBLE" in caught.value.hint
    assert catalog_state(cdb) == before
