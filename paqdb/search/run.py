"""How every search begins and ends, whatever it tries in between.

A search strategy subclasses :class:`SearchStrategy` and writes only its loop (:meth:`SearchStrategy.search`:
what to try next and when to stop). :meth:`SearchStrategy.run` does the rest the same way for all of them:

- the start (:class:`SearchRun`): the clock starts, the data is prepared once
  (:func:`~paqdb.search.trials.prepare_search`), the deadline is set from the budget's time limit (its
  duration, or the default cap of a budget of trials), and progress snapshots are built
  (:meth:`SearchRun.report`);
- the end (:meth:`SearchRun.finish`): the best configuration is refitted on every row when that fits in the
  time left (a tenth of the time limit past it at most, :data:`REFIT_TOLERANCE`), and the
  :class:`~paqdb.search.base.SearchResult` is built with the facts every search records and its notes
  (:func:`search_notes`: an interrupt, untried families, the default time cap, a model cut short, an
  overrun and its cause, a skipped refit).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from paqdb.errors import TrainingError
from paqdb.ml.families import ModelFamily
from paqdb.ml.training import TrainingData
from paqdb.search.base import (
    ProgressCallback,
    SearchOutcome,
    SearchProgress,
    SearchResult,
    Trial,
)
from paqdb.search.spec import Budget, SearchPlan, SearchSpec
from paqdb.search.trials import TrialRunner, prepare_search

if TYPE_CHECKING:  # scikit-learn loads when a search runs, not when paqdb is imported
    from sklearn.base import BaseEstimator

REFIT_TOLERANCE = 0.1
"""A final refit may end this share of the time limit after it (a refit is the model's last step, and the
validated model is kept when the refit would end later)."""

OVERRUN_TOLERANCE_SECONDS = 0.1
"""A search that ends more than this after its time limit reports the overrun in its notes."""


@dataclass
class SearchFinding:
    """What a strategy's loop found, for :meth:`SearchRun.finish` to refit and report.

    Attributes
    ----------
    trials : list of Trial
        Every trial, in order; ``best_trial`` is one of them.
    best_trial : Trial
        The trial whose model the search keeps.
    family : ModelFamily
        ``best_trial``'s family.
    configuration : dict
        The configuration the model was trained with (a trial cut short by the budget: what it trained,
        :func:`~paqdb.search.trials.trained_configuration`).
    estimator : BaseEstimator
        The model of ``best_trial``, trained on the training rows.
    validation_score : float
        ``best_trial``'s score, as the strategy measured it (the result checks the two agree).
    outcome : SearchOutcome
        How the loop ended (an interrupt overrides it).
    interrupted : bool
        Whether a Ctrl-C ended the loop (the refit is then skipped).
    overrun : str or None
        What made the loop run past the time limit, when something did.
    refit : callable, optional
        Fits the configuration on every row, stopping at the deadline it is given; returns None when the
        deadline cut it short. By default :meth:`~paqdb.search.trials.TrialRunner.refit`.
    details : dict
        The strategy's own facts for the result's ``details`` (the allocator's rounds and stops, say).
    """

    trials: list[Trial]
    best_trial: Trial
    family: ModelFamily
    configuration: dict[str, Any]
    estimator: BaseEstimator
    validation_score: float
    outcome: SearchOutcome
    interrupted: bool = False
    overrun: str | None = None
    refit: Callable[[float], BaseEstimator | None] | None = None
    details: dict[str, Any] = field(default_factory=dict)


class SearchRun:
    """One search from its start to its result: the prepared data, the clock and deadline, progress.

    Made by :meth:`SearchStrategy.run` before the strategy's loop; the attributes are what the loop reads.

    Attributes
    ----------
    training : TrainingData
    plan : SearchPlan
        The spec resolved for the data's task (families, spaces, metric, budget).
    runner : TrialRunner
        Fits and scores configurations on the prepared data.
    budget : Budget
    started, deadline : float
        Clock times of the start (before the data was prepared) and of the time limit.
    clock : callable
        :func:`time.perf_counter`.
    """

    def __init__(
        self,
        data: pa.Table,
        label: str,
        spec: SearchSpec,
        progress: ProgressCallback | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.clock = clock
        self.started = clock()
        self.spec = spec
        self.progress = progress
        self.training, self.plan, self.runner = prepare_search(data, label, spec)
        self.budget = self.plan.budget
        self.deadline = self.started + self.budget.time_limit

    def refit_seconds(self, trial: Trial) -> float:
        """What refitting ``trial``'s configuration on every row is expected to take: about the trial's own
        time scaled by the rows (training plus validation, over training)."""
        training = self.training
        return trial.seconds * training.n_rows / max(1, len(training.train_index))

    def report(
        self,
        trials_done: int,
        best_score: float | None,
        best_family: str | None,
        last_trial: Trial | None = None,
    ) -> None:
        """Hand the progress callback (if any) a :class:`~paqdb.search.base.SearchProgress` snapshot."""
        if self.progress is None:
            return
        now = self.clock()
        trials = self.budget.trials
        self.progress(
            SearchProgress(
                trials_done=trials_done,
                best_score=best_score,
                best_family=best_family,
                seconds_elapsed=now - self.started,
                seconds_left=max(0.0, self.deadline - now),
                trials_left=None if trials is None else max(0, trials - trials_done),
                metric=self.plan.metric.name,
                last_trial=last_trial,
            )
        )

    def finish(self, found: SearchFinding) -> SearchResult:
        """Refit what the loop ``found`` on every row, if that fits in the time left, and build the result.

        A refit that would overrun the time limit by more than a tenth (:data:`REFIT_TOLERANCE`) is
        skipped: the model trained on the training rows is validated and ready, and the budget is the
        user's to set. One that can stop itself and is stopped by that same limit is dropped the same way.
        A Ctrl-C during the refit keeps the validated model and marks the search interrupted.
        """
        clock, budget = self.clock, self.budget
        estimator, interrupted, refit = found.estimator, found.interrupted, False
        refit_deadline = self.deadline + REFIT_TOLERANCE * budget.time_limit
        refit_fits = clock() + self.refit_seconds(found.best_trial) <= refit_deadline
        if not interrupted and refit_fits:
            fit_all_rows = found.refit or (
                lambda deadline: self.runner.refit(found.family, found.configuration, deadline=deadline)
            )
            try:
                refitted = fit_all_rows(refit_deadline)
                if refitted is not None:
                    estimator, refit = refitted, True
            except KeyboardInterrupt:
                interrupted = True
        seconds = clock() - self.started
        overrun = found.overrun
        if overrun is None and refit and seconds > budget.time_limit:
            overrun = f"the final refit of the {found.family.name} model took longer than measured"
        # After the clock is read: the search's seconds and notes are the search's own.
        explained = (
            {}
            if interrupted
            else explanation_info(self.runner, found.family, found.estimator, budget.time_limit, clock)
        )
        return search_result(
            plan=self.plan,
            runner=self.runner,
            training=self.training,
            trials=found.trials,
            best_trial=found.best_trial,
            family=found.family,
            configuration=found.configuration,
            estimator=estimator,
            validation_score=found.validation_score,
            budget=budget,
            refit=refit,
            interrupted=interrupted,
            seconds=seconds,
            outcome=found.outcome,
            overrun=overrun,
            extra={**found.details, **explained},
        )


class SearchStrategy(ABC):
    """A search strategy: its loop over configurations, in the frame every search shares.

    Implements :class:`~paqdb.search.base.ModelSearch`: :meth:`run` prepares a :class:`SearchRun`, hands it
    to :meth:`search` and finishes what that returns (:meth:`SearchRun.finish`).
    """

    def run(
        self,
        data: pa.Table,
        label: str,
        spec: SearchSpec,
        progress: ProgressCallback | None = None,
    ) -> SearchResult:
        """Search ``spec``'s families for the best model of ``label``; see
        :class:`~paqdb.search.base.ModelSearch`."""
        run = SearchRun(data, label, spec, progress)
        return run.finish(self.search(run))

    @abstractmethod
    def search(self, run: SearchRun) -> SearchFinding:
        """Try configurations on ``run``'s data within its budget and return the best found.

        A KeyboardInterrupt is caught and reported as ``interrupted`` when a model was found (raised as
        :class:`~paqdb.errors.SearchInterrupted` otherwise); when every trial failed this raises
        :class:`~paqdb.errors.TrainingError`.
        """


def explanation_info(
    runner: TrialRunner,
    family: ModelFamily,
    estimator: BaseEstimator,
    time_limit: float,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """What the model stores for its explanations (:mod:`paqdb.ml.explain`): the permutation importance of
    each input column, and a linear model's reference (the training mean of each featurised slot).

    The importance is measured for ``estimator`` (the kept configuration trained on the training rows) on
    the validation rows it never saw, at most :data:`~paqdb.ml.explain.IMPORTANCE_ROWS` of them, fewer when
    scoring them would take more than 5% of the search's ``time_limit`` (0.25 s at least), on one thread
    (small predictions). A failure is recorded instead of failing the search, and a Ctrl-C skips it.
    """
    from threadpoolctl import threadpool_limits

    from paqdb.ml import explain

    data, plan = runner.data, runner.plan
    reducer = runner.reducer if family.encoding == "onehot" else None
    info: dict[str, Any] = {}
    if reducer is None:
        means = explain.reference_means(family.name, runner.all_rows(family)[0])
        if means is not None:
            info[explain.REFERENCE_KEY] = means
    problem = explain.ImportanceProblem(
        estimator=estimator,
        featurizer=runner.featurizer,
        encoding=family.encoding,
        metric=plan.metric,
        task=plan.task,
        n_classes=len(data.classes) if data.classes is not None else 0,
        positive_class=data.positive_class,
        reducer=reducer,
    )
    validation = data.features.take(pa.array(data.validation_index))
    try:
        with threadpool_limits(limits=1):
            importance = explain.permutation_importance(
                problem,
                validation,
                runner.validation_target,
                seed=plan.seed,
                max_seconds=max(explain.IMPORTANCE_MIN_SECONDS, explain.IMPORTANCE_SHARE * time_limit),
                clock=clock,
            )
    except KeyboardInterrupt:
        importance = {"error": "interrupted"}
    except Exception as error:
        importance = {"error": f"{type(error).__name__}: {error}"}
    if importance is not None:
        info[explain.IMPORTANCE_KEY] = importance
    return info


def search_result(
    *,
    plan: SearchPlan,
    runner: TrialRunner,
    training: TrainingData,
    trials: list[Trial],
    best_trial: Trial,
    family: ModelFamily,
    configuration: Mapping[str, Any],
    estimator: BaseEstimator,
    validation_score: float,
    budget: Budget,
    refit: bool,
    interrupted: bool,
    seconds: float,
    outcome: SearchOutcome = "complete",
    overrun: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> SearchResult:
    """The :class:`SearchResult` of a finished search (random, grid, tpe or tupaq) and its model.

    The facts every search records go into ``details`` and into the model's info; ``extra`` adds the
    strategy's own (the allocator's rounds and stops, say). ``outcome`` is how the search ended (an
    interrupt overrides it); the notes (:func:`search_notes`) say what else people should know, with
    ``overrun`` naming what ran past the time limit when something did.
    """
    if best_trial.family != family.name or best_trial.validation_score != validation_score:
        # The summary is read from the trial rows: a model that is not one of them would misreport it.
        raise TrainingError(
            f"internal error: the search's model ({family.name}, {validation_score}) is not its best trial "
            f"({best_trial.family}, {best_trial.validation_score})",
            hint="please report this",
        )
    if interrupted:
        outcome = "interrupted"
    notes = search_notes(
        plan=plan,
        trials=trials,
        best_trial=best_trial,
        budget=budget,
        refit=refit,
        outcome=outcome,
        seconds=seconds,
        overrun=overrun,
    )
    info = {
        "metric": plan.metric.name,
        "validation_score": validation_score,
        "best_trial_id": best_trial.trial_id,
        "trials": len(trials),
        "strategy": plan.strategy,
        "budget": str(budget),
        "time_limit_seconds": budget.time_limit,
        "seed": plan.seed,
        "refit": refit,
        "interrupted": interrupted,
        "outcome": outcome,
        "notes": notes,
        "train_rows": len(training.train_index) + (len(training.validation_index) if refit else 0),
        "validation_rows": len(training.validation_index),
        "dropped_rows": training.dropped_rows,
        "search_seconds": round(seconds, 3),
        **(extra or {}),
    }
    return SearchResult(
        model=runner.model(family, configuration, estimator, info),
        trials=trials,
        metric=plan.metric.name,
        validation_score=validation_score,
        best_trial_id=best_trial.trial_id,
        refit=refit,
        interrupted=interrupted,
        seconds=seconds,
        task=plan.task,
        details=info,
        outcome=outcome,
        notes=notes,
    )


def search_notes(
    *,
    plan: SearchPlan,
    trials: list[Trial],
    best_trial: Trial,
    budget: Budget,
    refit: bool,
    outcome: SearchOutcome,
    seconds: float,
    overrun: str | None = None,
) -> list[str]:
    """What a search's summary says besides its best model, one sentence each: an interrupt, families that
    got no training, the default time cap, a model the time budget cut short, a time limit overrun (with
    ``overrun``, what caused it) and a refit that was skipped."""
    notes: list[str] = []
    if outcome == "interrupted":
        notes.append(f"interrupted after {len(trials)} trials: the model is the best found so far")
    elif outcome == "time budget reached" and budget.capped:
        notes.append(
            f"stopped at the default time cap of {budget.time_limit:g} s (the budget gave only "
            f"{budget.trials} trials; give a duration too to allow more)"
        )
    tried = {trial.family for trial in trials}
    untried = [family.name for family in plan.families if family.name not in tried]
    if untried:
        why = {
            "interrupted": "the search was interrupted before their turn",
            "time budget reached": "the time budget ran out before their turn",
            "trial budget reached": "the trial budget ran out before their turn",
        }.get(outcome, "they had no configuration to try")
        notes.append(f"no trials for {', '.join(untried)}: {why}")
    if best_trial.status == "stopped" and best_trial.error:
        notes.append(f"the model's trial {best_trial.trial_id} was {best_trial.error}")
    over = seconds - budget.time_limit
    if over > OVERRUN_TOLERANCE_SECONDS:
        note = f"the search took {seconds:.1f} s, {over:.1f} s over its time limit of {budget.time_limit:g} s"
        notes.append(note + (f": {overrun}" if overrun else ""))
    if not refit and outcome != "interrupted":
        notes.append("not refitted on the validation rows: the refit would have overrun the time budget")
    return notes


__all__ = [
    "OVERRUN_TOLERANCE_SECONDS",
    "REFIT_TOLERANCE",
    "SearchFinding",
    "SearchRun",
    "SearchStrategy",
    "explanation_info",
    "search_notes",
    "search_result",
]
