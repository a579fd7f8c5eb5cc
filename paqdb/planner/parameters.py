"""Statement parameters (``?``, ``$1``, ``$name``) in paqdb statements.

Plain SQL and queries that call ``PREDICT(...)`` hand their parameters to the engine, which binds them
as it always does. A paqdb statement's relations (``PREDICT y FROM (SELECT * FROM t WHERE day = ?)
USING MODEL m``) are read several times while it is planned and run (their columns, the training scan,
the scoring query), so their parameters are bound once, up front: the engine itself converts each value
(exactly as it would bind it) and renders it as text, and the marker becomes ``CAST('<text>' AS <type>)``.
The statement then means what it would mean with the value bound, in any engine's dialect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from paqdb.engines.base import Engine, render
from paqdb.errors import Error, ProgrammingError

Parameters = Sequence[Any] | Mapping[str, Any]


def markers(node: exp.Expr) -> list[exp.Placeholder]:
    """The parameter markers of ``node`` in the order they appear in the text."""
    found = [n for n in node.walk(bfs=False) if isinstance(n, exp.Placeholder)]
    # Tokens carry their offsets where the parser recorded them; walk order is the fallback.
    if all("start" in n.meta for n in found):
        found.sort(key=lambda n: int(n.meta["start"]))
    return found


def bind(node: exp.Expr, parameters: Parameters, engine: Engine) -> exp.Expr:
    """``node`` with every parameter marker replaced by its value as a typed SQL literal.

    Raises:
        ProgrammingError: the markers and the values do not match (count, names, or styles).
    """
    found = markers(node)
    if not found:
        if len(parameters):
            raise ProgrammingError(
                f"{len(parameters)} parameter value(s) given, but the statement has no parameter markers",
                hint="remove the parameters, or mark where each value goes with ?, $1 or $name",
            )
        return node
    keys = [_key(marker, position) for position, marker in enumerate(found)]
    literals = _literals(sorted(set(keys), key=str), parameters, engine)
    for marker, key in zip(found, keys, strict=True):
        marker.replace(literals[key].copy())
    return node


def _key(marker: exp.Placeholder, position: int) -> int | str:
    """0-based index for ``?`` and ``$n``; the name for ``$name``."""
    name = marker.name
    if name in ("", "?"):
        return position
    return int(name) - 1 if name.isdigit() else name


def _literals(
    keys: list[int | str], parameters: Parameters, engine: Engine
) -> dict[int | str, exp.Expression]:
    if isinstance(parameters, Mapping):
        missing = [k for k in keys if not isinstance(k, str) or k not in parameters]
        if missing:
            raise ProgrammingError(
                f"no value given for parameter(s) {', '.join(_show(k) for k in missing)}",
                hint=f"values were given for: {', '.join(map(str, parameters)) or 'none'}",
            )
        values = [parameters[k] for k in keys]  # type: ignore[index]
    else:
        named = [f"${k}" for k in keys if isinstance(k, str)]
        if named:
            raise ProgrammingError(
                f"the statement uses named parameter(s) {', '.join(named)} but the values are a sequence",
                hint="pass a dict of values, e.g. {'day': ...}",
            )
        expected = max(int(k) for k in keys) + 1
        if expected != len(parameters):
            raise ProgrammingError(
                f"the statement has {expected} parameter marker(s) but {len(parameters)} value(s) were given",
                hint="give one value per ? (or per $n)",
            )
        values = [parameters[int(k)] for k in keys]
    if not values:
        return {}
    # The engine converts the values as it binds them, and spells each as text in its own type.
    selects = ", ".join(f"CAST(${i} AS VARCHAR), typeof(${i})" for i in range(1, len(values) + 1))
    try:
        table = engine.execute(render(f"SELECT {selects}", engine.dialect), values).table
    except Error as error:
        raise ProgrammingError(f"a parameter value cannot be bound: {error.message}") from None
    assert table is not None
    row = [column[0].as_py() for column in table.columns]
    literals: dict[int | str, exp.Expression] = {}
    for i, key in enumerate(keys):
        text, sql_type = row[2 * i], row[2 * i + 1]
        literals[key] = _typed_literal(text, sql_type)
    return literals


def _typed_literal(text: str | None, sql_type: str) -> exp.Expression:
    if text is None or sql_type == '"NULL"' or sql_type == "NULL":
        return exp.Null()
    literal = exp.Literal.string(text)
    try:
        data_type = exp.DataType.build(sql_type, dialect="duckdb")
    except Exception:  # a type sqlglot does not model: keep the engine's own spelling
        data_type = exp.DataType.build(sql_type, dialect="duckdb", udt=True)
    return exp.Cast(this=literal, to=data_type)


def _show(key: int | str) -> str:
    return f"${key}" if isinstance(key, str) else f"#{int(key) + 1}"
