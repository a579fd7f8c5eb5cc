"""A database file carries its models across processes; killing CREATE MODEL leaves no trace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import paqdb


def _python(script: str, database: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), database],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_model_created_in_one_process_is_used_in_another(database: str) -> None:
    created = _python(
        """
        import sys, paqdb
        with paqdb.connect(sys.argv[1]) as con:
            con.execute("LOAD DATASET iris")
            con.execute("CREATE MODEL flowers PREDICT species FROM iris USING SEARCH (budget => '2 trials')")
            agree = "SELECT count(*) FROM iris WHERE PREDICT(species USING MODEL flowers) = species"
            print(con.execute(agree).fetchone()[0])
        """,
        database,
    )
    assert created.returncode == 0, created.stderr
    agreeing_there = int(created.stdout.strip())

    used = _python(
        """
        import sys, paqdb
        con = paqdb.connect(sys.argv[1], read_only=True)
        table = con.execute("PREDICT species FROM iris USING MODEL flowers").fetch_arrow_table()
        same = sum(a == b for a, b in zip(table.column("species").to_pylist(),
                                          table.column("predicted_species").to_pylist()))
        print(same)
        con.close()
        """,
        database,
    )
    assert used.returncode == 0, used.stderr
    assert int(used.stdout.strip()) == agreeing_there, "the reopened model predicts exactly as before"


KILLED_SEARCH = """
import sys, paqdb
con = paqdb.connect(sys.argv[1], autocommit=True)
con.execute("LOAD DATASET adult")
print("loaded", flush=True)
def progress(p):
    print("progress", p.trials_done, flush=True)
con.session.progress = progress
con.execute("CREATE MODEL doomed PREDICT income FROM adult USING SEARCH (budget => '10 minutes')")
print("finished", flush=True)
"""


@pytest.mark.slow
def test_killing_create_model_leaves_no_trace(database: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_SEARCH, database],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 240
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if line.startswith("progress"):
            break
        assert line, f"the child stopped early: {process.stderr.read() if process.stderr else ''}"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert any(line.startswith("progress") for line in seen), "the search was under way when killed"
    assert not any(line.startswith("finished") for line in seen)

    with paqdb.connect(database, autocommit=True) as con:
        assert con.execute("SELECT count(*) FROM adult").fetchone()[0] == 32561, "committed work survives"
        assert con.execute("SHOW MODELS").fetchall() == []
        leftovers = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'paqdb'"
        ).fetchone()[0]
        if leftovers:
            for table in ("models", "model_versions", "trials", "artifacts"):
                assert con.execute(f"SELECT count(*) FROM paqdb.{table}").fetchone()[0] == 0
        con.execute("CREATE MODEL doomed PREDICT income FROM adult USING SEARCH (budget => '1 trials')")
        assert [r[0] for r in con.execute("SHOW MODELS").fetchall()] == ["doomed"]


@pytest.mark.slow
def test_killing_while_the_catalog_is_written_leaves_no_trace(database: str) -> None:
    """Kill the process after the catalog rows are inserted but before COMMIT."""
    script = """
    import os, signal, sys, paqdb
    from paqdb.catalog import store
    con = paqdb.connect(sys.argv[1], autocommit=True)
    con.execute("LOAD DATASET iris")
    engine = con.session.engine
    real_commit = engine.commit
    def die_before_commit():
        if engine.execute("SELECT count(*) FROM paqdb.artifacts").table.column(0)[0].as_py() > 0:
            os.kill(os.getpid(), signal.SIGKILL)
        real_commit()
    engine.commit = die_before_commit
    con.execute("CREATE MODEL doomed PREDICT species FROM iris USING SEARCH (budget => '1 trials')")
    print("not reached")
    """
    result = _python(script, database)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "not reached" not in result.stdout
    with paqdb.connect(database, autocommit=True) as con:
        assert con.execute("SELECT count(*) FROM iris").fetchone()[0] == 150
        assert con.execute("SHOW MODELS").fetchall() == []


def test_reopened_file_without_models_shows_none(tmp_path: Path) -> None:
    path = str(tmp_path / "plain.duckdb")
    with paqdb.connect(path, autocommit=True) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS a")
        assert con.execute("SHOW MODELS").fetchall() == []
        schemas = con.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'paqdb'"
        )
        assert schemas.fetchall() == [], "opening a plain file with paqdb adds nothing to it"
