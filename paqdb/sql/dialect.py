"""The paqdb dialect: DuckDB's SQL plus the PAQ statements and the ``PREDICT(... USING MODEL m)`` call.

Following sqlglot's own dialects, every grammar rule is a ``_parse_<thing>`` method, new words are
matched with ``_match_text_seq`` (sqlglot's ``TokenType`` is a closed enum) and the generator finds the
custom nodes through ``TRANSFORMS``. Plain DuckDB statements never reach this parser: the statement
splitter in :mod:`paqdb.sql.parse` hands them to DuckDB as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.generators.duckdb import DuckDBGenerator
from sqlglot.parsers.duckdb import DuckDBParser
from sqlglot.tokens import Token, TokenType

from paqdb.errors import Error, InvalidParameterError
from paqdb.sql import ast

# sqlglot writes a token into some messages as its repr ("Expected table name but got <Token token_type:
# TokenType.SENTINEL, text: SENTINEL, ...>"); users see the token's text instead.
_TOKEN_REPR = re.compile(
    r"<Token token_type: TokenType\.(\w+), text: (.*?), line: \d+, col: \d+, start: \d+.*?>"
)


def readable(message: str) -> str:
    """``message`` with every sqlglot token repr replaced by the token's text (or "the end")."""

    def token_text(match: re.Match[str]) -> str:
        return "the end of the statement" if match.group(1) == "SENTINEL" else f"'{match.group(2)}'"

    return _TOKEN_REPR.sub(token_text, message)


class PositionedSyntaxError(Exception):
    """Raised inside the parser; :mod:`paqdb.sql.parse` turns it into a :class:`paqdb.errors.ParseError`."""

    def __init__(self, message: str, offset: int, token_text: str, error: Error | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.token_text = token_text
        #: a semantic error found while parsing (a bad option value); raised as is, with a position.
        self.error = error


class PaqParser(DuckDBParser):
    """DuckDB's parser with the paqdb statements added in front of ``_parse_statement``.

    ``STATEMENTS`` (empty here) are the statement declarations the parser tries, in order;
    :func:`build_dialect` merges them in.
    """

    STATEMENTS: tuple[type[ast.PaqStatement], ...] = ()

    FUNCTION_PARSERS = {
        **DuckDBParser.FUNCTION_PARSERS,
        "PREDICT": lambda self: self._parse_predict_call(),
        "PREDICT_PROBA": lambda self: self._parse_predict_proba_call(),
    }

    def raise_error(self, message: str, token: Token | None = None) -> None:
        self._raise_at(message, token)

    def _raise_at(self, message: str, token: Token | None, error: Error | None = None) -> None:
        message = readable(message)
        at_end = self._at_end() and (
            token is None or token.token_type == TokenType.SENTINEL or token is self._prev
        )
        if at_end or token is None:
            token = self._prev if at_end else self._curr
        offset = token.end + 1 if at_end else token.start
        raise PositionedSyntaxError(message, offset, "" if at_end else token.text, error)

    def _at_end(self) -> bool:
        return self._curr is None or self._curr.token_type == TokenType.SENTINEL

    # -- statements ---------------------------------------------------------------------------------

    def _parse_statement(self) -> exp.Expr | None:
        if self._at_end():
            return None
        index = self._index
        for statement in self.STATEMENTS:
            for form in statement.forms:
                if self._match_text_seq(*form):
                    node = statement.parse_statement(self)
                    if node is not None:
                        # Inside parentheses (a CTE's body) the statement ends at the ')'.
                        if not self._at_end() and self._curr.token_type != TokenType.R_PAREN:
                            self.raise_error(f"unexpected '{self._curr.text}' after the end of the statement")
                        return node
                self._retreat(index)
        return super()._parse_statement()

    def _parse_select_query(self, *args: Any, **kwargs: Any) -> exp.Expr | None:
        # Where a query may stand (in FROM (...), a CTE, CREATE TABLE ... AS, INSERT INTO ... ), a
        # statement declared embeddable (PREDICT) may stand too; the planner turns it into its query.
        index = self._index
        for statement in self.STATEMENTS:
            if not statement.embeddable:
                continue
            for form in statement.forms:
                if self._match_text_seq(*form):
                    node = statement.parse_statement(self)
                    if node is not None:
                        return node
                self._retreat(index)
        return super()._parse_select_query(*args, **kwargs)

    # -- pieces ---------------------------------------------------------------------------------------

    def _parse_predict_call(self) -> ast.PredictCall:
        label = self._parse_required_identifier("the column to predict")
        if not self._match(TokenType.USING) or not self._match_text_seq("MODEL"):
            self.raise_error("expected USING MODEL <name> in PREDICT(<column> USING MODEL <name>)")
        model = self._parse_required_identifier("a model name")
        version = self._parse_model_version()
        return self.expression(ast.PredictCall(this=label, model=model, version=version))

    def _parse_predict_proba_call(self) -> ast.PredictProbaCall:
        label = self._parse_required_identifier("the column whose class probabilities to give")
        if not self._match(TokenType.USING) or not self._match_text_seq("MODEL"):
            self.raise_error("expected USING MODEL <name> in PREDICT_PROBA(<column> USING MODEL <name>)")
        model = self._parse_required_identifier("a model name")
        version = self._parse_model_version()
        return self.expression(ast.PredictProbaCall(this=label, model=model, version=version))

    def _parse_model_version(self) -> exp.Literal | None:
        """``VERSION n`` after a model's name (n a positive integer literal), or None when absent.

        Every form that names a stored model takes it: PREDICT ... USING MODEL m VERSION 2,
        PREDICT(y USING MODEL m VERSION 2), DESCRIBE MODEL m VERSION 2, EXPORT MODEL m VERSION 2 ...
        """
        if not self._match_text_seq("VERSION"):
            return None
        token = self._curr
        if self._at_end() or token.token_type != TokenType.NUMBER or not token.text.isdigit():
            self.raise_error("expected a version number after VERSION, e.g. VERSION 2")
        if int(token.text) < 1:
            self.raise_error("a model version is a positive integer: versions start at 1", token)
        self._advance()
        return self.expression(exp.Literal(this=str(int(token.text)), is_string=False), token=token)

    def _parse_relation(self) -> exp.Expr:
        if self._match(TokenType.L_PAREN):
            query = self._parse_select()
            if query is None:
                self.raise_error("expected a query inside the parentheses")
            self._match_r_paren()
            return self.expression(exp.Subquery(this=query))
        if self._at_end() or self._curr.token_type not in self.ID_VAR_TOKENS:
            self.raise_error("expected a table name or a (query)")
        table = self._parse_table_parts()
        if table is None:
            self.raise_error("expected a table name or a (query)")
        assert table is not None
        return table

    def _parse_required_identifier(self, what: str) -> exp.Identifier:
        if self._at_end() or self._curr.token_type not in self.ID_VAR_TOKENS | {TokenType.IDENTIFIER}:
            self.raise_error(f"expected {what}")
        identifier = self._parse_id_var(any_token=False)
        if identifier is None:
            self.raise_error(f"expected {what}")
        self._check_not_empty(identifier, what)
        return identifier  # type: ignore[return-value]

    def _check_not_empty(self, node: exp.Expr | None, what: str = "a table name") -> None:
        """Refuse ``""``: DuckDB rejects zero-length names, so a model or column called that is a typo."""
        parts = node.parts if isinstance(node, exp.Table) else [node]
        if any(isinstance(part, exp.Identifier) and part.name == "" for part in parts):
            token = self._prev
            raise PositionedSyntaxError(f"expected {what}: a name cannot be empty", token.start, '""')

    def _expect_word(self, word: str, form: str) -> None:
        if not self._match_text_seq(word):
            self.raise_error(f"expected {word}: the statement reads {form}")

    def _parse_search_clause(self) -> ast.SearchClause:
        return self.expression(ast.SearchClause(expressions=self._parse_option_list()))

    def _parse_with_options(self) -> list[ast.Option]:
        return self._parse_option_list() if self._match(TokenType.WITH) else []

    def _parse_option_list(self) -> list[ast.Option]:
        if not self._match(TokenType.L_PAREN):
            self.raise_error("expected '(' to start the option list, e.g. (budget => '2 minutes')")
        options: list[ast.Option] = []
        if self._match(TokenType.R_PAREN):
            return options
        seen: set[str] = set()
        while True:
            if self._at_end() or self._curr.token_type in (TokenType.R_PAREN, TokenType.COMMA):
                self.raise_error("expected an option name, e.g. budget => '2 minutes'")
            name_token = self._curr
            name = self._parse_id_var(any_token=True)
            if not self._match_set((TokenType.FARROW, TokenType.EQ)):
                self.raise_error("expected '=>' after the option name")
            value_token = self._curr
            value = self._parse_option_value()
            option = self.expression(ast.Option(this=name, expression=value))
            if option.option_name in seen:
                error = InvalidParameterError(
                    f"option '{option.option_name}' is given twice", hint="give it once"
                )
                self._raise_at(error.message, name_token, error)
            seen.add(option.option_name)
            try:
                option.value()
            except Error as error:
                self._raise_at(error.message, value_token, error)
            options.append(option)
            if not self._match(TokenType.COMMA):
                break
        if not self._match(TokenType.R_PAREN):
            self.raise_error("expected ',' or ')' in the option list")
        return options

    def _parse_option_value(self) -> exp.Expression:
        if (
            not self._at_end()
            and self._curr.text.upper() == "RANGE"
            and self._next.token_type == TokenType.L_PAREN
        ):
            self._advance(2)
            bounds = self._parse_csv(self._parse_bitwise)
            self._match_r_paren()
            return self.expression(ast.RangeValue(expressions=bounds))
        value = self._parse_bitwise()
        if value is None:
            self.raise_error("expected an option value")
        return value  # type: ignore[return-value]


def options_sql(gen: DuckDBGenerator, options: list[ast.Option] | None) -> str:
    """``(name => value, ...)``: an option list as the statements write it."""
    return "(" + ", ".join(gen.sql(o) for o in options or []) + ")"


def with_sql(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """`` WITH (...)`` for a statement's options, or nothing when it has none."""
    return f" WITH {options_sql(gen, e.expressions)}" if e.expressions else ""


class PaqGenerator(DuckDBGenerator):
    """DuckDB's generator plus canonical text for the paqdb nodes (each statement writes its own)."""

    TRANSFORMS = {
        **DuckDBGenerator.TRANSFORMS,
        ast.Option: lambda gen, e: f"{gen.sql(e, 'this')} => {gen.sql(e, 'expression')}",
        ast.RangeValue: lambda gen, e: f"RANGE({gen.expressions(e, flat=True)})",
        ast.SearchClause: lambda gen, e: f"USING SEARCH {options_sql(gen, e.expressions)}",
        ast.Explain: lambda gen, e: (
            f"EXPLAIN {'ANALYZE ' if e.args.get('analyze') else ''}{gen.sql(e, 'this')}"
        ),
        ast.PredictProbaCall: lambda gen, e: (
            f"PREDICT_PROBA({gen.sql(e, 'this')} USING MODEL {gen.sql(e, 'model')}"
            f"{' VERSION ' + gen.sql(e, 'version') if e.args.get('version') is not None else ''})"
        ),
        ast.PredictCall: lambda gen, e: (
            f"PREDICT({gen.sql(e, 'this')} USING MODEL {gen.sql(e, 'model')}"
            f"{' VERSION ' + gen.sql(e, 'version') if e.args.get('version') is not None else ''})"
        ),
    }


class Paq(DuckDB):
    """sqlglot dialect of paqdb: ``sqlglot.parse_one(sql, dialect=Paq)`` parses PAQ statements."""

    Parser = PaqParser
    Generator = PaqGenerator


def build_dialect(statements: Sequence[type[ast.PaqStatement]]) -> type[Paq]:
    """The paqdb dialect with ``statements``: their rules and texts merged into the parser's and the
    generator's tables, as sqlglot's dialects extend a base dialect."""

    class StatementParser(PaqParser):
        STATEMENTS = tuple(statements)

    class StatementGenerator(PaqGenerator):
        TRANSFORMS = {
            **PaqGenerator.TRANSFORMS,
            **{statement: _statement_sql for statement in statements},
        }

    class PaqWithStatements(Paq):
        Parser = StatementParser
        Generator = StatementGenerator

    return PaqWithStatements


def _statement_sql(gen: DuckDBGenerator, e: ast.PaqStatement) -> str:
    return e.to_sql(gen)
