"""From SQL text to statements: split a script, tell paqdb statements from plain DuckDB SQL, parse.

A script is split at the semicolons that DuckDB's tokenizer sees (not those in strings or comments).
Each statement is then one of:

* a **paqdb statement** (``PREDICT ...``, ``CREATE MODEL ...``, ``EXPLAIN PREDICT ...`` ...): parsed by
  the :class:`~paqdb.sql.dialect.Paq` dialect into a typed AST;
* **plain SQL that calls** ``PREDICT(... USING MODEL m)``: parsed too, so the planner can rewrite the
  call into a scoring function;
* **plain DuckDB SQL**: not parsed at all. Its exact text goes to DuckDB, so it behaves exactly as in
  DuckDB, errors included.

Syntax errors carry the line and column (1-based, of the offending token's first character) in the
whole script and the statement text, so ``str(error)`` shows a caret under the token.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ParseError as SqlglotParseError
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from paqdb.errors import Error, ParseError, ProgrammingError
from paqdb.sql import ast
from paqdb.sql.dialect import Paq, PositionedSyntaxError

_TOKENIZER_DIALECT = DuckDB()
_PAQ_DIALECT = Paq()

# Leading words that make a statement paqdb's (matched case-insensitively, token by token).
_PAQ_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("PREDICT",),
    ("CREATE", "MODEL"),
    ("CREATE", "OR", "REPLACE", "MODEL"),
    ("SHOW", "MODELS"),
    ("DROP", "MODEL"),
    ("CLEAN",),
    ("CROWD", "LABEL"),
    ("CAUSAL", "FREQ"),
    ("LOAD", "DATASET"),
)

# What a misspelt first word or two is compared against for "did you mean" (DESCRIBE MODEL is paqdb's
# only with a name after it, so it is not in _PAQ_PREFIXES).
_SUGGESTED_PREFIXES: tuple[tuple[str, ...], ...] = (
    *_PAQ_PREFIXES,
    ("DESCRIBE", "MODEL"),
    ("DESC", "MODEL"),
)


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
        line, column = self.position(start if start is not None else _leading_space(self.text))
        return error.with_position(line, column, self.script)

    def explain_failure(self, error: Error) -> Error:
        """The error to show for plain SQL that failed in the engine: a misspelt paqdb statement gets a hint.

        DuckDB reads ``SHOW MODLES`` as "show the table MODLES" and ``PREDCT y FROM t`` as a syntax
        error at ``PREDCT``: right in DuckDB's terms, but what the user meant was paqdb's statement. When
        the first words are a near miss of a paqdb statement's (``SHOW MODELS``, ``PREDICT``, ``CREATE
        MODEL``, ...), the error keeps DuckDB's message and gets the hint "did you mean SHOW MODELS?".
        ``DESCRIBE MODEL`` alone, when there is no table called ``model`` to describe, becomes "DESCRIBE
        MODEL needs a model name". Only plain statements and syntax, name and binding errors
        (:class:`~paqdb.errors.ProgrammingError`) are looked at; valid SQL never gets here.
        """
        if not self.is_plain or not isinstance(error, ProgrammingError) or error.hint:
            return error
        words = _leading_words(self.text)
        if words[:3] in (["DESCRIBE", "MODEL"], ["DESC", "MODEL"]):
            line, column = self.position(len(self.text))
            return ParseError(
                f"{' '.join(words)} needs a model name",
                hint="write DESCRIBE MODEL <name>; SHOW MODELS lists the models "
                '(to describe a table called model, write DESCRIBE "model")',
            ).with_position(line, column, self.script)
        prefix = suggested_prefix(words)
        if prefix is not None:
            usage = _USAGE.get(prefix)
            error.hint = f"did you mean paqdb's {' '.join(prefix)}?" + (
                f" It reads: {usage}" if usage else ""
            )
        return error


_USAGE: dict[tuple[str, ...], str] = {
    ("PREDICT",): "PREDICT <column> FROM <table> GIVEN <labeled table> | USING MODEL <name>",
    ("CREATE", "MODEL"): "CREATE MODEL <name> PREDICT <column> FROM <table>",
    ("CREATE", "OR", "REPLACE", "MODEL"): "CREATE OR REPLACE MODEL <name> PREDICT <column> FROM <table>",
    ("DROP", "MODEL"): "DROP MODEL [IF EXISTS] <name>",
    ("DESCRIBE", "MODEL"): "DESCRIBE MODEL <name>",
    ("DESC", "MODEL"): "DESC MODEL <name>",
    ("CLEAN",): "CLEAN <table> PREDICT <column> [USING MODEL <name>] [WITH (...)]",
    ("CROWD", "LABEL"): "CROWD LABEL <column> FROM <table> [GIVEN <labeled>] [WITH (...)]",
    ("CAUSAL", "FREQ"): "CAUSAL FREQ <x>, <y> FROM <table> TIME <column>",
    ("LOAD", "DATASET"): "LOAD DATASET <name> [AS <table>]",
}


def _leading_words(text: str, count: int = 4) -> list[str]:
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


def suggested_prefix(words: list[str]) -> tuple[str, ...] | None:
    """The paqdb statement prefix that ``words`` (upper-cased leading words) nearly spell, or None.

    Each word may be off by one edit (insert, delete, replace, or swap two neighbours) when it is five
    letters or shorter and by two when longer, at most two edits in all, and at least one: words that
    spell a prefix exactly are paqdb's statement already (or, like ``DESCRIBE MODEL`` alone, meant as
    DuckDB's). The closest prefix wins, the longer one on a tie.
    """
    best: tuple[int, int, tuple[str, ...]] | None = None
    for prefix in _SUGGESTED_PREFIXES:
        if len(words) < len(prefix):
            continue
        distances = [_edit_distance(w, p) for w, p in zip(words, prefix, strict=False)]
        if any(d > (1 if len(p) <= 5 else 2) for d, p in zip(distances, prefix, strict=True)):
            continue
        total = sum(distances)
        if 1 <= total <= 2 and (best is None or (total, -len(prefix)) < best[:2]):
            best = (total, -len(prefix), prefix)
    return best[2] if best is not None else None


def _edit_distance(a: str, b: str) -> int:
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


def parse(script: str) -> list[Statement]:
    """Split ``script`` into statements and parse the paqdb ones.

    Raises:
        ParseError: a paqdb statement (or a query calling ``PREDICT(...)``) does not parse; the error
            carries line and column of the offending token in ``script``.
    """
    return [_classify_and_parse(script, offset, text) for offset, text in split(script)]


def parse_one(sql: str) -> Statement:
    """Parse text holding exactly one statement."""
    statements = parse(sql)
    if len(statements) != 1:
        raise ParseError(f"expected one statement, found {len(statements)}", hint="run them one by one")
    return statements[0]


def split(script: str) -> list[tuple[int, str]]:
    """Split ``script`` at top-level semicolons into ``(offset, text)`` pairs, skipping empty ones.

    Text that DuckDB's tokenizer cannot read (an unterminated string, say) is returned whole, so DuckDB
    reports the error in its own words.
    """
    try:
        tokens = _TOKENIZER_DIALECT.tokenize(script)
    except TokenError:
        return [(_leading_space(script), script.strip())] if script.strip() else []
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
    return start + _leading_space(raw), raw.strip()


def _leading_space(text: str) -> int:
    return len(text) - len(text.lstrip())


def _classify_and_parse(script: str, offset: int, text: str) -> Statement:
    try:
        tokens = _TOKENIZER_DIALECT.tokenize(text)
    except TokenError:
        return Statement(text, offset, script, None)
    if not tokens:
        return Statement(text, offset, script, None)

    if tokens[0].token_type == TokenType.COMMAND and tokens[0].text.upper() == "EXPLAIN":
        return _parse_explain(script, offset, text, tokens)
    if _is_paq(tokens) or _calls_predict(tokens):
        return Statement(text, offset, script, _parse_with_dialect(script, offset, text))
    return Statement(text, offset, script, None)


def _is_paq(tokens: list[Token]) -> bool:
    words = [t.text.upper() if t.token_type != TokenType.STRING else "" for t in tokens[:4]]
    if words[0] == "PREDICT":
        return len(tokens) > 1 and tokens[1].token_type != TokenType.L_PAREN
    if words[:2] in (["DESCRIBE", "MODEL"], ["DESC", "MODEL"]):
        return len(tokens) > 2  # DESCRIBE model (alone) describes a table called "model"
    return any(tuple(words[: len(prefix)]) == prefix for prefix in _PAQ_PREFIXES)


def _calls_predict(tokens: list[Token]) -> bool:
    """True when the tokens hold ``PREDICT( ... USING MODEL ...)``, the expression form.

    Only the full form counts, so a table, column or function that happens to be called ``predict``
    (``CREATE TABLE predict (a INT)``) stays plain SQL.
    """
    for i, token in enumerate(tokens[:-1]):
        if (
            token.token_type == TokenType.STRING
            or token.text.upper() != "PREDICT"
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


def _parse_explain(script: str, offset: int, text: str, tokens: list[Token]) -> Statement:
    # DuckDB's tokenizer reads EXPLAIN as a command: everything after it is one string token.
    if len(tokens) < 2:
        return Statement(text, offset, script, None)
    after = tokens[0].end + 1  # the string token's own offsets are not reliable for commands
    inner_start = after + _leading_space(text[after:])
    inner = text[inner_start:]
    analyze = False
    first_word = inner.split(None, 1)[0].upper() if inner.split() else ""
    if first_word == "ANALYZE":
        skipped = inner.upper().index("ANALYZE") + len("ANALYZE")
        inner_start += skipped + _leading_space(inner[skipped:])
        inner = text[inner_start:]
        analyze = True
    inner_statement = _classify_and_parse(script, offset + inner_start, inner)
    if inner_statement.ast is None:
        return Statement(text, offset, script, None)
    node = ast.Explain(this=inner_statement.ast, analyze=analyze)
    node.meta["start"] = 0
    return Statement(text, offset, script, node)


def _parse_with_dialect(script: str, offset: int, text: str) -> exp.Expr:
    try:
        expressions = _PAQ_DIALECT.parse(text)
    except PositionedSyntaxError as error:
        if error.error is not None:
            error.error.with_position(*line_column(script, offset + error.offset), script)
            raise error.error from None
        near = f" at or near '{error.token_text}'" if error.token_text else " at the end of the statement"
        line, column = line_column(script, offset + error.offset)
        raise ParseError(f"syntax error{near}: {error.message}").with_position(line, column, script) from None
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
        raise ParseError("expected a single statement").with_position(*line_column(script, offset), script)
    if isinstance(nodes[0], ast.PredictCall):
        raise ParseError(
            "PREDICT(...) is an expression: use it inside a query",
            hint=f"write SELECT {nodes[0].sql(dialect=_PAQ_DIALECT)} FROM <table>, "
            "or the statement form PREDICT <label> FROM <table> USING MODEL <model>",
        ).with_position(*line_column(script, offset), script)
    return nodes[0]
