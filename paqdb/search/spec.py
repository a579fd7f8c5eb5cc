"""What a model search is asked to do: families, budget, metric, strategy, seed and hyperparameter overrides.

:meth:`SearchSpec.from_options` reads the options of ``USING SEARCH (...)`` as the SQL layer hands them
over; everything that can be checked before the data is seen is checked there, so a typo fails at once.
:meth:`SearchSpec.resolve` finishes the job once the task is known.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from paqdb.errors import InvalidParameterError
from paqdb.ml.families import FAMILIES, TASKS, ModelFamily, SpaceValue, Task, families_for, get_family
from paqdb.ml.metrics import METRICS, Metric, get_metric
from paqdb.options import Range

Strategy: TypeAlias = Literal["random", "grid", "tupaq", "tpe", "successive_halving", "hyperband"]
STRATEGIES: tuple[Strategy, ...] = ("random", "grid", "tupaq", "tpe", "successive_halving", "hyperband")
BANDIT_STRATEGIES: tuple[Strategy, ...] = ("tupaq", "successive_halving", "hyperband")
"""Strategies that train configurations in rounds and stop the unpromising ones early (bandit allocation);
they also batch linear configurations (``batching``)."""

DEFAULT_BUDGET_SECONDS = 60.0
DEFAULT_BUDGET_TRIALS = 50
"""The default budget also stops after this many trials (ten per family), so small data finishes in seconds
rather than spending the whole minute on configurations that train in milliseconds."""

DEFAULT_TIME_CAP_SECONDS = 600.0
"""A budget of trials alone (``'1e9 trials'``) still ends after this many seconds (ten minutes): every
search has a time limit, which EXPLAIN shows. Give a duration too (``'2 hours or 1000 trials'``) for more."""

BUDGET_EXAMPLES = "'2 minutes', '90 s', '1.5h', '30 seconds', '20 trials', '5 minutes or 50 trials', or 90"

_SECONDS_PER_UNIT = {
    **dict.fromkeys(("", "s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
}
_TRIAL_UNITS = ("trial", "trials")
_BUDGET_PART = re.compile(r"^(?P<number>(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(?P<unit>[a-z]*)$")
_BUDGET_SEPARATOR = re.compile(r"\s*(?:,|\bor\b)\s*")

SEARCH_OPTIONS: tuple[str, ...] = (
    "families",
    "budget",
    "metric",
    "strategy",
    "seed",
    "validation",
    "task",
    "batching",
    "epsilon",
    "round_resource",
    "eta",
    "pca",
    "text",
    "exclude",
    "drop_identifiers",
    "class_weight",
)
"""Option names of ``USING SEARCH (...)`` besides hyperparameter names."""


@dataclass(frozen=True)
class Budget:
    """When a search stops: after ``seconds`` of wall time or ``trials`` trials, whichever comes first."""

    seconds: float | None = None
    trials: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is None and self.trials is None:
            raise InvalidParameterError("a budget needs seconds or trials", hint=f"e.g. {BUDGET_EXAMPLES}")
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise InvalidParameterError(
                f"budget of {self.seconds} seconds is not a positive duration", hint=f"e.g. {BUDGET_EXAMPLES}"
            )
        if self.trials is not None and self.trials < 1:
            raise InvalidParameterError(
                f"budget of {self.trials} trials is not a positive count", hint=f"e.g. {BUDGET_EXAMPLES}"
            )

    @property
    def time_limit(self) -> float:
        """The seconds the search may run: ``seconds``, or :data:`DEFAULT_TIME_CAP_SECONDS` for a budget of
        trials alone."""
        return self.seconds if self.seconds is not None else DEFAULT_TIME_CAP_SECONDS

    @property
    def capped(self) -> bool:
        """Whether the time limit is the default cap rather than a duration the budget gave."""
        return self.seconds is None

    def describe(self) -> str:
        """The budget as EXPLAIN shows it, with the default time cap: ``'20 trials (capped at 600 s)'``."""
        parts = []
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} s")
        if self.trials is not None:
            parts.append(f"{self.trials} trials")
        text = " or ".join(parts)
        if self.capped:
            text += f" (capped at {self.time_limit:g} s)"
        return text

    def __str__(self) -> str:
        parts = []
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} seconds")
        if self.trials is not None:
            parts.append(f"{self.trials} trials")
        return " or ".join(parts)


DEFAULT_BUDGET = Budget(seconds=DEFAULT_BUDGET_SECONDS, trials=DEFAULT_BUDGET_TRIALS)


def parse_budget(value: object) -> Budget:
    """Read a search budget.

    Accepts a duration (``'2 minutes'``, ``'90 s'``, ``'1.5h'``, ``'30 seconds'``), a trial count
    (``'20 trials'``), both (``'5 minutes or 50 trials'``), a number of seconds (``90``) or a list of those.
    Raises :class:`~paqdb.errors.InvalidParameterError` quoting ``value`` for anything else, zero or negative.

    Examples
    --------
    >>> parse_budget("2 minutes")
    Budget(seconds=120.0, trials=None)
    >>> parse_budget("20 trials")
    Budget(seconds=None, trials=20)
    """
    if isinstance(value, Budget):
        return value
    if isinstance(value, bool):
        raise _bad_budget(value)
    if isinstance(value, int | float):
        if not (math.isfinite(value) and value > 0):
            raise _bad_budget(value, "must be positive")
        return Budget(seconds=float(value))
    if isinstance(value, str):
        parts: list[object] = [p for p in _BUDGET_SEPARATOR.split(value.strip().lower()) if p]
    elif isinstance(value, list | tuple) and value:
        parts = list(value)
    else:
        raise _bad_budget(value)
    if not parts:
        raise _bad_budget(value)
    seconds: float | None = None
    trials: int | None = None
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, str | int | float):
            raise _bad_budget(value)
        part_seconds: float | None
        part_trials: int | None
        if isinstance(part, int | float):
            part_seconds, part_trials = float(part), None
        else:
            part_seconds, part_trials = _parse_budget_part(part, value)
        if part_seconds is not None:
            if seconds is not None:
                raise _bad_budget(value, "gives a duration twice")
            if not (math.isfinite(part_seconds) and part_seconds > 0):
                raise _bad_budget(value, "must be positive")
            seconds = part_seconds
        if part_trials is not None:
            if trials is not None:
                raise _bad_budget(value, "gives a trial count twice")
            trials = part_trials
    return Budget(seconds=seconds, trials=trials)


def _parse_budget_part(part: str, value: object) -> tuple[float | None, int | None]:
    match = _BUDGET_PART.match(part.strip().lower())
    if match is None:
        raise _bad_budget(value)
    number, unit = float(match["number"]), match["unit"]
    if unit in _TRIAL_UNITS:
        if not number.is_integer():
            raise _bad_budget(value, "needs a whole number of trials")
        if number < 1:
            raise _bad_budget(value, "must be positive")
        return None, int(number)
    if unit not in _SECONDS_PER_UNIT:
        raise _bad_budget(value)
    return number * _SECONDS_PER_UNIT[unit], None


def _bad_budget(value: object, why: str = "is not a duration or a trial count") -> InvalidParameterError:
    return InvalidParameterError(f"budget {value!r} {why}", hint=f"write a budget such as {BUDGET_EXAMPLES}")


@dataclass(frozen=True)
class SearchPlan:
    """A :class:`SearchSpec` resolved for a task: the families and their spaces, the metric, the budget."""

    task: Task
    families: tuple[ModelFamily, ...]
    spaces: Mapping[str, Mapping[str, SpaceValue]]
    overridden: Mapping[str, frozenset[str]]
    metric: Metric
    budget: Budget
    strategy: Strategy
    seed: int
    pca: int | None = None
    text: tuple[str, ...] = ()
    class_weight: str | None = None


CLASS_WEIGHTS: tuple[str, ...] = ("balanced",)
"""Values of the ``class_weight`` option (scikit-learn's: each class weighted by ``rows / (classes x
rows of the class)``, so every class counts as much in the loss)."""


@dataclass(frozen=True)
class SearchSpec:
    """What to search.

    Parameters
    ----------
    families : tuple of str, optional
        Family names (aliases allowed); None means every family that supports the task.
    budget : Budget, optional
        By default :data:`DEFAULT_BUDGET_SECONDS` seconds or :data:`DEFAULT_BUDGET_TRIALS` trials, whichever
        comes first.
    metric : str, optional
        Validation metric; None means accuracy (classification) or rmse (regression).
    strategy : {"random", "grid", "tupaq", "tpe", "successive_halving", "hyperband"}, default="tupaq"
        How configurations are proposed and trained: random draws, the grid, or optuna's TPE sampler (each
        family's next configuration modelled on the scores seen so far), each trained to completion; or
        random draws trained in rounds under a bandit rule that stops the unpromising ones early: TuPAQ's,
        successive halving or Hyperband (:mod:`paqdb.search.bandit`).
    seed : int, default=0
        Seeds the split, the configuration draws and the estimators.
    validation_fraction : float, default=0.2
        Share of rows held out to score trials.
    task : {"classification", "regression"}, optional
        Overrides the task inferred from the label type.
    hyperparameters : mapping of str to list or Range
        Candidates replacing a family's default space for every chosen family that has the hyperparameter.
    batching : bool, default=True
        Bandit strategies only: train the configurations of a linear family together, one pass over the data
        per epoch for all of them (physical batching). False trains each alone with the same code, which
        gives the same models, more slowly.
    epsilon : float, optional
        ``tupaq`` only: stop a configuration whose validation error exceeds ``(1 + epsilon)`` times the best
        error seen (default :data:`~paqdb.search.bandit.DEFAULT_EPSILON`).
    round_resource : int, optional
        ``tupaq`` only: units (epochs, iterations, trees) each live configuration trains per round
        (default :data:`~paqdb.search.bandit.DEFAULT_ROUND_RESOURCE`).
    eta : int, optional
        ``successive_halving`` and ``hyperband``: the reduction factor between rungs (default 3).
    pca : int, optional
        A fixed pipeline step: project the one-hot matrix (what linear models, kernel approximation and
        networks read) onto its first ``pca`` principal components, computed once per search and shared by
        every configuration; the stored model applies the same projection when it scores.
    text : tuple of str
        String feature columns holding free text, encoded as hashed word counts instead of categories
        (:class:`~paqdb.ml.features.Featurizer`'s ``text_columns``).
    exclude : tuple of str
        Columns of the training relation left out of the features (an id, a leak of the label); the
        planner checks each names a column.
    drop_identifiers : bool, default=True
        Leave out identifier-like feature columns (integer or string, a distinct value in every row); the
        planner finds them with the training-shape query and says which it left out.
    class_weight : {"balanced"}, optional
        Classification only: weight each class inversely to its frequency in every family that takes
        class weights (all classification families but ``mlp``, which a search with class weights then
        leaves out unless ``families`` names it, which is an error).

    Examples
    --------
    >>> SearchSpec.from_options({"families": ["gradient_boosting"], "budget": "20 trials",
    ...                          "max_depth": [4, 8, 16]}).budget
    Budget(seconds=None, trials=20)
    """

    families: tuple[str, ...] | None = None
    budget: Budget = field(default_factory=lambda: DEFAULT_BUDGET)
    metric: str | None = None
    strategy: Strategy = "tupaq"
    seed: int = 0
    validation_fraction: float = 0.2
    task: Task | None = None
    hyperparameters: Mapping[str, SpaceValue] = field(default_factory=dict)
    batching: bool = True
    epsilon: float | None = None
    round_resource: int | None = None
    eta: int | None = None
    pca: int | None = None
    text: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    drop_identifiers: bool = True
    class_weight: str | None = None

    def __post_init__(self) -> None:
        for name in ("metric", "strategy", "task"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, value.strip().lower())
        if self.families is not None:
            if not self.families:
                raise InvalidParameterError(
                    "families is an empty list", hint=f"name at least one of: {', '.join(FAMILIES)}"
                )
            names = tuple(dict.fromkeys(get_family(name).name for name in self.families))
            object.__setattr__(self, "families", names)
        if not isinstance(self.budget, Budget):
            object.__setattr__(self, "budget", parse_budget(self.budget))
        if self.strategy not in STRATEGIES:
            raise InvalidParameterError(
                f"unknown search strategy {self.strategy!r}",
                hint=f"strategy is one of: {', '.join(STRATEGIES)}",
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise InvalidParameterError(f"seed {self.seed!r} is not an integer", hint="e.g. seed = 42")
        if (
            isinstance(self.validation_fraction, bool)
            or not isinstance(self.validation_fraction, int | float)
            or not 0 < self.validation_fraction < 1
        ):
            raise InvalidParameterError(
                f"validation {self.validation_fraction!r} is not a fraction between 0 and 1",
                hint="e.g. validation = 0.2 holds out 20% of the rows to compare models",
            )
        self._check_bandit_options()
        if self.pca is not None:
            if isinstance(self.pca, bool) or not isinstance(self.pca, int | float) or self.pca < 1:
                raise InvalidParameterError(
                    f"pca {self.pca!r} is not a number of components of at least 1",
                    hint="e.g. pca = 50 keeps the first 50 principal components of the one-hot features",
                )
            if not float(self.pca).is_integer():
                raise InvalidParameterError(f"pca {self.pca!r} is not a whole number of components")
            object.__setattr__(self, "pca", int(self.pca))
        if self.task is not None and self.task not in TASKS:
            raise InvalidParameterError(
                f"unknown task {self.task!r}", hint="task is 'classification' or 'regression'"
            )
        self._check_class_weight()
        if not isinstance(self.drop_identifiers, bool):
            raise InvalidParameterError(
                f"drop_identifiers {self.drop_identifiers!r} is not true or false",
                hint="e.g. drop_identifiers => false keeps columns with a distinct value in every row",
            )
        if self.metric is not None and self.metric not in METRICS:
            raise InvalidParameterError(
                f"unknown metric {self.metric!r}", hint=f"metrics: {', '.join(METRICS)}"
            )
        if self.metric is not None and self.task is not None:
            get_metric(self.metric, self.task)
        for name, candidates in self.hyperparameters.items():
            _check_candidates(name, candidates)
        chosen = [get_family(n) for n in self.families] if self.families else list(FAMILIES.values())
        for name in self.hyperparameters:
            if not any(name in family.hyperparameter_names for family in chosen):
                raise _unknown_hyperparameter(name, chosen)

    def _check_class_weight(self) -> None:
        if self.class_weight is None:
            return
        if not isinstance(self.class_weight, str) or self.class_weight.strip().lower() not in CLASS_WEIGHTS:
            raise InvalidParameterError(
                f"class_weight {self.class_weight!r} is not one of: {', '.join(CLASS_WEIGHTS)}",
                hint="write class_weight => 'balanced' to weight classes inversely to their frequency, "
                "or leave it out",
            )
        object.__setattr__(self, "class_weight", self.class_weight.strip().lower())
        if self.task == "regression":
            raise InvalidParameterError(
                "class_weight applies to classification, not regression",
                hint="leave class_weight out, or use task => 'classification'",
            )
        unweighted = [n for n in self.families or () if not get_family(n).class_weighted]
        if unweighted:
            raise InvalidParameterError(
                f"class_weight does not apply to family {', '.join(repr(n) for n in unweighted)}",
                hint="families that take class weights: "
                + ", ".join(f.name for f in FAMILIES.values() if f.class_weighted),
            )

    def _check_bandit_options(self) -> None:
        if not isinstance(self.batching, bool):
            raise InvalidParameterError(
                f"batching {self.batching!r} is not true or false", hint="e.g. batching = false"
            )
        owners = {
            "epsilon": ("tupaq",),
            "round_resource": ("tupaq",),
            "eta": ("successive_halving", "hyperband"),
        }
        for name, strategies in owners.items():
            value = getattr(self, name)
            if value is None:
                continue
            if self.strategy not in strategies:
                raise InvalidParameterError(
                    f"{name} applies to strategy {' or '.join(repr(s) for s in strategies)}, "
                    f"not {self.strategy!r}",
                    hint=f"add strategy = {strategies[0]!r}, or leave {name} out",
                )
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidParameterError(f"{name} {value!r} is not a number", hint=_BANDIT_HINTS[name])
        if self.epsilon is not None and not (math.isfinite(self.epsilon) and self.epsilon >= 0):
            raise InvalidParameterError(
                f"epsilon {self.epsilon!r} is not a non-negative number", hint=_BANDIT_HINTS["epsilon"]
            )
        if self.round_resource is not None and (
            not float(self.round_resource).is_integer() or self.round_resource < 1
        ):
            raise InvalidParameterError(
                f"round_resource {self.round_resource!r} is not a whole number of units of at least 1",
                hint=_BANDIT_HINTS["round_resource"],
            )
        if self.eta is not None and (not float(self.eta).is_integer() or self.eta < 2):
            raise InvalidParameterError(
                f"eta {self.eta!r} is not a whole number of at least 2", hint=_BANDIT_HINTS["eta"]
            )
        for name in ("round_resource", "eta"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, int(getattr(self, name)))
        if self.epsilon is not None:
            object.__setattr__(self, "epsilon", float(self.epsilon))

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> SearchSpec:
        """Build a spec from ``USING SEARCH (...)`` option values.

        ``families`` takes a name, a list of names or a comma-separated string; ``budget`` anything
        :func:`parse_budget` reads; ``validation`` the held-out fraction; any other name must be a
        hyperparameter of a family, its value a list of candidates, a ``RANGE`` or a single value.
        Raises :class:`~paqdb.errors.InvalidParameterError` for an unknown option or a bad value.
        """
        known_hyperparameters = set().union(*(f.hyperparameter_names for f in FAMILIES.values()))
        # The SQL layer lower-cases option names; LogisticRegression's C arrives as c.
        by_lower_name = {n.lower(): n for n in known_hyperparameters}
        arguments: dict[str, Any] = {}
        hyperparameters: dict[str, SpaceValue] = {}
        for raw_name, value in options.items():
            name = raw_name.lower()
            if name == "families":
                arguments["families"] = _family_names(value)
            elif name == "budget":
                arguments["budget"] = parse_budget(value)
            elif name in ("metric", "strategy", "task"):
                if not isinstance(value, str):
                    choices = {"metric": tuple(METRICS), "strategy": STRATEGIES, "task": TASKS}[name]
                    raise InvalidParameterError(
                        f"{name} {value!r} is not a name", hint=f"{name} is one of: {', '.join(choices)}"
                    )
                arguments[name] = value
            elif name == "seed":
                arguments["seed"] = _whole_number(name, value)
            elif name == "validation":
                arguments["validation_fraction"] = value
            elif name in ("text", "exclude"):
                arguments[name] = _column_names(value, name)
            elif name == "class_weight":
                arguments["class_weight"] = value
            elif name in ("batching", "epsilon", "round_resource", "eta", "pca", "drop_identifiers"):
                arguments[name] = value
            elif raw_name in known_hyperparameters or name in by_lower_name:
                hyperparameters[raw_name if raw_name in known_hyperparameters else by_lower_name[name]] = (
                    _candidates(value)
                )
            else:
                raise InvalidParameterError(
                    f"unknown search option '{raw_name}'",
                    hint=f"options: {', '.join(SEARCH_OPTIONS)}, or a hyperparameter: "
                    f"{', '.join(sorted(known_hyperparameters))}",
                )
        return cls(hyperparameters=hyperparameters, **arguments)

    def resolve(self, task: Task) -> SearchPlan:
        """The plan for ``task``: the families that apply, each family's space with the overrides, the
        metric and the budget. Raises :class:`~paqdb.errors.InvalidParameterError` when a named family
        or the metric does not fit the task, or an override names no chosen family's hyperparameter."""
        if self.families is not None:
            families = [get_family(name) for name in self.families]
            for family in families:
                family.require(task)
        else:
            families = families_for(task)
            if self.class_weight is not None:
                # A search with class weights compares weighted models only: a family that cannot weigh
                # classes (mlp) would compete on other terms.
                families = [f for f in families if f.class_weighted]
        if self.class_weight is not None and task != "classification":
            raise InvalidParameterError(
                f"class_weight applies to classification, but the label makes this {task}",
                hint="leave class_weight out, or use task => 'classification'",
            )
        metric = get_metric(self.metric, task)
        for name in self.hyperparameters:
            if not any(name in family.hyperparameter_names_for(task) for family in families):
                raise _unknown_hyperparameter(name, families)
        spaces: dict[str, dict[str, SpaceValue]] = {}
        overridden: dict[str, frozenset[str]] = {}
        for family in families:
            names = family.hyperparameter_names_for(task)
            mine = {n: v for n, v in self.hyperparameters.items() if n in names}
            if self.class_weight is not None:
                # A fixed value every configuration carries: its estimator is built with it, and the
                # trials and the stored model record it.
                mine["class_weight"] = [self.class_weight]
            spaces[family.name] = {**family.space_for(task), **mine}
            overridden[family.name] = frozenset(mine)
        return SearchPlan(
            task=task,
            families=tuple(families),
            spaces=spaces,
            overridden=overridden,
            metric=metric,
            budget=self.budget,
            strategy=self.strategy,
            seed=self.seed,
            pca=self.pca,
            text=self.text,
            class_weight=self.class_weight,
        )


_BANDIT_HINTS = {
    "epsilon": "e.g. epsilon = 0.5 stops configurations 50% worse than the best; 0 keeps only ties",
    "round_resource": "e.g. round_resource = 10 trains each configuration 10 epochs (or trees) per round",
    "eta": "e.g. eta = 3 keeps the best third at each rung",
}


def _family_names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(name.strip() for name in value.split(",") if name.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InvalidParameterError(
        f"families {value!r} is not a list of family names",
        hint=f"e.g. families = ['logistic', 'gradient_boosting']; known: {', '.join(FAMILIES)}",
    )


def _column_names(value: object, option: str = "text") -> tuple[str, ...]:
    if isinstance(value, str):
        value = [name.strip() for name in value.split(",")]
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    example = "['review', 'title']" if option == "text" else "['id', 'customer_key']"
    raise InvalidParameterError(
        f"{option} {value!r} is not a list of column names", hint=f"e.g. {option} = {example}"
    )


def _whole_number(name: str, value: object) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    raise InvalidParameterError(f"{name} {value!r} is not an integer", hint=f"e.g. {name} = 42")


def _candidates(value: object) -> SpaceValue:
    """A SQL option value as hyperparameter candidates: a list or Range as is, a single value as a list."""
    if isinstance(value, Range | list):
        return value
    if isinstance(value, tuple):
        return list(value)
    return [value]


def _check_candidates(name: str, candidates: object) -> None:
    if isinstance(candidates, Range):
        return
    if not isinstance(candidates, list):
        raise InvalidParameterError(
            f"hyperparameter '{name}' needs a list of candidates or a RANGE, got {candidates!r}",
            hint=f"e.g. {name} = [4, 8, 16] or {name} = RANGE(1e-4, 1e-1, LOG)",
        )
    if not candidates:
        raise InvalidParameterError(
            f"hyperparameter '{name}' has an empty list of candidates",
            hint=f"give at least one value, e.g. {name} = [4, 8, 16], or leave it out for the default space",
        )


def _unknown_hyperparameter(name: str, families: list[ModelFamily]) -> InvalidParameterError:
    owners = [f.name for f in FAMILIES.values() if name in f.hyperparameter_names]
    chosen = ", ".join(f.name for f in families)
    where = f"it belongs to {', '.join(owners)}" if owners else "no family has it"
    return InvalidParameterError(
        f"hyperparameter '{name}' belongs to none of the chosen families ({chosen}); {where}",
        hint="; ".join(f"{f.name}: {', '.join(sorted(f.hyperparameter_names))}" for f in families),
    )


__all__ = [
    "BANDIT_STRATEGIES",
    "CLASS_WEIGHTS",
    "DEFAULT_BUDGET",
    "DEFAULT_BUDGET_SECONDS",
    "DEFAULT_BUDGET_TRIALS",
    "DEFAULT_TIME_CAP_SECONDS",
    "SEARCH_OPTIONS",
    "STRATEGIES",
    "Budget",
    "SearchPlan",
    "SearchSpec",
    "Strategy",
    "parse_budget",
]
