"""Option values shared by the SQL layer and the model search.

A statement such as ``PREDICT income FROM t GIVEN train USING SEARCH (families = ['logistic'],
learning_rate = RANGE(1e-4, 1e-1, LOG))`` parses each option into an :data:`OptionValue`; the search reads
them through :meth:`paqdb.search.spec.SearchSpec.from_options`. This module sits below both so that neither
imports the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeAlias

from paqdb.errors import InvalidParameterError

Scale: TypeAlias = Literal["linear", "log", "int"]
SCALES: tuple[Scale, ...] = ("linear", "log", "int")


@dataclass(frozen=True)
class Range:
    """A continuous (or integer) interval of hyperparameter values: SQL ``RANGE(low, high[, scale])``.

    Parameters
    ----------
    low, high : float
        The bounds, both included; ``low`` must be below ``high``.
    scale : {"linear", "log", "int"}
        How values are drawn: uniformly, log-uniformly (``low`` must be positive) or as uniform integers
        (the bounds must then be whole numbers).

    Examples
    --------
    >>> Range(1e-4, 1e-1, "log")
    Range(low=0.0001, high=0.1, scale='log')
    """

    low: float
    high: float
    scale: Scale = "linear"

    def __post_init__(self) -> None:
        for bound_name in ("low", "high"):
            bound = getattr(self, bound_name)
            # bool is an int subclass, but RANGE(TRUE, ...) is a mistake, not a number.
            if isinstance(bound, bool) or not isinstance(bound, int | float) or not math.isfinite(bound):
                raise InvalidParameterError(
                    f"RANGE {bound_name} bound {bound!r} is not a finite number",
                    hint="write RANGE(low, high[, LINEAR | LOG | INT]), e.g. RANGE(1e-4, 1e-1, LOG)",
                )
        scale = self.scale.lower() if isinstance(self.scale, str) else self.scale
        if scale not in SCALES:
            raise InvalidParameterError(
                f"RANGE scale {self.scale!r} is not one of LINEAR, LOG, INT",
                hint="e.g. RANGE(1e-4, 1e-1, LOG) or RANGE(2, 64, INT)",
            )
        object.__setattr__(self, "scale", scale)
        if not self.low < self.high:
            raise InvalidParameterError(
                f"RANGE({self.low}, {self.high}) is empty: low must be below high",
                hint=(
                    f"swap the bounds: RANGE({self.high}, {self.low})"
                    if self.low > self.high
                    else f"for the single value {self.low}, write a list: [{self.low}]"
                ),
            )
        if scale == "log" and self.low <= 0:
            raise InvalidParameterError(
                f"RANGE({self.low}, {self.high}, LOG) needs a positive low bound",
                hint="a log scale spans positive numbers only, e.g. RANGE(1e-4, 1e-1, LOG)",
            )
        if scale == "int" and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise InvalidParameterError(
                f"RANGE({self.low}, {self.high}, INT) needs whole-number bounds",
                hint="e.g. RANGE(2, 64, INT)",
            )


OptionValue: TypeAlias = "str | int | float | bool | list[OptionValue] | Range | None"
"""A value of one ``name = value`` option as the SQL layer hands it over."""

__all__ = ["SCALES", "OptionValue", "Range", "Scale"]
