"""Read the golden SQL corpora in this folder.

A corpus file holds one SQL statement per entry; entries are separated by a line that holds only
``-- ----`` (surrounding whitespace allowed), so a statement may span lines and contain ``;`` and
comments. An entry made only of comments and blank lines (such as a file's header) is not a statement
and is dropped.

In the error corpus every entry starts with a line ``-- error: <ExceptionClass>`` naming the DuckDB
exception class (``duckdb.ParserException``, ``duckdb.CatalogException``, ...) that DuckDB raises for
the statement below it.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "ERRORS_CORPUS",
    "PLAIN_CORPUS",
    "SEPARATOR",
    "load_corpus",
    "load_error_corpus",
    "split_entries",
]

HERE = Path(__file__).resolve().parent
PLAIN_CORPUS = HERE / "plain_duckdb.sql"
ERRORS_CORPUS = HERE / "plain_duckdb_errors.sql"

SEPARATOR = "-- ----"
_SEPARATOR_LINE = re.compile(r"^[ \t]*-- ----[ \t]*$")
_ERROR_LINE = re.compile(r"^--[ \t]*error:[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*$")


def _is_only_comments(text: str) -> bool:
    """Whether ``text`` holds nothing but ``--`` line comments, ``/* */`` block comments and blanks."""
    without_blocks = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return all(not line.strip() or line.strip().startswith("--") for line in without_blocks.splitlines())


def split_entries(text: str) -> list[str]:
    """Split corpus text on separator lines; strip each entry and drop the empty ones."""
    entries: list[list[str]] = [[]]
    for line in text.splitlines():
        if _SEPARATOR_LINE.match(line):
            entries.append([])
        else:
            entries[-1].append(line)
    return [joined for lines in entries if (joined := "\n".join(lines).strip())]


def load_corpus(path: str | Path = PLAIN_CORPUS) -> list[str]:
    """The statements of a corpus file, in file order, each stripped of surrounding whitespace.

    Entries that are only comments (the file's header) are dropped; comments inside a statement are kept.
    """
    text = Path(path).read_text(encoding="utf-8")
    return [entry for entry in split_entries(text) if not _is_only_comments(entry)]


def load_error_corpus(path: str | Path = ERRORS_CORPUS) -> list[tuple[str, str]]:
    """``(expected_exception_class, sql)`` pairs of an error corpus file, in file order.

    Each entry's first line is ``-- error: <ExceptionClass>``; the SQL is the rest of the entry,
    stripped. Comment-only entries (the header) are dropped. A statement entry without the error
    line raises ``ValueError``.
    """
    pairs: list[tuple[str, str]] = []
    for entry in split_entries(Path(path).read_text(encoding="utf-8")):
        first, _, rest = entry.partition("\n")
        match = _ERROR_LINE.match(first.strip())
        if match is None:
            if _is_only_comments(entry):
                continue
            raise ValueError(f"{path}: entry lacks a '-- error: <ExceptionClass>' first line:\n{entry}")
        sql = rest.strip()
        if not sql or _is_only_comments(sql):
            raise ValueError(f"{path}: entry for {match.group(1)} has no statement")
        pairs.append((match.group(1), sql))
    return pairs
