"""The PAQ SQL dialect: parse paqdb statements into typed ASTs, pass plain DuckDB SQL through untouched.

This layer knows nothing of engines, the planner or models: it turns text into :class:`Statement` s.
"""

from paqdb.sql import ast
from paqdb.sql.dialect import Paq
from paqdb.sql.parse import Statement, line_column, parse, parse_one, split

__all__ = ["Paq", "Statement", "ast", "line_column", "parse", "parse_one", "split"]
