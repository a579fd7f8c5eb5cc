"""Statements of a script and where things are in it: splitting at semicolons, positions, tokens.

A script is split at the semicolons that DuckDB's tokenizer sees (not those in strings or comments) into
:class:`Statement` s. Which of them are paqdb's, and their ASTs, is the grammar's business
(:class:`paqdb.sql.grammar.Grammar`, built from the statements' own declarations).

Positions are 1-based line and column of a token's first character in the whole script, so
``str(error)`` shows a caret under the token.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from paqdb.errors import Error
from paqdb.sql import ast

_TOKENIZER_DIALECT = DuckDB()


def tokenize(text: str) -> list[Token]:
    """DuckDB's tokens of ``text`` (sqlglot's DuckDB tokenizer); raises sqlglot's TokenError."""
    return _TOKENIZER_DIALECT.tokenize(text)


@dataclass(frozen=True)
class Statement:
    """One statement of a script.

    Attributes:
        text: the statement exactly as written (without its terminating semicolon).
        offset: where ``text`` starts in ``script``.
        script: the whole submitted text, for error positions.
        ast: the parsed AST, or None for plain DuckDB SQL that is passed through untouched.
    """

    text: str
    offset: int
    script: str
    ast: exp.Expr | None

    @property
    def is_plain(self) -> bool:
        """True for plain DuckDB SQL that goes to DuckDB as written."""
        return self.ast is None

    @property
    def is_paq(self) -> bool:
        """True for one of the statements paqdb adds (PREDICT, CREATE MODEL, ...)."""
        return isinstance(self.ast, ast.PaqStatement)

    def position(self, offset_in_text: int = 0) -> tuple[int, int]:
        """1-based (line, column) in the script of an offset inside this statement's text."""
        return line_column(self.script, self.offset + offset_in_text)

    def locate(self, error: Error, node: exp.Expression | None = None) -> Error:
        """Attach the position of ``node`` (or of the statement start) to ``error`` and return it."""
        start = _start_of(node) if node is not None else None
        line, column = self.position(start if start is not None else leading_space(self.text))
        return error.with_position(line, column, self.script)


def leading_words(text: str, count: int = 4) -> list[str]:
    """The first ``count`` words of ``text``, upper-cased; a string or quoted name ends the words."""
    try:
        tokens = _TOKENIZER_DIALECT.tokenize(text)
    except TokenError:
        return []
    words = []
    for token in tokens[:count]:
        if token.token_type in (TokenType.STRING, TokenType.IDENTIFIER) or not token.text.isalpha():
            break
        words.append(token.text.upper())
    return words


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, replacements and adjacent swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def _start_of(node: exp.Expression) -> int | None:
    """Offset of the first token of ``node``: its own, or the earliest of the nodes inside it."""
    starts = [n.meta["start"] for n in node.walk() if isinstance(n, exp.Expression) and "start" in n.meta]
    return min(int(s) for s in starts) if starts else None


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character ``offset`` in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def split(script: str) -> list[tuple[int, str]]:
    """Split ``script`` at top-level semicolons into ``(offset, text)`` pairs, skipping empty ones.

    Text that DuckDB's tokenizer cannot read (an unterminated string, say) is returned whole, so DuckDB
    reports the error in its own words.
    """
    try:
        tokens = _TOKENIZER_DIALECT.tokenize(script)
    except TokenError:
        return [(leading_space(script), script.strip())] if script.strip() else []
    pieces: list[tuple[int, str]] = []
    start = 0
    has_token = False
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if has_token:
                pieces.append(_trimmed(script, start, token.start))
            start, has_token = token.end + 1, False
        else:
            has_token = True
    if has_token:
        pieces.append(_trimmed(script, start, len(script)))
    return pieces


def _trimmed(script: str, start: int, end: int) -> tuple[int, str]:
    raw = script[start:end]
    return start + leading_space(raw), raw.strip()


def leading_space(text: str) -> int:
    return len(text) - len(text.lstrip())


def calls_predict(tokens: list[Token]) -> bool:
    """True when the tokens hold ``PREDICT( ... USING MODEL ...)`` or ``PREDICT_PROBA( ... USING MODEL
    ...)``, the expression forms.

    Only the full form counts, so a table, column or function that happens to be called ``predict``
    (``CREATE TABLE predict (a INT)``) stays plain SQL.
    """
    for i, token in enumerate(tokens[:-1]):
        if (
            token.token_type == TokenType.STRING
            or token.text.upper() not in ("PREDICT", "PREDICT_PROBA")
            or tokens[i + 1].token_type != TokenType.L_PAREN
            or (i > 0 and tokens[i - 1].token_type == TokenType.DOT)
        ):
            continue
        depth = 0
        for j in range(i + 1, len(tokens) - 1):
            kind = tokens[j].token_type
            if kind == TokenType.L_PAREN:
                depth += 1
            elif kind == TokenType.R_PAREN:
                depth -= 1
                if depth == 0:
                    break
            elif depth == 1 and kind == TokenType.USING and tokens[j + 1].text.upper() == "MODEL":
                return True
    return False
