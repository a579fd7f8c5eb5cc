"""AST nodes shared by the paqdb statements, and the base class that declares a statement.

The statements themselves are declared in :mod:`paqdb.statements`, one module each. Every node is a
sqlglot ``Expression`` (sqlglot 30: custom nodes subclass ``exp.Expression``) so the rest of sqlglot
(traversal, ``sql()``, equality) works on them. Relations (``source``, ``given``) are
``exp.Table`` for a table name or ``exp.Subquery`` for a parenthesised query. Options of ``USING SEARCH
(...)`` and ``WITH (...)`` are :class:`Option` nodes; :meth:`Option.value` turns a value into Python.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.tokens import Token

from paqdb.errors import ParseError
from paqdb.options import Range


class PaqStatement(exp.Expression):
    """Base class of the statements paqdb adds to DuckDB's SQL, and the one place each is declared.

    A statement is one subclass in one module of :mod:`paqdb.statements`: its AST fields
    (``arg_types``: ``source`` for the relation it reads, ``label``, ``columns``, ``model``,
    ``options``), the words that start it, its grammar rule (:meth:`parse_statement`), its canonical
    text (:meth:`to_sql`) and its binding and plans (:meth:`build_plan`). The parser, the generator, the
    statement splitter, "did you mean", completion and highlighting are all built from these
    declarations (:class:`paqdb.sql.grammar.Grammar`); nothing else lists the statements.
    """

    #: The word(s) naming the statement in messages, EXPLAIN and the status a door shows.
    statement_name: ClassVar[str] = "PAQ"
    #: The leading words that make a statement this one (``("CREATE", "MODEL")``), matched token by
    #: token, case-insensitively: the splitter sends such text to paqdb's parser, not to DuckDB.
    forms: ClassVar[tuple[tuple[str, ...], ...]] = ()
    #: Further words the statement uses (``GIVEN``, ``SEARCH``): completion offers them, the shell
    #: colours them as keywords.
    keywords: ClassVar[tuple[str, ...]] = ()
    #: The grammar in one line, for hints and help: ``DROP MODEL [IF EXISTS] <name>``.
    usage: ClassVar[str] = ""
    #: True for a statement that may also stand where a query does (``SELECT * FROM (PREDICT ...)``,
    #: a CTE, ``CREATE TABLE t AS PREDICT ...``); the planner turns it into its query there.
    embeddable: ClassVar[bool] = False

    @classmethod
    def claims(cls, words: list[str], tokens: list[Token]) -> bool:
        """True when text starting with ``words`` (upper-cased) is this statement, not DuckDB's SQL."""
        return any(tuple(words[: len(form)]) == form for form in cls.forms)

    @classmethod
    def parse_statement(cls, parser: Any) -> PaqStatement | None:
        """The grammar rule, called by the parser after the words of one of :attr:`forms`.

        ``parser`` is a :class:`paqdb.sql.dialect.PaqParser` positioned after those words; the rule
        returns None when the text is not this statement after all (the parser then tries the others
        and DuckDB's grammar).
        """
        raise NotImplementedError(f"{cls.__name__} declares no grammar rule")

    def to_sql(self, gen: Any) -> str:
        """The statement's canonical text (``gen`` is the dialect's generator); it parses back to itself."""
        raise NotImplementedError(f"{type(self).__name__} declares no SQL text")

    def build_plan(self, planner: Any, statement: Any) -> Any:
        """Bind the statement and build its plans: a :class:`paqdb.planner.plan.Plan`.

        ``planner`` (a :class:`paqdb.planner.planner.Planner`) gives binding helpers and the context;
        ``statement`` (a :class:`paqdb.sql.parse.Statement`) places errors in the text.
        """
        raise NotImplementedError(f"{type(self).__name__} declares no plan")


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


class Explain(PaqStatement):
    """``EXPLAIN [ANALYZE] statement`` for a paqdb statement or a query using ``PREDICT(...)``."""

    statement_name = "EXPLAIN"
    arg_types = {"this": True, "analyze": False}


class PredictCall(exp.Expression):
    """``PREDICT(label USING MODEL m [VERSION n])`` inside any expression: the model's prediction for each
    row (the current version's, or version n's)."""

    arg_types = {"this": True, "model": True, "version": False}


class PredictProbaCall(exp.Expression):
    """``PREDICT_PROBA(label USING MODEL m [VERSION n])`` inside any expression: a classifier's per-class
    probabilities for each row, a ``MAP(VARCHAR, DOUBLE)`` from the class value (as text) to its
    probability."""

    arg_types = {"this": True, "model": True, "version": False}


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
