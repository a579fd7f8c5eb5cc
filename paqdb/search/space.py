"""Drawing and enumerating configurations from a hyperparameter space.

A space maps each hyperparameter name to its candidates: a list of values or a
:class:`~paqdb.options.Range`. Values come back as plain Python numbers so that trials and artifacts can
record them as JSON.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from paqdb.ml.families import SpaceValue
from paqdb.options import Range

GRID_POINTS_PER_RANGE = 5
"""How many points a grid search takes from each continuous range (log-spaced for a LOG range)."""


def sample_value(candidates: SpaceValue, rng: np.random.Generator) -> Any:
    """One value drawn from a list (uniformly) or a range (by its scale)."""
    if isinstance(candidates, Range):
        if candidates.scale == "int":
            return int(rng.integers(int(candidates.low), int(candidates.high) + 1))
        if candidates.scale == "log":
            return float(math.exp(rng.uniform(math.log(candidates.low), math.log(candidates.high))))
        return float(rng.uniform(candidates.low, candidates.high))
    return candidates[int(rng.integers(len(candidates)))]


def sample_configuration(space: Mapping[str, SpaceValue], rng: np.random.Generator) -> dict[str, Any]:
    """One configuration drawn from ``space`` (names visited in sorted order, so draws are reproducible)."""
    return {name: sample_value(space[name], rng) for name in sorted(space)}


def grid_values(candidates: SpaceValue, points: int = GRID_POINTS_PER_RANGE) -> list[Any]:
    """The values a grid search tries: a list as given, a range as ``points`` evenly spaced values."""
    if not isinstance(candidates, Range):
        return list(candidates)
    if candidates.scale == "int":
        values = np.unique(np.rint(np.linspace(candidates.low, candidates.high, points)).astype(int))
        return [int(v) for v in values]
    if candidates.scale == "log":
        return [float(v) for v in np.geomspace(candidates.low, candidates.high, points)]
    return [float(v) for v in np.linspace(candidates.low, candidates.high, points)]


def grid_configurations(space: Mapping[str, SpaceValue]) -> Iterator[dict[str, Any]]:
    """Every combination of :func:`grid_values`, the last name (in sorted order) varying fastest."""
    names = sorted(space)
    for values in itertools.product(*(grid_values(space[name]) for name in names)):
        yield dict(zip(names, values, strict=True))


def space_size(space: Mapping[str, SpaceValue]) -> int | None:
    """Number of distinct configurations, or None when a continuous range makes it unbounded."""
    size = 1
    for candidates in space.values():
        if isinstance(candidates, Range):
            if candidates.scale != "int":
                return None
            size *= int(candidates.high) - int(candidates.low) + 1
        else:
            size *= len(candidates)
    return size


def first_value(candidates: SpaceValue, default: Any) -> Any:
    """The value a search tries first: the family default when the candidates allow it, else the first
    listed value, or the middle of a range (geometric middle on a log scale)."""
    if isinstance(candidates, Range):
        if isinstance(default, int | float) and candidates.low <= default <= candidates.high:
            return int(default) if candidates.scale == "int" else default
        if candidates.scale == "log":
            return float(math.sqrt(candidates.low * candidates.high))
        middle = (candidates.low + candidates.high) / 2
        return round(middle) if candidates.scale == "int" else float(middle)
    # The listed candidate itself, not the default: a default of 1.0 among [0.1, 1, 10] is tried as 1, the
    # value a later draw of that candidate gives, so the two are recognised as one configuration.
    return next((candidate for candidate in candidates if _same_value(candidate, default)), candidates[0])


def _same_value(a: Any, b: Any) -> bool:
    """Equal values of the same kind (True is not 1, 1.0 is 1)."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _canonical(value: Any) -> Any:
    """``value`` with whole floats as ints (1.0 and 1 are one candidate), inside lists too."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def configuration_key(configuration: Mapping[str, Any]) -> str:
    """A canonical text form of a configuration, to recognise one already tried (``C=1.0`` and ``C=1`` are
    the same configuration)."""
    canonical = {name: _canonical(value) for name, value in configuration.items()}
    return json.dumps(canonical, sort_keys=True, default=str)


__all__ = [
    "GRID_POINTS_PER_RANGE",
    "configuration_key",
    "first_value",
    "grid_configurations",
    "grid_values",
    "sample_configuration",
    "sample_value",
    "space_size",
]
