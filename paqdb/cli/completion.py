"""Tab completion for the shell: SQL and paqdb keywords, tables, columns, models, datasets, dot commands.

:class:`SqlCompleter` is a prompt_toolkit completer that knows no database: it asks a callable for the
names to offer (:class:`CompletionNames`). :class:`SessionNames` is that callable for a live
:class:`~paqdb.session.Session`; it caches the names until the shell says a statement may have changed
them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

if TYPE_CHECKING:
    from paqdb.session import Session


def paqdb_keywords() -> tuple[str, ...]:
    """The words paqdb adds to DuckDB's SQL, from the statements' declarations (also coloured as keywords
    by the shell's lexer)."""
    from paqdb.statements import grammar

    return grammar().keywords


def paqdb_phrases() -> tuple[str, ...]:
    """Multi-word paqdb statement openings (``SHOW MODELS``, ``USING MODEL``), completed as a whole."""
    from paqdb.statements import grammar

    return grammar().phrases


SQL_KEYWORDS: tuple[str, ...] = (
    "ALL", "ALTER", "ANALYZE", "AND", "ANTI", "ANY", "AS", "ASC", "ATTACH", "BEGIN", "BETWEEN", "BIGINT",
    "BOOLEAN", "BY", "CASE", "CAST", "CHECKPOINT", "COLUMN", "COMMIT", "CONSTRAINT", "COPY", "CREATE",
    "CROSS", "CUBE", "DATE", "DECIMAL", "DEFAULT", "DELETE", "DESC", "DESCRIBE", "DETACH", "DISTINCT",
    "DOUBLE", "DROP", "ELSE", "END", "EXCEPT", "EXCLUDE", "EXISTS", "EXPLAIN", "EXPORT", "FALSE", "FILTER",
    "FIRST", "FLOAT", "FOLLOWING", "FOR", "FOREIGN", "FROM", "FULL", "FUNCTION", "GROUP", "HAVING", "IF",
    "ILIKE", "IMPORT", "IN", "INDEX", "INNER", "INSERT", "INSTALL", "INTEGER", "INTERSECT", "INTERVAL",
    "INTO", "IS", "JOIN", "KEY", "LAST", "LATERAL", "LEFT", "LIKE", "LIMIT", "MACRO", "NATURAL", "NOT",
    "NULL", "NULLS", "OFFSET", "ON", "OR", "ORDER", "OUTER", "OVER", "PARTITION", "PIVOT", "POSITIONAL",
    "PRAGMA", "PRECEDING", "PRIMARY", "QUALIFY", "RECURSIVE", "REFERENCES", "RENAME", "REPLACE",
    "RETURNING", "RIGHT", "ROLLBACK", "ROLLUP", "ROW", "ROWS", "SAMPLE", "SCHEMA", "SELECT", "SEMI",
    "SEQUENCE", "SET", "SHOW", "SUMMARIZE", "TABLE", "TABLES", "TEMPORARY", "THEN", "TIMESTAMP", "TO",
    "TRANSACTION", "TRUE", "TYPE", "UNION", "UNIQUE", "UNPIVOT", "UPDATE", "USE", "VACUUM", "VALUES",
    "VARCHAR", "VIEW", "WHEN", "WHERE", "WINDOW", "WITH",
)  # fmt: skip
"""Common DuckDB SQL keywords, offered even before the engine's own list is read."""

_TABLE_CONTEXT = {
    "FROM",
    "JOIN",
    "INTO",
    "UPDATE",
    "TABLE",
    "GIVEN",
    "CLEAN",
    "DESCRIBE",
    "DESC",
    "SUMMARIZE",
}
_MODEL_CONTEXT = {"MODEL"}
_DATASET_CONTEXT = {"DATASET"}
_WORD_BEFORE_CURSOR = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*$")
_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class CompletionNames:
    """The names the completer offers besides its keyword lists."""

    tables: Sequence[str] = ()
    columns: Sequence[str] = ()
    models: Sequence[str] = ()
    datasets: Sequence[str] = ()
    keywords: Sequence[str] = ()
    functions: Sequence[str] = ()


def quote_identifier(name: str) -> str:
    """``name`` as SQL text: unchanged when it is a plain identifier, double-quoted otherwise."""
    if _PLAIN_IDENTIFIER.fullmatch(name):
        return name
    return '"' + name.replace('"', '""') + '"'


class SessionNames:
    """Reads completion names from a session, caching them until :meth:`invalidate`.

    Tables and columns come from ``information_schema`` (paqdb's own catalog schema left out), models from
    the session's model catalog, datasets from :func:`paqdb.datasets.names`, and keywords and functions from
    DuckDB's ``duckdb_keywords()`` and ``duckdb_functions()``. A name that cannot be read (an aborted
    transaction, a closed database) is simply not offered.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._names: CompletionNames | None = None
        self._fixed: tuple[list[str], list[str], list[str]] | None = None

    def invalidate(self) -> None:
        """Forget the cached tables, columns and models (a statement may have changed them)."""
        self._names = None

    def _column(self, sql: str) -> list[str]:
        from paqdb.errors import Error

        try:
            table = self.session.execute(sql).table
        except Error:
            return []
        return [str(v) for v in table.column(0).to_pylist() if v is not None] if table is not None else []

    def _fixed_names(self) -> tuple[list[str], list[str], list[str]]:
        if self._fixed is None:
            from paqdb import datasets

            keywords = [k.upper() for k in self._column("SELECT keyword_name FROM duckdb_keywords()")]
            functions = self._column(
                "SELECT DISTINCT function_name FROM duckdb_functions() "
                "WHERE function_name NOT LIKE '\\_\\_%' ESCAPE '\\' ORDER BY 1"
            )
            self._fixed = (keywords, functions, datasets.names())
        return self._fixed

    def __call__(self) -> CompletionNames:
        """The names to offer now."""
        if self._names is None:
            from paqdb.errors import Error

            keywords, functions, dataset_names = self._fixed_names()
            internal = "table_schema NOT IN ('paqdb', 'information_schema', 'pg_catalog')"
            try:
                models = self.session.models.names()
            except Error:
                models = []
            self._names = CompletionNames(
                tables=self._column(
                    f"SELECT DISTINCT table_name FROM information_schema.tables WHERE {internal}"
                ),
                columns=self._column(
                    f"SELECT DISTINCT column_name FROM information_schema.columns WHERE {internal}"
                ),
                models=models,
                datasets=dataset_names,
                keywords=keywords,
                functions=functions,
            )
        return self._names


class SqlCompleter(Completer):
    """Completes SQL in the shell's input buffer.

    In a statement it offers, for the word before the cursor: the names that fit the place (tables after
    ``FROM``/``JOIN``/``GIVEN``, models after ``MODEL``, datasets after ``DATASET``) first, then paqdb
    phrases (``SHOW MODELS``), keywords, functions, columns and the other names. Keywords follow the case
    the user types. At the start of a line beginning with ``.`` it completes dot commands and their
    arguments.

    Args:
        names: returns the names to offer; called at each completion, so it should cache.
        dot_commands: each dot command with the words its argument can be (empty: no fixed words).
        file_commands: dot commands whose argument is a file path.
    """

    def __init__(
        self,
        names: Callable[[], CompletionNames] | None = None,
        *,
        dot_commands: Mapping[str, Sequence[str]] | None = None,
        file_commands: Iterable[str] = (),
    ) -> None:
        self.names = names or CompletionNames
        self.dot_commands = dict(dot_commands or {})
        self.file_commands = set(file_commands)
        self._paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        """Yield the completions for the text before the cursor."""
        text = document.text_before_cursor
        if text.lstrip().startswith(".") and "\n" not in text:
            yield from self._dot_completions(text.lstrip(), complete_event)
            return
        match = _WORD_BEFORE_CURSOR.search(text)
        word = match.group(0) if match else ""
        if not word and not complete_event.completion_requested:
            return
        before_word = text[: len(text) - len(word)]
        if before_word.endswith('"') or _inside_string(before_word):
            return
        names = self.names()
        previous = before_word.rstrip().rsplit(None, 1)[-1].upper() if before_word.strip() else ""
        seen: set[str] = set()

        def offer(candidates: Iterable[str], meta: str, *, keyword: bool = False) -> Iterator[Completion]:
            for candidate in candidates:
                if not candidate.lower().startswith(word.lower()):
                    continue
                shown = _cased(candidate, word) if keyword else quote_identifier(candidate)
                if shown.lower() in seen:
                    continue
                seen.add(shown.lower())
                yield Completion(shown, start_position=-len(word), display_meta=meta)

        if before_word.endswith("."):  # schema.table or alias.column
            yield from offer(names.columns, "column")
            yield from offer(names.tables, "table")
            return
        if previous in _MODEL_CONTEXT:
            yield from offer(names.models, "model")
        elif previous in _DATASET_CONTEXT:
            yield from offer(names.datasets, "dataset")
        elif previous in _TABLE_CONTEXT:
            yield from offer(names.tables, "table")
        yield from self._phrase_completions(text, word, seen)
        yield from offer(paqdb_keywords(), "paqdb keyword", keyword=True)
        yield from offer(SQL_KEYWORDS, "keyword", keyword=True)
        yield from offer(names.keywords, "keyword", keyword=True)
        yield from offer(names.functions, "function")
        yield from offer(names.columns, "column")
        yield from offer(names.tables, "table")
        yield from offer(names.models, "model")
        yield from offer(names.datasets, "dataset")

    def _phrase_completions(self, text: str, word: str, seen: set[str]) -> Iterator[Completion]:
        """Multi-word phrases whose beginning the last few words before the cursor spell."""
        starts = [m.start() for m in re.finditer(r"\S+", text)][-4:]
        if not word:
            starts = starts[-3:]
        fragments = [text[start:] for start in starts]
        for phrase in paqdb_phrases():
            for fragment in fragments:  # the longest fragment first
                spelled = " ".join(fragment.split()) + (" " if fragment[-1:].isspace() else "")
                if spelled and phrase.startswith(spelled.upper()):
                    shown = _cased(phrase, word or fragment.strip())
                    if shown.lower() not in seen and fragment.upper() != phrase:
                        seen.add(shown.lower())
                        yield Completion(shown, start_position=-len(fragment), display_meta="paqdb")
                    break

    def _dot_completions(self, text: str, complete_event: CompleteEvent) -> Iterator[Completion]:
        command, _, argument = text.partition(" ")
        if not _:
            for name in sorted(self.dot_commands):
                if name.startswith(command.lower()):
                    yield Completion(name, start_position=-len(command), display_meta="command")
            return
        command = command.lower()
        if command in self.file_commands:
            yield from self._paths.get_completions(Document(argument.lstrip()), complete_event)
            return
        typed = argument.lstrip()
        for choice in self.dot_commands.get(command, ()):
            if choice.startswith(typed.lower()):
                yield Completion(choice, start_position=-len(typed))


def _cased(keyword: str, typed: str) -> str:
    """``keyword`` in lower case when the user types lower case, upper case otherwise."""
    return keyword.lower() if typed and typed == typed.lower() else keyword.upper()


def _inside_string(text: str) -> bool:
    """True when ``text`` ends inside a single-quoted string: an odd number of quotes on its last line,
    not counting a ``--`` comment (a heuristic; strings rarely span lines at the prompt)."""
    line = text.split("\n")[-1]
    before_comment = line.split("--", 1)[0]
    return before_comment.count("'") % 2 == 1


__all__ = [
    "SQL_KEYWORDS",
    "CompletionNames",
    "SessionNames",
    "SqlCompleter",
    "paqdb_keywords",
    "paqdb_phrases",
    "quote_identifier",
]
