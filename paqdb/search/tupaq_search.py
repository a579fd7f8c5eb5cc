"""TuPAQ's planner: configurations train in rounds under a bandit rule, linear ones batched together.

``USING SEARCH (strategy => 'tupaq')`` (or ``'successive_halving'``, ``'hyperband'``) runs
:class:`TuPAQSearch`. As in every search (:mod:`paqdb.search.run`), the data is checked, split and featurised
once (:func:`~paqdb.search.trials.prepare_search`); configurations are proposed round-robin across the
chosen families (:func:`~paqdb.search.proposals.configuration_stream`, so every family is tried) and
become arms (:mod:`paqdb.search.arms`), which an allocator of :mod:`paqdb.search.bandit` trains:

``tupaq``
    :class:`~paqdb.search.bandit.TuPAQAllocator` trains the live arms ``round_resource`` units per round and
    stops every arm whose validation error exceeds ``(1 + epsilon)`` times the best seen; a stopped arm's
    slot goes to a new configuration. Each family has one live slot (one arm, or one batch of linear
    arms): the families compete from the first round, and a family's configurations train one after
    another, each judged against the best seen, so a good model is complete as early as it can be.
``successive_halving``
    One bracket: as many configurations as the trial budget allows (at most :data:`HALVING_ARMS`), trained
    to rungs growing ``eta`` times from ``round_resource`` units; the best ``1/eta`` go on at each rung.
``hyperband``
    Li et al.'s brackets between the same bounds, started over while the budget lasts.

Batching: a proposal of a batchable linear family draws a whole batch of configurations at once
(:func:`~paqdb.search.arms.batch_width` of them, within the trial budget), a
:class:`~paqdb.search.arms.BatchedLinearGroup` that starts together and takes one live slot. With
``batching`` on (the default) the batch trains in one pass over the data per epoch; off, each member trains
alone in the same schedule, so the ablation changes the passes and nothing else (the same models, scores
and fates).

The budget's trials count configurations (arms); its seconds bound the whole allocation, with a tenth kept
for the final refit. Every arm becomes a :class:`~paqdb.search.base.Trial`: "finished", "failed", or
"stopped" with ``error`` saying "stopped early at round r: ..." (or "cut short at round r" when the budget
ended it); a batched one records its batch (``resources["batch"]``, ``resources["batch_size"]``).
"""

from __future__ import annotations

import math
from typing import Any

from paqdb.ml.families import ModelFamily
from paqdb.search.arms import (
    BATCHED_FAMILIES,
    MAX_BATCHED_EPOCHS,
    BatchedArm,
    BatchedLinearGroup,
    ConfigurationArm,
    batch_width,
)
from paqdb.search.bandit import (
    DEFAULT_EPSILON,
    DEFAULT_ETA,
    DEFAULT_ROUND_RESOURCE,
    AllocationBudget,
    Arm,
    ArmRecord,
    Hyperband,
    StopReason,
    SuccessiveHalving,
    TuPAQAllocator,
)
from paqdb.search.base import SearchOutcome, Trial
from paqdb.search.proposals import ConfigurationStream, TPEStream, configuration_stream
from paqdb.search.run import SearchFinding, SearchRun, SearchStrategy
from paqdb.search.spec import SearchPlan
from paqdb.search.trials import TrialRunner

REFIT_RESERVE = 0.1
"""Share of a time budget kept out of the allocation for the final refit."""

ROUNDS_TO_MAX = 10
"""A family whose maximum resource is more than ten rounds of ``round_resource`` trains a tenth of it per
round (:class:`~paqdb.search.bandit.TuPAQAllocator`'s ``rounds_to_max``): HistGradientBoosting's 500
iterations in rounds of 50, not 10. On Adult, reaching its early-stopping point (168 iterations) took 3.8 s
in warm starts of 10 iterations, 1.7 s in warm starts of 50 and 1.2 s in one fit."""

HALVING_ARMS = 27
"""Configurations successive halving starts when the trial budget does not say (three rungs of eta=3)."""

MAX_HALVING_ARMS = 729
"""Most configurations one successive-halving bracket starts, whatever the trial budget (six rungs of
eta=3): a bracket makes all its arms before the first trains, so ``'1e9 trials'`` must not mean 1e9 arms."""

_OUTCOMES: dict[StopReason, SearchOutcome] = {
    "exhausted": "complete",
    "arm_budget": "trial budget reached",
    "deadline": "time budget reached",
    "interrupted": "interrupted",
}

SearchArm = ConfigurationArm | BatchedArm


class TuPAQSearch(SearchStrategy):
    """TuPAQ's bandit search; implements :class:`~paqdb.search.base.ModelSearch`.

    The spec's ``strategy`` picks the allocation rule (``tupaq``, ``successive_halving``, ``hyperband``) and
    its ``batching``, ``epsilon``, ``round_resource`` and ``eta`` tune it; the constructor's arguments are
    the defaults a spec that leaves them out gets.

    Parameters
    ----------
    epsilon : float, default=bandit.DEFAULT_EPSILON
        Stop an arm whose validation error exceeds ``(1 + epsilon)`` x the best error seen.
    round_resource : int, default=bandit.DEFAULT_ROUND_RESOURCE
        Units (epochs, iterations, trees) each live arm trains per round; the first rung of successive
        halving and Hyperband.
    width : int, optional
        Live slots at once, whatever their families; by default one slot per family.
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

    def search(self, run: SearchRun) -> SearchFinding:
        """Train configurations under the spec's allocation rule; see :meth:`SearchStrategy.search`."""
        spec, plan, runner, budget = run.spec, run.plan, run.runner, run.budget
        reserve = REFIT_RESERVE * budget.time_limit
        elapsed = run.clock() - run.started
        allocation_budget = AllocationBudget.from_search_budget(budget, reserve_seconds=reserve + elapsed)
        epsilon = self.epsilon if spec.epsilon is None else spec.epsilon
        round_resource = self.round_resource if spec.round_resource is None else spec.round_resource
        rule = spec.strategy if spec.strategy in ("successive_halving", "hyperband") else "tupaq"

        one_slot_per_family = rule == "tupaq" and self.width is None
        proposer = _Proposer(
            plan,
            runner,
            batching=spec.batching,
            batch_by_rung=rule != "tupaq",
            one_slot_per_family=one_slot_per_family,
        )
        tracker = _ProgressTracker(run, run.deadline - reserve)
        common: dict[str, Any] = {
            "higher_is_better": plan.metric.greater_is_better,
            "propose": proposer.propose,
            "budget": allocation_budget,
            "clock": run.clock,
            "on_advance": tracker.on_advance,
        }
        allocator: TuPAQAllocator | SuccessiveHalving | Hyperband
        max_resource = max(round_resource + 1, _largest_resource(plan, runner))
        eta = spec.eta or DEFAULT_ETA
        if rule == "tupaq":
            allocator = TuPAQAllocator(
                epsilon=epsilon,
                round_resource=round_resource,
                rounds_to_max=ROUNDS_TO_MAX,
                width=self.width or len(plan.families),
                **common,
            )
        elif rule == "successive_halving":
            allocator = SuccessiveHalving(
                min_resource=round_resource,
                max_resource=max_resource,
                eta=eta,
                n_arms=min(budget.trials, MAX_HALVING_ARMS) if budget.trials else HALVING_ARMS,
                **common,
            )
        else:
            allocator = Hyperband(
                min_resource=round_resource, max_resource=max_resource, eta=eta, repeat=True, **common
            )
        proposer.allocator = allocator
        tracker.records = allocator.records
        allocation = allocator.run()
        best_arm = allocation.require_best()
        assert isinstance(best_arm, ConfigurationArm | BatchedArm)
        arms = proposer.arms
        # A configuration the allocation started but never trained (the budget ended first) is not a
        # trial: it got no resources, and counting it would overstate what the search did.
        tried = [record for record in allocation.records if record.rounds or record.fate == "failed"]
        trial_ids = {record.arm_id: position for position, record in enumerate(tried)}
        trials = [
            _trial(record, arms[int(record.arm_id)], plan, trial_ids[record.arm_id], trial_ids)
            for record in tried
        ]
        interrupted = allocation.interrupted
        try:
            tracker.finish(len(trials))
        except KeyboardInterrupt:  # a Ctrl-C as the search ends keeps its model like any other
            interrupted = True
        assert allocation.best_score is not None and best_arm.estimator is not None
        stopped = sum(1 for record in allocation.records if record.fate == "stopped")
        details: dict[str, Any] = {
            "allocation": rule,
            "batching": spec.batching,
            "batches": [group.size for group in proposer.groups],
            "batch_passes": sum(group.passes for group in proposer.groups),
            "rounds": allocation.rounds,
            "stopped_early": stopped,
            "stop_reason": allocation.stop_reason,
            "resource_spent": allocation.resource_spent,
            "resource_if_trained_to_max": allocation.resource_if_trained_to_max,
        }
        if rule == "tupaq":
            details.update(epsilon=epsilon, round_resource=round_resource)
        else:
            details.update(eta=eta, min_resource=round_resource, max_resource=max_resource)
        return SearchFinding(
            trials=trials,
            best_trial=trials[trial_ids[best_arm.arm_id]],
            family=best_arm.model_family,
            configuration=best_arm.trained_configuration(),
            estimator=best_arm.estimator,
            validation_score=float(allocation.best_score),
            outcome=_OUTCOMES[allocation.stop_reason],
            interrupted=interrupted,
            overrun=tracker.overrun,
            refit=lambda deadline: best_arm.refit(deadline=deadline),
            details=details,
        )


class _Proposer:
    """Makes the search's arms: round-robin over the families' configuration streams, a whole batch at
    once for a batchable linear family (the rest of the batch is admitted to the allocator's queue, so the
    batch starts together).

    With ``one_slot_per_family`` (TuPAQ's default), a family proposes only while none of its arms is live:
    the allocator's slots are then one per family, and a family whose configurations run out leaves its
    slot empty rather than giving it to another family. Concurrent arms of one family would only slow
    each other down: the rule judges every arm against the best seen, not against its peers, so training
    a family's arms side by side delays its first complete model without telling the rule anything.
    Measured on MNIST (seed 0, 24 configurations, one core): the target was reached after 85 s with one
    slot per family (88.5 s in ``bench/search.py``), after 130-190 s with 3 or 4 slots shared by all
    families, for about the same total (365-395 s).
    """

    def __init__(
        self,
        plan: SearchPlan,
        runner: TrialRunner,
        *,
        batching: bool,
        batch_by_rung: bool,
        one_slot_per_family: bool = False,
    ) -> None:
        self.plan = plan
        self.runner = runner
        self.batching = batching
        self.batch_by_rung = batch_by_rung
        self.one_slot_per_family = one_slot_per_family
        # Proposals are random draws (the family defaults first), whatever a grid would enumerate.
        self.streams = [configuration_stream(family, plan, "random") for family in plan.families]
        self.arms: list[SearchArm] = []
        self.groups: list[BatchedLinearGroup] = []
        self.allocator: TuPAQAllocator | SuccessiveHalving | Hyperband | None = None
        self._turn = 0

    def propose(self) -> Arm | None:
        busy = self._busy_families() if self.one_slot_per_family else set()
        skipped = 0
        while self.streams:
            if skipped >= len(self.streams):
                return None  # every family with configurations left has a live arm
            stream = self.streams[self._turn % len(self.streams)]
            family = stream.family
            if family.name in busy:
                self._turn += 1
                skipped += 1
                continue
            if family.name in BATCHED_FAMILIES:
                arm = self._propose_batch(stream)
            else:
                configuration = stream.next()
                arm = (
                    None
                    if configuration is None
                    else ConfigurationArm(len(self.arms), family, configuration, self.runner)
                )
                if arm is not None:
                    self.arms.append(arm)
            if arm is None:
                self.streams.remove(stream)
                continue
            self._turn += 1
            return arm
        return None

    def _busy_families(self) -> set[str]:
        """The families with an arm started and not ended (a batch's queued members count with it)."""
        assert self.allocator is not None
        records = self.allocator.records
        return {
            arm.model_family.name
            for arm in self.arms
            if arm.arm_id not in records or records[arm.arm_id].fate == "live"
        }

    def _propose_batch(self, stream: ConfigurationStream | TPEStream) -> Arm | None:
        width = batch_width(self.runner, stream.family, limit=self._room(stream.family))
        configurations: list[dict[str, Any]] = []
        while len(configurations) < width:
            configuration = stream.next()
            if configuration is None:
                break
            configurations.append(configuration)
        if not configurations:
            return None
        group = BatchedLinearGroup(
            stream.family, configurations, self.runner, first_arm_id=len(self.arms), batched=self.batching
        )
        self.groups.append(group)
        self.arms.extend(group.members)
        assert self.allocator is not None
        for member in group.members[1:]:
            self.allocator.admit(member)
        return group.members[0]

    def _room(self, family: ModelFamily) -> int | None:
        """The most configurations one batch may hold: what is left of the family's share of the trial
        budget (at least one, so the family keeps its turn like any other), and for the rung-based rules
        what the current rung still asks for."""
        limits = []
        trials = self.plan.budget.trials
        if trials is not None:
            left = trials - len(self.arms)
            share = math.ceil(trials / len(self.plan.families))
            proposed = sum(1 for arm in self.arms if arm.model_family is family)
            limits.append(max(1, min(left, share - proposed)))
        if self.batch_by_rung and self.allocator is not None and self.allocator.wanted is not None:
            limits.append(self.allocator.wanted)
        return min(limits) if limits else None


def _largest_resource(plan: SearchPlan, runner: TrialRunner) -> int:
    """The largest default resource among the plan's families (the last rung of halving and Hyperband)."""
    largest = 1
    for family in plan.families:
        largest = max(largest, _default_resource(family, plan, runner))
    return largest


def _default_resource(family: ModelFamily, plan: SearchPlan, runner: TrialRunner) -> int:
    if family.resource is None:
        return 1
    if family.name in BATCHED_FAMILIES:
        return MAX_BATCHED_EPOCHS
    _, _, shape = runner.training_matrices(family)
    built = family.build(plan.task, None, plan.seed, shape)
    return max(1, int(built.get_params()[family.resource]))


def _trial(
    record: ArmRecord, arm: SearchArm, plan: SearchPlan, trial_id: int, trial_ids: dict[Any, int]
) -> Trial:
    unit = "epochs" if isinstance(arm, BatchedArm) else arm.model_family.resource or "resource"
    trial = record.to_trial(trial_id, arm.configuration, plan.metric.name, unit)
    trial.resources["train_rows"] = len(arm.runner.train_target)
    trial.resources["validation_rows"] = len(arm.runner.validation_target)
    if isinstance(arm, BatchedArm):
        # The batch's epochs are timed on the member that trained it first (the others read scores); the
        # batch is named by its first member that is a trial.
        members = [trial_ids[m.arm_id] for m in arm.group.members if m.arm_id in trial_ids]
        trial.resources["batch"] = min(members, default=trial_id)
        trial.resources["batch_size"] = arm.group.size
    if trial.status == "stopped":
        # "stopped early at round r: <rule>" or "cut short at round r (...): <why>" (DESCRIBE MODEL).
        trial.error = record.describe()
    return trial


class _ProgressTracker:
    """Reports a :class:`SearchProgress` after each allocation round, whenever the best model changes, and
    once at the end.

    The best it reports is the model the search would keep if it ended now: the arm with the best score
    after its *last* step (what :meth:`~paqdb.search.bandit.AllocationResult.require_best` picks), not the
    best score any step ever reached, which an arm that got worse with more training no longer has. So
    the line shown before a Ctrl-C is the model stored after it. It also notes the first step that ended
    after the deadline (``overrun``): what made the search run over its time limit.
    """

    def __init__(self, run: SearchRun, training_deadline: float | None = None) -> None:
        self.run = run
        self.training_deadline = run.deadline if training_deadline is None else training_deadline
        self.records: dict[Any, ArmRecord] = {}
        self.arms: set[Any] = set()
        self.round = 0
        self.best: tuple[float, str] | None = None
        self.overrun: str | None = None

    def on_advance(self, record: ArmRecord) -> None:
        step = record.rounds[-1]
        if self.overrun is None and step.seconds > 0 and self.run.clock() > self.training_deadline:
            self.overrun = f"a {record.family} training step ({step.seconds:.1f} s) could not stop sooner"
        if step.search_round != self.round:
            if self.round > 0:
                self._report(len(self.arms))
            self.round = step.search_round
        self.arms.add(record.arm_id)
        best = self._best_now()
        if best != self.best:
            self.best = best
            # A new best is news at once (the shell shows it; a benchmark times it), not at the round's end.
            self._report(len(self.arms))

    def _best_now(self) -> tuple[float, str] | None:
        scored = [
            record
            for record in self.records.values()
            if record.fate != "failed" and record.last_error is not None
        ]
        best = min(scored, key=lambda record: (record.last_error, record.order), default=None)
        if best is None or best.last_score is None or not math.isfinite(best.last_score):
            return None
        return best.last_score, best.family

    def finish(self, trials: int) -> None:
        self.best = self._best_now()
        self._report(trials)

    def _report(self, arms: int) -> None:
        best_score, best_family = (None, None) if self.best is None else self.best
        self.run.report(arms, best_score, best_family)


__all__ = ["ConfigurationArm", "TuPAQSearch"]
