"""AST nodes of the paqdb statements.

Every node is a sqlglot ``Expression`` (sqlglot 30: custom nodes subclass ``exp.Expression``) so the
rest of sqlglot (traversal, ``sql()``, equality) works on them. Relations (``source``, ``given``) are
``exp.Table`` for a table name or ``exp.Subquery`` for a parenthesised query. Options of ``USING SEARCH
(...)`` and ``WITH (...)`` are :class:`Option` nodes; :meth:`Option.value` turns a value into Python.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from paqdb.errors import ParseError
from paqdb.options import Range


class PaqStatement(exp.Expression):
    """Base class of the statements paqdb adds to DuckDB's SQL."""

    #: The word(s) naming the statement in messages and in EXPLAIN.
    statement_name = "PAQ"


class Option(exp.Expression):
    """``name => value`` inside ``USING SEARCH (...)`` or ``WITH (...)``."""

    arg_types = {"this": True, "expression": True}

    @property
    def option_name(self) -> str:
        """The option name, lower-cased."""
        return str(self.this.name).lower()

    def value(self) -> Any:
        """The option's value as Python: str, int, float, bool, None, list or :class:`Range`."""
        return literal_value(self.expression)


class SearchClause(exp.Expression):
    """``USING SEARCH (option, ...)``: how the planner searches for a model."""

    arg_types = {"expressions": False}

    def options(self) -> dict[str, Any]:
        """The options as a ``{name: python value}`` dict (names lower-cased)."""
        return options_dict(self.expressions)


class Predict(PaqStatement):
    """``PREDICT label FROM source [GIVEN labeled | USING MODEL m] [USING SEARCH (...)]``."""

    statement_name = "PREDICT"
    arg_types = {"this": True, "source": True, "given": False, "model": False, "search": False}


class CreateModel(PaqStatement):
    """``CREATE [OR REPLACE] MODEL [IF NOT EXISTS] name PREDICT label FROM source [USING SEARCH (...)]``."""

    statement_name = "CREATE MODEL"
    arg_types = {
        "this": True,
        "label": True,
        "source": True,
        "search": False,
        "replace": False,
        "exists": False,
    }


class ShowModels(PaqStatement):
    """``SHOW MODELS``."""

    statement_name = "SHOW MODELS"
    arg_types = {}


class DescribeModel(PaqStatement):
    """``DESCRIBE MODEL name``: one row per search trial."""

    statement_name = "DESCRIBE MODEL"
    arg_types = {"this": True}


class DropModel(PaqStatement):
    """``DROP MODEL [IF EXISTS] name``."""

    statement_name = "DROP MODEL"
    arg_types = {"this": True, "exists": False}


class Clean(PaqStatement):
    """``CLEAN table PREDICT label [USING MODEL m] [WITH (...)]``: progressive, model-aware cleaning."""

    statement_name = "CLEAN"
    arg_types = {"this": True, "label": True, "model": False, "expressions": False}


class CrowdLabel(PaqStatement):
    """``CROWD LABEL column FROM table [GIVEN labeled] [WITH (...)]``: crowd plus model labeling."""

    statement_name = "CROWD LABEL"
    arg_types = {"this": True, "source": True, "given": False, "expressions": False}


class CausalFreq(PaqStatement):
    """``CAUSAL FREQ x, y [, ...] FROM table TIME t [BY series] [WITH (...)]``: frequency-domain causality."""

    statement_name = "CAUSAL FREQ"
    arg_types = {"columns": True, "source": True, "time": True, "by": False, "expressions": False}


class LoadDataset(PaqStatement):
    """``LOAD DATASET name [AS table]``: load a dataset that ships inside an installed package."""

    statement_name = "LOAD DATASET"
    arg_types = {"this": True, "target": False}


class Explain(PaqStatement):
    """``EXPLAIN [ANALYZE] statement`` for a paqdb statement or a query using ``PREDICT(...)``."""

    statement_name = "EXPLAIN"
    arg_types = {"this": True, "analyze": False}


class PredictCall(exp.Expression):
    """``PREDICT(label USING MODEL m)`` inside any expression: the model's prediction for each row."""

    arg_types = {"this": True, "model": True}


def options_dict(options: list[Option] | None) -> dict[str, Any]:
    """Turn a list of :class:`Option` nodes into ``{name: value}``; a repeated name is an error."""
    result: dict[str, Any] = {}
    for option in options or []:
        if option.option_name in result:
            raise ParseError(
                f"option '{option.option_name}' is given twice",
                hint="give each option once",
            )
        result[option.option_name] = option.value()
    return result


def literal_value(node: exp.Expression) -> Any:
    """Convert an option value's AST to Python.

    Literals become str, int or float; TRUE/FALSE/NULL become bool/None; ``[a, b]`` a list;
    ``RANGE(low, high[, LOG|LINEAR|INT])`` a :class:`~paqdb.options.Range`; a bare name (``cleaned =>
    my_table``) its text; an INTERVAL its SQL text (``'2 minutes'``).
    """
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        try:
            return int(text)
        except ValueError:
            return float(text)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Neg):
        inner = literal_value(node.this)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner
    if isinstance(node, exp.Array):
        return [literal_value(e) for e in node.expressions]
    if isinstance(node, exp.Paren):
        return literal_value(node.this)
    if isinstance(node, exp.Column | exp.Identifier | exp.Var | exp.Table):
        return node.sql(dialect="duckdb") if isinstance(node, exp.Table) else node.name
    if isinstance(node, exp.Interval):
        unit = node.unit.name if node.unit else ""
        return f"{literal_value(node.this)} {unit}".strip().lower()
    if isinstance(node, RangeValue):
        values = [literal_value(e) for e in node.expressions]
        numeric = [v for v in values[:2] if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(values) not in (2, 3) or len(numeric) != 2:
            raise ParseError(
                "RANGE takes a numeric low and high bound and an optional scale",
                hint="write RANGE(1e-4, 1e-1, LOG), RANGE(2, 32, INT) or RANGE(0.1, 0.9)",
            )
        scale = str(values[2]).lower() if len(values) == 3 else "linear"
        return Range(float(numeric[0]), float(numeric[1]), scale)  # type: ignore[arg-type]
    raise ParseError(
        f"option value {node.sql(dialect='duckdb')!r} is not a literal",
        hint="use a number, a 'string', TRUE/FALSE, a list [a, b] or RANGE(low, high[, LOG])",
    )


class RangeValue(exp.Expression):
    """``RANGE(low, high[, scale])`` as an option value."""

    arg_types = {"expressions": True}


PAQ_STATEMENTS: tuple[type[PaqStatement], ...] = (
    Predict,
    CreateModel,
    ShowModels,
    DescribeModel,
    DropModel,
    Clean,
    CrowdLabel,
    CausalFreq,
    LoadDataset,
    Explain,
)
