"""Bandit resource allocation: which partially trained configurations keep getting training resources.

A model search proposes configurations; an *allocator* decides, round by round, which of them keep
training. Three allocators share one driver interface (:meth:`admit` arms, optionally give a ``propose``
callback that makes new ones, then :meth:`run`):

:class:`TuPAQAllocator`
    TuPAQ's rule (Sparks et al., SoCC 2015, arXiv 1502.00068): every live arm trains ``round_resource``
    more units per round; after each round every arm whose validation error is worse than
    ``(1 + epsilon)`` times the best error seen so far (any arm, any family) is stopped. Stopping frees a
    slot, and the slot is refilled with a new configuration, so the freed budget buys exploration.
:class:`SuccessiveHalving`
    Rungs of geometrically growing resource; at each rung the best ``ceil(n / eta)`` arms go on.
:class:`Hyperband`
    Li et al. (JMLR 2018): successive-halving brackets that trade many cheap arms against few expensive
    ones, with the paper's ``(n_i, r_i)`` schedule.

What an arm is
--------------
An :class:`Arm` is one configuration being trained: ``advance(resource)`` trains it up to ``resource``
units *in total* and returns its validation score. A unit is the learner's natural resource: iterations
(epochs) for iterative learners (``partial_fit`` or ``warm_start``), trees for forests and boosting
(``warm_start`` with a larger ``n_estimators``), training rows for learners that can only refit. Families
with different units can share one search: the rules compare validation errors, never units.

Score direction
---------------
Scores come in the metric's own direction (``higher_is_better``: pass ``Metric.greater_is_better`` from
:mod:`paqdb.ml.metrics`). Internally every score becomes an *error*, lower is better, so that the
multiplicative ``(1 + epsilon)`` rule means "this much worse than the best": for a higher-is-better score
(accuracy, F1, AUC, R²) ``error = 1 - score``; for a loss (log loss, RMSE, MAE) ``error = score``. The rule
assumes errors are non-negative, as they are for every paqdb metric; the threshold is computed as
``best + epsilon * |best|`` so that a negative error (R² above 1 cannot happen, a custom loss might) still
gives a threshold looser than the best rather than a tighter one.

What is recorded
----------------
Every arm gets an :class:`ArmRecord` (the rounds it ran, the resource and score after each, and its fate:
finished, stopped early at round r with the rule and threshold, failed with the message, or cut short by
the search's budget), and every decision is appended to a log of :class:`Decision` so that
``DESCRIBE MODEL`` can say *why*. An exception from ``advance`` marks that arm failed and the search goes
on. The budget (a deadline in seconds and/or a number of arms) is checked before every training step, and
inside one where the arm can stop itself (:func:`give_deadline`: forest trees and boosting iterations in
chunks, epochs one by one); a KeyboardInterrupt ends the search; either way :meth:`run` returns the best arm
found so far, which may be an arm cut short, its trial carrying the score it reached.

What was verified in the papers
-------------------------------
TuPAQ: the stored copies of arXiv 1502.00068 that could be searched here (groundai.com, documents.pub,
vdocuments.mx) expose only the abstract, which says the planner "combines advanced model search
techniques, bandit resource allocation via runtime algorithm introspection, and physical optimization via
batching". The section with the stopping rule could not be read, so the defaults ``epsilon=0.5`` and
``round_resource=10`` remain *recalled, not read* (as ``/work/shared/PAPERS.md`` warns); they are
parameters, and should be checked against the paper's text before being quoted as the paper's.
Hyperband: the bracket schedule below reproduces Li et al.'s Table 1 for ``R=81, eta=3`` (bracket s=4 starts
81 configurations at resource 1, s=3 starts 34 at 3, s=2 15 at 9, s=1 8 at 27, s=0 5 at 81), which public
implementations' documentation (e.g. onenoughtone.com's Hyperband page, mlr3hyperband) reproduces too.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, Required, TypeAlias, TypedDict, Unpack

from paqdb.errors import InvalidParameterError, SearchInterrupted, TrainingError
from paqdb.search.base import Trial, TrialStatus

if TYPE_CHECKING:
    from paqdb.search.spec import Budget

ArmId: TypeAlias = int | str
ArmFate: TypeAlias = Literal["live", "finished", "stopped", "failed", "unfinished"]
"""``live`` while the search runs; ``unfinished`` means the search ended (budget, interrupt) while the arm
was still training."""
DecisionKind: TypeAlias = Literal["started", "promoted", "finished", "stopped", "failed", "unfinished"]
StopReason: TypeAlias = Literal["exhausted", "arm_budget", "deadline", "interrupted"]
"""Why the whole search ended: nothing left to train, no more arms allowed, out of time, Ctrl-C."""
Rule: TypeAlias = Literal["tupaq", "successive_halving", "hyperband"]

DEFAULT_EPSILON = 0.5
"""TuPAQ's tolerance: stop an arm whose error exceeds ``(1 + epsilon)`` x the best error. Recalled, not read
from the paper (see the module docstring)."""
DEFAULT_ROUND_RESOURCE = 10
"""Units (iterations, trees, ...) each live arm trains per TuPAQ round. Recalled, not read from the paper."""
DEFAULT_ETA = 3
"""Successive halving's and Hyperband's reduction factor; Li et al. use 3."""


class Arm(Protocol):
    """One configuration being trained, as an allocator drives it.

    Attributes
    ----------
    arm_id : int or str
        Unique within one search (a trial id does).
    family : str
        The model family, e.g. ``"logistic_regression"``; time estimates are kept per family.
    resource_used : int
        Units trained so far (iterations, trees, rows), 0 before the first :meth:`advance`.
    max_resource : int
        Units at which the arm is fully trained (its configuration's ``max_iter`` or ``n_estimators``).
    finished : bool
        Whether it cannot train further (``max_resource`` reached, or the learner converged early).
    """

    @property
    def arm_id(self) -> ArmId: ...

    @property
    def family(self) -> str: ...

    @property
    def resource_used(self) -> int: ...

    @property
    def max_resource(self) -> int: ...

    @property
    def finished(self) -> bool: ...

    def advance(self, resource: int) -> float:
        """Train up to ``resource`` units in total (never more than ``max_resource``) and return the
        validation score so far, in the metric's own direction."""
        ...


def batch_key(arm: Arm) -> object:
    """Which live slot ``arm`` takes: arms that train together (a batch of linear configurations, which
    may set an optional ``batch_key`` attribute) share one; every other arm has a slot of its own."""
    key = getattr(arm, "batch_key", None)
    return ("arm", arm.arm_id) if key is None else ("batch", key)


def release(arm: Arm) -> None:
    """Tell ``arm`` the allocator is done with it (optional ``release()``: a batch drops a stopped member)."""
    release_arm = getattr(arm, "release", None)
    if callable(release_arm):
        release_arm()


def give_deadline(arm: Arm, deadline: float | None) -> None:
    """Tell ``arm`` when the allocation's time runs out, before a training step (optional
    ``set_deadline(deadline)``): an arm that can stop part-way through a step (trees, iterations, epochs)
    stops there and says so with a true ``cut_short`` attribute, which the allocator reads after the step
    (an arm without it is taken as cut short when it fell short of its target after the deadline)."""
    set_deadline = getattr(arm, "set_deadline", None)
    if callable(set_deadline):
        set_deadline(deadline)


@dataclass(frozen=True)
class AllocationBudget:
    """When an allocator stops starting and training arms.

    Attributes
    ----------
    seconds : float or None
        Wall time from :meth:`run`'s start, checked before every training step (so keep time for a refit
        out of it). A step predicted to overrun, from the family's measured seconds per unit, is not begun.
    max_arms : int or None
        How many arms (configurations) may start; arms already live run on to their fate.
    """

    seconds: float | None = None
    max_arms: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise InvalidParameterError(f"an allocation deadline of {self.seconds} seconds is not positive")
        if self.max_arms is not None and self.max_arms < 1:
            raise InvalidParameterError(f"an allocation budget of {self.max_arms} arms is not positive")

    @classmethod
    def from_search_budget(cls, budget: Budget, reserve_seconds: float = 0.0) -> AllocationBudget:
        """The allocation budget of a search's :class:`~paqdb.search.spec.Budget` (its time limit, which is
        the default cap for a budget of trials alone, and its trials), keeping ``reserve_seconds`` (e.g. for
        the final refit) out of the deadline."""
        return cls(seconds=max(budget.time_limit - reserve_seconds, 1e-9), max_arms=budget.trials)


@dataclass(frozen=True)
class RoundRecord:
    """One training step of one arm.

    Attributes
    ----------
    search_round : int
        The allocator's round (TuPAQ) or rung (halving) counter, from 1, shared by all arms.
    resource : int
        The arm's total units after the step.
    score : float
        Validation score after the step, in the metric's direction.
    error : float
        The same, as an error (lower is better).
    seconds : float
        Wall time of the step.
    """

    search_round: int
    resource: int
    score: float
    error: float
    seconds: float


@dataclass
class ArmRecord:
    """Everything an allocator did with one arm, and why it ended.

    Attributes
    ----------
    arm_id : int or str
    family : str
    order : int
        Position in which the arm started (0 first); breaks ties between equal errors.
    started_round : int
        The search round in which it started training.
    max_resource : int
        Units the allocator would train it to (the arm's maximum, capped by the allocator's).
    rounds : list of RoundRecord
        Its training steps, in order.
    resource_used : int
        Units trained (also counts a step that failed part-way, when the arm reports it).
    fate : {"live", "finished", "stopped", "failed", "unfinished"}
    rule : {"tupaq", "successive_halving", "hyperband"}
    ended_round : int or None
        The arm's own round count (1-based) when it stopped, failed or was cut short.
    reason : str or None
        Why it stopped or was cut short, in words, with the numbers.
    threshold : float or None
        The error it had to beat and did not (stopped arms).
    error_message : str or None
        The exception of a failed arm.
    bracket : int or None
        Hyperband's bracket ``s``.
    """

    arm_id: ArmId
    family: str
    order: int
    started_round: int
    max_resource: int
    rule: Rule
    rounds: list[RoundRecord] = field(default_factory=list)
    resource_used: int = 0
    fate: ArmFate = "live"
    ended_round: int | None = None
    reason: str | None = None
    threshold: float | None = None
    error_message: str | None = None
    bracket: int | None = None

    @property
    def last_score(self) -> float | None:
        """The validation score after the last step, or None before any."""
        return self.rounds[-1].score if self.rounds else None

    @property
    def last_error(self) -> float | None:
        """The validation error after the last step, or None before any."""
        return self.rounds[-1].error if self.rounds else None

    @property
    def seconds(self) -> float:
        """Wall time of all its steps."""
        return sum(step.seconds for step in self.rounds)

    def describe(self) -> str:
        """Its fate in one line, as ``DESCRIBE MODEL`` shows it."""
        steps = len(self.rounds)
        if self.fate == "finished":
            return f"finished after {steps} rounds ({self.resource_used} units), score {self.last_score:.4g}"
        if self.fate == "stopped":
            return f"stopped early at round {self.ended_round}: {self.reason}"
        if self.fate == "failed":
            return f"failed at round {self.ended_round}: {self.error_message}"
        if self.fate == "unfinished":
            return f"cut short at round {self.ended_round} ({self.resource_used} units): {self.reason}"
        return f"training: {steps} rounds so far ({self.resource_used} units)"

    def to_trial(
        self,
        trial_id: int,
        hyperparameters: Mapping[str, Any],
        metric: str,
        resource_name: str = "resource",
    ) -> Trial:
        """The arm as a :class:`~paqdb.search.base.Trial` for the catalog's trials table.

        ``validation_score`` is the score after the arm's last step, whatever its fate (None for a failed
        arm or one that never trained): the model an allocation keeps is the arm with the best last
        score, stopped or cut short included, so its trial row must show that score. A stopped or
        cut-short arm also keeps it in ``resources["last_score"]``, with its per-round scores, the round
        it ended at and the rule. ``resource_name`` names the unit (``"max_iter"``, ``"n_estimators"``).
        """
        status: TrialStatus
        if self.fate == "finished":
            status = "finished"
        elif self.fate == "failed":
            status = "failed"
        else:
            status = "stopped"
        resources: dict[str, Any] = {
            resource_name: self.resource_used,
            f"max_{resource_name}": self.max_resource,
            "rounds": len(self.rounds),
            "search_rounds": [step.search_round for step in self.rounds],
            "round_scores": [step.score for step in self.rounds],
            "allocation": self.rule,
            "fate": self.fate,
        }
        if status != "finished":
            resources["last_score"] = self.last_score
            resources["ended_round"] = self.ended_round
        if self.threshold is not None:
            resources["threshold_error"] = self.threshold
        if self.bracket is not None:
            resources["bracket"] = self.bracket
        return Trial(
            trial_id=trial_id,
            family=self.family,
            hyperparameters=dict(hyperparameters),
            resources=resources,
            metric=metric,
            validation_score=None if status == "failed" else self.last_score,
            status=status,
            seconds=self.seconds,
            error={"finished": None, "failed": self.error_message}.get(status, self.reason),
        )


@dataclass(frozen=True)
class Decision:
    """One allocation decision, in the order taken.

    Attributes
    ----------
    search_round : int
        The round (TuPAQ) or rung (halving) in which it was taken; 0 before the first.
    arm_id : int or str
    kind : {"started", "promoted", "finished", "stopped", "failed", "unfinished"}
    reason : str
    error : float or None
        The arm's validation error when decided.
    threshold : float or None
        The error it was compared with (the TuPAQ threshold, or the worst error kept at a rung).
    """

    search_round: int
    arm_id: ArmId
    kind: DecisionKind
    reason: str
    error: float | None = None
    threshold: float | None = None


@dataclass
class AllocationResult:
    """What :meth:`run` returns.

    Attributes
    ----------
    best_arm : Arm or None
        The arm with the lowest current validation error (None when no arm produced a score).
    best_arm_id : int or str or None
    best_score : float or None
        Its validation score, in the metric's direction.
    best_error : float or None
    records : list of ArmRecord
        Every arm that started, in start order.
    decisions : list of Decision
    rounds : int
        Rounds (TuPAQ) or rungs (halving) run.
    stop_reason : {"exhausted", "arm_budget", "deadline", "interrupted"}
    seconds : float
        Wall time of :meth:`run`.
    """

    best_arm: Arm | None
    best_arm_id: ArmId | None
    best_score: float | None
    best_error: float | None
    records: list[ArmRecord]
    decisions: list[Decision]
    rounds: int
    stop_reason: StopReason
    seconds: float

    @property
    def interrupted(self) -> bool:
        """Whether a KeyboardInterrupt ended the search."""
        return self.stop_reason == "interrupted"

    @property
    def resource_spent(self) -> int:
        """Units trained over all arms."""
        return sum(record.resource_used for record in self.records)

    @property
    def resource_if_trained_to_max(self) -> int:
        """Units that training every started arm to its maximum would have cost (the baseline)."""
        return sum(record.max_resource for record in self.records)

    def record(self, arm_id: ArmId) -> ArmRecord:
        """The record of arm ``arm_id`` (KeyError if it never started)."""
        for candidate in self.records:
            if candidate.arm_id == arm_id:
                return candidate
        raise KeyError(arm_id)

    def require_best(self) -> Arm:
        """The best arm, or the error the search's contract asks for when there is none.

        Raises :class:`~paqdb.errors.SearchInterrupted` when an interrupt came before any arm scored, and
        :class:`~paqdb.errors.TrainingError` when every arm failed (or none could start).
        """
        if self.best_arm is not None:
            return self.best_arm
        if self.interrupted:
            raise SearchInterrupted(
                f"the model search was interrupted after {len(self.records)} configurations, "
                "before any produced a validation score",
                hint="run it again and let at least one round finish",
            )
        if not any(r.error_message for r in self.records):
            # Nothing failed: the budget ran out before any configuration finished its first round.
            raise TrainingError(
                "the search's time budget ran out before any configuration finished training"
                + (f" ({len(self.records)} were cut short)" if self.records else ""),
                hint="give the search more time, e.g. budget => '1 minute', or train on fewer rows",
            )
        first_error = next((r.error_message for r in self.records if r.error_message), None)
        raise TrainingError(
            f"every one of the {len(self.records)} configurations failed"
            + (f"; the first failed with: {first_error}" if first_error else ""),
            hint="check the hyperparameter values and the training data",
        )


def score_to_error(score: float, higher_is_better: bool) -> float:
    """A validation score as an error, lower is better: ``1 - score`` for accuracy-like scores, the score
    itself for losses."""
    return 1.0 - score if higher_is_better else score


def tupaq_threshold(best_error: float, epsilon: float) -> float:
    """The error above which TuPAQ stops an arm: ``(1 + epsilon) * best_error`` for a non-negative best
    (``best + epsilon * |best|`` in general, which stays looser than the best for a negative one)."""
    return best_error + epsilon * abs(best_error)


def geometric_rungs(min_resource: int, max_resource: int, eta: int) -> list[int]:
    """Rung resources from about ``min_resource`` up to exactly ``max_resource``, each ``eta`` times the last.

    With ``s_max = floor(log_eta(max_resource / min_resource))`` there are ``s_max + 1`` rungs,
    ``r_i = max_resource * eta^(i - s_max)`` rounded to whole units (never below ``min_resource``): the
    resources of Hyperband's most exploratory bracket. ``(1, 81, 3)`` gives ``[1, 3, 9, 27, 81]``.
    """
    _check_rung_parameters(min_resource, max_resource, eta)
    s_max = _s_max(min_resource, max_resource, eta)
    return [_rung_resource(min_resource, max_resource, eta, s_max - i) for i in range(s_max + 1)]


def _check_rung_parameters(min_resource: int, max_resource: int, eta: int) -> None:
    if eta < 2:
        raise InvalidParameterError(f"eta must be an integer of at least 2, not {eta}")
    if min_resource < 1:
        raise InvalidParameterError(f"min_resource must be at least 1 unit, not {min_resource}")
    if max_resource < min_resource:
        raise InvalidParameterError(
            f"max_resource ({max_resource}) must be at least min_resource ({min_resource})"
        )


def _s_max(min_resource: int, max_resource: int, eta: int) -> int:
    # Integer arithmetic: math.log(243, 3) is 4.999..., which floor() would turn into 4.
    s_max = 0
    while min_resource * eta ** (s_max + 1) <= max_resource:
        s_max += 1
    return s_max


def _rung_resource(min_resource: int, max_resource: int, eta: int, steps_below_max: int) -> int:
    divisor = eta**steps_below_max
    rounded = (2 * max_resource + divisor) // (2 * divisor)  # max_resource / divisor, rounded half up
    return max(min_resource, rounded)


class _OutOfTime(Exception):
    """Raised inside an allocator when the next training step would pass the deadline."""


class _Allocator(ABC):
    """What the three allocators share: admission, training steps, records, budget and interrupts."""

    rule: Rule

    def __init__(
        self,
        *,
        higher_is_better: bool,
        budget: AllocationBudget | None,
        propose: Callable[[], Arm | None] | None,
        clock: Callable[[], float],
        on_advance: Callable[[ArmRecord], None] | None,
    ) -> None:
        self.higher_is_better = higher_is_better
        self.budget = budget or AllocationBudget()
        self.propose = propose
        self.clock = clock
        self.on_advance = on_advance
        self.records: dict[ArmId, ArmRecord] = {}
        self.decisions: list[Decision] = []
        self._queue: deque[Arm] = deque()
        self._queued_ids: set[ArmId] = set()
        self._arms: dict[ArmId, Arm] = {}
        self._done: set[ArmId] = set()
        self._round = 0
        self._best_error_seen: float | None = None
        # Per family: seconds and units trained so far, whose ratio predicts the next step's time.
        self._family_seconds: dict[str, float] = {}
        self._family_units: dict[str, int] = {}
        self._deadline: float | None = None
        self._arm_budget_hit = False
        self._ran = False
        self.wanted: int | None = None
        """While arms are being started, how many more the current rung or round asks for (a ``propose``
        callback that makes several arms at once may read it)."""

    # -- the driver's interface ------------------------------------------------------------------

    def admit(self, arm: Arm) -> None:
        """Queue ``arm`` to start when the allocator has room for it (before or during :meth:`run`).

        Raises :class:`~paqdb.errors.InvalidParameterError` for an ``arm_id`` already admitted.
        """
        if arm.arm_id in self._queued_ids or arm.arm_id in self.records:
            raise InvalidParameterError(f"arm {arm.arm_id!r} was already admitted")
        self._queue.append(arm)
        self._queued_ids.add(arm.arm_id)

    @property
    def best_error_seen(self) -> float | None:
        """The lowest validation error any arm has reached so far."""
        return self._best_error_seen

    def run(self) -> AllocationResult:
        """Allocate until nothing is left to train, the budget runs out or an interrupt comes.

        Returns the best arm found so far in every one of those cases; may be called once.
        """
        if self._ran:
            raise RuntimeError("an allocator runs once; make a new one for another search")
        self._ran = True
        started = self.clock()
        if self.budget.seconds is not None:
            self._deadline = started + self.budget.seconds
        stop_reason: StopReason = "exhausted"
        try:
            self._allocate()
            if self._arm_budget_hit:
                stop_reason = "arm_budget"
        except _OutOfTime:
            stop_reason = "deadline"
        except KeyboardInterrupt:
            stop_reason = "interrupted"
        self._close_live_arms(stop_reason)
        return self._result(stop_reason, self.clock() - started)

    # -- for the allocators -----------------------------------------------------------------------

    @abstractmethod
    def _allocate(self) -> None:
        """Run the allocator's rounds or rungs until its arms are done or the budget ends."""

    def _cap(self, arm: Arm) -> int:
        """Units this allocator would train ``arm`` to."""
        return arm.max_resource

    def _next_arm(self, bracket: int | None = None) -> Arm | None:
        """Start the next arm (admitted ones first, then proposed), or None when there is none or the arm
        budget is spent."""
        if self.budget.max_arms is not None and len(self.records) >= self.budget.max_arms:
            if self._queue or self.propose is not None:
                self._arm_budget_hit = True
            return None
        if self._queue:
            arm = self._queue.popleft()
            self._queued_ids.discard(arm.arm_id)
        elif self.propose is not None:
            proposed = self.propose()
            if proposed is None:
                return None
            if proposed.arm_id in self.records or proposed.arm_id in self._queued_ids:
                raise InvalidParameterError(f"propose() returned arm {proposed.arm_id!r} twice")
            arm = proposed
        else:
            return None
        self._arms[arm.arm_id] = arm
        self.records[arm.arm_id] = ArmRecord(
            arm_id=arm.arm_id,
            family=arm.family,
            order=len(self.records),
            started_round=self._round + 1,
            max_resource=self._cap(arm),
            rule=self.rule,
            resource_used=arm.resource_used,
            bracket=bracket,
        )
        self._decide(arm.arm_id, "started", f"started ({arm.family})")
        return arm

    def _take(self, count: int, bracket: int | None = None) -> list[Arm]:
        """Start up to ``count`` arms."""
        arms: list[Arm] = []
        while len(arms) < count:
            self.wanted = count - len(arms)
            arm = self._next_arm(bracket)
            if arm is None:
                break
            arms.append(arm)
        self.wanted = None
        return arms

    def _advance(self, arm: Arm, target: int) -> float | None:
        """Train ``arm`` up to ``target`` units; its new error, or None when it failed.

        The deadline is checked first (raising :class:`_OutOfTime`); an exception or a score that is not
        a finite number marks the arm failed. An arm that stops making progress, or reports itself
        finished, is remembered as done so it is not advanced again.
        """
        record = self.records[arm.arm_id]
        # What this allocator last saw, not the arm's count now: an arm in a batch may already have been
        # trained this round, by the member that advanced the batch first.
        before = record.resource_used
        trained_by_batch = _safe_resource(arm, before)
        if trained_by_batch > before:
            # Its batch trained it this round (perhaps cut short by the deadline): reading its score costs
            # nothing, so it is read whatever the time, and the step is recorded as far as it went.
            target = min(target, trained_by_batch)
        else:
            self._check_time(arm, target - before)
        give_deadline(arm, self._deadline)
        step_started = self.clock()
        try:
            score = float(arm.advance(target))
        except Exception as failure:
            record.resource_used = _safe_resource(arm, before)
            self._fail(arm, f"{type(failure).__name__}: {failure}")
            return None
        seconds = self.clock() - step_started
        used = arm.resource_used
        if used > before:
            # Totals rather than the last step: a step cut short by the learner's own early stopping (two
            # iterations in a warm start that re-reads all the earlier trees) would predict the next
            # one many times too slow.
            self._family_seconds[arm.family] = self._family_seconds.get(arm.family, 0.0) + seconds
            self._family_units[arm.family] = self._family_units.get(arm.family, 0) + (used - before)
        if not math.isfinite(score):
            record.resource_used = used
            self._fail(arm, f"the validation score is {score}, not a finite number")
            return None
        # An arm that stops itself at the deadline (forest trees, boosting iterations, epochs) returns
        # short of its target: that is the time budget, not convergence, and the search ends after it.
        cut_short = bool(getattr(arm, "cut_short", False)) or (
            self._deadline is not None
            and used < min(target, self._cap(arm))
            and not arm.finished
            and self.clock() >= self._deadline
        )
        if cut_short and used <= before:
            raise _OutOfTime
        error = score_to_error(score, self.higher_is_better)
        record.rounds.append(RoundRecord(self._round, used, score, error, seconds))
        record.resource_used = used
        if self._best_error_seen is None or error < self._best_error_seen:
            self._best_error_seen = error
        # An arm that did not move converged (an estimator's internal stopping): advancing it again
        # would loop for ever, so it counts as trained as far as it goes.
        if not cut_short and (arm.finished or used >= self._cap(arm) or used <= before):
            self._done.add(arm.arm_id)
        if self.on_advance is not None:
            self.on_advance(record)
        return error

    def _check_time(self, arm: Arm, units: int) -> None:
        if self._deadline is None:
            return
        remaining = self._deadline - self.clock()
        # A step that would not finish in time is not begun (fits cannot be cut short); a family not
        # timed yet is assumed to fit, so every family gets at least one measurement.
        trained = self._family_units.get(arm.family, 0)
        rate = self._family_seconds.get(arm.family, 0.0) / trained if trained else 0.0
        expected = rate * max(units, 0)
        if remaining <= 0 or expected > remaining:
            raise _OutOfTime

    def _finish(self, arm: Arm, reason: str) -> None:
        record = self.records[arm.arm_id]
        record.fate = "finished"
        record.reason = reason
        release(arm)
        self._decide(arm.arm_id, "finished", reason, record.last_error)

    def _stop(self, arm: Arm, reason: str, threshold: float) -> None:
        record = self.records[arm.arm_id]
        record.fate = "stopped"
        record.ended_round = len(record.rounds)
        record.reason = reason
        record.threshold = threshold
        release(arm)
        self._decide(arm.arm_id, "stopped", reason, record.last_error, threshold)

    def _fail(self, arm: Arm, message: str) -> None:
        record = self.records[arm.arm_id]
        record.fate = "failed"
        record.ended_round = len(record.rounds) + 1
        record.error_message = message
        self._done.add(arm.arm_id)
        release(arm)
        self._decide(arm.arm_id, "failed", message)

    def _decide(
        self,
        arm_id: ArmId,
        kind: DecisionKind,
        reason: str,
        error: float | None = None,
        threshold: float | None = None,
    ) -> None:
        self.decisions.append(Decision(self._round, arm_id, kind, reason, error, threshold))

    def _close_live_arms(self, stop_reason: StopReason) -> None:
        why = {
            "exhausted": "the allocator ended",
            "arm_budget": "the search's configuration budget ran out",
            "deadline": "the search's time budget ran out",
            "interrupted": "the search was interrupted",
        }[stop_reason]
        for record in self.records.values():
            if record.fate == "live":
                release(self._arms[record.arm_id])
                record.fate = "unfinished"
                record.ended_round = len(record.rounds)
                record.reason = why
                self._decide(record.arm_id, "unfinished", why, record.last_error)

    def _result(self, stop_reason: StopReason, seconds: float) -> AllocationResult:
        scored = [
            record
            for record in self.records.values()
            if record.fate != "failed" and record.last_error is not None
        ]
        best = min(scored, key=lambda record: (_error_of(record), record.order), default=None)
        return AllocationResult(
            best_arm=None if best is None else self._arms[best.arm_id],
            best_arm_id=None if best is None else best.arm_id,
            best_score=None if best is None else best.last_score,
            best_error=None if best is None else best.last_error,
            records=list(self.records.values()),
            decisions=list(self.decisions),
            rounds=self._round,
            stop_reason=stop_reason,
            seconds=seconds,
        )

    def _run_bracket(
        self,
        arms: Sequence[Arm],
        rung_resources: Sequence[int],
        keep_count: Callable[[int], int],
        describe_keep: str,
    ) -> None:
        """Successive halving over ``arms``: train every survivor to each rung's resource, then keep the
        ``keep_count(n)`` with the lowest errors (the best, whatever the metric's direction)."""
        survivors = list(arms)
        last_rung = len(rung_resources) - 1
        for rung, resource in enumerate(rung_resources):
            if not survivors:
                return
            self._round += 1
            scored: list[tuple[float, int, Arm]] = []
            for arm in survivors:
                record = self.records[arm.arm_id]
                target = min(resource, self._cap(arm))
                if arm.arm_id in self._done or record.resource_used >= target:
                    # Trained as far as it goes: it competes with the score it has.
                    error = record.last_error
                else:
                    error = self._advance(arm, target)
                if error is not None:
                    scored.append((error, record.order, arm))
            # Ascending by error means best first for every metric: the error already folds in the
            # direction, so an accuracy of 0.9 sorts before 0.8.
            scored.sort(key=lambda entry: (entry[0], entry[1]))
            if rung == last_rung:
                for _, _, arm in scored:
                    self._finish(arm, f"trained to the last rung ({resource} units)")
                return
            keep = min(len(scored), max(1, keep_count(len(scored))))
            kept, cut = scored[:keep], scored[keep:]
            worst_kept = kept[-1][0] if kept else math.inf
            for error, _, arm in cut:
                self._stop(
                    arm,
                    f"validation error {error:.4g} not among the best {keep} of {len(scored)} "
                    f"({describe_keep}) at rung {rung + 1} ({resource} units); "
                    f"the worst kept has error {worst_kept:.4g}",
                    worst_kept,
                )
            for error, _, arm in kept:
                self._decide(
                    arm.arm_id,
                    "promoted",
                    f"among the best {keep} of {len(scored)} at rung {rung + 1} ({resource} units)",
                    error,
                    worst_kept,
                )
            survivors = [arm for _, _, arm in kept]


def _error_of(record: ArmRecord) -> float:
    error = record.last_error
    return math.inf if error is None else error


def _safe_resource(arm: Arm, fallback: int) -> int:
    try:
        return int(arm.resource_used)
    except Exception:
        return fallback


def _finish_reason(record: ArmRecord) -> str:
    if record.resource_used >= record.max_resource:
        return f"trained to its maximum ({record.resource_used} units)"
    return f"converged after {record.resource_used} of {record.max_resource} units"


class TuPAQAllocator(_Allocator):
    """TuPAQ's bandit allocation: train in rounds, stop arms much worse than the best seen.

    Each round, every live arm trains ``round_resource`` more units (up to its ``max_resource``). After
    the round, every arm that is still live and whose validation error exceeds
    ``(1 + epsilon) x`` the best error seen so far (by any arm, any family, any round) is stopped; the
    arm holding that best error is never stopped by it. Arms reaching ``max_resource`` finish. When the
    number of live arms drops below ``width``, new arms fill the slots (admitted ones first, then
    ``propose()``), so the budget stopped arms free goes to new configurations.

    Parameters
    ----------
    higher_is_better : bool
        The metric's direction (``Metric.greater_is_better``).
    epsilon : float, default=0.5
        Tolerance of the rule; 0 keeps only arms tied with the best. Recalled from the paper, not read.
    round_resource : int, default=10
        Units per arm per round. Recalled from the paper, not read.
    rounds_to_max : int or None
        When set, an arm whose ``max_resource`` is more than ``rounds_to_max`` rounds of
        ``round_resource`` trains ``ceil(max_resource / rounds_to_max)`` units per round instead, so that a
        family with a large unit count (500 boosting iterations) is not cut into 50 rounds whose warm
        starts cost more than the training (scikit-learn's HistGradientBoosting recomputes the earlier
        trees' predictions on every warm start).
    width : int or None
        Live slots to keep training at once, a slot being one arm or one batch of arms that train
        together (:func:`batch_key`); None starts every admitted arm and proposes none.
    propose : callable returning Arm or None, optional
        Makes a new configuration's arm when a slot is free; None when there is nothing to start now (the
        space is exhausted, or the proposer keeps the slot empty: TuPAQ's search gives each family one
        slot). It is asked again at the next free slot. Needs ``width``.
    budget : AllocationBudget, optional
        Deadline and/or number of arms; no limit by default.
    clock : callable returning seconds, default time.perf_counter
        Injectable for tests.
    on_advance : callable taking ArmRecord, optional
        Called after every successful training step (progress reporting).

    Examples
    --------
    >>> allocator = TuPAQAllocator(higher_is_better=True, width=8, propose=next_arm)  # doctest: +SKIP
    >>> result = allocator.run()  # doctest: +SKIP
    >>> [record.describe() for record in result.records]  # doctest: +SKIP
    """

    rule: Rule = "tupaq"

    def __init__(
        self,
        *,
        higher_is_better: bool,
        epsilon: float = DEFAULT_EPSILON,
        round_resource: int = DEFAULT_ROUND_RESOURCE,
        rounds_to_max: int | None = None,
        width: int | None = None,
        propose: Callable[[], Arm | None] | None = None,
        budget: AllocationBudget | None = None,
        clock: Callable[[], float] = time.perf_counter,
        on_advance: Callable[[ArmRecord], None] | None = None,
    ) -> None:
        if rounds_to_max is not None and rounds_to_max < 1:
            raise InvalidParameterError(f"rounds_to_max must be at least 1 round, not {rounds_to_max}")
        if not (math.isfinite(epsilon) and epsilon >= 0):
            raise InvalidParameterError(f"epsilon must be a non-negative number, not {epsilon}")
        if round_resource < 1:
            raise InvalidParameterError(f"round_resource must be at least 1 unit, not {round_resource}")
        if width is not None and width < 1:
            raise InvalidParameterError(f"width must be at least 1 live arm, not {width}")
        if propose is not None and width is None:
            raise InvalidParameterError("propose needs a width: the number of live arms to keep")
        super().__init__(
            higher_is_better=higher_is_better,
            budget=budget,
            propose=propose,
            clock=clock,
            on_advance=on_advance,
        )
        self.epsilon = epsilon
        self.round_resource = round_resource
        self.rounds_to_max = rounds_to_max
        self.width = width

    def step(self, arm: Arm) -> int:
        """Units ``arm`` trains per round (see ``rounds_to_max``)."""
        if self.rounds_to_max is None:
            return self.round_resource
        return max(self.round_resource, -(-self._cap(arm) // self.rounds_to_max))

    def threshold(self) -> float | None:
        """The error above which an arm is stopped now (None before any score)."""
        best = self._best_error_seen
        return None if best is None else tupaq_threshold(best, self.epsilon)

    def _allocate(self) -> None:
        live: list[Arm] = []
        while True:
            self._refill(live)
            if not live:
                return
            self._round += 1
            trained: list[tuple[Arm, float]] = []
            # The incumbents first: the arms with the lowest errors train first in a round (new arms last,
            # in the order they came), so a better model is found as early in the round as it can be. The
            # rule still judges every arm after the whole round, so the order changes when the search
            # knows its best, not what it decides.
            live.sort(key=self._round_order)
            for arm in list(live):
                record = self.records[arm.arm_id]
                target = min(record.resource_used + self.step(arm), self._cap(arm))
                error = self._advance(arm, target)
                if error is None:
                    live.remove(arm)
                elif arm.arm_id in self._done:
                    live.remove(arm)
                    self._finish(arm, _finish_reason(record))
                else:
                    trained.append((arm, error))
            # The rule runs after the whole round, so every arm is judged against the best error
            # including this round's results, whatever order the arms trained in.
            best = self._best_error_seen
            if best is None:
                continue
            threshold = tupaq_threshold(best, self.epsilon)
            for arm, error in trained:
                if error > threshold:
                    live.remove(arm)
                    self._stop(
                        arm,
                        f"validation error {error:.4g} > (1 + {self.epsilon:g}) x best error "
                        f"{best:.4g} = {threshold:.4g}",
                        threshold,
                    )

    def _round_order(self, arm: Arm) -> tuple[float, int]:
        record = self.records[arm.arm_id]
        error = record.last_error
        return (math.inf if error is None else error, record.order)

    def _refill(self, live: list[Arm]) -> None:
        """Start arms until ``width`` slots are live; the arms of one batch share a slot, so a batch
        (queued together by ``propose``) starts whole."""
        if self.width is None:
            live.extend(self._take(len(self._queue)))
            return
        while True:
            slots = {batch_key(arm) for arm in live}
            if self._queue and batch_key(self._queue[0]) in slots:
                arm = self._next_arm()
            elif len(slots) < self.width:
                self.wanted = self.width - len(slots)
                arm = self._next_arm()
                self.wanted = None
            else:
                return
            if arm is None:
                return
            live.append(arm)


class _RungArguments(TypedDict, total=False):
    """The arguments successive halving and Hyperband share (their docstrings say what each means)."""

    higher_is_better: Required[bool]
    min_resource: Required[int]
    max_resource: Required[int]
    eta: int
    propose: Callable[[], Arm | None] | None
    budget: AllocationBudget | None
    clock: Callable[[], float]
    on_advance: Callable[[ArmRecord], None] | None


class _RungAllocator(_Allocator):
    """What successive halving and Hyperband share: rungs from ``min_resource`` to ``max_resource`` units
    growing ``eta`` times, and no arm trained past ``max_resource``."""

    def __init__(self, **arguments: Unpack[_RungArguments]) -> None:
        min_resource, max_resource = arguments["min_resource"], arguments["max_resource"]
        eta = arguments.get("eta", DEFAULT_ETA)
        _check_rung_parameters(min_resource, max_resource, eta)
        super().__init__(
            higher_is_better=arguments["higher_is_better"],
            budget=arguments.get("budget"),
            propose=arguments.get("propose"),
            clock=arguments.get("clock", time.perf_counter),
            on_advance=arguments.get("on_advance"),
        )
        self.eta = eta
        self.min_resource = min_resource
        self.max_resource = max_resource

    def _cap(self, arm: Arm) -> int:
        return min(arm.max_resource, self.max_resource)


class SuccessiveHalving(_RungAllocator):
    """Successive halving: train all arms to a rung, keep the best ``ceil(n / eta)``, repeat.

    Rungs are :func:`geometric_rungs` ``(min_resource, max_resource, eta)``; the arms that reach the last
    rung (``max_resource`` units) finish, the others are stopped at the rung that cut them, with the error
    they had and the worst error kept. Rounding the survivors up keeps at least one arm at every rung. An
    arm whose own ``max_resource`` is below a rung competes with the score it has at its maximum.

    Parameters
    ----------
    higher_is_better : bool
        The metric's direction (``Metric.greater_is_better``).
    eta : int, default=3
    min_resource, max_resource : int
        Units of the first and last rungs.
    n_arms : int or None
        Arms to start (admitted first, then proposed); None starts every admitted arm.
    propose, budget, clock, on_advance
        As for :class:`TuPAQAllocator`.
    """

    rule: Rule = "successive_halving"

    def __init__(self, *, n_arms: int | None = None, **arguments: Unpack[_RungArguments]) -> None:
        super().__init__(**arguments)
        if n_arms is not None and n_arms < 1:
            raise InvalidParameterError(f"n_arms must be at least 1, not {n_arms}")
        self.n_arms = n_arms

    def rung_resources(self) -> list[int]:
        """Units of each rung, first to last."""
        return geometric_rungs(self.min_resource, self.max_resource, self.eta)

    def schedule(self, n_arms: int) -> list[tuple[int, int]]:
        """``(arms, units)`` at each rung for ``n_arms`` arms that all succeed.

        ``n_{i+1} = ceil(n_i / eta)``: 10 arms with ``eta=3`` go 10, 4, 2, 1.
        """
        schedule: list[tuple[int, int]] = []
        count = n_arms
        for resource in self.rung_resources():
            schedule.append((count, resource))
            count = self._keep(count)
        return schedule

    def _keep(self, count: int) -> int:
        return -(-count // self.eta)

    def _allocate(self) -> None:
        count = len(self._queue) if self.n_arms is None else self.n_arms
        arms = self._take(count)
        self._run_bracket(arms, self.rung_resources(), self._keep, f"ceil(n / {self.eta})")


class Hyperband(_RungAllocator):
    """Hyperband (Li et al., JMLR 2018): successive-halving brackets from many cheap arms to few full ones.

    With ``R = max_resource / min_resource`` and ``s_max = floor(log_eta(R))``, bracket ``s`` (from
    ``s_max`` down to 0) starts ``n = ceil((s_max + 1) / (s + 1) * eta^s)`` arms at
    ``r = max_resource * eta^-s`` units; its rung ``i`` trains ``n_i = floor(n * eta^-i)`` arms to
    ``r_i = r * eta^i`` units and keeps the best ``floor(n_i / eta)`` (at least one). For ``R = 81, eta = 3``
    that is the paper's Table 1 (see :meth:`brackets`). Arms come from the admitted queue, then
    ``propose()``; each bracket starts fresh arms.

    Parameters
    ----------
    higher_is_better : bool
    eta : int, default=3
    min_resource, max_resource : int
    repeat : bool, default=False
        Start the brackets over when the last one ends, until the budget (which must be given) or the
        proposals run out: the paper's schedule is one pass, a search with a budget left spends it.
    propose, budget, clock, on_advance
        As for :class:`TuPAQAllocator`.
    """

    rule: Rule = "hyperband"

    def __init__(self, *, repeat: bool = False, **arguments: Unpack[_RungArguments]) -> None:
        super().__init__(**arguments)
        budget = arguments.get("budget")
        if repeat and (budget is None or (budget.max_arms is None and budget.seconds is None)):
            raise InvalidParameterError("a repeating Hyperband needs a budget of arms or seconds to end it")
        self.repeat = repeat

    def brackets(self) -> list[tuple[int, list[tuple[int, int]]]]:
        """Each bracket's ``s`` and its ``(n_i, r_i)`` rungs, from ``s_max`` down to 0.

        For ``min_resource=1, max_resource=81, eta=3``: s=4 ``(81,1) (27,3) (9,9) (3,27) (1,81)``;
        s=3 ``(34,3) (11,9) (3,27) (1,81)``; s=2 ``(15,9) (5,27) (1,81)``; s=1 ``(8,27) (2,81)``;
        s=0 ``(5,81)``.
        """
        s_max = _s_max(self.min_resource, self.max_resource, self.eta)
        brackets: list[tuple[int, list[tuple[int, int]]]] = []
        for s in range(s_max, -1, -1):
            n = -(-(s_max + 1) * self.eta**s // (s + 1))  # ceil((s_max + 1) * eta^s / (s + 1)), exactly
            rungs = [
                (n // self.eta**i, _rung_resource(self.min_resource, self.max_resource, self.eta, s - i))
                for i in range(s + 1)
            ]
            brackets.append((s, rungs))
        return brackets

    def _keep(self, count: int) -> int:
        # floor(floor(n / eta^i) / eta) == floor(n / eta^(i+1)): keeping floor(n_i / eta) of the arms that
        # scored reproduces the paper's n_{i+1} exactly when none fails.
        return count // self.eta

    def _allocate(self) -> None:
        while True:
            for s, rungs in self.brackets():
                arms = self._take(rungs[0][0], bracket=s)
                if not arms:
                    return
                self._run_bracket(
                    arms, [resource for _, resource in rungs], self._keep, f"floor(n / {self.eta})"
                )
            if not self.repeat:
                return


__all__ = [
    "DEFAULT_EPSILON",
    "DEFAULT_ETA",
    "DEFAULT_ROUND_RESOURCE",
    "AllocationBudget",
    "AllocationResult",
    "Arm",
    "ArmFate",
    "ArmId",
    "ArmRecord",
    "Decision",
    "Hyperband",
    "RoundRecord",
    "StopReason",
    "SuccessiveHalving",
    "TuPAQAllocator",
    "batch_key",
    "geometric_rungs",
    "give_deadline",
    "score_to_error",
    "tupaq_threshold",
]
