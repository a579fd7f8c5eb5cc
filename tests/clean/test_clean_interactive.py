"""Interactive CLEAN (``repair => 'manual'``): hand out a batch, people fix it with UPDATE, the next CLEAN
folds it in; from the DB-API and from the shell, across a closed and reopened database."""

from __future__ import annotations

from pathlib import Path

import pytest

import paqdb
from paqdb.cli import main

MANUAL = (
    "CLEAN sensors PREDICT failure USING MODEL failure_model "
    "WITH (detect => 'temp > 200', repair => 'manual', key => 'id', batch_size => 10, budget => 25)"
)
THIRD = (
    "CLEAN sensors PREDICT failure USING MODEL failure_model "
    "WITH (detect => 'temp > 200', repair => 'manual', key => 'id')"
)


def _fix(con: paqdb.Connection, ids: list[int]) -> None:
    marks = ", ".join("?" * len(ids))
    con.execute(f"UPDATE sensors SET temp = temp / 10 WHERE id IN ({marks})", ids)


def test_the_third_example_hands_out_a_batch_to_fix(cdb: paqdb.Connection) -> None:
    cursor = cdb.execute(THIRD)
    rows = cursor.fetchall()
    assert [d[0] for d in cursor.description] == ["id", "temp", "vibration", "failure"]
    assert 1 <= len(rows) <= 50 and all(r[1] > 200 for r in rows)
    assert "batch 1: fix the" in str(cursor.message) and "UPDATE sensors SET" in str(cursor.message)
    pending = cdb.execute("SELECT CAST(row_key AS BIGINT), batch FROM paqdb.clean_pending ORDER BY 1")
    assert pending.fetchall() == sorted((r[0], 1) for r in rows)
    run = cdb.execute("SELECT status, batches, cleaned, repair FROM paqdb.clean_runs").fetchall()
    assert run == [("open", 0, 0, "manual")]
    assert cdb.execute("SELECT version FROM paqdb.models WHERE name = 'failure_model'").fetchone() == (1,)


def test_an_interactive_run_across_closed_and_reopened_connections(clean_db: str) -> None:
    original = {}
    handed_out: list[list[int]] = []
    with paqdb.connect(clean_db, autocommit=True) as con:
        original = dict(con.execute("SELECT id, temp FROM sensors").fetchall())
        batch = con.execute(MANUAL).fetchall()
        handed_out.append([r[0] for r in batch])
    for step in range(2, 10):
        with paqdb.connect(clean_db) as con:  # reopened, and the PEP 249 transaction
            _fix(con, handed_out[-1][:-1])  # the last record of each batch is left as it was: checked, fine
            cursor = con.execute(MANUAL)
            batch = cursor.fetchall()
            con.commit()
            message = str(cursor.message)
            assert f"batch {step - 1} folded in: {len(handed_out[-1])} records" in message
            assert f"failure_model version {step}" in message
            if not batch:
                assert "is finished: the budget is spent" in message
                break
            assert not set(r[0] for r in batch) & {k for ids in handed_out for k in ids}
            handed_out.append([r[0] for r in batch])
    with paqdb.connect(clean_db, autocommit=True) as con:
        run = con.execute("SELECT status, batches, cleaned FROM paqdb.clean_runs").fetchone()
        cleaned = sum(len(ids) for ids in handed_out)
        assert run == ("finished", len(handed_out), cleaned) and cleaned >= 25
        versions = con.execute("SELECT version FROM paqdb.model_versions WHERE name = 'failure_model'")
        assert [v[0] for v in versions.fetchall()] == list(range(1, len(handed_out) + 2))
        corrections = con.execute(
            "SELECT row_key, column_name, old_value, new_value, batch, applied FROM paqdb.clean_corrections "
            "ORDER BY id"
        ).fetchall()
        fixed = [k for ids in handed_out for k in ids[:-1]]
        assert sorted(int(c[0]) for c in corrections) == sorted(fixed)
        for key, column, old, new, batch_number, applied in corrections:
            assert column == "temp" and applied and float(old) == original[int(key)]
            assert float(new) == pytest.approx(original[int(key)] / 10)
            assert int(key) in handed_out[batch_number - 1]
        # the next run starts afresh; undo takes every hand-made correction back out
        con.execute("CLEAN sensors UNDO CORRECTIONS")
        assert dict(con.execute("SELECT id, temp FROM sensors").fetchall()) == original


def test_a_record_deleted_from_a_pending_batch_is_left_out(cdb: paqdb.Connection) -> None:
    batch = [r[0] for r in cdb.execute(MANUAL).fetchall()]
    cdb.execute("DELETE FROM sensors WHERE id = ?", [batch[0]])
    _fix(cdb, batch[1:])
    cursor = cdb.execute(MANUAL)
    cursor.fetchall()
    assert f"batch 1 folded in: {len(batch) - 1} records" in str(cursor.message)
    keys = {int(r[0]) for r in cdb.execute("SELECT row_key FROM paqdb.clean_corrections").fetchall()}
    assert keys == set(batch[1:])


def test_a_rolled_back_step_leaves_the_run_where_it_was(clean_db: str) -> None:
    with paqdb.connect(clean_db) as con:
        batch = [r[0] for r in con.execute(MANUAL).fetchall()]
        con.commit()
        _fix(con, batch)
        con.execute(MANUAL).fetchall()
        con.rollback()  # the fixes and the fold-in go together
        assert con.execute("SELECT batches, status FROM paqdb.clean_runs").fetchone() == (0, "open")
        cursor = con.execute(MANUAL)  # nothing fixed now: the batch is folded in as it is
        again = [r[0] for r in cursor.fetchall()]
        assert f"batch 1 folded in: {len(batch)} records (0 values changed by hand" in str(cursor.message)
        assert not set(again) & set(batch)
        con.rollback()


@pytest.mark.slow
def test_an_interactive_run_from_the_shell(
    clean_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([clean_db, "--mode", "csv", "-c", MANUAL + ";"]) == 0
    out = capsys.readouterr()
    lines = [line for line in out.out.splitlines() if line and line[0].isdigit()]
    ids = [int(line.split(",")[0]) for line in lines]
    assert ids and "batch 1: fix the" in out.out + out.err
    script = tmp_path / "fix.sql"
    script.write_text(
        f"UPDATE sensors SET temp = temp / 10 WHERE id IN ({', '.join(map(str, ids))});\n{MANUAL};\n"
        "SELECT count(*) AS corrections FROM paqdb.clean_corrections;\n"
    )
    assert main([clean_db, "--mode", "csv", "-f", str(script)]) == 0
    out = capsys.readouterr()
    assert "batch 1 folded in" in out.out + out.err
    assert f"corrections\n{len(ids)}" in out.out


def test_an_interactive_run_with_the_learned_detector(cdb: paqdb.Connection) -> None:
    sql = MANUAL.replace("repair => 'manual'", "repair => 'manual', detector => 'both'")
    for step in range(1, 4):
        cursor = cdb.execute(sql)
        batch = [r[0] for r in cursor.fetchall()]
        if step > 1:
            assert f"batch {step - 1} folded in" in str(cursor.message)
        _fix(cdb, [k for k in batch if k % 2 == 0])  # only some need fixing
    assert cdb.execute("SELECT detector, batches FROM paqdb.clean_runs").fetchone() == ("both", 2)
