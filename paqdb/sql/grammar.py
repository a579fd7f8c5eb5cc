"""The paqdb language: DuckDB's SQL plus a set of statement declarations.

A :class:`Grammar` is built from the statements' own declarations (subclasses of
:class:`~paqdb.sql.ast.PaqStatement`, one module each in :mod:`paqdb.statements`); everything that
needs to know the statements asks it:

* **parse**: split a script and parse the paqdb statements (and the queries calling ``PREDICT(...)``)
  into typed ASTs with the dialect the declarations make; plain DuckDB SQL is not parsed at all, its
  exact text goes to DuckDB, so it behaves exactly as in DuckDB;
* **did you mean**: a failed plain statement whose first words nearly spell a paqdb statement's;
* **words**: the keywords and phrases completion offers and the shell colours.

Syntax errors carry the line and column (1-based, of the offending token's first character) in the
whole script, so ``str(error)`` shows a caret under the token.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp
from sqlglot.errors import ParseError as SqlglotParseError
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from paqdb.errors import Error, ParseError, ProgrammingError
from paqdb.sql import ast
from paqdb.sql.dialect import Paq, PositionedSyntaxError, build_dialect
from paqdb.sql.parse import (
    Statement,
    calls_predict,
    edit_distance,
    leading_space,
    leading_words,
    line_column,
    split,
    tokenize,
)

# Words of the expression form and of EXPLAIN, which belong to no statement declaration.
_SHARED_KEYWORDS = ("PREDICT", "USING", "MODEL", "EXPLAIN", "ANALYZE")


class Grammar:
    """DuckDB's SQL plus ``statements`` (declarations, tried in this order).

    Args:
        statements: subclasses of :class:`~paqdb.sql.ast.PaqStatement`.
    """

    def __init__(self, statements: Sequence[type[ast.PaqStatement]]) -> None:
        self.statements = tuple(statements)
        self.dialect: Paq = build_dialect(self.statements)()

    # -- words ----------------------------------------------------------------------------------------

    @property
    def keywords(self) -> tuple[str, ...]:
        """Every word the statements add (completion offers them, the shell colours them)."""
        words: dict[str, None] = dict.fromkeys(_SHARED_KEYWORDS)
        for statement in self.statements:
            for form in statement.forms:
                words.update(dict.fromkeys(form))
            words.update(dict.fromkeys(statement.keywords))
        return tuple(words)

    @property
    def phrases(self) -> tuple[str, ...]:
        """The statements' leading phrases (``SHOW MODELS``, ``CREATE OR REPLACE MODEL``), for completion."""
        phrases: dict[str, None] = {}
        for statement in self.statements:
            phrases.update(dict.fromkeys(" ".join(form) for form in statement.forms if len(form) > 1))
        return (*phrases, "USING MODEL", "USING SEARCH")

    # -- parsing --------------------------------------------------------------------------------------

    def parse(self, script: str) -> list[Statement]:
        """Split ``script`` into statements and parse the paqdb ones.

        Raises:
            ParseError: a paqdb statement (or a query calling ``PREDICT(...)``) does not parse; the
                error carries line and column of the offending token in ``script``.
        """
        return [self._classify_and_parse(script, offset, text) for offset, text in split(script)]

    def parse_one(self, sql: str) -> Statement:
        """Parse text holding exactly one statement."""
        statements = self.parse(sql)
        if len(statements) != 1:
            raise ParseError(f"expected one statement, found {len(statements)}", hint="run them one by one")
        return statements[0]

    def claimed_by(self, tokens: list[Token]) -> type[ast.PaqStatement] | None:
        """The statement whose leading words ``tokens`` start with, or None for DuckDB's SQL."""
        words = [t.text.upper() if t.token_type != TokenType.STRING else "" for t in tokens[:6]]
        for statement in self.statements:
            if statement.claims(words, tokens):
                return statement
        return None

    def _classify_and_parse(self, script: str, offset: int, text: str) -> Statement:
        try:
            tokens = tokenize(text)
        except TokenError:
            return Statement(text, offset, script, None)
        if not tokens:
            return Statement(text, offset, script, None)
        if tokens[0].token_type == TokenType.COMMAND and tokens[0].text.upper() == "EXPLAIN":
            return self._parse_explain(script, offset, text, tokens)
        if self.claimed_by(tokens) is not None or calls_predict(tokens):
            return Statement(text, offset, script, self._parse_with_dialect(script, offset, text))
        if self._may_embed(tokens):
            # Only a query that really holds a paqdb statement is paqdb's; any other text (a column
            # called predict, a misspelt statement) goes to DuckDB exactly as written, errors included.
            try:
                node = self._parse_with_dialect(script, offset, text)
            except ParseError:
                node = None
            if node is not None and any(isinstance(n, ast.PaqStatement) for n in node.walk()):
                return Statement(text, offset, script, node)
        return Statement(text, offset, script, None)

    def _may_embed(self, tokens: list[Token]) -> bool:
        """True when an embeddable statement's words appear after the start (``FROM (PREDICT y FROM``)."""
        for statement in self.statements:
            if not statement.embeddable:
                continue
            for form in statement.forms:
                for i in range(1, len(tokens) - len(form)):
                    words = [t.text.upper() for t in tokens[i : i + len(form)]]
                    if (
                        words == list(form)
                        and tokens[i - 1].token_type != TokenType.DOT
                        and tokens[i + len(form)].token_type != TokenType.L_PAREN
                    ):
                        return True
        return False

    def _parse_explain(self, script: str, offset: int, text: str, tokens: list[Token]) -> Statement:
        # DuckDB's tokenizer reads EXPLAIN as a command: everything after it is one string token.
        if len(tokens) < 2:
            return Statement(text, offset, script, None)
        after = tokens[0].end + 1  # the string token's own offsets are not reliable for commands
        inner_start = after + leading_space(text[after:])
        inner = text[inner_start:]
        analyze = False
        first_word = inner.split(None, 1)[0].upper() if inner.split() else ""
        if first_word == "ANALYZE":
            skipped = inner.upper().index("ANALYZE") + len("ANALYZE")
            inner_start += skipped + leading_space(inner[skipped:])
            inner = text[inner_start:]
            analyze = True
        inner_statement = self._classify_and_parse(script, offset + inner_start, inner)
        if inner_statement.ast is None:
            return Statement(text, offset, script, None)
        if isinstance(inner_statement.ast, ast.Explain):
            line, column = line_column(script, offset + inner_start)
            raise ParseError(
                "EXPLAIN cannot explain an EXPLAIN",
                hint="remove one EXPLAIN (EXPLAIN ANALYZE runs the statement)",
            ).with_position(line, column, script)
        node = ast.Explain(this=inner_statement.ast, analyze=analyze)
        node.meta["start"] = 0
        return Statement(text, offset, script, node)

    def _parse_with_dialect(self, script: str, offset: int, text: str) -> exp.Expr:
        try:
            expressions = self.dialect.parse(text)
        except PositionedSyntaxError as error:
            if error.error is not None:
                error.error.with_position(*line_column(script, offset + error.offset), script)
                raise error.error from None
            near = f" at or near '{error.token_text}'" if error.token_text else " at the end of the statement"
            line, column = line_column(script, offset + error.offset)
            raise ParseError(f"syntax error{near}: {error.message}").with_position(
                line, column, script
            ) from None
        except SqlglotParseError as error:  # raised outside raise_error, e.g. by validation
            line, column = line_column(script, offset)
            message = error.errors[0]["description"] if error.errors else str(error)
            raise ParseError(f"syntax error: {message}").with_position(line, column, script) from None
        except Error as error:  # option values that are not literals, duplicated options
            if error.line is None:
                error.with_position(*line_column(script, offset), script)
            raise
        nodes = [e for e in expressions if e is not None]
        if len(nodes) != 1:
            raise ParseError("expected a single statement").with_position(
                *line_column(script, offset), script
            )
        if isinstance(nodes[0], ast.PredictCall):
            raise ParseError(
                "PREDICT(...) is an expression: use it inside a query",
                hint=f"write SELECT {nodes[0].sql(dialect=self.dialect)} FROM <table>, "
                "or the statement form PREDICT <label> FROM <table> USING MODEL <model>",
            ).with_position(*line_column(script, offset), script)
        return nodes[0]

    # -- did you mean ---------------------------------------------------------------------------------

    def explain_failure(self, statement: Statement, error: Error) -> Error:
        """The error to show for plain SQL that failed in the engine: a misspelt paqdb statement gets a hint.

        DuckDB reads ``SHOW MODLES`` as "show the table MODLES" and ``PREDCT y FROM t`` as a syntax
        error at ``PREDCT``: right in DuckDB's terms, but what the user meant was paqdb's statement. When
        the first words are a near miss of a paqdb statement's (``SHOW MODELS``, ``PREDICT``, ``CREATE
        MODEL``, ...), the error keeps DuckDB's message and gets the hint "did you mean SHOW MODELS?".
        A statement's form spelt exactly but cut short (``DESCRIBE MODEL`` alone, when there is no table
        called ``model``) becomes "DESCRIBE MODEL needs a model name". Only plain statements and syntax,
        name and binding errors (:class:`~paqdb.errors.ProgrammingError`) are looked at; valid SQL never
        gets here.
        """
        if not statement.is_plain or not isinstance(error, ProgrammingError) or error.hint:
            return error
        words = leading_words(statement.text)
        for declared in self.statements:
            for form in declared.forms:
                if words == list(form) and len(form) > 1:
                    line, column = statement.position(len(statement.text))
                    return ParseError(
                        f"{' '.join(words)} needs a model name",
                        hint=f"write {declared.usage}; SHOW MODELS lists the models (to describe a "
                        f'table called {form[-1].lower()}, write DESCRIBE "{form[-1].lower()}")',
                    ).with_position(line, column, statement.script)
        suggestion = self.suggested_form(words)
        if suggestion is not None:
            form, declared = suggestion
            error.hint = f"did you mean paqdb's {' '.join(form)}?" + (
                f" It reads: {declared.usage}" if declared.usage else ""
            )
        return error

    def suggested_form(self, words: list[str]) -> tuple[tuple[str, ...], type[ast.PaqStatement]] | None:
        """The paqdb statement form that ``words`` (upper-cased leading words) nearly spell, or None.

        Each word may be off by one edit (insert, delete, replace, or swap two neighbours) when it is five
        letters or shorter and by two when longer, at most two edits in all, and at least one: words that
        spell a form exactly are paqdb's statement already (or, like ``DESCRIBE MODEL`` alone, meant as
        DuckDB's). The closest form wins, the longer one on a tie.
        """
        best: tuple[int, int, tuple[str, ...], type[ast.PaqStatement]] | None = None
        for declared in self.statements:
            for form in declared.forms:
                if len(words) < len(form):
                    continue
                distances = [edit_distance(w, p) for w, p in zip(words, form, strict=False)]
                if any(d > (1 if len(p) <= 5 else 2) for d, p in zip(distances, form, strict=True)):
                    continue
                total = sum(distances)
                if 1 <= total <= 2 and (best is None or (total, -len(form)) < best[:2]):
                    best = (total, -len(form), form, declared)
        return (best[2], best[3]) if best is not None else None
