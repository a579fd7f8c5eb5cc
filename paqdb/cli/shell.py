"""The paqdb SQL shell: ``paqdb [DATABASE]``.

Interactive, it reads statements ended by ``;`` (over several lines, with a continuation prompt), keeps a
history file, completes keywords and names, colours the SQL, and prints each result as a table. Given
``-c SQL``, ``-f FILE`` or SQL on standard input, it runs the statements, prints their results and exits
with status 1 at the first error. Lines starting with ``.`` are shell commands (``.help`` lists them) in
every mode.

The shell is a thin layer over :class:`paqdb.session.Session`: it holds no SQL logic of its own, it only
decides where a statement ends (with :func:`paqdb.sql.split`), runs the text through the session and
renders what comes back (:mod:`paqdb.cli.render`).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from paqdb.cli.progress import ProgressLine
from paqdb.cli.render import DEFAULT_MAX_ROWS, OUTPUT_MODES, render
from paqdb.errors import Error
from paqdb.sql import split
from paqdb.sql.parse import line_column

if TYPE_CHECKING:
    from paqdb.cli.completion import SessionNames
    from paqdb.cli.render import Renderable
    from paqdb.engines.base import Column, ExecResult
    from paqdb.session import Session, StatementResult

PROMPT = "paqdb> "
CONTINUATION_PROMPT = "...> "
HISTORY_ENVIRONMENT_VARIABLE = "PAQDB_HISTORY"
DEFAULT_HISTORY_FILE = "~/.paqdb_history"
MAX_READ_DEPTH = 16

_COMPLETENESS_PROBE = "paqdb_shell_probe"
_DML_STATUSES = {"INSERT", "UPDATE", "DELETE", "MERGE"}
# Statements whose rows are their answer: a one-column "Count"/"Success" table from them is data.
_QUERY_STATUSES = {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "SUMMARIZE"}
_QUERY_STATUSES |= {"PIVOT", "UNPIVOT", "EXPLAIN", "CALL", "PRAGMA"}
_COMMAND_AFTER_STATEMENT = re.compile(r";[ \t]*\.[A-Za-z]")
_RED, _RESET = "\x1b[31m", "\x1b[0m"


class QuitShell(Exception):
    """``.quit`` or ``.exit`` was given: stop reading statements."""


class DotCommandError(Exception):
    """A dot command that cannot run: unknown, wrong arguments, or a file that cannot be read."""


def statement_is_complete(text: str) -> bool:
    """True when ``text`` ends with a top-level ``;`` (comments after it allowed) or has no statement.

    Semicolons inside strings and comments do not count: the text is split by DuckDB's tokenizer
    (:func:`paqdb.sql.split`), so ``SELECT 'a;`` is not complete and ``SELECT 1; -- done`` is.

    >>> statement_is_complete("SELECT 1;"), statement_is_complete("SELECT 1"), statement_is_complete("")
    (True, False, True)
    """
    if not split(text):
        return True
    pieces = split(text + "\n" + _COMPLETENESS_PROBE)
    last = pieces[-1][1] if pieces else ""
    if not last.endswith(_COMPLETENESS_PROBE):
        return False
    return not split(last[: -len(_COMPLETENESS_PROBE)])


def is_interruption(error: BaseException) -> bool:
    """True for the ways Ctrl-C ends a statement: KeyboardInterrupt, or DuckDB's own interrupt errors
    (DuckDB catches the signal during a query and raises ``RuntimeError: Query interrupted`` or an
    ``INTERRUPT Error``)."""
    if isinstance(error, KeyboardInterrupt):
        return True
    text = str(error)
    if isinstance(error, RuntimeError):
        return "interrupted" in text.lower()
    return isinstance(error, Error) and text.startswith("INTERRUPT Error")


def dot_command_start(pending: Sequence[str], line: str) -> int | None:
    """Where a dot command starts in ``line`` of a script, or None when the line is SQL.

    A dot command starts a line that follows complete statements (``pending``, the lines since the last
    statement ran), or follows a statement's ``;`` on the same line: ``SELECT 1; .mode csv``.
    """
    stripped = line.lstrip()
    if stripped.startswith("."):
        return len(line) - len(stripped) if statement_is_complete("\n".join(pending)) else None
    for match in _COMMAND_AFTER_STATEMENT.finditer(line):
        start = match.end() - 2  # the dot
        if statement_is_complete("\n".join([*pending, line[:start]])):
            return start
    return None


def input_is_complete(text: str) -> bool:
    """True when the interactive input buffer should run: complete statements, or a dot command after
    them (``.tables``, ``SELECT 1; .mode csv``)."""
    *pending, last = text.split("\n")
    return dot_command_start(pending, last) is not None or statement_is_complete(text)


def history_path() -> Path | None:
    """The history file: ``$PAQDB_HISTORY`` when set (empty: no file), else ``~/.paqdb_history``."""
    configured = os.environ.get(HISTORY_ENVIRONMENT_VARIABLE)
    if configured is not None:
        return Path(configured).expanduser() if configured.strip() else None
    return Path(DEFAULT_HISTORY_FILE).expanduser()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def version_text() -> str:
    """``paqdb X.Y.Z (DuckDB A.B.C)``."""
    return f"paqdb {_version('paqdb')} (DuckDB {_version('duckdb')})"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass(frozen=True)
class DotCommand:
    """A shell command: its name, how its arguments read, what it does, and the words it accepts."""

    name: str
    arguments: str
    summary: str
    run: Callable[[list[str], int], None]
    choices: Sequence[str] = ()


class Shell:
    """Runs SQL scripts and dot commands against a session and prints the results.

    Args:
        session: the database session.
        mode: the output format, one of :data:`~paqdb.cli.render.OUTPUT_MODES`.
        timer: print the time each statement takes.
        max_rows: the most rows the box format shows (0: all).
        max_width: the width the box format fits (0: no limit; None: the terminal's, as ``.maxwidth``).
        out: where results go (standard output by default).
        err: where errors and progress go (standard error by default).
        progress: the progress line the session reports to; cleared when a statement finishes.
        color: print errors in red (default: when ``err`` is a terminal and ``NO_COLOR`` is unset).
    """

    def __init__(
        self,
        session: Session,
        *,
        mode: str = "box",
        timer: bool = False,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_width: int | None = None,
        out: TextIO | None = None,
        err: TextIO | None = None,
        progress: ProgressLine | None = None,
        color: bool | None = None,
    ) -> None:
        if mode not in OUTPUT_MODES:
            raise ValueError(f"unknown output mode {mode!r}")
        self.session = session
        self.mode = mode
        self.timer = timer
        self.max_rows = max_rows
        self.max_width = max_width
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.progress = progress
        self.color = color if color is not None else (_isatty(self.err) and "NO_COLOR" not in os.environ)
        self.names: SessionNames | None = None  # completion names, cached while interactive
        self.commands: dict[str, DotCommand] = {
            command.name: command
            for command in [
                DotCommand(".datasets", "", "List the example datasets LOAD DATASET loads", self._datasets),
                DotCommand(".exit", "", "Exit the shell", self._quit),
                DotCommand(".help", "", "Show this help", self._help),
                DotCommand(".maxrows", "N", "Show at most N rows in the box format (0: all)", self._maxrows),
                DotCommand(".maxwidth", "N", "Fit the box format to N columns (0: no limit; default: the "
                           "terminal's width)", self._maxwidth),
                DotCommand(".mode", "MODE", "Set the output format: " + "|".join(OUTPUT_MODES), self._mode,
                           OUTPUT_MODES),
                DotCommand(".models", "", "List the models (SHOW MODELS)", self._models),
                DotCommand(".quit", "", "Exit the shell", self._quit),
                DotCommand(".read", "FILE", "Run the statements and commands in FILE", self._read),
                DotCommand(".tables", "", "List the tables and views", self._tables),
                DotCommand(".timer", "on|off", "Print the time each statement takes", self._timer,
                           ("on", "off")),
            ]
        }  # fmt: skip

    # -- output ---------------------------------------------------------------------------------------

    def output_width(self) -> int | None:
        """The width tables fit: ``.maxwidth``'s, else the terminal's, else ``$COLUMNS``, else no limit."""
        if self.max_width is not None:
            return self.max_width or None
        if _isatty(self.out):
            return shutil.get_terminal_size((100, 24)).columns
        columns = os.environ.get("COLUMNS", "")
        return int(columns) if columns.isdigit() and int(columns) > 0 else None

    def write_table(self, table: Renderable, columns: Sequence[Column] | None = None) -> None:
        """Print ``table`` in the current output mode."""
        for piece in render(
            table, self.mode, columns=columns, max_width=self.output_width(), max_rows=self.max_rows
        ):
            self.out.write(piece)
        self.out.flush()

    def write_line(self, text: str) -> None:
        """Print one line of text to the output."""
        self.out.write(text + "\n")
        self.out.flush()

    def show_outcome(self, outcome: StatementResult) -> None:
        """Print one statement's result: its rows, ``N rows affected`` for DML, and its message."""
        result = outcome.result
        if result.has_rows and not _is_status_result(result):
            # The result itself, not its Arrow table: rows are shown with DuckDB's own values.
            self.write_table(result, result.columns)
        elif not result.has_rows and result.status in _DML_STATUSES and result.rowcount >= 0:
            self.write_line(f"{result.rowcount} row{'' if result.rowcount == 1 else 's'} affected")
        if outcome.message:
            self.write_line(outcome.message)

    def report_error(self, error: BaseException) -> None:
        """Print ``Error: `` and the error (with its caret excerpt and hint) to the error stream."""
        text = f"Error: {error}"
        if self.color:
            text = _RED + text + _RESET
        self.clear_progress()
        self.err.write(text + "\n")
        self.err.flush()

    def report_interrupt(self) -> None:
        """Say that a statement was interrupted (Ctrl-C)."""
        self.clear_progress()
        self.err.write("interrupted\n")
        self.err.flush()

    def clear_progress(self) -> None:
        """Erase the progress line, if any."""
        if self.progress is not None:
            self.progress.clear()

    # -- running --------------------------------------------------------------------------------------

    def run_sql(self, sql: str, first_line: int = 1) -> None:
        """Run the statements of ``sql`` one at a time, printing each result as it completes.

        Args:
            sql: one or more statements.
            first_line: the line of the script ``sql`` starts at, so that error positions count lines
                in the whole script.

        Raises:
            paqdb.errors.Error: the first statement that fails; the statements before it stay done.
        """
        try:
            for offset, text in split(sql):
                self._run_statement(text, sql, offset, first_line)
        finally:
            if self.names is not None:
                self.names.invalidate()

    def _run_statement(self, text: str, sql: str, offset: int, first_line: int) -> None:
        started = time.perf_counter()
        try:
            outcomes = list(self.session.run(text))
        except Error as error:
            _relocate(error, text, sql, offset, first_line)
            raise
        finally:
            self.clear_progress()
        elapsed = time.perf_counter() - started
        for outcome in outcomes:
            self.show_outcome(outcome)
        if self.timer:
            self.write_line(f"Run Time: {elapsed:.3f} s")

    def run_script(self, script: str, *, depth: int = 0) -> None:
        """Run a script of statements and dot commands (a dot command is a line starting with ``.``
        between statements).

        Raises:
            paqdb.errors.Error: the first statement that fails; the ones before it stay done.
            DotCommandError: a dot command that cannot run.
            QuitShell: the script says ``.quit``.
        """
        pending: list[str] = []
        first_line = 1
        for number, line in enumerate(script.split("\n"), 1):
            if not pending:
                first_line = number
            command_at = dot_command_start(pending, line)
            if command_at is None:
                pending.append(line)
                continue
            if line[:command_at].strip():
                pending.append(line[:command_at])
            self.run_sql("\n".join(pending), first_line)
            pending = []
            self.run_dot_command(line[command_at:], depth=depth)
        self.run_sql("\n".join(pending), first_line)

    def run_batch(self, script: str) -> int:
        """Run a whole script non-interactively; return the exit status (1 at the first error)."""
        try:
            self.run_script(script)
        except QuitShell:
            return 0
        except (KeyboardInterrupt, RuntimeError, Error, DotCommandError) as error:
            if is_interruption(error):
                self.report_interrupt()
                return 130
            if isinstance(error, RuntimeError):
                raise
            self.report_error(error)
            return 1
        return 0

    def run_dot_command(self, line: str, *, depth: int = 0) -> None:
        """Run one dot command line such as ``.mode csv``.

        Raises:
            DotCommandError: an unknown command or bad arguments.
        """
        text = line.strip().removesuffix(";").strip()
        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        if not words:
            return
        name = words[0].lower()
        command = self.commands.get(name)
        if command is None:
            raise DotCommandError(
                f"unknown command {words[0]}; the commands are {', '.join(sorted(self.commands))} (see .help)"
            )
        command.run(words[1:], depth)

    # -- dot commands ---------------------------------------------------------------------------------

    def _usage(self, name: str) -> DotCommandError:
        command = self.commands[name]
        return DotCommandError(f"usage: {command.name} {command.arguments}".rstrip())

    def _no_arguments(self, name: str, arguments: list[str]) -> None:
        if arguments:
            raise self._usage(name)

    def _help(self, arguments: list[str], depth: int) -> None:
        self._no_arguments(".help", arguments)
        width = max(len(f"{c.name} {c.arguments}") for c in self.commands.values())
        for command in self.commands.values():
            self.write_line(f"{(command.name + ' ' + command.arguments).ljust(width)}  {command.summary}")
        self.write_line("")
        self.write_line(
            "End SQL statements with ';'. Interactive: Alt-Enter runs the input as it is, Tab completes,"
        )
        self.write_line("Ctrl-C cancels the input or interrupts a statement, Ctrl-D exits.")

    def _quit(self, arguments: list[str], depth: int) -> None:
        raise QuitShell

    def _mode(self, arguments: list[str], depth: int) -> None:
        if not arguments:
            self.write_line(self.mode)
            return
        if len(arguments) != 1 or arguments[0].lower() not in OUTPUT_MODES:
            raise DotCommandError(
                f"unknown mode {' '.join(arguments)!r}; the modes are {', '.join(OUTPUT_MODES)}"
            )
        self.mode = arguments[0].lower()

    def _timer(self, arguments: list[str], depth: int) -> None:
        if not arguments:
            self.write_line("on" if self.timer else "off")
            return
        if len(arguments) != 1 or arguments[0].lower() not in ("on", "off"):
            raise self._usage(".timer")
        self.timer = arguments[0].lower() == "on"

    def _maxrows(self, arguments: list[str], depth: int) -> None:
        if not arguments:
            self.write_line(str(self.max_rows))
            return
        if len(arguments) != 1 or not arguments[0].isdigit():
            raise self._usage(".maxrows")
        self.max_rows = int(arguments[0])

    def _maxwidth(self, arguments: list[str], depth: int) -> None:
        if not arguments:
            width = self.output_width()
            self.write_line(
                f"{width or 0}" + (" (the terminal's)" if self.max_width is None and width else "")
            )
            return
        if len(arguments) != 1 or not arguments[0].isdigit():
            raise self._usage(".maxwidth")
        self.max_width = int(arguments[0])

    def _read(self, arguments: list[str], depth: int) -> None:
        if len(arguments) != 1:
            raise self._usage(".read")
        if depth >= MAX_READ_DEPTH:
            raise DotCommandError(
                f".read is nested more than {MAX_READ_DEPTH} deep (does a file read itself?)"
            )
        path = Path(arguments[0]).expanduser()
        try:
            script = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise DotCommandError(f"cannot read {path}: {reason}") from None
        self.run_script(script, depth=depth + 1)

    def _tables(self, arguments: list[str], depth: int) -> None:
        self._no_arguments(".tables", arguments)
        result = self.session.execute(
            "SELECT table_schema AS schema, table_name AS name, table_type AS type "
            "FROM information_schema.tables "
            "WHERE table_schema NOT IN ('paqdb', 'information_schema', 'pg_catalog') ORDER BY ALL"
        )
        if result.table is not None:
            self.write_table(result.table, result.columns)

    def _models(self, arguments: list[str], depth: int) -> None:
        self._no_arguments(".models", arguments)
        self.run_sql("SHOW MODELS")

    def _datasets(self, arguments: list[str], depth: int) -> None:
        self._no_arguments(".datasets", arguments)
        import pyarrow as pa

        from paqdb import datasets

        described = datasets.describe()
        self.write_table(
            pa.table(
                {
                    "name": [d.name for d in described],
                    "rows": pa.array([d.rows for d in described], pa.int64()),
                    "columns": pa.array([d.columns for d in described], pa.int64()),
                    "label": [d.label for d in described],
                    "task": [d.task for d in described],
                    "description": [d.description for d in described],
                }
            )
        )


def _relocate(error: Error, text: str, sql: str, offset: int, first_line: int) -> None:
    """Move an error's position from statement ``text`` (at ``offset`` in ``sql``, which starts at line
    ``first_line`` of a script) to the script, so that it names the script's line and column."""
    if error.line is None or error.column is None or error.statement != text:
        return
    start_line, start_column = line_column(sql, offset)
    line = first_line - 1 + start_line - 1 + error.line
    column = start_column - 1 + error.column if error.line == 1 else error.column
    error.with_position(line, column, "\n" * (first_line - 1) + sql)


def _is_status_result(result: ExecResult) -> bool:
    """True for the ``Count``/``Success`` result DuckDB returns for DDL and settings (not shown)."""
    columns = result.columns
    if (
        result.status.upper() in _QUERY_STATUSES
        or len(columns) != 1
        or columns[0].name not in ("Count", "Success")
    ):
        return False
    table = result.table  # one count or flag column: Arrow reads it exactly
    return table is not None and (table.num_rows == 0 or result.status.upper() == "CREATE")


# -- interactive --------------------------------------------------------------------------------------


def run_interactive(shell: Shell, history_file: Path | None = None) -> int:
    """Read statements from the terminal until ``.quit`` or Ctrl-D; return the exit status (0).

    An error is printed and the shell goes on; Ctrl-C at the prompt drops the input, during a statement
    it interrupts the statement (a model search keeps the best model found so far).
    """
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
    from prompt_toolkit.lexers import PygmentsLexer

    from paqdb.cli.completion import SessionNames, SqlCompleter
    from paqdb.cli.highlight import PaqSqlLexer

    shell.names = SessionNames(shell.session)

    history: History = InMemoryHistory()
    if history_file is not None:
        try:
            history_file.parent.mkdir(parents=True, exist_ok=True)
            history_file.touch(exist_ok=True)
            history = FileHistory(str(history_file))
        except OSError as error:
            shell.err.write(f"warning: history not saved, cannot write {history_file}: {error.strerror}\n")

    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        state = buffer.complete_state
        if state is not None and state.current_completion is not None:
            buffer.apply_completion(state.current_completion)
            return
        if input_is_complete(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    @bindings.add("escape", "enter")
    def _run_as_is(event: KeyPressEvent) -> None:
        event.current_buffer.validate_and_handle()

    completer = SqlCompleter(
        shell.names,
        dot_commands={name: command.choices for name, command in shell.commands.items()},
        file_commands=[".read"],
    )
    prompt_session: PromptSession[str] = PromptSession(
        PROMPT,
        multiline=True,
        prompt_continuation=lambda width, line_number, wrap_count: CONTINUATION_PROMPT.rjust(width),
        history=history,
        lexer=PygmentsLexer(PaqSqlLexer),
        completer=completer,
        complete_while_typing=True,
        key_bindings=bindings,
    )
    shell.write_line(f"{version_text()} on {shell.session.engine.database}")
    shell.write_line("Enter SQL statements ended by ';', or .help for the shell's commands.")
    while True:
        try:
            text = prompt_session.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        try:
            shell.run_script(text)
        except QuitShell:
            break
        except (KeyboardInterrupt, Exception) as error:
            if is_interruption(error):
                shell.report_interrupt()
            elif isinstance(error, Error | DotCommandError):
                shell.report_error(error)
            else:  # a bug must not lose the session: show it and go on
                shell.clear_progress()
                shell.err.write("Internal error (please report it):\n" + traceback.format_exc())
                shell.err.flush()
    return 0


# -- command line -------------------------------------------------------------------------------------


def build_argument_parser() -> argparse.ArgumentParser:
    """The ``paqdb`` command's arguments."""
    parser = argparse.ArgumentParser(
        prog="paqdb",
        description="The paqdb SQL shell: DuckDB SQL plus PREDICT, CREATE MODEL, CLEAN, CROWD LABEL, "
        "CAUSAL FREQ.",
        epilog="With neither -c nor -f, SQL is read from standard input when it is not a terminal; "
        "otherwise the shell is interactive (history in $PAQDB_HISTORY, default ~/.paqdb_history).",
    )
    parser.add_argument("database", nargs="?", default=":memory:", help="database file (default: :memory:)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "-c", "--command", metavar="SQL", help="run SQL (statements and dot commands), then exit"
    )
    source.add_argument("-f", "--file", metavar="FILE", help="run the statements in FILE, then exit")
    parser.add_argument("--mode", choices=OUTPUT_MODES, default="box", help="output format (default: box)")
    parser.add_argument(
        "--max-rows",
        type=int,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help=f"most rows the box format shows (default: {DEFAULT_MAX_ROWS}; 0: all)",
    )
    parser.add_argument(
        "--max-width",
        type=int,
        default=None,
        metavar="N",
        help="width the box format fits (default: the terminal's; 0: no limit)",
    )
    parser.add_argument("--timer", action="store_true", help="print the time each statement takes")
    parser.add_argument("--read-only", action="store_true", help="open the database read-only")
    parser.add_argument("--version", action="version", version=version_text())
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``paqdb`` command; return its exit status."""
    args = build_argument_parser().parse_args(argv)
    from paqdb.session import Session

    progress = ProgressLine(sys.stderr)
    try:
        session = Session(args.database, read_only=args.read_only, progress=progress)
    except Error as error:
        sys.stderr.write(f"Error: {error}\n")
        return 1
    shell = Shell(
        session,
        mode=args.mode,
        timer=args.timer,
        max_rows=max(0, args.max_rows),
        max_width=None if args.max_width is None else max(0, args.max_width),
        progress=progress,
    )
    try:
        with session:
            if args.command is not None:
                return shell.run_batch(args.command)
            if args.file is not None:
                try:
                    script = Path(args.file).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as error:
                    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
                    shell.report_error(DotCommandError(f"cannot read {args.file}: {reason}"))
                    return 1
                return shell.run_batch(script)
            if not _isatty(sys.stdin):
                return shell.run_batch(sys.stdin.read())
            return run_interactive(shell, history_path())
    except KeyboardInterrupt:  # while reading the script from standard input
        shell.report_interrupt()
        return 130
    except BrokenPipeError:
        # The reader went away (`paqdb db -c ... | head`): stop quietly, without a second error at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
