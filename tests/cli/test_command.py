"""The ``paqdb`` command: run as a real process for -c, -f, standard input, output modes, .read and exit
status; called in-process (:func:`paqdb.cli.shell.main`) for the argument handling around them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paqdb.cli.render import OUTPUT_MODES
from paqdb.cli.shell import main

REPOSITORY = Path(__file__).resolve().parents[2]


def paqdb(
    *arguments: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
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


@pytest.mark.slow
def test_command_then_file_on_the_same_database(tmp_path: Path) -> None:
    database = str(tmp_path / "shop.db")
    created = paqdb(
        database,
        "-c",
        "CREATE TABLE t AS SELECT range AS i FROM range(5); INSERT INTO t VALUES (10);\n"
        "SELECT 42 AS answer; SHOW MODELS;",
    )
    assert created.returncode == 0, created.stderr
    assert created.stderr == ""
    assert created.stdout.startswith(
        "1 row affected\n"
        "┌─────────┐\n"
        "│ answer  │\n"
        "│ integer │\n"
        "├─────────┤\n"
        "│      42 │\n"
        "└─────────┘\n"
        "(1 row)\n"
    )
    assert "│  name   │ version │" in created.stdout  # SHOW MODELS: an empty table
    assert created.stdout.endswith("(0 rows)\n")

    script = tmp_path / "script.sql"
    script.write_text("UPDATE t\nSET i = i + 1;\n.timer on\nSELECT sum(i) AS total FROM t;\n")
    ran = paqdb(database, "--mode", "csv", "-f", str(script))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("6 rows affected\ntotal\n26\nRun Time: ")


def test_standard_input_in_every_output_mode() -> None:
    query = "SELECT 1 AS id, 'a|b' AS name, NULL AS score;"
    others = [mode for mode in OUTPUT_MODES if mode != "json"]
    script = query + "\n" + "".join(f".mode {mode}\n{query}\n" for mode in others)
    result = paqdb("--mode", "json", stdin=script)
    assert result.returncode == 0, result.stderr
    expected = {
        "json": '[{"id": 1, "name": "a|b", "score": null}]\n',
        "box": (
            "┌─────────┬─────────┬───────┐\n"
            "│   id    │  name   │ score │\n"
            "│ integer │ varchar │ null  │\n"
            "├─────────┼─────────┼───────┤\n"
            "│       1 │ a|b     │ NULL  │\n"
            "└─────────┴─────────┴───────┘\n"
            "(1 row)\n"
        ),
        "csv": "id,name,score\n1,a|b,\n",
        "markdown": "| id  | name | score |\n|----:|------|-------|\n|   1 | a\\|b | NULL  |\n",
        "line": "   id = 1\n name = a|b\nscore = NULL\n",
    }
    assert result.stdout == "".join(expected[mode] for mode in ["json", *others])
    assert json.loads(expected["json"]) == [{"id": 1, "name": "a|b", "score": None}]


def test_read_then_an_error_with_its_caret_exits_1(tmp_path: Path) -> None:
    (tmp_path / "setup.sql").write_text("CREATE TABLE people AS SELECT 'ann' AS name;\n")
    (tmp_path / "main.sql").write_text(
        ".read setup.sql\n.mode csv\nSELECT * FROM people;\n"
        "PREDICT income\n  FROM people GIVEN;\nSELECT 2 AS never;\n"
    )
    result = paqdb("-f", "main.sql", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == "name\nann\n"
    assert result.stderr == (
        "Error: syntax error at the end of the statement: "
        "expected a table name or a (query) (line 5, column 20)\n"
        "  FROM people GIVEN;\n"
        "                   ^\n"
    )


def test_duckdb_syntax_error_exits_1_with_its_position_in_the_script() -> None:
    result = paqdb("-c", "SELECT 1 AS fine;\nSELECT * FRM t;")
    assert result.returncode == 1
    assert "│       1 │" in result.stdout
    assert result.stderr == (
        'Error: Parser Error: syntax error at or near "t" (line 2, column 14)\n'
        "SELECT * FRM t;\n"
        "             ^\n"
    )


# -- in-process -----------------------------------------------------------------------------------------


def test_unknown_dot_command_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([":memory:", "-c", "SELECT 1;\n.nope"]) == 1
    assert capsys.readouterr().err.startswith(
        "Error: unknown command .nope; the commands are .datasets, .exit"
    )


def test_missing_file_and_unopenable_database_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-f", str(tmp_path / "absent.sql")]) == 1
    assert capsys.readouterr().err.startswith(f"Error: cannot read {tmp_path / 'absent.sql'}: No such file")
    assert main([str(tmp_path / "no" / "such" / "dir.db"), "-c", "SELECT 1"]) == 1
    assert capsys.readouterr().err.startswith("Error: IO Error: ")


def test_quit_exits_0_without_running_the_rest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--mode", "csv", "-c", "SELECT 1 AS a;\n.quit\nSELECT 2 AS b;"]) == 0
    assert capsys.readouterr().out == "a\n1\n"


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("paqdb 0.1.0 (DuckDB ")
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    usage = capsys.readouterr().out
    for option in (
        "-c SQL",
        "-f FILE",
        "--mode {box,csv,json,markdown,line}",
        "--timer",
        "--version",
        "database",
    ):
        assert option in usage


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--mode", "html"])
    assert exited.value.code == 2
    assert "invalid choice: 'html'" in capsys.readouterr().err
