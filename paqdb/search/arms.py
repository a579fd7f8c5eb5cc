"""Arms: configurations as the bandit allocators of :mod:`paqdb.search.bandit` train them, round by round.

:class:`ConfigurationArm`
    One configuration of any family, on its own estimator. It trains in its family's natural unit
    (:attr:`~paqdb.ml.families.ModelFamily.resource`), continuing from where it stopped where scikit-learn
    allows it: ``LogisticRegression`` with ``warm_start`` and ``max_iter`` set to the round's iterations,
    ``RandomForest`` with ``warm_start`` and ``n_estimators`` the total trees, ``HistGradientBoosting`` with
    ``warm_start`` and ``max_iter`` the total iterations. The other iterative families (``LinearSVC``, whose
    liblinear solver has no warm start, and the MLP) are refitted from scratch at the larger resource each
    round; a family without a resource (ridge) is one step.

:class:`BatchedLinearGroup` and its :class:`BatchedArm` members
    Configurations of one linear family (logistic regression, linear SVM) that train together in one
    :class:`~paqdb.ml.batched_linear.BatchedLinearTrainer`: every epoch is one pass over the data for all of
    them, the gradient of k models one matrix-matrix product (TuPAQ's physical batching). Each member is
    an arm of its own, judged and stopped on its own; the first member the allocator advances in a round
    trains the whole group, the others read their scores, and a stopped member is dropped from the
    group's matrices before the next epoch. Its unit is the epoch. A group of one runs the same code, so
    batching changes how fast the models train, not which models come out (the trainer's tests check
    the weights agree to rounding).

An arm whose learner converges before its maximum (fewer iterations than allowed) counts as finished, but
only from its second step on, so that every arm faces the stopping rule at least once: a configuration that
converges at once to a poor model (a logistic regression with a tiny ``C``) is stopped, not finished.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np

from paqdb.ml.families import ModelFamily, TrainingShape
from paqdb.ml.training import FitOutcome, fit_within

if TYPE_CHECKING:
    # The trainers (scikit-learn, SciPy, threadpoolctl) load when an arm trains: the cost model and the
    # model store read this module's constants without them.
    from sklearn.base import BaseEstimator

    from paqdb.search.trials import TrialRunner

BATCHED_FAMILIES: frozenset[str] = frozenset({"logistic", "linear_svm"})
"""Families a bandit search trains with the batched trainer. Ridge is left to its exact solver: one
step, cheaper than any number of epochs."""

MAX_BATCHED_EPOCHS = 50
"""Most epochs a batched configuration trains (its family's ``max_iter`` when that is lower). On Adult the
best of 16 logistic configurations is within 0.1 point of scikit-learn's exact fit after 10 epochs (see
BENCHMARKS.md, batched training); 50 leaves room for the slow ones without letting them run 500."""

MIN_STEPS_PER_EPOCH = 50
"""Mini-batches per epoch at least, down to :data:`MIN_MINI_BATCH` rows (see :func:`mini_batch_rows`)."""

MIN_MINI_BATCH = 32

MAX_GROUP_SIZE = 16
"""Most configurations in one batch group: on one core the gain from 16 to 32 is 6.6x to 8.7x on Adult
(BENCHMARKS.md), while every member of a group has to be proposed before the first one trains."""

WARM_START_FAMILIES: frozenset[str] = frozenset({"logistic", "random_forest", "gradient_boosting"})
"""Families whose estimators continue training from where they stopped (``warm_start``)."""

INCREMENTAL_FAMILIES: frozenset[str] = frozenset({"logistic"})
"""Warm-start families whose resource counts the iterations of one ``fit`` call rather than the total."""


def _fit(
    estimator: BaseEstimator,
    matrix: np.ndarray,
    target: np.ndarray,
    shape: TrainingShape,
    deadline: float | None = None,
    seconds_per_unit: float | None = None,
) -> FitOutcome:
    """``estimator.fit`` as :func:`~paqdb.ml.training.fit_estimator` runs it (threads, warnings), stopping
    at ``deadline`` where the estimator can (:func:`~paqdb.ml.training.fit_within`)."""
    from sklearn.exceptions import ConvergenceWarning

    with _threads(shape), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_within(estimator, matrix, target, deadline, seconds_per_unit=seconds_per_unit)


def _threads(shape: TrainingShape) -> AbstractContextManager[Any]:
    """One BLAS/OpenMP thread while a fit runs, when the data is too small to gain from more."""
    if not shape.single_threaded:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _iterations(estimator: BaseEstimator) -> int | None:
    iterations = getattr(estimator, "n_iter_", None)
    return None if iterations is None else int(np.max(iterations))


class _SearchArm:
    """What every arm of a search holds: its id, family, configuration and the search's data."""

    def __init__(
        self, arm_id: int, family: ModelFamily, configuration: Mapping[str, Any], runner: TrialRunner
    ) -> None:
        self._arm_id = arm_id
        self.model_family = family
        self.configuration = dict(configuration)
        self.runner = runner
        self._max_resource = 1

    @property
    def arm_id(self) -> int:
        return self._arm_id

    @property
    def family(self) -> str:
        return self.model_family.name

    @property
    def max_resource(self) -> int:
        return self._max_resource


class ConfigurationArm(_SearchArm):
    """One configuration of one family trained round by round on a :class:`TrialRunner`'s data; an
    :class:`~paqdb.search.bandit.Arm`."""

    def __init__(
        self, arm_id: int, family: ModelFamily, configuration: Mapping[str, Any], runner: TrialRunner
    ) -> None:
        super().__init__(arm_id, family, configuration, runner)
        self.train, self.validation, self.shape = runner.training_matrices(family)
        self.estimator: BaseEstimator | None = None
        self._resource_used = 0
        self._steps = 0
        self._converged = False
        self._deadline: float | None = None
        self._cut_short = False
        self._seconds = 0.0
        plan = runner.plan
        if family.resource is not None:
            built = family.build(plan.task, self.configuration, plan.seed, self.shape)
            self._max_resource = max(1, int(built.get_params()[family.resource]))

    @property
    def resource_used(self) -> int:
        return self._resource_used

    @property
    def finished(self) -> bool:
        # Convergence finishes an arm only once it has faced the stopping rule (see the module docstring).
        return self._resource_used >= self._max_resource or (self._converged and self._steps >= 2)

    batch_key: Any = None
    """Arms with the same key train together and take one live slot (None: a slot of its own)."""

    @property
    def cut_short(self) -> bool:
        """Whether the deadline stopped the last :meth:`advance` short of its target."""
        return self._cut_short

    def set_deadline(self, deadline: float | None) -> None:
        """When the next :meth:`advance` must stop (a :func:`time.perf_counter` time): forests and boosting
        stop between chunks of trees or iterations, an MLP between epochs; a family fitted in one solver
        call (ridge, kernel approximation) cannot stop and the allocator does not start it late."""
        self._deadline = deadline

    def release(self) -> None:
        """The allocator is done with this arm; nothing to free for an arm on its own estimator."""

    def refit(self, deadline: float | None = None) -> BaseEstimator | None:
        """The trained configuration fitted on every row (training and validation); None when ``deadline``
        cut the refit short."""
        return self.runner.refit(self.model_family, self.trained_configuration(), deadline=deadline)

    def trained_configuration(self) -> dict[str, Any]:
        """The configuration with its resource set to the units trained (what the final refit uses)."""
        resource = self.model_family.resource
        if resource is None or self._resource_used == 0:
            return dict(self.configuration)
        return {**self.configuration, resource: self._resource_used}

    def advance(self, resource: int) -> float:
        target = max(1, min(resource, self._max_resource))
        before = self._resource_used
        family, plan, y = self.model_family, self.runner.plan, self.runner.train_target
        name = family.resource
        deadline = self._deadline
        rate = self._seconds / before if before else None
        started = time.perf_counter()
        cut = False
        if name is None:
            estimator = family.build(plan.task, self.configuration, plan.seed, self.shape)
            _fit(estimator, self.train, y, self.shape)
            used, converged = 1, False
        elif family.name in WARM_START_FAMILIES:
            incremental = family.name in INCREMENTAL_FAMILIES
            estimator = self.estimator
            if estimator is None:
                first = {**self.configuration, name: target}
                estimator = family.build(plan.task, first, plan.seed, self.shape)
            else:
                estimator.set_params(warm_start=True, **{name: target - before if incremental else target})
            cut = _fit(estimator, self.train, y, self.shape, deadline, rate).cut_short
            if incremental:
                ran = _iterations(estimator) or (target - before)
                used, converged = before + ran, ran < target - before
            elif name == "n_estimators":
                used, converged = len(estimator.estimators_), False
            else:
                done = _iterations(estimator) or target
                used, converged = done, done < target and not cut
        else:
            estimator = family.build(plan.task, {**self.configuration, name: target}, plan.seed, self.shape)
            cut = _fit(estimator, self.train, y, self.shape, deadline).cut_short
            iterations = _iterations(estimator)
            used, converged = target, iterations is not None and iterations < target and not cut
            if cut:
                used = iterations or 0
                if used <= before and self.estimator is not None:
                    # Refitted from scratch and stopped before where it was: the earlier model stays.
                    estimator, used = self.estimator, before
        self._cut_short = cut
        self._seconds += time.perf_counter() - started
        self.estimator = estimator
        self._resource_used = max(used, before)
        self._converged = converged
        self._steps += 1
        if "n_jobs" in estimator.get_params() and estimator.get_params()["n_jobs"] is not None:
            # Scoring runs in small batches, where starting worker threads costs more than it saves.
            n_jobs = estimator.get_params()["n_jobs"]
            estimator.set_params(n_jobs=None)
            score = self.runner.score(estimator, self.validation)
            estimator.set_params(n_jobs=n_jobs)
            return score
        return self.runner.score(estimator, self.validation)


def mini_batch_rows(n_rows: int) -> int:
    """Rows per SGD step for ``n_rows`` training rows: the trainer's default (256) on large data, smaller on
    small data so that an epoch still takes :data:`MIN_STEPS_PER_EPOCH` steps (a solver choice from the
    data's shape). After 10 epochs of 6 logistic configurations, the best validation accuracy on digits
    (1,151 rows) was 0.934 with 256-row steps and 0.951 with 64; on MNIST (3,200 rows) after 30 epochs,
    0.894 with 256 and 0.908 with 64, for 10% more time. Adult (20,839 rows) keeps 256."""
    from paqdb.ml.batched_linear import DEFAULT_BATCH_SIZE

    return int(min(DEFAULT_BATCH_SIZE, max(MIN_MINI_BATCH, n_rows // MIN_STEPS_PER_EPOCH)))


class BatchedLinearGroup:
    """Configurations of one linear family that the allocator runs as one batch; see the module
    documentation.

    The batch is the *logical* unit (its members start together and share one live slot); ``batched``
    picks the *physical* plan: one :class:`~paqdb.ml.batched_linear.BatchedLinearTrainer` for all members
    (one pass over the data per epoch) or one trainer per member (a pass each). The allocator's schedule,
    and so every member's trajectory and fate, is the same either way; only the passes differ.

    Parameters
    ----------
    family : ModelFamily
        A family in :data:`BATCHED_FAMILIES`.
    configurations : sequence of dict
        Full configurations of ``family``; ``max_iter`` caps each member's epochs (with
        :data:`MAX_BATCHED_EPOCHS`).
    runner : TrialRunner
        The search's data.
    first_arm_id : int
        Members get the ids ``first_arm_id``, ``first_arm_id + 1``, ...
    batched : bool, default=True
        Train the members in one trainer (True) or each in its own (False).
    """

    def __init__(
        self,
        family: ModelFamily,
        configurations: Sequence[Mapping[str, Any]],
        runner: TrialRunner,
        first_arm_id: int,
        *,
        batched: bool = True,
    ) -> None:
        self.family = family
        self.runner = runner
        self.batched = batched
        self.train, self.validation, self.shape = runner.training_matrices(family)
        parts = [list(configurations)] if batched else [[c] for c in configurations]
        self.rows_per_step = mini_batch_rows(self.train.shape[0])
        from paqdb.ml.batched_linear import BatchedLinearTrainer

        self._trainers = [
            BatchedLinearTrainer(
                family.name, [dict(c) for c in part], batch_size=self.rows_per_step, seed=runner.plan.seed
            )
            for part in parts
        ]
        # Member index -> (trainer, position in that trainer).
        self._places = (
            [(0, i) for i in range(len(configurations))]
            if batched
            else [(i, 0) for i in range(len(configurations))]
        )
        self.members = [
            BatchedArm(self, index, first_arm_id + index, configuration)
            for index, configuration in enumerate(configurations)
        ]
        self._started: set[int] = set()
        self._scores: dict[int, float] = {}
        self._released: set[int] = set()
        self.passes = 0
        """Passes over the training data (epochs) the group's trainers have made."""
        self.deadline: float | None = None
        """When training must stop (a perf_counter time): no epoch starts that would end after it."""
        self.cut_short = False
        """Whether the deadline stopped the last training call short of its target."""

    @property
    def size(self) -> int:
        return len(self.members)

    def epochs(self, index: int) -> int:
        trainer, position = self._places[index]
        return int(self._trainers[trainer].epochs_[position]) if trainer in self._started else 0

    def advance(self, index: int, target: int) -> float:
        """Train member ``index``'s trainer until it has ``target`` epochs (with a shared trainer, every
        live member trains along); its validation score."""
        number = self._places[index][0]
        trainer = self._trainers[number]
        with _threads(self.shape):
            if number not in self._started:
                trainer.start(self.train, self.runner.train_target)
                self._started.add(number)
            epochs = self.epochs(index)
            if epochs < target:
                # Released members leave the matrices first, so the epoch costs only what is still live.
                leaving = [
                    place
                    for member, (owner, place) in enumerate(self._places)
                    if owner == number and member in self._released and place in trainer.active
                ]
                if leaving:
                    trainer.drop(leaving)
                ran = trainer.advance(target - epochs, deadline=self.deadline)
                self.cut_short = ran < target - epochs
                scores = trainer.scores(
                    self.validation,
                    self.runner.validation_target,
                    self.runner.plan.metric,
                    positive_class=self.runner.data.positive_class,
                )
                for member, (owner, place) in enumerate(self._places):
                    if owner == number and place in scores:
                        self._scores[member] = scores[place]
                self.passes += ran
        return self._scores[index]

    def release(self, index: int) -> None:
        self._released.add(index)

    def active(self, index: int) -> bool:
        """Whether member ``index`` still trains (it was not released and dropped)."""
        number, position = self._places[index]
        return number not in self._started or position in self._trainers[number].active

    def estimator(self, index: int) -> BaseEstimator | None:
        number, position = self._places[index]
        return self._trainers[number].estimator(position) if number in self._started else None

    def refit(
        self, configuration: Mapping[str, Any], epochs: int, deadline: float | None = None
    ) -> BaseEstimator | None:
        """``configuration`` trained alone for ``epochs`` epochs on every row, by the same trainer; None when
        ``deadline`` stopped it sooner."""
        matrix, target, shape = self.runner.all_rows(self.family)
        from paqdb.ml.batched_linear import BatchedLinearTrainer

        # The same step size in rows as in the search, so the refit runs the optimiser that was judged.
        trainer = BatchedLinearTrainer(
            self.family.name, [dict(configuration)], batch_size=self.rows_per_step, seed=self.runner.plan.seed
        )
        with _threads(shape):
            trainer.start(matrix, target)
            wanted = max(1, epochs)
            if trainer.advance(wanted, deadline=deadline) < wanted:
                return None
        return trainer.estimator(0)


class BatchedArm(_SearchArm):
    """One member of a :class:`BatchedLinearGroup`; an :class:`~paqdb.search.bandit.Arm`."""

    def __init__(
        self, group: BatchedLinearGroup, index: int, arm_id: int, configuration: Mapping[str, Any]
    ) -> None:
        super().__init__(arm_id, group.family, configuration, group.runner)
        self.group = group
        self.index = index
        self._max_resource = max(
            1, min(int(configuration.get("max_iter") or MAX_BATCHED_EPOCHS), MAX_BATCHED_EPOCHS)
        )

    @property
    def batch_key(self) -> int:
        return id(self.group)

    @property
    def resource_used(self) -> int:
        return self.group.epochs(self.index)

    @property
    def finished(self) -> bool:
        return self.resource_used >= self._max_resource

    @property
    def estimator(self) -> BaseEstimator | None:
        return self.group.estimator(self.index)

    def advance(self, resource: int) -> float:
        return self.group.advance(self.index, max(1, min(resource, self._max_resource)))

    @property
    def cut_short(self) -> bool:
        """Whether the deadline stopped the batch's last training call short of its target."""
        return self.group.cut_short

    def set_deadline(self, deadline: float | None) -> None:
        """When the batch must stop training: it checks between epochs."""
        self.group.deadline = deadline

    def release(self) -> None:
        self.group.release(self.index)

    def trained_configuration(self) -> dict[str, Any]:
        """The configuration with ``max_iter`` set to the epochs trained (what the final refit uses)."""
        epochs = self.resource_used
        return {**self.configuration, "max_iter": epochs} if epochs else dict(self.configuration)

    def refit(self, deadline: float | None = None) -> BaseEstimator | None:
        """The configuration trained alone on every row for the epochs it trained in the search; None when
        ``deadline`` stopped it sooner."""
        return self.group.refit(self.configuration, self.resource_used, deadline)


def batch_width(runner: TrialRunner, family: ModelFamily, *, limit: int | None = None) -> int:
    """How many configurations of ``family`` to batch: as many as fit in a quarter of the free memory
    (:func:`~paqdb.ml.batched_linear.batch_size_for`), at most :data:`MAX_GROUP_SIZE` and ``limit``."""
    train, validation, _ = runner.training_matrices(family)
    classes = runner.data.classes
    n_classes = 0 if classes is None else len(classes)
    from paqdb.ml.batched_linear import DEFAULT_BATCH_SIZE, MAX_CONFIGURATIONS_PER_BATCH, batch_size_for

    width = batch_size_for(
        train.shape[1],
        n_classes,
        max(DEFAULT_BATCH_SIZE, validation.shape[0]),
        available_memory() // 4,
        maximum=min(MAX_CONFIGURATIONS_PER_BATCH, MAX_GROUP_SIZE),
    )
    return max(1, width if limit is None else min(width, limit))


def available_memory() -> int:
    """Bytes of memory free now (Linux ``sysconf``), or 1 GiB where the system does not say."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 30


__all__ = [
    "BATCHED_FAMILIES",
    "BatchedArm",
    "BatchedLinearGroup",
    "ConfigurationArm",
    "batch_width",
]
