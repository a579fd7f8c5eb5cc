"""The planner's cost model: what a search will do with the data it is given, and roughly how long it takes.

``EXPLAIN PREDICT ...`` shows the result of :func:`plan_search` without training anything: per family the
unit of training (epochs, iterations, trees), the units per round, how many configurations a batch holds,
and an estimate of the seconds one configuration takes; for the whole search the rounds or rungs and the
estimated cost (capped by the time budget).

The estimate is a linear model in the data's size, ``seconds = rate x rows x columns x outputs x units``
(with the hidden width for networks and the random features for kernel approximation), one thread, with
rates measured on the development machine (a 2-core AMD EPYC VM, scikit-learn 1.9; see each constant).
It is meant to rank plans and to tell a 5-second search from a 5-hour one, not to be exact: on another
machine or other data it may be off by a factor of two or three either way. Batches follow
``bench/batching.py``: the first configuration of a batch costs a full pass, each further one a fraction
(:data:`BATCH_MARGINAL_COST`), because the k gradients are one matrix-matrix product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from paqdb.ml.families import FAMILIES, ModelFamily, Task, families_for
from paqdb.search.arms import BATCHED_FAMILIES, MAX_BATCHED_EPOCHS, MAX_GROUP_SIZE
from paqdb.search.bandit import DEFAULT_EPSILON, DEFAULT_ETA, DEFAULT_ROUND_RESOURCE, geometric_rungs
from paqdb.search.spec import BANDIT_STRATEGIES, SearchSpec

SGD_EPOCH_RATE = 4.8e-9
"""Seconds per matrix cell for one epoch of the batched linear trainer, one configuration alone: 16
configurations x 10 epochs took 2.29 s one by one on Adult (26,049 x 113, two classes)."""

OUTPUT_COST = 0.03
"""Cost of each further output column of a linear model (a class of a softmax) as a share of the first: the
product with a d x 10 matrix costs little more than with a vector (one epoch of 10-class MNIST, 4,000 x
784, took 19 ms alone against 14 ms for Adult's similar number of cells with one column)."""

BATCH_MARGINAL_COST = {False: 0.1, True: 0.5}
"""Cost of each further configuration in a batch, as a share of the first, for two classes (False) and more
(True): 16 batched logistic configurations ran 6.6x faster than 16 alone on Adult (binary) and 1.9x on
10-class MNIST (BENCHMARKS.md), i.e. ``16 / (1 + 15 f)`` with f = 0.095 and 0.49."""

LBFGS_ITERATION_RATE = 6.0e-9
"""Seconds per cell for one L-BFGS iteration of scikit-learn's LogisticRegression (two passes:
loss and gradient), from 500-iteration fits on Adult."""

BOOSTING_ITERATION_RATE = 1.9e-8
"""Seconds per cell and per tree for one HistGradientBoosting iteration: 168 iterations took 1.19 s on
Adult (26,049 x 14 category codes); a k-class problem grows k trees per iteration."""

BOOSTING_EXPECTED_FRACTION = 0.4
"""Share of ``max_iter`` boosting runs before its internal early stopping ends it (168 of 500 on Adult)."""

FOREST_TREE_RATE = 2.2e-7
"""Seconds per cell for one fully grown random-forest tree (sqrt of the features per split) on Adult."""

MLP_EPOCH_RATE = 6.7e-10
"""Seconds per cell and hidden unit for one MLP epoch (forward and backward), Adult with 64 units."""

MLP_EXPECTED_FRACTION = 0.3
"""Share of ``max_iter`` epochs an MLP runs before its early stopping on a held-out tenth."""

SOLVE_RATE = 1.0e-9
"""Seconds per multiply-add of an exact least-squares solve (forming and factoring the normal equations)."""

RANDOM_FEATURE_RATE = 1.0e-9
"""Seconds per multiply-add of projecting rows onto random features."""


@dataclass(frozen=True)
class DataShape:
    """What the cost model knows about the training data before reading it.

    Attributes
    ----------
    rows : int
        Training rows (before the validation split).
    onehot_columns : int
        Columns of the one-hot encoded matrix (numeric columns plus one per category slot), estimated from
        approximate distinct counts.
    ordinal_columns : int
        Columns of the category-code matrix.
    classes : int
        Distinct labels for classification, 0 for regression.
    """

    rows: int
    onehot_columns: int
    ordinal_columns: int
    classes: int = 0

    @property
    def outputs(self) -> int:
        return self.classes if self.classes > 2 else 1


@dataclass(frozen=True)
class FamilyPlan:
    """How one family trains in a search, and what a configuration is expected to cost."""

    family: str
    unit: str
    max_units: int
    round_units: int | None
    batch: int
    seconds_per_configuration: float

    def describe(self) -> str:
        parts = [f"{self.max_units} {self.unit}"]
        if self.round_units is not None:
            parts.append(f"{self.round_units}/round")
        if self.batch > 1:
            parts.append(f"batches of {self.batch}")
        parts.append(f"~{_seconds(self.seconds_per_configuration)}/config")
        return f"{self.family} ({', '.join(parts)})"


@dataclass(frozen=True)
class SearchEstimate:
    """The planned search: its strategy, allocation rule, families and estimated cost."""

    strategy: str
    allocation: str
    families: list[FamilyPlan] = field(default_factory=list)
    configurations: int = 0
    seconds_all_to_completion: float = 0.0
    estimated_seconds: float = 0.0

    def describe(self) -> dict[str, Any]:
        """Properties for EXPLAIN's ModelSearch line."""
        return {
            "allocation": self.allocation,
            "families": len(self.families),
            "configurations": self.configurations,
            "estimated cost": (
                f"~{_seconds(self.estimated_seconds)} "
                f"(all {self.configurations} to completion: ~{_seconds(self.seconds_all_to_completion)})"
            ),
        }


def plan_search(spec: SearchSpec, shape: DataShape, memory_bytes: int = 1 << 30) -> SearchEstimate:
    """The search ``spec`` would run on data of ``shape``; see the module documentation.

    ``memory_bytes`` is what a batch may use (the search gives it a quarter of the free memory).
    """
    task: Task = spec.task or ("classification" if shape.classes else "regression")
    if spec.families:
        families = [FAMILIES[name] for name in spec.families if FAMILIES[name].supports(task)]
    else:
        families = families_for(task)
    if spec.pca is not None:
        # The one-hot families read the principal components instead.
        shape = replace(shape, onehot_columns=min(spec.pca, shape.onehot_columns))
    bandit = spec.strategy in BANDIT_STRATEGIES
    round_resource = spec.round_resource or DEFAULT_ROUND_RESOURCE
    trials = spec.budget.trials
    per_family = None if trials is None else math.ceil(trials / max(1, len(families)))
    plans = [
        _family_plan(family, shape, spec.strategy, round_resource, per_family, memory_bytes)
        for family in families
    ]

    configurations = trials if trials is not None else 10 * len(families)
    # Configurations spread evenly over the families (round-robin proposals); a batch shares one pass.
    share = configurations / max(1, len(plans))
    full = sum(share * plan.seconds_per_configuration for plan in plans)
    multiclass = shape.outputs > 1
    full_batched = sum(
        share * plan.seconds_per_configuration * _batch_discount(plan.batch, multiclass, spec.batching)
        for plan in plans
    )
    estimated = full_batched
    if bandit:
        # Early stopping trains most configurations a round or a rung, a few to the end: charge the
        # best third in full and the rest a fifth (TuPAQ and halving both stop about two thirds early).
        estimated = full_batched * (1 / 3 + 2 / 3 * 0.2)
    # Every search stops at its time limit: the budget's duration, or the default cap of one of trials.
    estimated = min(estimated, spec.budget.time_limit)
    return SearchEstimate(
        strategy=spec.strategy,
        allocation=_allocation(spec, round_resource, max((plan.max_units for plan in plans), default=1)),
        families=plans,
        configurations=configurations,
        seconds_all_to_completion=full,
        estimated_seconds=estimated,
    )


def _allocation(spec: SearchSpec, round_resource: int, largest_units: int) -> str:
    """The allocation rule in words; halving and Hyperband run their rungs up to the largest resource of
    the chosen families, as :class:`~paqdb.search.tupaq_search.TuPAQSearch` does."""
    if spec.strategy == "tupaq":
        epsilon = DEFAULT_EPSILON if spec.epsilon is None else spec.epsilon
        return f"TuPAQ rounds of {round_resource}+ units, stop when error > (1 + {epsilon:g}) x best"
    if spec.strategy in ("successive_halving", "hyperband"):
        eta = spec.eta or DEFAULT_ETA
        rungs = geometric_rungs(round_resource, max(round_resource + 1, largest_units), eta)
        name = "successive halving" if spec.strategy == "successive_halving" else "Hyperband brackets"
        return f"{name}, eta={eta}, rungs of {rungs} units"
    return "every configuration trains to completion"


def _family_plan(
    family: ModelFamily,
    shape: DataShape,
    strategy: str,
    round_resource: int,
    per_family: int | None,
    memory_bytes: int,
) -> FamilyPlan:
    rows = max(1, shape.rows)
    outputs = shape.outputs
    onehot_cells = rows * max(1, shape.onehot_columns)
    ordinal_cells = rows * max(1, shape.ordinal_columns)
    defaults = family.defaults
    bandit = strategy in BANDIT_STRATEGIES
    batch = 1
    if bandit and family.name in BATCHED_FAMILIES:
        unit, units = "epochs", MAX_BATCHED_EPOCHS
        seconds = SGD_EPOCH_RATE * onehot_cells * _linear_outputs(outputs) * units
        # The batched trainer's module loads scikit-learn and SciPy; a plan without batching needs neither.
        from paqdb.ml.batched_linear import DEFAULT_BATCH_SIZE, MAX_CONFIGURATIONS_PER_BATCH, batch_size_for

        batch = batch_size_for(
            max(1, shape.onehot_columns),
            shape.classes,
            max(DEFAULT_BATCH_SIZE, rows // 5),
            memory_bytes,
            maximum=min(MAX_CONFIGURATIONS_PER_BATCH, MAX_GROUP_SIZE),
        )
        if per_family is not None:
            batch = max(1, min(batch, per_family))
    elif family.name in ("logistic", "linear_svm"):
        unit, units = "iterations", int(defaults.get("max_iter", 100))
        # L-BFGS and liblinear usually converge well before max_iter; charge a fifth.
        seconds = LBFGS_ITERATION_RATE * onehot_cells * _linear_outputs(outputs) * max(1, units // 5)
    elif family.name == "gradient_boosting":
        unit, units = "iterations", 500
        trees = outputs
        seconds = BOOSTING_ITERATION_RATE * ordinal_cells * trees * units * BOOSTING_EXPECTED_FRACTION
    elif family.name == "random_forest":
        unit, units = "trees", int(defaults.get("n_estimators", 100))
        seconds = FOREST_TREE_RATE * ordinal_cells * units
    elif family.name == "mlp":
        unit, units = "epochs", int(defaults.get("max_iter", 100))
        hidden = _hidden_units(defaults.get("hidden_layer_sizes", [64]))
        seconds = MLP_EPOCH_RATE * onehot_cells * hidden * units * MLP_EXPECTED_FRACTION
    elif family.name == "kernel_approximation":
        unit, units = "fit", 1
        components = int(defaults.get("n_components", 512))
        projection = RANDOM_FEATURE_RATE * onehot_cells * components
        seconds = projection + LBFGS_ITERATION_RATE * rows * components * _linear_outputs(outputs) * 20
    else:  # ridge and any one-step family: an exact solve of the normal equations
        unit, units = "fit", 1
        seconds = SOLVE_RATE * onehot_cells * max(1, shape.onehot_columns)
    round_units = None
    if strategy == "tupaq" and family.resource is not None:
        round_units = max(round_resource, math.ceil(units / 10))
    return FamilyPlan(family.name, unit, units, round_units, batch, seconds)


def _batch_discount(batch: int, multiclass: bool, batching: bool) -> float:
    """Cost per configuration of a batch of ``batch``, relative to training it alone."""
    if batch <= 1 or not batching:
        return 1.0
    marginal = BATCH_MARGINAL_COST[multiclass]
    return (1 + (batch - 1) * marginal) / batch


def _linear_outputs(outputs: int) -> float:
    return 1 + OUTPUT_COST * (outputs - 1)


def _hidden_units(layers: Any) -> int:
    if isinstance(layers, list | tuple):
        return max(1, sum(int(n) for n in layers))
    return max(1, int(layers))


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value:.2f} s"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


__all__ = ["DataShape", "FamilyPlan", "SearchEstimate", "plan_search"]
