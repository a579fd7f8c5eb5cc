"""Engines that run statements: embedded DuckDB (the default) behind the :class:`Engine` interface.

:class:`DuckDBEngine` loads its module (and DuckDB) when first used (PEP 562), so code that needs only the
interface (``paqdb.engines.base``, imported by every layer) does not load DuckDB (issue 9, fast start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paqdb.engines.base import Column, Engine, ExecResult

if TYPE_CHECKING:
    from paqdb.engines.duckdb import DuckDBEngine


def __getattr__(name: str) -> Any:
    if name == "DuckDBEngine":
        from paqdb.engines.duckdb import DuckDBEngine

        return DuckDBEngine
    raise AttributeError(f"module 'paqdb.engines' has no attribute {name!r}")


__all__ = ["Column", "DuckDBEngine", "Engine", "ExecResult"]
