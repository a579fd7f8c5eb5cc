"""The one exception hierarchy of paqdb.

Every error raised to a user is an instance of :class:`Error` (or :class:`Warning`). The classes follow
PEP 249 so that the DB-API module can re-export them unchanged; paqdb's own errors subclass the PEP 249
class that fits them. Each door (the shell, the DB-API, the PostgreSQL wire server, the HTTP server)
renders an error from the same fields:

``message``
    what is wrong, in one sentence.
``sqlstate``
    the five-character SQLSTATE code (PostgreSQL's codes, so the wire server can pass it on).
``line``, ``column``
    1-based position of the offending token's first character in the submitted SQL text, when known.
``statement``
    the SQL text the position refers to.
``hint``
    how to fix it, when there is something to say.

``str(error)`` gives the message, the position with the statement line and a caret under the offending
token, and the hint: the form the shell prints.
"""

from __future__ import annotations

MAX_EXCERPT_LINE = 100
"""Longest statement line an error shows whole under its message."""

EXCERPT_RADIUS = 40
"""Characters shown either side of an error's column when its line is longer than MAX_EXCERPT_LINE."""

MAX_MESSAGE = 2000
"""Longest message or hint kept whole; a longer one keeps its start and end around a marker."""


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` itself when at most ``limit`` characters, else its start and end around a marker that
    says how many characters were left out."""
    if len(text) <= limit:
        return text
    head = text[: limit * 3 // 4]
    tail = text[-(limit // 5) :]
    omitted = len(text) - len(head) - len(tail)
    return f"{head} ... ({omitted:,} characters omitted) ... {tail}"


class Warning(Exception):
    """Important warnings, such as data truncation (PEP 249)."""


class Error(Exception):
    """Base class of every paqdb error (PEP 249 ``Error``)."""

    default_sqlstate = "XX000"

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        line: int | None = None,
        column: int | None = None,
        statement: str | None = None,
        hint: str | None = None,
    ) -> None:
        # A message or hint can quote the statement (DuckDB's own errors do); a huge one is cut so an
        # error never echoes megabytes of SQL back to the user.
        message = shorten(message)
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate or self.default_sqlstate
        self.line = line
        self.column = column
        self.statement = statement
        self.hint = shorten(hint) if hint is not None else None

    def with_position(self, line: int, column: int, statement: str) -> Error:
        """Attach a position (1-based) in ``statement`` and return ``self``."""
        self.line, self.column, self.statement = line, column, statement
        return self

    def caret_excerpt(self) -> str | None:
        """The offending line of the statement with a caret under the error's column, or None.

        A line longer than :data:`MAX_EXCERPT_LINE` is cut to :data:`EXCERPT_RADIUS` characters either
        side of the column, with ``...`` where it was cut, so a generated or pasted statement of a
        megabyte is not echoed back whole.
        """
        if self.statement is None or self.line is None or self.column is None:
            return None
        lines = self.statement.splitlines() or [""]
        if not 1 <= self.line <= len(lines):
            return None
        text = lines[self.line - 1].expandtabs(1)
        caret = max(0, min(self.column - 1, len(text)))
        start, end = 0, len(text)
        if len(text) > MAX_EXCERPT_LINE:
            start = max(0, caret - EXCERPT_RADIUS)
            end = min(len(text), caret + EXCERPT_RADIUS + 1)
        prefix = "..." if start > 0 else ""
        suffix = "..." if end < len(text) else ""
        return f"{prefix}{text[start:end]}{suffix}\n{' ' * (len(prefix) + caret - start)}^"

    def __str__(self) -> str:
        parts = [self.message]
        if self.line is not None and self.column is not None:
            parts[0] += f" (line {self.line}, column {self.column})"
            excerpt = self.caret_excerpt()
            if excerpt:
                parts.append(excerpt)
        if self.hint:
            parts.append(f"Hint: {self.hint}")
        return "\n".join(parts)


class InterfaceError(Error):
    """Misuse of the database interface itself, e.g. a closed cursor (PEP 249)."""

    default_sqlstate = "08003"


class DatabaseError(Error):
    """Errors related to the database (PEP 249)."""


class DataError(DatabaseError):
    """Problems with the processed data: bad values, a label column that is all NULL (PEP 249)."""

    default_sqlstate = "22000"


class OperationalError(DatabaseError):
    """Errors in the database's operation not under the programmer's control (PEP 249)."""

    default_sqlstate = "58000"


class IntegrityError(DatabaseError):
    """Relational integrity is violated, e.g. a model name that already exists (PEP 249)."""

    default_sqlstate = "23000"


class InternalError(DatabaseError):
    """The database hit an internal error: a bug to report (PEP 249)."""

    default_sqlstate = "XX000"


class ProgrammingError(DatabaseError):
    """Errors in the SQL or its references: syntax, unknown table, column or model (PEP 249)."""

    default_sqlstate = "42000"


class NotSupportedError(DatabaseError):
    """A method or feature that is not supported (PEP 249)."""

    default_sqlstate = "0A000"


# paqdb's own errors, each under the PEP 249 class that fits it.


class ParseError(ProgrammingError):
    """The SQL text does not parse."""

    default_sqlstate = "42601"


class UndefinedTableError(ProgrammingError):
    """A table or view named in a statement does not exist."""

    default_sqlstate = "42P01"


class UndefinedColumnError(ProgrammingError):
    """A column named in a statement does not exist in its table."""

    default_sqlstate = "42703"


class UndefinedModelError(ProgrammingError):
    """A model named in a statement does not exist in the catalog."""

    default_sqlstate = "42704"


class DuplicateModelError(IntegrityError):
    """CREATE MODEL names a model that already exists."""

    default_sqlstate = "42710"


class InvalidParameterError(ProgrammingError):
    """A statement option has a bad value: an unknown model family, a budget that does not parse."""

    default_sqlstate = "22023"


class TrainingError(DataError):
    """The data cannot train a model: no rows, a label that is all NULL, a single class."""

    default_sqlstate = "22000"


class ArtifactError(DataError):
    """A stored model artifact cannot be loaded safely (corrupt, or it names types that are not allowed)."""

    default_sqlstate = "XX001"


class NotYetSupportedError(NotSupportedError):
    """A statement that parses but whose execution arrives in a later release."""

    default_sqlstate = "0A000"


class SearchInterrupted(Error):
    """A model search was interrupted (Ctrl-C) before it found any model."""

    default_sqlstate = "57014"


class CatalogError(InternalError):
    """The ``paqdb`` schema in the database file is damaged: a row is missing, duplicated or unreadable."""

    default_sqlstate = "XX001"


class InFailedTransactionError(OperationalError):
    """A statement was sent inside a transaction that an earlier error aborted (PostgreSQL's 25P02)."""

    default_sqlstate = "25P02"


__all__ = [
    "ArtifactError",
    "CatalogError",
    "DataError",
    "DatabaseError",
    "DuplicateModelError",
    "Error",
    "InFailedTransactionError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "InvalidParameterError",
    "NotSupportedError",
    "NotYetSupportedError",
    "OperationalError",
    "ParseError",
    "ProgrammingError",
    "SearchInterrupted",
    "TrainingError",
    "UndefinedColumnError",
    "UndefinedModelError",
    "UndefinedTableError",
    "Warning",
]
