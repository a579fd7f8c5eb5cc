"""``paqdb.evaluate`` and ``paqdb.feature_importance``: ``EVALUATE MODEL`` and ``DESCRIBE MODEL ...
FEATURES`` from Python, returning Arrow tables.

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


def feature_importance(connection: Any, model: str, *, version: int | None = None) -> pa.Table:
    """A stored model's input columns with their permutation importance: ``DESCRIBE MODEL model [VERSION
    n] FEATURES``.

    Args:
        connection: a :class:`paqdb.Connection` (or a cursor of one).
        model: the model's name, as stored (quoted for SQL here).
        version: a version of the model (None: the current one).

    Returns:
        A ``pyarrow.Table`` of ``feature``, ``type``, ``kind``, ``importance``, ``importance_std`` and
        ``rank``, most important first (importance and rank NULL for a model stored without importance).

    Raises:
        paqdb.Error: as the statement does (an unknown model or version...).
    """
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        from paqdb.errors import InterfaceError

        raise InterfaceError(f"version {version!r} is not an integer", hint="e.g. version=2")
    sql = f"DESCRIBE MODEL {_identifier(model)}" + (f" VERSION {version}" if version is not None else "")
    table: pa.Table = connection.execute(sql + " FEATURES").fetch_arrow_table()
    return table


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _string(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


__all__ = ["evaluate", "feature_importance"]
