"""Random and grid search over model families, within a time or trial budget.

The data is checked, split and featurised once per encoding (not once per trial); configurations of the
chosen families are then tried in turn, one family after another (round-robin), so that even a short budget
tries every family. The best configuration is refitted on training plus validation rows at the end, unless
that refit would overrun the time budget (the result records which).

:class:`TrialRunner` (featurised data, fitting and scoring one configuration, the final refit) and
:class:`ConfigurationStream` (what to try next within one family) are the parts a smarter scheduler, such as
TuPAQ's bandit allocation, reuses; :class:`RandomSearch` is the simple loop over them. With
``strategy => 'tpe'`` the loop takes its configurations from :class:`TPEStream` instead, which asks optuna's
TPE sampler for each family's next configuration given the scores reported so far.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline

from paqdb.errors import SearchInterrupted, TrainingError
from paqdb.ml.families import ModelFamily, SpaceValue, Task, TrainingShape
from paqdb.ml.features import Encoding, Featurizer
from paqdb.ml.model import TrainedModel, class_probabilities
from paqdb.ml.training import FitOutcome, TrainingData, fit_estimator_within, prepare_training_data
from paqdb.options import Range
from paqdb.search.base import (
    ProgressCallback,
    SearchOutcome,
    SearchProgress,
    SearchResult,
    Trial,
    TrialStatus,
)
from paqdb.search.space import (
    configuration_key,
    first_value,
    grid_configurations,
    sample_configuration,
    space_size,
)
from paqdb.search.spec import Budget, SearchPlan, SearchSpec, Strategy

_MAX_REDRAWS = 50
"""Draws a random stream makes to find a configuration not tried yet before it calls the space exhausted."""


@dataclass
class _EncodedSplit:
    """One encoding's matrix of every row, and its training and validation parts (sliced once)."""

    all_rows: np.ndarray
    train: np.ndarray
    validation: np.ndarray
    categorical: np.ndarray


class TrialRunner:
    """The featurised data of one search, and the fitting and scoring of configurations on it.

    The featurizer is fitted on every training row (training and validation parts): it learns medians,
    scales and vocabularies but never the label, so the validation score stays honest and the final
    refit can reuse the same matrices.

    ``deadline`` (a :func:`time.perf_counter` time, set by the search) is when trials must stop: a fit
    that can stop itself (forest trees, boosting iterations, MLP and batched linear epochs) stops there
    with a usable model (:func:`~paqdb.ml.training.fit_within`).
    """

    def __init__(self, data: TrainingData, plan: SearchPlan) -> None:
        self.data = data
        self.plan = plan
        self.deadline: float | None = None
        self.featurizer = Featurizer(text_columns=plan.text).fit(data.features)
        self._splits: dict[Encoding, _EncodedSplit] = {}
        self.reducer: PCA | None = None
        for encoding in dict.fromkeys(family.encoding for family in plan.families):
            matrix = self.featurizer.transform(data.features, encoding)
            if encoding == "onehot" and plan.pca is not None:
                # A fixed pipeline step, materialised once for every configuration (KeystoneML): fitted on
                # every training row like the featurizer, unsupervised, so no label leaks into validation.
                components = min(plan.pca, matrix.shape[1], matrix.shape[0])
                self.reducer = PCA(n_components=components, random_state=plan.seed)
                matrix = self.reducer.fit_transform(matrix)
            self._splits[encoding] = _EncodedSplit(
                all_rows=matrix,
                train=matrix[data.train_index],
                validation=matrix[data.validation_index],
                # Principal components are numbers, whatever the columns they mix.
                categorical=self.featurizer.categorical_mask(encoding)
                if matrix.shape[1] == self.featurizer.n_output_features(encoding)
                else np.zeros(matrix.shape[1], dtype=bool),
            )
        self.train_target = data.target[data.train_index]
        self.validation_target = data.target[data.validation_index]

    def evaluate(
        self, trial_id: int, family: ModelFamily, configuration: Mapping[str, Any]
    ) -> tuple[Trial, BaseEstimator | None]:
        """Fit ``configuration`` on the training rows and score it on the validation rows.

        An exception from the estimator is recorded as a failed trial rather than raised; a
        KeyboardInterrupt propagates. A fit the :attr:`deadline` cut short is a "stopped" trial with its
        score (its model is usable), its resource set to the units it trained and ``error`` saying so.
        """
        split = self._splits[family.encoding]
        metric = self.plan.metric
        resources: dict[str, Any] = {
            "train_rows": len(self.train_target),
            "validation_rows": len(self.validation_target),
        }
        if family.resource is not None:
            resources[family.resource] = configuration.get(family.resource)
        started = time.perf_counter()
        try:
            fitted = fit_estimator_within(
                family,
                self.plan.task,
                configuration,
                self.plan.seed,
                split.train,
                self.train_target,
                self.data.shape(self.data.train_index, split.categorical),
                deadline=self.deadline,
            )
            estimator = fitted.estimator
            score = self._score(estimator, split.validation)
        except Exception as error:
            return Trial(
                trial_id=trial_id,
                family=family.name,
                hyperparameters=dict(configuration),
                resources=resources,
                metric=metric.name,
                validation_score=None,
                status="failed",
                seconds=time.perf_counter() - started,
                error=f"{type(error).__name__}: {error}",
            ), None
        iterations = getattr(estimator, "n_iter_", None)
        if iterations is not None:
            resources["iterations"] = int(np.max(iterations))
        finite = bool(np.isfinite(score))
        message = None if finite else f"metric '{metric.name}' is undefined on the validation rows"
        status: TrialStatus = "finished" if finite else "failed"
        if finite and fitted.cut_short:
            status, message = "stopped", cut_short_reason(fitted)
            resources[str(fitted.resource)] = fitted.units
            resources["cut_short"] = True
        return Trial(
            trial_id=trial_id,
            family=family.name,
            hyperparameters=dict(configuration),
            resources=resources,
            metric=metric.name,
            validation_score=score if finite else None,
            status=status,
            seconds=time.perf_counter() - started,
            error=message,
        ), estimator if finite else None

    def training_matrices(self, family: ModelFamily) -> tuple[np.ndarray, np.ndarray, TrainingShape]:
        """``family``'s training matrix, validation matrix and training shape (for schedulers that fit
        estimators themselves, e.g. with warm starts)."""
        split = self._splits[family.encoding]
        return split.train, split.validation, self.data.shape(self.data.train_index, split.categorical)

    def all_rows(self, family: ModelFamily) -> tuple[np.ndarray, np.ndarray, TrainingShape]:
        """``family``'s matrix of every row (training and validation), their target and shape (for a
        final refit by a trainer of the search's own)."""
        split = self._splits[family.encoding]
        return split.all_rows, self.data.target, self.data.shape(None, split.categorical)

    def score(self, estimator: BaseEstimator, matrix: np.ndarray) -> float:
        """The plan's metric of ``estimator`` on ``matrix`` (validation rows), against their target."""
        return self._score(estimator, matrix)

    def _score(self, estimator: BaseEstimator, matrix: np.ndarray) -> float:
        metric, target = self.plan.metric, self.validation_target
        if self.plan.task == "classification":
            assert self.data.classes is not None
            probabilities = class_probabilities(estimator, matrix, len(self.data.classes))
            predicted = probabilities.argmax(axis=1)
            return metric.score(target, predicted, probabilities, self.data.positive_class)
        return metric.score(target, np.asarray(estimator.predict(matrix), np.float64))

    def refit(
        self, family: ModelFamily, configuration: Mapping[str, Any], deadline: float | None = None
    ) -> BaseEstimator | None:
        """Fit ``configuration`` on every row (training and validation); None when ``deadline`` cut the fit
        short (a refit is all or nothing: the model keeps the validated estimator instead)."""
        split = self._splits[family.encoding]
        fitted = fit_estimator_within(
            family,
            self.plan.task,
            configuration,
            self.plan.seed,
            split.all_rows,
            self.data.target,
            self.data.shape(None, split.categorical),
            deadline=deadline,
        )
        return None if fitted.cut_short else fitted.estimator

    def model(
        self,
        family: ModelFamily,
        configuration: Mapping[str, Any],
        estimator: BaseEstimator,
        info: Mapping[str, Any],
    ) -> TrainedModel:
        """A :class:`TrainedModel` around ``estimator`` and this search's featurizer (and its PCA step, for a
        family reading the one-hot matrix)."""
        if self.reducer is not None and family.encoding == "onehot":
            estimator = Pipeline([("pca", self.reducer), ("model", estimator)])
        return TrainedModel(
            task=self.plan.task,
            label=self.data.label,
            label_type=self.data.label_type,
            feature_schema=self.data.features.schema,
            family=family.name,
            hyperparameters=configuration,
            classes=self.data.classes,
            featurizer=self.featurizer,
            estimator=estimator,
            info=info,
        )


def prepare_search(
    data: pa.Table, label: str, spec: SearchSpec
) -> tuple[TrainingData, SearchPlan, TrialRunner]:
    """Check, split and featurise ``data`` once for a search of ``spec``: the training data, the plan for
    its task and the :class:`TrialRunner` over it. A KeyboardInterrupt becomes
    :class:`~paqdb.errors.SearchInterrupted` (no model was trained yet)."""
    try:
        training = prepare_training_data(
            data, label, task=spec.task, validation_fraction=spec.validation_fraction, seed=spec.seed
        )
        plan = spec.resolve(training.task)
        runner = TrialRunner(training, plan)
    except KeyboardInterrupt:
        raise SearchInterrupted(
            "the model search was interrupted while preparing the data, before any model was trained",
            hint="run it again",
        ) from None
    return training, plan, runner


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
            return {
                name: first_value(candidates, self.family.defaults.get(name))
                if name in self.overridden or name not in self.family.defaults
                else self.family.defaults[name]
                for name, candidates in self.space.items()
            }
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
        first = {
            name: first_value(candidates, family.defaults.get(name))
            if name in overridden or name not in family.defaults
            else family.defaults[name]
            for name, candidates in space.items()
        }
        encoded = _encode(space, first)
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


def configuration_stream(family: ModelFamily, plan: SearchPlan) -> ConfigurationStream | TPEStream:
    """The proposal stream of ``family`` for ``plan``'s strategy (TPE, or random/grid)."""
    space, overridden = plan.spaces[family.name], plan.overridden[family.name]
    if plan.strategy == "tpe":
        return TPEStream(
            family, space, plan.seed, overridden, maximize=plan.metric.greater_is_better, task=plan.task
        )
    return ConfigurationStream(family, space, plan.strategy, plan.seed, overridden, task=plan.task)


class RandomSearch:
    """Random, grid or TPE search over model families; implements :class:`~paqdb.search.base.ModelSearch`.

    Examples
    --------
    >>> result = RandomSearch().run(table, "income", SearchSpec(budget=parse_budget("30 seconds")))
    ... # doctest: +SKIP
    >>> result.model.predict_arrow(...)  # doctest: +SKIP
    """

    def run(
        self,
        data: pa.Table,
        label: str,
        spec: SearchSpec,
        progress: ProgressCallback | None = None,
    ) -> SearchResult:
        """Search ``spec``'s families for the best model of ``label``; see :class:`ModelSearch`.

        The time limit (the budget's duration, or the default cap of a budget of trials) holds inside a
        trial too: a fit that can stop itself stops at the deadline and its model competes with the score
        it reached (:meth:`TrialRunner.evaluate`)."""
        clock = time.perf_counter
        started = clock()
        training, plan, runner = prepare_search(data, label, spec)
        budget = plan.budget
        deadline = started + budget.time_limit
        streams = {family.name: configuration_stream(family, plan) for family in plan.families}
        # Refitting on every row costs about one trial scaled by the row count; time is kept for it.
        refit_scale = training.n_rows / max(1, len(training.train_index))

        trials: list[Trial] = []
        best: tuple[Trial, BaseEstimator] | None = None
        slowest_trial_seconds: dict[str, float] = {}
        active = list(plan.families)
        interrupted = False
        outcome: SearchOutcome = "complete"
        overrun: str | None = None

        def refit_reserve() -> float:
            return 0.0 if best is None else best[0].seconds * refit_scale

        try:
            while active:
                tried_any = False
                for family in list(active):
                    if budget.trials is not None and len(trials) >= budget.trials:
                        outcome = "trial budget reached"
                        active.clear()
                        break
                    remaining = deadline - clock()
                    # Time is kept for the refit only while it can still fit; once it cannot, the refit
                    # will be skipped and the time is better spent on trials.
                    if refit_reserve() < remaining:
                        remaining -= refit_reserve()
                    if remaining <= 0:
                        outcome = "time budget reached"
                        active.clear()
                        break
                    # A trial measured to take longer than the time left is not started (a fit that cannot
                    # stop itself would overrun; one that can would end as a worse model).
                    if slowest_trial_seconds.get(family.name, 0.0) > remaining:
                        continue
                    configuration = streams[family.name].next()
                    if configuration is None:
                        active.remove(family)
                        continue
                    trial_started = clock()
                    runner.deadline = trial_started + remaining
                    try:
                        trial, estimator = runner.evaluate(len(trials), family, configuration)
                    except KeyboardInterrupt:
                        trials.append(
                            _stopped_trial(len(trials), family, configuration, plan, clock() - trial_started)
                        )
                        raise
                    if overrun is None and clock() > deadline:
                        overrun = f"a {family.name} trial could not stop sooner ({trial.seconds:.1f} s)"
                    trials.append(trial)
                    streams[family.name].report(configuration, trial.validation_score)
                    tried_any = True
                    slowest_trial_seconds[family.name] = max(
                        trial.seconds, slowest_trial_seconds.get(family.name, 0.0)
                    )
                    if (
                        estimator is not None
                        and trial.validation_score is not None
                        and plan.metric.is_better(trial.validation_score, _score(best))
                    ):
                        best = (trial, estimator)
                    if progress is not None:
                        progress(_snapshot(trials, best, plan, started, deadline, clock()))
                if not tried_any and active:
                    # Every family left is measured to take longer than the time left.
                    outcome = "time budget reached"
                    break
        except KeyboardInterrupt:
            interrupted = True

        if best is None:
            if interrupted:
                raise SearchInterrupted(
                    f"the model search was interrupted after {len(trials)} trials, before any model finished",
                    hint="run it again and let at least one trial finish",
                )
            first_error = next((t.error for t in trials if t.error), "no trial could run")
            raise TrainingError(
                f"every one of the {len(trials)} trials failed; the first failed with: {first_error}",
                hint="check the hyperparameter values and the training data",
            )
        best_trial, estimator = best
        best_family = next(f for f in plan.families if f.name == best_trial.family)
        configuration = trained_configuration(best_trial, best_family)
        refit = False
        # A refit that would overrun the time budget by more than a tenth is skipped: the model trained
        # on the training rows is validated and ready, and the budget is the user's to set. One that can
        # stop itself and is stopped by that same limit is dropped the same way.
        refit_deadline = deadline + REFIT_TOLERANCE * budget.time_limit
        refit_fits = clock() + refit_reserve() <= refit_deadline
        if not interrupted and refit_fits:
            try:
                refitted = runner.refit(best_family, configuration, deadline=refit_deadline)
                if refitted is not None:
                    estimator, refit = refitted, True
            except KeyboardInterrupt:
                interrupted = True
        seconds = clock() - started
        assert best_trial.validation_score is not None
        return search_result(
            plan=plan,
            runner=runner,
            training=training,
            trials=trials,
            best_trial=best_trial,
            family=best_family,
            configuration=configuration,
            estimator=estimator,
            validation_score=best_trial.validation_score,
            budget=budget,
            refit=refit,
            interrupted=interrupted,
            seconds=seconds,
            outcome=outcome,
            overrun=overrun,
        )


REFIT_TOLERANCE = 0.1
"""A final refit may end this share of the time limit after it (a refit is the model's last step, and the
validated model is kept when the refit would end later)."""

OVERRUN_TOLERANCE_SECONDS = 0.1
"""A search that ends more than this after its time limit reports the overrun in its notes."""


def cut_short_reason(fitted: FitOutcome) -> str:
    """The ``error`` of a trial the time budget cut short: what it trained of what it was asked."""
    return (
        f"cut short by the time budget after {fitted.units} of {fitted.requested} {fitted.resource} "
        "(the model it left is scored and usable)"
    )


def trained_configuration(trial: Trial, family: ModelFamily) -> dict[str, Any]:
    """The configuration a trial's model was trained with: a trial cut short by the time budget has its
    resource (trees, iterations) set to what it trained, so a refit reproduces the validated model."""
    configuration = dict(trial.hyperparameters)
    if trial.resources.get("cut_short") and family.resource is not None:
        configuration[family.resource] = trial.resources[family.resource]
    return configuration


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


def _score(best: tuple[Trial, BaseEstimator] | None) -> float | None:
    return None if best is None else best[0].validation_score


def _stopped_trial(
    trial_id: int, family: ModelFamily, configuration: Mapping[str, Any], plan: SearchPlan, seconds: float
) -> Trial:
    return Trial(
        trial_id=trial_id,
        family=family.name,
        hyperparameters=dict(configuration),
        resources={},
        metric=plan.metric.name,
        validation_score=None,
        status="stopped",
        seconds=seconds,
        error="interrupted",
    )


def _snapshot(
    trials: list[Trial],
    best: tuple[Trial, BaseEstimator] | None,
    plan: SearchPlan,
    started: float,
    deadline: float | None,
    now: float,
) -> SearchProgress:
    return SearchProgress(
        trials_done=len(trials),
        best_score=_score(best),
        best_family=None if best is None else best[0].family,
        seconds_elapsed=now - started,
        seconds_left=None if deadline is None else max(0.0, deadline - now),
        trials_left=None if plan.budget.trials is None else max(0, plan.budget.trials - len(trials)),
        metric=plan.metric.name,
        last_trial=trials[-1] if trials else None,
    )


__all__ = [
    "REFIT_TOLERANCE",
    "ConfigurationStream",
    "RandomSearch",
    "TPEStream",
    "TrialRunner",
    "configuration_stream",
    "prepare_search",
    "search_notes",
    "search_result",
    "trained_configuration",
]
