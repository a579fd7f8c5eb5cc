"""Proposals: the configurations one family tries next, in the order a search asks for them.

Every stream starts from the family's defaults (:func:`first_configuration`), never repeats a
configuration, and says when a finite space is exhausted. :class:`ConfigurationStream` draws at random or
walks the grid; :class:`TPEStream` asks optuna's TPE sampler, given the scores reported so far
(``strategy => 'tpe'``). :func:`configuration_stream` picks the stream for a search plan; the random search
(:mod:`paqdb.search.random_search`) and TuPAQ's proposer (:mod:`paqdb.search.tupaq_search`) both use it.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from paqdb.ml.families import ModelFamily, SpaceValue, Task
from paqdb.options import Range
from paqdb.search.space import (
    configuration_key,
    first_value,
    grid_configurations,
    sample_configuration,
    space_size,
)
from paqdb.search.spec import SearchPlan, Strategy

_MAX_REDRAWS = 50
"""Draws a random stream makes to find a configuration not tried yet before it calls the space exhausted."""


class ConfigurationStream:
    """The configurations one family tries, in order, without repeats.

    ``random``: first the family defaults (or, for an overridden hyperparameter, its first candidate), then
    draws from the space with a generator seeded by the search seed and the family name (so adding a
    family does not change another family's draws). ``grid``: every combination, in a fixed order.
    :meth:`next` returns None once a finite space is exhausted.
    """

    def __init__(
        self,
        family: ModelFamily,
        space: Mapping[str, SpaceValue],
        strategy: Strategy,
        seed: int,
        overridden: frozenset[str] = frozenset(),
        *,
        task: Task | None = None,
    ) -> None:
        self.family = family
        self.space = space
        self.task = task
        self.strategy = strategy
        self.overridden = overridden
        self._rng = np.random.default_rng([seed, zlib.crc32(family.name.encode())])
        self._grid = grid_configurations(space) if strategy == "grid" else None
        self._size = space_size(space)
        self._seen: set[str] = set()

    def next(self) -> dict[str, Any] | None:
        """The next full configuration (defaults filled in), or None when there is none left."""
        if self._size is not None and len(self._seen) >= self._size:
            return None
        for _ in range(_MAX_REDRAWS):
            partial = self._propose()
            if partial is None:
                return None
            configuration = self.family.configuration(partial, self.task)
            key = configuration_key(configuration)
            if key not in self._seen:
                self._seen.add(key)
                return configuration
        return None

    def _propose(self) -> dict[str, Any] | None:
        if self._grid is not None:
            return next(self._grid, None)
        if not self._seen:
            return first_configuration(self.family, self.space, self.overridden)
        return sample_configuration(self.space, self._rng)

    def report(self, configuration: Mapping[str, Any], score: float | None) -> None:
        """Record the validation score of a configuration :meth:`next` returned (None: the trial failed).
        Random and grid proposals do not depend on scores, so this does nothing here."""


class TPEStream:
    """The configurations one family tries, proposed by optuna's TPE sampler from the scores so far.

    Same interface as :class:`ConfigurationStream`; :meth:`report` tells the sampler each trial's score
    (a failed trial as FAIL). One optuna study per family, its sampler seeded by the search seed and the
    family name. The first configuration is the family defaults, as in a random search. Lists of
    candidates are sampled as categorical indices (values such as None or lists are not what optuna
    stores); ``RANGE`` becomes a float (log or linear) or an int distribution.
    """

    def __init__(
        self,
        family: ModelFamily,
        space: Mapping[str, SpaceValue],
        seed: int,
        overridden: frozenset[str] = frozenset(),
        *,
        maximize: bool = True,
        task: Task | None = None,
    ) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.family = family
        self.space = space
        self.task = task
        self.overridden = overridden
        self._optuna = optuna
        sampler = optuna.samplers.TPESampler(seed=zlib.crc32(f"{seed}:{family.name}".encode()))
        self._study = optuna.create_study(direction="maximize" if maximize else "minimize", sampler=sampler)
        self._distributions = {name: _distribution(optuna, space[name]) for name in sorted(space)}
        self._size = space_size(space)
        self._scores: dict[str, float | None] = {}
        self._pending: dict[str, Any] = {}
        encoded = _encode(space, first_configuration(family, space, overridden))
        if encoded is not None:
            self._study.enqueue_trial(encoded)

    def next(self) -> dict[str, Any] | None:
        """The next full configuration (defaults filled in), or None when there is none left."""
        if self._size is not None and len(self._scores) + len(self._pending) >= self._size:
            return None
        for _ in range(_MAX_REDRAWS):
            trial = self._study.ask(self._distributions)
            configuration = self.family.configuration(_decode(self.space, trial.params), self.task)
            key = configuration_key(configuration)
            if key in self._scores:
                # Already tried: tell the sampler the known result again rather than train it twice.
                self._tell(trial, self._scores[key])
                continue
            if key in self._pending:
                self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
                continue
            self._pending[key] = trial
            return configuration
        return None

    def report(self, configuration: Mapping[str, Any], score: float | None) -> None:
        """Tell the sampler the validation score of ``configuration`` (None: the trial failed)."""
        key = configuration_key(configuration)
        trial = self._pending.pop(key, None)
        if trial is None:
            return
        self._scores[key] = score
        self._tell(trial, score)

    def _tell(self, trial: Any, score: float | None) -> None:
        if score is None:
            self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
        else:
            self._study.tell(trial, score)


def _distribution(optuna: Any, candidates: SpaceValue) -> Any:
    if isinstance(candidates, Range):
        if candidates.scale == "int":
            return optuna.distributions.IntDistribution(int(candidates.low), int(candidates.high))
        return optuna.distributions.FloatDistribution(
            float(candidates.low), float(candidates.high), log=candidates.scale == "log"
        )
    return optuna.distributions.CategoricalDistribution(tuple(range(len(candidates))))


def _decode(space: Mapping[str, SpaceValue], params: Mapping[str, Any]) -> dict[str, Any]:
    configuration: dict[str, Any] = {}
    for name in sorted(space):
        candidates, value = space[name], params[name]
        if isinstance(candidates, Range):
            configuration[name] = int(value) if candidates.scale == "int" else float(value)
        else:
            configuration[name] = candidates[int(value)]
    return configuration


def _encode(space: Mapping[str, SpaceValue], configuration: Mapping[str, Any]) -> dict[str, Any] | None:
    """``configuration`` as optuna parameters (list values as their index). A value outside the space (a
    default of None meaning "scale to the data", where the space is a range) is left out, for optuna to
    sample; None when nothing could be encoded."""
    params: dict[str, Any] = {}
    for name, candidates in space.items():
        value = configuration[name]
        if isinstance(candidates, Range):
            if isinstance(value, int | float) and candidates.low <= value <= candidates.high:
                params[name] = int(value) if candidates.scale == "int" else float(value)
        else:
            index = next((i for i, c in enumerate(candidates) if c == value), None)
            if index is not None:
                params[name] = index
    return params or None


def configuration_stream(
    family: ModelFamily, plan: SearchPlan, strategy: Strategy | None = None
) -> ConfigurationStream | TPEStream:
    """The proposal stream of ``family`` for ``strategy`` (by default ``plan``'s): TPE's, the grid's, or
    random draws for any other strategy."""
    space, overridden = plan.spaces[family.name], plan.overridden[family.name]
    strategy = strategy or plan.strategy
    if strategy == "tpe":
        return TPEStream(
            family, space, plan.seed, overridden, maximize=plan.metric.greater_is_better, task=plan.task
        )
    return ConfigurationStream(
        family, space, "grid" if strategy == "grid" else "random", plan.seed, overridden, task=plan.task
    )


def first_configuration(
    family: ModelFamily, space: Mapping[str, SpaceValue], overridden: frozenset[str]
) -> dict[str, Any]:
    """The configuration every stream tries first: the family's defaults, except that a hyperparameter the
    search overrides (or one without a default) takes its first candidate."""
    return {
        name: first_value(candidates, family.defaults.get(name))
        if name in overridden or name not in family.defaults
        else family.defaults[name]
        for name, candidates in space.items()
    }


__all__ = [
    "ConfigurationStream",
    "TPEStream",
    "configuration_stream",
    "first_configuration",
]
