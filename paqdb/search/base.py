"""The model search interface: what a search is given, what it reports while it runs, and what it returns.

Every search strategy (the random, grid and TPE search of :mod:`paqdb.search.random_search`, TuPAQ's bandit
and batching planner of :mod:`paqdb.search.tupaq_search`) implements :class:`ModelSearch`, so the PREDICT and
CREATE MODEL operators depend on this module only; the strategies share their start and end through
:class:`~paqdb.search.run.SearchStrategy`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

import pyarrow as pa

from paqdb.ml.families import Task
from paqdb.ml.model import TrainedModel
from paqdb.search.spec import SearchSpec

TrialStatus: TypeAlias = Literal["finished", "stopped", "failed"]
SearchOutcome: TypeAlias = Literal["complete", "interrupted", "time budget reached", "trial budget reached"]
"""How a search ended (stored as ``outcome`` in ``paqdb.model_versions``): ``complete``, every configuration
the strategy would try was tried; ``trial budget reached``; ``time budget reached`` (the budget's duration,
or the default time cap of a budget of trials alone); ``interrupted``, by Ctrl-C, keeping the best model
found so far."""


@dataclass
class Trial:
    """One configuration trained and scored on the validation rows.

    Attributes
    ----------
    trial_id : int
        Position in the search, from 0.
    family : str
    hyperparameters : dict
        The full configuration (family defaults included), JSON-able.
    resources : dict
        What the trial consumed, e.g. ``{"train_rows": 26048, "max_iter": 500, "iterations": 183}``.
    metric : str
    validation_score : float or None
        The validation score of the model the trial left: a finished trial's, or for a stopped one the score
        after its last training step (a bandit's early stop, or a time budget or interrupt cutting it
        short); None when it failed or never produced a score. A search's model is always one of its
        trials with a score, and has that score.
    status : {"finished", "stopped", "failed"}
        "stopped" means cut short (an interrupt, the time budget, or a scheduler's early stop); ``error``
        says which.
    seconds : float
        Wall time of fitting and scoring.
    error : str or None
        Why a failed trial failed.
    """

    trial_id: int
    family: str
    hyperparameters: dict[str, Any]
    resources: dict[str, Any]
    metric: str
    validation_score: float | None
    status: TrialStatus
    seconds: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The trial as JSON-able plain values (for the catalog's trials table)."""
        return asdict(self)


@dataclass(frozen=True)
class SearchProgress:
    """A snapshot a search hands its progress callback after each trial.

    ``seconds_left`` counts down to the time limit (the budget's duration, or the default time cap of a
    budget of trials alone); ``trials_left`` is None without a trial budget.
    """

    trials_done: int
    best_score: float | None
    best_family: str | None
    seconds_elapsed: float
    seconds_left: float | None
    trials_left: int | None = None
    metric: str | None = None
    last_trial: Trial | None = None


@dataclass
class SearchResult:
    """What a search returns.

    Attributes
    ----------
    model : TrainedModel
        The best configuration; refitted on training plus validation rows when ``refit`` is True.
    trials : list of Trial
    metric : str
    validation_score : float
        The best trial's validation score (measured before the refit).
    best_trial_id : int
    refit : bool
        Whether the model was refitted on every row after the search; False after an interrupt, or when
        the refit would have overrun the time budget (the model is then the best trial's own).
    interrupted : bool
        Whether the search ended on an interrupt (Ctrl-C) rather than its budget.
    seconds : float
        Wall time of the whole search, refit included.
    task : {"classification", "regression"}
    outcome : {"complete", "interrupted", "time budget reached", "trial budget reached"}
        How the search ended (:data:`SearchOutcome`).
    notes : list of str
        What people should know about the search, in words: families that got no training, a time budget
        overrun and what caused it, a model cut short by the budget, the default time cap.
    """

    model: TrainedModel
    trials: list[Trial]
    metric: str
    validation_score: float
    best_trial_id: int
    refit: bool
    interrupted: bool = False
    seconds: float = 0.0
    task: Task = "classification"
    details: dict[str, Any] = field(default_factory=dict)
    outcome: SearchOutcome = "complete"
    notes: list[str] = field(default_factory=list)

    @property
    def best_trial(self) -> Trial:
        """The trial whose configuration the model uses."""
        return self.trials[self.best_trial_id]


ProgressCallback: TypeAlias = Callable[[SearchProgress], None]


class ModelSearch(Protocol):
    """A strategy that searches model families and hyperparameters for the best model of a label."""

    def run(
        self,
        data: pa.Table,
        label: str,
        spec: SearchSpec,
        progress: ProgressCallback | None = None,
    ) -> SearchResult:
        """Search for the best model predicting column ``label`` of ``data`` from its other columns.

        A KeyboardInterrupt during the search returns the best model found so far (``interrupted`` set);
        :class:`~paqdb.errors.SearchInterrupted` is raised only when there is none yet.
        :class:`~paqdb.errors.TrainingError` is raised when the data cannot train a model or every trial
        fails; :class:`~paqdb.errors.InvalidParameterError` when the spec does not fit the task.
        """
        ...


__all__ = [
    "ModelSearch",
    "ProgressCallback",
    "SearchOutcome",
    "SearchProgress",
    "SearchResult",
    "Trial",
    "TrialStatus",
]
