"""The statements paqdb adds to DuckDB's SQL: one module per statement, and this registry.

Each statement is declared once, as a subclass of :class:`paqdb.sql.ast.PaqStatement` in its own module:
its AST fields, the words that start it, its grammar rule, its SQL text, its binding and its plans. The
parser, the generator, the splitter, "did you mean", completion and highlighting all come from the
declarations (:func:`grammar`), and the planner asks the statement for its plan.

A new statement is a new module here plus one line in :data:`STATEMENT_MODULES` (or, from outside the
package, one call of :func:`register`). Modules are imported when the grammar is first needed.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cache

from paqdb.sql import Grammar, Statement
from paqdb.sql.ast import PaqStatement

#: The statement modules, in the order the parser tries them: the registration of each statement.
STATEMENT_MODULES: list[str] = [
    "paqdb.statements.predict",
    "paqdb.statements.create_model",
    "paqdb.statements.models",  # SHOW MODELS, DESCRIBE MODEL, DROP MODEL
    "paqdb.statements.model_files",  # EXPORT MODEL, IMPORT MODEL
    "paqdb.statements.evaluate",  # EVALUATE MODEL
    "paqdb.statements.load_dataset",
    "paqdb.statements.clean",
    "paqdb.statements.crowd_label",
    "paqdb.statements.causal_freq",
]

_extra: list[type[PaqStatement]] = []


def register(statement: type[PaqStatement] | str) -> None:
    """Add a statement to the language: a declaration class, or a module path holding declarations.

    Sessions parse with it from their next statement on.
    """
    if isinstance(statement, str):
        STATEMENT_MODULES.append(statement)
    else:
        _extra.append(statement)
    grammar.cache_clear()


def unregister(statement: type[PaqStatement] | str) -> None:
    """Remove a statement added with :func:`register`."""
    if isinstance(statement, str):
        STATEMENT_MODULES.remove(statement)
    else:
        _extra.remove(statement)
    grammar.cache_clear()


def declarations() -> list[type[PaqStatement]]:
    """Every statement declaration, in the order the parser tries them."""
    found: list[type[PaqStatement]] = []
    for name in STATEMENT_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():  # in the order the module defines them
            if (
                inspect.isclass(value)
                and issubclass(value, PaqStatement)
                and value.__module__ == module.__name__
                and value.forms
                and value not in found
            ):
                found.append(value)
    return [*found, *_extra]


@cache
def grammar() -> Grammar:
    """The paqdb language with every registered statement."""
    return Grammar(declarations())


def parse(script: str) -> list[Statement]:
    """Split ``script`` into statements and parse the paqdb ones (see :meth:`Grammar.parse`)."""
    return grammar().parse(script)


def parse_one(sql: str) -> Statement:
    """Parse text holding exactly one statement."""
    return grammar().parse_one(sql)


__all__ = [
    "STATEMENT_MODULES",
    "declarations",
    "grammar",
    "parse",
    "parse_one",
    "register",
    "unregister",
]
