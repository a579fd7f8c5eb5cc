"""Syntax colouring of the shell's input: Pygments' SQL lexer, with paqdb's words as keywords."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pygments.lexers.sql import SqlLexer
from pygments.token import Comment, Keyword, Name, Text, _TokenType

from paqdb.cli.completion import PAQDB_KEYWORDS

_PAQDB_WORDS = frozenset(PAQDB_KEYWORDS)
# Words that are paqdb keywords only next to their partner word; alone they are often column names.
_AFTER = {
    "LABEL": {"CROWD"},
    "FREQ": {"CAUSAL"},
    "DATASET": {"LOAD"},
    "MODELS": {"SHOW"},
    "MODEL": {"CREATE", "REPLACE", "DESCRIBE", "DESC", "DROP", "USING"},
    "TIME": set(),  # CAUSAL FREQ ... TIME col: DuckDB's TIME type colours it already
}
_BEFORE = {"CROWD": {"LABEL"}, "CAUSAL": {"FREQ"}}

_Token = tuple[int, _TokenType, str]


class PaqSqlLexer(SqlLexer):
    """SQL lexer that also colours ``PREDICT``, ``GIVEN``, ``USING MODEL`` and the other paqdb words.

    Words that are common column names (``label``, ``model``) are coloured only in their paqdb phrase
    (``CROWD LABEL``, ``USING MODEL``), and a paqdb word followed by ``(`` other than ``PREDICT(`` is a
    function call (``range(5)``, ``log(x)``) that keeps its colour.
    """

    name = "paqdb SQL"
    aliases: ClassVar[list[str]] = ["paqdb"]

    def get_tokens_unprocessed(self, text: str, *args: object) -> Iterator[_Token]:
        """Yield ``(index, token type, value)`` like :class:`SqlLexer`, with paqdb words as keywords."""
        tokens = list(super().get_tokens_unprocessed(text, *args))
        significant = [i for i, (_, kind, value) in enumerate(tokens) if _significant(kind, value)]
        for rank, position in enumerate(significant):
            index, token_type, value = tokens[position]
            word = value.upper()
            if token_type in Name and word in _PAQDB_WORDS:
                previous = tokens[significant[rank - 1]][2].upper() if rank else ""
                following = tokens[significant[rank + 1]][2].upper() if rank + 1 < len(significant) else ""
                if (
                    (word not in _AFTER or previous in _AFTER[word])
                    and (word not in _BEFORE or following in _BEFORE[word])
                    and (following != "(" or word == "PREDICT")
                ):
                    tokens[position] = (index, Keyword, value)
        yield from tokens


def _significant(token_type: _TokenType, value: str) -> bool:
    return not (token_type in Comment or (token_type in Text and not value.strip()))


__all__ = ["PaqSqlLexer"]
