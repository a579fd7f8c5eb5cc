"""Engines that run statements: embedded DuckDB (the default) behind the :class:`Engine` interface."""

from paqdb.engines.base import Column, Engine, ExecResult
from paqdb.engines.duckdb import DuckDBEngine

__all__ = ["Column", "DuckDBEngine", "Engine", "ExecResult"]
