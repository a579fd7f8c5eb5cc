"""Trials: a search's data prepared once, and configurations fitted and scored on it.

Every search strategy starts here. :func:`prepare_search` checks, splits and featurises the data once per
encoding (not once per trial) and returns a :class:`TrialRunner`, which fits one configuration on the
training rows and scores it on the validation rows (:meth:`TrialRunner.evaluate`), hands its matrices to
schedulers that train estimators themselves (the bandit's arms, :mod:`paqdb.search.arms`), refits the
chosen configuration on every row and wraps it as a :class:`~paqdb.ml.model.TrainedModel`.

How a search begins and ends around its trials (the clock, the refit, the result) is
:mod:`paqdb.search.run`; what to try next is the strategy's own (:mod:`paqdb.search.random_search`,
:mod:`paqdb.search.tupaq_search`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from paqdb.errors import SearchInterrupted
from paqdb.ml.families import ModelFamily, TrainingShape
from paqdb.ml.features import Encoding, Featurizer
from paqdb.ml.model import TrainedModel, class_probabilities
from paqdb.ml.training import FitOutcome, TrainingData, fit_estimator_within, prepare_training_data
from paqdb.search.base import Trial, TrialStatus
from paqdb.search.spec import SearchPlan, SearchSpec

if TYPE_CHECKING:  # scikit-learn loads when a search runs, not when paqdb is imported
    from sklearn.base import BaseEstimator
    from sklearn.decomposition import PCA


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
                from sklearn.decomposition import PCA

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

        def trial(status: TrialStatus, score: float | None, error: str | None) -> Trial:
            return Trial(
                trial_id=trial_id,
                family=family.name,
                hyperparameters=dict(configuration),
                resources=resources,
                metric=metric.name,
                validation_score=score,
                status=status,
                seconds=time.perf_counter() - started,
                error=error,
            )

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
            return trial("failed", None, f"{type(error).__name__}: {error}"), None
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
        return trial(status, score if finite else None, message), estimator if finite else None

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
            from sklearn.pipeline import Pipeline

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


def interrupted_trial(
    trial_id: int, family: ModelFamily, configuration: Mapping[str, Any], plan: SearchPlan, seconds: float
) -> Trial:
    """The trial row of a configuration whose fit a Ctrl-C stopped: no score, status "stopped"."""
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


__all__ = [
    "TrialRunner",
    "cut_short_reason",
    "interrupted_trial",
    "prepare_search",
    "trained_configuration",
]
