"""The contract between the planner and a capability package (``paqdb/clean``, ``crowd``, ``causal``).

A capability statement (``CLEAN``, ``CROWD LABEL``, ``CAUSAL FREQ``, declared in :mod:`paqdb.statements`)
is bound and checked before anything runs: every name it holds resolved against the engine and the
catalog (a positioned error otherwise) and its options validated against the statement's
:class:`OptionSpec` s. Its implementation then receives that :class:`CapabilityRequest` and a
:class:`CapabilityContext`: the engine, the model store, the model search, progress and cancellation,
and a way to add lines to EXPLAIN.

This module imports nothing heavy and nothing above it, so capability packages can import it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from paqdb.errors import InvalidParameterError, SearchInterrupted

if TYPE_CHECKING:
    import pyarrow as pa

    from paqdb.engines.base import Column, Engine
    from paqdb.models import ModelStore

_TYPE_NAMES = {bool: "TRUE or FALSE", int: "an integer", float: "a number", str: "a 'string'", list: "a list"}


@dataclass(frozen=True)
class OptionSpec:
    """One option of a capability statement's ``WITH (...)``: its name, type, range and default.

    Args:
        name: the option name (lower-case).
        kind: the Python type of its value (``int``, ``float``, ``str``, ``bool`` or ``list``); an
            ``int`` is accepted where a ``float`` is asked.
        default: the value when the option is left out (``None``: no value).
        minimum, maximum: the bounds of a number, inclusive.
        choices: the allowed values, for a string option.
        required: the statement cannot run without it.
        description: what it means, for errors and documentation.
    """

    name: str
    kind: type
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    required: bool = False
    description: str = ""

    def check(self, value: Any) -> Any:
        """``value`` if it fits this option (an int widened to float where a float is asked).

        Raises:
            InvalidParameterError: it does not, with what would.
        """
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.kind) or (self.kind is not bool and isinstance(value, bool)):
            raise InvalidParameterError(
                f"option '{self.name}' takes {_TYPE_NAMES.get(self.kind, self.kind.__name__)}, not {value!r}",
                hint=self.description or None,
            )
        if self.minimum is not None and value < self.minimum:  # type: ignore[operator]
            raise InvalidParameterError(
                f"option '{self.name}' must be at least {self.minimum:g}, not {value!r}",
                hint=self.description or None,
            )
        if self.maximum is not None and value > self.maximum:  # type: ignore[operator]
            raise InvalidParameterError(
                f"option '{self.name}' must be at most {self.maximum:g}, not {value!r}",
                hint=self.description or None,
            )
        if self.choices is not None and value not in self.choices:
            raise InvalidParameterError(
                f"option '{self.name}' must be one of {', '.join(map(repr, self.choices))}, not {value!r}",
                hint=self.description or None,
            )
        return value


def check_options(specs: Sequence[OptionSpec], given: Mapping[str, Any], statement: str) -> dict[str, Any]:
    """The options of a statement, checked against ``specs``, with every default filled in.

    Raises:
        InvalidParameterError: an unknown option (the message lists the known ones), a bad value, or a
            required option left out. The message names the option, so the caller can position it.
    """
    known = {spec.name: spec for spec in specs}
    for name in given:
        if name not in known:
            raise InvalidParameterError(
                f"unknown option '{name}' for {statement}",
                hint=f"{statement} takes: {', '.join(sorted(known)) or 'no options'}",
            )
    options: dict[str, Any] = {}
    for spec in specs:
        if spec.name in given:
            options[spec.name] = spec.check(given[spec.name])
        elif spec.required:
            raise InvalidParameterError(
                f"{statement} needs the option '{spec.name}'",
                hint=spec.description or f"add {spec.name} => ... to WITH (...)",
            )
        else:
            options[spec.name] = spec.default
    return options


@dataclass(frozen=True)
class CapabilityRequest:
    """A capability statement, bound and checked: what its implementation works on.

    Attributes:
        statement: the statement's name (``CLEAN``).
        source_sql: the relation it reads, as engine SQL (a table name or a parenthesised query).
        source_columns: that relation's columns.
        label: the label column (CLEAN's ``PREDICT label``, CROWD LABEL's column), or None.
        columns: the value columns it names (CAUSAL FREQ's ``x, y``), in order.
        model: the model it names (``USING MODEL m``), known to exist, or None.
        given_sql: the labeled relation (``GIVEN``), or None.
        time: the time column (``TIME t``), or None.
        by: the series column (``BY s``), or None.
        options: every option of the statement, checked, defaults filled in.
    """

    statement: str
    source_sql: str
    source_columns: tuple[Column, ...]
    label: str | None = None
    columns: tuple[str, ...] = ()
    model: str | None = None
    given_sql: str | None = None
    time: str | None = None
    by: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class CapabilityContext:
    """What an implementation can reach while it runs.

    Attributes:
        engine: where the data lives and SQL runs.
        models: the model store (load by name and version, save a new version, list, describe).
        progress: called with progress objects, or None.
        explain: lines the implementation adds to EXPLAIN (see :meth:`explain_line`).
        cleaners: the Python functions registered with the connection by name
            (``Connection.register_cleaner``), lower-case names; CLEAN's ``repair => 'name'`` calls one.
        messages: what the statement says to people besides its table (see :meth:`say`).
    """

    engine: Engine
    models: ModelStore
    progress: Callable[[Any], None] | None = None
    explain: list[str] = field(default_factory=list)
    cleaners: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    def search(self, data: pa.Table, label: str, options: Mapping[str, Any] | None = None) -> Any:
        """Search and train a model for ``label`` on ``data`` (an Arrow table) as CREATE MODEL does, with
        ``USING SEARCH`` options; returns :class:`paqdb.search.SearchResult` (``.model`` is the model)."""
        from paqdb.search import SearchSpec, search_for

        spec = SearchSpec.from_options(dict(options or {}))
        return search_for(spec).run(data, label, spec, progress=self.progress)

    def report(self, progress: Any) -> None:
        """Report progress (to the shell's progress line, a server's stream ...), if anyone listens."""
        if self.progress is not None:
            self.progress(progress)

    def say(self, text: str) -> None:
        """Add a sentence to the statement's message (the shell prints it, ``Cursor.message`` holds it)."""
        self.messages.append(text)

    def explain_line(self, text: str) -> None:
        """Add a line under the statement's step in EXPLAIN (call it from :meth:`Capability.explain`)."""
        self.explain.append(text)

    def cancel(self) -> None:
        """Ask the running implementation to stop at its next :meth:`check_cancelled`."""
        self._cancel.set()

    def check_cancelled(self) -> None:
        """Raise :class:`~paqdb.errors.SearchInterrupted` if :meth:`cancel` was called (call it between
        units of work; Ctrl-C interrupts as well)."""
        if self._cancel.is_set():
            raise SearchInterrupted("the statement was cancelled", hint="run it again")


class Capability(Protocol):
    """What a capability package implements for its statement."""

    def run(self, request: CapabilityRequest, context: CapabilityContext) -> pa.Table:
        """Do the work and return the statement's result table."""
        ...

    def explain(self, request: CapabilityRequest, context: CapabilityContext) -> None:
        """Add lines to EXPLAIN with ``context.explain_line`` (what would run, estimated cost)."""
        ...
