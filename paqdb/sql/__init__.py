"""The PAQ SQL language machinery: tokens, statements of a script, the dialect, the grammar.

This layer knows nothing of engines, the planner or models. It does not list the paqdb statements
either: each is declared once, in its own module of :mod:`paqdb.statements`, and a
:class:`~paqdb.sql.grammar.Grammar` is built from those declarations.
"""

from paqdb.sql import ast
from paqdb.sql.dialect import Paq, PaqParser, build_dialect
from paqdb.sql.grammar import Grammar
from paqdb.sql.parse import Statement, line_column, split

__all__ = ["Grammar", "Paq", "PaqParser", "Statement", "ast", "build_dialect", "line_column", "split"]
