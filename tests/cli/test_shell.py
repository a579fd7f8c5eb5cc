"""The Shell object in-process: statement boundaries, results, dot commands, errors."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from paqdb.cli.shell import (
    DotCommandError,
    QuitShell,
    Shell,
    history_path,
    input_is_complete,
    is_interruption,
    statement_is_complete,
)
from paqdb.errors import Error, ParseError
from paqdb.session import Session


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("SELECT 1;", True),
        ("SELECT 1", False),
        ("SELECT 1;\n", True),
        ("SELECT 1; -- done", True),
        ("SELECT 1; SELECT 2", False),
        ("SELECT 'a;", False),
        ("SELECT 'a;';", True),
        ("SELECT 1 /* ; */", False),
        ("/* unterminated ;", False),
        ("", True),
        ("   \n", True),
        ("-- just a comment", True),
        ("CREATE MODEL m PREDICT y FROM t\nUSING SEARCH (budget => '1 minute');", True),
    ],
)
def test_statement_is_complete(text: str, complete: bool) -> None:
    assert statement_is_complete(text) is complete


def test_dot_commands_are_complete_input() -> None:
    assert input_is_complete(".tables")
    assert input_is_complete("SELECT 1;\n.tables")
    assert input_is_complete("SELECT 1; .mode csv")
    assert not input_is_complete("SELECT\n1")
    assert not input_is_complete("SELECT\n.5")


def test_history_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAQDB_HISTORY", str(tmp_path / "h"))
    assert history_path() == tmp_path / "h"
    monkeypatch.setenv("PAQDB_HISTORY", "")
    assert history_path() is None
    monkeypatch.delenv("PAQDB_HISTORY")
    assert history_path() == Path("~/.paqdb_history").expanduser()


def test_is_interruption() -> None:
    assert is_interruption(KeyboardInterrupt())
    assert is_interruption(RuntimeError("Query interrupted"))
    assert not is_interruption(RuntimeError("something else"))
    assert not is_interruption(ParseError("syntax error"))


class Console:
    """A shell writing to strings."""

    def __init__(self, session: Session) -> None:
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.shell = Shell(session, out=self.out, err=self.err, color=False)

    def run(self, script: str) -> str:
        self.out.seek(0)
        self.out.truncate()
        self.shell.run_script(script)
        return self.out.getvalue()


@pytest.fixture
def console() -> Iterator[Console]:
    with Session(":memory:") as session:
        yield Console(session)


def test_results_messages_and_affected_rows(console: Console) -> None:
    output = console.run(
        "CREATE TABLE t AS SELECT range AS i FROM range(5);\n"
        "INSERT INTO t VALUES (5), (6);\n"
        "UPDATE t SET i = i + 1 WHERE i = 0;\n"
        "SET threads = 2;\n"
        "SELECT count(*) AS n FROM t;"
    )
    assert output.startswith("2 rows affected\n1 row affected\n┌")  # DDL and SET print nothing
    assert "│      7 │" in output
    assert output.endswith("(1 row)\n")


def test_show_models_with_no_models_is_an_empty_table(console: Console) -> None:
    output = console.run("SHOW MODELS;")
    assert "│  name   │ version │" in output
    assert output.endswith("(0 rows)\n")


def test_dot_commands_between_statements(console: Console) -> None:
    output = console.run("SELECT 1 AS a;\n.mode csv\nSELECT 2 AS b; .mode json\nSELECT 3 AS c;")
    assert output.endswith('b\n2\n[{"c": 3}]\n')
    assert console.shell.mode == "json"


def test_a_line_starting_with_a_dot_inside_a_statement_is_sql(console: Console) -> None:
    console.shell.mode = "csv"
    assert console.run("SELECT\n.5 AS half;") == "half\n0.5\n"


def test_mode_timer_and_maxrows(console: Console) -> None:
    assert console.run(".mode") == "box\n"
    console.run(".mode markdown\n.timer on\n.maxrows 4")
    output = console.run("SELECT 1 AS one;")
    assert output.startswith("| one |")
    assert "Run Time: " in output
    assert console.shell.max_rows == 4
    console.run(".timer off")
    assert "Run Time" not in console.run("SELECT 1;")


def test_tables_models_and_datasets(console: Console) -> None:
    console.run("CREATE TABLE people (id INTEGER); CREATE VIEW adults AS SELECT * FROM people; .mode csv")
    assert console.run(".tables") == "schema,name,type\nmain,adults,VIEW\nmain,people,BASE TABLE\n"
    assert console.run(".models").startswith("name,version,task,label,family,metric")
    datasets = console.run(".datasets")
    assert datasets.startswith("name,rows,columns,label,task,description\n")
    assert "\niris,150,5,species,classification," in datasets


def test_help_documents_every_command(console: Console) -> None:
    help_text = console.run(".help")
    for name, command in console.shell.commands.items():
        assert f"{name} {command.arguments}".strip() in help_text
        assert command.summary in help_text


def test_unknown_dot_command_lists_the_valid_ones(console: Console) -> None:
    with pytest.raises(DotCommandError) as raised:
        console.run(".frobnicate")
    message = str(raised.value)
    assert message.startswith("unknown command .frobnicate; the commands are ")
    for name in (".tables", ".models", ".datasets", ".mode", ".timer", ".read", ".help", ".quit", ".exit"):
        assert name in message


@pytest.mark.parametrize(
    ("line", "message"), [(".mode html", "unknown mode"), (".timer maybe", "usage: .timer")]
)
def test_bad_arguments(console: Console, line: str, message: str) -> None:
    with pytest.raises(DotCommandError, match=message):
        console.run(line)


def test_quit_and_exit_stop_the_script(console: Console) -> None:
    for command in (".quit", ".exit"):
        with pytest.raises(QuitShell):
            console.run(f"SELECT 1;\n{command}\nSELECT 2;")


def test_read_runs_a_file_and_nested_reads(console: Console, tmp_path: Path) -> None:
    inner = tmp_path / "inner.sql"
    inner.write_text("INSERT INTO t VALUES (2);\n")
    outer = tmp_path / "outer.sql"
    outer.write_text(f"CREATE TABLE t (i INTEGER);\nINSERT INTO t VALUES (1);\n.read '{inner}'\n")
    console.shell.mode = "csv"
    assert console.run(f".read '{outer}'\nSELECT sum(i) AS s FROM t;") == (
        "1 row affected\n1 row affected\ns\n3\n"
    )


def test_read_errors(console: Console, tmp_path: Path) -> None:
    with pytest.raises(DotCommandError, match=r"cannot read .*missing\.sql: No such file"):
        console.run(f".read {tmp_path / 'missing.sql'}")
    looping = tmp_path / "loop.sql"
    looping.write_text(f".read {looping}\n")
    with pytest.raises(DotCommandError, match="nested"):
        console.run(f".read {looping}")


def test_statements_before_an_error_run_and_the_error_names_the_script_line(console: Console) -> None:
    console.shell.mode = "csv"
    with pytest.raises(Error) as raised:
        console.run("SELECT 1 AS a;\n.timer off\nSELECT 2 AS b;  PREDICT x FROM t GIVEN;\nSELECT 3;")
    assert console.out.getvalue() == "a\n1\nb\n2\n"
    error = raised.value
    assert (error.line, error.column) == (3, 39)  # the end of the statement, where a table should be
    assert str(error).splitlines()[1:] == [
        "SELECT 2 AS b;  PREDICT x FROM t GIVEN;",
        " " * 38 + "^",
    ]


def test_batch_exit_status_and_error_text(console: Console) -> None:
    assert console.shell.run_batch("SELECT 1;") == 0
    assert console.shell.run_batch("SELECT * FROM missing_table;") == 1
    assert console.err.getvalue().startswith(
        "Error: Catalog Error: Table with name missing_table does not exist"
    )
    assert console.shell.run_batch(".quit") == 0


def test_errors_are_red_when_colour_is_on(console: Console) -> None:
    console.shell.color = True
    console.shell.report_error(ParseError("bad"))
    assert console.err.getvalue() == "\x1b[31mError: bad\x1b[0m\n"
