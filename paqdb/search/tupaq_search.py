"""TuPAQ search: configurations train in rounds, and the bandit rule stops the ones far behind the best.

``USING SEARCH (strategy => 'tupaq')`` runs :class:`TuPAQSearch`. The data is checked, split and featurised
once (:func:`~paqdb.search.random_search.prepare_search`); configurations are proposed round-robin across the
chosen families (:class:`~paqdb.search.random_search.ConfigurationStream`, so every family is tried), each
becomes one :class:`~paqdb.search.bandit.Arm`, and :class:`~paqdb.search.bandit.TuPAQAllocator` trains the
live arms ``round_resource`` units per round and stops every arm whose validation error exceeds
``(1 + epsilon)`` times the best seen. A stopped arm's slot goes to a new configuration. The budget's trials
count configurations (arms); its seconds bound the whole allocation, with a tenth kept for the final refit.

An arm trains in its family's natural unit (:attr:`~paqdb.ml.families.ModelFamily.resource`), continuing
from where it stopped where scikit-learn allows it: ``LogisticRegression`` with ``warm_start`` and
``max_iter`` set to the round's iterations, ``RandomForest`` with ``warm_start`` and ``n_estimators`` the
total trees, ``HistGradientBoosting`` with ``warm_start`` and ``max_iter`` the total iterations. The other
iterative families (``LinearSVC``, whose liblinear solver has no warm start, and the MLP) are refitted from
scratch at the larger resource each round; a family without a resource (ridge) is one step.

An arm whose learner converges before its maximum (fewer iterations than allowed) counts as finished, but
only from its second step on, so that every arm faces the stopping rule at least once: a configuration that
converges at once to a poor model (a logistic regression with a tiny ``C``) is stopped, not finished.

Every arm becomes a :class:`~paqdb.search.base.Trial`: "finished", "failed", or "stopped" with
``error`` saying "stopped early at round r: ..." (or "cut short at round r" when the budget ended it).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from contextlib import nullcontext
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from paqdb.ml.families import ModelFamily, TrainingShape
from paqdb.search.bandit import (
    DEFAULT_EPSILON,
    DEFAULT_ROUND_RESOURCE,
    AllocationBudget,
    Arm,
    ArmRecord,
    TuPAQAllocator,
)
from paqdb.search.base import ProgressCallback, SearchProgress, SearchResult, Trial
from paqdb.search.random_search import ConfigurationStream, TrialRunner, prepare_search, search_result
from paqdb.search.spec import SearchPlan, SearchSpec

WARM_START_FAMILIES: frozenset[str] = frozenset({"logistic", "random_forest", "gradient_boosting"})
"""Families whose estimators continue training from where they stopped (``warm_start``)."""

INCREMENTAL_FAMILIES: frozenset[str] = frozenset({"logistic"})
"""Warm-start families whose resource counts the iterations of one ``fit`` call rather than the total."""

MIN_WIDTH = 4
"""Live arms at least; a search of more families keeps one live arm per family."""

REFIT_RESERVE = 0.1
"""Share of a time budget kept out of the allocation for the final refit."""


def _fit(estimator: BaseEstimator, matrix: np.ndarray, target: np.ndarray, shape: TrainingShape) -> None:
    """``estimator.fit`` as :func:`~paqdb.ml.training.fit_estimator` runs it (threads, warnings)."""
    with (
        threadpool_limits(limits=1) if shape.single_threaded else nullcontext(),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(matrix, target)


def _iterations(estimator: BaseEstimator) -> int | None:
    iterations = getattr(estimator, "n_iter_", None)
    return None if iterations is None else int(np.max(iterations))


class ConfigurationArm:
    """One configuration of one family trained round by round on a :class:`TrialRunner`'s data; an
    :class:`~paqdb.search.bandit.Arm`."""

    def __init__(
        self, arm_id: int, family: ModelFamily, configuration: Mapping[str, Any], runner: TrialRunner
    ) -> None:
        self._arm_id = arm_id
        self.model_family = family
        self.configuration = dict(configuration)
        self.runner = runner
        self.train, self.validation, self.shape = runner.training_matrices(family)
        self.estimator: BaseEstimator | None = None
        self._resource_used = 0
        self._steps = 0
        self._converged = False
        plan = runner.plan
        if family.resource is None:
            self._max_resource = 1
        else:
            built = family.build(plan.task, self.configuration, plan.seed, self.shape)
            self._max_resource = max(1, int(built.get_params()[family.resource]))

    @property
    def arm_id(self) -> int:
        return self._arm_id

    @property
    def family(self) -> str:
        return self.model_family.name

    @property
    def resource_used(self) -> int:
        return self._resource_used

    @property
    def max_resource(self) -> int:
        return self._max_resource

    @property
    def finished(self) -> bool:
        # Convergence finishes an arm only once it has faced the stopping rule (see the module docstring).
        return self._resource_used >= self._max_resource or (self._converged and self._steps >= 2)

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
            _fit(estimator, self.train, y, self.shape)
            if incremental:
                ran = _iterations(estimator) or (target - before)
                used, converged = before + ran, ran < target - before
            elif name == "n_estimators":
                used, converged = len(estimator.estimators_), False
            else:
                done = _iterations(estimator) or target
                used, converged = done, done < target
        else:
            estimator = family.build(plan.task, {**self.configuration, name: target}, plan.seed, self.shape)
            _fit(estimator, self.train, y, self.shape)
            iterations = _iterations(estimator)
            used, converged = target, iterations is not None and iterations < target
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


class TuPAQSearch:
    """TuPAQ's bandit search; implements :class:`~paqdb.search.base.ModelSearch`.

    Parameters
    ----------
    epsilon : float, default=bandit.DEFAULT_EPSILON
        Stop an arm whose validation error exceeds ``(1 + epsilon)`` x the best error seen.
    round_resource : int, default=bandit.DEFAULT_ROUND_RESOURCE
        Units (iterations, trees) each live arm trains per round.
    width : int, optional
        Live arms at once; by default the number of families, at least :data:`MIN_WIDTH`.
    """

    def __init__(
        self,
        epsilon: float = DEFAULT_EPSILON,
        round_resource: int = DEFAULT_ROUND_RESOURCE,
        width: int | None = None,
    ) -> None:
        self.epsilon = epsilon
        self.round_resource = round_resource
        self.width = width

    def run(
        self,
        data: pa.Table,
        label: str,
        spec: SearchSpec,
        progress: ProgressCallback | None = None,
    ) -> SearchResult:
        """Search ``spec``'s families for the best model of ``label``; see
        :class:`~paqdb.search.base.ModelSearch`."""
        clock = time.perf_counter
        started = clock()
        training, plan, runner = prepare_search(data, label, spec)
        budget = plan.budget
        deadline = None if budget.seconds is None else started + budget.seconds
        reserve = 0.0 if budget.seconds is None else REFIT_RESERVE * budget.seconds
        elapsed = clock() - started
        allocation_budget = AllocationBudget.from_search_budget(budget, reserve_seconds=reserve + elapsed)

        # Proposals are random draws (the family defaults first), whatever a grid would enumerate.
        streams = [
            ConfigurationStream(
                family, plan.spaces[family.name], "random", plan.seed, plan.overridden[family.name]
            )
            for family in plan.families
        ]
        arms: list[ConfigurationArm] = []
        turn = 0

        def propose() -> Arm | None:
            nonlocal turn
            while streams:
                stream = streams[turn % len(streams)]
                configuration = stream.next()
                if configuration is None:
                    streams.remove(stream)
                    continue
                turn += 1
                arm = ConfigurationArm(len(arms), stream.family, configuration, runner)
                arms.append(arm)
                return arm
            return None

        tracker = _ProgressTracker(plan, started, deadline, progress, clock)
        allocator = TuPAQAllocator(
            higher_is_better=plan.metric.greater_is_better,
            epsilon=self.epsilon,
            round_resource=self.round_resource,
            width=self.width or max(MIN_WIDTH, len(plan.families)),
            propose=propose,
            budget=allocation_budget,
            clock=clock,
            on_advance=tracker.on_advance,
        )
        allocation = allocator.run()
        tracker.finish(len(allocation.records))
        best_arm = allocation.require_best()
        assert isinstance(best_arm, ConfigurationArm)
        trials = [_trial(record, arms[int(record.arm_id)], plan) for record in allocation.records]
        best_record = allocation.record(best_arm.arm_id)
        best_trial = trials[int(best_arm.arm_id)]
        assert allocation.best_score is not None
        validation_score = float(allocation.best_score)

        interrupted = allocation.interrupted
        estimator = best_arm.estimator
        assert estimator is not None
        configuration = best_arm.trained_configuration()
        refit_scale = training.n_rows / max(1, len(training.train_index))
        refit_seconds = best_record.seconds * refit_scale
        refit_fits = deadline is None or clock() + refit_seconds <= deadline + REFIT_RESERVE * (
            budget.seconds or 0
        )
        refit = False
        if not interrupted and refit_fits:
            try:
                estimator = runner.refit(best_arm.model_family, configuration)
                refit = True
            except KeyboardInterrupt:
                interrupted = True
        seconds = clock() - started
        stopped = sum(1 for record in allocation.records if record.fate == "stopped")
        return search_result(
            plan=plan,
            runner=runner,
            training=training,
            trials=trials,
            best_trial=best_trial,
            family=best_arm.model_family,
            configuration=configuration,
            estimator=estimator,
            validation_score=validation_score,
            budget=budget,
            refit=refit,
            interrupted=interrupted,
            seconds=seconds,
            extra={
                "epsilon": self.epsilon,
                "round_resource": self.round_resource,
                "rounds": allocation.rounds,
                "stopped_early": stopped,
                "stop_reason": allocation.stop_reason,
                "resource_spent": allocation.resource_spent,
                "resource_if_trained_to_max": allocation.resource_if_trained_to_max,
            },
        )


def _trial(record: ArmRecord, arm: ConfigurationArm, plan: SearchPlan) -> Trial:
    trial = record.to_trial(
        int(record.arm_id), arm.configuration, plan.metric.name, arm.model_family.resource or "resource"
    )
    trial.resources["train_rows"] = len(arm.runner.train_target)
    trial.resources["validation_rows"] = len(arm.runner.validation_target)
    if trial.status == "stopped":
        # "stopped early at round r: <rule>" or "cut short at round r (...): <why>" (DESCRIBE MODEL).
        trial.error = record.describe()
    return trial


class _ProgressTracker:
    """Reports a :class:`SearchProgress` after each allocation round (and once at the end)."""

    def __init__(
        self,
        plan: SearchPlan,
        started: float,
        deadline: float | None,
        callback: ProgressCallback | None,
        clock: Any,
    ) -> None:
        self.plan = plan
        self.started = started
        self.deadline = deadline
        self.callback = callback
        self.clock = clock
        self.arms: set[Any] = set()
        self.round = 0
        self.best_score: float | None = None
        self.best_family: str | None = None

    def on_advance(self, record: ArmRecord) -> None:
        step = record.rounds[-1]
        if step.search_round != self.round:
            if self.round > 0:
                self._report(len(self.arms))
            self.round = step.search_round
        self.arms.add(record.arm_id)
        if math.isfinite(step.score) and self.plan.metric.is_better(step.score, self.best_score):
            self.best_score, self.best_family = step.score, record.family

    def finish(self, arms: int) -> None:
        self._report(arms)

    def _report(self, arms: int) -> None:
        if self.callback is None:
            return
        now = self.clock()
        trials = self.plan.budget.trials
        self.callback(
            SearchProgress(
                trials_done=arms,
                best_score=self.best_score,
                best_family=self.best_family,
                seconds_elapsed=now - self.started,
                seconds_left=None if self.deadline is None else max(0.0, self.deadline - now),
                trials_left=None if trials is None else max(0, trials - arms),
                metric=self.plan.metric.name,
            )
        )


__all__ = ["ConfigurationArm", "TuPAQSearch"]
