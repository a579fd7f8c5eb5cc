"""Syntax colouring of the shell's input: Pygments' SQL lexer, with paqdb's words as keywords."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import cache
from typing import ClassVar

from pygments.lexers.sql import SqlLexer
from pygments.token import Comment, Keyword, Name, Text, _TokenType

from paqdb.cli.completion import paqdb_keywords, paqdb_phrases


@cache
def _words() -> tuple[frozenset[str], dict[str, set[str]], dict[str, set[str]]]:
    """paqdb's words, and for each word of a phrase the partners it is coloured next to.

    Words of a phrase (``CROWD LABEL``, ``USING MODEL``) are often column names alone (``label``,
    ``model``), so they are keywords only next to their partner word: ``after[w]`` holds the words that
    may come before ``w``, ``before[w]`` those that may follow it.
    """
    after: dict[str, set[str]] = {}
    before: dict[str, set[str]] = {}
    for phrase in paqdb_phrases():
        words = phrase.split()
        for first, second in itertools.pairwise(words):
            after.setdefault(second, set()).add(first)
            before.setdefault(first, set()).add(second)
    return frozenset(paqdb_keywords()), after, before


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
            keywords, after, before = _words()
            if token_type in Name and word in keywords:
                previous = tokens[significant[rank - 1]][2].upper() if rank else ""
                following = tokens[significant[rank + 1]][2].upper() if rank + 1 < len(significant) else ""
                if (
                    (word not in after or previous in after[word])
                    and (word not in before or following in before[word])
                    and (following != "(" or word == "PREDICT")
                ):
                    tokens[position] = (index, Keyword, value)
        yield from tokens


def _significant(token_type: _TokenType, value: str) -> bool:
    return not (token_type in Comment or (token_type in Text and not value.strip()))


__all__ = ["PaqSqlLexer"]
