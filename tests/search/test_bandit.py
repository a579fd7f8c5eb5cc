"""Bandit allocation on synthetic learning curves whose answers are known: TuPAQ's rule, successive halving,
Hyperband's schedule, budgets, failures and interrupts. Nothing trains; every test runs in milliseconds."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paqdb.errors import InvalidParameterError, SearchInterrupted, TrainingError
from paqdb.search.bandit import (
    AllocationBudget,
    AllocationResult,
    ArmRecord,
    Hyperband,
    SuccessiveHalving,
    TuPAQAllocator,
    geometric_rungs,
    score_to_error,
    tupaq_threshold,
)
from paqdb.search.spec import DEFAULT_TIME_CAP_SECONDS, Budget


class FakeClock:
    """A clock that moves only when an arm trains, so deadlines are tested without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class CurveArm:
    """An arm whose validation error after ``t`` units is ``floor + scale / t`` (deterministic).

    The score it reports is ``1 - error`` for an accuracy-like metric and the error itself for a loss.
    """

    arm_id: str
    floor: float
    scale: float = 0.5
    family: str = "linear"
    max_resource: int = 50
    higher_is_better: bool = True
    clock: FakeClock | None = None
    seconds_per_unit: float = 0.0
    fail_at: int | None = None
    interrupt_at: int | None = None
    converges_at: int | None = None
    score_override: float | None = None
    resource_used: int = 0
    targets: list[int] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        limit = self.max_resource if self.converges_at is None else self.converges_at
        return self.resource_used >= limit

    def error_at(self, units: int) -> float:
        return self.floor + self.scale / units

    def score_at(self, units: int) -> float:
        error = self.error_at(units)
        return 1.0 - error if self.higher_is_better else error

    def advance(self, resource: int) -> float:
        self.targets.append(resource)
        if self.fail_at is not None and resource >= self.fail_at:
            raise RuntimeError("diverged")
        if self.interrupt_at is not None and resource >= self.interrupt_at:
            raise KeyboardInterrupt
        resource = min(resource, self.max_resource)
        if self.converges_at is not None:
            resource = min(resource, self.converges_at)
        if self.clock is not None:
            self.clock.now += (resource - self.resource_used) * self.seconds_per_unit
        self.resource_used = resource
        if self.score_override is not None:
            return self.score_override
        return self.score_at(resource)


@dataclass
class TableArm:
    """An arm whose error after round ``k`` (``10 * k`` units) is ``errors[k - 1]``."""

    arm_id: str
    errors: Sequence[float]
    higher_is_better: bool = True
    family: str = "linear"
    resource_used: int = 0

    @property
    def max_resource(self) -> int:
        return 10 * len(self.errors)

    @property
    def finished(self) -> bool:
        return self.resource_used >= self.max_resource

    def advance(self, resource: int) -> float:
        self.resource_used = min(resource, self.max_resource)
        error = self.errors[self.resource_used // 10 - 1]
        return 1.0 - error if self.higher_is_better else error


def _proposer(arms: Sequence[CurveArm]) -> Callable[[], CurveArm | None]:
    pending = iter(arms)
    return lambda: next(pending, None)


def _stops(result: AllocationResult) -> dict[str, int | None]:
    return {str(r.arm_id): r.ended_round for r in result.records if r.fate == "stopped"}


# Seven arms whose errors after 10, 20, ... 50 units are floor + 0.5 / t. After round 1 (t=10) the best error
# is 0.15, the threshold 1.5 x 0.15 = 0.225: d (0.25), e (0.35), f (0.55) go. After round 2 the best is
# 0.125, the threshold 0.1875: g, flat at 0.19, goes. a, b, c stay within it and finish.
TUPAQ_CASE = {"a": (0.10, 0.5), "b": (0.12, 0.5), "c": (0.14, 0.5), "d": (0.20, 0.5), "e": (0.30, 0.5)}
TUPAQ_CASE |= {"f": (0.50, 0.5), "g": (0.19, 0.0)}
TUPAQ_STOPS = {"d": 1, "e": 1, "f": 1, "g": 2}


def _tupaq_arms(higher_is_better: bool) -> list[CurveArm]:
    return [
        CurveArm(name, floor, scale, higher_is_better=higher_is_better)
        for name, (floor, scale) in TUPAQ_CASE.items()
    ]


def _reference_tupaq_stops(arms: Sequence[CurveArm], epsilon: float, round_resource: int) -> dict[str, int]:
    """TuPAQ's rule written out directly, with every arm trained in lock step."""
    live = {arm.arm_id: arm for arm in arms}
    best = math.inf
    stops: dict[str, int] = {}
    for round_number in itertools.count(1):
        if not live:
            return stops
        units = round_number * round_resource
        errors = {
            name: score_to_error(arm.score_at(units), arm.higher_is_better) for name, arm in live.items()
        }
        best = min(best, *errors.values())
        for name, error in errors.items():
            if units >= live[name].max_resource:
                del live[name]
            elif error > (1 + epsilon) * best:
                stops[name] = round_number
                del live[name]
    raise AssertionError("unreachable")


# -- the pieces ----------------------------------------------------------------------------------------


def test_scores_become_errors_in_the_metric_direction() -> None:
    assert score_to_error(0.9, higher_is_better=True) == pytest.approx(0.1)  # accuracy
    assert score_to_error(0.3, higher_is_better=False) == 0.3  # log loss
    assert score_to_error(-0.5, higher_is_better=True) == 1.5  # an R² below zero is a large error


def test_tupaq_threshold_is_one_plus_epsilon_times_the_best() -> None:
    assert tupaq_threshold(0.2, 0.5) == pytest.approx(0.3)
    assert tupaq_threshold(0.0, 0.5) == 0.0
    assert tupaq_threshold(-0.2, 0.5) == pytest.approx(-0.1)  # still looser than the best


def test_geometric_rungs_end_exactly_at_the_maximum() -> None:
    assert geometric_rungs(1, 81, 3) == [1, 3, 9, 27, 81]
    assert geometric_rungs(1, 243, 3) == [1, 3, 9, 27, 81, 243]  # log(243, 3) is 4.999... in floats
    assert geometric_rungs(10, 100, 3) == [11, 33, 100]
    assert geometric_rungs(5, 5, 3) == [5]


@pytest.mark.parametrize(
    "make",
    [
        lambda: TuPAQAllocator(higher_is_better=True, epsilon=-0.1),
        lambda: TuPAQAllocator(higher_is_better=True, round_resource=0),
        lambda: TuPAQAllocator(higher_is_better=True, width=0),
        lambda: TuPAQAllocator(higher_is_better=True, propose=lambda: None),
        lambda: SuccessiveHalving(higher_is_better=True, min_resource=1, max_resource=9, eta=1),
        lambda: SuccessiveHalving(higher_is_better=True, min_resource=10, max_resource=9),
        lambda: Hyperband(higher_is_better=True, min_resource=0, max_resource=9),
        lambda: AllocationBudget(seconds=0),
        lambda: AllocationBudget(max_arms=0),
    ],
)
def test_bad_parameters_are_rejected(make: Callable[[], object]) -> None:
    with pytest.raises(InvalidParameterError):
        make()


def test_an_allocation_budget_follows_the_search_budget() -> None:
    budget = AllocationBudget.from_search_budget(Budget(seconds=60, trials=10), reserve_seconds=5)
    assert budget == AllocationBudget(seconds=55, max_arms=10)
    # A budget of trials alone still has a time limit: the default cap.
    assert AllocationBudget.from_search_budget(Budget(trials=4)) == AllocationBudget(
        seconds=DEFAULT_TIME_CAP_SECONDS, max_arms=4
    )


def test_an_arm_id_is_admitted_once() -> None:
    allocator = TuPAQAllocator(higher_is_better=True)
    allocator.admit(CurveArm("a", 0.1))
    with pytest.raises(InvalidParameterError, match="already admitted"):
        allocator.admit(CurveArm("a", 0.2))


# -- TuPAQ's rule --------------------------------------------------------------------------------------


@pytest.mark.parametrize("higher_is_better", [True, False], ids=["accuracy", "log_loss"])
def test_tupaq_stops_exactly_the_arms_worse_than_one_plus_epsilon_times_the_best(
    higher_is_better: bool,
) -> None:
    arms = _tupaq_arms(higher_is_better)
    allocator = TuPAQAllocator(higher_is_better=higher_is_better, epsilon=0.5, round_resource=10)
    for arm in arms:
        allocator.admit(arm)
    result = allocator.run()

    assert _stops(result) == TUPAQ_STOPS == _reference_tupaq_stops(arms, 0.5, 10)
    assert {str(r.arm_id) for r in result.records if r.fate == "finished"} == {"a", "b", "c"}
    assert result.best_arm_id == "a" and result.best_arm is arms[0]
    assert result.best_score == pytest.approx(arms[0].score_at(50))
    assert result.stop_reason == "exhausted" and result.rounds == 5
    g = result.record("g")
    assert g.threshold == pytest.approx(1.5 * 0.125) and g.last_error == pytest.approx(0.19)
    assert g.describe().startswith("stopped early at round 2: validation error 0.19 > (1 + 0.5) x best")
    # A stopped arm is not trained again: d got one round of 10 units.
    assert arms[3].targets == [10] and result.record("d").resource_used == 10


@pytest.mark.parametrize("epsilon", [0.0, 0.25, 1.0, 3.0])
def test_tupaq_agrees_with_the_rule_written_out_for_other_epsilons(epsilon: float) -> None:
    arms = _tupaq_arms(higher_is_better=True)
    allocator = TuPAQAllocator(higher_is_better=True, epsilon=epsilon, round_resource=10)
    for arm in arms:
        allocator.admit(arm)
    result = allocator.run()
    assert _stops(result) == _reference_tupaq_stops(_tupaq_arms(True), epsilon, 10)
    assert result.record("a").fate == "finished"


def test_tupaq_judges_every_family_against_the_best_of_any_family() -> None:
    # Alone, the linear arms are within 1.5x of each other; the forest's much lower error stops both.
    linear = [CurveArm("linear-1", 0.20, family="linear"), CurveArm("linear-2", 0.22, family="linear")]
    forest = CurveArm("forest", 0.05, scale=0.0, family="random_forest", max_resource=30)
    allocator = TuPAQAllocator(higher_is_better=True, epsilon=0.5, round_resource=10)
    for arm in [*linear, forest]:
        allocator.admit(arm)
    result = allocator.run()
    assert _stops(result) == {"linear-1": 1, "linear-2": 1}
    assert result.record("forest").fate == "finished" and forest.resource_used == 30
    assert result.best_arm_id == "forest"

    alone = TuPAQAllocator(higher_is_better=True, epsilon=0.5, round_resource=10)
    for arm in [CurveArm("linear-1", 0.20), CurveArm("linear-2", 0.22)]:
        alone.admit(arm)
    assert _stops(alone.run()) == {}


def test_freed_budget_is_spent_on_new_arms() -> None:
    # Width 2: the good arm keeps one slot; each bad arm is stopped after one round and replaced.
    good = CurveArm("good", 0.10)
    bad = [CurveArm(f"bad-{i}", 0.60) for i in range(4)]
    live_counts: list[int] = []

    def count_live(record: ArmRecord) -> None:
        live_counts.append(sum(r.fate == "live" for r in allocator.records.values()))

    allocator = TuPAQAllocator(
        higher_is_better=True, width=2, propose=_proposer([good, *bad]), on_advance=count_live
    )
    result = allocator.run()
    assert [r.arm_id for r in result.records] == ["good", "bad-0", "bad-1", "bad-2", "bad-3"]
    assert [result.record(f"bad-{i}").started_round for i in range(4)] == [1, 2, 3, 4]
    assert all(result.record(f"bad-{i}").fate == "stopped" for i in range(4))
    assert result.record("good").fate == "finished" and max(live_counts) == 2
    assert result.stop_reason == "exhausted"


def test_arms_admitted_while_running_start_in_the_next_round() -> None:
    late = CurveArm("late", 0.11)

    def admit_once(record: ArmRecord) -> None:
        if record.arm_id == "first" and len(record.rounds) == 1:
            allocator.admit(late)

    allocator = TuPAQAllocator(higher_is_better=True, on_advance=admit_once)
    allocator.admit(CurveArm("first", 0.10))
    result = allocator.run()
    assert result.record("late").started_round == 2 and result.record("late").fate == "finished"


def test_an_arm_that_converges_early_finishes_with_what_it_used() -> None:
    arm = CurveArm("early", 0.1, converges_at=25)
    allocator = TuPAQAllocator(higher_is_better=True)
    allocator.admit(arm)
    record = allocator.run().record("early")
    assert record.fate == "finished" and record.resource_used == 25 and arm.targets == [10, 20, 30]
    assert record.reason == "converged after 25 of 50 units"


def test_tupaq_spends_less_than_training_every_arm_to_the_maximum() -> None:
    arms = [CurveArm(f"arm-{i}", floor=0.05 + 0.05 * i) for i in range(12)]
    allocator = TuPAQAllocator(higher_is_better=True, width=4, propose=_proposer(arms))
    result = allocator.run()
    assert len(result.records) == 12 and result.best_arm_id == "arm-0"
    assert result.resource_spent < result.resource_if_trained_to_max / 2
    assert result.resource_if_trained_to_max == 12 * 50


# -- successive halving and Hyperband -----------------------------------------------------------------

# Ten arms whose error order is known at every resource (same scale, different floors), admitted in an
# order unrelated to it. Best first: c, h, a, j, e, b, g, i, d, f.
HALVING_FLOORS = dict(
    zip("abcdefghij", [0.12, 0.20, 0.02, 0.40, 0.16, 0.50, 0.25, 0.05, 0.30, 0.14], strict=True)
)


@pytest.mark.parametrize("higher_is_better", [True, False], ids=["accuracy", "log_loss"])
def test_successive_halving_promotes_the_best_ceil_n_over_eta(higher_is_better: bool) -> None:
    arms = [
        CurveArm(name, floor, higher_is_better=higher_is_better) for name, floor in HALVING_FLOORS.items()
    ]
    halving = SuccessiveHalving(higher_is_better=higher_is_better, min_resource=1, max_resource=9, eta=3)
    for arm in arms:
        halving.admit(arm)
    assert halving.schedule(10) == [(10, 1), (4, 3), (2, 9)]
    result = halving.run()

    def promoted_at(rung: int) -> set[str]:
        return {str(d.arm_id) for d in result.decisions if d.kind == "promoted" and d.search_round == rung}

    # Keeping the worst (sorting scores ascending and taking the head) would promote f, d, i, g here.
    assert promoted_at(1) == {"c", "h", "a", "j"}
    assert promoted_at(2) == {"c", "h"}
    assert {str(r.arm_id) for r in result.records if r.fate == "finished"} == {"c", "h"}
    assert _stops(result) == {"a": 2, "j": 2} | dict.fromkeys("bdefgi", 1)
    assert result.best_arm_id == "c" and result.record("c").resource_used == 9
    cut = result.record("e")
    assert cut.threshold == pytest.approx(0.14 + 0.5)  # the worst error kept at rung 1 (j's)
    assert "not among the best 4 of 10" in (cut.reason or "")


def test_successive_halving_schedule_rounds_up_to_keep_an_arm() -> None:
    halving = SuccessiveHalving(higher_is_better=True, min_resource=1, max_resource=81)
    assert halving.schedule(9) == [(9, 1), (3, 3), (1, 9), (1, 27), (1, 81)]
    assert halving.schedule(5) == [(5, 1), (2, 3), (1, 9), (1, 27), (1, 81)]


def test_successive_halving_never_trains_an_arm_past_its_own_maximum() -> None:
    # A forest capped at 3 trees competes at later rungs with the score it has at 3 trees.
    forest = CurveArm("forest", 0.01, scale=0.0, family="random_forest", max_resource=3)
    linear = [CurveArm(f"linear-{i}", 0.10 + 0.05 * i) for i in range(3)]
    halving = SuccessiveHalving(higher_is_better=True, min_resource=1, max_resource=9, n_arms=4)
    for arm in [forest, *linear]:
        halving.admit(arm)
    result = halving.run()
    assert forest.targets == [1, 3] and result.record("forest").fate == "finished"
    assert result.best_arm_id == "forest"
    assert _stops(result) == {"linear-0": 2, "linear-1": 1, "linear-2": 1}


def test_hyperband_brackets_are_li_et_al_table_1() -> None:
    hyperband = Hyperband(higher_is_better=True, min_resource=1, max_resource=81, eta=3)
    assert hyperband.brackets() == [
        (4, [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]),
        (3, [(34, 3), (11, 9), (3, 27), (1, 81)]),
        (2, [(15, 9), (5, 27), (1, 81)]),
        (1, [(8, 27), (2, 81)]),
        (0, [(5, 81)]),
    ]


def test_hyperband_runs_each_bracket_on_its_schedule_and_keeps_the_best() -> None:
    # R = 9, eta = 3: bracket 2 is (9,1) (3,3) (1,9); bracket 1 (5,3) (1,9); bracket 0 (3,9).
    floors = [0.30, 0.10, 0.50, 0.20, 0.40, 0.35, 0.15, 0.45, 0.25]  # bracket 2's arms, best is index 1
    floors += [0.33, 0.03, 0.43, 0.23, 0.13]  # bracket 1's, holding the best of all (0.03)
    floors += [0.27, 0.17, 0.37]  # bracket 0's
    arms = [CurveArm(f"arm-{i}", floor, max_resource=9) for i, floor in enumerate(floors)]
    hyperband = Hyperband(higher_is_better=True, min_resource=1, max_resource=9, propose=_proposer(arms))
    result = hyperband.run()

    by_bracket = {s: [r for r in result.records if r.bracket == s] for s in (2, 1, 0)}
    assert [len(by_bracket[s]) for s in (2, 1, 0)] == [9, 5, 3]
    assert sorted(len(r.rounds) for r in by_bracket[2]) == [1] * 6 + [2] * 2 + [3]
    # The survivors of bracket 2's first rung are its three lowest floors, then its lowest.
    promoted_first = {d.arm_id for d in result.decisions if d.kind == "promoted" and d.search_round == 1}
    assert promoted_first == {"arm-1", "arm-6", "arm-3"}
    assert [str(r.arm_id) for r in by_bracket[2] if r.fate == "finished"] == ["arm-1"]
    assert [str(r.arm_id) for r in by_bracket[1] if r.fate == "finished"] == ["arm-10"]
    assert all(r.fate == "finished" for r in by_bracket[0])
    assert result.best_arm_id == "arm-10"
    assert all(target in (1, 3, 9) for arm in arms for target in arm.targets)
    assert result.resource_spent < result.resource_if_trained_to_max


def test_hyperband_with_an_arm_budget_stops_starting_brackets() -> None:
    arms = [CurveArm(f"arm-{i}", 0.1 + 0.01 * i, max_resource=9) for i in range(30)]
    hyperband = Hyperband(
        higher_is_better=True,
        min_resource=1,
        max_resource=9,
        propose=_proposer(arms),
        budget=AllocationBudget(max_arms=11),
    )
    result = hyperband.run()
    assert len(result.records) == 11 and result.stop_reason == "arm_budget"
    assert [r.bracket for r in result.records] == [2] * 9 + [1] * 2
    assert all(r.fate in ("finished", "stopped") for r in result.records)


# -- budgets, failures, interrupts ---------------------------------------------------------------------


def test_a_deadline_stops_the_search_on_time_and_keeps_the_best() -> None:
    clock = FakeClock()
    # Each round of 10 units costs 1 second; the deadline is 5.5 seconds.
    arms = [
        CurveArm(name, floor, clock=clock, seconds_per_unit=0.1) for name, floor in [("a", 0.1), ("b", 0.11)]
    ]
    arms.append(CurveArm("c", 0.12, clock=clock, seconds_per_unit=0.1))
    allocator = TuPAQAllocator(higher_is_better=True, clock=clock, budget=AllocationBudget(seconds=5.5))
    for arm in arms:
        allocator.admit(arm)
    result = allocator.run()
    # Rounds 1 (a, b, c) and 2 (a, b) fit; c's second round would end at 6 s, so it is not begun.
    assert [len(arm.targets) for arm in arms] == [2, 2, 1]
    assert clock.now == pytest.approx(5.0) and result.seconds == pytest.approx(5.0)
    assert result.stop_reason == "deadline" and result.best_arm_id == "a"
    assert all(r.fate == "unfinished" for r in result.records)
    assert result.record("a").describe().startswith("cut short at round 2 (20 units)")


def test_a_deadline_applies_to_halving_too() -> None:
    clock = FakeClock()
    arms = [
        CurveArm(f"arm-{i}", 0.1 * (i + 1), clock=clock, seconds_per_unit=1.0, max_resource=9)
        for i in range(9)
    ]
    halving = SuccessiveHalving(
        higher_is_better=True,
        min_resource=1,
        max_resource=9,
        clock=clock,
        budget=AllocationBudget(seconds=10),
    )
    for arm in arms:
        halving.admit(arm)
    result = halving.run()
    # Rung 1 costs 9 s (nine arms, one unit each); rung 2 would cost 2 s per arm: none fits in 1 s.
    assert clock.now == pytest.approx(9.0) and result.stop_reason == "deadline"
    assert result.best_arm_id == "arm-0" and result.rounds == 2


def test_a_trial_budget_caps_the_arms_started_and_lets_live_ones_finish() -> None:
    arms = [CurveArm(f"arm-{i}", 0.1 + 0.01 * i) for i in range(10)]
    allocator = TuPAQAllocator(
        higher_is_better=True, width=2, propose=_proposer(arms), budget=AllocationBudget(max_arms=3)
    )
    result = allocator.run()
    assert len(result.records) == 3 and result.stop_reason == "arm_budget"
    # The live arms ran to their fate (none was cut short); the third started once a slot was free and,
    # judged against the best error seen so far (arm-0's 0.11 at 50 units), was stopped after one round.
    assert [r.fate for r in result.records] == ["finished", "finished", "stopped"]
    assert result.record("arm-2").started_round == 6 and result.record("arm-2").threshold == pytest.approx(
        0.165
    )


def test_a_failing_arm_is_recorded_and_the_search_goes_on() -> None:
    arms = [
        CurveArm("a", 0.10, fail_at=20),
        CurveArm("b", 0.12),
        CurveArm("c", 0.13, score_override=math.nan),
    ]
    allocator = TuPAQAllocator(higher_is_better=True)
    for arm in arms:
        allocator.admit(arm)
    result = allocator.run()
    a, b, c = (result.record(name) for name in "abc")
    assert a.fate == "failed" and a.error_message == "RuntimeError: diverged" and a.ended_round == 2
    assert a.describe() == "failed at round 2: RuntimeError: diverged"
    assert c.fate == "failed" and "not a finite number" in (c.error_message or "")
    assert b.fate == "finished" and result.best_arm_id == "b"
    assert result.stop_reason == "exhausted"


def test_every_arm_failing_gives_a_training_error() -> None:
    allocator = TuPAQAllocator(higher_is_better=True)
    allocator.admit(CurveArm("a", 0.1, fail_at=1))
    result = allocator.run()
    assert result.best_arm is None
    with pytest.raises(TrainingError, match="RuntimeError: diverged"):
        result.require_best()


def test_an_interrupt_returns_the_best_so_far() -> None:
    arms = [CurveArm("a", 0.10), CurveArm("b", 0.12, interrupt_at=30), CurveArm("c", 0.13)]
    allocator = TuPAQAllocator(higher_is_better=True)
    for arm in arms:
        allocator.admit(arm)
    result = allocator.run()
    assert result.interrupted and result.stop_reason == "interrupted"
    assert result.require_best() is arms[0] and result.best_score == pytest.approx(arms[0].score_at(30))
    assert [r.fate for r in result.records] == ["unfinished"] * 3
    assert result.record("b").reason == "the search was interrupted"


def test_an_interrupt_before_any_score_raises_search_interrupted() -> None:
    allocator = Hyperband(higher_is_better=False, min_resource=1, max_resource=9)
    allocator.admit(CurveArm("a", 0.1, interrupt_at=1, higher_is_better=False))
    result = allocator.run()
    assert result.interrupted and result.best_arm is None
    with pytest.raises(SearchInterrupted):
        result.require_best()


def test_run_is_called_once() -> None:
    allocator = TuPAQAllocator(higher_is_better=True)
    allocator.run()
    with pytest.raises(RuntimeError):
        allocator.run()


# -- what is recorded --------------------------------------------------------------------------------


def test_records_become_trials_for_the_catalog() -> None:
    arms = _tupaq_arms(higher_is_better=True)
    allocator = TuPAQAllocator(higher_is_better=True)
    for arm in arms:
        allocator.admit(arm)
    result = allocator.run()

    finished = result.record("a").to_trial(0, {"C": 1.0}, "accuracy", resource_name="max_iter")
    assert finished.status == "finished" and finished.error is None
    assert finished.validation_score == pytest.approx(arms[0].score_at(50))
    assert finished.resources["max_iter"] == 50 and finished.resources["rounds"] == 5
    assert len(finished.resources["round_scores"]) == 5 and finished.hyperparameters == {"C": 1.0}

    stopped = result.record("g").to_trial(6, {"C": 0.01}, "accuracy", resource_name="max_iter")
    # A stopped trial records the score its model reached (the model a search keeps may be one).
    assert stopped.status == "stopped" and stopped.validation_score == pytest.approx(0.81)
    assert stopped.resources["ended_round"] == 2 and stopped.resources["last_score"] == pytest.approx(0.81)
    assert stopped.resources["threshold_error"] == pytest.approx(0.1875)
    assert stopped.error is not None and "(1 + 0.5)" in stopped.error

    kinds = [(d.arm_id, d.kind) for d in result.decisions if d.arm_id == "g"]
    assert kinds == [("g", "started"), ("g", "stopped")]
    stop = next(d for d in result.decisions if d.arm_id == "g" and d.kind == "stopped")
    assert stop.search_round == 2 and stop.error == pytest.approx(0.19)


# -- the property -----------------------------------------------------------------------------------


@st.composite
def _monotone_curves(draw: st.DrawFn) -> tuple[list[list[float]], float]:
    """Non-increasing error curves over five rounds, and a factor in (0, 1] for the best arm's curve."""
    n_arms = draw(st.integers(1, 6))
    curves = []
    for _ in range(n_arms):
        start = draw(st.floats(0.05, 1.0))
        drops = draw(st.lists(st.floats(0.0, 0.2), min_size=4, max_size=4))
        curve = [start]
        for drop in drops:
            curve.append(max(curve[-1] - drop, 0.0))
        curves.append(curve)
    factor = draw(st.floats(0.3, 1.0))
    return curves, factor


@settings(max_examples=200, deadline=None)
@given(
    curves_and_factor=_monotone_curves(),
    epsilon=st.floats(0.0, 2.0),
    higher_is_better=st.booleans(),
    best_position=st.integers(0, 6),
)
def test_the_arm_best_at_every_round_is_never_stopped(
    curves_and_factor: tuple[list[list[float]], float],
    epsilon: float,
    higher_is_better: bool,
    best_position: int,
) -> None:
    curves, factor = curves_and_factor
    # At or below every other curve at every round, and still non-increasing.
    best_curve = [factor * min(curve[k] for curve in curves) for k in range(5)]
    arms = [TableArm(f"arm-{i}", curve, higher_is_better) for i, curve in enumerate(curves)]
    arms.insert(min(best_position, len(arms)), TableArm("best", best_curve, higher_is_better))
    allocator = TuPAQAllocator(higher_is_better=higher_is_better, epsilon=epsilon, round_resource=10)
    for arm in arms:
        allocator.admit(arm)
    result = allocator.run()

    best = result.record("best")
    assert best.fate == "finished" and best.resource_used == 50
    assert result.best_error == best.last_error

    # And the rule is exact: after each round an arm is stopped iff its error exceeds (1 + eps) x the best
    # error seen up to that round (arms reaching their maximum finish instead).
    steps = [(step, record) for record in result.records for step in record.rounds]
    for round_number in range(1, result.rounds + 1):
        best_so_far = min(step.error for step, _ in steps if step.search_round <= round_number)
        threshold = tupaq_threshold(best_so_far, epsilon)
        for step, record in steps:
            if step.search_round != round_number or step.resource >= record.max_resource:
                continue
            stopped_here = record.fate == "stopped" and record.rounds[-1].search_round == round_number
            assert stopped_here == (step.error > threshold)
            if stopped_here:
                assert record.threshold == threshold


def test_a_repeating_hyperband_starts_the_brackets_over_until_the_budget_ends() -> None:
    arms = [CurveArm(f"arm-{i}", 0.1 + 0.01 * (i % 7), max_resource=9) for i in range(40)]
    hyperband = Hyperband(
        higher_is_better=True,
        min_resource=1,
        max_resource=9,
        repeat=True,
        propose=_proposer(arms),
        budget=AllocationBudget(max_arms=25),
    )
    result = hyperband.run()
    # One pass is 9 + 5 + 3 = 17 arms; the second pass starts bracket 2 again with the 8 left.
    assert len(result.records) == 25 and result.stop_reason == "arm_budget"
    assert [r.bracket for r in result.records].count(2) == 9 + 8
    with pytest.raises(InvalidParameterError, match="needs a budget"):
        Hyperband(higher_is_better=True, min_resource=1, max_resource=9, repeat=True)


def test_incumbents_train_first_in_a_round_without_changing_any_decision() -> None:
    # Errors after rounds 1 and 2: "c" leads after round 1, "b" after round 2.
    arms = {
        "a": TableArm("a", [0.30, 0.29, 0.28]),
        "b": TableArm("b", [0.20, 0.10, 0.09]),
        "c": TableArm("c", [0.15, 0.14, 0.13]),
    }
    order: list[str] = []
    for arm in arms.values():
        advance = arm.advance

        def recording(resource: int, arm_id: str = arm.arm_id, advance: Any = advance) -> float:
            order.append(arm_id)
            return float(advance(resource))

        arm.advance = recording  # type: ignore[method-assign]
    allocator = TuPAQAllocator(higher_is_better=True, epsilon=1.5, round_resource=10)
    for arm in arms.values():
        allocator.admit(arm)
    result = allocator.run()
    # Round 1 in arrival order; round 2 best first (c, b, a), after which "a" (0.29 > 2.5 x 0.10) stops;
    # round 3 by round 2's errors (b, c). The rule judged the whole round, as before.
    assert order == ["a", "b", "c", "c", "b", "a", "b", "c"]
    assert {r.arm_id: r.fate for r in result.records} == {"a": "stopped", "b": "finished", "c": "finished"}
    assert result.best_arm_id == "b"
