"""The ``paqdb`` command run as a real process: -c, -f, standard input, output modes, exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paqdb.cli.render import OUTPUT_MODES

REPOSITORY = Path(__file__).resolve().parents[2]


def paqdb(*arguments: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m paqdb.cli.shell`` with ``arguments``; standard input is empty unless given."""
    environment = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    environment["PYTHONPATH"] = os.pathsep.join([str(REPOSITORY), environment.get("PYTHONPATH", "")])
    environment["PAQDB_HISTORY"] = ""
    return subprocess.run(
        [sys.executable, "-m", "paqdb.cli.shell", *arguments],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=environment,
        timeout=60,
    )


def test_command_runs_statements_and_prints_boxes(tmp_path: Path) -> None:
    database = str(tmp_path / "shop.db")
    result = paqdb(
        database,
        "-c",
        "CREATE TABLE t AS SELECT range AS i FROM range(5); INSERT INTO t VALUES (10); "
        "SELECT 42 AS answer; SHOW MODELS;",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(
        "1 row affected\n"
        "┌─────────┐\n"
        "│ answer  │\n"
        "│ integer │\n"
        "├─────────┤\n"
        "│      42 │\n"
        "└─────────┘\n"
        "(1 row)\n"
    )
    assert "│  name   │ version │" in result.stdout
    assert result.stdout.endswith("(0 rows)\n")
    # The database file keeps the table for the next process.
    again = paqdb(database, "-c", "SELECT count(*) AS n FROM t", "--mode", "csv")
    assert again.stdout == "n\n6\n"


def test_file(tmp_path: Path) -> None:
    script = tmp_path / "script.sql"
    script.write_text("CREATE TABLE t (i INTEGER);\nINSERT INTO t\nVALUES (1), (2);\n.mode csv\nSELECT sum(i) AS s FROM t;\n")
    result = paqdb(str(tmp_path / "db.duckdb"), "-f", str(script))
    assert (result.returncode, result.stdout, result.stderr) == (0, "2 rows affected\ns\n3\n", "")


def test_standard_input() -> None:
    result = paqdb("--mode", "csv", stdin="SELECT 1 AS a;\nSELECT\n  2 AS b;\n")
    assert (result.returncode, result.stdout, result.stderr) == (0, "a\n1\nb\n2\n", "")


@pytest.mark.parametrize("mode", OUTPUT_MODES)
def test_each_output_mode(mode: str) -> None:
    result = paqdb("--mode", mode, "-c", "SELECT 1 AS id, 'a|b' AS name, NULL AS score;")
    assert result.returncode == 0, result.stderr
    expected = {
        "box": "│  1 │ a|b     │ NULL  │",
        "csv": "id,name,score\n1,a|b,\n",
        "json": '[{"id": 1, "name": "a|b", "score": null}]\n',
        "markdown": "| id  | name | score |\n|----:|------|-------|\n|   1 | a\\|b | NULL  |\n",
        "line": "   id = 1\n name = a|b\nscore = NULL\n",
    }[mode]
    assert expected in result.stdout
    if mode == "json":
        assert json.loads(result.stdout) == [{"id": 1, "name": "a|b", "score": None}]


def test_read_command_with_a_relative_path(tmp_path: Path) -> None:
    (tmp_path / "setup.sql").write_text("CREATE TABLE t AS SELECT 7 AS seven;\n")
    result = paqdb("--mode", "csv", "-c", ".read setup.sql\nSELECT * FROM t;", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "seven\n7\n", "")


def test_error_exits_1_with_a_caret_after_running_what_came_before(tmp_path: Path) -> None:
    script = tmp_path / "broken.sql"
    script.write_text("SELECT 1 AS ok;\nPREDICT income\n  FROM people GIVEN;\nSELECT 2 AS never;\n")
    result = paqdb("--mode", "csv", "-f", str(script))
    assert result.returncode == 1
    assert result.stdout == "ok\n1\n"
    assert result.stderr == (
        "Error: syntax error at the end of the statement: expected a table name or a (query) (line 3, column 20)\n"
        "  FROM people GIVEN;\n"
        "                   ^\n"
    )


def test_duckdb_error_and_unknown_dot_command_exit_1() -> None:
    duck = paqdb("-c", "SELECT * FRM t;")
    assert duck.returncode == 1
    assert duck.stderr.startswith("Error: Parser Error: syntax error at or near")
    assert "^" in duck.stderr
    dot = paqdb(stdin="SELECT 1;\n.nope\n")
    assert dot.returncode == 1
    assert dot.stderr.startswith("Error: unknown command .nope; the commands are .datasets, .exit, .help")


def test_missing_file_and_unopenable_database(tmp_path: Path) -> None:
    missing = paqdb("-f", str(tmp_path / "absent.sql"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: cannot read ") and "absent.sql" in missing.stderr
    unopenable = paqdb(str(tmp_path / "no" / "such" / "dir.db"), "-c", "SELECT 1")
    assert unopenable.returncode == 1
    assert unopenable.stderr.startswith("Error: ")


def test_version_and_help() -> None:
    version = paqdb("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("paqdb ") and "DuckDB" in version.stdout
    usage = paqdb("--help")
    assert usage.returncode == 0
    for option in ("-c SQL", "-f FILE", "--mode", "--timer", "--version", "database"):
        assert option in usage.stdout
