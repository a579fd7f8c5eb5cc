"""``paqdb.evaluate``: ``EVALUATE MODEL`` from Python, returning an Arrow table.

A thin call of the statement (it writes the statement's text and runs it through the connection), so
the same binding, errors and conventions apply. Importing this module loads nothing beyond the standard
library: it is part of ``import paqdb``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


def evaluate(
    connection: Any,
    model: str,
    relation: str,
    *,
    report: str = "metrics",
    threshold: float | None = None,
) -> pa.Table:
    """Evaluate a stored model on labeled rows: ``EVALUATE MODEL model ON relation WITH (...)``.

    Args:
        connection: a :class:`paqdb.Connection` (or a cursor of one).
        model: the model's name, as stored (quoted for SQL here).
        relation: a table name as SQL writes it (``test``, ``main.test``, ``"My Table"``) or a query
            (``SELECT * FROM t WHERE ...``, run as a parenthesised subquery).
        report: ``'metrics'`` (default), ``'classes'``, ``'confusion'``, ``'roc'`` or ``'pr'``.
        threshold: binary classification: predict the positive class when its probability is at least
            this (None: the class of highest probability).

    Returns:
        The report as a ``pyarrow.Table`` (the README's "Evaluating a model" lists each one's columns).

    Raises:
        paqdb.Error: as the statement does (an unknown model, table or label column, a report the model's
            task does not have...).
    """
    source = relation.strip()
    if (source.split(None, 1) or [""])[0].upper() in ("SELECT", "WITH", "FROM", "VALUES"):
        source = f"({source})"
    options = [f"report => {_string(report)}"]
    if threshold is not None:
        options.append(f"threshold => {float(threshold)!r}")
    sql = f"EVALUATE MODEL {_identifier(model)} ON {source} WITH ({', '.join(options)})"
    table: pa.Table = connection.execute(sql).fetch_arrow_table()
    return table


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _string(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


__all__ = ["evaluate"]
