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
(:data:`BATCH_MARGINAL_COST`), because the k gradients are one matrix-matrix product. Fixed costs come on
top: each unit's own overhead (a tree, an epoch: :data:`UNIT_OVERHEAD`, which is what small data spends its
time on), scoring each configuration after each round, preparing the data, refitting the best model, and
loading scikit-learn the first time a session trains.

**Calibration.** The rates above are a prior. :func:`history_from_catalog` reads the trials the catalog
keeps (their seconds, the units they trained, the data's rows and features) and :class:`CostHistory` turns
them into one correction factor per family and data shape: the geometric mean of measured over predicted
seconds for that family's past searches, each weighted by how close its data's shape is to this one (a
search on data 4 times larger or smaller counts 0.6, 16 times 0.14) and shrunk towards 1 when the history
is thin. A database that has trained on Adult estimates Adult's next search from what its trials took on
this machine; on data of another shape the prior decides. ``EXPLAIN ANALYZE`` prints the estimate beside
the measured time.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Mapping
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

UNIT_OVERHEAD = {
    "batched": 1.0e-4,
    "iterations": 2.0e-5,
    "gradient_boosting": 1.5e-3,
    "random_forest": 2.0e-3,
    "mlp": 5.0e-4,
    "fit": 2.0e-3,
}
"""Seconds each unit costs whatever the data's size (per tree for forests and boosting, per epoch, per
iteration, per fit): the work of small data. 500 boosting iterations of 3 classes on Iris's 150 rows take
seconds, where the per-cell rate alone says 0.02."""

ROUND_OVERHEAD = 2.0e-3
"""Seconds per configuration and round besides training: scoring the validation rows, bookkeeping."""

SEARCH_OVERHEAD = 0.1
"""Seconds a search spends whatever its data: starting, the split, the result."""

PREPARE_RATE = 2.0e-8
"""Seconds per cell of featurising the data once (one-hot and category codes)."""

IMPORT_SECONDS = 1.0
"""Loading scikit-learn and SciPy, which the first search of a process pays (about 1 s of CPU)."""

SHAPE_SCALE = math.log(4.0)
"""How fast a past search's weight falls with the distance between its data's shape and this one's: the
distance is ``|log(rows ratio)| + |log(features ratio)|`` and the weight ``exp(-(d / SHAPE_SCALE)^2 / 2)``."""

PRIOR_WEIGHT = 0.25
"""The prior's weight against one past search of the same shape with enough configurations: one such
search moves the factor 80% of the way (in logarithm) to what it measured."""

HISTORY_TRIALS = 5000
"""The most recent trials the calibration reads."""


@dataclass(frozen=True)
class PastRun:
    """One family's trials in one past search, as the calibration uses them.

    Attributes
    ----------
    family : str
    rows : int
        Labeled rows of the search (training and validation).
    features : int
        Feature columns of the model.
    seconds : float
        Measured training seconds of the family's trials, all together.
    work : tuple of (units, batch size, rounds)
        Per trial: the units it trained (epochs, iterations, trees; 1 for a fit), the size of its batch
        (1 when alone) and its rounds.
    epochs : bool
        Whether a linear family trained by epochs (the batched trainer) rather than by solver iterations.
    """

    family: str
    rows: int
    features: int
    seconds: float
    work: tuple[tuple[int, int, int], ...]
    epochs: bool = False


@dataclass(frozen=True)
class Calibration:
    """A family's correction factor and the evidence behind it."""

    factor: float = 1.0
    trials: int = 0

    def describe(self) -> str:
        return f"calibrated x{self.factor:.2g} on {self.trials} past trials" if self.trials else ""


@dataclass(frozen=True)
class CostHistory:
    """Past searches' measured costs: per family and shape, what the prior should be multiplied by."""

    runs: tuple[PastRun, ...] = ()

    def calibration(self, family: str, shape: DataShape) -> Calibration:
        """The correction for ``family`` on data of ``shape``: see the module documentation."""
        total = PRIOR_WEIGHT
        weighted = 0.0
        trials = 0
        for run in self.runs:
            if run.family != family or run.seconds <= 0 or not run.work:
                continue
            predicted = _past_seconds(run, shape)
            if predicted <= 0:
                continue
            distance = abs(math.log(max(1, shape.rows) / max(1, run.rows))) + abs(
                math.log(max(1, shape.ordinal_columns) / max(1, run.features))
            )
            weight = math.exp(-0.5 * (distance / SHAPE_SCALE) ** 2) * min(1.0, len(run.work) / 4)
            if weight < 1e-3:
                continue
            total += weight
            weighted += weight * math.log(run.seconds / predicted)
            trials += len(run.work)
        if trials == 0:
            return Calibration()
        return Calibration(math.exp(weighted / total), trials)


def history_from_catalog(catalog: Any) -> CostHistory:
    """The cost history in ``catalog`` (a :class:`paqdb.catalog.ModelCatalog`): its most recent
    :data:`HISTORY_TRIALS` trials, one :class:`PastRun` per model version and family. An empty catalog, or
    rows it cannot read, give no history: the estimate then rests on the prior."""
    from paqdb.catalog.store import SCHEMA
    from paqdb.engines.base import render

    engine = catalog.engine
    if not engine.relation_exists(f"{SCHEMA}.trials"):
        return CostHistory()
    sql = (
        "SELECT t.name, t.version, t.family, t.resources, t.seconds, v.features "
        f"FROM {SCHEMA}.trials t JOIN {SCHEMA}.model_versions v "
        "ON lower(v.name) = lower(t.name) AND v.version = t.version "
        f"WHERE t.status <> 'failed' ORDER BY v.created_at DESC, t.trial LIMIT {HISTORY_TRIALS}"
    )
    table = engine.query_arrow(render(sql, engine.dialect))
    return history_from_rows(table.to_pylist())


def history_from_rows(rows: Iterable[Mapping[str, Any]]) -> CostHistory:
    """:func:`history_from_catalog`'s grouping of trial rows (``name``, ``version``, ``family``, ``resources``
    and ``features`` as JSON text, ``seconds``) into past runs."""
    groups: dict[tuple[str, int, str], list[Any]] = {}
    for row in rows:
        try:
            resources = json.loads(row["resources"])
            features = len(json.loads(row["features"]))
            seconds = float(row["seconds"])
        except (TypeError, ValueError, KeyError):
            continue
        if not isinstance(resources, dict):
            continue
        family = FAMILIES.get(str(row["family"]))
        rows_seen = _int(resources.get("train_rows")) + _int(resources.get("validation_rows"))
        if family is None or rows_seen <= 0:
            continue
        units = _int(resources.get("iterations")) or _int(resources.get("epochs"))
        if not units and family.resource is not None:
            units = _int(resources.get(family.resource))
        work = (
            max(1, units),
            max(1, _int(resources.get("batch_size"))),
            max(1, _int(resources.get("rounds"))),
        )
        group = groups.setdefault(
            (str(row["name"]).lower(), int(row["version"]), family.name),
            [rows_seen, features, 0.0, [], False],
        )
        group[2] += seconds
        group[3].append(work)
        group[4] = group[4] or "epochs" in resources
    return CostHistory(
        tuple(
            PastRun(family, rows_seen, features, seconds, tuple(work), epochs)
            for (_, _, family), (rows_seen, features, seconds, work, epochs) in groups.items()
        )
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _past_seconds(run: PastRun, shape: DataShape) -> float:
    """What the prior says ``run``'s trials should have taken, on its data: its rows and features, with this
    data's share of one-hot columns per feature and its classes (the catalog keeps neither)."""
    ordinal = max(1, shape.ordinal_columns)
    past = DataShape(
        rows=run.rows,
        onehot_columns=max(1, round(run.features * max(1, shape.onehot_columns) / ordinal)),
        ordinal_columns=max(1, run.features),
        classes=shape.classes,
    )
    family = FAMILIES[run.family]
    unit = _unit_seconds(family, past, run.epochs)
    multiclass = past.outputs > 1
    return sum(
        unit * units * _batch_discount(batch, multiclass, True) + ROUND_OVERHEAD * rounds
        for units, batch, rounds in run.work
    )


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
    calibration: Calibration = field(default_factory=Calibration)

    def describe(self) -> str:
        parts = [f"{self.max_units} {self.unit}"]
        if self.round_units is not None:
            parts.append(f"{self.round_units}/round")
        if self.batch > 1:
            parts.append(f"batches of {self.batch}")
        parts.append(f"~{_seconds(self.seconds_per_configuration)}/config")
        if self.calibration.trials:
            parts.append(self.calibration.describe())
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
    #: what the search costs besides training configurations: setup, featurising, refit, imports
    fixed_seconds: float = 0.0

    def compare(self, measured: float) -> str:
        """EXPLAIN ANALYZE's line for a search that took ``measured`` seconds: the estimate beside it."""
        estimated = self.estimated_seconds
        ratio = f", {measured / estimated:.2g}x the estimate" if estimated > 0 else ""
        return f"estimated ~{estimated:.3g} s, measured {measured:.3g} s{ratio}"

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


def plan_search(
    spec: SearchSpec,
    shape: DataShape,
    memory_bytes: int = 1 << 30,
    history: CostHistory | None = None,
) -> SearchEstimate:
    """The search ``spec`` would run on data of ``shape``; see the module documentation.

    ``memory_bytes`` is what a batch may use (the search gives it a quarter of the free memory);
    ``history`` calibrates each family's cost to what past searches measured (none: the prior alone).
    """
    task: Task = spec.task or ("classification" if shape.classes else "regression")
    if spec.families:
        families = [FAMILIES[name] for name in spec.families if FAMILIES[name].supports(task)]
    else:
        families = families_for(task)
    full_shape = shape
    if spec.pca is not None:
        # The one-hot families read the principal components instead.
        shape = replace(shape, onehot_columns=min(spec.pca, shape.onehot_columns))
    bandit = spec.strategy in BANDIT_STRATEGIES
    round_resource = spec.round_resource or DEFAULT_ROUND_RESOURCE
    trials = spec.budget.trials
    per_family = None if trials is None else math.ceil(trials / max(1, len(families)))
    history = history or CostHistory()
    plans = [
        _family_plan(
            family,
            shape,
            spec.strategy,
            round_resource,
            per_family,
            memory_bytes,
            history.calibration(family.name, full_shape),
        )
        for family in families
    ]

    configurations = trials if trials is not None else 10 * len(families)
    # Configurations spread evenly over the families (round-robin proposals); a batch shares one pass.
    share = configurations / max(1, len(plans))
    multiclass = shape.outputs > 1
    training = sum(share * plan.seconds_per_configuration for plan in plans)
    training_batched = sum(
        share * plan.seconds_per_configuration * _batch_discount(plan.batch, multiclass, spec.batching)
        for plan in plans
    )
    if bandit:
        # Early stopping trains most configurations a round or a rung, a few to the end: charge the
        # best third in full and the rest a fifth (TuPAQ and halving both stop about two thirds early).
        training_batched *= 1 / 3 + 2 / 3 * 0.2
    fixed = _fixed_seconds(full_shape, plans)
    # Every search stops at its time limit: the budget's duration, or the default cap of one of trials.
    estimated = min(training_batched + fixed, spec.budget.time_limit)
    return SearchEstimate(
        strategy=spec.strategy,
        allocation=_allocation(spec, round_resource, max((plan.max_units for plan in plans), default=1)),
        families=plans,
        configurations=configurations,
        seconds_all_to_completion=training + fixed,
        estimated_seconds=estimated,
        fixed_seconds=fixed,
    )


def _fixed_seconds(shape: DataShape, plans: list[FamilyPlan]) -> float:
    """What a search costs besides its configurations: starting, featurising the data once, refitting the
    best configuration on the training and validation rows (a quarter more rows than a trial's), and
    loading scikit-learn when this process has not yet."""
    cells = max(1, shape.rows) * (max(1, shape.onehot_columns) + max(1, shape.ordinal_columns))
    refit = 1.25 * sum(plan.seconds_per_configuration for plan in plans) / max(1, len(plans))
    cold = IMPORT_SECONDS if "sklearn.ensemble" not in sys.modules else 0.0
    return SEARCH_OVERHEAD + PREPARE_RATE * cells + refit + cold


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
    calibration: Calibration | None = None,
) -> FamilyPlan:
    rows = max(1, shape.rows)
    defaults = family.defaults
    bandit = strategy in BANDIT_STRATEGIES
    batch = 1
    epochs = bandit and family.name in BATCHED_FAMILIES
    if epochs:
        unit, units = "epochs", MAX_BATCHED_EPOCHS
        charged: float = units
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
        charged = max(1, units // 5)
    elif family.name == "gradient_boosting":
        unit, units = "iterations", 500
        charged = units * BOOSTING_EXPECTED_FRACTION
    elif family.name == "random_forest":
        unit, units = "trees", int(defaults.get("n_estimators", 100))
        charged = units
    elif family.name == "mlp":
        unit, units = "epochs", int(defaults.get("max_iter", 100))
        charged = units * MLP_EXPECTED_FRACTION
    else:  # kernel approximation, ridge and any one-step family
        unit, units = "fit", 1
        charged = 1
    round_units = None
    if strategy == "tupaq" and family.resource is not None:
        round_units = max(round_resource, math.ceil(units / 10))
    rounds = math.ceil(charged / round_units) if round_units else 1
    calibration = calibration or Calibration()
    seconds = _unit_seconds(family, shape, epochs) * charged + ROUND_OVERHEAD * rounds
    return FamilyPlan(family.name, unit, units, round_units, batch, seconds * calibration.factor, calibration)


def _unit_seconds(family: ModelFamily, shape: DataShape, epochs: bool) -> float:
    """The prior's seconds for one unit of ``family`` (an epoch, iteration, tree or fit) on data of ``shape``,
    one configuration alone; ``epochs``: a linear family in the batched trainer."""
    rows = max(1, shape.rows)
    outputs = shape.outputs
    onehot_cells = rows * max(1, shape.onehot_columns)
    ordinal_cells = rows * max(1, shape.ordinal_columns)
    defaults = family.defaults
    if family.name in BATCHED_FAMILIES and epochs:
        return SGD_EPOCH_RATE * onehot_cells * _linear_outputs(outputs) + UNIT_OVERHEAD["batched"]
    if family.name in ("logistic", "linear_svm"):
        return LBFGS_ITERATION_RATE * onehot_cells * _linear_outputs(outputs) + UNIT_OVERHEAD["iterations"]
    if family.name == "gradient_boosting":
        # A k-class problem grows k trees per iteration.
        return (BOOSTING_ITERATION_RATE * ordinal_cells + UNIT_OVERHEAD["gradient_boosting"]) * outputs
    if family.name == "random_forest":
        return FOREST_TREE_RATE * ordinal_cells + UNIT_OVERHEAD["random_forest"]
    if family.name == "mlp":
        hidden = _hidden_units(defaults.get("hidden_layer_sizes", [64]))
        return MLP_EPOCH_RATE * onehot_cells * hidden + UNIT_OVERHEAD["mlp"]
    if family.name == "kernel_approximation":
        components = int(defaults.get("n_components", 512))
        projection = RANDOM_FEATURE_RATE * onehot_cells * components
        solve = LBFGS_ITERATION_RATE * rows * components * _linear_outputs(outputs) * 20
        return projection + solve + UNIT_OVERHEAD["fit"]
    # ridge and any one-step family: an exact solve of the normal equations
    return SOLVE_RATE * onehot_cells * max(1, shape.onehot_columns) + UNIT_OVERHEAD["fit"]


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


__all__ = [
    "Calibration",
    "CostHistory",
    "DataShape",
    "FamilyPlan",
    "PastRun",
    "SearchEstimate",
    "history_from_catalog",
    "history_from_rows",
    "plan_search",
]
